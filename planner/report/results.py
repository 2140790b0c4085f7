"""Solution → the long tables of the results workbook (SPEC §4).

All money in MUSD discounted to base_year; per-scenario figures per
scenario.  Cost tables evaluate exactly the tagged cost terms the objective
was built from, so they add up to the objective.  Shadow prices: balance
duals are reported as marginal supply cost in USD/t, undiscounted and
conditional on the scenario (dual ÷ (π_s · δ_t) · 10^6); security duals the
same way ("price of security", USD per tonne of the target's left-hand side).

``supply`` carries, after the balance terms, one ``imports_from_<supplier>_t``
column per outside supplier: the detail of ``imports_concern_t`` +
``imports_other_t`` (not further balance terms), so the volume bought from a
supplier, Σ over members, can be checked against its max_tpa.  In ``security``
an achieved share or cover of zero consumption is blank.  In ``fiscal``,
``budget_slack_musd`` = budget − the member's share of support (≥ 0 within budget).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from planner.model.context import MUSD, Ctx, key_of
from planner.solve.highs import SolveResult

TOL = 1e-7


def _vals(res: SolveResult, comp) -> dict:
    val = res.value_of()
    return {k: val(v) for k, v in comp.items()}


def _tidy(x: float) -> float:
    return 0.0 if abs(x) < TOL else x


def extract(ctx: Ctx, res: SolveResult) -> dict[str, pd.DataFrame]:
    d = ctx.d
    out = {}
    sidx = {s: i for i, s in enumerate(d.scen)}
    xval = res.value_of()

    def scale(s, t):  # dual (MUSD per unit, expected & discounted) -> USD per unit in scenario s, year t
        w = d.prob[sidx[s]] * d.delta[d.tix(t)]
        return 1.0 / (w * MUSD) if w > 0 else float("nan")

    # ---- costs (member x scenario x category), first stage in every scenario
    acc = defaultdict(float)
    for s, m, cat, coef, v in ctx.costs:
        val = coef * xval(v)
        if val == 0.0:
            continue
        for sc in (d.scen if s is None else [s]):
            acc[(m or "(bloc)", sc, cat)] += val
    out["costs"] = pd.DataFrame([(m, s, c, v) for (m, s, c), v in sorted(acc.items())],
                                columns=["member", "scenario", "category", "cost_musd"])

    # ---- investments
    first_cost = defaultdict(lambda: defaultdict(float))  # variable handle -> category -> MUSD per unit
    for s_, m_, cat_, coef_, var_ in ctx.costs:
        if s_ is None:
            first_cost[key_of(var_)][cat_] += coef_
    rows = []
    for (p, y), v in ctx.B.items():
        b = xval(v)
        if b > TOL:
            proc = ctx.procs[p]
            lead = int(proc["lead_time_years"])
            cap_cost = first_cost[key_of(v)]["capex"]
            rows.append(("process modules", p, proc["member"], proc["output"], y, y + lead, b, "modules",
                         b * float(proc["module_tpa"]), b * cap_cost))
    for (m, c, y), v in ctx.K.items():
        k = xval(v)
        if k > TOL:
            sp = next(x for x in d.stockpiles if x["member"] == m and x["commodity"] == c)
            cap_cost = sum(first_cost[key_of(v)].values())
            rows.append(("stockpile capacity", f"{m}/{c}", m, c, y, y + int(sp["lead_time_years"]), k, "t", k,
                         k * cap_cost))
    for o, v in ctx.Z.items():
        z = xval(v)
        if z > 0.5:
            off = next(x for x in d.offtakes if x["offtake"] == o)
            rows.append(("offtake signed", o, off["member"], off["commodity"], max(off["start_year"], d.years[0]),
                         max(off["start_year"], d.years[0]), 1, "contract", float(off["max_tpa"]),
                         sum(first_cost[key_of(v)].values())))
    out["investments"] = pd.DataFrame(rows, columns=["kind", "item", "member", "commodity", "build_year",
                                                     "online_year", "quantity", "unit", "capacity_added_t",
                                                     "cost_musd"])

    # ---- capacity and production
    qv = _vals(res, ctx.Q)
    rows = []
    for (p, t), (ex, mods) in sorted(ctx.cap.items()):
        proc = ctx.procs[p]
        new = sum(mt * xval(b) for mt, b in mods)
        for s in d.scen:
            q = qv.get((p, t, s), 0.0)
            capt = ex + new
            rows.append((p, proc["member"], proc["output"], t, s, ex, _tidy(new), _tidy(capt),
                         capt * float(proc["availability"]), _tidy(q),
                         q / (capt * float(proc["availability"])) if capt > TOL and float(proc["availability"]) > 0 else 0.0))
    out["capacity"] = pd.DataFrame(rows, columns=["process", "member", "output", "year", "scenario", "existing_tpa",
                                                  "new_tpa", "capacity_tpa", "available_tpa", "production_t",
                                                  "utilisation_share"])

    # ---- offtakes
    dv = _vals(res, ctx.D)
    rows = []
    for o in d.offtakes:
        name = o["offtake"]
        signed = xval(ctx.Z[name]) > 0.5 if name in ctx.Z else False
        for ti in d.year_range(o["start_year"], o["end_year"]):
            t = d.years[ti]
            for si, s in enumerate(d.scen):
                q = dv.get((name, t, s), 0.0)
                price = max(float(o["floor_price_usd_per_t"]), float(d.price[o["commodity"]][si, ti]))
                rows.append((name, o["seller"], o["member"], o["commodity"], signed, t, s, _tidy(q), price,
                             _tidy(q * price * MUSD * d.delta[ti])))
    out["offtakes"] = pd.DataFrame(rows, columns=["offtake", "seller", "member", "commodity", "signed", "year",
                                                  "scenario", "delivered_t", "price_usd_per_t", "cost_musd"])

    # ---- stockpiles
    kv = _vals(res, ctx.K)
    rows = []
    for sp in d.stockpiles:
        m, c = sp["member"], sp["commodity"]
        life, lead = int(sp["lifetime_years"]), int(sp["lead_time_years"])
        for ti, t in enumerate(d.years):
            cap = float(sp["existing_capacity_t"] or 0.0) + sum(
                v for (mm, cc, y), v in kv.items() if mm == m and cc == c and y + lead <= t < y + lead + life)
            for s in d.scen:
                k = (m, c, t, s)
                L, U, W = xval(ctx.L[k]), xval(ctx.U[k]), xval(ctx.W[k])
                rows.append((m, c, t, s, _tidy(cap), _tidy(L), _tidy(U), _tidy(W),
                             _tidy(d.delta[ti] * float(sp["holding_cost_usd_per_t_yr"] or 0) * L * MUSD)))
    out["stockpiles"] = pd.DataFrame(rows, columns=["member", "commodity", "year", "scenario", "capacity_t",
                                                    "level_t", "fill_t", "draw_t", "holding_cost_musd"])

    # ---- supply: every balance term
    terms = defaultdict(lambda: defaultdict(float))
    concern = {(x["supplier"], x["commodity"]) for x in d.suppliers if x["country_of_concern"]}
    suppliers = sorted({x for (_m, x, _c, _t, _s) in ctx.I})
    for (m, x, c, t, s), v in ctx.I.items():
        val = xval(v)
        if val:
            terms[(m, c, t, s)]["imports_concern_t" if (x, c) in concern else "imports_other_t"] += val
            terms[(m, c, t, s)][f"imports_from_{x}_t"] += val
    for (p, t, s), val in qv.items():
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
    for (o, t, s), val in dv.items():
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
    cols = ["production_t", "imports_concern_t", "imports_other_t", "offtake_t", "offtake_concern_t", "trade_in_t",
            "stock_draw_t", "shortage_t", "input_use_t", "trade_out_t", "stock_fill_t", "exports_t", "disposal_t"]
    # per-supplier detail of the two import columns (not extra balance terms): one column per outside supplier,
    # so Σ_m imports_from_<x>_t over a commodity-year-scenario is the volume checked against x's max_tpa
    cols += [f"imports_from_{x}_t" for x in suppliers]
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
        a[np.abs(a) < TOL] = 0.0  # as _tidy, for the whole block
        sup[cols] = a
        sup = sup[(sup["demand_t"] != 0) | (a != 0).any(axis=1)].reset_index(drop=True)
    out["supply"] = sup

    # ---- trade
    rows = []
    for (m, n, c, t, s), v in ctx.F.items():
        val = xval(v)
        if val > TOL:
            rows.append((m, n, c, t, s, val, d.delta[d.tix(t)] * d.routes[(m, n, c)] * val * MUSD))
    out["trade"] = pd.DataFrame(rows, columns=["from", "to", "commodity", "year", "scenario", "flow_t", "cost_musd"])

    # ---- security
    rows = []
    for key, meta, con in ctx.security_rows:
        lhs = sum(a * xval(v) for a, v in meta["lhs"])
        cons = meta["demand"] + sum(a * xval(v) for a, v in meta["use"])
        kind = meta["kind"]
        # a share or cover of nothing is undefined: blank, not 0 (a 0 would read as a missed minimum)
        if kind == "min_stock_days":
            achieved = lhs / cons * 365.0 if cons > TOL else float("nan")
            target_t = meta["limit"] / 365.0 * cons
        elif kind == "max_shortage_share":
            achieved = lhs / meta["demand"] if meta["demand"] > TOL else float("nan")
            target_t = meta["limit"] * meta["demand"]
        else:
            achieved = lhs / cons if cons > TOL else float("nan")
            target_t = meta["limit"] * cons
        dual = res.dual(con)
        sp = dual * scale(meta["scenario"], meta["year"]) if dual == dual else float("nan")
        binding = abs(lhs - target_t) <= 1e-6 * max(1.0, abs(target_t))
        rows.append((meta["sheet_row"], kind, meta["member"], meta["commodity"], meta["year"], meta["scenario"],
                     meta["limit"], achieved, _tidy(lhs), _tidy(target_t), _tidy(cons), binding,
                     _tidy(abs(sp)) if sp == sp else sp))
    out["security"] = pd.DataFrame(rows, columns=["security_row", "target", "member", "commodity", "year",
                                                  "scenario", "limit", "achieved", "value_t", "limit_t",
                                                  "consumption_t", "binding", "shadow_price_usd_per_t"])

    # ---- fiscal (member x scenario)
    sup_s = defaultdict(float)          # (s) discounted support MUSD
    recv = defaultdict(float)           # (m, s) support received by producers at m
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
            rows.append((m, s, share, _tidy(share * sup_s[s]), _tidy(recv[(m, s)]), _tidy(tar[(m, s)]),
                         budget if budget is not None else float("nan"),
                         _tidy(budget - share * sup_s[s]) if budget is not None else float("nan")))
    out["fiscal"] = pd.DataFrame(rows, columns=["member", "scenario", "burden_share", "floor_support_share_musd",
                                                "floor_support_received_musd", "tariff_revenue_musd",
                                                "fiscal_budget_musd", "budget_slack_musd"])
    # ---- prices (balance duals)
    rows = []
    for k, con in ctx.balance_rows.items():
        m, c, t, s = k
        dual = res.dual(con)
        rows.append((m, c, t, s, _tidy(dual * scale(s, t)) if dual == dual else float("nan")))
    out["prices"] = pd.DataFrame(rows, columns=["member", "commodity", "year", "scenario",
                                                "marginal_cost_usd_per_t"])
    return out


def headline(ctx: Ctx, res: SolveResult, tables: dict) -> dict:
    """Expected figures for the summary sheet and the terminal table."""
    d = ctx.d
    p = dict(zip(d.scen, d.prob))
    costs = tables["costs"]
    by_cat = {}
    if len(costs):
        exp = costs.assign(w=costs["scenario"].map(p) * costs["cost_musd"]).groupby("category")["w"].sum()
        by_cat = {f"expected_{k}_musd": float(v) for k, v in exp.items()}
    per_s = costs.groupby("scenario")["cost_musd"].sum().to_dict() if len(costs) else {}
    fis = tables["fiscal"]
    sup = tables["supply"]
    out = {
        "objective_musd": res.objective,
        "expected_cost_musd": float(sum(p[s] * v for s, v in per_s.items())),
    }
    out.update(by_cat)
    for s in d.scen:
        out[f"cost_{s}_musd"] = float(per_s.get(s, 0.0))
    out["expected_floor_support_musd"] = float(
        (fis["floor_support_share_musd"] * fis["scenario"].map(p)).sum()) if len(fis) else 0.0
    out["expected_tariff_revenue_musd"] = float(
        (fis["tariff_revenue_musd"] * fis["scenario"].map(p)).sum()) if len(fis) else 0.0
    out["expected_shortage_t"] = float((sup["shortage_t"] * sup["scenario"].map(p)).sum()) if len(sup) else 0.0
    inv = tables["investments"]
    out["modules_built"] = float(inv.loc[inv["kind"] == "process modules", "quantity"].sum()) if len(inv) else 0.0
    out["offtakes_signed"] = int((inv["kind"] == "offtake signed").sum()) if len(inv) else 0
    # worst dependence share: concern imports / consumption over members, per commodity-year-scenario
    if len(sup):
        g = sup.groupby(["commodity", "year", "scenario"])[
            ["imports_concern_t", "offtake_concern_t", "demand_t", "input_use_t"]].sum()
        cons = g["demand_t"] + g["input_use_t"]
        share = ((g["imports_concern_t"] + g["offtake_concern_t"]) / cons.where(cons > 0)).dropna()
        if len(share):
            k = share.idxmax()
            out["worst_dependence_share"] = float(share.max())
            out["worst_dependence_at"] = f"{k[0]} {k[1]} {k[2]}"
    return out
