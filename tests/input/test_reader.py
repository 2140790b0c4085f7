"""What real analyst files contain, and how planner.input.reader reads it (typed values, rows, warnings)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from conftest import set_cell, valid_book, write_book
from planner.input.reader import read_workbook
from planner.input.schema import SHEETS
from planner.input.validate import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def located(p) -> str:
    """A problem as printed, without the file name and the 'warning: ' prefix."""
    return str(p).replace("warning: ", "", 1).split(": ", 1)[1]


def read(tmp_path, book):
    """Read and validate a book; (data, every problem as located text)."""
    data = validate(read_workbook(write_book(tmp_path / "book.xlsx", book)))
    return data, [located(p) for p in data.problems.items]


def errors(data):
    return [located(p) for p in data.problems.errors]


def warnings_(data):
    return [located(p) for p in data.problems.warnings]


def records(df):
    return df.drop(columns="_row").to_dict("records")


# ------------------------------------------------------------------ shape of the result
def test_tables_have_exactly_the_declared_columns_typed_and_defaulted(tmp_path):
    data, _ = read(tmp_path, valid_book())
    assert data.problems.items == []
    for s in SHEETS:
        if s.kind == "table":
            assert list(data.tables[s.name].columns) == s.names + ["_row"]
    p = data.tables["processes"].set_index("process")
    assert p.loc["mine_EU", "existing_tpa"] == 50.0 and isinstance(p.loc["mine_EU", "existing_tpa"], float)
    assert p.loc["mine_EU", "input"] is None
    assert p.loc["mine_EU", "input_per_output"] == 1.0
    assert p.loc["mine_EU", "integer_modules"] is True
    assert p.loc["mine_EU", "lifetime_years"] == 25
    assert p.loc["mine_EU", "first_build_year"] == 2025  # default: settings start_year
    assert p.loc["ref_USA", "lead_time_years"] == 1 and isinstance(p.loc["ref_USA", "lead_time_years"], int)
    sup = data.tables["suppliers"].set_index("supplier")
    assert sup.loc["CHN", "country_of_concern"] is True and sup.loc["ROW", "country_of_concern"] is False
    assert sup.loc["ROW", "max_tpa"] is None  # blank = unlimited
    assert list(data.tables["demand"]["_row"]) == [2, 3, 4]
    assert data.settings["base_year"] == 2025 and data.settings["objective"] == "resource"
    assert data.settings["anti_circumvention"] is True and data.settings["threads"] == 0
    assert data.years == [2025, 2026, 2027]
    assert list(data.sources.columns) == ["item", "value", "unit", "source", "status"]


def test_defaults_that_follow_settings(tmp_path):
    book = valid_book()
    book["settings"].append({"key": "default_route_cost_usd_per_t", "value": 7})
    book["routes"].append({"from": "EU", "to": "USA"})
    set_cell(book, "offtakes", 2, "start_year", None)
    set_cell(book, "offtakes", 2, "end_year", None)
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert list(data.tables["routes"]["cost_usd_per_t"]) == [10.0, 7]
    assert data.tables["routes"]["allowed"].tolist() == [True, True]
    o = data.tables["offtakes"].iloc[0]
    assert (o["start_year"], o["end_year"]) == (2025, 2027)


def test_absent_optional_sheets_are_empty_tables(tmp_path):
    book = {k: valid_book()[k] for k in ("settings", "members", "commodities", "market_prices", "demand")}
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert len(data.tables["processes"]) == 0 and list(data.tables["processes"].columns)[-1] == "_row"
    assert data.sources.empty


def test_blank_optional_sheet_is_an_empty_table(tmp_path):
    book = valid_book()
    book["routes"] = []
    book["coproducts"] = [[None], [None, "  "]]
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert len(data.tables["routes"]) == 0 and len(data.tables["coproducts"]) == 0


# ------------------------------------------------------------------ rows
def test_units_row_is_skipped_and_rows_keep_their_excel_numbers(tmp_path):
    book = valid_book()
    book["demand"] = [["member", "commodity", "year", "demand_t"],
                      ["  # code", "# code", "# year", "# t"],
                      ["USA", "oxide", 2025, 100],
                      ["EU", "oxide", 2025, 50]]
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert list(data.tables["demand"]["_row"]) == [3, 4]


def test_only_row_2_can_be_a_units_row(tmp_path):
    book = valid_book()
    book["members"] = [["member", "name"], ["USA", "x"], ["#EU", "# not a note"]]
    data, _ = read(tmp_path, book)
    assert data.tables["members"]["member"].tolist() == ["USA", "#EU"]


def test_excel_error_in_row_2_is_data_not_a_units_row(tmp_path):
    book = valid_book()
    set_cell(book, "demand", 2, "member", "#REF!")
    data, msgs = read(tmp_path, book)
    assert list(data.tables["demand"]["_row"]) == [2, 3, 4]
    assert any("sheet 'demand', row 2, column 'member': the cell holds the Excel error #REF!" in m for m in msgs)


def test_blank_rows_are_skipped(tmp_path):
    book = valid_book()
    book["demand"] = [["member", "commodity", "year", "demand_t"],
                      [None, None, None, None],
                      ["USA", "oxide", 2025, 100],
                      ["  ", None, " ", None],
                      [],
                      ["EU", "oxide", 2025, 50]]
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert list(data.tables["demand"]["_row"]) == [3, 6]


def test_header_after_leading_blank_rows(tmp_path):
    book = valid_book()
    book["members"] = [[], [None, None], ["member", "name"], ["USA", "a"], ["EU", "b"]]
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert list(data.tables["members"]["_row"]) == [4, 5]


def test_trailing_empty_columns_are_ignored(tmp_path):
    book = valid_book()
    book["members"] = [["member", "name", None, "", "  "], ["USA", "a", None, None, ""], ["EU", "b", None]]
    path = write_book(tmp_path / "book.xlsx", book)
    import openpyxl  # cells formatted far to the right but empty, as Excel leaves them
    wb = openpyxl.load_workbook(path)
    wb["members"]["Z40"].number_format = "0.00"
    wb["members"].column_dimensions["AA"].width = 30
    wb.save(path)
    data = validate(read_workbook(path))
    assert data.problems.items == []
    assert data.tables["members"]["member"].tolist() == ["USA", "EU"]


# ------------------------------------------------------------------ cell values
def test_numbers_stored_as_text(tmp_path):
    book = valid_book()
    values = ["1,200", " 5 ", "5", "1,234,567.5", "\u00a01 000", "+3", "-0", "1e3"]  # "5%": test_percent_...
    book["demand"] = [{"member": "USA", "commodity": "oxide", "year": 2025 + i, "demand_t": v}
                      for i, v in enumerate(values)]
    book["settings"].append({"key": "mip_gap", "value": "0.5%"})
    data, msgs = read(tmp_path, book)
    assert [m for m in msgs if "horizon" not in m] == []
    assert data.tables["demand"]["demand_t"].tolist() == [1200.0, 5.0, 5.0, 1234567.5, 1000.0, 3.0, 0.0, 1000.0]
    assert data.settings["mip_gap"] == pytest.approx(0.005)


def test_whole_numbers_stored_as_text_and_float(tmp_path):
    book = valid_book()
    set_cell(book, "processes", 2, "lead_time_years", "2")
    set_cell(book, "processes", 2, "lifetime_years", 20.0)
    set_cell(book, "demand", 2, "year", "2025")
    set_cell(book, "settings", 2, "value", " 2025 ")
    data, msgs = read(tmp_path, book)
    assert msgs == []
    p = data.tables["processes"].iloc[0]
    assert (p["lead_time_years"], p["lifetime_years"]) == (2, 20)
    assert type(p["lifetime_years"]) is int and type(data.tables["demand"]["year"].iloc[0]) is int
    assert data.settings["start_year"] == 2025


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("TRUE", True), ("false", False), ("True", True), ("FaLsE", False),
    ("yes", True), ("No", False), ("YES", True), ("y", True), ("N", False), (1, True), (0, False),
    ("1", True), ("0", False), (" true ", True),
])
def test_booleans(value, expected):
    from planner.input.reader import coerce
    from planner.input.schema import SHEET_BY_NAME

    assert coerce(value, SHEET_BY_NAME["suppliers"].column("country_of_concern")) is expected


def test_booleans_in_a_workbook(tmp_path):
    book = valid_book()
    words = ["TRUE", "false", "Yes", "NO", 1, 0, True, "n"]
    book["suppliers"] += [{"supplier": f"S{i}", "commodity": "oxide", "max_tpa": 10, "country_of_concern": w}
                          for i, w in enumerate(words)]
    book["settings"].append({"key": "trade_all_pairs", "value": "no"})
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert data.tables["suppliers"]["country_of_concern"].tolist()[2:] == [True, False, True, False, True, False,
                                                                            True, False]
    assert data.settings["trade_all_pairs"] is False


def test_dates_typed_into_year_columns(tmp_path):
    book = valid_book()
    set_cell(book, "demand", 4, "year", dt.datetime(2027, 1, 1))
    set_cell(book, "settings", 3, "value", dt.date(2027, 12, 31))
    set_cell(book, "offtakes", 2, "start_year", dt.datetime(2026, 7, 1, 12, 0))
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert data.tables["demand"]["year"].tolist() == [2025, 2025, 2027]
    assert data.settings["end_year"] == 2027
    assert data.tables["offtakes"]["start_year"].iloc[0] == 2026


def test_stray_spaces_in_keys_headers_and_sheet_names(tmp_path):
    book = valid_book()
    book["  members "] = [{" member ": " USA ", "name  ": " United States "}, {" member ": "EU\u00a0".strip()}]
    del book["members"]
    book["settings"] = [{"  key": " start_year ", "value ": 2025}, {"  key": "end_year  ", "value ": 2027}]
    set_cell(book, "demand", 3, "commodity", "  oxide\t")
    data, msgs = read(tmp_path, book)
    assert errors(data) == []
    assert data.tables["members"]["member"].tolist() == ["USA", "EU"]
    assert data.tables["members"]["name"].tolist() == ["United States", None]
    assert data.tables["demand"]["commodity"].tolist() == ["oxide"] * 3
    assert (data.settings["start_year"], data.settings["end_year"]) == (2025, 2027)
    assert warnings_(data) == ["sheet '  members ': sheet name read as 'members'"]


def test_headers_in_another_case_are_read_with_a_warning(tmp_path):
    book = valid_book()
    book["demand"] = [["Member", "COMMODITY", "Year", "Demand_T"], ["USA", "oxide", 2025, 100]]
    data, _ = read(tmp_path, book)
    assert errors(data) == []
    assert data.tables["demand"]["demand_t"].tolist() == [100.0]
    assert len(warnings_(data)) == 4
    assert "sheet 'demand', row 1, column 'Demand_T': column header read as 'demand_t'" in warnings_(data)[3]


def test_numeric_keys_read_as_text(tmp_path):
    book = valid_book()
    book["members"] = [{"member": 1, "burden_share": 1}, {"member": 2.0, "burden_share": 1},
                       {"member": "3", "burden_share": 1}, {"member": 1.5, "burden_share": 1}]
    for r in book["demand"] + book["processes"] + book["stockpiles"] + book["offtakes"] + book["security"] \
            + book["scenario_demand"]:
        if r.get("member") is not None:
            r["member"] = {"USA": 1, "EU": 2.0}[r["member"]]
    book["routes"] = [{"from": "1", "to": 2, "commodity": "oxide"}]
    data, msgs = read(tmp_path, book)
    assert msgs == []
    assert data.tables["members"]["member"].tolist() == ["1", "2", "3", "1.5"]
    assert data.tables["demand"]["member"].tolist() == ["1", "2", "1"]
    assert data.tables["routes"][["from", "to"]].iloc[0].tolist() == ["1", "2"]


def test_unknown_sheets_and_columns_are_warnings_not_errors(tmp_path):
    book = valid_book()
    book["notes"] = [["anything", "at all"], [1, 2]]
    book["README"] = [["ignored silently"]]
    set_cell(book, "members", 2, "comment", "keep me")
    book["settings"].append({"key": "favourite_colour", "value": "blue"})
    data, _ = read(tmp_path, book)
    assert errors(data) == []
    assert warnings_(data) == [
        "sheet 'notes': unknown sheet ignored",
        "sheet 'settings', row 5, column 'key': unknown setting ignored (got 'favourite_colour')",
        "sheet 'members', row 1, column 'comment': unknown column ignored",
    ]
    assert "comment" not in data.tables["members"].columns


# ------------------------------------------------------------------ formulas and Excel errors (committed fixtures)
def test_formulas_are_read_through_their_cached_values():
    data = validate(read_workbook(FIXTURES / "formulas_cached.xlsx"))
    assert data.problems.items == []
    assert (data.settings["end_year"], data.settings["discount_rate"]) == (2027, 0.03)
    assert records(data.tables["members"]) == [
        {"member": "USA", "name": None, "burden_share": 0.5, "fiscal_budget_musd": None},
        {"member": "EU", "name": None, "burden_share": 0.5, "fiscal_budget_musd": None}]
    assert records(data.tables["demand"]) == [
        {"member": "USA", "commodity": "oxide", "year": 2025, "demand_t": 120.0},
        {"member": "EU", "commodity": "oxide", "year": 2025, "demand_t": 50.0}]
    assert data.tables["suppliers"]["country_of_concern"].tolist() == [True]
    assert data.tables["suppliers"]["max_tpa"].tolist() == [1000.0]
    assert data.tables["commodities"]["floor_price_usd_per_t"].tolist() == [1200.0]


def test_formulas_recalculated_by_libreoffice_read_the_same():
    lo = read_workbook(FIXTURES / "formulas_by_libreoffice.xlsx")
    raw = read_workbook(FIXTURES / "formulas_cached.xlsx")
    assert lo.problems.items == []
    assert lo.settings == raw.settings
    for name in raw.tables:
        assert records(lo.tables[name]) == records(raw.tables[name]), name


def test_formula_errors_are_located_errors():
    data = validate(read_workbook(FIXTURES / "formulas_errors.xlsx"))
    assert [located(p) for p in data.problems.items] == [
        "sheet 'suppliers', row 2, column 'max_tpa': the cell holds the Excel error #DIV/0!; fix the formula "
        "or type a value (got '#DIV/0!')",
        "sheet 'demand', row 3, column 'demand_t': the cell holds the Excel error #N/A; fix the formula or type "
        "a value (got '#N/A')",
        "sheet 'processes', row 2, column 'member': the cell holds the Excel error #REF!; fix the formula or "
        "type a value (got '#REF!')",
    ]


# ------------------------------------------------------------------ a file saved by a real spreadsheet application
def _typed_records(df):
    return [{k: (type(v).__name__, v) for k, v in r.items()} for r in records(df)]


def test_workbook_resaved_by_libreoffice_reads_identically():
    src = validate(read_workbook(FIXTURES / "resaved_source.xlsx"))
    lo = validate(read_workbook(FIXTURES / "resaved_by_libreoffice.xlsx"))
    assert src.problems.items == [] and lo.problems.items == []
    assert {k: (type(v).__name__, v) for k, v in lo.settings.items()} == \
        {k: (type(v).__name__, v) for k, v in src.settings.items()}
    assert set(lo.tables) == set(src.tables)
    for name in src.tables:
        assert _typed_records(lo.tables[name]) == _typed_records(src.tables[name]), name
    pd.testing.assert_frame_equal(lo.sources, src.sources)
    # the source really contains what the test is about
    d = src.tables["demand"]
    assert list(d["_row"]) == [3, 4, 5] and d["demand_t"].iloc[0] == 1000.0 and d["year"].iloc[1] == 2025
    assert src.tables["members"]["member"].iloc[0] == "USA"
