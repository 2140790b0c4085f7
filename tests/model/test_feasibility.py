"""Feasibility of solved plans, checked from the outside.

Each case is solved once (``planner.workflows.run.solve_file``, results workbook
written), then the *results workbook is read back* with pandas and every
constraint of SPEC §3 is recomputed from the *input workbook*, read here
independently of ``planner.input.reader`` / ``planner.model.prepare`` (own
interpolation, scenario multipliers, availability, route rules, annuities):

- every supply row closes, and its terms agree with the capacity, offtakes,
  trade and stockpiles sheets (production incl. coproducts, input use ...);
- production ≤ availability × (existing + modules built and operating);
  builds inside their windows, integral, within max_modules;
- Σ_m imports from a supplier ≤ max_tpa × available_share, none when banned;
- stock level ≤ capacity, L_t = (1 − loss) L_{t−1} + fill − draw, end stock;
- 0 ≤ shortage ≤ demand, and none without a penalty;
- every security target (sheet rows and recomputed), anti-circumvention;
- offtake deliveries in [min(take, avail)·max, avail·max] when signed, 0 if not;
- exports ≤ bloc output, disposal only where allowed, fiscal budgets;
- the objective recomputed term by term from the input prices and costs, the
  costs sheet summing to it (expected over scenarios; CVaR when λ > 0).

The helpers (``Inputs``, ``check_all``) are reused by test_example.py.
"""
from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelkit import write_book
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inputs" / "bloc_example.xlsx"
MUSD = 1e-6


def tol(x: float = 0.0) -> float:
    """Tolerance in tonnes (or MUSD) around a value of magnitude x."""
    return 1e-4 + 1e-6 * abs(x)


# =============================================================================
# Independent reading of the input workbook (SPEC §2)
# =============================================================================
def _nn(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


def _bool(v, default: bool) -> bool:
    v = _nn(v)
    if v is None:
        return default
    if isinstance(v, str):
        return v.strip().lower() in ("true", "yes", "1")
    return bool(v)


def _f(v, default=None):
    v = _nn(v)
    return default if v is None else float(v)


def annuity(r: float, life: int) -> float:
    return 1.0 / life if abs(r) < 1e-12 else r / (1.0 - (1.0 + r) ** (-life))


class Inputs:
    """The input workbook as plain Python, with the derived parameters of SPEC §3."""

    def __init__(self, path):
        raw = pd.read_excel(path, sheet_name=None)
        self.sheets = {}
        for name, df in raw.items():
            df = df.copy()
            df.columns = [str(c).strip() for c in df.columns]
            if len(df) and isinstance(df.iloc[0, 0], str) and df.iloc[0, 0].strip().startswith("#"):
                df = df.iloc[1:]
            df = df.dropna(how="all")
            rows = []
            for r in df.to_dict("records"):
                rows.append({k: (v.strip() if isinstance(v, str) else _nn(v)) for k, v in r.items()})
            self.sheets[name] = rows
        st = {str(r["key"]).strip(): r["value"] for r in self.sheets["settings"]}
        self.y0, self.y1 = int(st["start_year"]), int(st["end_year"])
        self.years = list(range(self.y0, self.y1 + 1))
        self.r = _f(st.get("discount_rate"), 0.05)
        self.base_year = int(_f(st.get("base_year"), self.y0))
        self.delta = np.array([(1 + self.r) ** (-(t - self.base_year)) for t in self.years])
        self.objective = str(_nn(st.get("objective")) or "resource")
        self.default_penalty = _f(st.get("shortage_penalty_usd_per_t"))
        self.anti_circ = _bool(st.get("anti_circumvention"), True)
        self.all_pairs = _bool(st.get("trade_all_pairs"), True)
        self.default_route = _f(st.get("default_route_cost_usd_per_t"), 0.0)
        self.end_stock = _bool(st.get("end_stock_at_least_initial"), True)
        self.lam = _f(st.get("risk_aversion"), 0.0)
        self.alpha = _f(st.get("cvar_alpha"), 0.9)
        self.foresight = int(_f(st.get("foresight_years"), 0))
        self.tsv = _f(st.get("terminal_stock_value"), 1.0)
        sc = self.sheet("scenarios")
        self.scen = [str(r["scenario"]) for r in sc] or ["base"]
        self.prob = {str(r["scenario"]): float(r["probability"]) for r in sc} or {"base": 1.0}
        self.parent = {str(r["scenario"]): (str(r["parent"]) if _nn(r.get("parent")) is not None else None,
                                            int(r["branch_year"]) if _nn(r.get("branch_year")) is not None else None)
                       for r in sc}
        self.members = [str(r["member"]) for r in self.sheet("members")]
        self.comm = {r["commodity"]: r for r in self.sheet("commodities")}
        self.suppliers = {(r["supplier"], r["commodity"]): r for r in self.sheet("suppliers")}
        self.procs = {r["process"]: r for r in self.sheet("processes")}
        self.coprod = defaultdict(list)
        for r in self.sheet("coproducts"):
            self.coprod[r["process"]].append((r["commodity"], float(r["t_per_t_output"])))
        self.stockpiles = {(r["member"], r["commodity"]): r for r in self.sheet("stockpiles")}
        self.offtakes = {r["offtake"]: r for r in self.sheet("offtakes")}
        self.security = self.sheet("security")
        mem = self.sheet("members")
        shares = [_f(r.get("burden_share")) for r in mem]
        if all(s is None for s in shares):
            self.burden = {m: 1.0 / len(mem) for m in self.members}
        else:
            tot = sum(shares)
            self.burden = {str(r["member"]): s / tot for r, s in zip(mem, shares)}
        self.budget = {str(r["member"]): float(r["fiscal_budget_musd"]) for r in mem
                       if _nn(r.get("fiscal_budget_musd")) is not None}

    def sheet(self, name):
        return self.sheets.get(name, [])

    # ---------------------------------------------------------------- indices
    def ti(self, t) -> int:
        return int(t) - self.y0

    def si(self, s) -> int:
        return self.scen.index(s)

    def yr(self, a, b):
        lo = max(int(_f(a, self.y0)), self.y0)
        hi = min(int(_f(b, self.y1)), self.y1)
        return range(lo, hi + 1)

    def _interp(self, pts: dict) -> np.ndarray:
        xs = sorted(pts)
        return np.interp(self.years, xs, [pts[x] for x in xs])

    def _mult(self, rows) -> np.ndarray:
        a = np.ones((len(self.scen), len(self.years)))
        for r in rows:
            if r["scenario"] not in self.scen:
                continue
            for t in self.yr(r.get("from_year"), r.get("to_year")):
                a[self.si(r["scenario"]), self.ti(t)] *= float(r["multiplier"])
        return a

    # ---------------------------------------------------------------- parameters
    def price(self, c) -> np.ndarray:
        pts = {int(r["year"]): float(r["price_usd_per_t"]) for r in self.sheet("market_prices") if r["commodity"] == c}
        base = self._interp(pts)
        rows = [r for r in self.sheet("scenario_prices") if r["commodity"] == c and _nn(r.get("supplier")) is None]
        return base[None, :] * self._mult(rows)

    def sprice(self, x, c) -> np.ndarray:
        row = self.suppliers[(x, c)]
        own = [r for r in self.sheet("scenario_prices") if r["commodity"] == c and _nn(r.get("supplier")) == x]
        return self.price(c) * _f(row.get("price_factor"), 1.0) * self._mult(own)

    def floor(self, c):
        return _f(self.comm[c].get("floor_price_usd_per_t"))

    def tariff(self, x, c) -> np.ndarray:
        row = self.suppliers[(x, c)]
        t = np.full((len(self.scen), len(self.years)), _f(row.get("tariff_usd_per_t"), 0.0))
        fl = self.floor(c)
        if _bool(row.get("border_adjusted"), False) and fl is not None:
            t = np.maximum(t, fl - self.sprice(x, c))
        return t

    def demand(self, m, c) -> np.ndarray:
        pts = {int(r["year"]): float(r["demand_t"]) for r in self.sheet("demand")
               if r["member"] == m and r["commodity"] == c}
        if not pts:
            return np.zeros((len(self.scen), len(self.years)))
        rows = [r for r in self.sheet("scenario_demand") if r["commodity"] == c and _nn(r.get("member")) in (None, m)]
        return self._interp(pts)[None, :] * self._mult(rows)

    def demand_keys(self):
        return sorted({(r["member"], r["commodity"]) for r in self.sheet("demand")})

    def avail(self, name, c) -> np.ndarray:
        a = np.ones((len(self.scen), len(self.years)))
        for r in self.sheet("disruptions"):
            if r["supplier"] == name and _nn(r.get("commodity")) in (None, c) and r["scenario"] in self.scen:
                for t in self.yr(r["from_year"], r["to_year"]):
                    i, j = self.si(r["scenario"]), self.ti(t)
                    a[i, j] = min(a[i, j], float(r["available_share"]))
        return a

    def disrupted(self, c) -> np.ndarray:
        out = np.zeros((len(self.scen), len(self.years)), dtype=bool)
        names = {x for (x, cc) in self.suppliers if cc == c} | {o["seller"] for o in self.offtakes.values()
                                                               if o["commodity"] == c}
        for n in names:
            out |= self.avail(n, c) < 1.0
        return out

    def replacement(self, c, s) -> float | None:
        """R_c,end,s: the lowest supplier price of c available in the last year, else the market price."""
        si = self.si(s)
        best = [float(self.sprice(x, cc)[si, -1]) for (x, cc) in self.suppliers
                if cc == c and self.avail(x, c)[si, -1] > 0 and any(r["commodity"] == c
                                                                     for r in self.sheet("market_prices"))]
        if best:
            return min(best)
        if any(r["commodity"] == c for r in self.sheet("market_prices")):
            return float(self.price(c)[si, -1])
        return None

    def shared_until(self) -> dict:
        """(s, s') -> first year in which their operations may differ (SPEC §3 "Information")."""
        out = {}
        if any(p for p, _ in self.parent.values()):
            def trunk(s, t):  # the scenario whose operations s uses in year t
                while True:
                    p, b = self.parent.get(s, (None, None))
                    if p is None or b is None or t >= b:
                        return s
                    s = p
            for a in self.scen:
                for b in self.scen:
                    out[(a, b)] = next((t for t in self.years if trunk(a, t) != trunk(b, t)), self.y1 + 1)
            return out
        data = []
        for c in {r["commodity"] for r in self.sheet("market_prices")}:
            data.append(self.price(c))
        for (x, c) in self.suppliers:
            if any(r["commodity"] == c for r in self.sheet("market_prices")):
                data.append(self.sprice(x, c))
            data.append(self.avail(x, c))
        for o in self.offtakes.values():
            data.append(self.avail(o["seller"], o["commodity"]))
        for (m, c) in self.demand_keys():
            data.append(self.demand(m, c))
        for a in self.scen:
            for b in self.scen:
                ia, ib = self.si(a), self.si(b)
                first = next((t for t in self.years
                              if any(not np.isclose(x[ia, self.ti(t)], x[ib, self.ti(t)], rtol=1e-12, atol=0)
                                     for x in data)), None)
                out[(a, b)] = self.y1 + 1 if first is None else first - self.foresight
        return out

    def penalty(self, c):
        v = _f(self.comm[c].get("shortage_penalty_usd_per_t"))
        return self.default_penalty if v is None else v

    def route(self, m, n, c):
        """(allowed, cost) of the directed route m -> n for commodity c."""
        pair = comm = None
        for r in self.sheet("routes"):
            if r["from"] != m or r["to"] != n or m == n:
                continue
            rule = (_bool(r.get("allowed"), True), _f(r.get("cost_usd_per_t"), self.default_route))
            if _nn(r.get("commodity")) is None:
                pair = rule
            elif r["commodity"] == c:
                comm = rule
        rule = comm or pair
        if rule is None:
            return (self.all_pairs, self.default_route)
        return rule

    def proc_int(self, p) -> bool:
        return _bool(self.procs[p].get("integer_modules"), True)


# =============================================================================
# Reading the results workbook
# =============================================================================
class Results:
    def __init__(self, path):
        self.path = Path(path)
        self.t = pd.read_excel(path, sheet_name=None)
        for name, df in self.t.items():
            for col in ("year", "build_year", "online_year", "security_row"):
                if col in df.columns and len(df):
                    df[col] = df[col].astype(int)
        self.summary = dict(zip(self.t["summary"]["key"], self.t["summary"]["value"]))

    def __getitem__(self, name) -> pd.DataFrame:
        return self.t[name]

    @property
    def objective(self) -> float:
        return float(self.summary["objective_musd"])


# =============================================================================
# Checks: each returns a list of violations (strings); [] = all good
# =============================================================================
SUPPLY_IN = ["production_t", "imports_concern_t", "imports_other_t", "offtake_t", "offtake_concern_t", "trade_in_t",
             "stock_draw_t", "shortage_t"]
SUPPLY_OUT = ["input_use_t", "trade_out_t", "stock_fill_t", "exports_t", "disposal_t"]


def builds(inp: Inputs, res: Results):
    """{process: [(year, modules)]}, {(m, c): [(year, t)]}, {offtake: signed}."""
    inv = res["investments"]
    mods, stock, signed = defaultdict(list), defaultdict(list), {}
    for r in inv.itertuples(index=False):
        if r.kind == "process modules":
            mods[r.item].append((int(r.build_year), float(r.quantity)))
        elif r.kind == "stockpile capacity":
            stock[(r.member, r.commodity)].append((int(r.build_year), float(r.quantity)))
        elif r.kind == "offtake signed":
            signed[r.item] = True
    for o in inp.offtakes:
        signed.setdefault(o, False)
    return mods, stock, signed


def process_capacity(inp: Inputs, mods, p, t) -> float:
    row = inp.procs[p]
    until = _f(row.get("existing_until"))
    ex = _f(row.get("existing_tpa"), 0.0) if (until is None or t <= until) else 0.0
    mt = _f(row.get("module_tpa"), 0.0)
    lead, life = int(_f(row.get("lead_time_years"), 0)), int(_f(row.get("lifetime_years"), 25))
    new = sum(b for y, b in mods.get(p, []) if y + lead <= t < y + lead + life)
    return ex + mt * new


def stock_capacity(inp: Inputs, stock, m, c, t) -> float:
    sp = inp.stockpiles[(m, c)]
    lead, life = int(_f(sp.get("lead_time_years"), 0)), int(_f(sp.get("lifetime_years"), 30))
    return _f(sp.get("existing_capacity_t"), 0.0) + sum(k for y, k in stock.get((m, c), [])
                                                         if y + lead <= t < y + lead + life)


def check_builds(inp: Inputs, res: Results):
    bad = []
    mods, stock, _ = builds(inp, res)
    for p, bl in mods.items():
        row = inp.procs[p]
        lead = int(_f(row.get("lead_time_years"), 0))
        first = max(int(_f(row.get("first_build_year"), inp.y0)), inp.y0)
        if not _f(row.get("module_tpa"), 0.0):
            bad.append(f"{p}: built without module_tpa")
        for y, b in bl:
            if not first <= y <= inp.y1 - lead:
                bad.append(f"{p}: built in {y}, outside {first}..{inp.y1 - lead}")
            if inp.proc_int(p) and abs(b - round(b)) > 1e-6:
                bad.append(f"{p}: {b} modules in {y}, not integral")
        mm = _f(row.get("max_modules"))
        if mm is not None and sum(b for _, b in bl) > mm + 1e-6:
            bad.append(f"{p}: {sum(b for _, b in bl)} modules > max_modules {mm}")
    for (m, c), bl in stock.items():
        sp = inp.stockpiles[(m, c)]
        lead = int(_f(sp.get("lead_time_years"), 0))
        if _f(sp.get("capex_usd_per_t")) is None:
            bad.append(f"stockpile {m}/{c}: capacity built without capex_usd_per_t")
        for y, _k in bl:
            if not inp.y0 <= y <= inp.y1 - lead:
                bad.append(f"stockpile {m}/{c}: built in {y}")
        mx = _f(sp.get("max_capacity_t"))
        tot = _f(sp.get("existing_capacity_t"), 0.0) + sum(k for _, k in bl)
        if mx is not None and tot > mx + tol(mx):
            bad.append(f"stockpile {m}/{c}: total capacity {tot} > max {mx}")
    return bad


def check_capacity(inp: Inputs, res: Results):
    bad = []
    mods, _, _ = builds(inp, res)
    cap = res["capacity"]
    seen = set()
    for r in cap.itertuples(index=False):
        p, t, s = r.process, int(r.year), r.scenario
        seen.add((p, t, s))
        avail = _f(inp.procs[p].get("availability"), 1.0)
        c = process_capacity(inp, mods, p, t)
        if abs(c - r.capacity_tpa) > tol(c):
            bad.append(f"{p} {t} {s}: capacity sheet {r.capacity_tpa} vs recomputed {c}")
        if r.production_t < -tol():
            bad.append(f"{p} {t} {s}: negative production {r.production_t}")
        if r.production_t > avail * c + tol(c):
            bad.append(f"{p} {t} {s}: production {r.production_t} > available {avail * c}")
    # a process-year absent from the sheet must have no capacity at all
    for p in inp.procs:
        for t in inp.years:
            if process_capacity(inp, mods, p, t) > 0:
                for s in inp.scen:
                    if (p, t, s) not in seen:
                        bad.append(f"{p} {t} {s}: capacity exists but no row in the capacity sheet")
    return bad


def independent_terms(inp: Inputs, res: Results) -> dict:
    """(m, c, t, s) -> {column: t}, rebuilt from the capacity, offtakes, trade and stockpiles sheets."""
    terms = defaultdict(lambda: defaultdict(float))
    for r in res["capacity"].itertuples(index=False):
        q = float(r.production_t)
        if not q:
            continue
        p = inp.procs[r.process]
        k = (p["member"], p["output"], int(r.year), r.scenario)
        terms[k]["production_t"] += q
        for c, y in inp.coprod.get(r.process, []):
            terms[(p["member"], c, int(r.year), r.scenario)]["production_t"] += y * q
        if _nn(p.get("input")) is not None:
            terms[(p["member"], p["input"], int(r.year), r.scenario)]["input_use_t"] += \
                _f(p.get("input_per_output"), 1.0) * q
    for r in res["offtakes"].itertuples(index=False):
        o = inp.offtakes[r.offtake]
        col = "offtake_concern_t" if _bool(o.get("country_of_concern"), False) else "offtake_t"
        terms[(o["member"], o["commodity"], int(r.year), r.scenario)][col] += float(r.delivered_t)
    for r in res["trade"].rename(columns={"from": "frm"}).itertuples(index=False):
        terms[(r.frm, r.commodity, int(r.year), r.scenario)]["trade_out_t"] += float(r.flow_t)
        terms[(r.to, r.commodity, int(r.year), r.scenario)]["trade_in_t"] += float(r.flow_t)
    for r in res["stockpiles"].itertuples(index=False):
        k = (r.member, r.commodity, int(r.year), r.scenario)
        terms[k]["stock_fill_t"] += float(r.fill_t)
        terms[k]["stock_draw_t"] += float(r.draw_t)
    return terms


def supplier_columns(res: Results) -> list[str]:
    return [c for c in res["supply"].columns if c.startswith("imports_from_") and c.endswith("_t")]


def check_balance(inp: Inputs, res: Results):
    bad = []
    sup = res["supply"].fillna(0.0)
    need = SUPPLY_IN + SUPPLY_OUT + ["demand_t"]
    missing = [c for c in need if c not in sup.columns]
    if missing:
        return [f"supply sheet lacks columns {missing}"]
    xcols = supplier_columns(res)
    if not xcols and inp.suppliers:
        bad.append("supply sheet has no per-supplier imports_from_<supplier>_t columns")
    ind = independent_terms(inp, res)
    rows = set()
    for r in sup.to_dict("records"):
        k = (r["member"], r["commodity"], int(r["year"]), r["scenario"])
        if k in rows:
            bad.append(f"supply row {k} repeated")
        rows.add(k)
        lhs = sum(r[c] for c in SUPPLY_IN) - sum(r[c] for c in SUPPLY_OUT)
        scale = max(abs(r[c]) for c in need)
        if abs(lhs - r["demand_t"]) > tol(scale):
            bad.append(f"balance {k}: supply - use = {lhs} != demand {r['demand_t']}")
        dem = inp.demand(k[0], k[1])[inp.si(k[3]), inp.ti(k[2])] if k[1] in inp.comm else 0.0
        if abs(dem - r["demand_t"]) > tol(dem):
            bad.append(f"demand {k}: sheet {r['demand_t']} vs input {dem}")
        for c in need:
            if r[c] < -tol():
                bad.append(f"{k}: negative {c} = {r[c]}")
        for c in ("production_t", "input_use_t", "offtake_t", "offtake_concern_t", "trade_in_t", "trade_out_t",
                  "stock_fill_t", "stock_draw_t"):
            v = ind.get(k, {}).get(c, 0.0)
            if abs(v - r[c]) > tol(v):
                bad.append(f"{k}: supply {c} = {r[c]} but the other sheets give {v}")
        if xcols:
            conc = sum(r[x] for x in xcols if _bool(inp.suppliers.get((x[13:-2], k[1]), {}).get(
                "country_of_concern"), False))
            other = sum(r[x] for x in xcols) - conc
            if abs(conc - r["imports_concern_t"]) > tol(conc) or abs(other - r["imports_other_t"]) > tol(other):
                bad.append(f"{k}: per-supplier imports ({conc}, {other}) do not add up to the concern/other columns")
            for x in xcols:
                if r[x] > tol() and (x[13:-2], k[1]) not in inp.suppliers:
                    bad.append(f"{k}: imports from {x[13:-2]}, which does not sell {k[1]}")
    for k, cols in ind.items():
        if k not in rows and any(abs(v) > tol(v) for v in cols.values()):
            bad.append(f"{k}: terms {dict(cols)} but no supply row")
    for (m, c) in inp.demand_keys():
        arr = inp.demand(m, c)
        for s in inp.scen:
            for t in inp.years:
                if arr[inp.si(s), inp.ti(t)] > 0 and (m, c, t, s) not in rows:
                    bad.append(f"demand ({m}, {c}, {t}, {s}) has no supply row")
    return bad


def check_suppliers(inp: Inputs, res: Results):
    bad = []
    sup = res["supply"].fillna(0.0)
    for (x, c), row in inp.suppliers.items():
        col = f"imports_from_{x}_t"
        if col not in sup.columns:
            continue
        got = sup[sup["commodity"] == c].groupby(["year", "scenario"])[col].sum()
        mx = _f(row.get("max_tpa"))
        av = inp.avail(x, c)
        for (t, s), v in got.items():
            a = av[inp.si(s), inp.ti(t)]
            if a <= 0 and v > tol():
                bad.append(f"{x}/{c} {t} {s}: {v} t imported while banned")
            if mx is not None and v > mx * a + tol(mx):
                bad.append(f"{x}/{c} {t} {s}: {v} t > max_tpa {mx} x available {a}")
    return bad


def check_stocks(inp: Inputs, res: Results):
    bad = []
    _, stock, _ = builds(inp, res)
    st = res["stockpiles"]
    for (m, c), sp in inp.stockpiles.items():
        loss = _f(sp.get("loss_rate"), 0.0)
        ini = _f(sp.get("initial_stock_t"), 0.0)
        ex = _f(sp.get("existing_capacity_t"), 0.0)
        if ini > ex + tol(ex):
            bad.append(f"stockpile {m}/{c}: initial {ini} > existing capacity {ex}")
        g = st[(st["member"] == m) & (st["commodity"] == c)]
        for s in inp.scen:
            gs = g[g["scenario"] == s].set_index("year")
            if sorted(gs.index) != inp.years:
                bad.append(f"stockpile {m}/{c} {s}: years {sorted(gs.index)}")
                continue
            prev = ini
            for t in inp.years:
                r = gs.loc[t]
                cap = stock_capacity(inp, stock, m, c, t)
                if abs(cap - r["capacity_t"]) > tol(cap):
                    bad.append(f"stockpile {m}/{c} {t} {s}: capacity sheet {r['capacity_t']} vs {cap}")
                if r["level_t"] > cap + tol(cap) or r["level_t"] < -tol():
                    bad.append(f"stockpile {m}/{c} {t} {s}: level {r['level_t']} outside [0, {cap}]")
                want = (1 - loss) * prev + r["fill_t"] - r["draw_t"]
                if abs(want - r["level_t"]) > tol(want):
                    bad.append(f"stockpile {m}/{c} {t} {s}: level {r['level_t']} != (1-loss)L + fill - draw = {want}")
                if r["fill_t"] < -tol() or r["draw_t"] < -tol():
                    bad.append(f"stockpile {m}/{c} {t} {s}: negative fill/draw")
                prev = r["level_t"]
            if inp.end_stock and prev < ini - tol(ini):
                bad.append(f"stockpile {m}/{c} {s}: ends at {prev} < initial {ini}")
    return bad


def check_shortage_exports(inp: Inputs, res: Results):
    bad = []
    sup = res["supply"].fillna(0.0)
    for r in sup.to_dict("records"):
        k = (r["member"], r["commodity"], int(r["year"]), r["scenario"])
        c = k[1]
        if r["shortage_t"] > r["demand_t"] + tol(r["demand_t"]):
            bad.append(f"{k}: shortage {r['shortage_t']} > demand {r['demand_t']}")
        if r["shortage_t"] > tol() and inp.penalty(c) is None:
            bad.append(f"{k}: shortage without a penalty")
        if r["exports_t"] > tol() and _f(inp.comm[c].get("export_price_factor")) is None:
            bad.append(f"{k}: exports of a commodity without export_price_factor")
        if r["disposal_t"] > tol() and _f(inp.comm[c].get("disposal_cost_usd_per_t")) is None:
            bad.append(f"{k}: disposal of a commodity without disposal_cost")
    g = sup.groupby(["commodity", "year", "scenario"])[["production_t", "exports_t", "disposal_t"]].sum()
    for (c, t, s), r in g.iterrows():
        if r["exports_t"] > r["production_t"] + tol(r["production_t"]):
            bad.append(f"{c} {t} {s}: exports {r['exports_t']} > bloc output {r['production_t']}")
        if inp.floor(c) is not None and r["disposal_t"] > r["production_t"] + tol(r["production_t"]):
            bad.append(f"{c} {t} {s}: floored disposal {r['disposal_t']} > bloc output {r['production_t']}")
    if inp.anti_circ:
        for r in sup.to_dict("records"):
            lhs = r["imports_concern_t"] + r["offtake_concern_t"]
            rhs = r["demand_t"] + r["input_use_t"] + r["stock_fill_t"]
            if lhs > rhs + tol(rhs):
                bad.append(f"anti-circumvention {r['member']} {r['commodity']} {r['year']} {r['scenario']}: "
                           f"concern supply {lhs} > own use {rhs}")
    # trade only on allowed routes
    for r in res["trade"].rename(columns={"from": "frm"}).itertuples(index=False):
        m = r.frm
        ok, _ = inp.route(m, r.to, r.commodity)
        if not ok or m == r.to:
            bad.append(f"trade {m}->{r.to} {r.commodity} on a route that is not allowed")
    return bad


def check_offtakes(inp: Inputs, res: Results):
    bad = []
    _, _, signed = builds(inp, res)
    off = res["offtakes"]
    for name, o in inp.offtakes.items():
        g = off[off["offtake"] == name]
        yrs = list(inp.yr(o.get("start_year"), o.get("end_year")))
        if len(g) != len(yrs) * len(inp.scen):
            bad.append(f"offtake {name}: {len(g)} rows for {len(yrs)} years x {len(inp.scen)} scenarios")
        if len(g) and bool(g["signed"].iloc[0]) != signed[name]:
            bad.append(f"offtake {name}: offtakes sheet and investments disagree on signing")
        av = inp.avail(o["seller"], o["commodity"])
        mx, take = float(o["max_tpa"]), _f(o.get("min_take_share"), 0.0)
        for r in g.itertuples(index=False):
            t, s, q = int(r.year), r.scenario, float(r.delivered_t)
            if t not in yrs:
                bad.append(f"offtake {name}: a row for {t}, outside the contract")
            a = av[inp.si(s), inp.ti(t)]
            if not signed[name]:
                if abs(q) > tol():
                    bad.append(f"offtake {name} {t} {s}: {q} t delivered but not signed")
                continue
            lo, hi = min(take, a) * mx, mx * a
            if q < lo - tol(lo) or q > hi + tol(hi):
                bad.append(f"offtake {name} {t} {s}: {q} t outside [{lo}, {hi}]")
    return bad


def check_security(inp: Inputs, res: Results):
    """The security sheet's own rows, then every target recomputed from the supply and stockpile sheets."""
    bad = []
    sec = res["security"]
    for r in sec.itertuples(index=False):
        if r.target.startswith("max_"):
            if r.value_t > r.limit_t + tol(r.limit_t):
                bad.append(f"security row {r.security_row} {r.target} {r.member} {r.commodity} {r.year} {r.scenario}: "
                           f"{r.value_t} > {r.limit_t} (achieved {r.achieved} vs limit {r.limit})")
            if r.achieved == r.achieved and r.achieved > r.limit + 1e-6:
                bad.append(f"security row {r.security_row} {r.target} {r.year} {r.scenario}: achieved {r.achieved} "
                           f"> limit {r.limit}")
        else:
            if r.value_t < r.limit_t - tol(r.limit_t):
                bad.append(f"security row {r.security_row} {r.target} {r.member} {r.commodity} {r.year} {r.scenario}: "
                           f"{r.value_t} < {r.limit_t} (achieved {r.achieved} vs limit {r.limit})")
            if r.achieved == r.achieved and r.achieved < r.limit - 1e-6:
                bad.append(f"security row {r.security_row} {r.target} {r.year} {r.scenario}: achieved {r.achieved} "
                           f"< limit {r.limit}")
    sup = res["supply"].fillna(0.0)
    sidx = sup.set_index(["member", "commodity", "year", "scenario"])
    st = res["stockpiles"].set_index(["member", "commodity", "year", "scenario"])["level_t"]
    n_expected = 0
    for i, row in enumerate(inp.security):
        c = row["commodity"]
        members = inp.members if _nn(row.get("member")) is None else [row["member"]]
        dis = inp.disrupted(c)
        for kind in ("max_concern_share", "min_stock_days", "min_domestic_share", "max_shortage_share"):
            val = _f(row.get(kind))
            if val is None:
                continue
            for s in inp.scen:
                for t in inp.yr(row.get("from_year"), row.get("to_year")):
                    sel = [(m, c, t, s) for m in members if (m, c, t, s) in sidx.index]
                    part = sidx.loc[sel] if sel else sidx.iloc[:0]
                    dem = sum(inp.demand(m, c)[inp.si(s), inp.ti(t)] for m in members if c in inp.comm)
                    cons = dem + float(part["input_use_t"].sum())
                    if kind == "max_concern_share":
                        v = float((part["imports_concern_t"] + part["offtake_concern_t"]).sum())
                        ok = v <= val * cons + tol(cons)
                    elif kind == "min_stock_days":
                        if dis[inp.si(s), inp.ti(t)]:
                            continue
                        v = sum(float(st.get((m, c, t, s), 0.0)) for m in members)
                        ok = v >= val / 365.0 * cons - tol(cons)
                    elif kind == "min_domestic_share":
                        v = float(part["production_t"].sum())
                        ok = v >= val * cons - tol(cons)
                    else:
                        v = float(part["shortage_t"].sum())
                        ok = v <= val * dem + tol(dem)
                    n_expected += 1
                    if not ok:
                        bad.append(f"security input row {i} {kind}={val} {members if len(members) == 1 else 'bloc'} "
                                   f"{c} {t} {s}: value {v} t vs consumption {cons} t (demand {dem})")
    if len(sec) > n_expected:
        bad.append(f"security sheet has {len(sec)} rows, more than the {n_expected} constraints of the input")
    return bad


def recompute_costs(inp: Inputs, res: Results) -> dict:
    """(scenario, category) -> MUSD, from the input prices and costs and the plan's quantities."""
    out = defaultdict(float)
    mods, stock, signed = builds(inp, res)
    D = inp.delta

    def ops_disc(y, lead, life):
        return sum(D[inp.ti(t)] for t in range(y + lead, y + lead + life) if inp.y0 <= t <= inp.y1)

    first = defaultdict(float)
    for p, bl in mods.items():
        row = inp.procs[p]
        lead, life = int(_f(row.get("lead_time_years"), 0)), int(_f(row.get("lifetime_years"), 25))
        for y, b in bl:
            first["capex"] += b * float(row["capex_musd_per_module"]) * annuity(inp.r, life) * ops_disc(y, lead, life)
            first["fixed_om"] += b * _f(row.get("fixed_om_musd_per_module_yr"), 0.0) * ops_disc(y, lead, life)
    for (m, c), bl in stock.items():
        sp = inp.stockpiles[(m, c)]
        lead, life = int(_f(sp.get("lead_time_years"), 0)), int(_f(sp.get("lifetime_years"), 30))
        for y, k in bl:
            first["stock_capex"] += k * float(sp["capex_usd_per_t"]) * MUSD * annuity(inp.r, life) * \
                ops_disc(y, lead, life)
    for o, ok in signed.items():
        row = inp.offtakes[o]
        yrs = inp.yr(row.get("start_year"), row.get("end_year"))
        if ok and len(yrs):
            first["signing"] += _f(row.get("signing_cost_musd"), 0.0) * D[inp.ti(yrs[0])]
    for s in inp.scen:
        for k, v in first.items():
            out[(s, k)] += v
    for r in res["capacity"].itertuples(index=False):
        vc = _f(inp.procs[r.process].get("variable_cost_usd_per_t"), 0.0)
        out[(r.scenario, "variable")] += D[inp.ti(r.year)] * vc * float(r.production_t) * MUSD
    sup = res["supply"].fillna(0.0)
    market = inp.objective == "market"
    price_cache = {}
    for (x, c) in inp.suppliers:
        col = f"imports_from_{x}_t"
        if col not in sup.columns:
            continue
        g = sup[(sup["commodity"] == c) & (sup[col] != 0)]
        if not len(g):
            continue
        px, tar = inp.sprice(x, c), inp.tariff(x, c)
        for t, s, q in g[["year", "scenario", col]].itertuples(index=False, name=None):
            si, ti = inp.si(s), inp.ti(t)
            out[(s, "imports")] += D[ti] * px[si, ti] * q * MUSD
            out[(s, "_tariff_revenue")] += D[ti] * tar[si, ti] * q * MUSD
    for r in res["offtakes"].itertuples(index=False):
        o = inp.offtakes[r.offtake]
        c = o["commodity"]
        P = price_cache.setdefault(c, inp.price(c))
        si, ti = inp.si(r.scenario), inp.ti(r.year)
        out[(r.scenario, "offtakes")] += D[ti] * max(float(o["floor_price_usd_per_t"]), P[si, ti]) * \
            float(r.delivered_t) * MUSD
    for r in res["trade"].rename(columns={"from": "frm"}).itertuples(index=False):
        _, cost = inp.route(r.frm, r.to, r.commodity)
        out[(r.scenario, "transport")] += D[inp.ti(r.year)] * cost * float(r.flow_t) * MUSD
    for r in res["stockpiles"].itertuples(index=False):
        h = _f(inp.stockpiles[(r.member, r.commodity)].get("holding_cost_usd_per_t_yr"), 0.0)
        out[(r.scenario, "holding")] += D[inp.ti(r.year)] * h * float(r.level_t) * MUSD
    for r in sup.itertuples(index=False):
        c, si, ti, s = r.commodity, inp.si(r.scenario), inp.ti(r.year), r.scenario
        if r.shortage_t:
            out[(s, "shortage")] += D[ti] * inp.penalty(c) * r.shortage_t * MUSD
        if r.disposal_t:
            out[(s, "disposal")] += D[ti] * float(inp.comm[c]["disposal_cost_usd_per_t"]) * r.disposal_t * MUSD
        if r.exports_t:
            P = price_cache.setdefault(c, inp.price(c))
            out[(s, "export_revenue")] -= D[ti] * P[si, ti] * float(inp.comm[c]["export_price_factor"]) * \
                r.exports_t * MUSD
        fl = inp.floor(c)
        if fl is not None and (r.production_t or r.disposal_t):
            P = price_cache.setdefault(c, inp.price(c))
            out[(s, "_floor_support")] += D[ti] * max(0.0, fl - P[si, ti]) * (r.production_t - r.disposal_t) * MUSD
    if inp.tsv > 0:  # SPEC §3 "Terminal value": stock left at end_year credited at replacement cost
        for r in res["stockpiles"].itertuples(index=False):
            if int(r.year) == inp.y1 and r.level_t:
                R = inp.replacement(r.commodity, r.scenario)
                if R is not None:
                    out[(r.scenario, "terminal_value")] -= inp.tsv * D[-1] * R * float(r.level_t) * MUSD
    if market:
        for s in inp.scen:
            out[(s, "tariffs")] += out[(s, "_tariff_revenue")]
            out[(s, "floor_support")] -= out[(s, "_floor_support")]
    return out


def check_costs(inp: Inputs, res: Results):
    bad = []
    costs = res["costs"]
    rec = recompute_costs(inp, res)
    sheet = costs.groupby(["scenario", "category"])["cost_musd"].sum().to_dict()
    cats = {k for k in set(rec) | set(sheet) if not k[1].startswith("_")}
    for k in sorted(cats):
        a, b = rec.get(k, 0.0), sheet.get(k, 0.0)
        if abs(a - b) > 1e-6 * max(1.0, abs(a)):
            bad.append(f"cost {k}: costs sheet {b} vs recomputed {a}")
    per_s = {s: sum(v for (ss, c), v in rec.items() if ss == s and not c.startswith("_")) for s in inp.scen}
    sheet_s = costs.groupby("scenario")["cost_musd"].sum().to_dict()
    expected = sum(inp.prob[s] * sheet_s.get(s, 0.0) for s in inp.scen)
    exp_rec = sum(inp.prob[s] * per_s[s] for s in inp.scen)
    if inp.lam > 0:
        # CVaR of a discrete distribution: min over eta of eta + E[(cost - eta)+] / (1 - alpha); eta at a cost_s
        cv = min(e + sum(inp.prob[s] * max(0.0, per_s[s] - e) for s in inp.scen) / (1 - inp.alpha)
                 for e in per_s.values())
        obj = (1 - inp.lam) * exp_rec + inp.lam * cv
    else:
        obj = exp_rec
        if abs(expected - res.objective) > 1e-6 * max(1.0, abs(expected)):
            bad.append(f"costs sheet expected {expected} != objective {res.objective}")
    if abs(obj - res.objective) > 1e-6 * max(1.0, abs(obj)):
        bad.append(f"recomputed objective {obj} != objective {res.objective}")
    # fiscal: support shares within budgets, and as recomputed
    fis = res["fiscal"]
    for r in fis.itertuples(index=False):
        sup_s = rec.get((r.scenario, "_floor_support"), 0.0)
        share = inp.burden.get(r.member, 0.0)
        if abs(share * sup_s - r.floor_support_share_musd) > 1e-6 * max(1.0, abs(sup_s)):
            bad.append(f"fiscal {r.member} {r.scenario}: support share {r.floor_support_share_musd} vs "
                       f"recomputed {share * sup_s}")
        b = inp.budget.get(r.member)
        if b is not None and share * sup_s > b + 1e-6 * max(1.0, b):
            bad.append(f"fiscal {r.member} {r.scenario}: support share {share * sup_s} > budget {b}")
        if b is not None and abs((b - share * sup_s) - r.budget_slack_musd) > 1e-6 * max(1.0, b):
            bad.append(f"fiscal {r.member} {r.scenario}: budget_slack {r.budget_slack_musd} != budget - share "
                       f"{b - share * sup_s}")
    tar = fis.groupby("scenario")["tariff_revenue_musd"].sum().to_dict()
    for s in inp.scen:
        a = rec.get((s, "_tariff_revenue"), 0.0)
        if abs(a - tar.get(s, 0.0)) > 1e-6 * max(1.0, abs(a)):
            bad.append(f"tariff revenue {s}: fiscal sheet {tar.get(s, 0.0)} vs recomputed {a}")
    return bad


def check_information(inp: Inputs, res: Results):
    """SPEC §3 "Information": every operation of a year is the same in two scenarios that cannot yet be
    told apart (before the first year their data differ, less foresight_years; or before the branch
    year of an explicit tree)."""
    bad = []
    until = inp.shared_until()
    tables = [("capacity", ["process", "year"], ["production_t"]),
              ("supply", ["member", "commodity", "year"], SUPPLY_IN + SUPPLY_OUT),
              ("stockpiles", ["member", "commodity", "year"], ["level_t", "fill_t", "draw_t"]),
              ("offtakes", ["offtake", "year"], ["delivered_t"]),
              ("trade", ["from", "to", "commodity", "year"], ["flow_t"])]
    for name, keys, cols in tables:
        df = res[name]
        if not len(df):
            continue
        cols = [c for c in cols if c in df.columns]
        wide = df.pivot_table(index=keys, columns="scenario", values=cols, aggfunc="sum", fill_value=0.0)
        for (a, b), t1 in until.items():
            if a >= b or t1 <= inp.y0:
                continue
            for col in cols:
                if (col, a) not in wide.columns and (col, b) not in wide.columns:
                    continue
                va = wide[(col, a)] if (col, a) in wide.columns else 0.0 * wide.iloc[:, 0]
                vb = wide[(col, b)] if (col, b) in wide.columns else 0.0 * wide.iloc[:, 0]
                yrs = wide.index.get_level_values("year")
                diff = (va - vb).abs()[yrs < t1]
                big = diff[diff > 1e-4 + 1e-6 * np.maximum(va.abs(), vb.abs())[yrs < t1]]
                for k, v in big.head(3).items():
                    bad.append(f"{name} {k} {col}: {a} and {b} differ by {v:.6g} before {t1}")
    return bad


CHECKS = [check_builds, check_capacity, check_balance, check_suppliers, check_stocks, check_shortage_exports,
          check_offtakes, check_security, check_costs, check_information]


def check_all(inp: Inputs, res: Results) -> dict:
    return {f.__name__: f(inp, res) for f in CHECKS}


# =============================================================================
# Cases
# =============================================================================
def rich_book(**settings) -> dict:
    """Two members, an ore -> oxide -> magnet chain with a coproduct, floors, a border-adjusted tariff,
    partial and full disruptions, take-or-pay offtakes, lossy stockpiles, routes and all four security
    targets over three scenarios and five years."""
    st = {"start_year": 2026, "end_year": 2030, "discount_rate": 0.05, "mip_gap": 0, "time_limit_s": 60,
          "default_route_cost_usd_per_t": 15, "shortage_penalty_usd_per_t": 400_000}
    st.update(settings)
    return {
        "settings": st,
        "members": [{"member": "A", "burden_share": 2, "fiscal_budget_musd": 2.0},
                    {"member": "B", "burden_share": 1}],
        "commodities": [
            {"commodity": "ORE"},
            {"commodity": "OX", "floor_price_usd_per_t": 90_000, "export_price_factor": 0.9,
             "shortage_penalty_usd_per_t": 300_000},
            {"commodity": "BY", "export_price_factor": 0.7, "disposal_cost_usd_per_t": 300},
            {"commodity": "MAG"},
        ],
        "market_prices": [
            {"commodity": "ORE", "year": 2026, "price_usd_per_t": 5_000},
            {"commodity": "OX", "year": 2026, "price_usd_per_t": 80_000},
            {"commodity": "OX", "year": 2030, "price_usd_per_t": 95_000},
            {"commodity": "BY", "year": 2026, "price_usd_per_t": 1_500},
            {"commodity": "MAG", "year": 2026, "price_usd_per_t": 60_000},
            {"commodity": "MAG", "year": 2029, "price_usd_per_t": 66_000},
        ],
        "demand": [
            {"member": "A", "commodity": "MAG", "year": 2026, "demand_t": 400},
            {"member": "A", "commodity": "MAG", "year": 2030, "demand_t": 700},
            {"member": "B", "commodity": "MAG", "year": 2026, "demand_t": 300},
            {"member": "B", "commodity": "OX", "year": 2026, "demand_t": 40},
            {"member": "A", "commodity": "BY", "year": 2028, "demand_t": 30},
        ],
        "suppliers": [
            {"supplier": "CHN", "commodity": "OX", "country_of_concern": True, "tariff_usd_per_t": 1000,
             "border_adjusted": True},
            {"supplier": "ROW", "commodity": "OX", "max_tpa": 60, "price_factor": 1.2},
            {"supplier": "ROW", "commodity": "ORE", "max_tpa": 1500, "price_factor": 1.1},
            {"supplier": "CHN", "commodity": "MAG", "max_tpa": 900, "country_of_concern": True,
             "tariff_usd_per_t": 3000},
            {"supplier": "ROW", "commodity": "MAG", "max_tpa": 150, "price_factor": 1.3},
        ],
        "processes": [
            {"process": "MINE", "member": "A", "output": "ORE", "existing_tpa": 900, "existing_until": 2028,
             "variable_cost_usd_per_t": 2_000},
            {"process": "SEP", "member": "A", "output": "OX", "input": "ORE", "input_per_output": 6,
             "existing_tpa": 50, "variable_cost_usd_per_t": 20_000, "availability": 0.9, "module_tpa": 60,
             "max_modules": 3, "capex_musd_per_module": 6, "fixed_om_musd_per_module_yr": 0.2,
             "lead_time_years": 1, "lifetime_years": 10},
            {"process": "MAGPLANT", "member": "B", "output": "MAG", "input": "OX", "input_per_output": 0.3,
             "existing_tpa": 100, "variable_cost_usd_per_t": 25_000, "module_tpa": 150, "max_modules": 3,
             "integer_modules": False, "capex_musd_per_module": 9, "lead_time_years": 2,
             "first_build_year": 2027, "lifetime_years": 3},
        ],
        "coproducts": [{"process": "SEP", "commodity": "BY", "t_per_t_output": 2.0}],
        "stockpiles": [
            {"member": "B", "commodity": "MAG", "existing_capacity_t": 50, "initial_stock_t": 30,
             "capex_usd_per_t": 2_000, "max_capacity_t": 600, "holding_cost_usd_per_t_yr": 900, "loss_rate": 0.02},
            {"member": "A", "commodity": "OX", "capex_usd_per_t": 3_000, "max_capacity_t": 200, "lead_time_years": 1,
             "holding_cost_usd_per_t_yr": 1_000},
        ],
        "offtakes": [
            {"offtake": "OFF_OX", "seller": "AUSCO", "member": "A", "commodity": "OX", "max_tpa": 40,
             "min_take_share": 0.6, "floor_price_usd_per_t": 85_000, "start_year": 2027, "end_year": 2029,
             "signing_cost_musd": 0.3},
            {"offtake": "OFF_MAG", "seller": "CHN", "member": "B", "commodity": "MAG", "max_tpa": 100,
             "min_take_share": 0.5, "floor_price_usd_per_t": 58_000, "country_of_concern": True,
             "start_year": 2026, "end_year": 2035},
        ],
        "routes": [
            {"from": "A", "to": "B", "commodity": "OX", "cost_usd_per_t": 40},
            {"from": "B", "to": "A", "cost_usd_per_t": 25},
            {"from": "B", "to": "A", "commodity": "OX", "allowed": False},
        ],
        "security": [
            {"commodity": "MAG", "from_year": 2028, "max_concern_share": 0.6},
            {"commodity": "MAG", "member": "B", "min_stock_days": 20},
            {"commodity": "OX", "from_year": 2028, "min_domestic_share": 0.3},
            {"commodity": "OX", "member": "A", "min_domestic_share": 0.5},  # A uses no OX: a share of nothing
            {"commodity": "MAG", "member": "A", "max_shortage_share": 0.4},
        ],
        "scenarios": [
            {"scenario": "base", "probability": 0.5},
            {"scenario": "ban", "probability": 0.3},
            {"scenario": "dump", "probability": 0.2},
        ],
        "scenario_prices": [
            {"scenario": "dump", "commodity": "OX", "multiplier": 0.7, "from_year": 2026, "to_year": 2027},
            {"scenario": "dump", "commodity": "MAG", "supplier": "CHN", "multiplier": 0.8},
            {"scenario": "ban", "commodity": "MAG", "supplier": "ROW", "multiplier": 1.5, "from_year": 2028},
        ],
        "scenario_demand": [{"scenario": "dump", "commodity": "MAG", "member": "B", "multiplier": 1.2}],
        "disruptions": [
            {"scenario": "ban", "supplier": "CHN", "from_year": 2028, "to_year": 2029, "available_share": 0},
            {"scenario": "ban", "supplier": "CHN", "commodity": "MAG", "from_year": 2027, "to_year": 2027,
             "available_share": 0.5},
            {"scenario": "dump", "supplier": "AUSCO", "from_year": 2028, "to_year": 2028, "available_share": 0.5},
        ],
    }


def market_book() -> dict:
    """Market mode, no discounting, explicit routes only, one scenario, CVaR off; a budget that binds."""
    b = rich_book(objective="market", discount_rate=0, trade_all_pairs=False, end_stock_at_least_initial=True)
    b["scenarios"] = [{"scenario": "only", "probability": 1.0}]
    for k in ("scenario_prices", "scenario_demand", "disruptions"):
        b[k] = []
    b["members"][0]["fiscal_budget_musd"] = 0.5
    return b


def cvar_book() -> dict:
    return rich_book(risk_aversion=0.5, cvar_alpha=0.6)


CASES = {"example": None, "rich": rich_book, "market": market_book, "cvar": cvar_book}


def _solve_to_workbook(src: Path, out: Path):
    oc = solve_file(str(src), out=str(out), force=True)
    assert oc.exit_code == 0, oc.message
    assert oc.out is not None and Path(oc.out).exists()
    return oc


_EXAMPLE_CACHE: dict = {}


def example_solution(tmp_path_factory):
    """Solve the shipped example once per process; returns (Outcome, Inputs, Results)."""
    if "v" not in _EXAMPLE_CACHE:
        out = tmp_path_factory.mktemp("example") / "bloc_example.results.xlsx"
        oc = _solve_to_workbook(EXAMPLE, out)
        _EXAMPLE_CACHE["v"] = (oc, Inputs(EXAMPLE), Results(oc.out))
    return _EXAMPLE_CACHE["v"]


_SMALL_CACHE: dict = {}


def solve_case(name, tmp_path_factory):
    """Solve a named case once per process; returns (Outcome, Inputs, Results)."""
    if name == "example":
        return example_solution(tmp_path_factory)
    if name not in _SMALL_CACHE:
        d = tmp_path_factory.mktemp(name)
        src = write_book(d / f"{name}.xlsx", CASES[name]())
        oc = _solve_to_workbook(src, d / f"{name}.results.xlsx")
        _SMALL_CACHE[name] = (oc, Inputs(src), Results(oc.out))
    return _SMALL_CACHE[name]


@pytest.fixture(scope="module", params=[pytest.param(c, marks=pytest.mark.slow) if c == "example" else c
                                        for c in CASES])  # the example takes ~10 s: slow
def case(request, tmp_path_factory):
    return solve_case(request.param, tmp_path_factory)


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_constraints_hold(case, check):
    oc, inp, res = case
    assert oc.status == "optimal", oc.message
    bad = check(inp, res)
    assert not bad, f"{len(bad)} violation(s):\n" + "\n".join(bad[:25])


def test_cases_are_not_trivial(case):
    """Each case exercises what the checks look at (else the checks prove nothing)."""
    oc, inp, res = case
    sup = res["supply"]
    assert (sup["production_t"] > 0).any()
    assert (sup[["imports_concern_t", "imports_other_t"]].sum(axis=1) > 0).any()
    assert len(res["trade"]) > 0
    assert (res["stockpiles"]["level_t"] > 0).any()
    assert len(res["security"]) > 0
    assert (res["investments"]["kind"] == "process modules").any()
    assert res["offtakes"]["signed"].any()


def test_rich_case_exercises_disruptions(tmp_path_factory):
    """In the rich case a ban bites and both suppliers of a commodity are used, so those checks bite."""
    _, inp, res = solve_case("rich", tmp_path_factory)
    sup = res["supply"]
    assert "imports_from_CHN_t" in sup.columns and "imports_from_ROW_t" in sup.columns
    ban = sup[(sup["scenario"] == "ban") & sup["year"].isin([2028, 2029])]
    assert ban["imports_from_CHN_t"].sum() == 0
    assert (ban["shortage_t"] + ban["stock_draw_t"]).sum() > 0 or ban["production_t"].sum() > 0


def test_checks_catch_a_broken_plan(tmp_path_factory):
    """The checker is not vacuous: tampering with a solved plan is detected."""
    _, inp, res = solve_case("rich", tmp_path_factory)
    broken = Results(res.path)
    sup = broken.t["supply"]
    sup.loc[sup.index[0], "shortage_t"] += 5.0
    assert check_balance(inp, broken)
    broken = Results(res.path)
    cap = broken.t["capacity"]
    i = cap["production_t"].idxmax()
    cap.loc[i, "production_t"] = cap.loc[i, "available_tpa"] + 1
    assert check_capacity(inp, broken)
    broken = Results(res.path)
    st = broken.t["stockpiles"]
    st.loc[st.index[2], "level_t"] += 1.0
    assert check_stocks(inp, broken)
    broken = Results(res.path)
    broken.t["costs"].loc[0, "cost_musd"] += 0.01
    assert check_costs(inp, broken)
