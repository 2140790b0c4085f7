"""``planner template``: the empty workbook generated from the schema, and the generated docs page."""
from __future__ import annotations

from pathlib import Path

import os

import openpyxl
import pytest

from conftest import run_cli, valid_book, validate_file
from planner.input import template as template_mod
from planner.input.docs_gen import DOCS_PATH, render
from planner.common.problems import PlannerError
from planner.input.reader import read_workbook
from planner.input.schema import BOOL, CHOICE, KEY, SETTINGS, SHEETS, SHEET_BY_NAME
from planner.input.template import write_template


@pytest.fixture(scope="module")
def template_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("tpl") / "input.xlsx"
    res = run_cli("template", path)
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output
    return path


@pytest.fixture(scope="module")
def wb(template_path):
    return openpyxl.load_workbook(template_path)


def fill_years(src, dest, start=2025, end=2030):
    wb = openpyxl.load_workbook(src)
    ws = wb["settings"]
    for row in ws.iter_rows(min_row=3):
        if row[0].value == "start_year":
            row[1].value = start
        elif row[0].value == "end_year":
            row[1].value = end
    wb.save(dest)
    return dest


# ------------------------------------------------------------------ validates
def test_empty_template_needs_only_the_years(template_path):
    code, out = validate_file(template_path)
    assert code == 1
    lines = [line.split(": ", 1)[1] for line in out.splitlines() if "sheet '" in line]
    assert lines == ["sheet 'settings', row 3, column 'value': setting 'start_year' is required (got blank)",
                     "sheet 'settings', row 4, column 'value': setting 'end_year' is required (got blank)"]


def test_template_with_years_filled_validates_clean(template_path, tmp_path):
    path = fill_years(template_path, tmp_path / "filled.xlsx")
    code, out = validate_file(path)
    assert code == 0, out
    assert out.strip() == f"{path}: OK"  # no warning either
    data = read_workbook(path)
    assert data.settings["discount_rate"] == 0.05 and data.settings["objective"] == "resource"
    assert all(len(df) == 0 for df in data.tables.values())


def test_template_filled_with_data_reads_like_a_plain_workbook(template_path, tmp_path):
    """Data typed under the header and notes rows (from row 3) reads as in a plain workbook."""
    book = valid_book()
    wb = openpyxl.load_workbook(template_path)
    for name, rows in book.items():
        ws = wb[name]
        header = [c.value for c in ws[1]]
        if name == "settings":
            for r in ws.iter_rows(min_row=3):
                match = [x["value"] for x in rows if x["key"] == r[0].value]
                r[1].value = match[0] if match else None
            continue
        for i, rec in enumerate(rows):
            for k, v in rec.items():
                ws.cell(row=3 + i, column=header.index(k) + 1, value=v)
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    code, out = validate_file(path)
    assert code == 0, out
    from conftest import write_book

    plain = read_workbook(write_book(tmp_path / "plain.xlsx", book))
    got = read_workbook(path)
    assert got.settings == plain.settings
    for name in plain.tables:
        a = got.tables[name].drop(columns="_row").to_dict("records")
        b = plain.tables[name].drop(columns="_row").to_dict("records")
        assert a == b, name
        assert list(got.tables[name]["_row"]) == [r + 1 for r in plain.tables[name]["_row"]]


# ------------------------------------------------------------------ layout
def test_sheets_readme_first_then_every_schema_sheet(wb):
    assert wb.sheetnames == ["README"] + [s.name for s in SHEETS]


def test_headers_and_notes_rows(wb):
    for s in SHEETS:
        ws = wb[s.name]
        header = [c.value for c in ws[1]]
        notes = [c.value for c in ws[2]]
        expected = s.names + (["notes"] if s.kind == "settings" else [])
        assert header == expected, s.name
        assert all(isinstance(n, str) and n.startswith("#") for n in notes), s.name
    notes = {c.value: n.value for c, n in zip(wb["processes"][1], wb["processes"][2])}
    assert notes["process"] == "# key * (required)"
    assert notes["existing_tpa"] == "# t/yr, default 0, >= 0"
    assert notes["member"] == "# key * (required), from members.member"
    assert notes["integer_modules"] == "# TRUE/FALSE, default TRUE"
    assert notes["first_build_year"] == "# year, default settings start_year"
    assert wb["disruptions"]["B2"].value.endswith("from suppliers.supplier or offtakes.seller")


def test_frozen_header_rows_and_column_widths(wb):
    for s in SHEETS:
        ws = wb[s.name]
        assert ws.freeze_panes == "A3", s.name
        widths = {}  # 1-based column -> width (adjacent equal columns are stored as one range)
        for dim in ws.column_dimensions.values():
            for i in range(dim.min, dim.max + 1):
                widths[i] = dim.width
        for c in ws[1]:
            width = widths.get(c.column)
            assert width and width >= max(10, min(len(c.value) + 2, 45)) - 0.01, (s.name, c.value)
    assert wb["README"].freeze_panes == "A2"


def test_settings_sheet_lists_every_key_with_blank_values_and_notes(wb):
    ws = wb["settings"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert [r[0] for r in rows] == [d.name for d in SETTINGS]
    assert all(r[1] is None for r in rows)
    notes = {r[0]: r[2] for r in rows}
    assert notes["start_year"].startswith("required")
    assert notes["discount_rate"].startswith("default 0.05; per year; > -1: real discount rate")
    assert notes["base_year"].startswith("default settings start_year")
    assert notes["shortage_penalty_usd_per_t"].startswith("default blank (none)")
    assert "one of resource, market" in notes["objective"]


def _validations(ws):
    """{(first cell of each range): (type, formula1, errorStyle)} of a sheet's data validations."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord] = (dv.type, dv.formula1, dv.errorStyle)
    return out


def test_drop_down_lists(wb):
    n = 0
    for s in SHEETS:
        if s.kind != "table":
            continue
        ws = wb[s.name]
        dvs = _validations(ws)
        for j, c in enumerate(s.columns):
            letter = openpyxl.utils.get_column_letter(j + 1)
            coord = f"{letter}3:{letter}5000"
            if c.type == BOOL:
                assert dvs.pop(coord) == ("list", '"TRUE,FALSE"', None), (s.name, c.name)
            elif c.type == CHOICE:
                assert dvs.pop(coord) == ("list", '"' + ",".join(c.choices) + '"', None), (s.name, c.name)
            elif c.type == KEY and c.ref:
                target = SHEET_BY_NAME[c.ref[0]]
                col = openpyxl.utils.get_column_letter(target.names.index(c.ref[1]) + 1)
                assert dvs.pop(coord) == ("list", f"{c.ref[0]}!${col}$3:${col}$5000", "warning"), (s.name, c.name)
            else:
                continue
            n += 1
        assert dvs == {}, s.name  # no other validation
    assert n > 30
    assert _validations(wb["demand"])["A3:A5000"][1] == "members!$A$3:$A$5000"


def test_settings_drop_downs_on_boolean_and_choice_values(wb):
    ws = wb["settings"]
    dvs = _validations(ws)
    for i, d in enumerate(SETTINGS):
        cell = f"B{3 + i}"
        if d.type == BOOL:
            assert dvs.pop(cell)[:2] == ("list", '"TRUE,FALSE"'), d.name
        elif d.type == CHOICE:
            assert dvs.pop(cell)[:2] == ("list", '"resource,market"'), d.name
    assert dvs == {}


def test_readme_describes_every_sheet_column_and_setting(wb):
    text = "\n".join(str(c.value) for row in wb["README"].iter_rows() for c in row if c.value is not None)
    for s in SHEETS:
        assert f"Sheet '{s.name}'" in text and s.description in text
        for c in s.columns:
            if c.description:
                assert c.description in text
    for d in SETTINGS:
        assert d.name in text and d.description in text


# ------------------------------------------------------------------ writing safely
def test_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(b"precious")
    res = run_cli("template", path)
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert f"error: {path} already exists; use --force to overwrite it" in res.output
    assert path.read_bytes() == b"precious"


def test_force_overwrites(tmp_path):
    path = tmp_path / "mine.xlsx"
    path.write_bytes(b"old")
    res = run_cli("template", "--force", path)
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(path).sheetnames[0] == "README"
    assert sorted(os.listdir(tmp_path)) == ["mine.xlsx"]  # no temporary file left


@pytest.mark.parametrize("name", ["input.csv", "input.xls", "input"])
def test_refuses_other_suffixes(tmp_path, name):
    res = run_cli("template", tmp_path / name)
    assert res.exit_code == 1
    assert "the template must be an .xlsx file" in res.output
    assert os.listdir(tmp_path) == []


def test_creates_missing_folder(tmp_path):
    path = write_template(tmp_path / "new" / "sub" / "t.XLSX")
    assert path.exists()


def test_failed_write_leaves_existing_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"keep")

    def boom(filename):
        with open(filename, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(template_mod, "_write", boom)
    with pytest.raises(PlannerError, match="No space left on device"):
        write_template(path, force=True)
    assert path.read_bytes() == b"keep"
    assert os.listdir(tmp_path) == ["t.xlsx"]


def test_folder_path_is_refused(tmp_path):
    (tmp_path / "x.xlsx").mkdir()
    with pytest.raises(PlannerError, match="is a folder"):
        write_template(tmp_path / "x.xlsx", force=True)


# ------------------------------------------------------------------ generated docs
def test_docs_page_is_up_to_date():
    page = Path(__file__).resolve().parents[2] / DOCS_PATH  # the repository's copy, whatever is installed
    assert page.read_text(encoding="utf-8") == render(), \
        "docs/workbook-format.md is out of date: run python -m planner.input.docs_gen"


def test_docs_page_lists_every_sheet_column_and_setting():
    text = render()
    for s in SHEETS:
        assert f"## {s.name}\n" in text
        for c in s.columns:
            assert f"| `{c.name}` |" in text
    for d in SETTINGS:
        assert f"| `{d.name}` |" in text
