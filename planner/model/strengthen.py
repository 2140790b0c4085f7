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

from planner.model.context import TOL, Ctx, key_of

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
    cand -= {k[1] for k in ctx.X} | {k[1] for k in ctx.V}
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
    sidx = {s: i for i, s in enumerate(d.scen)}
    qinfo = {key_of(q): (p, t) for (p, t, s), q in ctx.Q.items()}
    flows = {key_of(f) for f in ctx.F.values()}
    fills = {key_of(u): (m, c) for (m, c, t, s), u in ctx.U.items() if c in cand}
    draws = {key_of(w) for (m, c, t, s), w in ctx.W.items() if c in cand}

    def qmax(p, t):
        ex, mods = ctx.cap[(p, t)]
        proc = ctx.procs[p]
        mm = _nn(proc["max_modules"])
        if not mods:
            return float(proc["availability"]) * ex
        if mm is None:
            return inf
        return float(proc["availability"]) * (ex + float(proc["module_tpa"]) * float(mm))

    bound = {}  # (c, t, s) -> U_cts (inf when a use term is unbounded)
    rows_of = {}
    for (m, c, t, s) in ctx.balance:
        if c in cand:
            rows_of.setdefault((c, t, s), []).append(m)
    dm = d.demand
    for (c, t, s), ms in rows_of.items():
        u = sum(float(dm[(m, c)][sidx[s], d.tix(t)]) for m in d.members if (m, c) in dm)
        seen_stock = set()
        for m in ms:
            for coef, v in ctx.balance[(m, c, t, s)]:
                kv = key_of(v)
                if coef > 0 or kv in flows or kv in draws:
                    continue
                if kv in qinfo:
                    u += -coef * qmax(*qinfo[kv])
                elif kv in fills:
                    if fills[kv] not in seen_stock:
                        seen_stock.add(fills[kv])
                        u += stockcap.get(fills[kv], inf)
                else:
                    u = inf
                    break
            if u == inf:
                break
        bound[(c, t, s)] = u

    rows, seen = {}, set()
    for (p, t, s), q in ctx.Q.items():
        if p not in lumpy:
            continue
        ex, mods = ctx.cap[(p, t)]
        if not mods:
            continue
        proc = ctx.procs[p]
        avail = float(proc["availability"])
        mt = float(proc["module_tpa"])
        ucap = min(bound.get((c, t, s), inf) / y for c, y in outs[p] if y > 0)
        if ucap == inf:
            continue
        cprime = min(avail * mt, max(0.0, ucap - avail * ex))
        if cprime >= avail * mt * (1 - 1e-9):
            continue
        sig = (key_of(q), round(cprime, 6))
        if sig in seen:
            continue
        seen.add(sig)
        rows[(p, t, s)] = ([(1.0, q)] + [(-cprime, b) for _mt, b in mods], "<=", avail * ex)
    return rows


def report(ctx: Ctx, sol) -> dict:
    return {}
