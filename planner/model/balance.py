"""Commodity balance, built from the terms every family contributed (SPEC §3 "Balance").

For every (m, c, t, s) with a term or a demand:

    Σ_{p at m} y_pc Q + Σ_x I + Σ_o D + Σ_n F_nm − Σ_n F_mn + W − U + H
        − Σ_{p at m, i_p=c} a_p Q − X − V  =  demand_mcts

Its dual is the marginal cost of supply (reported in USD/t, undiscounted and
per scenario, in the results' ``prices`` sheet).  In the elastic re-solve each
row gets an "unmet demand" and a "surplus that cannot be absorbed" slack.
A demand that no term can meet is recorded as a structural infeasibility.
"""
from __future__ import annotations

import numpy as np

from planner.model.context import Ctx, Slack


PROVIDES = ('balance_rows',)
READS = ()


def add(ctx: Ctx) -> None:
    d = ctx.d
    keys = set(ctx.balance)
    sidx = {s: i for i, s in enumerate(d.scen)}
    for (m, c), dem in d.demand.items():
        for si, ti in zip(*np.nonzero(dem > 0)):
            keys.add((m, c, d.years[ti], d.scen[si]))
    rows = {}
    bal = ctx.balance
    for k in sorted(keys, key=lambda k: (k[0], k[1], k[2], sidx[k[3]])):
        m, c, t, s = k
        dem = d.demand[(m, c)][sidx[s], d.tix(t)] if (m, c) in d.demand else 0.0
        terms = bal.get(k)
        if not terms:
            if dem > 0 and not ctx.elastic:
                ctx.structural.append((Slack("demand", "t", m, c, t, s, "no source can supply it"), dem))
            if dem <= 0 or not ctx.elastic:
                continue
        rows[k] = (list(terms or ()) if ctx.elastic else terms, "==", dem)
    if ctx.elastic:
        info_u = {k: Slack("demand (unmet)", "t", k[0], k[1], k[2], k[3]) for k in rows}
        info_s = {k: Slack("surplus that cannot be used, stored, exported or disposed of", "t", k[0], k[1], k[2], k[3])
                  for k in rows}
        su = ctx.slack_vars("unmet", info_u, ops=True)
        ss = ctx.slack_vars("surplus", info_s, ops=True)
        for k in rows:
            rows[k][0].extend([(1.0, su[k]), (-1.0, ss[k])])
    ctx.balance_rows = ctx.add_rows("balance", rows)
