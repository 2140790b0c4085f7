"""Trade between members (SPEC §3 "Balance"; routes of SPEC §2).

Variables: F_mncts ≥ 0 shipped from member m to member n, on allowed routes
(all ordered pairs by default, or only the listed ones when
``trade_all_pairs`` is FALSE; a commodity row overrides a blank-commodity row;
``allowed`` FALSE removes a route), for commodities that can exist in the bloc.

Balance: − F_mncts at (m, c), + F_mncts at (n, c).
Cost: δ_t · route_cost_mnc · F_mncts, booked to the receiving member n.
"""
from __future__ import annotations


import numpy as np

from planner.model.context import MUSD, TOL, Ctx, nonzero_items
from planner.model.supply import present_commodities

PROVIDES = ('F',)
READS = ('output_m',)


def add(ctx: Ctx) -> None:
    """By array arithmetic over (route, year, scenario): the flows' columns, their balance terms and costs."""
    d = ctx.d
    present = present_commodities(ctx)
    routes = [(m, n, c) for (m, n, c) in d.routes if c in present]
    F = ctx.var_ops_rows("flows", [r for r in routes for _t in d.years], np.tile(np.arange(d.nT), len(routes)))
    ctx.F = F
    if not routes:
        return
    R, nT, S = len(routes), d.nT, d.S
    cols = ctx.cols_of(F)  # in the order of the index above: route, year, scenario
    per = nT * S
    ci = np.repeat([ctx.commodity_index(c) for (_m, _n, c) in routes], per)
    ti = np.tile(np.repeat(np.arange(nT), S), R)
    si = np.tile(np.arange(S), R * nT)
    ctx.balance_add(np.repeat([ctx.member_index(m) for (m, _n, _c) in routes], per), ci, ti, si, cols, -1.0)
    ctx.balance_add(np.repeat([ctx.member_index(n) for (_m, n, _c) in routes], per), ci, ti, si, cols, 1.0)
    # transport cost δ_t · route cost, booked to the receiver (as ctx.cost: zero terms left out)
    cost = np.array([d.routes[r] * MUSD for r in routes], dtype=float)
    dc = np.repeat((np.asarray(d.delta, dtype=float)[None, :] * cost[:, None]).ravel(), S)
    keep = np.flatnonzero(dc != 0.0)
    recv = np.array([n for (_m, n, _c) in routes], dtype=object)
    ctx.add_cost_arrays(si[keep], (recv, keep // per), "transport", dc[keep], cols[keep])


def report(ctx: Ctx, sol) -> dict:
    """``trade``: flows between members and their discounted transport cost."""
    d = ctx.d
    rows = []
    for (m, n, c, t, s), val in nonzero_items(ctx.F, sol):
        if val > TOL:
            rows.append((m, n, c, t, s, val, d.delta[d.tix(t)] * d.routes[(m, n, c)] * val * MUSD))
    return {"trade": rows}
