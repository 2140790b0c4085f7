"""Synthetic input workbooks of any size for benchmarking (issue 5, item 1).

    python benchmarks/generate.py M                       # benchmarks/instances/M.xlsx
    python benchmarks/generate.py S M L -o /tmp/bench     # several presets
    python benchmarks/generate.py --members 6 --chains 3 --years 10 --scenarios 4 -o /tmp/x.xlsx
    python benchmarks/generate.py M --sizes               # also build the model and print rows/cols/nnz

Every workbook follows SPEC §2 (sheet and column names come from
``planner.input.schema``), passes ``planner validate`` with no error and is
feasible: every commodity with demand can be bought from ``ROW`` without
limit and every shortage has a penalty (``shortage_penalty_usd_per_t`` in
settings). The model is bounded: every candidate project has ``max_modules``.

The network: ``members`` members; ``chains`` supply chains of four
commodities each (``K<k>_ORE`` -> ``K<k>_REF`` (+ by-product ``K<k>_BYP``)
-> ``K<k>_PRD``); existing mines, refineries and plants at some members;
``projects`` candidate expansions of which the first ``integer_projects``
have integer modules (the rest continuous, so the MIP part stays modest and
the run measures overhead, not branch-and-bound); ``offtakes`` binary
contract options; ``stockpiles``; ``routes`` directed member pairs (all
commodities, ``trade_all_pairs`` FALSE; ``None`` = every ordered pair);
``scenarios`` futures (the first is ``base``; the others move prices and
demand and cut the country of concern's supply of some chain for a few
years); security targets; a floor price and a fiscal budget.

Deterministic: the same size and seed give the same bytes.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import random
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
START_YEAR = 2026
FIXED_DATE = _dt.datetime(2026, 1, 1)


@dataclass(frozen=True)
class Size:
    members: int = 4
    chains: int = 2
    years: int = 8
    scenarios: int = 3
    projects: int = 6
    integer_projects: int = 2
    offtakes: int = 2
    stockpiles: int = 3
    routes: int | None = None  # directed member pairs; None = all ordered pairs
    mip_gap: float = 0.01
    seed: int = 1

    @property
    def commodities(self) -> int:
        return 4 * self.chains

    @property
    def n_routes(self) -> int:
        allp = self.members * (self.members - 1)
        return allp if self.routes is None else min(self.routes, allp)


PRESETS: dict[str, Size] = {
    # a few seconds end to end; used by tests/workflows/test_bench.py
    "tiny": Size(members=2, chains=1, years=3, scenarios=2, projects=2, integer_projects=1, offtakes=1,
                 stockpiles=1),
    # ~1 s HiGHS
    "S": Size(members=6, chains=3, years=10, scenarios=3, projects=12, integer_projects=2, offtakes=2, stockpiles=5),
    # ~0.5 M nonzeros
    "M": Size(members=12, chains=5, years=15, scenarios=8, projects=40, integer_projects=3, offtakes=4,
              stockpiles=16, routes=48),
    # ~2 M nonzeros
    "L": Size(members=18, chains=8, years=20, scenarios=10, projects=80, integer_projects=4, offtakes=6,
              stockpiles=30, routes=80),
    # ~1.4 M nonzeros, a pure LP (no integer modules, no offtakes): issue 19's comparison against an array-built
    # model, where HiGHS's time is the simplex alone
    "XL": Size(members=16, chains=7, years=20, scenarios=8, projects=70, integer_projects=0, offtakes=0,
               stockpiles=26, routes=72),
}

STAGES = ("ORE", "REF", "PRD", "BYP")


# ---------------------------------------------------------------- data
def make_tables(z: Size) -> tuple[list, dict[str, list[dict]]]:
    """(settings rows, {sheet: [row dicts]}) for one instance (the parts below draw from one random
    stream, in this order, so an instance depends only on its Size and seed)."""
    g = _Gen(z)
    T: dict[str, list[dict]] = {}
    T["members"] = g.members_table()
    T["commodities"], T["market_prices"] = g.commodities_and_prices()
    T["demand"] = g.demand()
    T["suppliers"] = g.suppliers()
    T["processes"], T["coproducts"] = g.processes()
    T["stockpiles"] = g.stockpiles()
    T["offtakes"] = g.offtakes()
    T["routes"] = g.routes()
    T["security"] = g.security(T["stockpiles"])
    T["scenarios"], T["scenario_prices"], T["scenario_demand"], T["disruptions"] = g.scenarios(T["offtakes"])
    T["sources"] = [dict(item="all figures", value="-", unit="-",
                         source=f"benchmarks/generate.py {asdict(z)}", status="assumption")]
    return g.settings(), T


def _C(k, st):
    return f"{k}_{st}"


class _Gen:
    """The parts of one instance, drawn from one random stream."""

    def __init__(self, z: Size):
        self.z = z
        self.rng = random.Random(z.seed)
        self.y0, self.y1 = START_YEAR, START_YEAR + z.years - 1
        self.members = [f"M{i:02d}" for i in range(z.members)]
        self.chains = [f"K{k}" for k in range(z.chains)]

    def settings(self) -> list:
        z, y0, y1 = self.z, self.y0, self.y1
        return [("start_year", y0), ("end_year", y1), ("discount_rate", 0.05), ("base_year", y0),
                ("objective", "resource"), ("shortage_penalty_usd_per_t", 1_000_000),
                ("anti_circumvention", True), ("trade_all_pairs", False),
                ("default_route_cost_usd_per_t", 50), ("end_stock_at_least_initial", True),
                ("time_limit_s", 3600), ("mip_gap", z.mip_gap), ("threads", 0), ("risk_aversion", 0),
                ("cvar_alpha", 0.9)]

    def members_table(self) -> list:
        rng = self.rng
        return [dict(member=m, name=f"Member {m}", burden_share=round(rng.uniform(0.5, 20), 2),
                     fiscal_budget_musd=(round(rng.uniform(200, 3000)) if i % 3 == 0 else None))
                for i, m in enumerate(self.members)]

    def commodities_and_prices(self):
        rng, z, y0, y1, C, chains = self.rng, self.z, self.y0, self.y1, _C, self.chains
        # commodities and prices (USD/t)
        base_price, comm, prices = {}, [], []
        self.base_price = base_price
        for i, k in enumerate(chains):
            ore = rng.uniform(500, 3_000)
            base_price[C(k, "ORE")] = ore
            base_price[C(k, "REF")] = ore * rng.uniform(4, 10)
            base_price[C(k, "PRD")] = base_price[C(k, "REF")] * rng.uniform(2, 4)
            base_price[C(k, "BYP")] = ore * rng.uniform(0.3, 1.0)
            comm += [
                dict(commodity=C(k, "ORE"), name=f"chain {k} ore/concentrate", stage="concentrate",
                     export_price_factor=0.9),
                dict(commodity=C(k, "REF"), name=f"chain {k} refined", stage="refined",
                     floor_price_usd_per_t=(round(base_price[C(k, "REF")] * 1.1) if i % 3 == 0 else None),
                     export_price_factor=0.9),
                dict(commodity=C(k, "PRD"), name=f"chain {k} component", stage="component",
                     shortage_penalty_usd_per_t=round(base_price[C(k, "PRD")] * 5), export_price_factor=0.85),
                dict(commodity=C(k, "BYP"), name=f"chain {k} by-product", stage="by-product",
                     export_price_factor=0.7, disposal_cost_usd_per_t=50),
            ]
            for c in (C(k, st) for st in STAGES):
                p0 = base_price[c]
                prices += [dict(commodity=c, year=y0, price_usd_per_t=round(p0, 1)),
                           dict(commodity=c, year=y1, price_usd_per_t=round(p0 * rng.uniform(0.9, 1.3), 1))]
                if z.years > 4:
                    ym = y0 + z.years // 2
                    prices.append(dict(commodity=c, year=ym, price_usd_per_t=round(p0 * rng.uniform(0.85, 1.2), 1)))
        return comm, sorted(prices, key=lambda r: (r["commodity"], r["year"]))

    def demand(self):
        rng, y0, y1, C, members, chains = self.rng, self.y0, self.y1, _C, self.members, self.chains
        # demand: every member for components, about half for refined material
        dem, dem_size = [], {}
        for k in chains:
            for m in members:
                for st, share in (("PRD", 1.0), ("REF", 0.5)):
                    if st == "REF" and rng.random() > share:
                        continue
                    d0 = round(rng.uniform(200, 5_000), 0)
                    dem_size[(m, C(k, st))] = d0
                    dem += [dict(member=m, commodity=C(k, st), year=y0, demand_t=d0),
                            dict(member=m, commodity=C(k, st), year=y1, demand_t=round(d0 * rng.uniform(1.1, 2.0)))]
        self.dem_size = dem_size
        self.chain_demand = {k: sum(v for (m, c), v in dem_size.items() if c.startswith(k + "_")) for k in chains}
        return dem

    def suppliers(self):
        rng, C, chains = self.rng, _C, self.chains
        base_price, chain_demand = self.base_price, self.chain_demand
        # suppliers: CHN (concern, capped so partial disruptions are allowed), ROW (unlimited, dearer), AFR ore
        sup = []
        for i, k in enumerate(chains):
            big = round(chain_demand[k] * 3)
            for st in ("REF", "PRD"):
                sup.append(dict(supplier="CHN", commodity=C(k, st), max_tpa=big, price_factor=round(rng.uniform(0.85, 1.0), 3),
                                country_of_concern=True, tariff_usd_per_t=(round(base_price[C(k, st)] * 0.1) if i % 2 else 0),
                                border_adjusted=(st == "REF" and i % 3 == 0)))
            for st in ("ORE", "REF", "PRD"):
                sup.append(dict(supplier="ROW", commodity=C(k, st), max_tpa=None,
                                price_factor=round(rng.uniform(1.15, 1.4), 3), country_of_concern=False,
                                tariff_usd_per_t=0, border_adjusted=False))
            sup.append(dict(supplier="AFR", commodity=C(k, "ORE"), max_tpa=round(chain_demand[k] * 2),
                            price_factor=round(rng.uniform(0.9, 1.1), 3), country_of_concern=False,
                            tariff_usd_per_t=0, border_adjusted=False))
        return sup

    def processes(self):
        rng, z, y0, C, members, chains = self.rng, self.z, self.y0, _C, self.members, self.chains
        base_price, chain_demand = self.base_price, self.chain_demand
        # processes: existing plants, then candidate projects
        procs, copro = [], []
        ore_per_ref = {k: round(rng.uniform(1.5, 4.0), 2) for k in chains}
        ref_per_prd = {k: round(rng.uniform(0.3, 0.9), 2) for k in chains}
        byp_ratio = {k: round(rng.uniform(0.5, 2.0), 2) for k in chains}

        def proc(name, m, k, st, **kw):
            row = dict(process=name, member=m, output=C(k, st), availability=round(rng.uniform(0.8, 0.95), 2),
                       lifetime_years=25)
            if st == "ORE":
                row.update(variable_cost_usd_per_t=round(base_price[C(k, "ORE")] * rng.uniform(0.4, 0.8)))
            elif st == "REF":
                row.update(input=C(k, "ORE"), input_per_output=ore_per_ref[k],
                           variable_cost_usd_per_t=round(base_price[C(k, "REF")] * rng.uniform(0.1, 0.3)))
                copro.append(dict(process=name, commodity=C(k, "BYP"), t_per_t_output=byp_ratio[k]))
            else:
                row.update(input=C(k, "REF"), input_per_output=ref_per_prd[k],
                           variable_cost_usd_per_t=round(base_price[C(k, "PRD")] * rng.uniform(0.1, 0.3)))
            row.update(kw)
            return row

        for k in chains:
            scale = chain_demand[k] / max(1, len(members))
            for m in members:
                for st in ("ORE", "REF", "PRD"):
                    if rng.random() < 0.35:
                        until = y0 + rng.randrange(z.years) if rng.random() < 0.2 else None
                        procs.append(proc(f"{m}_{k}_{st}", m, k, st, existing_tpa=round(scale * rng.uniform(0.3, 1.5)),
                                          existing_until=until))
        for j in range(z.projects):
            k = chains[j % len(chains)]
            m = members[rng.randrange(len(members))]
            st = ("ORE", "REF", "PRD")[(j // len(chains)) % 3]
            mt = round(chain_demand[k] * rng.uniform(0.05, 0.2))
            capex = mt * base_price[C(k, st)] * rng.uniform(0.5, 1.5) * 1e-6
            integer = j < z.integer_projects
            procs.append(proc(f"P{j:03d}_{m}_{k}_{st}", m, k, st, existing_tpa=0, module_tpa=mt,
                              max_modules=rng.randint(2, 6), integer_modules=integer,
                              capex_musd_per_module=round(capex, 3),
                              fixed_om_musd_per_module_yr=round(capex * 0.03, 4),
                              lead_time_years=min(rng.randint(1, 3), max(0, z.years - 2)),
                              first_build_year=y0, lifetime_years=rng.choice((20, 25, 30))))
        return procs, copro

    def stockpiles(self):
        rng, z, C, members, chains = self.rng, self.z, _C, self.members, self.chains
        base_price, chain_demand, dem_size = self.base_price, self.chain_demand, self.dem_size
        # stockpiles of refined material and components
        pairs = [(m, C(k, st)) for k in chains for m in members for st in ("REF", "PRD")]
        rng.shuffle(pairs)
        stock = []
        for m, c in sorted(pairs[:z.stockpiles]):
            ex = round(dem_size.get((m, c), 1_000) * rng.uniform(0.0, 0.3))
            stock.append(dict(member=m, commodity=c, existing_capacity_t=ex, initial_stock_t=round(ex * 0.5),
                              capex_usd_per_t=round(base_price[c] * 0.02, 1),
                              max_capacity_t=round(ex + 2 * chain_demand[c.split("_")[0]]),
                              lead_time_years=rng.randint(0, 1),
                              lifetime_years=30, holding_cost_usd_per_t_yr=round(base_price[c] * 0.015, 1),
                              loss_rate=0.01))
        return stock

    def offtakes(self):
        rng, z, y0, y1, C, members, chains = self.rng, self.z, self.y0, self.y1, _C, self.members, self.chains
        base_price, chain_demand = self.base_price, self.chain_demand
        # offtakes (binary decisions)
        offs = []
        for j in range(z.offtakes):
            k = chains[j % len(chains)]
            st = ("REF", "PRD")[j % 2]
            c = C(k, st)
            concern = j % 4 == 3
            sy = y0 + rng.randrange(max(1, z.years // 2))
            offs.append(dict(offtake=f"O{j:02d}", seller="CHN" if concern else f"SELLER{j % 3}",
                             member=members[rng.randrange(len(members))], commodity=c,
                             max_tpa=round(chain_demand[k] * rng.uniform(0.05, 0.15)),
                             min_take_share=round(rng.uniform(0.0, 0.6), 2),
                             floor_price_usd_per_t=round(base_price[c] * rng.uniform(0.95, 1.15)),
                             start_year=sy, end_year=min(y1, sy + rng.randint(3, 10)),
                             signing_cost_musd=round(rng.uniform(0, 5), 2), country_of_concern=concern))
        return offs

    def routes(self):
        rng, z, members = self.rng, self.z, self.members
        # routes: a ring (so every member is reachable) plus random pairs, all commodities
        allp = [(a, b) for a in members for b in members if a != b]
        if z.routes is None or z.routes >= len(allp):
            chosen = allp
        else:
            ring = [(members[i], members[(i + 1) % len(members)]) for i in range(len(members))]
            rest = [p for p in allp if p not in set(ring)]
            rng.shuffle(rest)
            chosen = sorted(set(ring + rest[: max(0, z.routes - len(ring))]))
        routes = [dict(**{"from": a, "to": b}, commodity=None, cost_usd_per_t=round(rng.uniform(20, 120)),
                            allowed=True) for a, b in chosen]
        return routes

    def security(self, stock):
        y0, y1, C, chains = self.y0, self.y1, _C, self.chains
        # security targets
        sec = []
        for i, k in enumerate(chains):
            sec.append(dict(commodity=C(k, "PRD"), member=None, from_year=y0, to_year=y1, max_concern_share=0.6))
            sec.append(dict(commodity=C(k, "REF"), member=None, from_year=min(y1, y0 + 2), to_year=y1,
                            max_shortage_share=0.5))
        for s in stock:
            # from the third year: new capacity (lead time <= 1) can be built and filled first
            sec.append(dict(commodity=s["commodity"], member=s["member"], from_year=min(y1, y0 + 2), to_year=y1,
                            min_stock_days=30))
        return sec

    def scenarios(self, offs):
        rng, z, y0, y1, C, chains = self.rng, self.z, self.y0, self.y1, _C, self.chains
        # scenarios: base + shocks; equal probabilities (powers of two stay exact; else the last takes the rest)
        names = ["base"] + [f"s{j:03d}" for j in range(1, z.scenarios)]
        p = 1.0 / z.scenarios
        probs = [p] * z.scenarios
        probs[-1] = 1.0 - p * (z.scenarios - 1)
        scen = [dict(scenario=n, probability=q, description=("reference" if j == 0 else "generated shock"))
                          for j, (n, q) in enumerate(zip(names, probs))]
        sp, sd, dis = [], [], []
        for n in names[1:]:
            k = chains[rng.randrange(len(chains))]
            a = y0 + rng.randrange(z.years)
            b = min(y1, a + rng.randint(1, 3))
            kind = rng.random()
            if kind < 0.4:  # export ban or cut by the country of concern
                dis.append(dict(scenario=n, supplier="CHN", commodity=None if rng.random() < 0.5 else C(k, "REF"),
                                from_year=a, to_year=b, available_share=rng.choice((0.0, 0.5))))
                sp.append(dict(scenario=n, commodity=C(k, "PRD"), supplier=None, from_year=a, to_year=b,
                               multiplier=round(rng.uniform(1.2, 2.0), 2)))
            elif kind < 0.7:  # dumping: the country of concern's price falls
                sp.append(dict(scenario=n, commodity=C(k, "REF"), supplier="CHN", from_year=a, to_year=y1,
                               multiplier=round(rng.uniform(0.6, 0.8), 2)))
                sp.append(dict(scenario=n, commodity=C(k, "REF"), supplier=None, from_year=a, to_year=y1,
                               multiplier=round(rng.uniform(0.7, 0.9), 2)))
            else:  # demand surge
                sd.append(dict(scenario=n, commodity=C(k, "PRD"), member=None, from_year=a, to_year=y1,
                               multiplier=round(rng.uniform(1.1, 1.4), 2)))
            if rng.random() < 0.3 and offs:
                o = offs[rng.randrange(len(offs))]
                dis.append(dict(scenario=n, supplier=o["seller"], commodity=None, from_year=a, to_year=b,
                                available_share=0.0))
        return scen, sp, sd, dis


# ---------------------------------------------------------------- writing
def write(path: str | Path, z: Size) -> Path:
    """Write the instance for size ``z`` to ``path`` (atomically) and return the path."""
    settings, T = make_tables(z)
    return write_tables(path, settings, T)


def write_tables(path: str | Path, settings: list, T: dict[str, list[dict]], author: str = "benchmarks/generate.py",
                 constant_memory: bool = False) -> Path:
    """An input workbook from (settings rows, {sheet: [row dicts]}), atomically: headers, unit notes and
    column order from the one declaration (planner/input/schema.py); also used by benchmarks/orlib.py."""
    from planner.input.schema import (
        SHEETS,  # column order and unit notes from the one declaration
    )

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.xlsx")
    wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "constant_memory": constant_memory})
    wb.set_properties({"created": FIXED_DATE, "author": author})
    bold = wb.add_format({"bold": True})
    for sheet in SHEETS:
        if sheet.kind == "settings":
            rows = [dict(key=k, value=v) for k, v in settings]
        else:
            rows = T.get(sheet.name)
            if rows is None:
                continue
        cols = [c.name for c in sheet.columns]
        ws = wb.add_worksheet(sheet.name)
        ws.write_row(0, 0, cols, bold)
        notes = [c.unit or c.type for c in sheet.columns]
        notes[0] = "# " + notes[0]
        ws.write_row(1, 0, notes)
        for i, r in enumerate(rows, start=2):
            unknown = set(r) - set(cols)
            if unknown:
                raise KeyError(f"{sheet.name}: unknown columns {sorted(unknown)}")
            for j, c in enumerate(cols):
                v = r.get(c)
                if v is None:
                    continue
                if isinstance(v, bool):
                    ws.write_boolean(i, j, v)
                elif isinstance(v, (int, float)):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
        ws.freeze_panes(2, 0)
    wb.close()
    tmp.replace(path)
    return path


def model_size(path: str | Path) -> dict:
    """Build the model of a workbook the way ``planner solve`` does and stop at the hand-off to HiGHS:
    rows, columns, nonzeros and integer columns of what HiGHS would get (no solve)."""
    from planner.input.load import load
    from planner.model.build import build
    from planner.model.prepare import prepare
    from planner.solver.highs import compile_direct

    A, _cost, _off, _lo, _hi, integer, *_ = compile_direct(build(prepare(load(str(path)))))
    return {"rows": int(A.shape[0]), "cols": int(A.shape[1]), "nnz": int(A.nnz), "integer": int(integer.sum())}


def size_from_args(a) -> Size:
    z = PRESETS[a.preset[0]] if a.preset else Size()
    over = {k: getattr(a, k) for k in ("members", "chains", "years", "scenarios", "projects", "integer_projects",
                                       "offtakes", "stockpiles", "routes", "mip_gap", "seed")
            if getattr(a, k) is not None}
    return replace(z, **over)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset", nargs="*", default=[], help="preset size(s): " + ", ".join(PRESETS))
    ap.add_argument("-o", "--out", help="output .xlsx (one instance) or folder (default benchmarks/instances)")
    for k in ("members", "chains", "years", "scenarios", "projects", "integer_projects", "offtakes", "stockpiles",
              "routes", "seed"):
        ap.add_argument("--" + k.replace("_", "-"), dest=k, type=int)
    ap.add_argument("--mip-gap", dest="mip_gap", type=float)
    ap.add_argument("--sizes", action="store_true", help="build each model and print rows, columns, nonzeros")
    a = ap.parse_args(argv)
    presets = a.preset or [None]
    bad = [p for p in a.preset if p not in PRESETS]
    if bad:
        ap.error(f"unknown preset(s) {', '.join(bad)}; known: {', '.join(PRESETS)}")
    out = Path(a.out) if a.out else HERE / "instances"
    for name in presets:
        a.preset = [name] if name else []
        z = size_from_args(a)
        if out.suffix.lower() == ".xlsx":
            if len(presets) > 1:
                ap.error("with several presets, -o must be a folder")
            target = out
        else:
            target = out / f"{name or 'custom'}.xlsx"
        write(target, z)
        msg = f"wrote {target} ({z.members} members, {z.commodities} commodities, {z.years} years, " \
              f"{z.scenarios} scenarios, {z.projects} projects ({z.integer_projects} integer), " \
              f"{z.n_routes} routes, seed {z.seed})"
        if a.sizes:
            s = model_size(target)
            msg += f": {s['rows']:,} rows, {s['cols']:,} columns, {s['nnz']:,} nonzeros, {s['integer']} integer"
        print(msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
