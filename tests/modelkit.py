"""Small helpers for model tests: write a workbook from Python data, solve it.

    book = {"settings": {"start_year": 2026, "end_year": 2027, "discount_rate": 0},
            "members": [{"member": "A"}], ...}
    oc = solve_book(tmp_path, book)          # planner.workflows.run.Outcome (no file written)
    oc.tables["supply"], oc.objective, oc.headline ...
"""
from __future__ import annotations

import itertools
from pathlib import Path

import openpyxl

from planner.workflows.run import solve_file

_counter = itertools.count()


def write_book(path, sheets: dict) -> Path:
    """Write sheets to an .xlsx: 'settings' as a dict {key: value}, other sheets as lists of row dicts."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if name == "settings":
            ws.append(["key", "value"])
            for k, v in rows.items():
                ws.append([k, v])
            continue
        cols = []
        for r in rows:
            for k in r:
                if k not in cols:
                    cols.append(k)
        ws.append(cols)
        for r in rows:
            ws.append([r.get(c) for c in cols])
    path = Path(path)
    wb.save(path)
    return path


PLAIN_TWO_STAGE = {"foresight_years": 99, "terminal_stock_value": 0}


def solve_book(tmp_path, sheets: dict, write: bool = False, plain: bool = True, **kw):
    """Write ``sheets`` under tmp_path and solve; returns the Outcome (tables in .tables).

    ``plain`` (default): unless the book sets them, ``foresight_years`` beyond the horizon and
    ``terminal_stock_value`` 0, i.e. the plain two-stage model of SPEC v1 that the family tests were
    computed by hand for (SPEC §3: "with foresight_years beyond the horizon the model is the plain
    two-stage model"); the tests of the information and terminal-value rules pass ``plain=False``.
    """
    if plain:
        sheets = dict(sheets)
        sheets["settings"] = {**PLAIN_TWO_STAGE, **sheets.get("settings", {})}
    p = write_book(Path(tmp_path) / f"case{next(_counter)}.xlsx", sheets)
    kw.setdefault("out", str(Path(tmp_path) / "results"))
    return solve_file(str(p), write=write, **kw)


def cost(oc, category=None, scenario=None) -> float:
    """Sum of the costs table (optionally one category / scenario), MUSD."""
    df = oc.tables["costs"]
    if category is not None:
        df = df[df["category"] == category]
    if scenario is not None:
        df = df[df["scenario"] == scenario]
    return float(df["cost_musd"].sum())
