"""Offtake contracts (SPEC §3 "Supply limits").

Variables: Z_o ∈ {0,1} signed (first stage, for offtakes with contract years
in the horizon); D_ots ≥ 0 deliveries in contract years
max(start_o, start_year) … min(end_o, end_year) with avail_ots > 0.

    D_ots ≤ max_tpa_o · avail_ots · Z_o
    D_ots ≥ min(min_take_share_o, avail_ots) · max_tpa_o · Z_o   (take-or-pay: the volume must be taken)

avail_ots comes from disruption rows naming the seller (commodity blank or c_o).
Balance: + D_ots at the buyer m_o.
Costs: δ_t · max(floor_o, P_cts) · D_ots (scenario); signing cost
δ_{t0} · signing_cost_o · Z_o with t0 = max(start_o, start_year) (first stage).
In the elastic re-solve the take-or-pay lower bound may give (tonnes).

Registers: ``concern_in`` for offtakes marked country_of_concern.
"""
from __future__ import annotations


from planner.model.context import BINARY, MUSD, Ctx, Slack, key_of, tidy

PROVIDES = ('Z', 'D')
READS = ('concern_in',)


def add(ctx: Ctx) -> None:
    d = ctx.d
    live = []
    for o in d.offtakes:
        yrs = d.year_range(o["start_year"], o["end_year"])
        if len(yrs):
            live.append((o, yrs))
    Z = ctx.var("signed", [o["offtake"] for o, _ in live], domain=BINARY)
    didx, info = [], []
    for o, yrs in live:
        av = d.avail(o["seller"], o["commodity"])
        for si, s in enumerate(d.scen):
            for ti in yrs:
                info.append((o, si, ti, av[si, ti]))
                if av[si, ti] > 0:
                    didx.append((o["offtake"], d.years[ti], s))
    D = ctx.var("deliveries", didx, ops=True)
    ctx.Z, ctx.D = Z, D
    for o, yrs in live:
        t0 = yrs[0]
        ctx.cost(None, o["member"], "signing", d.delta[t0] * float(o["signing_cost_musd"] or 0.0), Z[o["offtake"]])
    up, lo, slack_info = {}, {}, {}
    for o, si, ti, a in info:
        name, s, t = o["offtake"], d.scen[si], d.years[ti]
        mx = float(o["max_tpa"])
        take = min(float(o["min_take_share"] or 0.0), a) * mx
        if a <= 0:
            continue
        v = D[name, t, s]
        c, m = o["commodity"], o["member"]
        up[(name, t, s)] = ([(1.0, v), (-mx * a, Z[name])], "<=", 0.0)
        if take > 0:
            lo[(name, t, s)] = ([(1.0, v), (-take, Z[name])], ">=", 0.0)
            slack_info[(name, t, s)] = Slack("take-or-pay minimum of offtake " + name, "t", m, c, t, s)
        pr = price(d, o, si, ti)
        ctx.balance[(m, c, t, s)].append((1.0, v))
        ctx.cost(s, m, "offtakes", d.delta[ti] * pr * MUSD, v)
        if o["country_of_concern"]:
            ctx.concern_in[(m, c, t, s)].append((1.0, v))
    if ctx.elastic and slack_info:
        sv = ctx.slack_vars("take_or_pay", slack_info, ops=True)
        for k in slack_info:
            lo[k][0].append((1.0, sv[k]))
    ctx.add_rows("offtake_max", up)
    ctx.add_rows("offtake_take_or_pay", lo)
    if ctx.fixed is not None:
        for o, _ in live:
            ctx.fix_first_stage(Z[o["offtake"]], ("signed", o["offtake"]), integer=True)


def price(d, o: dict, si: int, ti: int) -> float:
    """Contract price of offtake ``o`` in (s, t): max(floor_o, P_cts) (USD/t)."""
    return max(float(o["floor_price_usd_per_t"]), float(d.price[o["commodity"]][si, ti]))


def report(ctx: Ctx, sol) -> dict:
    """``offtakes`` (deliveries and price per contract year and scenario) and ``investments`` rows of
    offtakes signed."""
    d = ctx.d
    xval = sol.value_of()
    first_cost = ctx.first_stage_cost()
    rows, inv = [], []
    for o in d.offtakes:
        name = o["offtake"]
        signed = name in ctx.Z and xval(ctx.Z[name]) > 0.5
        if signed:
            t0 = max(o["start_year"], d.years[0])
            inv.append(("offtake signed", name, o["member"], o["commodity"], t0, t0, 1, "contract",
                        float(o["max_tpa"]), sum(first_cost[key_of(ctx.Z[name])].values())))
        for ti in d.year_range(o["start_year"], o["end_year"]):
            t = d.years[ti]
            for si, s in enumerate(d.scen):
                v = ctx.D.get((name, t, s))
                q = xval(v) if v is not None else 0.0
                pr = price(d, o, si, ti)
                rows.append((name, o["seller"], o["member"], o["commodity"], signed, t, s, tidy(q), pr,
                             tidy(q * pr * MUSD * d.delta[ti])))
    return {"offtakes": rows, "investments": inv}
