"""Strategic stockpiles (SPEC §3 "Stock").

Variables per stockpile (m, c): capacity built K_mcy ≥ 0 for y in
start_year … end_year − lead (only where capex_usd_per_t is given); per
scenario level L_mcts, fill U_mcts, draw W_mcts ≥ 0.

    L_mcts = (1 − loss) · L_mc,t−1,s + U_mcts − W_mcts,   L_mc,start−1 = initial_stock
    L_mcts ≤ existing + Σ_{y: y+lead ≤ t < y+lead+life} K_mcy
    existing + Σ_y K_mcy ≤ max_capacity_t
    L_mc,end,s ≥ initial_stock            (when end_stock_at_least_initial)

Balance: + W − U at (m, c).
Costs: capacity annuity δ_t · capex · AF(r, life) for each operating year
within the horizon (first stage); holding δ_t · holding_cost · L_mcts.

Terminal value (SPEC §3): stock left at end_year is an asset, credited at its replacement cost,

    cost_s −= terminal_stock_value · δ_end · R_c,end,s · L_mc,end,s

with R_c,end,s the lowest price P_xcts among suppliers of c available (share > 0) in the last
year of s, or the market price P_cts where none is (no credit for a commodity with neither).
Valuing end stock at what it would cost to buy leaves no arbitrage (buying to hold costs at
least R) and removes the end-of-horizon spike in the shadow prices of stock targets.

Registers: ``stock[(m,c,t,s)]`` = L, ``fill[(m,c,t,s)]`` = U.
"""
from __future__ import annotations

import numpy as np

from planner.model.context import MUSD, TOL, Ctx, key_of, tidy
from planner.model.investment import operating_years
from planner.model.prepare import _nn, annuity_factor

PROVIDES = ('K', 'L', 'U', 'W')
READS = ()


def replacement_cost(d, c: str) -> list:
    """R_c,end,s for every scenario (USD/t), or None per scenario where c has no price at all."""
    out = []
    for si in range(d.S):
        best = None
        for x in d.suppliers:
            key = (x["supplier"], c)
            if x["commodity"] != c or key not in d.sprice:
                continue
            if d.avail(*key)[si, -1] > 0:
                p = float(d.sprice[key][si, -1])
                best = p if best is None else min(best, p)
        if best is None and c in d.price:
            best = float(d.price[c][si, -1])
        out.append(best)
    return out


def add(ctx: Ctx) -> None:
    d = ctx.d
    y0, y1 = d.years[0], d.years[-1]
    keys = [(sp["member"], sp["commodity"]) for sp in d.stockpiles]
    rows = {k: sp for k, sp in zip(keys, d.stockpiles)}
    kidx = []
    for k, sp in rows.items():
        if _nn(sp["capex_usd_per_t"]) is not None:
            kidx += [k + (y,) for y in range(y0, y1 - int(sp["lead_time_years"]) + 1)]
    K = ctx.var("stock_build", kidx, special=True)
    heads = [k for k in keys for _t in d.years]  # every (stockpile, year) × every scenario
    t_idx = np.tile(np.arange(d.nT), len(keys))
    L = ctx.var_ops_rows("stock_level", heads, t_idx)
    U = ctx.var_ops_rows("stock_fill", heads, t_idx)
    W = ctx.var_ops_rows("stock_draw", heads, t_idx)
    ctx.K, ctx.L, ctx.U, ctx.W = K, L, U, W

    capterms = {(m, c, t): [] for (m, c) in keys for t in d.years}
    maxrows = {}
    for (m, c, y) in kidx:
        sp = rows[(m, c)]
        lead, life = int(sp["lead_time_years"]), int(sp["lifetime_years"])
        ops = operating_years(d, y, lead, life)
        af = annuity_factor(d.r, life)
        ctx.cost(None, m, "stock_capex", sum(d.delta[t] for t in ops) * float(sp["capex_usd_per_t"]) * af * MUSD,
                 K[m, c, y])
        for t in ops:
            capterms[(m, c, d.years[t])].append((-1.0, K[m, c, y]))
        mx = _nn(sp["max_capacity_t"])
        if mx is not None:
            maxrows.setdefault((m, c), ([], "<=", float(mx) - float(sp["existing_capacity_t"] or 0.0)))[0].append(
                (1.0, K[m, c, y]))
    ctx.add_rows("stock_max_capacity", maxrows)

    tsv = float(d.settings.get("terminal_stock_value", 1.0) if d.settings.get("terminal_stock_value") is not None
                else 1.0)
    repl = {c: replacement_cost(d, c) for c in {c for (_m, c) in rows}} if tsv > 0 else {}
    # stock dynamics and capacity rows per (m, c, s, t) (scenario-major within a stockpile), as arrays
    nT, S = d.nT, d.S
    P = len(rows)
    if P:
        Lc = ctx.cols_of(L).reshape(P, nT, S)  # index order: stockpile, year, scenario
        Uc = ctx.cols_of(U).reshape(P, nT, S)
        Wc = ctx.cols_of(W).reshape(P, nT, S)
        hL = ctx.sink.handles(Lc.ravel())
    tix = np.arange(nT)
    delta = np.asarray(d.delta, dtype=float)
    dr, dcol, dv, drhs = [], [], [], []   # stock_dynamics terms and right-hand sides
    cr, ccol, cv, chi = [], [], [], []    # stock_capacity
    dkeys = []
    end = {}
    costs = ctx.costs
    bm, bc, bcols_w, bcols_u, bt, bs = [], [], [], [], [], []
    r = 0
    for pi, ((m, c), sp) in enumerate(rows.items()):
        loss = float(sp["loss_rate"] or 0.0)
        ini = float(sp["initial_stock_t"] or 0.0)
        ex = float(sp["existing_capacity_t"] or 0.0)
        h = float(sp["holding_cost_usd_per_t_yr"] or 0.0)
        # capacity terms −K per year (the same in every scenario)
        ct = [capterms[(m, c, t)] for t in d.years]
        kc = [ctx.sink.columns([v for _coef, v in terms]) for terms in ct]
        kn = np.array([len(x) for x in kc])
        kcols = np.concatenate(kc) if len(kc) else np.zeros(0, np.int64)
        kcoef = np.concatenate([np.array([coef for coef, _v in terms], dtype=float) for terms in ct])
        hold = delta * h * MUSD
        mi, cj = ctx.member_index(m), ctx.commodity_index(c)
        for si, s in enumerate(d.scen):
            rows_t = r + tix
            lc, uc, wc = Lc[pi, :, si], Uc[pi, :, si], Wc[pi, :, si]
            # L_t − U_t + W_t − (1 − loss) L_{t−1} = (1 − loss) · initial at t = 0, else 0
            dr += [rows_t, rows_t, rows_t, rows_t[1:]]
            dcol += [lc, uc, wc, lc[:-1]]
            dv += [np.ones(nT), -np.ones(nT), np.ones(nT), np.full(nT - 1, -(1.0 - loss))]
            rhs = np.zeros(nT)
            rhs[0] = (1.0 - loss) * ini
            drhs.append(rhs)
            # L_t − Σ K ≤ existing
            cr += [rows_t, np.repeat(rows_t, kn)]
            ccol += [lc, kcols]
            cv += [np.ones(nT), kcoef]
            chi.append(np.full(nT, ex))
            dkeys += [(m, c, t, s) for t in d.years]
            bm.append(np.full(nT, mi))
            bc.append(np.full(nT, cj))
            bt.append(tix)
            bs.append(np.full(nT, si))
            bcols_w.append(wc)
            bcols_u.append(uc)
            keep = np.flatnonzero(hold != 0.0)  # as ctx.cost: zero terms left out
            base = pi * nT * S + si
            costs.extend((s, m, "holding", float(hold[ti]), hL[base + ti * S]) for ti in keep.tolist())
            if tsv > 0 and repl[c][si] is not None:
                ctx.cost(s, m, "terminal_value", -tsv * d.delta[-1] * repl[c][si] * MUSD, hL[base + (nT - 1) * S])
            if d.settings["end_stock_at_least_initial"] and ini > 0:
                end[(m, c, s)] = ([(1.0, hL[base + (nT - 1) * S])], ">=", ini)
            r += nT
    if P:
        bm, bc, bt, bs = (np.concatenate(x) for x in (bm, bc, bt, bs))
        ctx.balance_add(bm, bc, bt, bs, np.concatenate(bcols_w), 1.0)
        ctx.balance_add(bm, bc, bt, bs, np.concatenate(bcols_u), -1.0)
        drhs = np.concatenate(drhs)
        ctx.sink.add_rows_arrays("stock_dynamics", dkeys, np.concatenate(dr), np.concatenate(dcol),
                                 np.concatenate(dv), drhs, drhs)
        ctx.sink.add_rows_arrays("stock_capacity", dkeys, np.concatenate(cr), np.concatenate(ccol),
                                 np.concatenate(cv), np.full(len(dkeys), -np.inf), np.concatenate(chi))
    else:
        ctx.add_rows("stock_dynamics", {})
        ctx.add_rows("stock_capacity", {})
    ctx.add_rows("stock_end", end)
    if ctx.fixed is not None:
        for k in kidx:
            ctx.fix_first_stage(K[k], ("stock_build",) + k)


def capacity(d, sp: dict, built: dict) -> list:
    """Capacity operating in each year of the horizon: existing + Σ_{y: y+lead ≤ t < y+lead+life} K_mcy
    (``built``: build year -> tonnes)."""
    lead, life = int(sp["lead_time_years"]), int(sp["lifetime_years"])
    cap = [float(sp["existing_capacity_t"] or 0.0)] * d.nT
    for y, k in built.items():
        for ti in operating_years(d, y, lead, life):
            cap[ti] += k
    return cap


def report(ctx: Ctx, sol) -> dict:
    """``stockpiles`` (capacity, level, fill, draw, holding cost, terminal credit) and ``investments``
    rows of stockpile capacity built."""
    d = ctx.d
    xval = sol.value_of()
    first_cost = ctx.first_stage_cost()
    built = {}
    inv = []
    for (m, c, y), v in ctx.K.items():
        k = xval(v)
        built.setdefault((m, c), {})[y] = k
        if k > TOL:
            sp = next(x for x in d.stockpiles if x["member"] == m and x["commodity"] == c)
            inv.append(("stockpile capacity", f"{m}/{c}", m, c, y, y + int(sp["lead_time_years"]), k, "t", k,
                        k * sum(first_cost[key_of(v)].values())))
    credit = ctx.cost_by_var("terminal_value")
    rows = []
    for sp in d.stockpiles:
        m, c = sp["member"], sp["commodity"]
        cap = capacity(d, sp, built.get((m, c), {}))
        h = float(sp["holding_cost_usd_per_t_yr"] or 0)
        for ti, t in enumerate(d.years):
            for s in d.scen:
                k = (m, c, t, s)
                L, U, W = xval(ctx.L[k]), xval(ctx.U[k]), xval(ctx.W[k])
                tv = credit.get((s, key_of(ctx.L[k])), 0.0) * L
                rows.append((m, c, t, s, tidy(cap[ti]), tidy(L), tidy(U), tidy(W),
                             tidy(d.delta[ti] * h * L * MUSD), tidy(tv)))
    return {"stockpiles": rows, "investments": inv}
