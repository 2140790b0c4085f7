"""``planner info FILE``: what an input workbook holds, and every key ``--set`` takes.

Members, commodities, scenarios with their probabilities and their tree (SPEC §3 "Information": explicit
from the scenarios sheet's ``parent``/``branch_year``, else derived from the data with foresight_years),
the settings with their values and defaults, and the ``--set`` keys (settings by name, table cells as
``sheet.row.column``). Nothing is solved; reading and validating take well under a second for the example.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.input.schema import SETTINGS, SHEETS
from planner.input.template import default_text, value_text


@dataclass
class Info:
    path: str
    years: tuple[int, int]
    members: pd.DataFrame
    commodities: pd.DataFrame
    scenarios: pd.DataFrame
    tree_kind: str                      # "explicit", "derived" or "single"
    periods: list = field(default_factory=list)   # (first year, last year, [[scenario, ...], ...])
    settings: pd.DataFrame = field(default_factory=pd.DataFrame)
    cell_keys: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list = field(default_factory=list)
    foresight_years: int = 0


# ------------------------------------------------------------------ the tree
def tree_rep(d) -> tuple[np.ndarray, str]:
    """``rep[ti, si]`` (see :mod:`planner.model.tree`) of prepared model data ``d``: the tree the model
    aliases its operations on (``d.tree``, computed by prepare), and its kind ("derived", "explicit" or
    "single" for one scenario)."""
    from planner.model import tree

    if d.S == 1:
        return np.zeros((d.nT, 1), dtype=int), "single"
    if getattr(d, "tree", None) is not None:
        return np.asarray(d.tree), getattr(d, "tree_kind", "derived")
    # prepared data without a tree (an older model layer): derive it the same way
    data = list(d.price.values()) + list(d.sprice.values()) + list(d.demand.values())
    sellers = {(x["supplier"], x["commodity"]) for x in d.suppliers} | {(o["seller"], o["commodity"])
                                                                       for o in d.offtakes}
    data += [d.avail(name, c) for name, c in sorted(sellers, key=str)]
    return tree.derived(data, d.S, d.nT, int(d.settings.get("foresight_years") or 0)), "derived"


def periods(rep: np.ndarray, years: list[int], scen: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """Runs of years with the same grouping of scenarios into nodes: (first, last, groups in sheet order)."""
    out = []
    for ti, t in enumerate(years):
        groups: dict[int, list[str]] = {}
        for si, r in enumerate(rep[ti]):
            groups.setdefault(int(r), []).append(scen[si])
        g = list(groups.values())
        if out and out[-1][2] == g:
            out[-1] = (out[-1][0], t, g)
        else:
            out.append((t, t, g))
    return out


# ------------------------------------------------------------------ --set keys
def cell_key_table(data) -> pd.DataFrame:
    """Per table: how its rows are named in ``sheet.row.column`` and which columns can be set."""
    from planner.input.overrides import row_keys

    rows = []
    for s in SHEETS:
        if s.kind != "table":
            continue
        df = data.tables[s.name]
        keys = row_keys(df, s) if len(df) else []
        rows.append({"sheet": s.name, "row named by": "/".join(s.key) if s.key else "Excel row number",
                     "rows": len(keys), "row keys": keys,
                     "columns": [c for c in s.names if c not in s.key]})
    return pd.DataFrame(rows)


def every_key(info: Info) -> list[str]:
    """Every key ``--set`` takes for this workbook: the settings, then every cell of every non-empty table."""
    out = list(info.settings["setting"])
    for r in info.cell_keys.itertuples():
        out += [f"{r.sheet}.{k}.{c}" for k in r._4 for c in r.columns]
    return out


# ------------------------------------------------------------------ gathering
def _num(v, fmt="{:,.0f}") -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return fmt.format(v) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def gather(path: str, overrides: dict | None = None) -> Info:
    """Read and validate ``path`` (with ``overrides``), prepare the model data and collect what info shows."""
    from planner.input.load import load
    from planner.model.prepare import prepare

    data = load(path, overrides)
    d = prepare(data)
    T = data.tables
    m = T["members"]
    share = pd.to_numeric(m["burden_share"], errors="coerce")
    norm = share / share.sum() if share.notna().all() and share.sum() > 0 else pd.Series(1 / max(len(m), 1),
                                                                                       index=m.index)
    members = pd.DataFrame({
        "member": m["member"], "name": m["name"].fillna(""),
        "burden share": [f"{100 * x:.1f}%" for x in norm],
        "fiscal budget (MUSD)": [_num(v) for v in m["fiscal_budget_musd"]]})
    c = T["commodities"]
    demand = T["demand"].groupby("commodity")["member"].nunique() if len(T["demand"]) else pd.Series(dtype=int)
    commodities = pd.DataFrame({
        "commodity": c["commodity"], "name": c["name"].fillna(""),
        "floor (USD/t)": [_num(v) for v in c["floor_price_usd_per_t"]],
        "shortage (USD/t)": [_num(v) for v in c["shortage_penalty_usd_per_t"]],
        "members with demand": [str(int(demand.get(k, 0))) for k in c["commodity"]]})
    sc = T["scenarios"]
    if len(sc):
        scen = pd.DataFrame({"scenario": sc["scenario"], "probability": [f"{p:g}" for p in sc["probability"]],
                             "description": sc["description"].fillna("")})
        if "parent" in sc and sc["parent"].notna().any():
            scen["parent"] = sc["parent"].fillna("")
            scen["branch year"] = [_num(v, "{:.0f}") for v in sc["branch_year"]]
    else:
        scen = pd.DataFrame({"scenario": ["base"], "probability": ["1"],
                             "description": ["(no scenarios sheet: one scenario)"]})
    rep, kind = tree_rep(d)
    info = Info(path=str(path), years=(d.years[0], d.years[-1]), members=members, commodities=commodities,
                scenarios=scen, tree_kind=kind, periods=periods(rep, d.years, d.scen),
                foresight_years=int(data.settings.get("foresight_years") or 0))
    raw = data.settings_raw
    srows = []
    for decl in SETTINGS:
        given = decl.name in raw and raw[decl.name] is not None and str(raw[decl.name]).strip() != ""
        v = data.settings.get(decl.name)
        by_set = bool(overrides) and decl.name in overrides
        shown = value_text(v) if v is not None and (given or by_set) else ""
        srows.append({"setting": decl.name, "value": shown + (" (--set)" if by_set else ""),
                      "default": default_text(decl) or "(blank)",
                      "meaning": (f"{decl.unit}: " if decl.unit else "") + decl.description})
    info.settings = pd.DataFrame(srows)
    info.cell_keys = cell_key_table(data)
    info.warnings = [str(p) for p in data.problems.warnings]
    return info


# ------------------------------------------------------------------ printing
def _frame_rows(df: pd.DataFrame) -> list[list[str]]:
    return [[str(x) for x in r] for r in df.itertuples(index=False)]


def print_info(info: Info, keys_only: bool = False) -> None:
    from rich.text import Text

    from planner.workflows.terminal import Col, console, print_table

    con = console()
    if keys_only:
        for k in every_key(info):
            con.print(k, soft_wrap=True, markup=False)
        return

    def say(text: str, style=None) -> None:
        con.print(Text(text, style=style), soft_wrap=True)

    def wrapped(text: str, indent: int, hang: int) -> None:
        import textwrap

        width = max(40, con.size.width)
        for line in textwrap.wrap(text, width, initial_indent=" " * indent, subsequent_indent=" " * hang,
                                  break_long_words=False, break_on_hyphens=False):
            con.print(Text(line), soft_wrap=True)
    say(info.path, "bold")
    say(f"  {info.years[0]}-{info.years[1]}, {len(info.members)} member(s), {len(info.commodities)} commodities, "
        f"{len(info.scenarios)} scenario(s)", "bold")
    print_table(con, "members", [Col("member"), Col("name", wrap=True), Col("burden share", "right"),
                                 Col("fiscal budget (MUSD)", "right")], _frame_rows(info.members))
    print_table(con, "commodities", [Col("commodity"), Col("name", wrap=True), Col("floor (USD/t)", "right"),
                                     Col("shortage (USD/t)", "right"), Col("members with demand", "right")],
                _frame_rows(info.commodities))
    cols = [Col("scenario"), Col("probability", "right"), Col("description", wrap=True)]
    if "parent" in info.scenarios:
        cols += [Col("parent"), Col("branch year", "right")]
    print_table(con, "scenarios", cols, _frame_rows(info.scenarios))
    say(f"scenario tree ({tree_text(info)})", "bold")
    say("  scenarios in one node share every operation of those years (SPEC §3 Information)")
    for a, b, groups in info.periods:
        years = f"{a}" if a == b else f"{a}-{b}"
        nodes = "one node" if len(groups) == 1 else f"{len(groups)} nodes"
        wrapped(f"{years:<9} {nodes}: " + "  ".join("{" + ", ".join(g) + "}" for g in groups), 2, 14)
    print_table(con, "settings (value blank: the default holds)",
                [Col("setting"), Col("value", "right"), Col("default", wrap=True), Col("meaning", wrap=True)],
                _frame_rows(info.settings))
    say("--set keys (also the keys of an --overrides FILE.yaml)", "bold")
    say("  a setting by name: --set discount_rate=0.03 (every setting above)")
    example = next((f"{r.sheet}.{r._4[0]}.{r.columns[0]}" for r in info.cell_keys.itertuples()
                    if r.rows and r.columns), "commodities.NDPR_OX.floor_price_usd_per_t")
    floored = [k for k, f in zip(info.commodities["commodity"], info.commodities["floor (USD/t)"]) if f]
    if len(info.commodities):
        example = f"commodities.{(floored or list(info.commodities['commodity']))[0]}.floor_price_usd_per_t"
    say(f"  a table cell as sheet.row.column: --set {example}=...")
    for r in info.cell_keys.itertuples():
        if not r.rows:
            continue
        shown = ", ".join(r._4[:6]) + (", ..." if r.rows > 6 else "")
        wrapped(f"{r.sheet}.ROW.COLUMN: ROW is the {r._2} ({r.rows} row{'s' if r.rows > 1 else ''}: {shown})", 2, 6)
        wrapped("COLUMN: " + ", ".join(r.columns), 6, 14)
    say("  every key, one per line: planner info FILE --keys")
    for w in info.warnings:
        say(f"warning: {w}", "yellow")


def tree_text(info: Info) -> str:
    if info.tree_kind == "explicit":
        return "explicit: the scenarios sheet's parent and branch_year"
    if info.tree_kind == "single":
        return "one scenario"
    return f"derived from the data, foresight_years {info.foresight_years}"
