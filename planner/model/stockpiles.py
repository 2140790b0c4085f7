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
    ops_idx = [k + (t, s) for k in keys for t in d.years for s in d.scen]
    L = ctx.var("stock_level", ops_idx, ops=True)
    U = ctx.var("stock_fill", ops_idx, ops=True)
    W = ctx.var("stock_draw", ops_idx, ops=True)
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
    dyn, cap, end = {}, {}, {}
    for (m, c), sp in rows.items():
        loss = float(sp["loss_rate"] or 0.0)
        ini = float(sp["initial_stock_t"] or 0.0)
        ex = float(sp["existing_capacity_t"] or 0.0)
        h = float(sp["holding_cost_usd_per_t_yr"] or 0.0)
        for si, s in enumerate(d.scen):
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
            if tsv > 0 and repl[c][si] is not None:
                ctx.cost(s, m, "terminal_value", -tsv * d.delta[-1] * repl[c][si] * MUSD, L[m, c, y1, s])
            if d.settings["end_stock_at_least_initial"] and ini > 0:
                end[(m, c, s)] = ([(1.0, L[m, c, y1, s])], ">=", ini)
    ctx.add_rows("stock_dynamics", dyn)
    ctx.add_rows("stock_capacity", cap)
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
