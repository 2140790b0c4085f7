"""Trade between members (SPEC §3 "Balance"; routes of SPEC §2).

Variables: F_mncts ≥ 0 shipped from member m to member n, on allowed routes
(all ordered pairs by default, or only the listed ones when
``trade_all_pairs`` is FALSE; a commodity row overrides a blank-commodity row;
``allowed`` FALSE removes a route), for commodities that can exist in the bloc.

Balance: − F_mncts at (m, c), + F_mncts at (n, c).
Cost: δ_t · route_cost_mnc · F_mncts, booked to the receiving member n.
"""
from __future__ import annotations

from planner.model.context import MUSD, TOL, Ctx
from planner.model.supply import present_commodities

PROVIDES = ('F',)
READS = ('output',)


def add(ctx: Ctx) -> None:
    d = ctx.d
    present = present_commodities(ctx)
    routes = [(m, n, c) for (m, n, c) in d.routes if c in present]
    F = ctx.var("flows", [(m, n, c, t, s) for (m, n, c) in routes for t in d.years for s in d.scen], ops=True)
    ctx.F = F
    costs = ctx.costs
    cols = iter(F.values())  # in the order of the index above
    for (m, n, c) in routes:
        cost = d.routes[(m, n, c)] * MUSD
        out_g, in_g = ctx.balance_grid(m, c), ctx.balance_grid(n, c)
        for ti, t in enumerate(d.years):
            dc = d.delta[ti] * cost
            out_t, in_t = out_g[ti], in_g[ti]
            for si, s in enumerate(d.scen):
                f = next(cols)
                out_t[si].append((-1.0, f))
                in_t[si].append((1.0, f))
                if dc:
                    costs.append((s, n, "transport", dc, f))  # as ctx.cost, inlined (the largest block)


def report(ctx: Ctx, sol) -> dict:
    """``trade``: flows between members and their discounted transport cost."""
    d = ctx.d
    xval = sol.value_of()
    rows = []
    for (m, n, c, t, s), v in ctx.F.items():
        val = xval(v)
        if val > TOL:
            rows.append((m, n, c, t, s, val, d.delta[d.tix(t)] * d.routes[(m, n, c)] * val * MUSD))
    return {"trade": rows}
