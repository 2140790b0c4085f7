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


import numpy as np

from planner.model.context import MUSD, Ctx
from planner.model.prepare import _nn

PROVIDES = ('I', 'X', 'V', 'H', 'concern_in', 'tariff_terms')
READS = ('output_m',)


def _costs(ctx: Ctx, scen_idx, members, category: str, coefs, cols, keep) -> None:
    """The cost terms (scenario, member, category, coef, variable) of the entries ``keep`` (as ctx.cost);
    ``members``: (names, codes) of every entry."""
    names, codes = members
    ctx.add_cost_arrays(scen_idx[keep], (names, codes[keep]), category, coefs[keep], cols[keep])


def add(ctx: Ctx) -> None:
    """By array arithmetic over blocks of members: one block per (supplier, scenario, year) of imports,
    per (commodity, member) of exports, disposal and shortage."""
    d = ctx.d
    market = d.settings["objective"] == "market"
    ctx.tariff_terms = []  # (m, t, s, coef USD/t, var)
    members = d.members
    nM, nT, S = len(members), d.nT, d.S
    mem = np.array(members, dtype=object)
    mids = np.array([ctx.member_index(m) for m in members], dtype=np.int64)
    delta = np.asarray(d.delta, dtype=float)
    # imports: blocks (supplier row, scenario, year) where the supplier is available, members inside
    blocks = []  # (supplier row, si array, ti array, availability array)
    for x in d.suppliers:
        key = (x["supplier"], x["commodity"])
        if key not in d.sprice:
            continue
        av = np.asarray(d.avail(*key), dtype=float)
        sj, tj = np.nonzero(av > 0)  # scenario-major
        if not len(sj):
            continue
        blocks.append((x, sj, tj, av[sj, tj]))
    # the variables: blocks (supplier row, scenario, year), the members inside; key (m, x, c, t, s)
    nb = np.array([len(b[1]) for b in blocks], dtype=np.int64)
    B = int(nb.sum())
    xrow = np.repeat(np.arange(len(blocks)), nb)
    bsi = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, np.int64)
    bti = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0, np.int64)
    heads = [(m, b[0]["supplier"], b[0]["commodity"]) for b in blocks for m in members]
    I = ctx.var_ops_sparse("imports", heads, (np.repeat(xrow, nM) * nM + np.tile(np.arange(nM), B)),
                           np.repeat(bti, nM), np.repeat(bsi, nM))
    ctx.I = I
    if blocks:
        cols = ctx.cols_of(I)  # supplier, scenario, year, member
        bav = np.concatenate([b[3] for b in blocks])
        bci = np.array([ctx.commodity_index(b[0]["commodity"]) for b in blocks])[xrow]
        price = np.concatenate([delta[b[2]] * d.sprice[(b[0]["supplier"], b[0]["commodity"])][b[1], b[2]]
                                for b in blocks]) * MUSD
        tar = np.concatenate([np.asarray(d.tariff[(b[0]["supplier"], b[0]["commodity"])], dtype=float)[b[1], b[2]]
                              for b in blocks])
        # every term, block-major then member
        esi, eti = np.repeat(bsi, nM), np.repeat(bti, nM)
        ctx.balance_add(np.tile(mids, B), np.repeat(bci, nM), eti, esi, cols, 1.0)
        emem = np.tile(mem, B)
        eblk = np.repeat(np.arange(B), nM)
        # costs in the order of the per-block loop: a block's import costs, then its tariffs (market mode)
        ep, et = np.repeat(price, nM), np.repeat(tar, nM)
        ki = np.flatnonzero(ep != 0.0)
        # entries: (position, category, coefficient) of the import costs, then of the tariffs (market mode)
        pos, cat, coef = [ki], [np.full(len(ki), "imports", dtype=object)], [ep[ki]]
        order_key = [eblk[ki]]
        kt = np.flatnonzero(et != 0.0)
        if len(kt):
            scen = np.array(d.scen, dtype=object)
            years = np.array(d.years, dtype=object)
            ctx.tariff_terms += list(zip(emem[kt].tolist(), years[eti[kt]].tolist(), scen[esi[kt]].tolist(),
                                         et[kt].tolist(), ctx.sink.handles(cols[kt])))
            if market:
                tc = delta[eti] * et * MUSD
                kc = np.flatnonzero((et != 0.0) & (tc != 0.0))
                pos.append(kc)
                cat.append(np.full(len(kc), "tariffs", dtype=object))
                coef.append(tc[kc])
                order_key.append(eblk[kc])
        pos, cat, coef = np.concatenate(pos), np.concatenate(cat), np.concatenate(coef)
        if len(order_key) > 1:  # the interleaving by block of the per-block loop (stable: imports before tariffs)
            o = np.argsort(np.concatenate(order_key), kind="stable")
            pos, cat, coef = pos[o], cat[o], coef[o]
        ctx.add_cost_arrays(esi[pos], (mem, pos % nM), cat if len(order_key) > 1 else "imports", coef, cols[pos])
        # imports from countries of concern (a register the security rows read)
        concern = np.repeat(np.array([bool(b[0]["country_of_concern"]) for b in blocks])[xrow], nM)
        kc = np.flatnonzero(concern)
        if len(kc):
            ctx.terms_add(ctx.concern_in, np.tile(mids, B)[kc], np.repeat(bci, nM)[kc], eti[kc], esi[kc], cols[kc], 1.0)
        # supplier limits: Σ_m I ≤ max_tpa · availability, per block of a supplier with a finite max_tpa
        capb = np.array([_nn(b[0]["max_tpa"]) is not None for b in blocks])[xrow]
        if capb.any():
            sel = np.flatnonzero(capb)
            capv = np.array([float(_nn(b[0]["max_tpa"]) or 0.0) for b in blocks])[xrow]
            keys = [(blocks[int(xr)][0]["supplier"], blocks[int(xr)][0]["commodity"], d.years[int(t)], d.scen[int(s)])
                    for xr, t, s in zip(xrow[sel].tolist(), bti[sel].tolist(), bsi[sel].tolist())]
            row = np.repeat(np.arange(len(sel)), nM)
            tcols = cols.reshape(B, nM)[sel].ravel()
            hi = capv[sel] * bav[sel]
            ctx.sink.add_rows_arrays("supplier_limit", keys, row, tcols, np.ones(len(tcols)),
                                     np.full(len(sel), -np.inf), hi)
        else:
            ctx.add_rows("supplier_limit", {})
    else:
        ctx.add_rows("supplier_limit", {})

    # exports, disposal
    present = present_commodities(ctx)
    made = made_commodities(ctx)
    xc, vc = [], []
    for c, row in d.commodities.items():
        if _nn(row["export_price_factor"]) is not None and c in d.price and c in made:
            xc.append(c)
        if _nn(row["disposal_cost_usd_per_t"]) is not None and c in present:
            vc.append(c)
    yrs = np.arange(d.nT)
    X = ctx.var_ops_rows("exports", [(m, c) for c in xc for m in members for _t in yrs], np.tile(yrs, len(xc) * nM))
    V = ctx.var_ops_rows("disposal", [(m, c) for c in vc for m in members for _t in yrs], np.tile(yrs, len(vc) * nM))
    ctx.X, ctx.V = X, V
    per = nM * nT * S  # entries per commodity, member-major, then year, scenario
    gm = np.repeat(np.arange(nM), nT * S)
    gt = np.tile(np.repeat(np.arange(nT), S), nM)
    gs = np.tile(np.arange(S), nM * nT)
    if xc:
        cols = ctx.cols_of(X)
        n = len(xc)
        ci = np.repeat([ctx.commodity_index(c) for c in xc], per)
        ti, si, mm = np.tile(gt, n), np.tile(gs, n), np.tile(gm, n)
        ctx.balance_add(mids[mm], ci, ti, si, cols, -1.0)
        fc = np.repeat([-float(d.commodities[c]["export_price_factor"]) * MUSD for c in xc], per)
        P = np.concatenate([np.asarray(d.price[c], dtype=float)[gs, gt] for c in xc])
        rev = delta[ti] * P * fc
        _costs(ctx, si, (mem, mm), "export_revenue", rev, cols, np.flatnonzero(rev != 0.0))
        # Σ_m X_mcts − Σ_p y_pc Q_pts ≤ 0, rows per (c, t, s)
        keys = [(c, t, s) for c in xc for t in d.years for s in d.scen]
        xrow = (np.repeat(np.arange(n), per) * nT + ti) * S + si
        _om, oc, ot, os_, ocol, oy = ctx.term_arrays(ctx.output_m)
        xi = [ctx.commodity_index(c) for c in xc]
        pos = np.full(len(ctx.commodity_names), -1, dtype=np.int64)
        pos[xi] = np.arange(n)
        k = np.flatnonzero(pos[oc] >= 0)
        orow = (pos[oc[k]] * nT + ot[k]) * S + os_[k]
        ctx.sink.add_rows_arrays("export_limit", keys, np.concatenate([xrow, orow]), np.concatenate([cols, ocol[k]]),
                                 np.concatenate([np.ones(len(cols)), -oy[k]]),
                                 np.full(len(keys), -np.inf), np.zeros(len(keys)))
    else:
        ctx.add_rows("export_limit", {})
    if vc:
        cols = ctx.cols_of(V)
        n = len(vc)
        ti, si, mm = np.tile(gt, n), np.tile(gs, n), np.tile(gm, n)
        ctx.balance_add(mids[mm], np.repeat([ctx.commodity_index(c) for c in vc], per), ti, si, cols, -1.0)
        dc = np.repeat([float(d.commodities[c]["disposal_cost_usd_per_t"]) * MUSD for c in vc], per)
        _costs(ctx, si, (mem, mm), "disposal", delta[ti] * dc, cols, np.flatnonzero(dc != 0.0))

    # shortage: 0 ≤ H ≤ demand where a penalty applies
    hheads, hh, hm, hc, ht, hs_, ub, hp = [], [], [], [], [], [], [], []  # per (m, c) with a penalty: its entries
    for (m, c), dem in d.demand.items():
        pen = d.penalty(c) if c in d.commodities else None
        if pen is None:
            continue
        dem = np.asarray(dem, dtype=float)
        sj, tj = np.nonzero(dem > 0)  # scenario-major
        if not len(sj):
            continue
        hh.append(np.full(len(sj), len(hheads)))
        hheads.append((m, c))
        hm.append(ctx.member_index(m))
        hc.append(ctx.commodity_index(c))
        hp.append(float(pen) * MUSD)
        ht.append(tj)
        hs_.append(sj)
        ub.append(dem[sj, tj])
    cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
    hh, ti, si = cat(hh, np.int64), cat(ht, np.int64), cat(hs_, np.int64)
    H = ctx.var_ops_sparse("shortage", hheads, hh, ti, si, lo=np.zeros(len(hh)), hi=cat(ub, float))
    ctx.H = H
    if len(hh):
        cols = ctx.cols_of(H)
        ctx.balance_add(np.asarray(hm, dtype=np.int64)[hh], np.asarray(hc, dtype=np.int64)[hh], ti, si, cols, 1.0)
        pc = np.asarray(hp)[hh]
        hnames = np.array([h[0] for h in hheads], dtype=object)
        _costs(ctx, si, (hnames, hh), "shortage", delta[ti] * pc, cols, np.flatnonzero(pc != 0.0))


def made_commodities(ctx: Ctx) -> set:
    """Commodities some process of the bloc can make (main output or coproduct)."""
    ci = ctx.term_arrays(ctx.output_m)[1]
    names = ctx.__dict__.get("commodity_names", [])
    return {names[i] for i in np.unique(ci).tolist()}


def present_commodities(ctx: Ctx) -> set:
    """Commodities that can physically exist in the bloc (made, bought, contracted or stocked)."""
    d = ctx.d
    out = made_commodities(ctx)
    out |= {x["commodity"] for x in d.suppliers}
    out |= {o["commodity"] for o in d.offtakes}
    out |= {s["commodity"] for s in d.stockpiles if (s["initial_stock_t"] or 0) > 0}
    return out


def report(ctx: Ctx, sol) -> dict:
    """Imports, exports, disposal and shortage are balance terms: reported in ``supply`` by the balance."""
    return {}
