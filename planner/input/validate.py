"""Cross-sheet rules of SPEC §2 (cell types and ranges are checked while reading).

Every rule appends to ``data.problems``; none stops early, so the analyst sees
every problem in one run.  Each problem names the sheet, the spreadsheet row
and the column, the value found and what was expected.
"""
from __future__ import annotations

import math

import pandas as pd

from planner.input.reader import InputData
from planner.input.schema import FLOAT, SETTING_BY_NAME, SHEETS

PROB_TOL = 1e-6
SPAN_WARN = 1e9      # nonzero numeric inputs spanning more than this: the solver may struggle (warning)
TOO_LARGE = 1e15     # no quantity, price or cost is this large; HiGHS treats 1e20 as infinite (error)
SPAN_SETTINGS = ("shortage_penalty_usd_per_t", "default_route_cost_usd_per_t")


def _rows(df: pd.DataFrame):
    return df.to_dict("records")


def _isnum(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not (isinstance(x, float) and math.isnan(x))


def scenario_names(data: InputData) -> list[str]:
    sc = data.tables["scenarios"]
    return [s for s in sc["scenario"] if s is not None] if len(sc) else ["base"]


def validate(data: InputData) -> InputData:
    if data.damaged or not data.settings or data.problems.errors and not data.sha256:
        return data  # the file (or one of its sheets) could not be read; nothing more to check
    P = data.problems
    T = data.tables
    memo = {}

    def _rows(df):  # each table turned into records once (the rules below read them many times)
        if id(df) not in memo:
            memo[id(df)] = (df, df.to_dict("records"))
        return memo[id(df)][1]
    st = data.settings
    y0, y1 = st.get("start_year"), st.get("end_year")
    horizon_ok = isinstance(y0, int) and isinstance(y1, int) and y0 <= y1

    # ---- duplicate keys
    for s in SHEETS:
        if s.kind != "table" or not s.key:
            continue
        df = T[s.name]
        seen = {}
        for r in _rows(df):
            k = tuple(r[c] for c in s.key)
            if any(v is None for v, c in zip(k, s.key) if s.column(c).required):
                continue
            if k in seen:
                P.error(f"duplicate key {' / '.join('blank' if v is None else str(v) for v in k)} "
                        f"(first in row {seen[k]})", sheet=s.name, row=r["_row"], column=", ".join(s.key),
                        value=" / ".join("" if v is None else str(v) for v in k))
            else:
                seen[k] = r["_row"]

    # ---- references
    known = {
        ("members", "member"): set(T["members"]["member"].dropna()),
        ("commodities", "commodity"): set(T["commodities"]["commodity"].dropna()),
        ("processes", "process"): set(T["processes"]["process"].dropna()),
        ("suppliers", "supplier"): set(T["suppliers"]["supplier"].dropna()),
        ("offtakes", "seller"): set(T["offtakes"]["seller"].dropna()),
        ("scenarios", "scenario"): set(scenario_names(data)),
    }
    for s in SHEETS:
        if s.kind != "table":
            continue
        for c in s.columns:
            if not c.ref:
                continue
            ok = set(known[c.ref])
            for extra in c.ref_extra:
                ok |= known[extra]
            where = f"sheet '{c.ref[0]}'" + "".join(f" or sheet '{e[0]}' ({e[1]})" for e in c.ref_extra)
            for r in _rows(T[s.name]):
                v = r[c.name]
                if v is not None and v not in ok:
                    hint = ""
                    if c.ref == ("scenarios", "scenario") and not len(T["scenarios"]):
                        hint = " (there is no scenarios sheet, so the only scenario is 'base')"
                    close = [k for k in ok if str(k).lower() == str(v).lower()]
                    if close:
                        hint += f"; keys are case-sensitive: did you mean '{close[0]}'?"
                    P.error(f"unknown {c.ref[1]}: not found in {where}{hint}", sheet=s.name, row=r["_row"],
                            column=c.name, value=v)

    # ---- scenarios
    sc = T["scenarios"]
    if len(sc):
        probs = [p for p in sc["probability"] if _isnum(p)]
        if len(probs) == len(sc) and abs(sum(probs) - 1.0) > PROB_TOL:
            P.error(f"scenario probabilities must sum to 1 (they sum to {sum(probs):.6g})", sheet="scenarios",
                    row=int(sc["_row"].iloc[-1]), column="probability", value=round(sum(probs), 9))

    # ---- year ranges inside the horizon
    if horizon_ok:
        for sheet, a, b in [("security", "from_year", "to_year"), ("scenario_prices", "from_year", "to_year"),
                            ("scenario_demand", "from_year", "to_year"), ("disruptions", "from_year", "to_year"),
                            ("offtakes", "start_year", "end_year")]:
            for r in _rows(T[sheet]):
                fa, fb = r[a], r[b]
                if not (isinstance(fa, int) and isinstance(fb, int)):
                    continue
                if fa > fb:
                    P.error(f"{a} is after {b} ({fb})", sheet=sheet, row=r["_row"], column=a, value=fa)
                elif fb < y0 or fa > y1:
                    P.error(f"the years {fa}-{fb} lie outside the model horizon {y0}-{y1}", sheet=sheet,
                            row=r["_row"], column=a if fa > y1 else b, value=fa if fa > y1 else fb)
                elif fa < y0 or fb > y1:
                    P.warning(f"the years {fa}-{fb} reach outside the model horizon {y0}-{y1}; "
                              f"only {max(fa, y0)}-{min(fb, y1)} is used", sheet=sheet, row=r["_row"],
                              column=a if fa < y0 else b, value=fa if fa < y0 else fb)
        for r in _rows(T["processes"]):
            fb = r["first_build_year"]
            if isinstance(fb, int) and _isnum(r["module_tpa"]) and r["module_tpa"] > 0:
                lead = r["lead_time_years"] if isinstance(r["lead_time_years"], int) else 0
                if max(fb, y0) > y1 - lead:
                    P.warning(f"no module can be built: first_build_year {fb} + lead time {lead} is after the "
                              f"last model year {y1}", sheet="processes", row=r["_row"], column="first_build_year",
                              value=fb)

    # ---- members: burden shares
    mem = T["members"]
    if len(mem):
        bs = list(mem["burden_share"])
        given = [b for b in bs if b is not None]
        if given and len(given) < len(bs):
            for r in _rows(mem):
                if r["burden_share"] is None:
                    P.error("burden_share is blank while other members have one (leave all blank for equal "
                            "shares, or fill every row)", sheet="members", row=r["_row"], column="burden_share")
        elif given and all(_isnum(b) for b in given) and sum(given) <= 0:
            P.error("burden shares are all zero; at least one member must bear a share", sheet="members",
                    row=int(mem["_row"].iloc[0]), column="burden_share", value=0)

    # ---- suppliers and disruptions
    sup = T["suppliers"]
    sup_rows = _rows(sup)
    for r in _rows(T["disruptions"]):
        share = r["available_share"]
        if _isnum(share) and 0 < share < 1:
            hit = [s for s in sup_rows if s["supplier"] == r["supplier"]
                   and (r["commodity"] is None or s["commodity"] == r["commodity"])]
            for s in hit:
                if s["max_tpa"] is None:
                    P.error(f"a partial available_share needs a finite max_tpa, but supplier '{s['supplier']}' "
                            f"has no max_tpa for '{s['commodity']}' (sheet 'suppliers', row {s['_row']})",
                            sheet="disruptions", row=r["_row"], column="available_share", value=share)

    # ---- scenario_prices naming a supplier that does not sell the commodity
    sells = {(s["supplier"], s["commodity"]) for s in sup_rows}
    for r in _rows(T["scenario_prices"]):
        if r["supplier"] is not None and r["supplier"] in known[("suppliers", "supplier")] \
                and (r["supplier"], r["commodity"]) not in sells:
            P.error(f"supplier '{r['supplier']}' does not sell '{r['commodity']}' (no such row in sheet "
                    f"'suppliers')", sheet="scenario_prices", row=r["_row"], column="supplier", value=r["supplier"])

    # ---- processes
    outputs = {}
    for r in _rows(T["processes"]):
        outputs[r["process"]] = r["output"]
        mt = r["module_tpa"]
        if _isnum(mt) and mt > 0 and r["capex_musd_per_module"] is None:
            P.error("capex_musd_per_module is required when module_tpa > 0", sheet="processes", row=r["_row"],
                    column="capex_musd_per_module")
        if r["input"] is not None and r["input"] == r["output"]:
            P.error("input and output are the same commodity", sheet="processes", row=r["_row"], column="input",
                    value=r["input"])
        if _isnum(r["max_modules"]) and not float(r["max_modules"]).is_integer() and r["integer_modules"]:
            P.warning("max_modules is not a whole number while integer_modules is TRUE", sheet="processes",
                      row=r["_row"], column="max_modules", value=r["max_modules"])
        if not (_isnum(mt) and mt > 0) and not (_isnum(r["existing_tpa"]) and r["existing_tpa"] > 0):
            P.warning("process has neither existing capacity nor expansion modules; it can never produce",
                      sheet="processes", row=r["_row"], column="existing_tpa", value=r["existing_tpa"])
    for r in _rows(T["coproducts"]):
        if r["process"] in outputs and outputs[r["process"]] == r["commodity"]:
            P.error("a coproduct cannot be the process's main output", sheet="coproducts", row=r["_row"],
                    column="commodity", value=r["commodity"])

    # ---- stockpiles
    for r in _rows(T["stockpiles"]):
        ex, mx, ini = r["existing_capacity_t"], r["max_capacity_t"], r["initial_stock_t"]
        if _isnum(mx) and _isnum(ex) and mx < ex:
            P.error(f"max_capacity_t must be at least existing_capacity_t ({ex:g})", sheet="stockpiles",
                    row=r["_row"], column="max_capacity_t", value=mx)
        if _isnum(ini) and _isnum(ex) and ini > ex + 1e-9:
            P.error(f"initial_stock_t must not exceed existing_capacity_t ({ex:g})", sheet="stockpiles",
                    row=r["_row"], column="initial_stock_t", value=ini)

    # ---- security rows
    stock_keys = {(r["member"], r["commodity"]) for r in _rows(T["stockpiles"])}
    stock_comms = {c for _, c in stock_keys}
    kinds = ("max_concern_share", "min_stock_days", "min_domestic_share", "max_shortage_share")
    for r in _rows(T["security"]):
        if all(r[k] is None for k in kinds):
            P.warning("security row sets no target (fill one of " + ", ".join(kinds) + ")", sheet="security",
                      row=r["_row"], column="max_concern_share")
        if r["min_stock_days"] is not None:
            if r["member"] is None and r["commodity"] not in stock_comms:
                P.error(f"a bloc-wide min_stock_days row needs a stockpile of '{r['commodity']}' at some member "
                        "(sheet 'stockpiles')", sheet="security", row=r["_row"], column="min_stock_days",
                        value=r["min_stock_days"])
            elif r["member"] is not None and (r["member"], r["commodity"]) not in stock_keys:
                P.error(f"min_stock_days needs a stockpile row for member '{r['member']}' and commodity "
                        f"'{r['commodity']}' (sheet 'stockpiles')", sheet="security", row=r["_row"],
                        column="min_stock_days", value=r["min_stock_days"])

    # ---- commodities that need market prices
    priced = set(T["market_prices"]["commodity"].dropna())
    need = []
    for r in sup_rows:
        need.append((r["commodity"], "suppliers", r["_row"], "commodity", "it is bought from a supplier"))
    for r in _rows(T["offtakes"]):
        need.append((r["commodity"], "offtakes", r["_row"], "commodity",
                     "it is bought under an offtake at max(floor, market price)"))
    for r in _rows(T["commodities"]):
        if r["export_price_factor"] is not None:
            need.append((r["commodity"], "commodities", r["_row"], "export_price_factor", "it may be exported"))
        if r["floor_price_usd_per_t"] is not None:
            need.append((r["commodity"], "commodities", r["_row"], "floor_price_usd_per_t", "it has a floor price"))
    for r in _rows(T["scenario_prices"]):
        need.append((r["commodity"], "scenario_prices", r["_row"], "commodity", "a scenario moves its price"))
    reported = set()
    for c, sheet, row, col, why in need:
        if c is None or c in priced or c not in known[("commodities", "commodity")] or (c, sheet) in reported:
            continue
        reported.add((c, sheet))
        P.error(f"commodity '{c}' needs market prices because {why}: add rows for it to sheet 'market_prices'",
                sheet=sheet, row=row, column=col, value=c)

    # ---- routes
    for r in _rows(T["routes"]):
        if r["from"] is not None and r["from"] == r["to"]:
            P.warning("a route from a member to itself is ignored", sheet="routes", row=r["_row"], column="to",
                      value=r["to"])

    check_magnitudes(data)
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
