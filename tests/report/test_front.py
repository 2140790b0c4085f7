"""The results workbook people can read and print (issue 16 item 5): the overview front sheet, the glossary, and
print setup on every sheet; LibreOffice's PDF of it stays within a page budget.

The tiny case's optimum, 0.075 MUSD, is solved by hand in docs/tiny.md.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.report.formats import FRONT, front_rows
from planner.report.xlsio import PORTRAIT_WIDTH, write_workbook
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"
EXAMPLE = ROOT / "inputs" / "bloc_example.xlsx"
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.fixture(scope="module")
def tiny_xlsx(tmp_path_factory):
    return solve_file(str(TINY), out=str(tmp_path_factory.mktemp("xl")))


def test_front_sheet_first_with_labels_units_and_formats(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx.out)
    assert wb.sheetnames[0] == FRONT and wb.sheetnames[1] == "summary"
    assert wb.sheetnames.index("glossary") == wb.sheetnames.index("sources") + 1  # then the charts
    assert wb.active.title == FRONT
    ws = wb[FRONT]
    rows = {ws.cell(r, 1).value: (ws.cell(r, 2), ws.cell(r, 3).value) for r in range(1, ws.max_row + 1)}
    assert ws["A1"].value == "Results of tiny.xlsx"
    obj, unit = rows["Objective (what the plan minimises)"]
    assert obj.value == pytest.approx(0.075) and unit == "MUSD" and obj.number_format == "#,##0.0"
    share, unit = rows["Worst dependence on countries of concern"]
    assert share.number_format == "0.0%" and share.value == pytest.approx(1.0)  # all 2026 X from CHN in 'ban'
    assert rows["Solver status"][0].value == "optimal"
    assert "resource mode" in rows["What floor prices do in this objective"][0].value
    # key findings come first, before the cost breakdown and the run's details
    order = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert order.index("Key findings") < order.index("About this run")
    assert order.index("Key findings") < next(i for i, v in enumerate(order) if str(v).startswith("Expected cost by"))
    assert "Sheets in this workbook" in order and "glossary" in order


def test_front_rows_pick_and_order():
    summary = pd.DataFrame({"key": ["status", "objective_musd", "expected_capex_musd", "expected_imports_musd",
                                    "cost_base_musd", "scenario_only", "objective_mode"],
                            "value": ["optimal", 10.0, 1.0, -5.0, 10.0, "", "resource"]})
    sections = dict(front_rows(summary))
    assert [k for k, _ in sections["Key findings"]] == ["status", "objective_musd"]
    assert [k for k, _ in sections["Expected cost by category (- = revenue)"]] == ["expected_imports_musd",
                                                                                   "expected_capex_musd"]
    assert [k for k, _ in sections["About this run"]] == ["objective_mode"]  # a blank scenario_only is left out


def test_print_setup_on_every_sheet(tiny_xlsx):
    wb = openpyxl.load_workbook(tiny_xlsx.out)
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert (int(ps.fitToWidth or 1), int(ps.fitToHeight)) == (1, 0), ws.title  # one page wide
        assert int(ps.paperSize) == 9, ws.title
        if ws.title not in (FRONT, "charts"):
            assert ws.print_title_rows == "$1:$1", ws.title  # the header row on every page
    assert wb["supply"].page_setup.orientation == "landscape"      # 20-odd columns
    assert wb[FRONT].page_setup.orientation != "landscape"
    assert wb["fiscal"].page_setup.orientation == "landscape"


def test_narrow_sheet_prints_portrait(tmp_path):
    p = write_workbook(tmp_path / "n.xlsx", {"t": pd.DataFrame({"a": [1], "b": ["x"]})})
    ws = openpyxl.load_workbook(p)["t"]
    assert ws.page_setup.orientation != "landscape" and ws.print_title_rows == "$1:$1"
    assert 8 + 8 < PORTRAIT_WIDTH


def _pdf_pages(xlsx: Path, tmp_path: Path) -> int:
    out = tmp_path / "pdf"
    res = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                          "--convert-to", "pdf", "--outdir", str(out), str(xlsx)],
                         capture_output=True, text=True, timeout=600, check=False)
    pdf = out / (xlsx.stem + ".pdf")
    assert pdf.exists(), res.stdout + res.stderr
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.slow
@needs_soffice
def test_libreoffice_prints_the_tiny_results_on_few_pages(tiny_xlsx, tmp_path):
    wb = openpyxl.load_workbook(tiny_xlsx.out, read_only=True)
    n_sheets = len(wb.sheetnames)
    pages = _pdf_pages(Path(tiny_xlsx.out), tmp_path)
    # every sheet is one page wide and the tiny tables are a few rows: about a page a sheet, the summary and
    # the glossary (70-odd and 130-odd rows) a few more
    assert n_sheets <= pages <= n_sheets + 8, pages


@pytest.mark.slow
@needs_soffice
def test_libreoffice_page_budget_of_the_example(tmp_path):
    oc = solve_file(str(EXAMPLE), out=str(tmp_path))
    pages = _pdf_pages(Path(oc.out), tmp_path)
    # 1,043 pages before issue 16 (columns spread over several pages across); one page wide, ~17,000 table rows
    # at ~50-90 rows a page (portrait up to 130 characters wide, landscape beyond) give ~250 today
    assert pages <= 330, pages


def test_long_text_wraps_in_rows_tall_enough(tmp_path):
    # 200 characters in a column 60 wide (the widest a column gets): ceil(200 / 58) = 4 lines of 15 pt
    long = "x" * 200
    df = pd.DataFrame({"key": ["short", "note", "multi"], "value": ["1", long, "a\nb"]})
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "w.xlsx", {"summary": df}))["summary"]
    assert ws.column_dimensions["B"].width == pytest.approx(60, abs=1)
    assert ws["C3"].value is None and ws["B3"].value == long
    assert ws["B3"].alignment.wrap_text and ws["A3"].alignment.vertical == "top"
    assert ws.row_dimensions[3].height == 60 and ws.row_dimensions[2].height is None
    assert ws.row_dimensions[4].height == 30  # one line break: two lines
