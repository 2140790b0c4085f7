"""Supply security targets and anti-circumvention (SPEC §3 "Security").

For every row of the ``security`` sheet, each filled target, every scenario s
and year t in from_year … to_year; member blank ⇒ sums over all members M_r:

    consumption = Σ_{m∈M_r} (demand_mcts + Σ_{p at m, i_p=c} a_p Q_pts)
    max_concern_share:  Σ_{m∈M_r} (Σ_{x of concern} I_mxcts + Σ_{o of concern, buyer m} D_ots) ≤ share · consumption
    min_stock_days:     Σ_{m∈M_r} L_mcts ≥ days/365 · consumption   (only when c is not disrupted in (s, t))
    min_domestic_share: Σ_{m∈M_r} Σ_p y_pc Q_pts ≥ share · consumption
    max_shortage_share: Σ_{m∈M_r} H_mcts ≤ share · Σ_{m∈M_r} demand_mcts

Anti-circumvention (when the setting is TRUE), for every (m, c, t, s) with
imports or offtakes from a country of concern:

    Σ_{x of concern} I_mxcts + Σ_{o of concern, buyer m} D_ots ≤ demand_mcts + Σ_{p at m, i_p=c} a_p Q_pts + U_mcts

In the elastic re-solve each target may give by a penalised slack (tonnes).
``ctx.security_rows`` describes every row for the results' ``security`` sheet.
"""
from __future__ import annotations

import numpy as np

from planner.model.context import TOL, Ctx, Slack, column_values, node_prices, scenario_weights, tidy

KINDS = ("max_concern_share", "min_stock_days", "min_domestic_share", "max_shortage_share")


PROVIDES = ('security_rows',)
READS = ('input_use', 'concern_in', 'output_m', 'L', 'U', 'H')


class _ByCommodity:
    """Terms (mi, ci, ti, si, cols, coefs) grouped by commodity: ``of(c)`` gives the positions of c's terms, in
    their order."""

    def __init__(self, arrays):
        self.a = arrays
        ci = arrays[1]
        self.order = np.argsort(ci, kind="stable")
        self.sorted = ci[self.order]

    def of(self, cid):
        if cid is None:
            return self.order[:0]
        lo, hi = np.searchsorted(self.sorted, [cid, cid + 1])
        return self.order[lo:hi]


def _var_terms(ctx: Ctx, var) -> tuple:
    """Variables keyed (m, c, t, s) as terms of coefficient 1."""
    mi, ci, ti, si, cols = ctx.var_arrays(var)
    return mi, ci, ti, si, cols, np.ones(len(cols))


class _Block:
    """The rows of one (security sheet row, target): one per (scenario, year) with terms, as arrays."""

    __slots__ = ("sheet_row", "kind", "member", "commodity", "limit", "keys", "rows", "demand", "lhs", "use")


def add(ctx: Ctx) -> None:
    """The rows by array arithmetic over the (scenario, year) cells of each sheet row and target; the registers
    (imports and offtakes of concern, own output, input use, stock levels, shortage) are read as arrays."""
    d = ctx.d
    nT, S = d.nT, d.S
    reg = {"concern": _ByCommodity(ctx.term_arrays(ctx.concern_in)),
           "use": _ByCommodity(ctx.term_arrays(ctx.input_use)),
           "own": _ByCommodity(ctx.term_arrays(ctx.output_m)),
           "L": _ByCommodity(_var_terms(ctx, ctx.L)),
           "H": _ByCommodity(_var_terms(ctx, ctx.H))}
    lhs_of = {"max_concern_share": "concern", "min_stock_days": "L", "min_domestic_share": "own",
              "max_shortage_share": "H"}
    cid = ctx.__dict__.get("_cid", {})
    mid = ctx.__dict__.get("_mid", {})
    blocks, R, C, V, lo, hi, slack_info, senses = [], [], [], [], [], [], {}, []
    nrow = 0
    for ri, r in enumerate(d.security):
        c = r["commodity"]
        members = d.members if r["member"] is None else [r["member"]]
        one = None if r["member"] is None else mid.get(r["member"], -1)
        tr = d.year_range(r["from_year"], r["to_year"])
        nTr = len(tr)
        if not nTr:
            continue
        tpos = np.full(nT, -1, dtype=np.int64)
        tpos[tr.start:tr.stop] = np.arange(nTr)
        dem = d.demand_of(members, c)[:, tr.start:tr.stop].ravel()  # per cell: scenario, then year
        disrupted = d.disrupted(c)[:, tr.start:tr.stop].ravel()

        def cells(name):
            """(cell, column, coefficient) of the terms of register ``name`` for this row's commodity, members
            and years; the cell is scenario · nTr + the year's position."""
            g = reg[name]
            mi, _ci, ti, si, cols, coefs = g.a
            k = g.of(cid.get(c))
            if one is not None:
                k = k[mi[k] == one]
            k = k[tpos[ti[k]] >= 0]
            return si[k] * nTr + tpos[ti[k]], cols[k], coefs[k]

        for kind in KINDS:
            val = r[kind]
            if val is None:
                continue
            scale = val / 365.0 if kind == "min_stock_days" else val  # days of consumption, or a share of it
            sense = "<=" if kind in ("max_concern_share", "max_shortage_share") else ">="
            rhs = scale * dem
            live = ~disrupted if kind == "min_stock_days" else np.ones(S * nTr, dtype=bool)
            lc, lcol, lv = cells(lhs_of[kind])
            uc, ucol, ua = cells("use")  # a_p · Q: consumption's input use (the report's consumption)
            b_use = (uc, ucol, ua)
            if kind == "max_shortage_share":  # a share of demand: input use is not in the row
                uc, ucol, ua = uc[:0], ucol[:0], ua[:0]
            uv = -scale * ua  # − share · a_p · Q
            has = np.zeros(S * nTr, dtype=bool)
            has[lc] = True
            has[uc] = True
            has &= live
            empty = np.flatnonzero(live & ~has & ((rhs > 1e-9) if sense == ">=" else (rhs < -1e-9)))
            for j in empty.tolist():
                t, s_ = d.years[tr.start + j % nTr], d.scen[j // nTr]
                ctx.structural.append((Slack(kind, "t", r["member"], c, t, s_,
                                             f"security row {r['_row']}: nothing can count towards it"),
                                       abs(float(rhs[j]))))
            kept = np.flatnonzero(has)
            if not len(kept):
                continue
            local = np.full(S * nTr, -1, dtype=np.int64)
            local[kept] = np.arange(len(kept))
            lk, uk = live[lc], live[uc]
            b = _Block()
            b.sheet_row, b.kind, b.member, b.commodity, b.limit = r["_row"], kind, r["member"] or "(bloc)", c, val
            b.keys = [(ri, kind, d.years[tr.start + j % nTr], d.scen[j // nTr]) for j in kept.tolist()]
            b.demand = dem[kept]
            b.lhs = (local[lc[lk]], lcol[lk], lv[lk])
            ku = local[b_use[0]] >= 0
            b.use = (local[b_use[0][ku]], b_use[1][ku], b_use[2][ku])
            blocks.append(b)
            R += [nrow + b.lhs[0], nrow + local[uc[uk]]]
            C += [b.lhs[1], ucol[uk]]
            V += [b.lhs[2], uv[uk]]
            lo.append(np.full(len(kept), -np.inf) if sense == "<=" else rhs[kept])
            hi.append(rhs[kept] if sense == "<=" else np.full(len(kept), np.inf))
            senses += [sense] * len(kept)
            if ctx.elastic:
                for k in b.keys:
                    slack_info[k] = Slack(kind, "t", r["member"], c, k[2], k[3], f"security row {r['_row']}")
            nrow += len(kept)
    keys = [k for b in blocks for k in b.keys]
    if ctx.elastic and slack_info:
        sv = ctx.cols_of(ctx.slack_vars("security", slack_info, ops=True))
        R.append(np.arange(nrow))
        C.append(sv)
        V.append(np.where(np.array(senses) == "<=", -1.0, 1.0))
    if keys:
        cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt)
        comp = ctx.sink.add_rows_arrays("security", keys, cat(R, np.int64), cat(C, np.int64), cat(V, float),
                                        cat(lo, float), cat(hi, float))
    else:
        comp = ctx.add_rows("security", {})
    for b in blocks:
        b.rows = [comp[k] for k in b.keys]
    ctx.security_rows = blocks

    if d.settings["anti_circumvention"]:
        _anti_circumvention(ctx)


def _anti_circumvention(ctx: Ctx) -> None:
    """Σ concern imports and offtakes ≤ demand + input use + stock fill, per (m, c, t, s) with concern terms, rows
    in the order their keys were first given terms."""
    d = ctx.d
    nT, S = d.nT, d.S
    mi, ci, ti, si, cols, coefs = ctx.term_arrays(ctx.concern_in)
    if not len(cols):
        ctx.add_rows("anti_circumvention", {})
        return
    mn, cn = ctx.member_names, ctx.commodity_names
    NC = len(cn)

    def code(mi, ci, ti, si):
        return ((mi * NC + ci) * nT + ti) * S + si

    cc = code(mi, ci, ti, si)
    uniq, first, inv = np.unique(cc, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)  # sorted key -> row (first-seen order)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    R, Cs, Vs = [rank[inv.ravel()]], [cols], [coefs]
    for arrays, sign in ((ctx.term_arrays(ctx.input_use), -1.0), (_var_terms(ctx, ctx.U), -1.0)):
        umi, uci, uti, usi, ucols, ucoef = arrays
        if not len(ucols):
            continue
        uc = code(umi, uci, uti, usi)
        pos = np.searchsorted(uniq, uc)
        hit = np.flatnonzero((pos < len(uniq)) & (uniq[np.minimum(pos, len(uniq) - 1)] == uc))
        R.append(rank[pos[hit]])
        Cs.append(ucols[hit])
        Vs.append(sign * ucoef[hit])
    # right-hand sides: demand at each key
    keys_sorted = uniq[np.argsort(rank)]  # in row order
    km, kc = keys_sorted // (S * nT * NC), keys_sorted // (S * nT) % NC
    kt, ks = keys_sorted // S % nT, keys_sorted % S
    rhs = np.zeros(len(uniq))
    for j, (m, c) in enumerate(zip(km.tolist(), kc.tolist())):
        dm = d.demand.get((mn[m], cn[c]))
        if dm is not None:
            rhs[j] = dm[ks[j], kt[j]]
    years, scen = d.years, d.scen
    keys = [(mn[m], cn[c], years[t], scen[s]) for m, c, t, s in zip(km.tolist(), kc.tolist(), kt.tolist(),
                                                                    ks.tolist())]
    ctx.sink.add_rows_arrays("anti_circumvention", keys, np.concatenate(R), np.concatenate(Cs), np.concatenate(Vs),
                             np.full(len(keys), -np.inf), rhs)


def report(ctx: Ctx, sol) -> dict:
    """``security``: every target's limit, achieved value and shadow price.

    max_concern_share: the constraint counts every tonne bought from countries of concern, stock fill
    included (SPEC §3); the report gives the share of consumption met from them,
    min(concern imports, consumption) / consumption (never above 100 %), and separately the tonnes
    imported beyond consumption.  A share or cover of zero consumption is blank, not 0 (a 0 would read
    as a missed minimum).  Shadow prices are per node of the scenario tree (see ``node_prices``).
    """
    rows = []
    prices = node_prices(ctx, sol, {k: con for b in ctx.security_rows for k, con in zip(b.keys, b.rows)},
                         scenario_weights(ctx, sol))
    for b in ctx.security_rows:
        n = len(b.keys)
        lr, lcol, lv = b.lhs
        ur, ucol, uv = b.use
        lhs_v = np.bincount(lr, weights=lv * column_values(ctx, sol, lcol), minlength=n)
        cons_v = b.demand + np.bincount(ur, weights=uv * column_values(ctx, sol, ucol), minlength=n)
        kind = b.kind
        for i, key in enumerate(b.keys):
            lhs, cons, dem = float(lhs_v[i]), float(cons_v[i]), float(b.demand[i])
            beyond = float("nan")
            if kind == "min_stock_days":
                achieved = lhs / cons * 365.0 if cons > TOL else float("nan")
                target_t = b.limit / 365.0 * cons
            elif kind == "max_shortage_share":
                achieved = lhs / dem if dem > TOL else float("nan")
                target_t = b.limit * dem
            else:
                target_t = b.limit * cons
                if kind == "max_concern_share":
                    achieved = min(lhs, cons) / cons if cons > TOL else float("nan")
                    beyond = tidy(max(0.0, lhs - cons))
                else:
                    achieved = lhs / cons if cons > TOL else float("nan")
            sp = prices[key]
            binding = abs(lhs - target_t) <= 1e-6 * max(1.0, abs(target_t))
            rows.append((b.sheet_row, kind, b.member, b.commodity, key[2], key[3], b.limit, achieved, tidy(lhs),
                         tidy(target_t), tidy(cons), beyond, binding, tidy(abs(sp)) if sp == sp else sp))
    return {"security": rows}
