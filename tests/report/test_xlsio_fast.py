"""The results writer (planner.report.xlsio): data rows generated as sheet XML with numpy, spliced into xlsxwriter's package.

Every workbook is read back (openpyxl, pandas, once LibreOffice) and compared with the frame it was written from,
and with what the cell-by-cell xlsxwriter writer it replaced makes of the same frame (:func:`reference_workbook`,
the previous ``_write_frame``): values and their types, number formats, widths, header, frozen pane, autofilter.
"""
from __future__ import annotations

import errno
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from planner.report import xlsio
from planner.report.xlsio import WrittenElsewhere, write_workbook

TEXTS = ["USA", "EU", "Japan ", " Korea", "Zürich", "北京", "emoji 😀", "<&>\"'", "a\tb\nc", "ctl\x01\x1f\r",
         "_x0041_ literal", '=HYPERLINK("http://evil.example","y")', "=cmd|' /C calc'!A0", "+1", "-1", "@A1", "",
         "1e5", "00123", "TRUE", "#N/A", "<r>rich?</r>", "</t></si>]]>", "\ufffe\uffff"]
FORMULAS = [t for t in TEXTS if t[:1] in "=+-@"]


def reference_workbook(path: Path, sheets: dict) -> Path:
    """The writer xlsio replaced: every data cell through xlsxwriter, by the same rules."""
    wb = xlsxwriter.Workbook(str(path), xlsio.SAFE)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    fmts = {}
    for name, df in sheets.items():
        ws = wb.add_worksheet(name[:31])
        cols = list(df.columns)
        widths = []
        for j, c in enumerate(cols):
            ws.write_string(0, j, str(c), head)
            widths.append(min(max(len(str(c)) + 2, 8), 60))
        for j, c in enumerate(cols):
            nf = xlsio.number_format(str(c))
            if nf and nf not in fmts:
                fmts[nf] = wb.add_format({"num_format": nf})
            f = fmts.get(nf) if nf else None
            for i, v in enumerate(df.iloc[:, j].to_numpy(dtype=object)):
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                if isinstance(v, (bool, np.bool_)):
                    ws.write_boolean(i + 1, j, bool(v))
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    x = float(v)
                    if math.isfinite(x):
                        ws.write_number(i + 1, j, x, f)
                    else:
                        ws.write_string(i + 1, j, "inf" if x > 0 else "-inf")
                else:
                    ws.write_string(i + 1, j, str(v))
                    if i < 200:
                        widths[j] = max(widths[j], min(len(str(v)) + 2, 60))
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        ws.freeze_panes(1, 0)
        if len(df) and cols:
            ws.autofilter(0, 0, len(df), len(cols) - 1)
    wb.close()
    return path


def mixed_frame(n=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = np.array(TEXTS + [None, np.nan], dtype=object)

    def floats(zero=0.5, nan=0.1):
        x = rng.lognormal(0, 12, n) * rng.choice([-1, 1], n)
        x[rng.random(n) < zero] = 0.0
        x[rng.random(n) < nan] = np.nan
        return x

    flow = floats()
    flow[[3, 7, 11]] = [np.inf, -np.inf, -0.0]
    flow[[13, 17, 19, 23]] = [5e-324, 1e308, 0.1 + 0.2, 2.0 ** 53 + 2]  # (16 digits of the largest double: inf)
    mixed = [1, "x", None, 2.5, True, np.nan, np.int64(7), np.float32(1.5), "inf", np.inf, False, -3, "", 1e300,
             np.bool_(True), pd.Timestamp("2030-01-01"), b"raw", 1 + 2j]
    return pd.DataFrame({
        "member": texts[rng.integers(0, len(texts), n)],
        "year": 2025 + np.arange(n) % 30,
        "flow_t": flow,
        "cost_musd": floats(0.3, 0.0),
        "share": rng.random(n),
        "price_usd_per_t": np.round(floats(0.2, 0.2), 2),
        "built": rng.random(n) < 0.5,
        "mixed": [mixed[i % len(mixed)] for i in range(n)],
        "big": rng.integers(-2 ** 62, 2 ** 62, n),
        "note": texts[rng.integers(0, 3, n)],
        "count": rng.integers(0, 5, n).astype(np.int32),
    })


def cells(path: Path) -> dict:
    """sheet -> rows of (value, openpyxl data type, number format), the header row included."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()]
                for ws in wb.worksheets}
    finally:
        wb.close()


def as_read(s: str) -> str:
    """What openpyxl reads back of a text xlsxwriter wrote: control characters stay escaped as _xHHHH_."""
    s = re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"_x{ord(m.group(0)):04X}_", s)
    return s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-15, abs_tol=0)  # xlsxwriter wrote 16 digits (%.16G), now exact
    return a == b and type(a) is type(b)


def layout(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = (ws.freeze_panes, ws.auto_filter.ref, ws.dimensions,
                         {k: round(d.width, 2) for k, d in ws.column_dimensions.items() if d.width},
                         [(c.value, bool(c.font.b), c.fill.fgColor.rgb) for c in ws[1]] if ws.max_column else [])
    return out


def sheet_xml(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith(".xml") or n.endswith(".rels")}


SHEETS = {
    "mixed": mixed_frame(),
    "empty": mixed_frame().iloc[:0],
    "nocols": pd.DataFrame(index=range(5)),
    "nothing": pd.DataFrame(),
    "a sheet name longer than thirty-one characters": pd.DataFrame({1: [1.5, None], (2, "x"): ["a", "b"]}),
    "allnan": pd.DataFrame({"x_t": [np.nan] * 4, "y": [None] * 4, "z": ["a", None, None, "b"]}),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    d = tmp_path_factory.mktemp("books")
    return write_workbook(d / "new.xlsx", SHEETS), reference_workbook(d / "old.xlsx", SHEETS)


def test_same_cells_as_the_cell_by_cell_writer(books):
    new, old = books
    a, b = cells(new), cells(old)
    assert list(a) == list(b) == [n[:31] for n in SHEETS]
    for name in a:
        assert len(a[name]) == len(b[name]), name
        for i, (ra, rb) in enumerate(zip(a[name], b[name])):
            assert len(ra) == len(rb), (name, i)
            for j, (ca, cb) in enumerate(zip(ra, rb)):
                if ca[0] == "<r>rich?</r>":  # xlsxwriter put this text into the XML as rich text: read as ''
                    assert cb[0] == "" and ca[1:] == cb[1:]
                    continue
                assert same(ca[0], cb[0]) and ca[1:] == cb[1:], (name, i, j, ca, cb)


def test_same_layout_as_the_cell_by_cell_writer(books):
    new, old = books
    assert layout(new) == layout(old)
    la = layout(new)
    assert la["mixed"][0] == "A2" and la["mixed"][1] == "A1:K401" and la["mixed"][2] == "A1:K401"
    assert la["empty"][1] is None and la["nocols"][1] is None
    assert all(bold for _, bold, _ in la["mixed"][4])


def test_values_and_types_round_trip(books):
    new, _ = books
    df = SHEETS["mixed"]
    ws = openpyxl.load_workbook(new)["mixed"]
    assert [c.value for c in ws[1]] == list(df.columns)
    formats = {"flow_t": "#,##0.0", "cost_musd": "#,##0.000", "share": "0.0%", "price_usd_per_t": "#,##0"}
    for j, col in enumerate(df.columns):
        for i, v in enumerate(df[col].tolist()):
            c = ws.cell(i + 2, j + 1)
            if col in ("member", "note"):
                if v is None or v != v:
                    assert c.value is None
                else:
                    assert c.data_type == "s" and c.value == as_read(v), (i, v, c.value)
            elif col in ("year", "big", "count"):  # as the double float(v); integral below 1e16: an int
                assert c.data_type == "n" and c.value == float(v)
                assert type(c.value) is (int if abs(v) < 1e16 else float)
            elif col == "built":
                assert c.data_type == "b" and c.value is v
            elif col != "mixed":
                if v != v:
                    assert c.value is None
                elif math.isinf(v):
                    assert c.data_type == "s" and c.value == ("inf" if v > 0 else "-inf")
                else:
                    assert c.data_type == "n" and c.value == v, (col, i, v, c.value)  # bit-exact
                    assert type(c.value) is (int if v == int(v) and abs(v) < 1e16 else float)
                    assert c.number_format == formats.get(col, "General")


def test_pandas_reads_the_frame_back_exactly(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    x = rng.lognormal(0, 8, n)  # (an integral double from 1e16 on is read back by pandas as a Python int)
    x[rng.random(n) < 0.4] = 0.0
    x[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame({"member": rng.choice(["USA", "EU", "Zürich", "=1+1", " pad "], n),
                       "year": 2025 + np.arange(n) % 40, "flow_t": x, "share": rng.random(n),
                       "tiny": rng.random(n) * 1e-200, "flag": rng.random(n) < 0.3})
    p = write_workbook(tmp_path / "r.xlsx", {"t": df})
    back = pd.read_excel(p, sheet_name="t")
    pd.testing.assert_frame_equal(back, df, check_exact=True, check_dtype=False)
    assert back["year"].dtype.kind == "i" and back["flag"].dtype == bool
    got, want = back["flow_t"].to_numpy(), df["flow_t"].to_numpy()
    assert np.array_equal(got.view(np.int64)[~np.isnan(want)], want.view(np.int64)[~np.isnan(want)])


def test_missing_values_leave_the_cell_empty_and_nothing_shifts(tmp_path):
    df = pd.DataFrame({
        "a": [1.0, np.nan, 3.0],
        "b": pd.array([None, 2, 3], dtype="Int64"),
        "c": pd.array([True, None, False], dtype="boolean"),
        "d": pd.array(["x", None, "z"], dtype="string"),
        "e": [pd.NA, pd.NaT, np.float32("nan")],
        "f": pd.Categorical(["p", None, "p"]),
        "g": [np.nan, None, "last"],
        "h": pd.to_datetime(["2030-01-01", None, "2031-06-30 12:00"], format="ISO8601"),
        "i": [1, 2, 3],
    })
    p = write_workbook(tmp_path / "m.xlsx", {"t": df})
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(p)["t"].iter_rows(min_row=2)]
    assert rows == [
        [1, None, True, "x", None, "p", None, "2030-01-01 00:00:00", 1],
        [None, 2, None, None, None, None, None, None, 2],
        [3, 3, False, "z", None, "p", "last", "2031-06-30 12:00:00", 3],
    ]


def test_text_is_never_a_formula(books):
    new, _ = books
    ws = openpyxl.load_workbook(new)["mixed"]
    seen = {c.value for c in ws["A"][1:] if c.value in FORMULAS}
    assert seen == set(FORMULAS)
    assert all(c.data_type == "s" for c in ws["A"][1:] if c.value is not None)
    for name, data in sheet_xml(new).items():
        assert b"<f>" not in data and b"<f " not in data, name
        assert b"inlineStr" not in data and b't="str"' not in data, name


def test_every_part_is_well_formed_xml(books):
    new, _ = books
    for name, data in sheet_xml(new).items():
        ET.fromstring(data)  # raises on malformed XML
    sst = ET.fromstring(sheet_xml(new)["xl/sharedStrings.xml"])
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    texts = ["".join(t.text or "" for t in si.iter(ns + "t")) for si in sst]
    assert len(texts) == len(set(texts)) == int(sst.get("uniqueCount"))
    assert "<r>rich?</r>" in texts and "</t></si>]]>" in texts


def test_rows_and_cells_are_referenced_in_order(books):
    new, _ = books
    xml = sheet_xml(new)["xl/worksheets/sheet1.xml"].decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == list(range(1, 402))
    for row in re.findall(r'<row r="(\d+)"[^>]*>(.*?)</row>', xml)[1:5]:
        refs = re.findall(r'<c r="([A-Z]+)(\d+)"', row[1])
        assert all(r == row[0] for _, r in refs)
        assert [c for c, _ in refs] == sorted(c for c, _ in refs)


def test_many_chunks_with_gaps_at_the_seams(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsio, "_CHUNK_BYTES", 1)  # 256 rows a chunk
    n = 2000
    x = np.arange(n) * 0.5
    x[255:258] = np.nan
    x[-1] = np.nan
    df = pd.DataFrame({"k": np.where(np.arange(n) % 256 == 0, None, "v").astype(object), "x_t": x,
                       "i": np.arange(n)})
    p = write_workbook(tmp_path / "c.xlsx", {"t": df})
    back = pd.read_excel(p)
    pd.testing.assert_frame_equal(back, df.assign(k=df["k"].where(df["k"].notna(), np.nan)), check_dtype=False)
    assert openpyxl.load_workbook(p)["t"].dimensions == f"A1:C{n + 1}"


def test_number_text_reads_back_bit_exactly_and_short():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.random(20000), rng.lognormal(0, 40, 20000) * rng.choice([-1, 1], 20000),
                        np.frombuffer(rng.bytes(8 * 20000), np.float64), np.round(rng.random(20000) * 1e4, 2),
                        10.0 ** np.arange(-323, 309), np.nextafter(10.0 ** np.arange(-300, 300), 0),
                        np.nextafter(10.0 ** np.arange(-300, 300), 1e308), np.arange(-3000, 3000) * 1.0,
                        [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 2.0 ** 53, 1e16,
                         1e15, 0.1 + 0.2, 1 / 3, 1e-5, 1e-4]])
    x = x[np.isfinite(x)]
    text = [bytes(r[r != 0]).decode() for r in xlsio._numbers_text(x)]
    for v, t in zip(x.tolist(), text):
        assert float(t) == v and re.fullmatch(r"-?\d+(\.\d+)?(E[+-]\d+)?", t), (v, t)
        assert ("." in t or "E" in t) == (v != int(v) or abs(v) >= 1e16), (v, t)  # integers read back as int
        if 1e-8 <= abs(v) < 1e36 and len(repr(v).split("e")[0].replace("-", "").replace(".", "").strip("0")) <= 15:
            assert len(t.split("E")[0].replace("-", "").replace(".", "").strip("0")) <= 15, (v, t)  # shortest


def test_long_text_is_cut_as_xlsxwriter_cuts(tmp_path):
    texts = ["x" * 40000, "😀" * 20000, "a" + "😀" * 16383 + "b"]
    p = write_workbook(tmp_path / "l.xlsx", {"t": pd.DataFrame({"s": texts})})
    old = reference_workbook(tmp_path / "o.xlsx", {"t": pd.DataFrame({"s": texts})})
    assert cells(p) == cells(old)
    assert len(cells(p)["t"][1][0][0]) == 32767


def test_charts_callback_and_column_formats(tmp_path):
    """A callback adds a chart sheet on its own data sheet, and formats a data column (as compare.py does)."""
    def charts(wb):
        ds = wb.add_worksheet("chart_data")
        ds.write_row(0, 0, ["year", "=cmd|' /C calc'!A0"])
        for i in range(3):
            ds.write_row(i + 1, 0, [2030 + i, i * 1.5])
        ws = wb.add_worksheet("charts")
        ch = wb.add_chart({"type": "line"})
        ch.add_series({"name": "=cmd|' /C calc'!A0", "categories": ["chart_data", 1, 0, 3, 0],
                       "values": ["chart_data", 1, 1, 3, 1]})
        ch.set_title({"name": "=cmd|' /C calc'!A0"})
        ws.insert_chart("A1", ch)
        data = wb.get_worksheet_by_name("t")
        data.set_column(1, 1, 12, wb.add_format({"num_format": "0.00%"}))
        data.conditional_format("B2:B4", {"type": "cell", "criteria": ">", "value": 0.5,
                                          "format": wb.add_format({"bg_color": "#FFEB9C"})})

    df = pd.DataFrame({"k": ["a", "b", "c"], "v": [0.25, 0.75, np.nan], "flag": [True, False, True]})
    p = write_workbook(tmp_path / "ch.xlsx", {"t": df}, charts=charts)
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["t", "chart_data", "charts"]
    assert [c.number_format for c in wb["t"]["B"][1:3]] == ["0.00%", "0.00%"]
    assert wb["t"].conditional_formatting and wb["chart_data"]["B3"].value == 1.5
    xml = sheet_xml(p)
    chart = xml["xl/charts/chart1.xml"].decode()
    refs = re.findall(r"<c:f>(.*?)</c:f>", chart)
    assert refs and all(r.startswith("chart_data!") for r in refs), refs
    assert "cmd|" in chart and "<c:f>'=cmd" not in chart  # the series name stays literal text
    assert [c[:2] for c in cells(p)["t"][1]] == [("a", "s"), (0.25, "n"), (True, "b")]


def test_cells_written_below_the_header_by_a_callback_are_refused(tmp_path, caplog):
    def charts(wb):
        wb.get_worksheet_by_name("t").write(5, 0, "clobber")

    target = tmp_path / "r.xlsx"
    # refused: the callback's cell is not written; the tables are, without the callback's part, and a warning says so
    write_workbook(target, {"t": pd.DataFrame({"a": [1, 2]})}, charts=charts)
    assert "below the header" in caplog.text and "written without them" in caplog.text
    assert list(tmp_path.iterdir()) == [target]
    ws = openpyxl.load_workbook(target)["t"]
    assert [c.value for c in ws["A"]] == ["a", 1, 2]


def test_disk_full_while_compressing_saves_elsewhere(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr(xlsio, "_CHUNK_BYTES", 1)
    failed = []
    real = xlsio._Behind.do

    def do(self, fn, *args):  # the first chunk of rows fails in the helper thread, as on a full disk
        if not failed and args and isinstance(args[0], memoryview):
            failed.append(1)

            def full(chunk):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(self, full, *args)
        return real(self, fn, *args)

    monkeypatch.setattr(xlsio._Behind, "do", do)
    target = tmp_path / "full" / "r.xlsx"
    df = pd.DataFrame({"a": np.arange(3000)})
    with pytest.raises(WrittenElsewhere, match="No space left on device"):
        write_workbook(target, {"t": df})
    assert pd.read_excel(here / "r.xlsx")["a"].tolist() == list(range(3000))
    assert list(target.parent.iterdir()) == []


def test_interrupt_while_writing_rows_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "r.xlsx"
    write_workbook(target, {"t": pd.DataFrame({"previous": [1]})})
    before = target.read_bytes()
    monkeypatch.setattr(xlsio, "_CHUNK_BYTES", 1)
    real = xlsio._chunk
    calls = []

    def chunk(*a):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(xlsio, "_chunk", chunk)
    with pytest.raises(KeyboardInterrupt):
        write_workbook(target, {"t": pd.DataFrame({"a": np.arange(3000)})})
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.xlsx"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it(tmp_path):
    df = pd.DataFrame({"member": ["USA", "=HYPERLINK(\"http://x\",\"y\")", None, "Zürich <&>"],
                       "year": [2025, 2026, 2027, 2028], "value": [0.25, np.nan, -1234.5, 1e-7],
                       "flag": [True, False, True, False]})
    p = write_workbook(tmp_path / "lo.xlsx", {"t": df, "other": df})
    out = tmp_path / "csv"
    res = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                          "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false",
                          "--outdir", str(out), str(p)], capture_output=True, text=True, timeout=120)
    files = list(out.glob("*.csv")) if out.exists() else []
    assert files, res.stdout + res.stderr
    lines = files[0].read_text(encoding="utf-8").splitlines()
    assert lines == ["member,year,value,flag", "USA,2025,0.25,TRUE",
                     '"=HYPERLINK(""http://x"",""y"")",2026,,FALSE', ",2027,-1234.5,TRUE",
                     "Zürich <&>,2028,0.0000001,FALSE"]


def test_rows_beyond_the_sheet_limit_are_cut_with_a_warning(tmp_path, monkeypatch, caplog):
    # the real limit is 1,048,575 data rows; a limit of 3 shows the same path without a million rows
    import planner.report.xlsio as xlsio

    monkeypatch.setattr(xlsio, "_ROWS_MAX", 3)
    with caplog.at_level("WARNING", logger="planner"):
        p = write_workbook(tmp_path / "cut.xlsx", {"t": pd.DataFrame({"a": np.arange(5.0)})})
    assert pd.read_excel(p, sheet_name="t")["a"].tolist() == [0.0, 1.0, 2.0]
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "sheet 't' has 5 rows x 1 columns" in msg and "only the first 3 rows" in msg
