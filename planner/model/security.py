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

from planner.model.context import TOL, Ctx, Slack, node_prices, scenario_weights, tidy

KINDS = ("max_concern_share", "min_stock_days", "min_domestic_share", "max_shortage_share")


PROVIDES = ('security_rows',)
READS = ('input_use', 'concern_in', 'output_m', 'L', 'U', 'H')


def add(ctx: Ctx) -> None:
    d = ctx.d
    rows, slack_info, meta = {}, {}, {}
    for ri, r in enumerate(d.security):
        c = r["commodity"]
        members = d.members if r["member"] is None else [r["member"]]
        disrupted = d.disrupted(c)
        for kind in KINDS:
            val = r[kind]
            if val is None:
                continue
            for si, s in enumerate(d.scen):
                for ti in d.year_range(r["from_year"], r["to_year"]):
                    t = d.years[ti]
                    dem = sum(d.demand[(m, c)][si, ti] for m in members if (m, c) in d.demand)
                    use = [tm for m in members for tm in ctx.input_use.get((m, c, t, s), [])]
                    if kind == "max_concern_share":
                        lhs = [tm for m in members for tm in ctx.concern_in.get((m, c, t, s), [])]
                        terms = lhs + [(-val * a, q) for a, q in use]
                        sense, rhs, limit = "<=", val * dem, val
                    elif kind == "min_stock_days":
                        if disrupted[si, ti]:
                            continue
                        f = val / 365.0
                        lhs = [(1.0, ctx.L[(m, c, t, s)]) for m in members if (m, c, t, s) in ctx.L]
                        terms = lhs + [(-f * a, q) for a, q in use]
                        sense, rhs, limit = ">=", f * dem, val
                    elif kind == "min_domestic_share":
                        lhs = [tm for m in members for tm in ctx.output_m.get((m, c, t, s), [])]
                        terms = lhs + [(-val * a, q) for a, q in use]
                        sense, rhs, limit = ">=", val * dem, val
                    else:
                        lhs = [(1.0, ctx.H[(m, c, t, s)]) for m in members if (m, c, t, s) in ctx.H]
                        terms = lhs
                        sense, rhs, limit = "<=", val * dem, val
                    key = (ri, kind, t, s)
                    if not terms:
                        if (sense == ">=" and rhs > 1e-9) or (sense == "<=" and rhs < -1e-9):
                            ctx.structural.append((Slack(kind, "t", r["member"], c, t, s,
                                                         f"security row {r['_row']}: nothing can count towards it"),
                                                   abs(rhs)))
                        continue
                    rows[key] = (terms, sense, rhs)
                    meta[key] = dict(sheet_row=r["_row"], kind=kind, member=r["member"] or "(bloc)", commodity=c,
                                     year=t, scenario=s, limit=limit, lhs=lhs, use=use, demand=dem)
                    if ctx.elastic:
                        slack_info[key] = Slack(kind, "t", r["member"], c, t, s, f"security row {r['_row']}")
    if ctx.elastic and slack_info:
        sv = ctx.slack_vars("security", slack_info, ops=True)
        for k in slack_info:
            terms, sense, rhs = rows[k]
            terms.append((-1.0 if sense == "<=" else 1.0, sv[k]))
    comp = ctx.add_rows("security", rows)
    ctx.security_rows = [(k, meta[k], comp[k]) for k in rows]

    if not d.settings["anti_circumvention"]:
        return
    ac = {}
    for (m, c, t, s), terms in ctx.concern_in.items():
        if not terms:
            continue
        si, ti = d.scen.index(s), d.tix(t)
        dem = d.demand[(m, c)][si, ti] if (m, c) in d.demand else 0.0
        rhs_terms = [(-a, q) for a, q in ctx.input_use.get((m, c, t, s), [])]
        if (m, c, t, s) in ctx.U:
            rhs_terms.append((-1.0, ctx.U[(m, c, t, s)]))
        ac[(m, c, t, s)] = (list(terms) + rhs_terms, "<=", dem)
    ctx.add_rows("anti_circumvention", ac)


def report(ctx: Ctx, sol) -> dict:
    """``security``: every target's limit, achieved value and shadow price.

    max_concern_share: the constraint counts every tonne bought from countries of concern, stock fill
    included (SPEC §3); the report gives the share of consumption met from them,
    min(concern imports, consumption) / consumption (never above 100 %), and separately the tonnes
    imported beyond consumption.  A share or cover of zero consumption is blank, not 0 (a 0 would read
    as a missed minimum).  Shadow prices are per node of the scenario tree (see ``node_prices``).
    """
    xval = sol.value_of()
    rows = []
    prices = node_prices(ctx, sol, {k: con for k, _meta, con in ctx.security_rows}, scenario_weights(ctx, sol))
    for key, meta, con in ctx.security_rows:
        lhs = sum(a * xval(v) for a, v in meta["lhs"])
        cons = meta["demand"] + sum(a * xval(v) for a, v in meta["use"])
        kind = meta["kind"]
        beyond = float("nan")
        if kind == "min_stock_days":
            achieved = lhs / cons * 365.0 if cons > TOL else float("nan")
            target_t = meta["limit"] / 365.0 * cons
        elif kind == "max_shortage_share":
            achieved = lhs / meta["demand"] if meta["demand"] > TOL else float("nan")
            target_t = meta["limit"] * meta["demand"]
        else:
            target_t = meta["limit"] * cons
            if kind == "max_concern_share":
                achieved = min(lhs, cons) / cons if cons > TOL else float("nan")
                beyond = tidy(max(0.0, lhs - cons))
            else:
                achieved = lhs / cons if cons > TOL else float("nan")
        sp = prices[key]
        binding = abs(lhs - target_t) <= 1e-6 * max(1.0, abs(target_t))
        rows.append((meta["sheet_row"], kind, meta["member"], meta["commodity"], meta["year"], meta["scenario"],
                     meta["limit"], achieved, tidy(lhs), tidy(target_t), tidy(cons), beyond, binding,
                     tidy(abs(sp)) if sp == sp else sp))
    return {"security": rows}
