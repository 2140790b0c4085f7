"""Supply from outside the bloc, exports, disposal and shortage (SPEC §3).

Variables (per scenario s and year t):
- I_mxcts ≥ 0 imports by member m from supplier x of commodity c, where avail_xcts > 0;
- X_mcts ≥ 0 exports out of the bloc, where ``export_price_factor`` is given and the bloc can make c;
- V_mcts ≥ 0 disposal, where ``disposal_cost_usd_per_t`` is given;
- 0 ≤ H_mcts ≤ demand_mcts shortage, where a shortage penalty applies (commodity's, else settings).

    Σ_m I_mxcts ≤ max_tpa_xc · avail_xcts            (suppliers with a finite max_tpa)
    Σ_m X_mcts ≤ Σ_p y_pc Q_pts                      (only bloc output leaves the bloc)

Balance: + I + H at m; − X − V at m.
Costs: δ_t · P_xcts · I (imports); δ_t · disposal_c · V (disposal);
δ_t · penalty_c · H (shortage); − δ_t · P_cts · factor_c · X (export revenue).
In ``market`` mode also δ_t · T_xcts · I (tariffs paid by the importer); in
``resource`` mode tariffs are a transfer inside the bloc and only reported.

Registers: ``concern_in[(m,c,t,s)]`` (imports from countries of concern),
``tariff_terms`` (T · I per member, for the fiscal report), ``H``, ``V``.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import islice

from planner.model.context import MUSD, Ctx
from planner.model.prepare import _nn

PROVIDES = ('I', 'X', 'V', 'H', 'concern_in', 'tariff_terms')
READS = ('output',)


def add(ctx: Ctx) -> None:
    d = ctx.d
    market = d.settings["objective"] == "market"
    ctx.concern_in = defaultdict(list)
    ctx.tariff_terms = []  # (m, t, s, coef USD/t, var)
    # imports
    idx, caprows, info = [], {}, []
    for x in d.suppliers:
        key = (x["supplier"], x["commodity"])
        if key not in d.sprice:
            continue
        av = d.avail(*key).tolist()
        for si, s in enumerate(d.scen):
            for ti, t in enumerate(d.years):
                a = av[si][ti]
                if a <= 0:
                    continue
                idx += [(m, key[0], key[1], t, s) for m in d.members]
                info.append((x, si, ti, a))
    I = ctx.var("imports", idx, ops=True)
    ctx.I = I
    cols = iter(I.values())  # in the order of idx: supplier, scenario, year, member
    costs, tariff_terms, concern_in = ctx.costs, ctx.tariff_terms, ctx.concern_in
    members = d.members
    grids = {}
    for x, si, ti, a in info:
        s, t, c, name = d.scen[si], d.years[ti], x["commodity"], x["supplier"]
        price = d.delta[ti] * d.sprice[(name, c)][si, ti] * MUSD
        tar = d.tariff[(name, c)][si, ti]
        g = grids.get(c)
        if g is None:
            g = grids[c] = [ctx.balance_grid(m, c) for m in members]
        vs = list(islice(cols, len(members)))
        terms = [(1.0, v) for v in vs]
        for gm, term in zip(g, terms):
            gm[ti][si].append(term)
        if price != 0.0:
            costs += [(s, m, "imports", price, v) for m, v in zip(members, vs)]  # as ctx.cost, inlined
        if tar != 0.0:
            tariff_terms += [(m, t, s, tar, v) for m, v in zip(members, vs)]
            if market:
                for m, v in zip(members, vs):
                    ctx.cost(s, m, "tariffs", d.delta[ti] * tar * MUSD, v)
        if x["country_of_concern"]:
            for m, term in zip(members, terms):
                concern_in[(m, c, t, s)].append(term)
        cap = _nn(x["max_tpa"])
        if cap is not None:
            caprows[(name, c, t, s)] = (terms, "<=", float(cap) * a)
    ctx.add_rows("supplier_limit", caprows)

    # exports, disposal
    present = present_commodities(ctx)
    xi, vi = [], []
    for c, row in d.commodities.items():
        if _nn(row["export_price_factor"]) is not None and c in d.price and any(
                ctx.output.get((c, t, s)) for t in d.years for s in d.scen):
            xi += [(m, c, t, s) for m in d.members for t in d.years for s in d.scen]
        if _nn(row["disposal_cost_usd_per_t"]) is not None and c in present:
            vi += [(m, c, t, s) for m in d.members for t in d.years for s in d.scen]
    X = ctx.var("exports", xi, ops=True)
    V = ctx.var("disposal", vi, ops=True)
    ctx.X, ctx.V = X, V
    xrows = defaultdict(lambda: ([], "<=", 0.0))
    costs = ctx.costs
    sidx = {s: i for i, s in enumerate(d.scen)}
    y0, delta = d.years[0], d.delta
    xf = {c: -float(d.commodities[c]["export_price_factor"]) * MUSD for c in {k[1] for k in xi}}
    xp = {c: d.price[c].tolist() for c in xf}
    lm = lc = None
    for (m, c, t, s), v in X.items():  # grouped by (c, m): look the balance grid up once per group
        if m is not lm or c is not lc:
            lm, lc = m, c
            g = ctx.balance_grid(m, c)
            pc, fc = xp[c], xf[c]
            xr = [[xrows[(c, tt, ss)][0] for ss in d.scen] for tt in d.years]
        ti, si = t - y0, sidx[s]
        g[ti][si].append((-1.0, v))
        rev = delta[ti] * pc[si][ti] * fc
        if rev != 0.0:
            costs.append((s, m, "export_revenue", rev, v))  # as ctx.cost, inlined
        xr[ti][si].append((1.0, v))
    for key, (terms, _, _) in xrows.items():
        terms.extend((-y, q) for y, q in ctx.output[key])
    ctx.add_rows("export_limit", dict(xrows))
    dc = {c: float(d.commodities[c]["disposal_cost_usd_per_t"]) * MUSD for c in {k[1] for k in vi}}
    lm = lc = None
    for (m, c, t, s), v in V.items():
        if m is not lm or c is not lc:
            lm, lc = m, c
            g = ctx.balance_grid(m, c)
        ti = t - y0
        g[ti][sidx[s]].append((-1.0, v))
        if dc[c]:
            costs.append((s, m, "disposal", delta[ti] * dc[c], v))  # as ctx.cost, inlined

    # shortage
    hi, ub = [], []
    for (m, c), dem in d.demand.items():
        pen = d.penalty(c) if c in d.commodities else None
        if pen is None:
            continue
        dl = dem.tolist()
        for si, s in enumerate(d.scen):
            for ti, t in enumerate(d.years):
                if dl[si][ti] > 0:
                    hi.append((m, c, t, s))
                    ub.append(dl[si][ti])
    ubs = dict(zip(hi, ub))
    H = ctx.var("shortage", hi, bounds=lambda k: (0.0, ubs[k]), ops=True)
    ctx.H = H
    pens = {c: float(d.penalty(c)) * MUSD for c in {k[1] for k in hi}}
    lm = lc = None
    for (m, c, t, s), v in H.items():
        if m is not lm or c is not lc:
            lm, lc = m, c
            g = ctx.balance_grid(m, c)
        ti = t - y0
        g[ti][sidx[s]].append((1.0, v))
        if pens[c]:
            costs.append((s, m, "shortage", delta[ti] * pens[c], v))  # as ctx.cost, inlined


def present_commodities(ctx: Ctx) -> set:
    """Commodities that can physically exist in the bloc (made, bought, contracted or stocked)."""
    d = ctx.d
    out = {c for (c, _, _) in ctx.output}
    out |= {x["commodity"] for x in d.suppliers}
    out |= {o["commodity"] for o in d.offtakes}
    out |= {s["commodity"] for s in d.stockpiles if (s["initial_stock_t"] or 0) > 0}
    return out


def report(ctx: Ctx, sol) -> dict:
    """Imports, exports, disposal and shortage are balance terms: reported in ``supply`` by the balance."""
    return {}
