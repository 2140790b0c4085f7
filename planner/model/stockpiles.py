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

Registers: ``stock[(m,c,t,s)]`` = L, ``fill[(m,c,t,s)]`` = U.
"""
from __future__ import annotations

from planner.model.context import MUSD, Ctx
from planner.model.investment import operating_years
from planner.model.prepare import _nn, annuity_factor


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
    ops_idx = [k + (t, s) for k in keys for t in d.years for s in d.scen]
    L = ctx.var("stock_level", ops_idx)
    U = ctx.var("stock_fill", ops_idx)
    W = ctx.var("stock_draw", ops_idx)
    ctx.K, ctx.L, ctx.U, ctx.W = K, L, U, W
    ctx.stock = {k: L[k] for k in ops_idx}
    ctx.fill = {k: U[k] for k in ops_idx}

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

    dyn, cap, end = {}, {}, {}
    for (m, c), sp in rows.items():
        loss = float(sp["loss_rate"] or 0.0)
        ini = float(sp["initial_stock_t"] or 0.0)
        ex = float(sp["existing_capacity_t"] or 0.0)
        h = float(sp["holding_cost_usd_per_t_yr"] or 0.0)
        for s in d.scen:
            for ti, t in enumerate(d.years):
                k = (m, c, t, s)
                terms = [(1.0, L[k]), (-1.0, U[k]), (1.0, W[k])]
                rhs = 0.0
                if ti == 0:
                    rhs = (1.0 - loss) * ini
                else:
                    terms.append((-(1.0 - loss), L[m, c, d.years[ti - 1], s]))
                dyn[k] = (terms, "==", rhs)
                cap[k] = ([(1.0, L[k])] + capterms[(m, c, t)], "<=", ex)
                ctx.balance[(m, c, t, s)] += [(1.0, W[k]), (-1.0, U[k])]
                ctx.cost(s, m, "holding", d.delta[ti] * h * MUSD, L[k])
            if d.settings["end_stock_at_least_initial"] and ini > 0:
                end[(m, c, s)] = ([(1.0, L[m, c, y1, s])], ">=", ini)
    ctx.add_rows("stock_dynamics", dyn)
    ctx.add_rows("stock_capacity", cap)
    ctx.add_rows("stock_end", end)
    if ctx.fixed is not None:
        for k in kidx:
            ctx.fix_first_stage(K[k], ("stock_build",) + k)
