"""Valid inequalities that tighten the LP relaxation (issue 18; proofs in docs/model.md
"Valid inequalities").  They cut off fractional module counts only: every integer plan that
satisfies SPEC §3 satisfies them, so the optimum does not move.

Call a process p *modular at t* when it has no existing capacity in year t and integer modules:
its output is then Q_pts ≤ avail_p · module_tpa_p · N_pt with N_pt = Σ_{y operating at t} B_py an
integer.  Write cap_pc = y_pc · avail_p · module_tpa_p for its capacity in commodity c (y_pc = 1 for the
main output, the coproduct ratio otherwise).

1. **Disaggregated linking** (the strong formulation of facility location).  For a flow F_mncts when
   (a) every supply term of the balance row (m, c, t, s) is the output of a process modular at t or a
   shortage H (H ≤ demand), and (b) the balance row (n, c, t, s) has no use term (no input use, trade out,
   fill, export or disposal; only its demand):

       F_mncts ≤ Σ_{p at m making c} Σ_{y operating at t} min(demand_ncts, cap_pc) · B_py

2. **Cover**.  For a commodity c, year t and scenario s when every supply term of every balance row of c
   is the output of a process modular at t or a flow between members, and every use term a flow:

       Σ_p Σ_{y operating at t} cap_pc · B_py ≥ Σ_m demand_mcts

Nothing is added in the elastic re-solve (its slacks are extra supply and use terms), when the first
stage is fixed (stress tests, shadow prices: nothing left to cut), or with PLANNER_STRENGTHEN=off (the
plain SPEC formulation, for benchmarks and tests).
"""
from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from planner.model.context import TOL, Ctx, OpsVars, SparseOpsVars, key_of

PROVIDES = ()
ROWS = ("strong_capacity", "strong_link", "strong_cover")  # the row families added here
READS = ('procs', 'cap', 'B', 'Q', 'H', 'F')


def enabled() -> bool:
    return os.environ.get("PLANNER_STRENGTHEN", "on").lower() not in ("off", "0", "false", "no")


def add(ctx: Ctx) -> None:
    if ctx.elastic or ctx.fixed is not None or not enabled() or not ctx.B:
        return
    d = ctx.d
    ctx.add_rows("strong_capacity", capacity_rows(ctx))
    # 1 and 2 need a commodity no outside supplier sells (else every member's row has imports): the cheap test
    # first, so that a model where nothing applies pays almost nothing
    sold = {x["commodity"] for x in d.suppliers}
    outs = defaultdict(set)
    for proc in d.processes:
        outs[proc["process"]] = {proc["output"]} | {c for c, _y in d.coproducts.get(proc["process"], [])}
    alone = {c for p in ctx.procs for c in outs[p]} - sold
    if not alone:
        return
    sidx = {s: i for i, s in enumerate(d.scen)}
    # Q columns of processes modular at t -> (p, t); a column aliased over the scenarios of a node is one key
    modular = {}
    for (p, t, s), q in ctx.Q.items():
        if not outs[p] & alone:
            continue
        ex, mods = ctx.cap[(p, t)]
        proc = ctx.procs[p]
        if ex <= 0 and mods and proc["integer_modules"] and float(proc["availability"]) > 0:
            modular[key_of(q)] = (p, t)
    if not modular:
        return
    shortage = {key_of(h) for h in ctx.H.values()}
    flows = {key_of(f) for f in ctx.F.values()}

    def demand(m, c, t, s):
        dm = d.demand.get((m, c))
        return float(dm[sidx[s], d.tix(t)]) if dm is not None else 0.0

    def sources(k):
        """[(cap_pc, B)] of the modular processes supplying row k, or None when something else supplies it."""
        out = []
        for coef, v in ctx.balance.get(k, ()):
            if coef <= 0:
                continue
            kv = key_of(v)
            pt = modular.get(kv)
            if pt is not None:
                proc = ctx.procs[pt[0]]
                out += [(coef * float(proc["availability"]) * mt, b) for mt, b in ctx.cap[pt][1]]
            elif kv not in shortage:
                return None
        return out

    def no_use(k):
        return all(coef > 0 for coef, _ in ctx.balance.get(k, ()))

    rows, seen = {}, set()
    src_cache, use_cache = {}, {}
    for (m, n, c, t, s), f in ctx.F.items():
        if c not in alone:
            continue
        km, kn = (m, c, t, s), (n, c, t, s)
        src = src_cache.get(km, False)
        if src is False:
            src = src_cache[km] = sources(km)
        if not src:
            continue
        ok = use_cache.get(kn)
        if ok is None:
            ok = use_cache[kn] = no_use(kn)
        if not ok:
            continue
        dn = demand(n, c, t, s)
        if dn <= TOL:
            continue
        coefs = defaultdict(float)
        for capc, b in src:
            coefs[key_of(b)] += min(dn, capc)
        handles = {key_of(b): b for _, b in src}
        sig = (key_of(f),) + tuple(sorted((kb, round(v, 9)) for kb, v in coefs.items()))
        if sig in seen:
            continue
        seen.add(sig)
        rows[(m, n, c, t, s)] = ([(1.0, f)] + [(-v, handles[kb]) for kb, v in coefs.items()], "<=", 0.0)
    ctx.add_rows("strong_link", rows)

    # cover rows: commodities whose supply is all modular output (plus internal flows)
    by_ct = defaultdict(list)
    for (m, c, t, s) in ctx.balance:
        if c in alone:
            by_ct[(c, t, s)].append(m)
    cover = {}
    for (c, t, s), ms in by_ct.items():
        caps, total = [], 0.0
        for m in ms:
            k = (m, c, t, s)
            for coef, v in ctx.balance[k]:
                kv = key_of(v)
                if kv in flows:
                    continue
                if coef > 0 and kv in modular:
                    proc = ctx.procs[modular[kv][0]]
                    caps += [(coef * float(proc["availability"]) * mt, b) for mt, b in ctx.cap[modular[kv]][1]]
                else:
                    caps = None
                    break
            if caps is None:
                break
        if not caps:
            continue
        total = sum(demand(m, c, t, s) for m in d.members)
        if total <= TOL:
            continue
        coefs, handles = defaultdict(float), {}
        for capc, b in caps:
            coefs[key_of(b)] += capc
            handles[key_of(b)] = b
        sig = tuple(sorted((kb, round(v, 9)) for kb, v in coefs.items())) + (round(total, 9),)
        if sig in seen:
            continue
        seen.add(sig)
        cover[(c, t, s)] = ([(v, handles[kb]) for kb, v in coefs.items()], ">=", total)
    ctx.add_rows("strong_cover", cover)


def _inf_none(v) -> float:
    return float("inf") if v is None else float(v)


def capacity_rows(ctx: Ctx) -> dict:
    """Inequality 3 (docs/model.md): capacity coefficients tightened by the most the bloc can use.

    U_cts = Σ_m demand_mcts + Σ_{p' using c} a_p' · (most Q_p't can be) + Σ_{stockpiles of c} max capacity
    bounds the bloc's output of c when every use term of c's balance rows is input use, a flow between members
    or a fill (no exports, disposal or elastic slack).  A process p with integer modules operating at t then
    has Q_pts ≤ avail·ex_pt + c'·N_pt, c' = min(avail·mt, max(0, min_c U_cts / y_pc − avail·ex_pt)).
    Commodities that are exported or disposed of, stocked without a capacity limit, or used by a process
    with unlimited modules are passed over before any balance row is read.
    """
    from planner.model.prepare import _nn

    d = ctx.d
    inf = float("inf")
    lumpy = {p for p, proc in ctx.procs.items() if proc["integer_modules"] and (_nn(proc["module_tpa"]) or 0) > 0
             and float(proc["availability"]) > 0}
    if not lumpy:
        return {}
    outs = {p: [(ctx.procs[p]["output"], 1.0)] + d.coproducts.get(p, []) for p in lumpy}
    cand = {c for p in lumpy for c, y in outs[p] if y > 0}
    cand -= _commodities(ctx.X) | _commodities(ctx.V)
    stockcap = {}
    for sp in d.stockpiles:
        ex = float(sp["existing_capacity_t"] or 0.0)
        cap = _inf_none(sp["max_capacity_t"]) if _nn(sp["capex_usd_per_t"]) is not None else ex
        stockcap[(sp["member"], sp["commodity"])] = cap
        if cap == inf:
            cand.discard(sp["commodity"])
    for proc in d.processes:
        if proc["input"] in cand and (_nn(proc["module_tpa"]) or 0) > 0 and _nn(proc["max_modules"]) is None:
            cand.discard(proc["input"])
    if not cand:
        return {}

    def qmax(p, t):
        ex, mods = ctx.cap[(p, t)]
        proc = ctx.procs[p]
        mm = _nn(proc["max_modules"])
        if not mods:
            return float(proc["availability"]) * ex
        if mm is None:
            return inf
        return float(proc["availability"]) * (ex + float(proc["module_tpa"]) * float(mm))

    nT, S = d.nT, d.S
    cid = ctx.__dict__.get("_cid", {})
    cn = ctx.__dict__.get("commodity_names", [])
    mi, ci, ti, si, cols, coefs = ctx.term_arrays(ctx.balance)  # as arrays: reading the register would make lists
    # what each column is: 1 passed over (a flow between members, a stock draw), 2 a process's output, 3 a fill
    kind = np.zeros(ctx.ncols, dtype=np.int8)
    kind[ctx.cols_of(ctx.F)] = 1
    kind[ctx.cols_of(ctx.W)] = 1
    qheads, q_h, q_t, q_s, q_cols = ctx.var_entries(ctx.Q)
    kind[q_cols] = 2
    qmax_head = np.array([qmax(h[0], d.years[t]) for h, t in zip(*_head_years(ctx.Q, qheads, q_h, q_t))])
    qmax_col = np.zeros(ctx.ncols)
    qmax_col[q_cols] = qmax_head[_head_year_index(ctx.Q, q_h, q_t)]
    uheads, u_h, _u_t, _u_s, u_cols = ctx.var_entries(ctx.U)
    stock_ids = {}
    ustock = np.array([stock_ids.setdefault(h[:2], len(stock_ids)) for h in uheads], dtype=np.int64)
    ucap = np.array([stockcap.get(k, inf) for k in stock_ids])
    stock_col = np.full(ctx.ncols, -1, dtype=np.int64)
    stock_col[u_cols] = ustock[u_h]
    is_cand = np.zeros(len(cn), dtype=bool)
    is_cand[[cid[c] for c in cand if c in cid]] = True
    G = len(cn) * nT * S  # the (commodity, year, scenario) groups, dense
    sel = np.flatnonzero(is_cand[ci]) if len(ci) else np.zeros(0, np.int64)
    g = (ci[sel] * nT + ti[sel]) * S + si[sel]
    cf, cl = coefs[sel], cols[sel]
    k = kind[cl]
    use = (cf <= 0) & (k != 1)  # use terms that are not flows or draws
    present = np.zeros(G, dtype=bool)
    present[g] = True
    # U_cts = Σ_m demand + Σ input use · most output + Σ stockpile capacity (once per stockpile) ...
    u = np.zeros(G)
    for c in cand:
        if c in cid:
            j = cid[c]
            u[j * nT * S:(j + 1) * nT * S] = d.demand_of(d.members, c).T.ravel()
    q = use & (k == 2)
    u += np.bincount(g[q], weights=-cf[q] * qmax_col[cl[q]], minlength=G)
    f = np.flatnonzero(use & (k == 3))
    if len(f):
        pair = np.unique(g[f] * (len(ucap) + 1) + stock_col[cl[f]])
        u += np.bincount(pair // (len(ucap) + 1), weights=ucap[pair % (len(ucap) + 1)], minlength=G)
    u[g[use & (k == 0)]] = inf  # ... and any other use term makes it unbounded
    bound = np.where(present, u, inf).reshape(len(cn), nT, S)

    # the rows, per output column of a process with integer modules, in key order
    rows, seen = {}, set()
    hq = None
    heads_t, h_of_entry = _head_years(ctx.Q, qheads, q_h, q_t), _head_year_index(ctx.Q, q_h, q_t)
    rows_of_q = isinstance(ctx.Q, OpsVars) and not isinstance(ctx.Q, SparseOpsVars)  # entries row · S + scenario
    for r, (h, ti_) in enumerate(zip(*heads_t)):
        p = h[0]
        if p not in lumpy:
            continue
        t = d.years[ti_]
        ex, mods = ctx.cap[(p, t)]
        if not mods:
            continue
        proc = ctx.procs[p]
        avail = float(proc["availability"])
        mt = float(proc["module_tpa"])
        ent = np.arange(r * S, r * S + S) if rows_of_q else np.flatnonzero(h_of_entry == r)
        ub = np.full(len(ent), inf)
        for c, y in outs[p]:
            if y > 0 and c in cid:
                ub = np.minimum(ub, bound[cid[c], ti_, q_s[ent]] / y)
        cprime = np.minimum(avail * mt, np.maximum(0.0, ub - avail * ex))
        for e, cp, uc in zip(ent.tolist(), cprime.tolist(), ub.tolist()):
            if uc == inf or cp >= avail * mt * (1 - 1e-9):
                continue
            col = int(q_cols[e])
            sig = (col, round(cp, 6))
            if sig in seen:
                continue
            seen.add(sig)
            hq = ctx.sink.handles(q_cols) if hq is None else hq
            rows[(p, t, d.scen[int(q_s[e])])] = ([(1.0, hq[e])] + [(-cp, b) for _mt, b in mods], "<=", avail * ex)
    return rows


def _head_years(var, heads, h_idx, t_idx) -> tuple:
    """The (head, year index) rows of operations variables: an OpsVars' rows, else the distinct pairs in order."""
    if isinstance(var, OpsVars) and not isinstance(var, SparseOpsVars):
        return var.heads, var.t_idx.tolist()
    pairs = list(dict.fromkeys(zip(h_idx.tolist(), t_idx.tolist())))
    return [heads[h] for h, _t in pairs], [t for _h, t in pairs]


def _head_year_index(var, h_idx, t_idx) -> np.ndarray:
    """Each entry's row in :func:`_head_years`."""
    if isinstance(var, OpsVars) and not isinstance(var, SparseOpsVars):
        return h_idx
    pairs = {}
    return np.array([pairs.setdefault(ht, len(pairs)) for ht in zip(h_idx.tolist(), t_idx.tolist())],
                    dtype=np.int64)


def _commodities(var) -> set:
    """The commodities of variables keyed (m, c, ...)."""
    if isinstance(var, OpsVars):
        return {h[1] for h in var.heads}
    return {k[1] for k in var}


def report(ctx: Ctx, sol) -> dict:
    return {}
