"""Solution → the long tables of the results workbook (SPEC §4).

Each model family reports its own tables (``report(ctx, sol)`` beside its ``add(ctx)``), so the rules
a table depends on (a stockpile's operating window, an offtake's price max(floor, market), the
scenario tree of the shadow prices) live in one place, the family; this module runs them in the
order of ``FAMILIES``, lays each table out as the results schema (:mod:`planner.report.schema`)
declares it, and adds the scenario tree and the headline figures.

All money in MUSD discounted to base_year; per-scenario figures per scenario.  Cost tables evaluate
exactly the tagged cost terms the objective was built from, so they add up to the objective.  Shadow
prices (``prices``, ``security``) are undiscounted USD per tonne in each scenario's own terms: the
duals of the rows of a node of the scenario tree summed, divided by the node's weight (probability,
or under CVaR the scenario's weight in the objective) and discount factor.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from planner.model.build import FAMILIES
from planner.model.context import Ctx
from planner.model.tree import n_nodes, nodes
from planner.report.schema import RESULT_SHEET
from planner.solver.highs import SolveResult

INVESTMENT_KINDS = ("process modules", "stockpile capacity", "offtake signed")


def _frame(name: str, rows) -> pd.DataFrame:
    """A results table from a family's rows (tuples in schema order) or DataFrame (schema columns first)."""
    sheet = RESULT_SHEET[name]
    if isinstance(rows, pd.DataFrame):
        extra = [c for c in rows.columns if c not in sheet.names]
        missing = [c for c in sheet.names if c not in rows.columns]
        if missing or any(sheet.extra is None for _ in extra[:1]):
            raise RuntimeError(f"results table {name}: columns {missing} missing or {extra} undeclared")
        return rows[sheet.names + extra]
    return pd.DataFrame(list(rows), columns=sheet.names)


def extract(ctx: Ctx, res: SolveResult) -> dict[str, pd.DataFrame]:
    parts: dict[str, list] = {}
    for fam in FAMILIES:
        for name, rows in fam.report(ctx, res).items():
            parts.setdefault(name, []).append(rows)
    out = {}
    for name, chunks in parts.items():
        if len(chunks) == 1:
            out[name] = _frame(name, chunks[0])
        elif all(not isinstance(c, pd.DataFrame) for c in chunks):
            out[name] = _frame(name, [r for c in chunks for r in c])
        else:
            out[name] = pd.concat([_frame(name, c) for c in chunks], ignore_index=True)
    inv = out.get("investments")
    if inv is not None and len(inv):
        order = {k: i for i, k in enumerate(INVESTMENT_KINDS)}
        out["investments"] = inv.sort_values("kind", key=lambda k: k.map(order), kind="stable") \
            .reset_index(drop=True)
    d = ctx.d
    tree = d.tree if d.tree is not None else np.tile(np.arange(d.S), (d.nT, 1))
    out["scenario_tree"] = _frame("scenario_tree", nodes(tree, d.years, d.scen))
    return out


def risk_figures(costs_by_s: dict, prob: dict, alpha: float) -> dict:
    """Expected cost, VaR (η) and CVaR at ``alpha`` of the scenario costs (Rockafellar-Uryasev:
    CVaR = min_η η + Σ_s π_s (cost_s − η)+ / (1 − α), attained at η = VaR_α, the smallest cost whose
    cumulative probability reaches α)."""
    items = sorted((costs_by_s.get(s, 0.0), p) for s, p in prob.items())
    expected = sum(c * p for c, p in items)
    cum, var = 0.0, items[-1][0] if items else 0.0
    for c, p in items:
        cum += p
        if cum >= alpha - 1e-12:
            var = c
            break
    cvar = var + sum(p * max(0.0, c - var) for c, p in items) / (1.0 - alpha) if alpha < 1 else items[-1][0]
    return {"expected_cost_musd": expected, "var_musd": var, "cvar_musd": cvar}


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
    alpha = float(d.settings["cvar_alpha"])
    risk = risk_figures(per_s, p, alpha)
    gap_musd = abs(res.objective - res.bound) if res.is_mip and res.bound == res.bound else 0.0
    if gap_musd <= 1e-12 * max(1.0, abs(res.objective)):
        gap_musd = 0.0  # rounding, not a gap
    out = {
        "objective_musd": res.objective,
        "mip_gap_musd": gap_musd,
        "expected_cost_musd": risk["expected_cost_musd"],
        "var_musd": risk["var_musd"],
        "cvar_musd": risk["cvar_musd"],
        "cvar_alpha": alpha,
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
    tree = d.tree if d.tree is not None else np.tile(np.arange(d.S), (d.nT, 1))
    out["scenario_tree_nodes"] = n_nodes(tree)
    out["scenario_tree"] = d.tree_kind
    out.update(dependence(sup))
    return out


def concern_share(sup: pd.DataFrame, by) -> pd.Series:
    """Share of consumption met from countries of concern per ``by`` group of the supply table, summed over the
    rows of the group: min(concern imports, consumption) ÷ consumption (SPEC §3 "Security": never above 100 %;
    NaN where consumption is 0)."""
    cols = [c for c in ("imports_concern_t", "offtake_concern_t", "demand_t", "input_use_t") if c in sup.columns]
    g = sup.groupby(list(by), observed=True)[cols].sum()
    z = pd.Series(0.0, index=g.index)
    cons = g.get("demand_t", z) + g.get("input_use_t", z)
    concern = g.get("imports_concern_t", z) + g.get("offtake_concern_t", z)
    return np.minimum(concern, cons) / cons.where(cons > 0)


def dependence(sup: pd.DataFrame, by=("commodity", "year", "scenario")) -> dict:
    """The worst share of consumption met from countries of concern (never above 100 %; SPEC §3
    "Security"), over members, per ``by`` group of the supply table, and separately the most tonnes bought
    from them beyond consumption (into stock or on to other members), each with where it happens."""
    out = {}
    if sup is None or not len(sup):
        return out
    g = sup.groupby(list(by))[["imports_concern_t", "offtake_concern_t", "demand_t", "input_use_t"]].sum()
    cons = g["demand_t"] + g["input_use_t"]
    concern = g["imports_concern_t"] + g["offtake_concern_t"]
    share = concern_share(sup, by).dropna()
    if len(share):
        k = share.idxmax()
        out["worst_dependence_share"] = float(share.max())
        out["worst_dependence_at"] = " ".join(map(str, k if isinstance(k, tuple) else (k,)))
    beyond = (concern - cons).clip(lower=0.0)
    out["max_concern_beyond_consumption_t"] = float(beyond.max()) if len(beyond) else 0.0
    if len(beyond) and beyond.max() > 0:
        k = beyond.idxmax()
        out["max_concern_beyond_consumption_at"] = " ".join(map(str, k if isinstance(k, tuple) else (k,)))
    return out
