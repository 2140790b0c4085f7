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

from planner.model.context import TOL, Ctx, LazyKeys, Slack, node_prices, nonzero_items, scenario_weights, tidy

PROVIDES = ('balance_rows',)
READS = ()


def add(ctx: Ctx) -> None:
    """The rows, by array arithmetic: every term (the families' term lists and array chunks) gets the
    position of its row in the order (member, commodity, year, scenario), rows are the distinct positions.
    The terms go to the sink chunk by chunk (no joined copy of them), and the rows' keys are made only when
    something reads ``ctx.balance_rows`` by key (the prices report, after the solve)."""
    d = ctx.d
    nT, S = d.nT, d.S
    chunks = ctx.term_chunks(ctx.balance)  # array chunks, then terms added one by one
    # demand: a row wherever demand > 0 (a structural infeasibility where no term can meet it)
    dm, dc, dt, ds = [], [], [], []
    for (m, c), dem in d.demand.items():
        sj, tj = np.nonzero(dem > 0)
        dm.append(np.full(len(sj), ctx.member_index(m)))
        dc.append(np.full(len(sj), ctx.commodity_index(c)))
        dt.append(tj)
        ds.append(sj)
    mn, cn = ctx.__dict__.get("member_names", []), ctx.__dict__.get("commodity_names", [])
    NC = len(cn)
    mrank = np.argsort(np.argsort(np.array(mn, dtype=object))) if mn else np.zeros(0, np.int64)
    crank = np.argsort(np.argsort(np.array(cn, dtype=object))) if cn else np.zeros(0, np.int64)
    # dense demand over (member, commodity, year, scenario) in rank order
    D = np.zeros((len(mn), NC, nT, S))
    for (m, c), dem in d.demand.items():
        D[mrank[ctx.member_index(m)], crank[ctx.commodity_index(c)]] = np.asarray(dem, dtype=float).T

    def pos(m, c, t, s):
        return ((mrank[m] * NC + crank[c]) * nT + t) * S + s

    tpos = [pos(mi, ci, ti, si) for mi, ci, ti, si, _c, _v in chunks]
    dpos = pos(*(np.concatenate(a).astype(np.int64) if a else np.zeros(0, np.int64) for a in (dm, dc, dt, ds))) \
        if dm else np.zeros(0, np.int64)
    # the rows: positions with a term or a demand, marked over the dense (member, commodity, year, scenario) grid
    tmark = np.zeros(D.size, dtype=bool)
    for tp in tpos:
        tmark[tp] = True
    mark = tmark.copy()
    mark[dpos] = True
    uniq = np.flatnonzero(mark)
    rowmap = np.cumsum(mark) - 1
    has_terms = tmark[uniq]
    t_of = uniq // S % nT
    s_of = uniq % S
    mc = uniq // (S * nT)
    m_rank, c_rank = mc // NC, mc % NC
    rhs = D[m_rank, c_rank, t_of, s_of] if len(uniq) else np.zeros(0)
    m_of = np.argsort(mrank)[m_rank] if len(uniq) else m_rank  # rank -> index into the names
    c_of = np.argsort(crank)[c_rank] if len(uniq) else c_rank
    years, scen = d.years, d.scen

    def key(i):
        return mn[m_of[i]], cn[c_of[i]], years[t_of[i]], scen[s_of[i]]

    if not ctx.elastic:
        for i in np.flatnonzero(~has_terms & (rhs > 0)).tolist():
            m, c, t, s = key(i)
            ctx.structural.append((Slack("demand", "t", m, c, t, s, "no source can supply it"), float(rhs[i])))
        keep = has_terms
    else:
        keep = has_terms | (rhs > 0)
    if not keep.all():
        rowmap = (np.cumsum(keep) - 1)[rowmap]
        m_of, c_of, t_of, s_of, rhs = m_of[keep], c_of[keep], t_of[keep], s_of[keep], rhs[keep]
    keys = LazyKeys(len(rhs), lambda: [(mn[m], cn[c], years[t], scen[s]) for m, c, t, s in zip(
        m_of.tolist(), c_of.tolist(), t_of.tolist(), s_of.tolist())])
    parts = [(rowmap[tp], ch[4], ch[5]) for tp, ch in zip(tpos, chunks)]
    del tpos, chunks
    if ctx.elastic:
        info_u = {k: Slack("demand (unmet)", "t", k[0], k[1], k[2], k[3]) for k in keys}
        info_s = {k: Slack("surplus that cannot be used, stored, exported or disposed of", "t", k[0], k[1], k[2], k[3])
                  for k in keys}
        su = ctx.cols_of(ctx.slack_vars("unmet", info_u, ops=True))
        ss = ctx.cols_of(ctx.slack_vars("surplus", info_s, ops=True))
        n = len(keys)
        parts += [(np.arange(n), su, np.ones(n)), (np.arange(n), ss, -np.ones(n))]
    ctx.balance_rows = ctx.sink.add_rows_chunks("balance", keys, parts, rhs, rhs)
    ctx.balance.consume()  # the terms are in the matrix now: no second copy of them while HiGHS runs


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
    for (p, t, s), val in nonzero_items(ctx.Q, sol):
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
    for (m, n, c, t, s), val in nonzero_items(ctx.F, sol):
        terms[(m, c, t, s)]["trade_out_t"] += val
        terms[(n, c, t, s)]["trade_in_t"] += val
    for name, comp in (("stock_draw_t", ctx.W), ("stock_fill_t", ctx.U), ("shortage_t", ctx.H),
                       ("exports_t", ctx.X), ("disposal_t", ctx.V)):
        for k, val in nonzero_items(comp, sol):
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
