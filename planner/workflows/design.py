"""Policy design: which minerals, what floor levels (SPEC §7). ``planner design PATH [-o OUT.xlsx]``.

One command turns a solve into the policy answers; every figure comes from a listed solve (sheet ``solves``).

1. **Projects** (from the base solve: the workbook as given, with ``--set``): every process with modules
   built and every offtake signed.
   - Process: its *new modules* are the project. Volume = production above what the existing capacity can
     make (max(0, Q − availability · existing), at most availability · new capacity), per year and scenario.
     Levelised cost (USD/t) = expected discounted [capex annuity + fixed O&M of the modules in the years they
     operate (as in the objective) + (variable cost + input_per_output · input price) · volume] ÷ expected
     discounted volume, the input priced at its marginal supply price (the balance dual of the ``prices``
     table at that member, input commodity, year and scenario). Revenue: the volume at the market price P
     of the output (at max(floor, P) for the "at floor" figures, the workbook's floor), coproducts at their
     market price. NPV_s = Σ_t δ_t (revenue − costs) in MUSD, within the horizon; margin = NPV_s ÷ discounted
     volume (USD/t). Break-even floor: the lowest floor F with E_s[NPV_s(F)] ≥ 0 (and, second column, with
     min_s NPV_s(F) ≥ 0); NPV_s(F) = NPV_s(market) + Σ_t δ_t · volume · max(F − P, 0) is piecewise linear and
     non-decreasing in F with kinks at the market prices: solved exactly by sorting the kinks. 0 = bankable
     without a floor; blank = no floor makes it bankable (no output).
   - Offtake: seen from the buyer. Levelised cost = contract payments (max(contract floor, P) per t) and
     signing cost per discounted tonne; value = the buyer's marginal supply price (balance dual);
     NPV_s = Σ δ (value − price) · deliveries − signing. Its "break-even floor" is the *highest* contract floor
     at which signing still pays for the buyer (NPV non-increasing in the floor).
   Volumes are the base plan's: the floor is a price guarantee, not a change of plan (in resource mode the
   plan does not depend on the floor at all).
2. **Floors** (per commodity with bloc output): required floor = the highest expected break-even floor of the
   planned process projects of that commodity (its main output); support per scenario
   = Σ_t δ_t max(0, F − P_cts) · (bloc output − disposal) of the base plan, per member by burden share,
   for the workbook's floors and for the "required" package (each commodity at its required floor where one
   is needed, no floor elsewhere), against the fiscal budgets (sheet ``budgets`` names those that would bind).
3. **Price of security**: for each commodity with a max_concern_share row, every such row of the commodity
   set to one cap v (in memory: ``security.<row>.max_concern_share=v``); the tightest feasible v by bisection
   on feasibility (first feasible MIP solution, to 0.1 percentage point); cost at ≥ 6 caps from 100 % to it,
   one refinement round where the slope changes most; shadow price from the duals of the security rows
   (MUSD per percentage point: Σ rows dual · consumption / 100, with the plan held at that point's
   optimum) and slope by finite difference between neighbouring points (the plan re-optimised).
4. **Value** (risk_aversion 0 for these solves): WS = Σ_s π_s · (s solved alone), RP = the stochastic solve,
   EEV = the stochastic model with the investments of the mean-scenario plan fixed (mean scenario: every
   price and demand multiplier and available share probability-averaged, one scenario), EVPI = RP − WS,
   VSS = EEV − RP (inf when the mean plan cannot serve some scenario: the usual explanation is given).
   Hedge: each scenario's own plan (from its WS solve) fixed and run through every scenario, against RP.

Solves: the base solve, the mean-scenario solve and the feasibility probes run here; the rest in two rounds on
the batch executor (processes or Dask, ``jobs`` at a time), warm-started: the base plan is every solve's MIP
start, a refined security point starts from the plan of its nearest tighter point; only the security points
compute duals (the fixed-integer LP).
"""
from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.problems import PlannerError
from planner.input.load import load
from planner.input.validate import scenario_names
from planner.model.prepare import annuity_factor, prepare
from planner.workflows.batch import Task, run_tasks
from planner.workflows.run import COUNTS, solve_file
from planner.workflows.stress import plan_to_fixed

log = logging.getLogger("planner")
MUSD = 1e-6
PARTS = ("projects", "floors", "security", "value")
BISECT_TOL = 0.001  # tightest feasible cap to 0.1 percentage point
KEEP = ("investments", "security", "costs")


def _nn(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


# ------------------------------------------------------------------ exact break-even of a piecewise linear NPV
def floor_level(P, w, target: float) -> float:
    """The smallest F ≥ 0 with Σ_i w_i · max(F − P_i, 0) ≥ target (w_i ≥ 0): 0 when target ≤ 0, inf when no F
    reaches it. The sum is piecewise linear and non-decreasing in F with kinks at the P_i: evaluated at the
    sorted kinks, then solved on the segment where it crosses ``target``."""
    if not target > 1e-12:
        return 0.0
    P = np.asarray(P, dtype=float).ravel()
    w = np.asarray(w, dtype=float).ravel()
    keep = w > 0
    P, w = P[keep], w[keep]
    if not len(P):
        return math.inf
    o = np.argsort(P, kind="stable")
    P, w = P[o], w[o]
    cw, cwp = np.cumsum(w), np.cumsum(w * P)
    g = P * cw - cwp  # the sum at F = P_k
    k = int(np.searchsorted(g, target, side="left"))  # g is non-decreasing
    if k == 0:
        return float(P[0])  # cannot happen for target > 0 (g[0] = 0); kept for safety
    if k >= len(P):
        return float(P[-1] + (target - g[-1]) / cw[-1])
    return float(P[k - 1] + (target - g[k - 1]) / cw[k - 1])


# ------------------------------------------------------------------ bookkeeping of the solves behind the figures
@dataclass
class Solves:
    rows: list = field(default_factory=list)

    def add(self, purpose, oc=None, scenario="(all)", settings="", fixed="", status=None, objective=None, gap=None,
            seconds=None, message="") -> str:
        sid = f"S{len(self.rows) + 1:02d}"
        self.rows.append({
            "solve": sid, "purpose": purpose, "scenario": scenario, "settings": settings, "fixed": fixed,
            "status": status if status is not None else (oc.status if oc is not None else ""),
            "objective_musd": objective if objective is not None else (oc.objective if oc is not None else math.nan),
            "mip_gap": gap if gap is not None else (oc.gap if oc is not None else math.nan),
            "seconds": seconds if seconds is not None else (
                getattr(oc, "elapsed", None) or sum(v for k, v in (oc.times or {}).items() if k not in COUNTS)
                if oc is not None else math.nan),
            "message": (message or (oc.message if oc is not None else ""))[:2000]})
        return sid

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["solve", "purpose", "scenario", "settings", "fixed", "status",
                                                "objective_musd", "mip_gap", "seconds", "message"])


def _settings_text(overrides: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in overrides.items()) or "as in the workbook"


# ------------------------------------------------------------------ 1. projects
def _grid(df: pd.DataFrame, value: str, d, keys: dict) -> np.ndarray:
    """(S, nT) array of ``value`` from a long table filtered on ``keys`` (missing cells 0)."""
    out = np.zeros((d.S, d.nT))
    if df is None or not len(df):
        return out
    m = np.ones(len(df), dtype=bool)
    for k, v in keys.items():
        m &= (df[k] == v).to_numpy()
    g = df.loc[m]
    if not len(g):
        return out
    sidx = {s: i for i, s in enumerate(d.scen)}
    si = g["scenario"].map(sidx).to_numpy()
    ti = g["year"].to_numpy(dtype=int) - d.years[0]
    ok = ~pd.isna(si) & (ti >= 0) & (ti < d.nT)
    np.add.at(out, (si[ok].astype(int), ti[ok]), g[value].to_numpy(dtype=float)[ok])
    return out


def _duals(prices: pd.DataFrame, d, member, commodity) -> np.ndarray | None:
    if prices is None or not len(prices):
        return None
    g = prices[(prices["member"] == member) & (prices["commodity"] == commodity)]
    if not len(g):
        return None
    out = np.full((d.S, d.nT), np.nan)
    sidx = {s: i for i, s in enumerate(d.scen)}
    si = g["scenario"].map(sidx).to_numpy()
    ti = g["year"].to_numpy(dtype=int) - d.years[0]
    out[si.astype(int), ti] = g["marginal_cost_usd_per_t"].to_numpy(dtype=float)
    return out


def projects(d, tables: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(projects: one row per project; project_scenarios: one row per project and scenario)."""
    inv, cap, prices, offt = (tables.get(k) for k in ("investments", "capacity", "prices", "offtakes"))
    pi, delta = np.asarray(d.prob, dtype=float), np.asarray(d.delta, dtype=float)
    years = np.asarray(d.years)
    summ, per = [], []
    if inv is None or not len(inv):
        return pd.DataFrame(columns=PROJECT_COLS), pd.DataFrame(columns=SCEN_COLS)
    built = inv[inv["kind"] == "process modules"].groupby("item")
    procs = {p["process"]: p for p in d.processes}
    floors = {c: _nn(r.get("floor_price_usd_per_t")) for c, r in d.commodities.items()}
    for name, b in built:
        p = procs.get(name)
        if p is None:
            continue
        c, m = p["output"], p["member"]
        lead, life = int(p["lead_time_years"] or 0), int(p["lifetime_years"])
        af = annuity_factor(d.r, life)
        n_t = np.zeros(d.nT)  # modules operating in each year
        for y, q in zip(b["build_year"].astype(int), b["quantity"].astype(float)):
            n_t[(years >= y + lead) & (years < y + lead + life)] += q
        fixed_musd = n_t * (float(p["capex_musd_per_module"] or 0) * af + float(p["fixed_om_musd_per_module_yr"] or 0))
        av = float(p["availability"])
        Q = _grid(cap, "production_t", d, {"process": name})
        ex = _grid(cap, "existing_tpa", d, {"process": name})
        new = _grid(cap, "new_tpa", d, {"process": name})
        vol = np.clip(Q - av * ex, 0.0, av * new)
        note = []
        inp = p["input"]
        if inp is not None:
            ip = _duals(prices, d, m, inp)
            if ip is None or np.isnan(ip[vol > 0]).any():
                note.append(f"no marginal price of input {inp} at {m}: input cost taken at its market price")
                ip = np.where(np.isnan(ip), d.price.get(inp, np.zeros((d.S, d.nT))), ip) if ip is not None else \
                    d.price.get(inp, np.zeros((d.S, d.nT)))
            unit = float(p["variable_cost_usd_per_t"] or 0) + float(p["input_per_output"]) * ip
        else:
            unit = np.full((d.S, d.nT), float(p["variable_cost_usd_per_t"] or 0))
        P = d.price.get(c)
        if P is None:
            P = _duals(prices, d, m, c)
            note.append(f"{c} has no market price: output valued at its marginal supply price at {m}")
            P = np.nan_to_num(P if P is not None else np.zeros((d.S, d.nT)))
        P = np.asarray(P, dtype=float)
        cop = np.zeros((d.S, d.nT))
        for cc, ratio in d.coproducts.get(name, []):
            if cc in d.price:
                cop += ratio * np.asarray(d.price[cc], dtype=float)
        F0 = floors.get(c)
        Pf = np.maximum(P, F0) if F0 is not None else P
        dv = vol * delta  # discounted tonnes (S, nT)
        op_cost = unit * vol  # USD
        npv_mkt = ((P + cop) * vol - op_cost).dot(delta) * MUSD - fixed_musd.dot(delta)  # (S,)
        npv_flr = ((Pf + cop) * vol - op_cost).dot(delta) * MUSD - fixed_musd.dot(delta)
        dvol_s = dv.sum(axis=1)
        e_dvol = float(pi @ dvol_s)
        lcost = (float(pi @ (op_cost * delta).sum(axis=1)) + fixed_musd.dot(delta) / MUSD) / e_dvol \
            if e_dvol > 0 else math.nan
        cop_credit = float(pi @ (cop * dv).sum(axis=1)) / e_dvol if e_dvol > 0 else math.nan
        e_mkt, e_flr = float(pi @ npv_mkt), float(pi @ npv_flr)
        be = floor_level(P, (pi[:, None] * dv) * MUSD, -e_mkt)
        be_s = [floor_level(P[s], dv[s] * MUSD, -npv_mkt[s]) for s in range(d.S)]
        worst = max(be_s) if be_s else math.nan
        if e_dvol <= 0:
            note.append("the new modules make nothing in the plan (no volume above existing capacity)")
        summ.append({"project": name, "kind": "process", "member": m, "commodity": c,
                     "modules": float(b["quantity"].sum()), "capacity_added_tpa": float(b["capacity_added_t"].sum()),
                     "first_online_year": int(b["online_year"].min()),
                     "volume_t_per_yr": float(pi @ vol.sum(axis=1)) / d.nT,
                     "levelised_cost_usd_per_t": lcost, "coproduct_credit_usd_per_t": cop_credit,
                     "market_price_avg_usd_per_t": float(pi @ (P * dv).sum(axis=1)) / e_dvol if e_dvol > 0 else
                     float(np.mean(P)),
                     "workbook_floor_usd_per_t": F0 if F0 is not None else math.nan,
                     "expected_npv_market_musd": e_mkt, "expected_npv_floor_musd": e_flr,
                     "worst_npv_market_musd": float(npv_mkt.min()), "worst_npv_floor_musd": float(npv_flr.min()),
                     "breakeven_floor_usd_per_t": _fin(be), "breakeven_floor_worst_usd_per_t": _fin(worst),
                     "needs_floor": bool(be > 0),
                     "bankable_at_workbook_floor": bool(e_flr >= -1e-9),
                     "breakeven_meaning": "lowest floor on the output at which the project's NPV >= 0",
                     "note": "; ".join(note)})
        for s in range(d.S):
            dvs = dvol_s[s]
            per.append({"project": name, "kind": "process", "scenario": d.scen[s], "probability": float(pi[s]),
                        "volume_t": float(vol[s].sum()), "discounted_volume_t": float(dvs),
                        "margin_market_usd_per_t": npv_mkt[s] / MUSD / dvs if dvs > 0 else math.nan,
                        "margin_floor_usd_per_t": npv_flr[s] / MUSD / dvs if dvs > 0 else math.nan,
                        "npv_market_musd": float(npv_mkt[s]), "npv_floor_musd": float(npv_flr[s]),
                        "breakeven_floor_usd_per_t": _fin(be_s[s])})
    # offtakes signed: the buyer's view
    signed = inv[inv["kind"] == "offtake signed"]
    offs = {o["offtake"]: o for o in d.offtakes}
    for r in signed.itertuples():
        o = offs.get(r.item)
        if o is None:
            continue
        c, m = o["commodity"], o["member"]
        D = _grid(offt, "delivered_t", d, {"offtake": r.item})
        P = np.asarray(d.price[c], dtype=float)
        F0 = float(o["floor_price_usd_per_t"])
        paid = np.maximum(P, F0)
        val = _duals(prices, d, m, c)
        val = np.where(np.isnan(val), P, val) if val is not None else P
        sign = float(r.cost_musd)
        dv = D * delta
        dvol_s = dv.sum(axis=1)
        e_dvol = float(pi @ dvol_s)
        npv_mkt = ((val - P) * dv).sum(axis=1) * MUSD - sign
        npv_flr = ((val - paid) * dv).sum(axis=1) * MUSD - sign
        e_mkt, e_flr = float(pi @ npv_mkt), float(pi @ npv_flr)
        lcost = (float(pi @ (paid * dv).sum(axis=1)) + sign / MUSD) / e_dvol if e_dvol > 0 else math.nan
        # highest contract floor F with NPV(F) = NPV(market) − Σ δ D max(F − P, 0) ≥ 0
        be = floor_level(P, (pi[:, None] * dv) * MUSD, e_mkt) if e_mkt >= 0 else math.nan
        be_s = [floor_level(P[s], dv[s] * MUSD, npv_mkt[s]) if npv_mkt[s] >= 0 else math.nan for s in range(d.S)]
        worst = min(be_s) if be_s and not any(math.isnan(x) for x in be_s) else math.nan
        summ.append({"project": r.item, "kind": "offtake", "member": m, "commodity": c, "modules": math.nan,
                     "capacity_added_tpa": float(o["max_tpa"]), "first_online_year": int(r.online_year),
                     "volume_t_per_yr": float(pi @ D.sum(axis=1)) / d.nT, "levelised_cost_usd_per_t": lcost,
                     "coproduct_credit_usd_per_t": math.nan,
                     "market_price_avg_usd_per_t": float(pi @ (P * dv).sum(axis=1)) / e_dvol if e_dvol > 0 else
                     float(np.mean(P)),
                     "workbook_floor_usd_per_t": F0,
                     "expected_npv_market_musd": e_mkt, "expected_npv_floor_musd": e_flr,
                     "worst_npv_market_musd": float(npv_mkt.min()), "worst_npv_floor_musd": float(npv_flr.min()),
                     "breakeven_floor_usd_per_t": _fin(be), "breakeven_floor_worst_usd_per_t": _fin(worst),
                     "needs_floor": False, "bankable_at_workbook_floor": bool(e_flr >= -1e-9),
                     "breakeven_meaning": "highest contract floor at which the buyer's NPV >= 0 (value = the "
                                          "buyer's marginal supply price)",
                     "note": "" if e_mkt >= 0 else "not worth its signing cost even at market price"})
        for s in range(d.S):
            dvs = dvol_s[s]
            per.append({"project": r.item, "kind": "offtake", "scenario": d.scen[s], "probability": float(pi[s]),
                        "volume_t": float(D[s].sum()), "discounted_volume_t": float(dvs),
                        "margin_market_usd_per_t": npv_mkt[s] / MUSD / dvs if dvs > 0 else math.nan,
                        "margin_floor_usd_per_t": npv_flr[s] / MUSD / dvs if dvs > 0 else math.nan,
                        "npv_market_musd": float(npv_mkt[s]), "npv_floor_musd": float(npv_flr[s]),
                        "breakeven_floor_usd_per_t": _fin(be_s[s])})
    return pd.DataFrame(summ, columns=PROJECT_COLS), pd.DataFrame(per, columns=SCEN_COLS)


PROJECT_COLS = ["project", "kind", "member", "commodity", "modules", "capacity_added_tpa", "first_online_year",
                "volume_t_per_yr", "levelised_cost_usd_per_t", "coproduct_credit_usd_per_t",
                "market_price_avg_usd_per_t", "workbook_floor_usd_per_t", "expected_npv_market_musd",
                "expected_npv_floor_musd", "worst_npv_market_musd", "worst_npv_floor_musd",
                "breakeven_floor_usd_per_t", "breakeven_floor_worst_usd_per_t", "needs_floor",
                "bankable_at_workbook_floor", "breakeven_meaning", "note"]
SCEN_COLS = ["project", "kind", "scenario", "probability", "volume_t", "discounted_volume_t",
             "margin_market_usd_per_t", "margin_floor_usd_per_t", "npv_market_musd", "npv_floor_musd",
             "breakeven_floor_usd_per_t"]


def _fin(x):
    return x if x is not None and math.isfinite(x) else math.nan


# ------------------------------------------------------------------ 2. floors
def floors(d, tables: dict, proj: pd.DataFrame):
    """(floors: one row per commodity with bloc output; floor_support: case x commodity x scenario x member;
    budgets: case x scenario x member against fiscal budgets)."""
    sup = tables.get("supply")
    pi, delta = np.asarray(d.prob, dtype=float), np.asarray(d.delta, dtype=float)
    rows, support, cases = [], [], {"workbook": {}, "required": {}}
    if sup is None or not len(sup):
        return pd.DataFrame(columns=FLOOR_COLS), pd.DataFrame(columns=SUPPORT_COLS), pd.DataFrame(columns=BUDGET_COLS)
    out = sup.assign(net=sup["production_t"] - sup["disposal_t"])
    made = out.groupby("commodity")["production_t"].sum()
    pp = proj[proj["kind"] == "process"] if len(proj) else proj
    for c in [c for c in made.index if made[c] > 1e-9]:
        if c not in d.price:
            rows.append({"commodity": c, "note": "no market price in the workbook: a floor is not defined"})
            continue
        P = np.asarray(d.price[c], dtype=float)
        net = np.maximum(_grid(out[out["commodity"] == c], "net", d, {}), 0.0)
        F0 = _nn(d.commodities[c].get("floor_price_usd_per_t"))
        mine = pp[pp["commodity"] == c] if len(pp) else pp
        if len(mine):
            be = mine["breakeven_floor_usd_per_t"]
            infinite = be.isna().any()
            req = math.inf if infinite else float(be.max())
            at = str(mine.loc[be.idxmax(), "project"]) if be.notna().any() and not infinite else \
                ", ".join(mine.loc[be.isna(), "project"].astype(str))
            worst = float(mine["breakeven_floor_worst_usd_per_t"].max()) \
                if mine["breakeven_floor_worst_usd_per_t"].notna().all() else math.inf
        else:
            req, at, worst = math.nan, "", math.nan
        req_f = req if not math.isnan(req) and math.isfinite(req) and req > 0 else None
        s0, s1 = (np.zeros(d.S) if F is None else (np.maximum(F - P, 0.0) * net).dot(delta) * MUSD
                  for F in (F0, req_f))
        cases["workbook"][c], cases["required"][c] = s0, s1
        rows.append({"commodity": c, "workbook_floor_usd_per_t": F0 if F0 is not None else math.nan,
                     "required_floor_usd_per_t": _fin(req), "required_floor_worst_usd_per_t": _fin(worst),
                     "set_by_project": at, "planned_projects": len(mine),
                     "needs_floor": req_f is not None,
                     "market_price_min_usd_per_t": float(P.min()), "market_price_max_usd_per_t": float(P.max()),
                     "bloc_output_t_per_yr": float(pi @ net.sum(axis=1)) / d.nT,
                     "expected_support_workbook_musd": float(pi @ s0),
                     "expected_support_required_musd": float(pi @ s1),
                     "worst_support_workbook_musd": float(s0.max()), "worst_support_required_musd": float(s1.max()),
                     "note": ("no planned project has it as main output (output from existing capacity or as a coproduct)"
                              if not len(mine)
                              else "no floor makes every project bankable (a project makes nothing)"
                              if req == math.inf else "bankable without a floor" if not req_f else "")})
        for case, sv in (("workbook", s0), ("required", s1)):
            F = F0 if case == "workbook" else req_f
            for s in range(d.S):
                for m in d.members:
                    share = d.burden.get(m, 0.0)
                    support.append({"case": case, "commodity": c, "floor_usd_per_t": F if F is not None else math.nan,
                                    "scenario": d.scen[s], "probability": float(pi[s]), "member": m,
                                    "burden_share": share, "support_musd": float(sv[s]),
                                    "member_share_musd": share * float(sv[s])})
    budgets = []
    for case, per_c in cases.items():
        tot = sum(per_c.values()) if per_c else np.zeros(d.S)
        for s in range(d.S):
            for m in d.members:
                share = d.burden.get(m, 0.0)
                b = d.budget.get(m)
                x = share * float(np.asarray(tot)[s]) if per_c else 0.0
                budgets.append({"case": case, "scenario": d.scen[s], "member": m, "burden_share": share,
                                "support_share_musd": x, "fiscal_budget_musd": b if b is not None else math.nan,
                                "headroom_musd": b - x if b is not None else math.nan,
                                "binds": bool(b is not None and x > b * (1 + 1e-9) + 1e-9)})
    return (pd.DataFrame(rows, columns=FLOOR_COLS), pd.DataFrame(support, columns=SUPPORT_COLS),
            pd.DataFrame(budgets, columns=BUDGET_COLS))


FLOOR_COLS = ["commodity", "workbook_floor_usd_per_t", "required_floor_usd_per_t", "required_floor_worst_usd_per_t",
              "set_by_project", "planned_projects", "needs_floor", "market_price_min_usd_per_t",
              "market_price_max_usd_per_t", "bloc_output_t_per_yr", "expected_support_workbook_musd",
              "expected_support_required_musd", "worst_support_workbook_musd", "worst_support_required_musd", "note"]
SUPPORT_COLS = ["case", "commodity", "floor_usd_per_t", "scenario", "probability", "member", "burden_share",
                "support_musd", "member_share_musd"]
BUDGET_COLS = ["case", "scenario", "member", "burden_share", "support_share_musd", "fiscal_budget_musd",
               "headroom_musd", "binds"]


# ------------------------------------------------------------------ 3. price of security
def capped_commodities(data) -> dict:
    """commodity -> [(Excel row, workbook cap), ...] of its max_concern_share security rows."""
    sec = data.tables["security"]
    out: dict = {}
    if not len(sec):
        return out
    for r in sec.to_dict("records"):
        v = _nn(r.get("max_concern_share"))
        if v is not None:
            out.setdefault(str(r["commodity"]), []).append((int(r["_row"]), float(v)))
    return out


def _cells(rows, v) -> dict:
    return {f"security.{row}.max_concern_share": f"{v:.6g}" for row, _ in rows}


def feasible(path, overrides: dict, cells: dict, start=None) -> tuple[bool, str, float]:
    """Is the model feasible with these cells? Stops at the first feasible MIP solution (mip_gap 1); ``start``
    a plan tried first (MIP start)."""
    from planner.workflows.run import solve_model

    t0 = time.perf_counter()
    with _quiet():
        data = load(path, {**overrides, **cells, "mip_gap": "1"})
        d = prepare(data)
        _, res, _ = solve_model(d, start=start or None, duals=False)
    return bool(res.has_solution), res.status, time.perf_counter() - t0


def tightest_cap(path, overrides, rows, solves: Solves, c: str, tol=BISECT_TOL, start=None) -> tuple[float, str]:
    """The smallest cap v in [0, 1] at which the model is feasible (to ``tol``), by bisection on feasibility."""
    lo_ok, st, sec = feasible(path, overrides, _cells(rows, 0.0), start)
    solves.add(f"security {c}: feasibility at cap 0%", settings=_settings_text({**overrides, **_cells(rows, 0.0),
                                                                             "mip_gap": 1}),
               status=st, objective=math.nan, seconds=sec)
    if lo_ok:
        return 0.0, ""
    lo, hi = 0.0, 1.0  # 1.0 loosens every row of c: feasible when the workbook is
    unknown = ""
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        ok, st, sec = feasible(path, overrides, _cells(rows, mid), start)
        solves.add(f"security {c}: feasibility at cap {100 * mid:.2f}%",
                   settings=_settings_text({**overrides, **_cells(rows, mid), "mip_gap": 1}), status=st,
                   objective=math.nan, seconds=sec)
        if st not in ("infeasible",) and not ok:
            unknown = f"the feasibility solve at {100 * mid:.2f}% stopped with status '{st}' and was taken as infeasible"
        if ok:
            hi = mid
        else:
            lo = mid
    return hi, unknown


def _plan(oc) -> tuple[dict, dict, set]:
    inv = (oc.tables or {}).get("investments")
    if inv is None or not len(inv):
        return {}, {}, set()
    mods = inv[inv["kind"] == "process modules"].groupby("item")["quantity"].sum().to_dict()
    stock = inv[inv["kind"] == "stockpile capacity"].groupby("item")["quantity"].sum().to_dict()
    offs = set(inv.loc[inv["kind"] == "offtake signed", "item"].astype(str))
    return mods, stock, offs


def plan_changes(a, b) -> str:
    """What plan b changes against plan a (modules, stock capacity, offtakes), biggest first."""
    (ma, sa, oa), (mb, sb, ob) = a, b
    items = []
    for p in sorted(set(ma) | set(mb)):
        x = mb.get(p, 0.0) - ma.get(p, 0.0)
        if abs(x) > 1e-6:
            items.append((abs(x) * 1e6, f"{x:+g} module(s) {p}"))
    for k in sorted(set(sa) | set(sb)):
        x = sb.get(k, 0.0) - sa.get(k, 0.0)
        if abs(x) > 0.5:
            items.append((abs(x), f"{x:+,.0f} t stock capacity {k}"))
    for o in sorted(ob - oa):
        items.append((1e9, f"signs {o}"))
    for o in sorted(oa - ob):
        items.append((1e9, f"drops {o}"))
    items.sort(key=lambda x: -x[0])
    return "; ".join(t for _, t in items[:8]) + (f"; ... {len(items) - 8} more" if len(items) > 8 else "") \
        if items else "no change"


def shadow_musd_per_pp(d, sec: pd.DataFrame, rows) -> float:
    """d cost / d cap from the security rows' duals: Σ rows π_s δ_t dual(USD/t) 1e-6 · consumption / 100."""
    if sec is None or not len(sec):
        return math.nan
    g = sec[(sec["target"] == "max_concern_share") & sec["security_row"].isin([r for r, _ in rows])]
    if not len(g):
        return math.nan
    p = dict(zip(d.scen, d.prob))
    w = g["scenario"].map(p).to_numpy(dtype=float) * np.asarray(d.delta)[g["year"].to_numpy(dtype=int) - d.years[0]]
    return float(np.nansum(w * g["shadow_price_usd_per_t"].to_numpy(dtype=float)
                           * g["consumption_t"].to_numpy(dtype=float)) * MUSD / 100.0)


def _bends(points: list, extra: int = 3) -> list:
    """Caps to add: midpoints of the segments on each side of the points where the slope changes most."""
    pts = sorted(points, key=lambda x: -x[0])  # from loose to tight
    if len(pts) < 3:
        return []
    slope = [(pts[i + 1][1] - pts[i][1]) / max(pts[i][0] - pts[i + 1][0], 1e-12) for i in range(len(pts) - 1)]
    bend = [(abs(slope[i] - slope[i - 1]), i) for i in range(1, len(slope))]
    bend.sort(reverse=True)
    top = max(b for b, _ in bend) if bend else 0.0
    new = []
    for b, i in bend:
        if b <= 0.05 * top or b <= 1e-9:
            break
        for a, c in ((pts[i - 1][0], pts[i][0]), (pts[i][0], pts[i + 1][0])):
            mid = round(0.5 * (a + c), 6)
            if a - c > 2 * BISECT_TOL and mid not in new and mid not in [x for x, _ in pts]:
                new.append(mid)
        if len(new) >= extra:
            break
    return new[:extra + 1]


# ------------------------------------------------------------------ 4. value of information and of the stochastic plan
def _mult(rows, names, years, key) -> dict:
    out: dict = {}
    for r in rows:
        k = key(r)
        if k is None or r["scenario"] not in names:
            continue
        arr = out.setdefault(k, np.ones((len(names), len(years))))
        lo = max(int(r["from_year"]), years[0]) - years[0]
        hi = min(int(r["to_year"]), years[-1]) - years[0]
        if hi >= lo:
            arr[names.index(r["scenario"]), lo:hi + 1] *= float(r["multiplier"])
    return out


def mean_input(data):
    """The probability-weighted mean scenario as an input (one scenario 'mean', probability 1): every market,
    supplier and demand multiplier and every available share averaged year by year."""
    names = scenario_names(data)
    T = data.tables
    sc = T["scenarios"]
    if not len(sc):
        return data
    prob = np.array([float(dict(zip(sc["scenario"], sc["probability"]))[s]) for s in names])
    y0, y1 = int(data.settings["start_year"]), int(data.settings["end_year"])
    years = list(range(y0, y1 + 1))

    def rec(name):
        return T[name].to_dict("records")

    def frame(name, rows):
        cols = list(T[name].columns)
        return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols).astype(object)

    def year_rows(arrays, make):
        out = []
        for k, arr in arrays.items():
            mean = prob @ arr
            for ti, v in enumerate(mean):
                if abs(v - 1.0) > 1e-12:
                    out.append({**make(k, float(v)), "scenario": "mean", "from_year": years[ti], "to_year": years[ti]})
        return out

    sp = rec("scenario_prices")
    mkt = _mult(sp, names, years, lambda r: (r["commodity"], None) if _nn(r["supplier"]) is None else None)
    own = _mult(sp, names, years, lambda r: (r["commodity"], r["supplier"]) if _nn(r["supplier"]) is not None else None)
    price_rows = year_rows({**mkt, **own}, lambda k, v: {"commodity": k[0], "supplier": k[1], "multiplier": v})
    dem_keys = {(r["member"], r["commodity"]) for r in rec("demand")}
    sd = rec("scenario_demand")
    dem = {}
    for m, c in dem_keys:
        a = _mult([r for r in sd if r["commodity"] == c and _nn(r["member"]) in (None, m)], names, years,
                  lambda r: 0)
        if a:
            dem[(m, c)] = a[0]
    dem_rows = year_rows(dem, lambda k, v: {"member": k[0], "commodity": k[1], "multiplier": v})
    pairs = {(x["supplier"], x["commodity"]) for x in rec("suppliers")} | \
            {(o["seller"], o["commodity"]) for o in rec("offtakes")}
    dis = rec("disruptions")
    avail = {}
    for name, c in pairs:
        hit = [r for r in dis if r["supplier"] == name and _nn(r["commodity"]) in (None, c) and r["scenario"] in names]
        if not hit:
            continue
        a = np.ones((len(names), len(years)))
        for r in hit:
            lo = max(int(r["from_year"]), y0) - y0
            hi = min(int(r["to_year"]), y1) - y0
            if hi >= lo:
                s = names.index(r["scenario"])
                a[s, lo:hi + 1] = np.minimum(a[s, lo:hi + 1], float(r["available_share"]))
        avail[(name, c)] = a
    dis_rows = []
    for (name, c), a in avail.items():
        mean = prob @ a
        for ti, v in enumerate(mean):
            if v < 1.0 - 1e-12:
                dis_rows.append({"scenario": "mean", "supplier": name, "commodity": c, "from_year": years[ti],
                                 "to_year": years[ti], "available_share": float(v)})
    out = copy.copy(data)
    out.tables = dict(T)
    first = sc.iloc[0].to_dict()
    row = {k: None for k in sc.columns}
    row.update({"scenario": "mean", "probability": 1.0, "_row": first.get("_row"),
                "description": "probability-weighted mean of " + ", ".join(names)})
    out.tables["scenarios"] = pd.DataFrame([row], columns=sc.columns).astype(object)
    out.tables["scenario_prices"] = frame("scenario_prices", price_rows)
    out.tables["scenario_demand"] = frame("scenario_demand", dem_rows)
    out.tables["disruptions"] = frame("disruptions", dis_rows)
    return out


# ------------------------------------------------------------------ the command
@dataclass
class Design:
    sheets: dict
    summary: dict
    skipped: list
    out: Path | None = None


@contextlib.contextmanager
def _quiet():
    """The in-process solves log nothing below warnings (the summary and the solves sheet report them)."""
    lg = logging.getLogger("planner")
    old = lg.level
    lg.setLevel(max(old, logging.WARNING))
    try:
        yield
    finally:
        lg.setLevel(old)


def _task(path, label, overrides, meta, scenario=None, fixed=None, start=None, duals=True):
    """A batch solve; ``start``: a plan as MIP start (warm start), ``duals`` False when no shadow price is read."""
    return Task(path=str(path), label=label, out=None, write=False, overrides=dict(overrides), scenario=scenario,
                fixed=None if fixed is None else dict(fixed), keep=KEEP, meta=meta, start=start or None,
                duals=duals)


def _security_sheet(d, base, capped: dict, vmin: dict, outs, outs2, ids: dict) -> pd.DataFrame:
    """The ``security_cost`` sheet: per capped commodity and cap, the best known cost (a tighter cap's
    cheaper plan counts at a looser cap), shadow price and finite-difference slope, the plan's changes."""
    base_plan = _plan(base)
    srows = []
    for c, rows in capped.items():
        got = sorted([oc for oc in outs + outs2 if oc.meta.get("part") == "security" and
                      oc.meta["commodity"] == c], key=lambda oc: -oc.meta["cap"])
        v, why = vmin[c]
        # best known cost at each cap: a plan feasible at a tighter cap is feasible at a looser one, so
        # where a tighter point's solve found a cheaper plan (the MIP gap), that plan is the better answer
        best, best_oc, use = math.inf, None, {}
        for oc in reversed(got):
            if not oc.exit_code and oc.objective < best:
                best, best_oc = oc.objective, oc
            use[id(oc)] = best_oc if not oc.exit_code else None
        prev = None
        ref = None
        for oc in got:
            ok = not oc.exit_code
            src = use.get(id(oc)) if ok else None
            plan = _plan(src) if ok else None
            cost = src.objective if ok else math.nan
            if ref is None and ok:
                ref = cost
            slope = math.nan
            if prev is not None and ok and prev[0] > oc.meta["cap"]:
                slope = (cost - prev[1]) / (100 * (prev[0] - oc.meta["cap"]))
            mods, stock, offs = plan if plan else ({}, {}, set())
            taken = ok and src is not oc
            note = (why if oc is got[-1] else "") or oc.message[:300]
            if taken:
                note = (f"this solve found {oc.objective:,.1f} MUSD (MIP gap {100 * oc.gap:.3g}%); the plan of the "
                        f"tighter cap {100 * src.meta['cap']:.2f}% is feasible here and costs less, so its cost "
                        f"and plan are reported" + (f"; {note}" if note else ""))
            srows.append({
                "commodity": c, "cap_share": oc.meta["cap"], "status": oc.status, "cost_musd": cost,
                "cost_vs_100pct_musd": cost - ref if ref is not None and ok else math.nan,
                "objective_of_this_solve_musd": oc.objective if ok else math.nan,
                "shadow_price_musd_per_pp": shadow_musd_per_pp(d, oc.tables.get("security"), rows) if ok
                else math.nan,
                "slope_musd_per_pp": slope,
                "expected_cost_musd": src.headline.get("expected_cost_musd", math.nan) if ok else math.nan,
                "expected_shortage_t": src.headline.get("expected_shortage_t", math.nan) if ok else math.nan,
                "workbook_cap": ", ".join(f"{x:g}" for x in sorted({x for _, x in rows})),
                "tightest_feasible_cap": v, "refined": bool(oc.meta.get("refined")),
                "modules_built": float(sum(mods.values())), "stock_capacity_added_t": float(sum(stock.values())),
                "offtakes_signed": len(offs),
                "changes_vs_previous": plan_changes(prev[2], plan) if prev is not None and plan else
                ("reference (loosest cap)" if plan else ""),
                "changes_vs_base_plan": plan_changes(base_plan, plan) if plan else "",
                "mip_gap": oc.gap, "solve": ids[id(oc)] + (f" (plan of {ids[id(src)]})" if taken else ""),
                "note": note})
            if ok:
                prev = (oc.meta["cap"], cost, plan)
    sc = pd.DataFrame(srows)
    # the solves' own objectives never fall as the cap tightens, within their MIP gaps
    flags = []
    for c, g in sc.groupby("commodity", sort=False):
        best = -math.inf
        for r in g.itertuples():
            x = r.objective_of_this_solve_musd
            tol = abs(x) * max(0.0 if math.isnan(r.mip_gap) else r.mip_gap, 1e-9) + 1e-6
            flags.append(bool(math.isnan(x) or x >= best - tol))
            if not math.isnan(x):
                best = max(best, x)
    sc["non_decreasing_within_gap"] = flags
    return sc


def run_design(path, out=None, overrides: dict | None = None, force: bool = False, jobs: int = 1,
               executor: str = "process", scheduler: str | None = None, progress: bool = True, points: int = 6,
               parts=PARTS, write: bool = True) -> Design:
    """Run the policy design of SPEC §7 on ``path``; returns the sheets written (and the file in ``.out``)."""
    overrides = dict(overrides or {})
    parts = tuple(parts)
    bad = [p for p in parts if p not in PARTS]
    if bad:
        raise PlannerError(f"unknown part(s) {', '.join(bad)} (known: {', '.join(PARTS)})")
    if points < 2:
        raise PlannerError("--points must be at least 2")
    t_start = time.perf_counter()
    data = load(path, overrides)  # InputError: every problem, located (exit 1)
    solves = Solves()
    skipped: list[str] = []
    with _quiet():
        base = solve_file(str(path), data=data, write=False)
    base_id = solves.add("base: the workbook as given (projects, floors, the security curves at the workbook's "
                         "caps)", base,
                         settings=_settings_text(overrides))
    if base.exit_code:
        raise PlannerError(base.message or f"{path}: the base solve failed ({base.status})")
    d = prepare(data)
    sheets: dict = {}
    summary: dict = {"input": str(Path(path).resolve()), "input_sha256": data.sha256, "base_solve": base_id,
                     "base_objective_musd": base.objective, "base_mip_gap": base.gap,
                     "scenarios": ", ".join(f"{s} ({p:g})" for s, p in zip(d.scen, d.prob))}

    # 1-2 projects and floors (from the base solve)
    proj, pscen = projects(d, base.tables)
    if "projects" in parts:
        if not len(proj):
            skipped.append("projects: the plan builds no module and signs no offtake")
        sheets["projects"], sheets["project_scenarios"] = proj, pscen
    if "floors" in parts:
        fl, fsup, bud = floors(d, base.tables, proj)
        if not len(fl):
            skipped.append("floors: no commodity has bloc output in the plan")
        elif not any(_nn(d.commodities[c].get("floor_price_usd_per_t")) is not None for c in d.commodities):
            skipped.append("floors: the workbook sets no floor price, so the 'workbook' case has no support "
                           "(required floors computed all the same)")
        sheets["floors"], sheets["floor_support"], sheets["budgets"] = fl, fsup, bud

    # tasks of the first parallel round
    ra0 = {**overrides, "risk_aversion": "0"}
    tasks = []
    capped = capped_commodities(data) if "security" in parts else {}
    if "security" in parts and not capped:
        skipped.append("price of security: no security row sets max_concern_share")
    vmin, reused = {}, []
    from planner.model.warmstart import plan_from_investments

    start = plan_from_investments(base.tables.get("investments"))  # the base plan: every solve's MIP start
    for c, rows in capped.items():
        v, why = tightest_cap(path, overrides, rows, solves, c, start=start)
        vmin[c] = (v, why)
        caps = sorted({round(float(x), 6) for x in np.linspace(1.0, v, points)} |
                      ({rows[0][1]} if len({x for _, x in rows}) == 1 and rows[0][1] >= v else set()), reverse=True)
        for x in caps:
            if all(abs(x - w) < 1e-12 for _, w in rows):  # the workbook as given: the base solve is that point
                oc = copy.copy(base)
                oc.meta, oc.label, oc.elapsed = {"part": "security", "commodity": c, "cap": x, "reused": True}, "", 0.0
                reused.append(oc)
                continue
            tasks.append(_task(path, f"security {c} cap {100 * x:.2f}%", {**overrides, **_cells(rows, x)},
                               {"part": "security", "commodity": c, "cap": x}, start=start))
    nS = d.S
    mean_plan = None
    do_value = "value" in parts
    if do_value and nS == 1:
        skipped.append("value: one scenario, so WS = RP = EEV and EVPI = VSS = 0 (no extra solve)")
    if do_value:
        data0 = load(path, ra0)
        rp_same = float(data.settings.get("risk_aversion") or 0) == 0
        if nS > 1:
            for s in d.scen:
                tasks.append(_task(path, f"WS: {s} alone", ra0, {"part": "ws", "scenario": s}, scenario=s,
                                   start=start, duals=False))
            if not rp_same:
                tasks.append(_task(path, "RP: stochastic, risk-neutral", ra0, {"part": "rp"}, start=start,
                                   duals=False))
            mdata = mean_input(data0)
            with _quiet():
                mean = solve_file(str(path), data=mdata, write=False)
            solves.add("EEV step 1: the mean scenario alone (its plan)", mean, scenario="mean",
                       settings=_settings_text(ra0))
            if mean.exit_code:
                mean_plan = ("failed", mean.message)
            else:
                fixed, _ = plan_to_fixed(mean.tables["investments"], data0)
                mean_plan = ("ok", fixed)
                tasks.append(_task(path, "EEV: mean plan fixed, all scenarios", ra0, {"part": "eev"}, fixed=fixed,
                                   duals=False))
    outs = run_tasks(tasks, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                     title=f"design: {len(tasks)} solve(s)") if tasks else []
    _stop_if_interrupted(outs)
    outs = reused + outs
    # second round: refinement of the security curves and the hedges
    tasks2 = []
    curve_pts: dict = {}
    for oc in outs:
        if oc.meta.get("part") == "security" and not oc.exit_code:
            curve_pts.setdefault(oc.meta["commodity"], []).append((oc.meta["cap"], oc.objective, oc))
    for c, pts in curve_pts.items():
        rows = capped[c]
        for x in _bends([(a, b) for a, b, _ in pts]):
            # warm start: the plan of the nearest tighter point (feasible at this looser cap)
            tighter = [oc for a, _, oc in sorted(pts, key=lambda t: -t[0]) if a < x]
            st = (getattr(tighter[0], "plan", None) if tighter else None) or start
            tasks2.append(_task(path, f"security {c} cap {100 * x:.2f}% (refined)", {**overrides, **_cells(rows, x)},
                                {"part": "security", "commodity": c, "cap": x, "refined": True}, start=st))
    if do_value and nS > 1:
        for oc in outs:
            if oc.meta.get("part") == "ws" and not oc.exit_code:
                fixed, _ = plan_to_fixed(oc.tables["investments"], data0)
                tasks2.append(_task(path, f"hedge: plan for {oc.meta['scenario']} alone, all scenarios", ra0,
                                    {"part": "hedge", "plan_for": oc.meta["scenario"]}, fixed=fixed, duals=False))
    outs2 = run_tasks(tasks2, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                      title=f"design: {len(tasks2)} more solve(s)") if tasks2 else []
    _stop_if_interrupted(outs2)
    ids = {}
    for oc in outs + outs2:
        m = oc.meta
        if m.get("reused"):
            ids[id(oc)] = base_id
            continue
        purpose = {"security": f"security {m.get('commodity')}: cap {100 * m.get('cap', 0):.2f}%"
                               + (" (refined)" if m.get("refined") else ""),
                   "ws": f"WS: scenario {m.get('scenario')} alone", "rp": "RP: stochastic, risk-neutral",
                   "eev": "EEV step 2: the mean scenario's plan fixed, all scenarios",
                   "hedge": f"hedge: plan for {m.get('plan_for')} alone fixed, all scenarios"}[m["part"]]
        ov = ra0 if m["part"] != "security" else {**overrides, **_cells(capped[m["commodity"]], m["cap"])}
        fixed = {"eev": "investments of the mean-scenario plan",
                 "hedge": f"investments of the plan for {m.get('plan_for')} alone"}.get(m["part"], "")
        ids[id(oc)] = solves.add(purpose, oc, scenario=m.get("scenario", "(all)"), settings=_settings_text(ov),
                                 fixed=fixed)

    # security sheet
    if capped:
        sheets["security_cost"] = _security_sheet(d, base, capped, vmin, outs, outs2, ids)
        for c, (v, _) in vmin.items():
            summary[f"tightest_cap_{c}"] = v
    elif "security" in parts:
        sheets["security_cost"] = pd.DataFrame({"note": [skipped[-1] if skipped else "skipped"]})

    # value sheet
    if do_value:
        vrows, hedge = _value(d, base, base_id, outs, outs2, ids, mean_plan, solves, nS, summary)
        sheets["value"] = vrows
        if len(hedge):
            sheets["hedge"] = hedge
    sheets["solves"] = solves.table()
    summary["solves"] = len(solves.rows)
    summary["seconds"] = round(time.perf_counter() - t_start, 2)
    summary["skipped"] = " | ".join(skipped)
    summary["money"] = "MUSD discounted to base_year; prices USD/t"
    summ = pd.DataFrame(list(summary.items()), columns=["key", "value"])
    sheets = {"summary": summ, **sheets}
    res = Design(sheets=sheets, summary=summary, skipped=skipped)
    if write:
        from planner.common.files import free_name
        from planner.report.design_charts import add_design_charts
        from planner.report.xlsio import write_workbook

        target = Path(out) if out else Path("results") / f"{Path(path).stem}.design.xlsx"
        if target.suffix.lower() != ".xlsx":
            target = target / f"{Path(path).stem}.design.xlsx"
        target.parent.mkdir(parents=True, exist_ok=True)
        res.out = write_workbook(free_name(target, force), sheets, charts=lambda wb: add_design_charts(wb, sheets),
                                 inputs=[path])
    return res


def _stop_if_interrupted(outcomes) -> None:
    from planner.workflows.batch import INTERRUPTED

    if any(oc.exit_code == INTERRUPTED for oc in outcomes):
        raise KeyboardInterrupt  # the command says nothing was written (exit 130)


def _value(d, base, base_id, outs, outs2, ids, mean_plan, solves, nS, summary):
    if nS == 1:
        x = base.objective
        rows = [("WS", x, base_id, "one scenario"), ("RP", x, base_id, ""), ("EEV", x, base_id, ""),
                ("EVPI", 0.0, "", "one scenario: nothing to learn"), ("VSS", 0.0, "", "one scenario")]
        return pd.DataFrame(rows, columns=["figure", "value_musd", "solves", "note"]), pd.DataFrame()
    pi = dict(zip(d.scen, d.prob))
    ws = {oc.meta["scenario"]: oc for oc in outs if oc.meta.get("part") == "ws"}
    rp_oc = next((oc for oc in outs if oc.meta.get("part") == "rp"), None)
    rp, rp_id = (base.objective, base_id) if rp_oc is None else (
        rp_oc.objective if not rp_oc.exit_code else math.nan, ids[id(rp_oc)])
    rp_costs = _scen_costs(base if rp_oc is None else rp_oc)
    bad_ws = [s for s, oc in ws.items() if oc.exit_code]
    WS = float(sum(pi[s] * oc.objective for s, oc in ws.items())) if not bad_ws else math.nan
    ws_note = "" if not bad_ws else "failed for " + ", ".join(bad_ws) + ": " + " | ".join(
        ws[s].message[:300] for s in bad_ws)
    eev_oc = next((oc for oc in outs if oc.meta.get("part") == "eev"), None)
    gap = max([x for x in [base.gap] + [oc.gap for oc in ws.values()] if not math.isnan(x)] or [0.0])
    if mean_plan is None or mean_plan[0] != "ok":
        EEV, eev_note, eev_id = math.nan, "the mean scenario alone has no solution: " + (mean_plan[1] if mean_plan
                                                                                        else ""), ""
        VSS = math.nan
    elif eev_oc.exit_code and eev_oc.status == "infeasible":
        EEV, VSS = math.inf, math.inf
        eev_note = ("unbounded: the mean-scenario plan cannot serve every scenario. " + eev_oc.message)[:3000]
        eev_id = ids[id(eev_oc)]
    elif eev_oc.exit_code:
        EEV, VSS = math.nan, math.nan
        eev_note = f"the solve with the mean plan fixed stopped ({eev_oc.status}): {eev_oc.message}"[:3000]
        eev_id = ids[id(eev_oc)]
    else:
        EEV, eev_note, eev_id = eev_oc.objective, "", ids[id(eev_oc)]
        VSS = EEV - rp
    mean_id = next((r["solve"] for r in solves.rows if r["purpose"].startswith("EEV step 1")), "")
    noise = f"within {100 * gap:.3g}% MIP gap (about {abs(rp) * gap:,.1f} MUSD) a difference is solver tolerance"
    rows = [("WS", WS, ", ".join(ids[id(oc)] for oc in ws.values()),
             "Σ_s π_s · cost of s solved alone (perfect foresight)" + (f"; {ws_note}" if ws_note else "")),
            ("RP", rp, rp_id, "the stochastic (here-and-now) plan's expected cost, risk-neutral"),
            ("EEV", EEV, ", ".join(x for x in (mean_id, eev_id) if x),
             "the mean-scenario plan fixed, run through every scenario" + (f"; {eev_note}" if eev_note else "")),
            ("EVPI", rp - WS, "RP - WS", "value of perfect information; " + noise),
            ("VSS", VSS, "EEV - RP", "value of the stochastic solution; " + noise)]
    summary.update({f"value_{k}_musd": v for k, v, _, _ in rows})
    # hedge of each scenario's own plan
    hrows = []
    for oc in outs2:
        if oc.meta.get("part") != "hedge":
            continue
        s0 = oc.meta["plan_for"]
        costs = _scen_costs(oc) if not oc.exit_code else {}
        for s in d.scen:
            a = costs.get(s, math.nan) if not oc.exit_code else math.nan
            hrows.append({"plan_for": s0, "scenario": s, "probability": pi[s], "status": oc.status,
                          "plan_cost_musd": a, "stochastic_plan_cost_musd": rp_costs.get(s, math.nan),
                          "difference_musd": a - rp_costs.get(s, math.nan), "solve": ids[id(oc)],
                          "note": oc.message[:500] if oc.exit_code else ""})
        e = oc.objective - rp if not oc.exit_code else math.inf
        hrows.append({"plan_for": s0, "scenario": "(expected)", "probability": 1.0, "status": oc.status,
                      "plan_cost_musd": oc.objective if not oc.exit_code else math.inf,
                      "stochastic_plan_cost_musd": rp, "difference_musd": e, "solve": ids[id(oc)],
                      "note": "value of the hedge: expected cost of planning for this scenario alone, above the "
                              "stochastic plan" + ("" if not oc.exit_code else " (infeasible: " + oc.message[:400]
                                                   + ")")})
    return pd.DataFrame(rows, columns=["figure", "value_musd", "solves", "note"]), pd.DataFrame(hrows)


def _scen_costs(oc) -> dict:
    c = (oc.tables or {}).get("costs")
    if c is None or not len(c):
        return {}
    return {k: float(v) for k, v in c.groupby("scenario")["cost_musd"].sum().items()}


# ------------------------------------------------------------------ terminal
def print_design(res: Design) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    sh = res.sheets
    for s in res.skipped:
        con.print(f"[yellow]skipped[/]: {s}", markup=True)
    fl = sh.get("floors")
    if fl is not None and len(fl):
        t = Table(title="floors (USD/t): what makes every planned project bankable in expectation")
        for c in ("commodity", "workbook", "required", "required (worst)", "set by", "E support req. (MUSD)"):
            t.add_column(c, justify="left" if c in ("commodity", "set by") else "right")
        for r in fl.itertuples():
            t.add_row(str(r.commodity), _f(r.workbook_floor_usd_per_t), _f(r.required_floor_usd_per_t),
                      _f(r.required_floor_worst_usd_per_t), str(r.set_by_project)[:30],
                      _f(r.expected_support_required_musd, "{:,.1f}"))
        con.print(t)
    bud = sh.get("budgets")
    if bud is not None and len(bud) and bud["binds"].any():
        for r in bud[bud["binds"]].itertuples():
            con.print(f"budget would bind: {r.member} in {r.scenario} ({r.case} floors): share "
                      f"{r.support_share_musd:,.1f} MUSD > budget {r.fiscal_budget_musd:,.1f} MUSD", markup=False)
    sc = sh.get("security_cost")
    if sc is not None and "cap_share" in sc.columns and len(sc):
        t = Table(title="price of security (cost from 100 % to the tightest feasible cap)")
        for c in ("commodity", "tightest cap", "extra cost (MUSD)", "shadow at tightest (MUSD/pp)"):
            t.add_column(c, justify="left" if c == "commodity" else "right")
        for c, g in sc.groupby("commodity", sort=False):
            last = g.sort_values("cap_share").iloc[0]
            t.add_row(str(c), f"{100 * last.tightest_feasible_cap:.1f}%", _f(last.cost_vs_100pct_musd, "{:,.1f}"),
                      _f(last.shadow_price_musd_per_pp, "{:,.2f}"))
        con.print(t)
    v = sh.get("value")
    if v is not None and len(v):
        con.print("value (MUSD): " + ", ".join(f"{r.figure} {_f(r.value_musd, '{:,.1f}')}" for r in v.itertuples()),
                  markup=False)
        eev = v.set_index("figure")["note"].get("EEV", "")
        if isinstance(eev, str) and "unbounded" in eev:
            lines = eev.split("unbounded: ", 1)[-1].split("\n")
            con.print("EEV: " + "\n  ".join(lines[:4]) + ("\n  ... (sheet value)" if len(lines) > 4 else ""),
                      markup=False, highlight=False)
    h = sh.get("hedge")
    if h is not None and len(h):
        e = h[h["scenario"] == "(expected)"]
        con.print("hedge, planning for one scenario alone (MUSD above the stochastic plan): " + ", ".join(
            f"{r.plan_for} {'infeasible' if r.status == 'infeasible' else _f(r.difference_musd, '{:+,.1f}')}"
            for r in e.itertuples()), markup=False, highlight=False)
    if res.out:
        con.print(f"design: {res.out}", soft_wrap=True, markup=False, highlight=False)


def _f(x, fmt="{:,.0f}"):
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "unbounded" if x > 0 else "-inf"
    return fmt.format(x)
