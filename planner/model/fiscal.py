"""Fiscal: floor support, burden shares, budgets, tariff revenue (SPEC §3 "Fiscal").

For each commodity c with a floor price:

    support_ts = Σ_c max(0, floor_c − P_cts) · (Σ_p y_pc Q_pts − Σ_m V_mcts)     [USD]
    Σ_m V_mcts ≤ Σ_p y_pc Q_pts                                                 (discarded output is not supported)
    Σ_t δ_t · share_m · support_ts ≤ fiscal_budget_m     for every member with a budget and every s  [MUSD]

share_m is the member's normalised burden_share.  Offtake floors are contract
prices and create no support.  Tariff revenue_ts = Σ T_xcts · I_mxcts is
credited to the importing member (reported; see supply).  In ``market`` mode
cost_s −= Σ_t δ_t · support_ts, booked to the producing member (the support
its producers receive).  Budgets bind in both modes.

Registers: ``support_terms`` [(t, s, m_producer, USD/t coef, var)].
"""
from __future__ import annotations

from collections import defaultdict

from planner.model.context import MUSD, Ctx, Slack, tidy
from planner.model.prepare import _nn

PROVIDES = ('support_terms', 'budget_rows')
READS = ('output_m', 'V')


def add(ctx: Ctx) -> None:
    d = ctx.d
    market = d.settings["objective"] == "market"
    ctx.support_terms = []
    vlim = {}
    floors = [c for c, row in d.commodities.items() if _nn(row["floor_price_usd_per_t"]) is not None and c in d.price]
    output_m = ctx.terms_by_key(ctx.output_m, floors)
    for c, row in d.commodities.items():
        floor = _nn(row["floor_price_usd_per_t"])
        if floor is None or c not in d.price:
            continue
        for si, s in enumerate(d.scen):
            for ti, t in enumerate(d.years):
                gap = max(0.0, floor - d.price[c][si, ti])
                out_m = [(m, y, q) for m in d.members for y, q in output_m.get((m, c, t, s), [])]
                vs = [(m, ctx.V[m, c, t, s]) for m in d.members if (m, c, t, s) in ctx.V]
                if vs:
                    vlim[(c, t, s)] = ([(1.0, v) for _, v in vs] + [(-y, q) for _, y, q in out_m], "<=", 0.0)
                if gap <= 0:
                    continue
                for m, y, q in out_m:
                    ctx.support_terms.append((t, s, m, gap * y, q))
                for m, v in vs:
                    ctx.support_terms.append((t, s, m, -gap, v))
    ctx.add_rows("floor_disposal_limit", vlim)
    if market:
        for t, s, m, coef, v in ctx.support_terms:
            ctx.cost(s, m, "floor_support", -d.delta[d.tix(t)] * coef * MUSD, v)
    # budgets
    by_s = defaultdict(list)
    for t, s, m, coef, v in ctx.support_terms:
        by_s[s].append((d.delta[d.tix(t)] * coef * MUSD, v))
    rows, info = {}, {}
    for m, budget in d.budget.items():
        share = d.burden.get(m, 0.0)
        if share <= 0:
            continue
        for s in d.scen:
            if by_s.get(s):
                rows[(m, s)] = ([(share * a, v) for a, v in by_s[s]], "<=", budget)
                info[(m, s)] = Slack("fiscal budget", "MUSD", m, None, None, s, "discounted share of floor support")
    if ctx.elastic and info:
        sv = ctx.slack_vars("budget", info)
        for k in info:
            rows[k][0].append((-1.0, sv[k]))
    ctx.budget_rows = ctx.add_rows("fiscal_budget", rows)


def report(ctx: Ctx, sol) -> dict:
    """``fiscal`` (member x scenario): share of floor support, support received, tariff revenue, budget."""
    d = ctx.d
    xval = sol.value_of()
    sup_s = defaultdict(float)          # s -> discounted support, MUSD
    recv = defaultdict(float)           # (m, s) -> support received by producers at m
    for t, s, m, coef, v in ctx.support_terms:
        val = d.delta[d.tix(t)] * coef * xval(v) * MUSD
        sup_s[s] += val
        recv[(m, s)] += val
    tar = defaultdict(float)
    for m, t, s, coef, v in ctx.tariff_terms:
        tar[(m, s)] += d.delta[d.tix(t)] * coef * xval(v) * MUSD
    rows = []
    for m in d.members:
        for s in d.scen:
            share = d.burden.get(m, 0.0)
            budget = d.budget.get(m)
            rows.append((m, s, share, tidy(share * sup_s[s]), tidy(recv[(m, s)]), tidy(tar[(m, s)]),
                         budget if budget is not None else float("nan"),
                         tidy(budget - share * sup_s[s]) if budget is not None else float("nan")))
    return {"fiscal": rows}
