"""Every input rule of reader.py and validate.py, checked through ``planner validate``.

Each test breaks a minimal valid workbook (conftest.valid_book) and asserts the
exact located message ``sheet 'X', row N, column 'Y': what (got 'V')`` and the
exit code.  Checks that apply to every column of a kind (types, ranges,
references, duplicate keys, year ranges) are generated from the schema into
one workbook per family, validated once, and asserted case by case.
"""
from __future__ import annotations

import datetime as dt
import struct
import zipfile

import pytest

from conftest import run_cli, set_cell, validate_file, valid_book, write_book
from planner.input.schema import BOOL, FLOAT, INT, SETTINGS, SHEET_BY_NAME, SHEETS, YEAR

TABLES = [s for s in SHEETS if s.kind == "table"]
KEYED = [s for s in TABLES if s.key]


def tmp_name(out: str) -> str:
    """The file name as printed at the start of the first problem line."""
    first = out.splitlines()[0]
    return first.removeprefix("warning: ").split(": ", 1)[0]


def errors_of(out: str) -> list[str]:
    return [line for line in out.splitlines() if ": sheet '" in line and not line.startswith("warning:")]


# ------------------------------------------------------------------ the base, and all-at-once
def test_valid_book_passes_without_warnings(validate_book):
    code, out = validate_book(valid_book())
    assert code == 0, out
    assert out.strip().endswith("book.xlsx: OK")
    assert "warning" not in out


def test_all_blank_optional_sheets_and_equal_burden_shares_pass(validate_book):
    book = valid_book()
    for name in ("routes", "security", "coproducts", "scenario_demand", "sources"):
        book[name] = []  # a blank sheet reads as an empty table
    for row in book["members"]:
        row["burden_share"] = None  # all blank = equal shares
    code, out = validate_book(book)
    assert code == 0, out


def test_several_problems_are_all_reported_at_once(validate_book):
    book = valid_book()
    set_cell(book, "settings", 4, "value", "five")
    set_cell(book, "demand", 4, "demand_t", -5)
    set_cell(book, "demand", 3, "member", "XX")
    set_cell(book, "processes", 2, "capex_musd_per_module", None)
    set_cell(book, "stockpiles", 2, "initial_stock_t", 20)
    set_cell(book, "scenarios", 3, "probability", 0.5)
    book["members"].append(dict(book["members"][0]))
    code, out = validate_book(book)
    assert code == 1
    expected = [
        "sheet 'settings', row 4, column 'value': setting 'discount_rate': expected a number (got 'five')",
        "sheet 'demand', row 4, column 'demand_t': must be >= 0 (got '-5')",
        "sheet 'demand', row 3, column 'member': unknown member: not found in sheet 'members' (got 'XX')",
        "sheet 'processes', row 2, column 'capex_musd_per_module': capex_musd_per_module is required when "
        "module_tpa > 0",
        "sheet 'stockpiles', row 2, column 'initial_stock_t': initial_stock_t must not exceed "
        "existing_capacity_t (10) (got '20')",
        "sheet 'scenarios', column 'probability': scenario probabilities must sum to 1 (they sum to 1.1)",
        "sheet 'members', row 4, column 'member': duplicate key USA (first in row 2) (got 'USA')",
    ]
    for e in expected:
        assert e in out
    assert f"book.xlsx: {len(expected)} error(s)" in out
    assert len(errors_of(out)) == len(expected)


def test_several_files_each_reported_and_exit_1_if_any_bad(tmp_path):
    good = write_book(tmp_path / "good.xlsx", valid_book())
    bad_book = valid_book()
    set_cell(bad_book, "demand", 2, "year", "soon")
    bad = write_book(tmp_path / "bad.xlsx", bad_book)
    res = run_cli("validate", good, bad)
    assert res.exit_code == 1
    assert "good.xlsx: OK" in res.output
    assert "bad.xlsx: sheet 'demand', row 2, column 'year': expected a number (got 'soon')" in res.output
    assert "bad.xlsx: 1 error(s)" in res.output


def test_no_warnings_option_hides_warnings(tmp_path):
    book = valid_book()
    book["notes"] = [["anything"]]
    path = write_book(tmp_path / "b.xlsx", book)
    assert "unknown sheet ignored" in run_cli("validate", path).output
    res = run_cli("validate", "--no-warnings", path)
    assert res.exit_code == 0 and "unknown sheet" not in res.output


# ------------------------------------------------------------------ files that are not workbooks
def _bomb(path, src):
    """A copy of ``src`` whose zip directory claims a member of ~4.3 GB."""
    data = bytearray(open(src, "rb").read())
    i = data.find(b"PK\x01\x02")  # first central-directory entry; uncompressed size at +24
    data[i + 24:i + 28] = struct.pack("<I", 0xFFFFFFF0)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind, message", [
    ("missing", "nothing.xlsx: file not found"),
    ("folder", "is a folder, not an .xlsx workbook"),
    ("csv", "is not an .xlsx workbook (not a zip file; a .csv or other file renamed .xlsx?)"),
    ("csv_suffix", "is not an .xlsx workbook (not a zip file"),
    ("xls", "is an old-format .xls or an encrypted (password-protected) workbook"),
    ("truncated", "is not a readable .xlsx workbook (damaged or truncated zip)"),
    ("zip", "is a zip file but not an .xlsx workbook (no xl/workbook.xml)"),
    ("damaged", "could not be read as an .xlsx workbook"),
    ("bomb", "refusing to read a possible decompression bomb"),
    ("empty", "is not an .xlsx workbook (not a zip file"),
])
def test_unreadable_files_give_one_clear_message_and_no_traceback(tmp_path, kind, message):
    good = write_book(tmp_path / "good.xlsx", valid_book())
    path = tmp_path / ("nothing.xlsx" if kind == "missing" else "in.csv" if kind == "csv_suffix" else "in.xlsx")
    if kind == "folder":
        path.mkdir()
    elif kind in ("csv", "csv_suffix"):
        path.write_text("member,name\nUSA,United States\n")
    elif kind == "xls":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    elif kind == "truncated":
        data = open(good, "rb").read()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("hello.txt", "hi")
    elif kind == "damaged":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<nonsense")
            z.writestr("xl/workbook.xml", "<<< not xml")
    elif kind == "bomb":
        _bomb(path, good)
    elif kind == "empty":
        path.write_bytes(b"")
    res = run_cli("validate", path)
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert f"{path}: " in res.output
    assert message in res.output
    assert "1 error(s)" in res.output


# ------------------------------------------------------------------ sheets
@pytest.mark.parametrize("sheet", [s.name for s in SHEETS if s.required])
def test_required_sheet_missing(validate_book, sheet):
    book = valid_book()
    del book[sheet]
    code, out = validate_book(book)
    assert code == 1
    assert f"book.xlsx: sheet '{sheet}': required sheet '{sheet}' is missing" in out


def test_unknown_sheet_is_a_warning_and_readme_is_silent(validate_book):
    book = valid_book()
    book["my notes"] = [["whatever"]]
    book["README"] = [["about this file"]]
    code, out = validate_book(book)
    assert code == 0
    assert "warning: " in out and "sheet 'my notes': unknown sheet ignored" in out
    assert "README" not in out


def test_sheet_name_with_spaces_and_case_is_read_with_a_warning(validate_book):
    book = valid_book()
    book[" Demand "] = book.pop("demand")
    code, out = validate_book(book)
    assert code == 0, out
    assert "sheet ' Demand ': sheet name read as 'demand'" in out


def test_sheet_appearing_twice(validate_book):
    book = valid_book()
    book["demand "] = book["demand"]  # Excel allows both names
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'demand ': sheet 'demand' appears twice" in out


# ------------------------------------------------------------------ columns
def test_required_column_missing(validate_book):
    book = valid_book()
    for r in book["demand"]:
        del r["demand_t"]
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'demand', row 1, column 'demand_t': required column is missing" in out


def test_required_column_missing_in_an_optional_sheet(validate_book):
    book = valid_book()
    for r in book["disruptions"]:
        del r["available_share"]
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'disruptions', row 1, column 'available_share': required column is missing" in out


def test_unknown_column_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "members", 2, "colour", "blue")
    code, out = validate_book(book)
    assert code == 0
    assert "warning: " in out and "sheet 'members', row 1, column 'colour': unknown column ignored" in out


def test_header_in_another_case_is_read_with_a_warning(validate_book):
    book = valid_book()
    for r in book["members"]:
        r["Burden_Share"] = r.pop("burden_share", None)
    code, out = validate_book(book)
    assert code == 0, out
    assert "sheet 'members', row 1, column 'Burden_Share': column header read as 'burden_share'" in out


def test_column_appearing_twice(validate_book):
    book = valid_book()
    book["members"] = [["member", "name", "Name"], ["USA", "a", "b"], ["EU", "c", "d"]]
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'members', row 1, column 'Name': column appears twice" in out


def test_values_under_a_blank_header_are_a_warning(validate_book):
    book = valid_book()
    book["members"] = [["member", None, "name"], ["USA", 3, "a"], ["EU", None, "b"]]
    code, out = validate_book(book)
    assert code == 0, out
    assert "sheet 'members', row 1: column 2 has no header; its values are ignored" in out


def test_required_value_blank(validate_book):
    book = valid_book()
    set_cell(book, "demand", 4, "demand_t", None)
    set_cell(book, "offtakes", 2, "seller", "   ")
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'demand', row 4, column 'demand_t': required value is blank\n" in out
    assert "sheet 'offtakes', row 2, column 'seller': required value is blank\n" in out


# ------------------------------------------------------------------ settings sheet
def _setting_row(book, key):
    return next(i + 2 for i, r in enumerate(book["settings"]) if r["key"] == key)


def test_settings_without_key_and_value_columns(validate_book):
    book = valid_book()
    book["settings"] = [["name", "val"], ["start_year", 2025], ["end_year", 2027]]
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'settings', row 1: the settings sheet needs the columns 'key' and 'value' (got 'name, val')" in out


def test_setting_value_without_key(validate_book):
    book = valid_book()
    book["settings"].append({"key": None, "value": 3})
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'settings', row 5, column 'key': value without a key" in out


def test_unknown_setting_is_a_warning(validate_book):
    book = valid_book()
    book["settings"].append({"key": "colour", "value": "blue"})
    code, out = validate_book(book)
    assert code == 0
    assert "warning: " in out and "sheet 'settings', row 5, column 'key': unknown setting ignored (got 'colour')" in out


def test_setting_given_twice(validate_book):
    book = valid_book()
    book["settings"].append({"key": " Discount_Rate ", "value": 0.1})
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'settings', row 5, column 'key': setting 'discount_rate' is given twice (first in row 4) "
            "(got 'Discount_Rate')") in out


def test_required_setting_blank_and_missing(validate_book):
    book = valid_book()
    set_cell(book, "settings", 2, "value", None)
    del book["settings"][1]  # end_year
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'settings', row 2, column 'value': setting 'start_year' is required (got blank)" in out
    assert "book.xlsx: sheet 'settings': setting 'end_year' is required (add a row with this key)" in out


SETTING_TYPE_CASES = [
    ("discount_rate", "five", "setting 'discount_rate': expected a number (got 'five')"),
    ("objective", "cheap", "setting 'objective': expected one of resource, market (got 'cheap')"),
    ("anti_circumvention", "maybe",
     "setting 'anti_circumvention': expected TRUE or FALSE (yes/no, 1/0 also accepted) (got 'maybe')"),
    ("threads", 2.5, "setting 'threads': expected a whole number (got '2.5')"),
    ("base_year", 2025.5, "setting 'base_year': expected a year (whole number) (got '2025.5')"),
    ("time_limit_s", "#N/A", "setting 'time_limit_s': the cell holds the Excel error #N/A"),
]


@pytest.fixture(scope="module")
def setting_type_output(tmp_path_factory):
    """One workbook: settings rows 4.. hold the bad values of SETTING_TYPE_CASES, in order."""
    book = valid_book()
    book["settings"] = book["settings"][:2] + [{"key": k, "value": v} for k, v, _ in SETTING_TYPE_CASES]
    return validate_file(write_book(tmp_path_factory.mktemp("settings") / "book.xlsx", book))


@pytest.mark.parametrize("i", range(len(SETTING_TYPE_CASES)), ids=[c[0] for c in SETTING_TYPE_CASES])
def test_setting_type_errors(setting_type_output, i):
    code, out = setting_type_output
    assert code == 1
    assert f"sheet 'settings', row {4 + i}, column 'value': {SETTING_TYPE_CASES[i][2]}" in out


@pytest.mark.parametrize("side", ["low", "high"])
def test_setting_ranges(validate_book, side):
    book = valid_book()
    book["settings"] = [r for r in book["settings"] if r["key"] in ("start_year", "end_year")]
    expected = []
    for decl in SETTINGS:
        bad = _out_of_range(decl, side)
        if bad is None or decl.name in ("start_year", "end_year"):
            continue
        value, msg = bad
        book["settings"].append({"key": decl.name, "value": value})
        expected.append(f"sheet 'settings', row {len(book['settings']) + 1}, column 'value': "
                        f"setting '{decl.name}' {msg} (got '{_show(value)}')")
    assert len(expected) >= 3
    code, out = validate_book(book)
    assert code == 1
    assert [e for e in expected if e not in out] == []


@pytest.mark.parametrize("key, value, msg", [("start_year", 1899, "must be >= 1900"),
                                             ("end_year", 2201, "must be <= 2200")])
def test_horizon_year_ranges(validate_book, key, value, msg):
    book = valid_book()
    set_cell(book, "settings", _setting_row(book, key), "value", value)
    code, out = validate_book(book)
    assert code == 1
    assert f"row {_setting_row(book, key)}, column 'value': setting '{key}' {msg} (got '{value}')" in out


def test_end_year_before_start_year(validate_book):
    book = valid_book()
    set_cell(book, "settings", 3, "value", 2024)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'settings', row 3, column 'value': setting 'end_year' must not be before start_year "
            "(got '2024')") in out


def test_horizon_longer_than_200_years(validate_book):
    book = valid_book()
    set_cell(book, "settings", 2, "value", 1950)
    set_cell(book, "settings", 3, "value", 2151)
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'settings', row 3, column 'value': the horizon may span at most 200 years (got '2151')" in out


# ------------------------------------------------------------------ types, ranges, references: every column
BAD_TEXT = {FLOAT: "expected a number", INT: "expected a number", YEAR: "expected a number",
            BOOL: "expected TRUE or FALSE (yes/no, 1/0 also accepted)"}

CELL_TYPE_CASES = [  # (sheet, column, value, message)
    ("demand", "demand_t", True, "expected a number, not TRUE/FALSE (got 'True')"),
    ("demand", "demand_t", dt.datetime(2025, 3, 1), "expected a number, not a date (got '2025-03-01 00:00:00')"),
    ("demand", "demand_t", "inf", "expected a finite number (leave the cell blank for 'none') (got 'inf')"),
    ("demand", "demand_t", "1.200,5", "expected a number (got '1.200,5')"),
    ("demand", "demand_t", "#N/A", "the cell holds the Excel error #N/A; fix the formula or type a value (got '#N/A')"),
    ("demand", "member", "#REF!",
     "the cell holds the Excel error #REF!; fix the formula or type a value (got '#REF!')"),
    ("members", "name", "#DIV/0!", "the cell holds the Excel error #DIV/0!; fix the formula or type a value"),
    ("demand", "year", 2025.5, "expected a year (whole number) (got '2025.5')"),
    ("demand", "year", "next", "expected a number (got 'next')"),
    ("processes", "lead_time_years", 1.5, "expected a whole number (got '1.5')"),
    ("processes", "lifetime_years", "12.5", "expected a whole number (got '12.5')"),
    ("suppliers", "country_of_concern", 2, "expected TRUE or FALSE (yes/no, 1/0 also accepted) (got '2')"),
    ("routes", "allowed", "maybe", "expected TRUE or FALSE (yes/no, 1/0 also accepted) (got 'maybe')"),
    ("members", "member", "US\tA", "a key may not contain control characters or line breaks"),
]


def _out_of_range(col, side):
    """A value just outside the column's range on ``side`` ('low' or 'high'), with the expected message."""
    if side == "low":
        if col.min is not None:
            return col.min - 1, f"must be >= {col.min:g}"
        if col.min_exclusive is not None:
            return col.min_exclusive, f"must be > {col.min_exclusive:g}"
    else:
        if col.max is not None:
            return col.max + 1, f"must be <= {col.max:g}"
        if col.max_exclusive is not None:
            return col.max_exclusive, f"must be < {col.max_exclusive:g}"
    return None


def _show(x):
    return str(int(x)) if float(x).is_integer() else str(x)


def _ref_message(col):
    where = f"sheet '{col.ref[0]}'" + "".join(f" or sheet '{e[0]}' ({e[1]})" for e in col.ref_extra)
    return f"unknown {col.ref[1]}: not found in {where}"


def _broken_book():
    """The valid book plus, per case, a copy of row 2 of a sheet with one bad cell.

    Cases: every typed column with text in it, every ranged column just outside its range (each side),
    every reference column naming an unknown key, and CELL_TYPE_CASES.  Returns (book, [(id, message)]).
    """
    book = valid_book()
    cases = []

    def add(kind, sheet, column, value, message):
        book[sheet].append({**book[sheet][0], column: value})
        row = len(book[sheet]) + 1
        cases.append((f"{kind}-{sheet}.{column}", f"sheet '{sheet}', row {row}, column '{column}': {message}"))

    for s in TABLES:
        for col in s.columns:
            if col.type in BAD_TEXT:
                add("type", s.name, col.name, "abc", f"{BAD_TEXT[col.type]} (got 'abc')")
            for side in ("low", "high"):
                bad = _out_of_range(col, side)
                if bad:
                    add(f"range_{side}", s.name, col.name, bad[0], f"{bad[1]} (got '{_show(bad[0])}')")
            if col.ref:
                add("ref", s.name, col.name, "NOPE", f"{_ref_message(col)} (got 'NOPE')")
    for i, (sheet, column, value, message) in enumerate(CELL_TYPE_CASES):
        add(f"cell{i}", sheet, column, value, message)
    return book, cases


BROKEN_BOOK, BROKEN_CASES = _broken_book()


@pytest.fixture(scope="module")
def broken_output(tmp_path_factory):
    """``planner validate`` run once on BROKEN_BOOK (so every case below is also 'reported at once')."""
    return validate_file(write_book(tmp_path_factory.mktemp("broken") / "book.xlsx", BROKEN_BOOK))


def test_broken_book_covers_every_typed_ranged_and_reference_column():
    ids = {i for i, _ in BROKEN_CASES}
    for s in TABLES:
        for c in s.columns:
            assert (c.type not in BAD_TEXT) or f"type-{s.name}.{c.name}" in ids
            assert not c.range_text or {f"range_low-{s.name}.{c.name}", f"range_high-{s.name}.{c.name}"} & ids
            assert not c.ref or f"ref-{s.name}.{c.name}" in ids
    assert len(ids) == len(BROKEN_CASES) > 100


@pytest.mark.parametrize("message", [m for _, m in BROKEN_CASES], ids=[i for i, _ in BROKEN_CASES])
def test_every_column_check(broken_output, message):
    code, out = broken_output
    assert code == 1
    assert message in out


def test_values_at_the_edge_of_their_range_are_accepted(validate_book):
    book = valid_book()
    for sheet, row, column, value in [
        ("processes", 2, "variable_cost_usd_per_t", -5), ("suppliers", 2, "tariff_usd_per_t", -10),
        ("routes", 2, "cost_usd_per_t", -1), ("commodities", 4, "disposal_cost_usd_per_t", -3),
        ("processes", 2, "availability", 1), ("processes", 3, "availability", 0),
        ("processes", 2, "lifetime_years", 1), ("stockpiles", 2, "lead_time_years", 0),
        ("members", 2, "burden_share", 2.5), ("members", 3, "burden_share", 0),
        ("scenarios", 2, "probability", 1), ("scenarios", 3, "probability", 0),
        ("disruptions", 2, "available_share", 1), ("settings", 4, "value", -0.5),  # discount_rate > -1
    ]:
        set_cell(book, sheet, row, column, value)
    code, out = validate_book(book)
    assert code == 0, out


# ------------------------------------------------------------------ duplicate keys
@pytest.fixture(scope="module")
def duplicates_output(tmp_path_factory):
    """Every keyed sheet gets a copy of its row 2 appended; one validate run."""
    book = valid_book()
    for s in KEYED:
        book[s.name].append(dict(book[s.name][0]))
    return book, validate_file(write_book(tmp_path_factory.mktemp("dup") / "book.xlsx", book))


@pytest.mark.parametrize("sheet", [s.name for s in KEYED])
def test_duplicate_keys(duplicates_output, sheet):
    book, (code, out) = duplicates_output
    key = SHEET_BY_NAME[sheet].key
    row = len(book[sheet]) + 1
    shown = " / ".join(str(book[sheet][0][k]) for k in key)
    assert code == 1
    assert (f"sheet '{sheet}', row {row}, column '{', '.join(key)}': duplicate key {shown} (first in row 2) "
            f"(got '{shown}')") in out


def test_duplicate_key_after_stripping_spaces_and_number_as_text(validate_book):
    book = valid_book()
    book["members"].append({"member": " USA "})
    book["market_prices"].append({"commodity": "ore", "year": "2025", "price_usd_per_t": 5})
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'members', row 4, column 'member': duplicate key USA (first in row 2) (got 'USA')" in out
    assert ("sheet 'market_prices', row 4, column 'commodity, year': duplicate key ore / 2025 (first in row 2) "
            "(got 'ore / 2025')") in out


def test_keys_are_case_sensitive(validate_book):
    book = valid_book()
    book["members"].append({"member": "usa", "burden_share": 1})
    code, out = validate_book(book)
    assert code == 0, out


def test_routes_blank_commodity_is_a_key_value_of_its_own(validate_book):
    book = valid_book()
    book["routes"].append({"from": "USA", "to": "EU", "commodity": None, "cost_usd_per_t": 5})
    code, out = validate_book(book)
    assert code == 0, out
    book["routes"].append({"from": "USA", "to": "EU", "commodity": None, "cost_usd_per_t": 6})
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'routes', row 4, column 'from, to, commodity': duplicate key USA / EU / blank (first in row 3) "
            "(got 'USA / EU / ')") in out


# ------------------------------------------------------------------ references (every reference column)
def test_reference_in_another_case_suggests_the_key(validate_book):
    book = valid_book()
    set_cell(book, "demand", 3, "member", "eu")
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'demand', row 3, column 'member': unknown member: not found in sheet 'members'; keys are "
            "case-sensitive: did you mean 'EU'? (got 'eu')") in out


def test_scenario_reference_without_scenarios_sheet(validate_book):
    book = valid_book()
    del book["scenarios"]
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'disruptions', row 2, column 'scenario': unknown scenario: not found in sheet 'scenarios' "
            "(there is no scenarios sheet, so the only scenario is 'base') (got 'ban')") in out
    for r in book["disruptions"] + book["scenario_prices"] + book["scenario_demand"]:
        r["scenario"] = "base"
    code, out = validate_book(book)
    assert code == 0, out


def test_disruption_may_name_an_offtake_seller(validate_book):
    book = valid_book()
    assert book["disruptions"][1]["supplier"] == "AUS"  # only an offtake seller
    set_cell(book, "offtakes", 2, "seller", "CAN")
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'disruptions', row 3, column 'supplier': unknown supplier: not found in sheet 'suppliers' or "
            "sheet 'offtakes' (seller) (got 'AUS')") in out


# ------------------------------------------------------------------ scenarios
def test_probabilities_must_sum_to_one(validate_book):
    book = valid_book()
    set_cell(book, "scenarios", 3, "probability", 0.3)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'scenarios', column 'probability': scenario probabilities must sum to 1 "
            "(they sum to 0.9) (got '0.9')") in out


def test_probabilities_within_tolerance_pass(validate_book):
    book = valid_book()
    set_cell(book, "scenarios", 3, "probability", 0.4000004)
    code, out = validate_book(book)
    assert code == 0, out


# ------------------------------------------------------------------ year ranges
YEAR_SHEETS = [("security", "from_year", "to_year"), ("scenario_prices", "from_year", "to_year"),
               ("scenario_demand", "from_year", "to_year"), ("disruptions", "from_year", "to_year"),
               ("offtakes", "start_year", "end_year")]


@pytest.fixture(scope="module")
def year_ranges_output(tmp_path_factory):
    """In each sheet of YEAR_SHEETS, rows 3-6: from > to; wholly after; wholly before; partly outside."""
    book = valid_book()
    for sheet, a, b in YEAR_SHEETS:
        base = book[sheet][0]
        book[sheet] = [base] + [{**base, a: ya, b: yb} for ya, yb in
                                [(2027, 2026), (2028, 2030), (2020, 2024), (2024, 2026)]]
    return validate_file(write_book(tmp_path_factory.mktemp("years") / "book.xlsx", book))


@pytest.mark.parametrize("sheet, a, b", YEAR_SHEETS)
def test_year_ranges(year_ranges_output, sheet, a, b):
    code, out = year_ranges_output
    assert code == 1
    assert f"sheet '{sheet}', row 3, column '{a}': {a} is after {b} (2026) (got '2027')" in out
    assert (f"sheet '{sheet}', row 4, column '{a}': the years 2028-2030 lie outside the model horizon 2025-2027 "
            f"(got '2028')") in out
    assert (f"sheet '{sheet}', row 5, column '{b}': the years 2020-2024 lie outside the model horizon 2025-2027 "
            f"(got '2024')") in out
    assert (f"warning: {tmp_name(out)}: sheet '{sheet}', row 6, column '{a}': the years 2024-2026 reach outside "
            f"the model horizon 2025-2027; only 2025-2026 is used (got '2024')") in out


def test_year_range_partly_outside_is_only_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "security", 2, "to_year", 2030)
    code, out = validate_book(book)
    assert code == 0
    assert ("sheet 'security', row 2, column 'to_year': the years 2025-2030 reach outside the model horizon "
            "2025-2027; only 2025-2027 is used (got '2030')") in out


def test_year_range_defaults_follow_settings(validate_book):
    book = valid_book()
    set_cell(book, "offtakes", 2, "start_year", None)
    set_cell(book, "offtakes", 2, "end_year", 2024)  # before the default start_year 2025
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'offtakes', row 2, column 'start_year': start_year is after end_year (2024) (got '2025')" in out


def test_module_that_can_never_be_built_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "processes", 2, "first_build_year", 2027)
    code, out = validate_book(book)
    assert code == 0
    assert ("sheet 'processes', row 2, column 'first_build_year': no module can be built: first_build_year 2027 "
            "+ lead time 1 is after the last model year 2027 (got '2027')") in out


# ------------------------------------------------------------------ members
def test_burden_share_partly_blank(validate_book):
    book = valid_book()
    set_cell(book, "members", 3, "burden_share", None)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'members', row 3, column 'burden_share': burden_share is blank while other members have one "
            "(leave all blank for equal shares, or fill every row)") in out


def test_burden_shares_all_zero(validate_book):
    book = valid_book()
    set_cell(book, "members", 2, "burden_share", 0)
    set_cell(book, "members", 3, "burden_share", 0)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'members', row 2, column 'burden_share': burden shares are all zero; at least one member "
            "must bear a share (got '0')") in out


# ------------------------------------------------------------------ suppliers, disruptions, scenario prices
@pytest.mark.parametrize("commodity", ["oxide", None])
def test_partial_disruption_needs_finite_max_tpa(validate_book, commodity):
    book = valid_book()
    set_cell(book, "suppliers", 2, "max_tpa", None)
    set_cell(book, "disruptions", 2, "commodity", commodity)
    set_cell(book, "disruptions", 2, "available_share", 0.5)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'disruptions', row 2, column 'available_share': a partial available_share needs a finite "
            "max_tpa, but supplier 'CHN' has no max_tpa for 'oxide' (sheet 'suppliers', row 2) (got '0.5')") in out


@pytest.mark.parametrize("share", [0, 1])
def test_full_or_no_disruption_needs_no_max_tpa(validate_book, share):
    book = valid_book()
    set_cell(book, "suppliers", 2, "max_tpa", None)
    set_cell(book, "disruptions", 2, "available_share", share)
    code, out = validate_book(book)
    assert code == 0, out


def test_scenario_price_for_a_supplier_that_does_not_sell_the_commodity(validate_book):
    book = valid_book()
    set_cell(book, "scenario_prices", 3, "commodity", "ore")
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'scenario_prices', row 3, column 'supplier': supplier 'CHN' does not sell 'ore' (no such row "
            "in sheet 'suppliers') (got 'CHN')") in out


# ------------------------------------------------------------------ processes and coproducts
def test_capex_required_when_module_tpa_positive(validate_book):
    book = valid_book()
    set_cell(book, "processes", 2, "capex_musd_per_module", None)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'processes', row 2, column 'capex_musd_per_module': capex_musd_per_module is required when "
            "module_tpa > 0\n") in out
    set_cell(book, "processes", 2, "module_tpa", 0)  # no expansion: no capex needed
    code, out = validate_book(book)
    assert code == 0, out


def test_input_equal_to_output(validate_book):
    book = valid_book()
    set_cell(book, "processes", 2, "input", "oxide")
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'processes', row 2, column 'input': input and output are the same commodity (got 'oxide')" in out


def test_fractional_max_modules_with_integer_modules_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "processes", 2, "max_modules", 2.5)
    code, out = validate_book(book)
    assert code == 0
    assert ("warning: " in out and "sheet 'processes', row 2, column 'max_modules': max_modules is not a whole "
            "number while integer_modules is TRUE (got '2.5')") in out
    set_cell(book, "processes", 2, "integer_modules", "no")
    code, out = validate_book(book)
    assert code == 0 and "warning" not in out, out


def test_process_without_any_capacity_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "processes", 3, "existing_tpa", 0)
    code, out = validate_book(book)
    assert code == 0
    assert ("sheet 'processes', row 3, column 'existing_tpa': process has neither existing capacity nor expansion "
            "modules; it can never produce (got '0')") in out


def test_coproduct_equal_to_main_output(validate_book):
    book = valid_book()
    set_cell(book, "coproducts", 2, "commodity", "oxide")
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'coproducts', row 2, column 'commodity': a coproduct cannot be the process's main output "
            "(got 'oxide')") in out


# ------------------------------------------------------------------ stockpiles
def test_max_capacity_below_existing(validate_book):
    book = valid_book()
    set_cell(book, "stockpiles", 2, "max_capacity_t", 5)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'stockpiles', row 2, column 'max_capacity_t': max_capacity_t must be at least "
            "existing_capacity_t (10) (got '5')") in out


def test_initial_stock_above_existing_capacity(validate_book):
    book = valid_book()
    set_cell(book, "stockpiles", 2, "initial_stock_t", 12.5)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'stockpiles', row 2, column 'initial_stock_t': initial_stock_t must not exceed "
            "existing_capacity_t (10) (got '12.5')") in out


# ------------------------------------------------------------------ security
def test_security_row_without_target_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "security", 3, "max_concern_share", None)
    code, out = validate_book(book)
    assert code == 0
    assert ("sheet 'security', row 3, column 'max_concern_share': security row sets no target (fill one of "
            "max_concern_share, min_stock_days, min_domestic_share, max_shortage_share)") in out


def test_min_stock_days_for_a_member_without_stockpile(validate_book):
    book = valid_book()
    set_cell(book, "security", 2, "member", "EU")
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'security', row 2, column 'min_stock_days': min_stock_days needs a stockpile row for member "
            "'EU' and commodity 'oxide' (sheet 'stockpiles') (got '30')") in out


def test_bloc_wide_min_stock_days_without_any_stockpile(validate_book):
    book = valid_book()
    set_cell(book, "security", 3, "commodity", "ore")
    set_cell(book, "security", 3, "min_stock_days", 15)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'security', row 3, column 'min_stock_days': a bloc-wide min_stock_days row needs a stockpile "
            "of 'ore' at some member (sheet 'stockpiles') (got '15')") in out


# ------------------------------------------------------------------ market prices needed
@pytest.mark.parametrize("sheet, row, column, why", [
    ("suppliers", 2, "commodity", "it is bought from a supplier"),
    ("offtakes", 2, "commodity", "it is bought under an offtake at max(floor, market price)"),
    ("commodities", 3, "export_price_factor", "it may be exported"),
    ("commodities", 3, "floor_price_usd_per_t", "it has a floor price"),
    ("scenario_prices", 2, "commodity", "a scenario moves its price"),
])
def test_commodity_needing_market_prices(validate_book, sheet, row, column, why):
    book = valid_book()
    # remove every reason oxide needs prices, then keep the one under test
    book["market_prices"] = [r for r in book["market_prices"] if r["commodity"] != "oxide"]
    if sheet != "suppliers":
        book["suppliers"] = [r for r in book["suppliers"] if r["commodity"] != "oxide"]
        book["disruptions"] = [r for r in book["disruptions"] if r["supplier"] != "CHN"]
    if sheet != "offtakes":
        book["offtakes"] = []
        book["disruptions"] = [r for r in book["disruptions"] if r["supplier"] != "AUS"]
    book["scenario_prices"] = book["scenario_prices"][:1] if sheet == "scenario_prices" else []
    for col in ("export_price_factor", "floor_price_usd_per_t"):
        if col != column:
            set_cell(book, "commodities", 3, col, None)
    code, out = validate_book(book)
    assert code == 1
    expected = (f"sheet '{sheet}', row {row}, column '{column}': commodity 'oxide' needs market prices because "
                f"{why}: add rows for it to sheet 'market_prices' (got 'oxide')")
    assert expected in out
    assert len(errors_of(out)) == 1, out


# ------------------------------------------------------------------ routes
def test_route_to_itself_is_a_warning(validate_book):
    book = valid_book()
    set_cell(book, "routes", 2, "to", "USA")
    code, out = validate_book(book)
    assert code == 0
    assert "warning: " in out
    assert "sheet 'routes', row 2, column 'to': a route from a member to itself is ignored (got 'USA')" in out
