"""Cross-sheet rules of SPEC §2 (cell types and ranges are checked while reading).

Every rule appends to ``data.problems``; none stops early, so the analyst sees
every problem in one run.  Each problem names the sheet, the spreadsheet row
and the column, the value found and what was expected.
"""
from __future__ import annotations

import math
import os
import unicodedata

from planner.input.physics import gain_cycles
from planner.input.reader import InputData
from planner.input.schema import FLOAT, SETTING_BY_NAME, SETTINGS, SHEET_BY_NAME, SHEETS

PROB_TOL = 1e-6
SPAN_WARN = 1e9      # nonzero numeric inputs spanning more than this: the solver may struggle (warning)
TOO_LARGE = 1e15     # no quantity, price or cost is this large; HiGHS treats 1e20 as infinite (error)
SPAN_SETTINGS = ("shortage_penalty_usd_per_t", "default_route_cost_usd_per_t")


def _isnum(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not (isinstance(x, float) and math.isnan(x))


def scenario_names(data: InputData) -> list[str]:
    sc = data.tables["scenarios"]
    return [s for s in sc["scenario"] if s is not None] if len(sc) else list(SHEET_BY_NAME["scenarios"].implicit_keys)


class Check:
    """What every rule reads: the problem list, the tables (each turned into records once, as the rules read
    them many times), the horizon, and the keys each referenced column holds."""

    def __init__(self, data: InputData):
        self.data = data
        self.P = data.problems
        self.T = data.tables
        self.settings = data.settings
        self.y0, self.y1 = data.settings.get("start_year"), data.settings.get("end_year")
        self.horizon_ok = isinstance(self.y0, int) and isinstance(self.y1, int) and self.y0 <= self.y1
        self._memo = {}
        self.known = {}
        for s in SHEETS:  # every (sheet, column) a reference of the schema points at
            for c in s.columns:
                for target in (c.ref, *c.ref_extra) if c.ref else c.ref_extra:
                    if target not in self.known:
                        self.known[target] = self._keys(*target)

    def _keys(self, sheet: str, column: str) -> set:
        df = self.T[sheet]
        if not len(df) and SHEET_BY_NAME[sheet].implicit_keys:
            return set(SHEET_BY_NAME[sheet].implicit_keys)
        return set(df[column].dropna())

    def rows(self, sheet: str) -> list[dict]:
        df = self.T[sheet]
        if id(df) not in self._memo:
            self._memo[id(df)] = (df, df.to_dict("records"))
        return self._memo[id(df)][1]


def tables() -> list:
    return [s for s in SHEETS if s.kind == "table"]


# ------------------------------------------------------------------ one function per rule
def duplicate_keys(v: Check) -> None:
    for s in tables():
        if not s.key:
            continue
        seen = {}
        for r in v.rows(s.name):
            k = tuple(r[c] for c in s.key)
            if any(x is None for x, c in zip(k, s.key) if s.column(c).required):
                continue
            if k in seen:
                v.P.error(f"duplicate key {' / '.join('blank' if x is None else str(x) for x in k)} "
                          f"(first in row {seen[k]})", sheet=s.name, row=r["_row"], column=", ".join(s.key),
                          value=" / ".join("" if x is None else str(x) for x in k))
            else:
                seen[k] = r["_row"]


def references(v: Check) -> None:
    """Every column declaring ``ref`` (and ``ref_extra``) in the schema names an existing key."""
    for s in tables():
        for c in s.columns:
            if not c.ref:
                continue
            ok = set(v.known[c.ref])
            for extra in c.ref_extra:
                ok |= v.known[extra]
            where = f"sheet '{c.ref[0]}'" + "".join(f" or sheet '{e[0]}' ({e[1]})" for e in c.ref_extra)
            target = SHEET_BY_NAME[c.ref[0]]
            for r in v.rows(s.name):
                x = r[c.name]
                if x is not None and x not in ok:
                    hint = ""
                    if target.implicit_keys and not len(v.T[target.name]):
                        only = ", ".join(f"'{k}'" for k in target.implicit_keys)
                        hint = f" (there is no {target.name} sheet, so the only {c.ref[1]} is {only})"
                    close = [k for k in ok if str(k).lower() == str(x).lower()]
                    if close:
                        hint += f"; keys are case-sensitive: did you mean '{close[0]}'?"
                    else:
                        close = [k for k in ok if canon(k) == canon(x)]
                        if close:
                            hint += (f"; keys must match character for character (this one differs in Unicode "
                                     f"normalisation): did you mean '{close[0]}'?")
                    v.P.error(f"unknown {c.ref[1]}: not found in {where}{hint}", sheet=s.name, row=r["_row"],
                              column=c.name, value=x)


def scenario_probabilities(v: Check) -> None:
    """Probabilities sum to one: an error about the scenarios sheet as a whole (no single row is wrong)."""
    sc = v.T["scenarios"]
    if len(sc):
        probs = [p for p in sc["probability"] if _isnum(p)]
        if len(probs) == len(sc) and abs(sum(probs) - 1.0) > PROB_TOL:
            v.P.error(f"scenario probabilities must sum to 1 (they sum to {sum(probs):.6g})", sheet="scenarios",
                      column="probability", value=round(sum(probs), 9))


def scenario_tree(v: Check) -> None:
    """The explicit scenario tree of SPEC v2 (columns parent and branch_year of sheet scenarios)."""
    rows = [r for r in v.rows("scenarios") if r["scenario"] is not None]
    if not any(r["parent"] is not None or r["branch_year"] is not None for r in rows):
        return  # no explicit tree (the tree is derived from the data and foresight_years)
    for r in rows:  # parent and branch_year together or neither
        if (r["parent"] is None) != (r["branch_year"] is None):
            have, miss = ("parent", "branch_year") if r["parent"] is not None else ("branch_year", "parent")
            v.P.error(f"{have} is given but {miss} is blank: a scenario of the tree names both its parent and "
                      "the year it branches from it (a root names neither)", sheet="scenarios", row=r["_row"],
                      column=miss)
    by_name = {r["scenario"]: r for r in rows}
    roots = [r for r in rows if r["parent"] is None and r["branch_year"] is None]
    if not roots:
        v.P.error("the scenario tree has no root: every scenario names a parent (exactly one, the root, names "
                  "none)", sheet="scenarios", column="parent")
    for r in roots[1:]:
        v.P.error(f"a second root: scenario '{r['scenario']}' names no parent, but '{roots[0]['scenario']}' "
                  f"(row {roots[0]['_row']}) is already the root; every scenario but one names its parent",
                  sheet="scenarios", row=r["_row"], column="parent", value=None)
    in_cycle = set()
    for r in rows:  # follow the parents; a walk that comes back to a scenario already on it is a cycle
        path, cur = [], r
        while cur is not None and cur["parent"] is not None and cur["scenario"] not in path:
            path.append(cur["scenario"])
            cur = by_name.get(cur["parent"])  # an unknown parent is reported by references()
        if cur is not None and cur["scenario"] in path:
            cycle = path[path.index(cur["scenario"]):]
            if not in_cycle & set(cycle):
                in_cycle |= set(cycle)
                first = by_name[cycle[0]]
                v.P.error("the scenario tree has a cycle: " + " -> ".join(f"'{s}'" for s in cycle + cycle[:1])
                          + " (each scenario's parent must lead back to the root)", sheet="scenarios",
                          row=first["_row"], column="parent", value=first["parent"])
    for r in rows:
        by = r["branch_year"]
        if not isinstance(by, int):
            continue
        if v.horizon_ok and not v.y0 <= by <= v.y1:
            v.P.error(f"branch_year lies outside the model horizon {v.y0}-{v.y1}", sheet="scenarios",
                      row=r["_row"], column="branch_year", value=by)
        parent = by_name.get(r["parent"])
        if parent is not None and isinstance(parent["branch_year"], int) and by < parent["branch_year"] \
                and r["scenario"] not in in_cycle:
            v.P.error(f"branch_year is before that of its parent '{parent['scenario']}' ({parent['branch_year']}, "
                      f"row {parent['_row']}): a scenario branches from its parent no earlier than the parent "
                      "branched itself", sheet="scenarios", row=r["_row"], column="branch_year", value=by)


def year_ranges(v: Check) -> None:
    """Every sheet declaring a ``year_range`` in the schema: first <= last, inside the horizon."""
    if not v.horizon_ok:
        return
    y0, y1 = v.y0, v.y1
    for s in tables():
        if not s.year_range:
            continue
        sheet, (a, b) = s.name, s.year_range
        for r in v.rows(sheet):
            fa, fb = r[a], r[b]
            if not (isinstance(fa, int) and isinstance(fb, int)):
                continue
            if fa > fb:
                v.P.error(f"{a} is after {b} ({fb})", sheet=sheet, row=r["_row"], column=a, value=fa)
            elif fb < y0 or fa > y1:
                v.P.error(f"the years {fa}-{fb} lie outside the model horizon {y0}-{y1}", sheet=sheet,
                          row=r["_row"], column=a if fa > y1 else b, value=fa if fa > y1 else fb)
            elif fa < y0 or fb > y1:
                v.P.warning(f"the years {fa}-{fb} reach outside the model horizon {y0}-{y1}; "
                            f"only {max(fa, y0)}-{min(fb, y1)} is used", sheet=sheet, row=r["_row"],
                            column=a if fa < y0 else b, value=fa if fa < y0 else fb)


def build_years(v: Check) -> None:
    if not v.horizon_ok:
        return
    for r in v.rows("processes"):
        fb = r["first_build_year"]
        if isinstance(fb, int) and _isnum(r["module_tpa"]) and r["module_tpa"] > 0:
            lead = r["lead_time_years"] if isinstance(r["lead_time_years"], int) else 0
            if max(fb, v.y0) > v.y1 - lead:
                v.P.warning(f"no module can be built: first_build_year {fb} + lead time {lead} is after the "
                            f"last model year {v.y1}", sheet="processes", row=r["_row"], column="first_build_year",
                            value=fb)


def burden_shares(v: Check) -> None:
    mem = v.T["members"]
    if not len(mem):
        return
    bs = list(mem["burden_share"])
    given = [b for b in bs if b is not None]
    if given and len(given) < len(bs):
        for r in v.rows("members"):
            if r["burden_share"] is None:
                v.P.error("burden_share is blank while other members have one (leave all blank for equal "
                          "shares, or fill every row)", sheet="members", row=r["_row"], column="burden_share")
    elif given and all(_isnum(b) for b in given) and sum(given) <= 0:
        v.P.error("burden shares are all zero; at least one member must bear a share", sheet="members",
                  row=int(mem["_row"].iloc[0]), column="burden_share", value=0)


def partial_disruptions(v: Check) -> None:
    sup_rows = v.rows("suppliers")
    for r in v.rows("disruptions"):
        share = r["available_share"]
        if _isnum(share) and 0 < share < 1:
            hit = [s for s in sup_rows if s["supplier"] == r["supplier"]
                   and (r["commodity"] is None or s["commodity"] == r["commodity"])]
            for s in hit:
                if s["max_tpa"] is None:
                    v.P.error(f"a partial available_share needs a finite max_tpa, but supplier '{s['supplier']}' "
                              f"has no max_tpa for '{s['commodity']}' (sheet 'suppliers', row {s['_row']})",
                              sheet="disruptions", row=r["_row"], column="available_share", value=share)


def scenario_price_suppliers(v: Check) -> None:
    """A scenario_prices row naming a supplier that does not sell the commodity."""
    sells = {(s["supplier"], s["commodity"]) for s in v.rows("suppliers")}
    for r in v.rows("scenario_prices"):
        if r["supplier"] is not None and r["supplier"] in v.known[("suppliers", "supplier")] \
                and (r["supplier"], r["commodity"]) not in sells:
            v.P.error(f"supplier '{r['supplier']}' does not sell '{r['commodity']}' (no such row in sheet "
                      f"'suppliers')", sheet="scenario_prices", row=r["_row"], column="supplier", value=r["supplier"])


def expansion_capex(v: Check) -> None:
    for r in v.rows("processes"):
        mt = r["module_tpa"]
        if _isnum(mt) and mt > 0 and r["capex_musd_per_module"] is None:
            v.P.error("capex_musd_per_module is required when module_tpa > 0", sheet="processes", row=r["_row"],
                      column="capex_musd_per_module")


def input_is_not_output(v: Check) -> None:
    for r in v.rows("processes"):
        if r["input"] is not None and r["input"] == r["output"]:
            v.P.error("input and output are the same commodity", sheet="processes", row=r["_row"], column="input",
                      value=r["input"])


def whole_max_modules(v: Check) -> None:
    for r in v.rows("processes"):
        if _isnum(r["max_modules"]) and not float(r["max_modules"]).is_integer() and r["integer_modules"]:
            v.P.warning("max_modules is not a whole number while integer_modules is TRUE", sheet="processes",
                        row=r["_row"], column="max_modules", value=r["max_modules"])


def process_can_produce(v: Check) -> None:
    for r in v.rows("processes"):
        mt = r["module_tpa"]
        if not (_isnum(mt) and mt > 0) and not (_isnum(r["existing_tpa"]) and r["existing_tpa"] > 0):
            v.P.warning("process has neither existing capacity nor expansion modules; it can never produce",
                        sheet="processes", row=r["_row"], column="existing_tpa", value=r["existing_tpa"])


def coproduct_not_main_output(v: Check) -> None:
    outputs = {r["process"]: r["output"] for r in v.rows("processes")}
    for r in v.rows("coproducts"):
        if r["process"] in outputs and outputs[r["process"]] == r["commodity"]:
            v.P.error("a coproduct cannot be the process's main output", sheet="coproducts", row=r["_row"],
                      column="commodity", value=r["commodity"])


def stockpile_capacities(v: Check) -> None:
    for r in v.rows("stockpiles"):
        ex, mx, ini = r["existing_capacity_t"], r["max_capacity_t"], r["initial_stock_t"]
        if _isnum(mx) and _isnum(ex) and mx < ex:
            v.P.error(f"max_capacity_t must be at least existing_capacity_t ({ex:g})", sheet="stockpiles",
                      row=r["_row"], column="max_capacity_t", value=mx)
        if _isnum(ini) and _isnum(ex) and ini > ex + 1e-9:
            v.P.error(f"initial_stock_t must not exceed existing_capacity_t ({ex:g})", sheet="stockpiles",
                      row=r["_row"], column="initial_stock_t", value=ini)


def security_targets(v: Check) -> None:
    """A security row fills one of the target kinds (the columns the schema marks ``target``)."""
    kinds = [c.name for c in SHEET_BY_NAME["security"].columns if c.target]
    for r in v.rows("security"):
        if all(r[k] is None for k in kinds):
            v.P.warning("security row sets no target (fill one of " + ", ".join(kinds) + ")", sheet="security",
                        row=r["_row"], column=kinds[0])


def stock_days_need_stockpiles(v: Check) -> None:
    stock_keys = {(r["member"], r["commodity"]) for r in v.rows("stockpiles")}
    stock_comms = {c for _, c in stock_keys}
    for r in v.rows("security"):
        if r["min_stock_days"] is None:
            continue
        if r["member"] is None and r["commodity"] not in stock_comms:
            v.P.error(f"a bloc-wide min_stock_days row needs a stockpile of '{r['commodity']}' at some member "
                      "(sheet 'stockpiles')", sheet="security", row=r["_row"], column="min_stock_days",
                      value=r["min_stock_days"])
        elif r["member"] is not None and (r["member"], r["commodity"]) not in stock_keys:
            v.P.error(f"min_stock_days needs a stockpile row for member '{r['member']}' and commodity "
                      f"'{r['commodity']}' (sheet 'stockpiles')", sheet="security", row=r["_row"],
                      column="min_stock_days", value=r["min_stock_days"])


def market_prices_needed(v: Check) -> None:
    priced = set(v.T["market_prices"]["commodity"].dropna())
    need = []
    for r in v.rows("suppliers"):
        need.append((r["commodity"], "suppliers", r["_row"], "commodity", "it is bought from a supplier"))
    for r in v.rows("offtakes"):
        need.append((r["commodity"], "offtakes", r["_row"], "commodity",
                     "it is bought under an offtake at max(floor, market price)"))
    for r in v.rows("commodities"):
        if r["export_price_factor"] is not None:
            need.append((r["commodity"], "commodities", r["_row"], "export_price_factor", "it may be exported"))
        if r["floor_price_usd_per_t"] is not None:
            need.append((r["commodity"], "commodities", r["_row"], "floor_price_usd_per_t", "it has a floor price"))
    for r in v.rows("scenario_prices"):
        need.append((r["commodity"], "scenario_prices", r["_row"], "commodity", "a scenario moves its price"))
    reported = set()
    for c, sheet, row, col, why in need:
        if c is None or c in priced or c not in v.known[("commodities", "commodity")] or (c, sheet) in reported:
            continue
        reported.add((c, sheet))
        v.P.error(f"commodity '{c}' needs market prices because {why}: add rows for it to sheet 'market_prices'",
                  sheet=sheet, row=row, column=col, value=c)


def self_routes(v: Check) -> None:
    for r in v.rows("routes"):
        if r["from"] is not None and r["from"] == r["to"]:
            v.P.warning("a route from a member to itself is ignored", sheet="routes", row=r["_row"], column="to",
                        value=r["to"])


def magnitudes(v: Check) -> None:
    check_magnitudes(v.data)


# ------------------------------------------------------------------ physics and plausibility (issue 15)
def net_gain_cycles(v: Check) -> None:
    """No mix of processes may make material from nothing (:mod:`planner.input.physics`)."""
    for found in gain_cycles(v.rows("processes"), v.rows("coproducts")):
        procs = found["processes"]
        names = ", ".join(f"'{p['process']}' (row {p['_row']})" for p in procs)
        net = ", ".join(f"{t:.3g} t of '{c}'" for c, t in found["net"].items())
        v.P.error(f"material from nothing: process{'es' if len(procs) > 1 else ''} {names} together make more "
                  f"than they use ({net} left over per cycle, with no input from outside); check input_per_output "
                  "and the coproducts' t_per_t_output (a loss-making cycle is fine)", sheet="processes",
                  row=procs[0]["_row"], column="input_per_output", value=procs[0]["input_per_output"])


RATE_UNITS = ("per year", "share")  # settings in these units above 1 are almost surely percentages typed as such


def rates_above_one(v: Check) -> None:
    for decl in SETTINGS:
        x = v.settings.get(decl.name)
        if decl.unit in RATE_UNITS and decl.max is None and _isnum(x) and x > 1:
            v.P.warning(f"{decl.name} {x:g} is above 1 ({100 * x:g}%): did you mean {x / 100:g}?", sheet="settings",
                        row=v.data.settings_rows.get(decl.name), column="value", value=x)


MULTIPLIER_TYPO = 100  # a price or demand multiplier this large was most likely typed as a percentage


def multipliers_typed_as_percent(v: Check) -> None:
    for s in tables():
        for c in s.columns:
            if c.type != FLOAT or not (c.unit or "").startswith("x"):
                continue
            for r in v.rows(s.name):
                x = r[c.name]
                if _isnum(x) and x >= MULTIPLIER_TYPO:
                    v.P.warning(f"{c.name} {x:g} multiplies by {x:g}: did you mean {x / 100:g} ({x:g}%)?",
                                sheet=s.name, row=r["_row"], column=c.name, value=x)


DISCOUNT_WARN, DISCOUNT_ERROR = 6, 12  # decades (log10) the discount factors may span: warning, error


def discount_factors(v: Check) -> None:
    """delta_t = (1+r)^-(t - base_year) over the horizon: factors below ~1e-12 put late years' costs under the
    solver's tolerances (they count for nothing), above ~1e12 they swamp the others."""
    r, base = v.settings.get("discount_rate"), v.settings.get("base_year")
    if not (v.horizon_ok and _isnum(r) and r > -1 and isinstance(base, int)):
        return
    lg = math.log10(1 + r)
    ends = [-(v.y0 - base) * lg, -(v.y1 - base) * lg, 0.0]
    span = max(ends) - min(ends)
    if span <= DISCOUNT_WARN:
        return
    text = (f"with discount_rate {r:g} the discount factors span {span:.0f} orders of magnitude between base_year "
            f"{base} and the years {v.y0}-{v.y1} (from 1e{min(ends):.0f} to 1e{max(ends):.0f})")
    hint = f"; did you mean {r / 100:g}?" if r > 1 else ""
    loc = {"sheet": "settings", "row": v.data.settings_rows.get("discount_rate"), "column": "value", "value": r}
    if span > DISCOUNT_ERROR:
        v.P.error(text + ": costs in some years fall below the solver's tolerances and count for nothing" + hint,
                  **loc)
    else:
        v.P.warning(text + ": the solver may treat the costs of some years as negligible" + hint, **loc)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def threads_capped(v: Check) -> None:
    n, have = v.settings.get("threads"), cores()
    if isinstance(n, int) and n > have:
        v.P.warning(f"threads {n} is more than this machine's {have} core(s); using {have}", sheet="settings",
                    row=v.data.settings_rows.get("threads"), column="value", value=n)
        v.settings["threads"] = have


def canon(k) -> str:
    return unicodedata.normalize("NFKC", str(k)).casefold()


def key_columns() -> list[tuple[str, str]]:
    """The columns whose values are keys others refer to, and single-column keys: where two spellings of one
    name would silently be two things."""
    out = []
    for s in SHEETS:
        for c in s.columns:
            for t in (c.ref, *c.ref_extra) if c.ref else c.ref_extra:
                if t not in out:
                    out.append(t)
        if len(s.key) == 1 and s.kind == "table" and (s.name, s.key[0]) not in out:
            out.append((s.name, s.key[0]))
    return out


def keys_differing_in_case(v: Check) -> None:
    for sheet, col in key_columns():
        first = {}
        for r in v.rows(sheet):
            x = r[col]
            if x is None:
                continue
            k = canon(x)
            if k not in first:
                first[k] = (x, r["_row"])
            elif first[k][0] != x:
                y, row = first[k]
                how = "case" if str(x).lower() == str(y).lower() else "case or Unicode normalisation"
                v.P.warning(f"'{x}' differs from '{y}' (row {row}) only in {how}: they are read as two different "
                            f"{col} keys", sheet=sheet, row=r["_row"], column=col, value=x)
                first[k] = (x, r["_row"])


def money_loops(v: Check) -> None:
    """Shipping a commodity from one member to another and back at a negative total cost earns money without limit:
    the model is unbounded.  Said before the solve, naming the setting or the route rows that cause it (the
    solver's own message can only guess at a commodity)."""
    default = v.settings.get("default_route_cost_usd_per_t")
    all_pairs = bool(v.settings.get("trade_all_pairs", True))
    routes = [r for r in v.rows("routes") if r["from"] is not None and r["to"] is not None and r["from"] != r["to"]]
    if not (_isnum(default) and default < 0 and all_pairs) and \
            not any(_isnum(r["cost_usd_per_t"]) and r["cost_usd_per_t"] < 0 for r in routes):
        return
    members = [m for m in v.T["members"]["member"].dropna().unique()]
    comms = [c for c in v.T["commodities"]["commodity"].dropna().unique()]
    given = {(r["from"], r["to"], r["commodity"]): r for r in routes}

    def leg(m, n, c):  # (cost, where) of shipping c from m to n, or None if it cannot be shipped
        r = given.get((m, n, c)) or given.get((m, n, None))
        if r is not None:
            return None if r["allowed"] is False or not _isnum(r["cost_usd_per_t"]) else \
                (r["cost_usd_per_t"], f"sheet 'routes', row {r['_row']}")
        return (default, "settings default_route_cost_usd_per_t") if all_pairs and _isnum(default) else None

    for c in comms:
        for i, m in enumerate(members[:300]):
            for n in members[i + 1:300]:
                a, b = leg(m, n, c), leg(n, m, c)
                if a and b and a[0] + b[0] < 0:
                    row = next((given.get((x, y, k)) for x, y in ((m, n), (n, m)) for k in (c, None)
                                if given.get((x, y, k)) is not None and given[(x, y, k)]["cost_usd_per_t"] < 0), None)
                    loc = {"sheet": "routes", "row": row["_row"], "column": "cost_usd_per_t",
                           "value": row["cost_usd_per_t"]} if row is not None else \
                        {"sheet": "settings", "row": v.data.settings_rows.get("default_route_cost_usd_per_t"),
                         "column": "value", "value": default}
                    where = a[1] if a[1] == b[1] else f"{a[1]} and {b[1]}"
                    v.P.warning(f"shipping '{c}' from {m} to {n} and back costs {a[0] + b[0]:g} USD/t ({where}): "
                                "trade would earn money without limit and the model be unbounded", **loc)
                    return


RULES = [duplicate_keys, references, scenario_probabilities, scenario_tree, year_ranges, build_years, burden_shares,
         partial_disruptions, scenario_price_suppliers, expansion_capex, input_is_not_output, whole_max_modules,
         process_can_produce, coproduct_not_main_output, stockpile_capacities, security_targets,
         stock_days_need_stockpiles, market_prices_needed, self_routes, magnitudes,
         net_gain_cycles, rates_above_one, multipliers_typed_as_percent, discount_factors, threads_capped,
         keys_differing_in_case, money_loops]


def validate(data: InputData) -> InputData:
    """Apply every rule of :data:`RULES` (each appends to ``data.problems``; none stops early)."""
    if data.damaged or not data.settings or data.problems.errors and not data.sha256:
        return data  # the file (or one of its sheets) could not be read; nothing more to check
    v = Check(data)
    for rule in RULES:
        rule(v)
    return data


def _where(sheet, row, column) -> str:
    return f"sheet '{sheet}'" + (f", row {row}" if row is not None else "") + f", column '{column}'"


def check_magnitudes(data: InputData) -> None:
    """Numbers the solver cannot handle well (SPEC is silent; issue 6).

    - |value| >= TOO_LARGE in any number column: an error at that cell (a typo or wrong units; HiGHS reads
      1e20 as infinity, so such a value would silently change the model);
    - the nonzero numeric inputs (number columns of every table, and the money settings) spanning more than
      SPAN_WARN: one warning located at the largest value, naming the smallest, so the analyst can rescale.
    Values equal to a column's default are not counted (they were most likely left blank).
    """
    P = data.problems
    cells = []  # (abs, value, sheet, row, column)
    for name in SPAN_SETTINGS:
        v = data.settings.get(name)
        if _isnum(v) and v != 0 and math.isfinite(v) and v != SETTING_BY_NAME[name].default:
            cells.append((abs(v), v, "settings", data.settings_rows.get(name), "value"))
    for s in SHEETS:
        if s.kind != "table":
            continue
        df = data.tables[s.name]
        if not len(df):
            continue
        rows = df["_row"].tolist()
        for c in s.columns:
            if c.type != FLOAT:
                continue
            for v, r in zip(df[c.name].tolist(), rows):
                if _isnum(v) and v != 0 and math.isfinite(v) and v != c.default:
                    cells.append((abs(v), v, s.name, r, c.name))
    big = [x for x in cells if x[0] >= TOO_LARGE]
    for a, v, sheet, row, col in big:
        P.error(f"too large: no quantity, price or cost is {TOO_LARGE:.0e} or more, and the solver reads 1e20 as "
                "infinite; check the units (leave the cell blank where blank means no limit)", sheet=sheet, row=row,
                column=col, value=v)
    cells = [x for x in cells if x[0] < TOO_LARGE]
    if len(cells) < 2:
        return
    lo = min(cells, key=lambda x: x[0])
    hi = max(cells, key=lambda x: x[0])
    if hi[0] > SPAN_WARN * lo[0]:
        P.warning(f"numeric inputs span {hi[0] / lo[0]:.1e} (more than {SPAN_WARN:.0e}): from {lo[1]:g} in "
                  f"{_where(*lo[2:])} to {hi[1]:g} here; the solver may become numerically unreliable (check the "
                  "units of these columns, or write negligible values as 0)", sheet=hi[2], row=hi[3], column=hi[4],
                  value=hi[1])
