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

import numpy as np

from .context import MUSD, Ctx
from .prepare import _nn


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
        av = d.avail(*key)
        for si, s in enumerate(d.scen):
            for ti, t in enumerate(d.years):
                if av[si, ti] <= 0:
                    continue
                for m in d.members:
                    idx.append((m, x["supplier"], x["commodity"], t, s))
                info.append((x, si, ti, av[si, ti]))
    I = ctx.var("imports", idx)
    ctx.I = I
    for x, si, ti, a in info:
        s, t, c, name = d.scen[si], d.years[ti], x["commodity"], x["supplier"]
        price = d.sprice[(name, c)][si, ti]
        tar = d.tariff[(name, c)][si, ti]
        terms = []
        for m in d.members:
            v = I[m, name, c, t, s]
            terms.append((1.0, v))
            ctx.balance[(m, c, t, s)].append((1.0, v))
            ctx.cost(s, m, "imports", d.delta[ti] * price * MUSD, v)
            if tar != 0.0:
                ctx.tariff_terms.append((m, t, s, tar, v))
                if market:
                    ctx.cost(s, m, "tariffs", d.delta[ti] * tar * MUSD, v)
            if x["country_of_concern"]:
                ctx.concern_in[(m, c, t, s)].append((1.0, v))
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
    X = ctx.var("exports", xi)
    V = ctx.var("disposal", vi)
    ctx.X, ctx.V = X, V
    xrows = defaultdict(lambda: ([], "<=", 0.0))
    for (m, c, t, s) in xi:
        ti, si = d.tix(t), d.scen.index(s)
        f = float(d.commodities[c]["export_price_factor"])
        ctx.balance[(m, c, t, s)].append((-1.0, X[m, c, t, s]))
        ctx.cost(s, m, "export_revenue", -d.delta[ti] * d.price[c][si, ti] * f * MUSD, X[m, c, t, s])
        xrows[(c, t, s)][0].append((1.0, X[m, c, t, s]))
    for key, (terms, _, _) in xrows.items():
        terms.extend((-y, q) for y, q in ctx.output[key])
    ctx.add_rows("export_limit", dict(xrows))
    for (m, c, t, s) in vi:
        ti = d.tix(t)
        ctx.balance[(m, c, t, s)].append((-1.0, V[m, c, t, s]))
        ctx.cost(s, m, "disposal", d.delta[ti] * float(d.commodities[c]["disposal_cost_usd_per_t"]) * MUSD,
                 V[m, c, t, s])

    # shortage
    hi, ub = [], {}
    for (m, c), dem in d.demand.items():
        pen = d.penalty(c) if c in d.commodities else None
        if pen is None:
            continue
        for si, s in enumerate(d.scen):
            for ti, t in enumerate(d.years):
                if dem[si, ti] > 0:
                    hi.append((m, c, t, s))
                    ub[(m, c, t, s)] = dem[si, ti]
    H = ctx.var("shortage", hi, bounds=lambda k: (0.0, ub[k]))
    ctx.H = H
    for (m, c, t, s) in hi:
        ti = d.tix(t)
        ctx.balance[(m, c, t, s)].append((1.0, H[m, c, t, s]))
        ctx.cost(s, m, "shortage", d.delta[ti] * float(d.penalty(c)) * MUSD, H[m, c, t, s])


def present_commodities(ctx: Ctx) -> set:
    """Commodities that can physically exist in the bloc (made, bought, contracted or stocked)."""
    d = ctx.d
    out = {c for (c, _, _) in ctx.output}
    out |= {x["commodity"] for x in d.suppliers}
    out |= {o["commodity"] for o in d.offtakes}
    out |= {s["commodity"] for s in d.stockpiles if (s["initial_stock_t"] or 0) > 0}
    return out
