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

from collections import defaultdict

import numpy as np
import pandas as pd

from planner.model.context import TOL, Ctx, Slack, node_prices, scenario_weights, tidy

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


SUPPLY_IN = ("production_t", "imports_concern_t", "imports_other_t", "offtake_t", "offtake_concern_t", "trade_in_t",
             "stock_draw_t", "shortage_t")
SUPPLY_OUT = ("input_use_t", "trade_out_t", "stock_fill_t", "exports_t", "disposal_t")


def report(ctx: Ctx, sol) -> dict:
    """``supply`` (every term of every balance row, plus one ``imports_from_<supplier>_t`` column per
    outside supplier: the detail of the two import columns, so Σ_m over a commodity-year-scenario is the
    volume checked against the supplier's max_tpa) and ``prices`` (the balance duals: marginal cost of
    supply per node of the scenario tree, its probability-weighted mean, and the scenario's risk weight)."""
    d = ctx.d
    xval = sol.value_of()
    sidx = {s: i for i, s in enumerate(d.scen)}
    terms = defaultdict(lambda: defaultdict(float))
    concern = {(x["supplier"], x["commodity"]) for x in d.suppliers if x["country_of_concern"]}
    suppliers = sorted({x for (_m, x, _c, _t, _s) in ctx.I})
    for (m, x, c, t, s), v in ctx.I.items():
        val = xval(v)
        if val:
            terms[(m, c, t, s)]["imports_concern_t" if (x, c) in concern else "imports_other_t"] += val
            terms[(m, c, t, s)][f"imports_from_{x}_t"] += val
    for (p, t, s), v in ctx.Q.items():
        val = xval(v)
        if not val:
            continue
        proc = ctx.procs[p]
        m = proc["member"]
        terms[(m, proc["output"], t, s)]["production_t"] += val
        for c, y in d.coproducts.get(p, []):
            terms[(m, c, t, s)]["production_t"] += y * val
        if proc["input"] is not None:
            terms[(m, proc["input"], t, s)]["input_use_t"] += float(proc["input_per_output"]) * val
    offs = {o["offtake"]: o for o in d.offtakes}
    for (o, t, s), v in ctx.D.items():
        val = xval(v)
        if val:
            terms[(offs[o]["member"], offs[o]["commodity"], t, s)][
                "offtake_concern_t" if offs[o]["country_of_concern"] else "offtake_t"] += val
    for (m, n, c, t, s), v in ctx.F.items():
        val = xval(v)
        if val:
            terms[(m, c, t, s)]["trade_out_t"] += val
            terms[(n, c, t, s)]["trade_in_t"] += val
    for name, comp in (("stock_draw_t", ctx.W), ("stock_fill_t", ctx.U), ("shortage_t", ctx.H),
                       ("exports_t", ctx.X), ("disposal_t", ctx.V)):
        for k, v in comp.items():
            val = xval(v)
            if val:
                terms[k][name] += val
    keys = set(terms) | {(m, c, t, s) for (m, c) in d.demand for t in d.years for s in d.scen}
    cols = list(SUPPLY_IN) + list(SUPPLY_OUT) + [f"imports_from_{x}_t" for x in suppliers]
    rows = []
    empty = {}
    for k in sorted(keys, key=lambda k: (k[0], k[1], k[2], sidx[k[3]])):
        m, c, t, s = k
        dem = float(d.demand[(m, c)][sidx[s], d.tix(t)]) if (m, c) in d.demand else 0.0
        tv = terms.get(k, empty)
        rows.append((m, c, t, s, dem, *[tv.get(col, 0.0) for col in cols]))
    sup = pd.DataFrame(rows, columns=["member", "commodity", "year", "scenario", "demand_t"] + cols)
    if len(sup):
        a = sup[cols].to_numpy(dtype=float, copy=True)
        a[np.abs(a) < TOL] = 0.0  # as tidy, for the whole block
        sup[cols] = a
        sup = sup[(sup["demand_t"] != 0) | (a != 0).any(axis=1)].reset_index(drop=True)

    w = scenario_weights(ctx, sol)
    mc = node_prices(ctx, sol, ctx.balance_rows, w)
    prob = np.asarray(d.prob, dtype=float)
    mean = defaultdict(float)
    for (m, c, t, s), v in mc.items():
        mean[(m, c, t)] += prob[sidx[s]] * v
    rw = {s: (w[i] / prob[i] if prob[i] > 0 else float("nan")) for i, s in enumerate(d.scen)}
    prices = [(m, c, t, s, tidy(v) if v == v else v, tidy(mean[(m, c, t)]), rw[s])
              for (m, c, t, s), v in mc.items()]
    return {"supply": sup, "prices": prices}
