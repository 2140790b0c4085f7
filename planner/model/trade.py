"""Trade between members (SPEC §3 "Balance"; routes of SPEC §2).

Variables: F_mncts ≥ 0 shipped from member m to member n, on allowed routes
(all ordered pairs by default, or only the listed ones when
``trade_all_pairs`` is FALSE; a commodity row overrides a blank-commodity row;
``allowed`` FALSE removes a route), for commodities that can exist in the bloc.

Balance: − F_mncts at (m, c), + F_mncts at (n, c).
Cost: δ_t · route_cost_mnc · F_mncts, booked to the receiving member n.
"""
from __future__ import annotations

from .context import MUSD, Ctx
from .supply import present_commodities


def add(ctx: Ctx) -> None:
    d = ctx.d
    present = present_commodities(ctx)
    routes = [(m, n, c) for (m, n, c) in d.routes if c in present]
    F = ctx.var("flows", [(m, n, c, t, s) for (m, n, c) in routes for t in d.years for s in d.scen])
    ctx.F = F
    for (m, n, c) in routes:
        cost = d.routes[(m, n, c)] * MUSD
        for ti, t in enumerate(d.years):
            for s in d.scen:
                f = F[m, n, c, t, s]
                ctx.balance[(m, c, t, s)].append((-1.0, f))
                ctx.balance[(n, c, t, s)].append((1.0, f))
                if cost:
                    ctx.cost(s, n, "transport", d.delta[ti] * cost, f)
