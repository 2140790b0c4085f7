"""The results schema (planner/report/schema.py) is the one declaration of the results workbook:
every table the extraction makes has exactly its columns, in its order, and docs/results-format.md
is generated from it."""
from pathlib import Path

import pytest
from modelkit import solve_book

from planner.report.schema import DOCS_PATH, RESULT_SHEET, render
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]


def _check(tables):
    for name, df in tables.items():
        sheet = RESULT_SHEET[name]
        cols = list(df.columns)
        assert cols[: len(sheet.names)] == sheet.names, name
        for c in cols[len(sheet.names):]:
            sheet.column(c)  # a declared family of columns (imports_from_<x>_t), else KeyError


def test_every_table_of_the_example_matches_the_schema():
    oc = solve_file(str(ROOT / "inputs" / "tiny.xlsx"), write=False)
    assert {"investments", "capacity", "offtakes", "stockpiles", "supply", "trade", "security", "fiscal", "costs",
            "prices", "scenario_tree"} <= set(oc.tables)
    _check(oc.tables)


def test_an_empty_plan_still_has_every_column(tmp_path):
    book = {"settings": {"start_year": 2026, "end_year": 2026},
            "members": [{"member": "A"}], "commodities": [{"commodity": "X"}],
            "suppliers": [{"supplier": "S", "commodity": "X"}],
            "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 10}],
            "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 1}]}
    oc = solve_book(tmp_path, book)
    _check(oc.tables)
    assert len(oc.tables["investments"]) == 0 and list(oc.tables["investments"].columns)


def test_results_format_page_is_generated_from_the_schema():
    page = (ROOT / DOCS_PATH).read_text(encoding="utf-8")
    assert page == render(), "run: python -m planner.report.schema"


def test_columns_are_named_through_the_schema():
    from planner.report.schema import COL

    assert COL.shortage_t == "shortage_t" and COL.beyond_consumption_t == "beyond_consumption_t"
    with pytest.raises(AttributeError, match="no results column 'shortage_tonnes'"):
        COL.shortage_tonnes  # noqa: B018
