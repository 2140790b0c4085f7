"""Fuzzing the input side (issue 6, item 1): mutated workbooks never crash the planner.

A *grid* is a workbook as data: ``[[sheet title, rows], ...]`` where ``rows[0]``
is the header row and every row is a list of cell values.  The bases are the
shipped example (``inputs/bloc_example.xlsx``), the minimal valid book of
``conftest.valid_book`` and small generated books (:func:`small_books`, which
validate and solve).  Hypothesis draws 1-3 mutations per case:

- a cell gets a value of the wrong type (text, booleans, dates, times,
  durations, formulas without a cached value, Excel error values, raw XML
  numbers such as ``1e999``, huge / negative / tiny numbers), or is blanked;
- sheets and columns are deleted, renamed (case, spaces, garbage, a name
  that is already taken) or reordered; rows duplicated, deleted, shuffled;
- keys become unicode, whitespace-only, padded or missing from the sheet
  they refer to; years fall outside the horizon; scenario probabilities stop
  summing to one; settings go wrong;
- structure: units rows, blank rows, unknown sheets and columns, headerless
  columns with data.

For every case (:func:`check_validate`): ``planner validate`` exits 0 or 1 and
never shows a traceback or an "unexpected" error; every output line is a
located problem (``FILE: sheet 'S', row R, column 'C': ...``, the row inside
the sheet), a warning or the final count; exit 1 exactly when an error is
listed; the input file's bytes are unchanged.  A case made of one mutation
whose outcome is certain (garbage text in a number column, a blank required
cell, a missing reference, a duplicate key, a deleted required sheet or
column, probabilities that do not sum to one, years outside the horizon)
must produce an error at exactly that sheet / row / column; a mutation that
keeps the book valid (reordered columns or rows, padded keys, header case,
unit rows, blank rows, unknown sheets) must still validate.

``solve`` (:func:`check_solve`) runs on small generated books with
``--time-limit``: validate errors ⇔ solve exits 1 with the same problems; a
valid book exits 0 with a results workbook or exits 1 with a message
(infeasible / unbounded / no solution) and writes nothing; no temp file is
left; the input is unchanged.

CI runs a few hundred cases (``FUZZ_CASES`` scales them); the long run is
``python tests/fuzz_long.py`` (docs/reliability.md).
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import valid_book
from planner.cli import main
from planner.input.schema import BOOL, CHOICE, FLOAT, INT, KEY, SHEET_BY_NAME, YEAR

pytestmark = pytest.mark.slow  # long or process-heavy: run in CI, skipped by -m "not slow"

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inputs" / "bloc_example.xlsx"
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


# ====================================================================== grids
class Raw:
    """A cell written as raw XML: ``Raw('n', '<v>1e999</v>')`` -> ``<c r=.. t="n"><v>1e999</v></c>``."""

    def __init__(self, t: str | None, inner: str):
        self.t, self.inner = t, inner

    def __repr__(self):
        return f"Raw({self.t!r}, {self.inner[:40]!r})"


class Formula:
    """A formula with no cached value (what openpyxl or a script writes): reads as a blank cell."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return f"Formula({self.text!r})"


def load_grid(path) -> list:
    wb = openpyxl.load_workbook(path, data_only=True)
    grid = []
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        width = max((max((i + 1 for i, v in enumerate(r) if v is not None), default=0) for r in rows), default=0)
        grid.append([ws.title, [r[:width] for r in rows]])
    return grid


def book_to_grid(book: dict) -> list:
    """``conftest`` style book (sheet -> list of row dicts) or ``modelkit`` style (settings as a dict)."""
    grid = []
    for name, rows in book.items():
        if isinstance(rows, dict):
            grid.append([name, [["key", "value"]] + [[k, v] for k, v in rows.items()]])
            continue
        header = []
        for r in rows:
            header += [k for k in r if k not in header]
        grid.append([name, [header] + [[r.get(h) for h in header] for r in rows]])
    return grid


_RAW_MARK = "\u2603RAW{}\u2603"


def write_grid(path, grid) -> str:
    """Write a grid with openpyxl; ``Raw`` cells are patched into the sheet XML afterwards."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    raws = []
    for entry in grid:
        title, rows = entry
        ws = wb.create_sheet(title)
        entry[0] = ws.title  # openpyxl renames a title already taken (case-insensitively): keep the grid true
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row, start=1):
                if v is None:
                    continue
                if isinstance(v, Raw):
                    raws.append(v)
                    ws.cell(i, j, _RAW_MARK.format(len(raws) - 1))
                elif isinstance(v, Formula):
                    ws.cell(i, j, "=" + v.text)
                else:
                    c = ws.cell(i, j, v)
                    if isinstance(v, str) and v.startswith("="):
                        c.data_type = "s"  # text that looks like a formula stays text
    if not raws:
        wb.save(path)
        return str(path)
    buf = io.BytesIO()
    wb.save(buf)
    pat = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*?) t="inlineStr"><is><t>' + _RAW_MARK.format(r"(\d+)") +
                     r"</t></is></c>")

    def sub(m):
        raw = raws[int(m.group(3))]
        t = f' t="{raw.t}"' if raw.t else ""
        return f'<c r="{m.group(1)}"{m.group(2)}{t}>{raw.inner}</c>'

    zin = zipfile.ZipFile(buf)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                data = pat.sub(sub, data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return str(path)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_BASES: dict = {}


def base_grid(name: str) -> list:
    if name not in _BASES:
        _BASES[name] = load_grid(EXAMPLE) if name == "example" else book_to_grid(valid_book())
    return copy.deepcopy(_BASES[name])


# ====================================================================== small generated books
@st.composite
def small_books(draw):
    """A small random book that validates and solves (shortage is penalised, ROW sells without limit)."""
    y0 = draw(st.integers(2024, 2030))
    y1 = y0 + draw(st.integers(0, 2))
    members = draw(st.lists(st.sampled_from(["USA", "EU", "JPN", "KOR"]), min_size=1, max_size=3, unique=True))
    settings = {"start_year": y0, "end_year": y1, "discount_rate": draw(st.sampled_from([0, 0.03, 0.05])),
                "shortage_penalty_usd_per_t": 1e5}
    if draw(st.booleans()):
        settings["risk_aversion"] = draw(st.sampled_from([0, 0.5]))
    book = {
        "settings": settings,
        "members": [{"member": m, "name": f"member {m}"} for m in members],
        "commodities": [{"commodity": "ore", "stage": "ore"},
                        {"commodity": "ox", "stage": "oxide",
                         "floor_price_usd_per_t": draw(st.sampled_from([None, 1200]))}],
        "market_prices": [{"commodity": "ore", "year": y0, "price_usd_per_t": 100},
                          {"commodity": "ox", "year": y0, "price_usd_per_t": draw(st.sampled_from([800, 1000]))},
                          {"commodity": "ox", "year": y1 + 1, "price_usd_per_t": 1100}],
        "demand": [{"member": m, "commodity": "ox", "year": y0, "demand_t": draw(st.integers(0, 200))}
                   for m in members],
        "suppliers": [{"supplier": "ROW", "commodity": "ox", "price_factor": 1.2},
                      {"supplier": "ROW", "commodity": "ore"},
                      {"supplier": "CHN", "commodity": "ox", "max_tpa": draw(st.integers(0, 300)),
                       "country_of_concern": True, "tariff_usd_per_t": draw(st.sampled_from([0, 50]))}],
        "processes": [{"process": "ref", "member": members[0], "output": "ox", "input": "ore",
                       "input_per_output": 1.5, "existing_tpa": draw(st.integers(0, 50)), "module_tpa": 40,
                       "max_modules": 2, "capex_musd_per_module": draw(st.sampled_from([0.5, 5])),
                       "integer_modules": draw(st.booleans())}],
    }
    if draw(st.booleans()):
        book["stockpiles"] = [{"member": members[-1], "commodity": "ox", "existing_capacity_t": 20,
                               "initial_stock_t": 10, "capex_usd_per_t": 50, "max_capacity_t": 100}]
    if draw(st.booleans()):
        book["offtakes"] = [{"offtake": "deal", "seller": "AUS", "member": members[0], "commodity": "ox",
                             "max_tpa": 60, "min_take_share": 0.5, "floor_price_usd_per_t": 1100}]
    if draw(st.booleans()):
        p = draw(st.sampled_from([0.5, 0.7, 0.9]))
        book["scenarios"] = [{"scenario": "base", "probability": p},
                             {"scenario": "cut", "probability": round(1 - p, 10), "description": "CHN ban"}]
        book["disruptions"] = [{"scenario": "cut", "supplier": "CHN", "commodity": "ox", "from_year": y1,
                                "to_year": y1, "available_share": 0}]
        book["scenario_prices"] = [{"scenario": "cut", "commodity": "ox", "multiplier": 1.5}]
    if draw(st.booleans()):
        book["security"] = [{"commodity": "ox", "max_concern_share": draw(st.sampled_from([0.2, 0.8]))}]
    if draw(st.booleans()):
        book["sources"] = [{"item": "demand", "value": 100, "unit": "t", "source": "fuzz"}]
    return book_to_grid(book)


# ====================================================================== values
# characters openpyxl can write (XML 1.0 minus what openpyxl refuses)
_ILLEGAL = "".join(chr(c) for c in list(range(0, 9)) + [11, 12] + list(range(14, 32)))
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=_ILLEGAL + "\ufffe\uffff"),
                   max_size=40)
SPECIAL_TEXT = st.sampled_from([
    "", " ", "   ", "\t", "\n", " \n\t ", "\u00a0", "\u2003", "\u200b", "\ufeff", "\u3000",
    "NaN", "nan", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e308", "1e-320", "0x1A", "1_000", "١٢٣",
    "TRUE", "false", "Yes", "n", "maybe", "#N/A", "#REF!", "#DIV/0!", "#NAME?", "#SPILL!",
    "=1+1", "=HYPERLINK(\"http://example.com\",\"x\")", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)",
    "1,200", "1.200,5", "5%", "%", "12.5.3", "--1", "1e", "e5", "2026-01-01", "2026/13/45", "12:30",
    "用户", "Ω", "e\u0301", "😀", "ⓐⓑ", "\u202eRTL", "a" * 300, "_x0007_", "_x0000_", "${jndi:x}",
    "'; DROP TABLE members; --", "<b>x</b>", "&amp;", "]]>", "\\", "%s%n",
])
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
NUMBERS = st.one_of(
    st.integers(-10**15, 10**15), FLOATS,
    st.sampled_from([0, -0.0, 1, -1, 0.5, 1.5, -1e-9, 1e-300, 5e-324, 1e12, -1e12, 1e19, 1e20, 1e300, -1e300,
                     2**53 + 1, 10**18, 1900, 2200, 2201, 1899, 9999, -2026, 20260]),
)
DATES = st.one_of(st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2200, 1, 1)),
                  st.dates(dt.date(1900, 3, 1), dt.date(2200, 1, 1)),
                  st.times(), st.timedeltas(dt.timedelta(0), dt.timedelta(days=999)))
RAW_CELLS = st.sampled_from([
    Raw("n", "<v>1e999</v>"), Raw("n", "<v>-1e999</v>"), Raw("n", "<v>NaN</v>"), Raw("n", "<v>inf</v>"),
    Raw("n", "<v>" + "9" * 400 + "</v>"), Raw("n", "<v>-" + "9" * 400 + "</v>"), Raw("n", "<v>abc</v>"),
    Raw("n", "<v></v>"), Raw(None, "<v>1.5.5</v>"), Raw("n", "<v>1E+400</v>"), Raw("n", "<v>0x10</v>"),
    Raw("e", "<v>#DIV/0!</v>"), Raw("e", "<v>#N/A</v>"), Raw("b", "<v>2</v>"), Raw("b", "<v>true</v>"),
    Raw("str", "<f>1+1</f><v>=HYPERLINK(\"x\")</v>"), Raw("str", "<f>A1</f><v></v>"), Raw(None, "<f>1/0</f>"),
    Raw("s", "<v>99999</v>"), Raw("s", "<v>-1</v>"), Raw("s", "<v>x</v>"), Raw("d", "<v>2026-13-45</v>"),
    Raw("d", "<v>2026-01-01T00:00:00</v>"), Raw("inlineStr", "<is><t>_x0001_ctl</t></is>"),
    Raw("inlineStr", "<is></is>"), Raw("zz", "<v>1</v>"), Raw("n", "<v>1</v><v>2</v>"),
])
FORMULAS = st.sampled_from([Formula("1+1"), Formula("SUM(A1:A3)"), Formula("NOW()"), Formula("1/0")])
ANY_VALUE = st.one_of(NUMBERS, ANY_TEXT, SPECIAL_TEXT, st.booleans(), DATES, RAW_CELLS, FORMULAS, st.none())

# text that is certainly not a number, boolean, choice or Excel error: 'zz' prefix
GARBAGE = st.builds(lambda s: "zz" + s, ANY_TEXT.filter(lambda s: "\n" not in s and "\r" not in s))
MISSING_KEY = st.builds(lambda s: "zzMISSING" + s.strip(), ANY_TEXT)
UNICODE_KEYS = st.text(st.characters(min_codepoint=0x80, blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
                       min_size=1, max_size=12).filter(lambda s: s.strip() == s and s)


# ====================================================================== mutations
@dataclass
class Case:
    base: str
    grid: list
    log: list = field(default_factory=list)    # what was done, for the failure report
    expect: list = field(default_factory=list)  # (sheet, excel row or None, column or None) an error must name
    valid: bool = False                         # a single valid-preserving mutation: must still validate

    def describe(self) -> str:
        return f"base={self.base}; " + "; ".join(self.log)


def _sheet(grid, title):
    for s in grid:
        if s[0] == title:
            return s
    return None


def _schema(title):
    return SHEET_BY_NAME.get(title)


def _data_rows(rows) -> list[int]:
    """Indexes of data rows (not the header, not a '#' units row)."""
    out = []
    for i in range(1, len(rows)):
        r = rows[i]
        if i == 1 and r and isinstance(r[0], str) and r[0].lstrip().startswith("#"):
            continue
        out.append(i)
    return out


def _set(rows, i, j, v):
    while len(rows) <= i:
        rows.append([])
    row = rows[i]
    while len(row) <= j:
        row.append(None)
    row[j] = v


def _nonblank(row, skip=None) -> bool:
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for k, v in enumerate(row) if k != skip)


def _typed_columns(title, rows, types):
    """(column index, Column) of schema columns of these types whose header is exactly the column name."""
    s = _schema(title)
    if s is None or s.kind != "table" or not rows:
        return []
    out = []
    for j, h in enumerate(rows[0]):
        if isinstance(h, str) and h in s.names:
            c = s.column(h)
            if c.type in types:
                out.append((j, c))
    return out


def _unique_header(rows, j) -> bool:
    h = rows[0][j]
    return sum(1 for x in rows[0] if isinstance(x, str) and x.strip().lower() == h.lower()) == 1


def m_cell(draw, case):
    """Any value into any cell (header row rarely)."""
    title, rows = draw(st.sampled_from(case.grid))
    if not rows:
        rows.append([])
    i = draw(st.integers(0, len(rows) - 1)) if draw(st.integers(0, 9)) == 0 else \
        draw(st.integers(min(1, len(rows) - 1), len(rows) - 1))
    j = draw(st.integers(0, max(len(rows[i]), len(rows[0])))) if rows[0] else 0
    v = draw(ANY_VALUE)
    _set(rows, i, j, v)
    case.log.append(f"cell {title}!R{i + 1}C{j + 1} = {v!r}"[:200])


def m_garbage(draw, case):
    """Non-numeric text into a typed (number, year, boolean, choice) cell: an error at that cell."""
    opts = [(s, j, c) for s in case.grid for j, c in _typed_columns(s[0], s[1], (FLOAT, INT, YEAR, BOOL, CHOICE))
            if _data_rows(s[1]) and _unique_header(s[1], j)]
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, c = draw(st.sampled_from(opts))
    i = draw(st.sampled_from(_data_rows(rows)))
    v = draw(st.one_of(GARBAGE, st.sampled_from(["#N/A", "#REF!", "#DIV/0!"])))
    _set(rows, i, j, v)
    case.log.append(f"garbage {title}!{c.name} row {i + 1} = {v!r}"[:200])
    case.expect.append((title, i + 1, c.name))


def m_setting_garbage(draw, case):
    s = _sheet(case.grid, "settings")
    if s is None or not s[1] or [str(h).strip().lower() for h in s[1][0][:2]] != ["key", "value"]:
        return m_cell(draw, case)
    rows = s[1]
    idx = [i for i in _data_rows(rows) if isinstance(rows[i][0], str) and rows[i][0] in
           ("start_year", "end_year", "discount_rate", "time_limit_s", "mip_gap", "risk_aversion", "objective",
            "anti_circumvention", "threads")]
    if not idx:
        return m_cell(draw, case)
    i = draw(st.sampled_from(idx))
    v = draw(GARBAGE)
    _set(rows, i, 1, v)
    case.log.append(f"setting {rows[i][0]} = {v!r}"[:200])
    case.expect.append(("settings", i + 1, "value"))


def m_numeric(draw, case):
    """Extreme numbers (huge, negative, tiny, NaN/inf as raw XML) into number columns."""
    opts = [(s, j, c) for s in case.grid for j, c in _typed_columns(s[0], s[1], (FLOAT, INT, YEAR))
            if _data_rows(s[1])]
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, c = draw(st.sampled_from(opts))
    i = draw(st.sampled_from(_data_rows(rows)))
    kind = draw(st.sampled_from(["negative", "above", "inf", "any"]))
    if kind == "negative" and c.min is not None and c.min >= 0 and c.type == FLOAT:
        v = -draw(st.sampled_from([1e-6, 1, 1e6, 1e300]))
    elif kind == "above" and c.max is not None:
        v = c.max + draw(st.sampled_from([1e-3, 1, 1e9]))
    elif kind == "inf":
        v = draw(st.sampled_from([Raw("n", "<v>1e999</v>"), Raw("n", "<v>-1e999</v>"), "1e999", "-inf", "inf"]))
    else:
        kind = "any"
        v = draw(NUMBERS)
    _set(rows, i, j, v)
    case.log.append(f"number[{kind}] {title}!{c.name} row {i + 1} = {v!r}")
    if kind != "any" and _unique_header(rows, j):
        case.expect.append((title, i + 1, c.name))


def m_tweak(draw, case):
    """A valid but extreme number: zero, bounds, tiny, huge (below the 1e15 cap), negative where allowed."""
    opts = [(s, j, c) for s in case.grid for j, c in _typed_columns(s[0], s[1], (FLOAT, INT))
            if _data_rows(s[1])]
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, c = draw(st.sampled_from(opts))
    i = draw(st.sampled_from(_data_rows(rows)))
    if c.type == INT:
        lo = int(c.min or 0)
        v = draw(st.sampled_from([lo, lo + 1, 3, 100]))
    elif c.max is not None:
        v = draw(st.sampled_from([c.max, c.min or 0, 1e-9, 0.5, 0.999999]))
    else:
        v = draw(st.sampled_from([0, 1e-6, 1e-3, 1, 1e6, 1e9, 1e12, 9.9e14] +
                                 ([-1e9, -1e3, -1] if c.min is None else [])))
    _set(rows, i, j, v)
    case.log.append(f"tweak {title}!{c.name} row {i + 1} = {v!r}")


def m_blank_required(draw, case):
    opts = []
    for s in case.grid:
        sch = _schema(s[0])
        if sch is None or sch.kind != "table" or not s[1]:
            continue
        for j, h in enumerate(s[1][0]):
            if isinstance(h, str) and h in sch.names and sch.column(h).required and _unique_header(s[1], j):
                opts.append((s, j, h))
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, h = draw(st.sampled_from(opts))
    data = _data_rows(rows)
    if not data:
        return m_cell(draw, case)
    i = draw(st.sampled_from(data))
    v = draw(st.sampled_from([None, "", " ", "\t", "\u00a0 ", Formula("1+1")]))
    _set(rows, i, j, v)
    case.log.append(f"blank {title}!{h} row {i + 1} ({v!r})")
    if _nonblank(rows[i], skip=j):
        case.expect.append((title, i + 1, h))


def m_missing_ref(draw, case):
    opts = []
    for s in case.grid:
        sch = _schema(s[0])
        if sch is None or sch.kind != "table" or not s[1]:
            continue
        for j, h in enumerate(s[1][0]):
            if isinstance(h, str) and h in sch.names and sch.column(h).ref and _unique_header(s[1], j):
                opts.append((s, j, h))
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, h = draw(st.sampled_from(opts))
    data = _data_rows(rows)
    if not data:
        return m_cell(draw, case)
    i = draw(st.sampled_from(data))
    v = draw(MISSING_KEY)
    _set(rows, i, j, v)
    case.log.append(f"missing ref {title}!{h} row {i + 1} = {v!r}"[:200])
    case.expect.append((title, i + 1, h))


def m_key(draw, case):
    """Unicode, whitespace-only, padded or case-changed keys."""
    opts = []
    for s in case.grid:
        sch = _schema(s[0])
        if sch is None or not s[1]:
            continue
        for j, h in enumerate(s[1][0]):
            if isinstance(h, str) and h in sch.names and sch.column(h).type == KEY:
                opts.append((s, j, h))
    if not opts:
        return m_cell(draw, case)
    (title, rows), j, h = draw(st.sampled_from(opts))
    data = _data_rows(rows)
    if not data:
        return m_cell(draw, case)
    i = draw(st.sampled_from(data))
    old = rows[i][j] if j < len(rows[i]) else None
    kind = draw(st.sampled_from(["unicode", "whitespace", "pad", "case", "number", "bool", "long"]))
    if kind == "unicode":
        v = draw(UNICODE_KEYS)
    elif kind == "whitespace":
        v = draw(st.sampled_from([" ", "  ", "\t", "\u00a0", "\u3000", " \n "]))
    elif kind == "pad" and isinstance(old, str):
        v = draw(st.sampled_from([" ", "  ", "\t"])) + old + draw(st.sampled_from(["", " ", "   "]))
    elif kind == "case" and isinstance(old, str):
        v = old.swapcase()
    elif kind == "number":
        v = draw(st.sampled_from([1, 1.0, 2.5, -3, 1e20]))
    elif kind == "bool":
        v = draw(st.booleans())
    else:
        kind = "long"
        v = "K" * draw(st.sampled_from([31, 255, 1000, 32767]))
    _set(rows, i, j, v)
    case.log.append(f"key[{kind}] {title}!{h} row {i + 1}: {old!r} -> {v!r}"[:200])
    if kind == "pad":
        case.valid = True


def m_duplicate_row(draw, case):
    title, rows = draw(st.sampled_from(case.grid))
    data = _data_rows(rows)
    if not data:
        return m_cell(draw, case)
    i = draw(st.sampled_from(data))
    rows.append(list(rows[i]))
    n = len(rows)
    case.log.append(f"duplicate {title} row {i + 1} as row {n}")
    sch = _schema(title)
    if title == "settings" and rows[0][:2] == ["key", "value"] and isinstance(rows[i][0], str) \
            and rows[i][0] in {"start_year", "end_year", "discount_rate", "base_year", "objective", "threads",
                               "time_limit_s", "mip_gap", "shortage_penalty_usd_per_t"}:
        case.expect.append(("settings", n, "key"))
    elif sch is not None and sch.kind == "table" and sch.key and len(rows) > 1:
        pos = {h: j for j, h in enumerate(rows[0]) if isinstance(h, str)}
        if all(k in pos for k in sch.key) and all(_unique_header(rows, pos[k]) for k in sch.key):
            keyvals = [rows[i][pos[k]] if pos[k] < len(rows[i]) else None for k in sch.key]
            if all(v is not None and not (isinstance(v, str) and not v.strip()) for v in keyvals):
                case.expect.append((title, n, None))


def m_rows(draw, case):
    """Delete, shuffle or blank-insert rows (shuffle and blank rows keep a valid book valid)."""
    title, rows = draw(st.sampled_from(case.grid))
    data = _data_rows(rows)
    kind = draw(st.sampled_from(["delete", "shuffle", "blank", "truncate"]))
    if kind == "delete" and data:
        i = draw(st.sampled_from(data))
        del rows[i]
        case.log.append(f"delete {title} row {i + 1}")
    elif kind == "shuffle" and len(data) > 1:
        perm = draw(st.permutations(data))
        vals = [rows[i] for i in perm]
        for i, r in zip(data, vals):
            rows[i] = r
        case.log.append(f"shuffle {title} rows")
        case.valid = title not in ("scenarios",)  # (the sum check names the last row: still valid)
    elif kind == "truncate":
        rows[:] = rows[:1]
        case.log.append(f"truncate {title} to its header")
    elif rows:
        lo = 2 if len(rows) > 1 and 1 not in data else 1  # keep a units row in row 2
        i = draw(st.integers(min(lo, len(rows)), len(rows)))
        rows.insert(i, [None, "  "])
        case.log.append(f"blank row in {title} at row {i + 1}")
        case.valid = True


def m_sheet(draw, case):
    s = draw(st.sampled_from(case.grid))
    title = s[0]
    kind = draw(st.sampled_from(["delete", "rename", "case", "pad", "taken", "empty"]))
    if kind == "delete" and len(case.grid) > 1:
        case.grid.remove(s)
        case.log.append(f"delete sheet {title}")
        sch = _schema(title)
        if sch is not None and sch.required:
            case.expect.append((title, None, None))
    elif kind == "rename":
        new = draw(st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="[]:*?/\\'"),
                           min_size=1, max_size=31).filter(lambda t: t.strip() and not any(
                               t.lower() == x[0].lower() for x in case.grid)))
        s[0] = new
        case.log.append(f"rename sheet {title} -> {new!r}")
        sch = _schema(title)
        if sch is not None and sch.required and _schema(new.strip()) is None and \
                not any(new.strip().lower() == n.lower() for n in SHEET_BY_NAME):
            case.expect.append((title, None, None))
    elif kind == "case":
        s[0] = title.upper() if title != title.upper() else title.lower()
        case.log.append(f"sheet {title} -> {s[0]}")
        case.valid = True
    elif kind == "pad":
        s[0] = (" " + title + " ")[:31]
        case.log.append(f"sheet {title} -> {s[0]!r}")
        case.valid = len(title) <= 29
    elif kind == "taken":
        others = [x[0] for x in case.grid if x is not s]
        if not others:
            return
        other = draw(st.sampled_from(others))
        s[0] = other.upper() if other != other.upper() else other.lower()
        s[0] = s[0] if s[0].lower() != title.lower() else title
        case.log.append(f"rename sheet {title} -> {s[0]!r} (like {other})")
    else:
        s[1] = draw(st.sampled_from([[], [[None]], [[" "]]]))
        case.log.append(f"empty sheet {title}")
        sch = _schema(title)
        if sch is not None and sch.required:
            case.expect.append((title, None, None))


def m_column(draw, case):
    s = draw(st.sampled_from(case.grid))
    title, rows = s
    if not rows or not rows[0]:
        return m_cell(draw, case)
    j = draw(st.integers(0, len(rows[0]) - 1))
    h = rows[0][j]
    kind = draw(st.sampled_from(["delete", "rename", "case", "pad", "blank", "dup", "swap", "extra", "headless"]))
    sch = _schema(title)
    required = sch is not None and sch.kind == "table" and isinstance(h, str) and h in sch.names \
        and sch.column(h).required and _unique_header(rows, j)
    if kind == "delete":
        for r in rows:
            if j < len(r):
                del r[j]
        case.log.append(f"delete column {title}!{h}")
        if required:
            case.expect.append((title, None, h))
    elif kind == "rename":
        new = draw(ANY_TEXT.filter(lambda t: t.strip() and t.strip().lower() not in
                                   {str(x).strip().lower() for x in rows[0]}))
        rows[0][j] = new
        case.log.append(f"rename column {title}!{h} -> {new!r}"[:200])
        if required and not (sch and any(n.lower() == re.sub(r"\s+", " ", new).strip().lower()
                                         for n in sch.names)):
            case.expect.append((title, None, h))
    elif kind == "case" and isinstance(h, str):
        rows[0][j] = h.upper() if h != h.upper() else h.title()
        case.log.append(f"column {title}!{h} -> {rows[0][j]}")
        case.valid = True
    elif kind == "pad" and isinstance(h, str):
        rows[0][j] = f"  {h}\t"
        case.log.append(f"column {title}!{h} padded")
        case.valid = True
    elif kind == "blank":
        rows[0][j] = draw(st.sampled_from([None, " "]))
        case.log.append(f"blank header {title}!{h}")
        if required:
            case.expect.append((title, None, h))
    elif kind == "dup" and len(rows[0]) > 1:
        k = draw(st.integers(0, len(rows[0]) - 1).filter(lambda k: k != j))
        rows[0][k] = h
        case.log.append(f"header {title} col {k + 1} := {h!r} (duplicate)")
    elif kind == "swap" and len(rows[0]) > 1:
        k = draw(st.integers(0, len(rows[0]) - 1))
        units = len(rows) > 1 and bool(rows[1]) and isinstance(rows[1][0], str) and rows[1][0].startswith("#")
        for r in rows:
            while len(r) < len(rows[0]):
                r.append(None)
            r[j], r[k] = r[k], r[j]
        case.log.append(f"swap columns {title} {j + 1}<->{k + 1}")
        # moving the '#' cell out of column A turns a units row into data (SPEC §2): not a valid change then
        case.valid = not (units and 0 in (j, k) and j != k)
    elif kind == "extra":
        rows[0].append(draw(st.sampled_from(["notes", "Comment", "zz_extra", "值"])))
        for r in rows[1:]:
            r.extend([None] * (len(rows[0]) - 1 - len(r)) + [draw(ANY_VALUE)])
        case.log.append(f"extra column in {title}")
    else:
        w = len(rows[0]) + 1
        for r in rows[1:]:
            _set([r], 0, w, draw(st.sampled_from(["stray", 1, None])))
        case.log.append(f"headerless data column in {title}")
        case.valid = True


def m_years(draw, case):
    """A from/to (or start/end) pair moved entirely outside the horizon: an error at that row."""
    st_ = _sheet(case.grid, "settings")
    y = {}
    if st_ is not None:
        for r in st_[1][1:]:
            if r and r[0] in ("start_year", "end_year") and len(r) > 1 and isinstance(r[1], int):
                y[r[0]] = r[1]
    pairs = []
    for title, a, b in [("security", "from_year", "to_year"), ("scenario_prices", "from_year", "to_year"),
                        ("scenario_demand", "from_year", "to_year"), ("disruptions", "from_year", "to_year"),
                        ("offtakes", "start_year", "end_year")]:
        s = _sheet(case.grid, title)
        if s and s[1] and a in s[1][0] and b in s[1][0] and _data_rows(s[1]):
            pairs.append((s, s[1][0].index(a), s[1][0].index(b), a, b))
    if len(y) < 2 or not pairs:
        return m_numeric(draw, case)
    (title, rows), ja, jb, a, b = draw(st.sampled_from(pairs))
    i = draw(st.sampled_from(_data_rows(rows)))
    k = draw(st.integers(1, 60))
    after = draw(st.booleans())
    fa, fb = (y["end_year"] + k, y["end_year"] + k + draw(st.integers(0, 3))) if after else \
        (y["start_year"] - k - draw(st.integers(0, 3)), y["start_year"] - k)
    _set(rows, i, ja, fa)
    _set(rows, i, jb, fb)
    case.log.append(f"years {title} row {i + 1}: {fa}-{fb}")
    if _unique_header(rows, ja) and _unique_header(rows, jb):
        case.expect.append((title, i + 1, None))


def m_probabilities(draw, case):
    s = _sheet(case.grid, "scenarios")
    if s is None or not s[1] or "probability" not in s[1][0] or not _data_rows(s[1]):
        return m_numeric(draw, case)
    rows = s[1]
    j = rows[0].index("probability")
    data = _data_rows(rows)
    ps = draw(st.lists(st.floats(0, 1), min_size=len(data), max_size=len(data)))
    for i, p in zip(data, ps):
        _set(rows, i, j, p)
    case.log.append(f"probabilities {ps}")
    if abs(sum(ps) - 1) > 1e-5 and _unique_header(rows, j):
        case.expect.append(("scenarios", None, "probability"))


def m_structure(draw, case):
    kind = draw(st.sampled_from(["units", "unknown_sheet", "readme", "leading_blank"]))
    if kind == "units":
        title, rows = draw(st.sampled_from(case.grid))
        if not rows or len(rows) > 1 and rows[1] and isinstance(rows[1][0], str) and rows[1][0].startswith("#"):
            return
        rows.insert(1, ["# units", "t", "USD/t"])
        case.log.append(f"units row in {title}")
        case.valid = True
    elif kind in ("unknown_sheet", "readme"):
        name = "notes" if kind == "unknown_sheet" else "README"
        if any(s[0].lower() == name.lower() for s in case.grid):
            return
        case.grid.insert(draw(st.integers(0, len(case.grid))), [name, [["anything"], [draw(ANY_VALUE)]]])
        case.log.append(f"sheet {name} added")
        case.valid = True
    else:
        title, rows = draw(st.sampled_from(case.grid))
        rows.insert(0, [None])
        case.log.append(f"leading blank row in {title}")
        case.valid = True


# ---------------------------------------------------------------------- issue 15 classes
def _header_pos(rows) -> dict:
    return {h: j for j, h in enumerate(rows[0]) if isinstance(h, str) and _unique_header(rows, j)} if rows else {}


def m_gain_cycle(draw, case):
    """A process (or a coproduct) that closes a cycle with an existing process: with a gain it must be an error
    naming processes/input_per_output; a loss-making loop keeps a valid book valid."""
    s = _sheet(case.grid, "processes")
    if s is None or not s[1]:
        return m_tweak(draw, case)
    rows = s[1]
    pos = _header_pos(rows)
    need = ("process", "member", "output", "input", "input_per_output")
    cand = [i for i in _data_rows(rows) if all(k in pos for k in need)
            and all(isinstance(rows[i][pos[k]] if pos[k] < len(rows[i]) else None, str) for k in need[:4])
            and isinstance(rows[i][pos["input_per_output"]] if pos["input_per_output"] < len(rows[i]) else None,
                           (int, float)) and not isinstance(rows[i][pos["input_per_output"]], bool)
            and rows[i][pos["input_per_output"]] > 0 and rows[i][pos["input"]] != rows[i][pos["output"]]]
    if not cand:
        return m_tweak(draw, case)
    i = draw(st.sampled_from(cand))
    r = rows[i]
    a = float(r[pos["input_per_output"]])
    gain = draw(st.booleans())
    co = _sheet(case.grid, "coproducts")
    cpos = _header_pos(co[1]) if co is not None and co[1] else {}
    if gain and all(k in cpos for k in ("process", "commodity", "t_per_t_output")) and draw(st.booleans()):
        # the process's coproducts make more of its own input than it uses
        t = a * draw(st.sampled_from([1.5, 2, 10]))
        new = [None] * len(co[1][0])
        new[cpos["process"]], new[cpos["commodity"]], new[cpos["t_per_t_output"]] = r[pos["process"]], \
            r[pos["input"]], t
        co[1].append(new)
        case.log.append(f"coproduct {r[pos['input']]} of {r[pos['process']]} at {t:g} t/t (ipo {a:g})")
        case.expect.append(("processes", None, "input_per_output"))
        return
    b = (1 / a) * (draw(st.sampled_from([0.1, 0.5, 0.9])) if gain else draw(st.sampled_from([1.2, 2.0, 5.0])))
    new = [None] * len(rows[0])
    new[pos["process"]], new[pos["member"]] = f"zzloop{len(rows)}", r[pos["member"]]
    new[pos["output"]], new[pos["input"]], new[pos["input_per_output"]] = r[pos["input"]], r[pos["output"]], b
    if "existing_tpa" in pos:
        new[pos["existing_tpa"]] = 1
    rows.append(new)
    case.log.append(f"process {new[pos['process']]}: {r[pos['output']]} -> {r[pos['input']]} at {b:g} t/t "
                    f"(closing a loop with {r[pos['process']]} at {a:g}; {'gain' if gain else 'loss'})")
    if gain:
        case.expect.append(("processes", None, "input_per_output"))
    elif case.base in ("example", "valid") and "process" in pos and 1 / (a * b) < 0.999:
        case.valid = True


def m_percent_typo(draw, case):
    """A percentage typed into a tonnes, price or cost cell: an error at that cell (it was once read as 1 t)."""
    from planner.input.reader import percent_ok

    opts = [(title, rows, j, c) for title, rows in case.grid for j, c in _typed_columns(title, rows, (FLOAT,))
            if not percent_ok(c) and _data_rows(rows) and _unique_header(rows, j)]
    if not opts:
        return m_tweak(draw, case)
    title, rows, j, c = draw(st.sampled_from(opts))
    i = draw(st.sampled_from(_data_rows(rows)))
    v = draw(st.sampled_from(["100%", "5 %", "50%", "1%", "0.5%", "250 %"]))
    _set(rows, i, j, v)
    case.log.append(f"percent typo {title}!{c.name} row {i + 1} = {v!r}")
    case.expect.append((title, i + 1, c.name))


def m_rate_typo(draw, case):
    """discount_rate typed as a percentage (5 for 0.05): never a crash; an error at the setting when the discount
    factors then span more than 1e12 over the horizon."""
    s = _sheet(case.grid, "settings")
    if s is None or not s[1] or [str(h).strip().lower() for h in s[1][0][:2]] != ["key", "value"]:
        return m_tweak(draw, case)
    rows = s[1]
    idx = [i for i in _data_rows(rows) if rows[i] and rows[i][0] == "discount_rate"]
    if not idx:
        return m_tweak(draw, case)
    v = draw(st.sampled_from([1.5, 3, 5, 10, 50, 99]))
    _set(rows, idx[0], 1, v)
    case.log.append(f"discount_rate = {v}")
    y = {r[0]: r[1] for r in rows[1:] if len(r) > 1 and isinstance(r[0], str)}
    y0, y1, base = y.get("start_year"), y.get("end_year"), y.get("base_year", y.get("start_year"))
    if all(isinstance(x, int) and not isinstance(x, bool) for x in (y0, y1, base)) and y0 <= y1:
        import math
        ends = [-(y0 - base) * math.log10(1 + v), -(y1 - base) * math.log10(1 + v), 0.0]
        if max(ends) - min(ends) > 12.5:
            case.expect.append(("settings", idx[0] + 1, "value"))


def m_hash_row(draw, case):
    """A data row in row 2 whose first cell starts with '#' but which holds numbers: read as data, never dropped
    (at worst located errors); a text-only '#' row 2 stays a notes row."""
    title, rows = draw(st.sampled_from(case.grid))
    if not rows or not rows[0]:
        return m_tweak(draw, case)
    row = ["#" + draw(st.sampled_from(["1", "EU", " note", "#"]))] + [draw(NUMBERS) for _ in rows[0][1:]]
    if len(row) == 1:
        row.append(1)
    rows.insert(1, row)
    case.log.append(f"'#' row with numbers as row 2 of {title}")


MUTATIONS = {
    "cell": m_cell, "garbage": m_garbage, "tweak": m_tweak, "setting": m_setting_garbage, "numeric": m_numeric,
    "blank": m_blank_required, "ref": m_missing_ref, "key": m_key, "dup_row": m_duplicate_row, "rows": m_rows,
    "sheet": m_sheet, "column": m_column, "years": m_years, "probabilities": m_probabilities,
    "structure": m_structure,
    "gain_cycle": m_gain_cycle, "percent_typo": m_percent_typo, "rate_typo": m_rate_typo, "hash_row": m_hash_row,
}


@st.composite
def cases(draw, bases=("example", "valid", "small"), max_mutations=3, kinds=tuple(MUTATIONS)):
    base = draw(st.sampled_from(bases))
    grid = draw(small_books()) if base == "small" else base_grid(base)
    case = Case(base, grid)
    n = draw(st.integers(1, max_mutations))
    for _ in range(n):
        MUTATIONS[draw(st.sampled_from(kinds))](draw, case)
    if n > 1 or len(case.log) != 1:
        case.expect, case.valid = [], False
    return case


# ====================================================================== oracles
class FuzzFailure(AssertionError):
    pass


def _lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.strip()]


def _sheet_sizes(grid) -> dict:
    out = {}
    for title, rows in grid:
        k = title.strip().lower()
        out[k] = max(out.get(k, 0), len(rows))
    return out


def run_cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def check_no_crash(res, what: str):
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise FuzzFailure(f"{what}: exception {type(res.exception).__name__}: {res.exception}")
    if "Traceback" in res.output or "unexpected" in res.output:
        raise FuzzFailure(f"{what}: crash shown to the user:\n{res.output[-3000:]}")
    if res.exit_code not in (0, 1):
        raise FuzzFailure(f"{what}: exit code {res.exit_code}:\n{res.output[-2000:]}")


def error_lines(output: str, path: str) -> list[str]:
    return [ln for ln in _lines(output) if ln.startswith(path + ": ") and not ln.startswith(path + ": OK")
            and not re.match(re.escape(path) + r": \d+ error\(s\)", ln)]


def check_validate(case: Case, path: str) -> tuple[int, list[str]]:
    """Run ``planner validate`` on the written case; raise FuzzFailure if an oracle fails."""
    before = sha(path)
    res = run_cli("validate", path)
    what = f"validate [{case.describe()}]"
    check_no_crash(res, what)
    if sha(path) != before:
        raise FuzzFailure(f"{what}: the input file changed")
    lines = _lines(res.output)
    errors = error_lines(res.output, path)
    sizes = _sheet_sizes(case.grid)
    for ln in lines:
        if ln.startswith("warning: " + path + ": ") or ln.startswith(path + ": OK") or \
                re.match(re.escape(path) + r": \d+ error\(s\)", ln):
            continue
        if ln not in errors:
            raise FuzzFailure(f"{what}: output line is not a located problem: {ln!r}\n{res.output[-2000:]}")
    for ln in errors:
        m = re.match(re.escape(path) + r": sheet '([^']*)'(?:, row (\d+))?", ln)
        if not m:
            raise FuzzFailure(f"{what}: error without a sheet: {ln!r}")
        if m.group(2) is not None:
            row = int(m.group(2))
            n = sizes.get(m.group(1).strip().lower())
            if n is not None and not 1 <= row <= max(n, 1):
                raise FuzzFailure(f"{what}: row {row} is outside sheet '{m.group(1)}' ({n} rows): {ln!r}")
    if (res.exit_code == 1) != bool(errors):
        raise FuzzFailure(f"{what}: exit {res.exit_code} with {len(errors)} error line(s)\n{res.output[-2000:]}")
    for sheet, row, col in case.expect:
        want = [f"sheet '{sheet}'"] + ([f"row {row}"] if row is not None else []) + \
               ([f"column '{col}'"] if col is not None else [])
        if not any(all(w in ln for w in want) for ln in errors):
            raise FuzzFailure(f"{what}: expected an error at {', '.join(want)}; got:\n" + "\n".join(errors[:20]))
    if case.valid and res.exit_code != 0:
        raise FuzzFailure(f"{what}: a valid change was rejected:\n" + "\n".join(errors[:20]))
    return res.exit_code, errors


def check_solve(case: Case, path: str, outdir: Path, v_code: int, v_errors: list[str],
                time_limit: float = 20) -> int:
    """``planner solve`` agrees with validate, writes a full results file or nothing, never crashes."""
    before = sha(path)
    outdir.mkdir(parents=True, exist_ok=True)
    before_files = set(os.listdir(outdir))
    res = run_cli("solve", path, "-o", outdir, "--time-limit", time_limit)
    what = f"solve [{case.describe()}]"
    check_no_crash(res, what)
    if sha(path) != before:
        raise FuzzFailure(f"{what}: the input file changed")
    new = sorted(n for n in set(os.listdir(outdir)) - before_files if not n.endswith(".log"))  # the solve's log
    if any(n.endswith(".tmp.xlsx") or n.startswith(".") for n in new):
        raise FuzzFailure(f"{what}: temp file left: {new}")
    if v_code == 1:
        if res.exit_code != 1 or new:
            raise FuzzFailure(f"{what}: validate found errors but solve exited {res.exit_code} writing {new}")
        got = set(error_lines(res.output, path))
        missing = [e for e in v_errors if e not in got]
        if missing:
            raise FuzzFailure(f"{what}: solve did not report the validate errors {missing[:3]}")
    elif res.exit_code == 0:
        if len(new) != 1:
            raise FuzzFailure(f"{what}: exit 0 but wrote {new}")
        wb = openpyxl.load_workbook(outdir / new[0], read_only=True)
        names = wb.sheetnames
        wb.close()
        if "summary" not in names:
            raise FuzzFailure(f"{what}: results without a summary sheet")
    else:
        if new:
            raise FuzzFailure(f"{what}: exit 1 but wrote {new}")
        if not any(path in ln for ln in _lines(res.output)):
            raise FuzzFailure(f"{what}: exit 1 without a message naming the file:\n{res.output[-2000:]}")
    return res.exit_code


# ====================================================================== the tests
def _n(k: int) -> int:
    return max(1, int(k * SCALE))


FUZZ_SETTINGS = dict(deadline=None, database=None, derandomize=True, print_blob=True,
                     suppress_health_check=list(HealthCheck))


@settings(max_examples=_n(220), **FUZZ_SETTINGS)
@given(case=cases())
def test_validate_never_crashes_and_locates_every_problem(case, tmp_path_factory):
    path = write_grid(tmp_path_factory.mktemp("fz") / "in.xlsx", case.grid)
    check_validate(case, path)


@settings(max_examples=_n(60), **FUZZ_SETTINGS)
@given(case=cases(bases=("valid", "small"), max_mutations=1,
                  kinds=("garbage", "setting", "numeric", "blank", "ref", "dup_row", "years", "probabilities")))
def test_single_certain_mutations_are_errors_at_their_cell(case, tmp_path_factory):
    path = write_grid(tmp_path_factory.mktemp("fz") / "in.xlsx", case.grid)
    check_validate(case, path)


@settings(max_examples=_n(60), **FUZZ_SETTINGS)
@given(case=cases(bases=("example", "valid", "small"), max_mutations=1,
                  kinds=("gain_cycle", "percent_typo", "rate_typo", "hash_row")))
def test_issue15_classes_are_errors_at_their_cell(case, tmp_path_factory):
    """Net-gain cycles, percentages in tonnes/price cells, rates typed as percentages, '#' rows holding data."""
    path = write_grid(tmp_path_factory.mktemp("fz") / "in.xlsx", case.grid)
    check_validate(case, path)


SOLVE_KINDS = ("tweak", "tweak", "tweak", "tweak", "numeric", "key", "rows", "column", "structure", "dup_row", "cell",
               "blank", "gain_cycle", "percent_typo")


@settings(max_examples=_n(30), **FUZZ_SETTINGS)
@given(case=cases(bases=("small",), max_mutations=2,
                  kinds=SOLVE_KINDS))
def test_solve_agrees_with_validate_and_writes_all_or_nothing(case, tmp_path_factory):
    d = tmp_path_factory.mktemp("fs")
    path = write_grid(d / "in.xlsx", case.grid)
    code, errors = check_validate(case, path)
    check_solve(case, path, d / "out", code, errors, time_limit=20)


@settings(max_examples=_n(12), **FUZZ_SETTINGS)
@given(book=small_books())
def test_generated_small_books_are_valid_and_solve(book, tmp_path_factory):
    d = tmp_path_factory.mktemp("fg")
    case = Case("small", book, ["unchanged"], valid=True)
    path = write_grid(d / "in.xlsx", book)
    code, errors = check_validate(case, path)
    assert code == 0, errors
    assert check_solve(case, path, d / "out", code, errors) == 0


def test_the_shipped_example_is_valid_before_mutation(tmp_path):
    path = write_grid(tmp_path / "ex.xlsx", base_grid("example"))
    code, errors = check_validate(Case("example", base_grid("example"), ["unchanged"], valid=True), path)
    assert code == 0, errors


@pytest.mark.parametrize("raw", [
    Raw("n", "<v>NaN</v>"), Raw("n", "<v>" + "9" * 400 + "</v>"), Raw("n", "<v>abc</v>"), Raw("s", "<v>99999</v>"),
    Raw("d", "<v>2026-13-45</v>"), Raw("b", "<v>2</v>"), Raw("inlineStr", "<is><t>_x0001_ctl</t></is>"),
])
@pytest.mark.parametrize("sheet, column", [("demand", "demand_t"), ("settings", "value")])
def test_damaged_cells_are_located_errors(raw, sheet, column, tmp_path):
    """Cells no spreadsheet program writes (raw XML a parser chokes on): a located error, never a crash."""
    grid = base_grid("valid")
    rows = _sheet(grid, sheet)[1]
    rows[2][rows[0].index(column)] = raw
    case = Case("valid", grid, [f"{sheet} row 3 {column} = {raw!r}"], expect=[(sheet, None, None)])
    path = write_grid(tmp_path / "in.xlsx", grid)
    check_validate(case, path)
    res = run_cli("solve", path, "-o", tmp_path / "out")
    check_no_crash(res, "solve")
    assert res.exit_code == 1
