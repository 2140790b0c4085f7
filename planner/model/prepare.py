"""Input tables → the indexed numbers the model uses (pandas/numpy, no Pyomo).

Notation of SPEC §3: years t, scenarios s with probability π_s, discount
factor δ_t = (1+r)^-(t − base_year), market price P_cts (reference price,
interpolated, × scenario multipliers of rows without supplier), supplier
price P_xcts = P_cts × price_factor × that supplier's own multipliers,
demand_mcts, availability avail (smallest share of the disruption rows that
cover it, 1 otherwise), tariff T_xcts.

Arrays of shape (S, nT) hold a value per scenario and year.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.input.reader import InputData
from planner.input.validate import scenario_names
from planner.model import tree as tree_mod


def annuity_factor(r: float, life: int) -> float:
    """r / (1 − (1+r)^-life), or 1/life when r = 0."""
    if abs(r) < 1e-12:
        return 1.0 / life
    return r / (1.0 - (1.0 + r) ** (-life))


def _nn(x):
    """None for blank/NaN, else the value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return x


@dataclass
class ModelData:
    inp: InputData
    years: list[int]
    scen: list[str]
    prob: np.ndarray
    delta: np.ndarray                      # δ_t
    r: float
    settings: dict
    members: list[str]
    commodities: dict                      # commodity -> row dict
    price: dict = field(default_factory=dict)        # c -> (S,nT) P_cts
    sprice: dict = field(default_factory=dict)       # (x,c) -> (S,nT) P_xcts
    tariff: dict = field(default_factory=dict)       # (x,c) -> (S,nT) T_xcts
    demand: dict = field(default_factory=dict)       # (m,c) -> (S,nT)
    suppliers: list = field(default_factory=list)    # row dicts
    processes: list = field(default_factory=list)
    coproducts: dict = field(default_factory=dict)   # process -> [(commodity, ratio)]
    stockpiles: list = field(default_factory=list)
    offtakes: list = field(default_factory=list)
    security: list = field(default_factory=list)
    routes: dict = field(default_factory=dict)       # (m,n,c) -> cost usd/t (allowed only)
    burden: dict = field(default_factory=dict)       # m -> normalised share
    budget: dict = field(default_factory=dict)       # m -> MUSD
    disruptions: list = field(default_factory=list)
    tree: np.ndarray | None = None                   # (nT, S): the scenario whose operations s uses in t
    tree_kind: str = "derived"                       # "derived" from the data, or "explicit"

    @property
    def S(self):
        return len(self.scen)

    @property
    def nT(self):
        return len(self.years)

    def tix(self, year: int) -> int:
        return year - self.years[0]

    def year_range(self, a, b) -> range:
        """Positions of the years a..b clipped to the horizon."""
        lo = max(a if a is not None else self.years[0], self.years[0])
        hi = min(b if b is not None else self.years[-1], self.years[-1])
        return range(lo - self.years[0], hi - self.years[0] + 1)

    def avail(self, name: str, commodity: str) -> np.ndarray:
        """avail: smallest available_share of the disruption rows hitting (name, commodity), 1 elsewhere."""
        a = np.ones((self.S, self.nT))
        for d in self.disruptions:
            if d["supplier"] == name and (d["commodity"] is None or d["commodity"] == commodity):
                s = self.scen.index(d["scenario"])
                for t in self.year_range(d["from_year"], d["to_year"]):
                    a[s, t] = min(a[s, t], d["available_share"])
        return a

    def demand_of(self, members, c: str) -> np.ndarray:
        """(S,nT) Σ_{m ∈ members} demand_mcts (zeros where none of them demands c)."""
        out = np.zeros((self.S, self.nT))
        for m in members:
            dm = self.demand.get((m, c))
            if dm is not None:
                out += dm
        return out

    def disrupted(self, c: str) -> np.ndarray:
        """(S,nT) bool: c is disrupted in (s,t) (a row with share < 1 hits a supplier or offtake seller of c)."""
        out = np.zeros((self.S, self.nT), dtype=bool)
        sellers = {x["supplier"] for x in self.suppliers if x["commodity"] == c} | \
                  {o["seller"] for o in self.offtakes if o["commodity"] == c}
        for name in sellers:
            out |= self.avail(name, c) < 1.0
        return out

    def penalty(self, c: str):
        v = _nn(self.commodities[c]["shortage_penalty_usd_per_t"])
        return v if v is not None else _nn(self.settings.get("shortage_penalty_usd_per_t"))


def _interp(df: pd.DataFrame, keys: list[str], value: str, years: list[int]) -> dict:
    """Linear interpolation between given years, held flat outside (SPEC §2)."""
    out = {}
    if not len(df):
        return out
    yrs = np.asarray(years, dtype=float)
    y = df["year"].to_numpy(dtype=float)
    v = df[value].to_numpy(dtype=float)
    groups = {}  # key -> its rows, keys in the order first met (as groupby(sort=False))
    for i, k in enumerate(zip(*(df[c].tolist() for c in keys))):
        groups.setdefault(k, []).append(i)
    for k, rows in groups.items():
        rows = np.asarray(rows)
        rows = rows[np.argsort(y[rows], kind="stable")]
        out[k] = np.interp(yrs, y[rows], v[rows])
    return out


def _mult(rows, S_names, years, match) -> dict:
    """Product of overlapping multiplier rows per key: key -> (S,nT)."""
    out = {}
    for r in rows:
        key = match(r)
        if key is None:
            continue
        arr = out.setdefault(key, np.ones((len(S_names), len(years))))
        s = S_names.index(r["scenario"])
        lo = max(r["from_year"], years[0]) - years[0]
        hi = min(r["to_year"], years[-1]) - years[0]
        if hi >= lo:
            arr[s, lo:hi + 1] *= r["multiplier"]
    return out


def _records(df: pd.DataFrame) -> list[dict]:
    """``df.to_dict("records")`` (the same Python values), three times faster: a coalition analysis prepares a
    model per coalition."""
    cols = list(df.columns)
    return [dict(zip(cols, row)) for row in zip(*(df[c].tolist() for c in cols))]


def prepare(inp: InputData, scenario: str | None = None) -> ModelData:
    st = inp.settings
    T = inp.tables
    years = list(range(st["start_year"], st["end_year"] + 1))
    names = scenario_names(inp)
    sc = T["scenarios"]
    probs = dict(zip(sc["scenario"], sc["probability"])) if len(sc) else {"base": 1.0}
    if scenario is not None:
        names, probs = [scenario], {scenario: 1.0}
    r = float(st["discount_rate"])
    delta = np.array([(1.0 + r) ** (-(t - st["base_year"])) for t in years])
    rec = lambda name: _records(T[name])

    md = ModelData(inp=inp, years=years, scen=names, prob=np.array([probs[s] for s in names], dtype=float),
                   delta=delta, r=r, settings=st, members=list(T["members"]["member"]),
                   commodities={c["commodity"]: c for c in rec("commodities")})
    md.suppliers = rec("suppliers")
    md.processes = rec("processes")
    for row in rec("coproducts"):
        md.coproducts.setdefault(row["process"], []).append((row["commodity"], float(row["t_per_t_output"])))
    md.stockpiles = rec("stockpiles")
    md.offtakes = rec("offtakes")
    md.security = rec("security")
    md.disruptions = [d for d in rec("disruptions") if d["scenario"] in names]

    S, nT = md.S, md.nT
    # prices
    base = _interp(T["market_prices"], ["commodity"], "price_usd_per_t", years)
    sp_rows = [x for x in rec("scenario_prices") if x["scenario"] in names]
    mkt = _mult(sp_rows, names, years, lambda x: x["commodity"] if x["supplier"] is None else None)
    own = _mult(sp_rows, names, years, lambda x: (x["supplier"], x["commodity"]) if x["supplier"] is not None else None)
    for (c,), p in base.items():
        md.price[c] = np.broadcast_to(p, (S, nT)) * mkt.get(c, 1.0)
    for x in md.suppliers:
        key = (x["supplier"], x["commodity"])
        P = md.price.get(x["commodity"])
        if P is None:
            continue
        px = P * float(x["price_factor"]) * own.get(key, 1.0)
        md.sprice[key] = px
        tar = np.full((S, nT), float(x["tariff_usd_per_t"] or 0.0))
        floor = _nn(md.commodities.get(x["commodity"], {}).get("floor_price_usd_per_t"))
        if x["border_adjusted"] and floor is not None:
            tar = np.maximum(tar, floor - px)
        md.tariff[key] = tar
    # demand
    dem = _interp(T["demand"], ["member", "commodity"], "demand_t", years)
    sd_rows = [x for x in rec("scenario_demand") if x["scenario"] in names]
    for (m, c), d in dem.items():
        arr = np.broadcast_to(d, (S, nT)).copy()
        for x in sd_rows:
            if x["commodity"] == c and x["member"] in (None, m):
                s = names.index(x["scenario"])
                for t in md.year_range(x["from_year"], x["to_year"]):
                    arr[s, t] *= x["multiplier"]
        md.demand[(m, c)] = arr
    # routes: all pairs by default, blank-commodity rows per pair, then commodity rows override
    default_cost = float(st["default_route_cost_usd_per_t"] or 0.0)
    pair_rule, comm_rule = {}, {}
    for x in rec("routes"):
        if x["from"] == x["to"]:
            continue
        cost = _nn(x["cost_usd_per_t"])
        cost = default_cost if cost is None else float(cost)
        (pair_rule if x["commodity"] is None else comm_rule)[
            (x["from"], x["to"]) if x["commodity"] is None else (x["from"], x["to"], x["commodity"])] = (x["allowed"], cost)
    for m in md.members:
        for n in md.members:
            if m == n:
                continue
            for c in md.commodities:
                rule = comm_rule.get((m, n, c)) or pair_rule.get((m, n))
                if rule is None:
                    rule = (True, default_cost) if st["trade_all_pairs"] else (False, 0.0)
                if rule[0]:
                    md.routes[(m, n, c)] = rule[1]
    # fiscal
    mem = T["members"]
    shares = [x for x in mem["burden_share"]]
    if all(_nn(x) is None for x in shares):
        md.burden = {m: 1.0 / len(md.members) for m in md.members} if md.members else {}
    else:
        tot = sum(float(x) for x in shares)
        md.burden = {m: float(x) / tot for m, x in zip(mem["member"], shares)}
    md.budget = {m: float(b) for m, b in zip(mem["member"], mem["fiscal_budget_musd"]) if _nn(b) is not None}
    md.tree, md.tree_kind = scenario_tree(md, sc)
    return md


def scenario_tree(md: ModelData, sc: pd.DataFrame) -> tuple[np.ndarray, str]:
    """The tree of SPEC §3 "Information" (see :mod:`planner.model.tree`)."""
    names = md.scen
    if md.S > 1 and "parent" in sc.columns and sc["parent"].map(_nn).notna().any():
        pos = {s: i for i, s in enumerate(names)}
        rows = {r["scenario"]: r for r in sc.to_dict("records")}
        parent = [pos.get(_nn(rows[s]["parent"])) if s in rows else None for s in names]
        branch = [int(_nn(rows[s]["branch_year"])) if s in rows and _nn(rows[s]["branch_year"]) is not None
                  else None for s in names]
        return tree_mod.explicit(parent, branch, md.years), "explicit"
    data = list(md.price.values()) + list(md.sprice.values()) + list(md.demand.values())
    sellers = {(x["supplier"], x["commodity"]) for x in md.suppliers} | \
              {(o["seller"], o["commodity"]) for o in md.offtakes}
    data += [md.avail(n, c) for n, c in sorted(sellers, key=str)]
    foresight = int(md.settings.get("foresight_years") or 0)
    return tree_mod.derived(data, md.S, md.nT, foresight), "derived"
