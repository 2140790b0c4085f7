"""Writing result workbooks: atomic, readable, fast, and safe against formula injection.

- The file is written to a temporary name in the target folder and renamed
  into place (``os.replace``), so no half-written file ever carries the final
  name, and an existing file stays intact until the new one is complete.
- A target that cannot be written (locked by Excel, read-only, folder not
  writable, disk full) does not lose the results: they are saved next to it
  under the next free name (``NAME-2.xlsx`` ...), else in the current
  folder, else in the system temp folder, and :class:`WrittenElsewhere`
  (a :class:`PlannerError`) says where; exit 1.
- Every text cell is written as text: a data cell holding text is a shared-string
  cell (``t="s"``), which cannot be a formula or a link whatever it says, and the
  header row and the charts go through xlsxwriter with strings_to_formulas,
  strings_to_urls and strings_to_numbers off.  A member named ``=HYPERLINK(...)``
  shows as that string, never as a formula.
- Frozen header row, autofilter, number formats by column name, widths.

How it is written (20 to 30 times faster than cell by cell through xlsxwriter:
over 200,000 table rows a second on two cores):

1. xlsxwriter builds the workbook without the data rows: each sheet's header row,
   column widths, frozen pane, autofilter over all rows, the number formats, and
   whatever the ``charts(wb)`` callback adds (it may add sheets and charts, and
   set column formats or conditional formats on a data sheet, but not write
   cells below a data sheet's header).
2. The data rows are generated column by column with numpy, without Python code
   per cell (:func:`_chunk`): a column is factorized into its distinct values;
   each distinct value is rendered once as the bytes of its cell
   (``<c r="B`` *row* ``" s="3"><v>0.25</v></c>``, NUL-padded), the rows of a
   chunk gather these, get their row numbers, and the padding is squeezed out.
   Every row and cell carries its reference (``r=``), as Excel writes them. As
   before, a sheet holds at most 1,048,575 data rows and 16,384 columns (Excel's
   limits); more are not written, and a warning says so.

   - a number: the shortest text of at most 15 significant digits that reads back
     as exactly that double (checked exactly), else its 17 correctly rounded
     digits, which always do; with the column's number format. NaN, None, pd.NA
     and NaT leave the cell empty; ±inf is the text ``inf``/``-inf``; a boolean is
     a TRUE/FALSE cell; an integer is written as the double ``float(v)`` (as
     xlsxwriter does).
   - text (and any other object, as ``str(v)``): a shared string in
     ``xl/sharedStrings.xml``, appended to xlsxwriter's own and escaped the way
     xlsxwriter escapes (``& < >``; control characters as ``_xHHHH_``), cut at
     32,767 characters.
   - a column of mixed types follows these rules value by value.
3. xlsxwriter's package is copied into the temp file with each data sheet's rows
   inserted before ``</sheetData>``, chunk by chunk (memory stays bounded). A
   helper thread does the writing and the deflate (level 1) while the next
   chunks are built (zlib releases the GIL).
"""
from __future__ import annotations

import collections
import logging
import math
import os
import re
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.utility import xl_col_to_name

from planner.common.files import commit, free_name, new_temp, remove_quietly
from planner.common.problems import PlannerError
from planner.report.xlsxw import literal_chart_names, register_format

log = logging.getLogger("planner")

SAFE = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": True}


_LOOKS_LIKE_REF = re.compile(r"^=?[^!]+!\$?[A-Z]+\$?\d+")  # xlsxwriter's test for "this name is a reference"


def chart_text(s) -> str:
    """A chart title, series or axis name as literal text, whatever it contains.

    xlsxwriter takes any name matching ``[=]...!A1`` for a cell reference, so a title built from an input
    key such as ``=cmd|' /C calc'!A0`` would become a formula (a DDE link) in the chart.  A word joiner
    (U+2060, invisible) after each ``!`` keeps such a name literal; other names are returned unchanged.
    """
    s = str(s)
    return re.sub(r"!(?=\$?[A-Z])", "!\u2060", s) if _LOOKS_LIKE_REF.match(s) else s


def _literal_chart_names(wb) -> None:
    """Every chart of ``wb`` takes string names (titles, series, axes) as text; references are given as
    lists ``[sheet, row, col]`` in this code base, and those are unaffected."""
    add_chart = wb.add_chart

    def safe_add_chart(options):
        chart = add_chart(options)
        literal_chart_names(chart, chart_text)
        return chart

    wb.add_chart = safe_add_chart


def number_format(col: str) -> str | None:
    c = col.lower()
    if c.endswith("_musd") or c == "value_musd" or c.startswith("objective"):
        return "#,##0.000"
    if c.endswith("_usd_per_t") or c.endswith("_usd"):
        return "#,##0"
    if c.endswith("_t") or c.endswith("_tpa"):
        return "#,##0.0"
    if "share" in c or c.endswith("_pct"):
        return "0.0%"
    return None


def check_target(out: Path, inputs=()) -> None:
    real = os.path.realpath(out)
    for p in inputs:
        if os.path.realpath(p) == real:
            raise PlannerError(f"refusing to write results over the input workbook {p}")
    if out.suffix.lower() != ".xlsx":
        raise PlannerError(f"results file must end in .xlsx (got {out})")


class WrittenElsewhere(PlannerError):
    """The target could not be written; the workbook was saved at ``saved_to`` instead."""

    def __init__(self, message: str, target: Path, saved_to: Path):
        super().__init__(message)
        self.target, self.saved_to = target, saved_to

    def __reduce__(self):  # picklable: parallel solves send it back from worker processes
        return (type(self), (str(self), self.target, self.saved_to))


class _CannotWrite(Exception):
    def __init__(self, reason: str, tmp: str | None = None):
        super().__init__(reason)
        self.reason, self.tmp = reason, tmp


def _reason(e: BaseException) -> str:
    if isinstance(e, FileCreateError) and e.args and isinstance(e.args[0], BaseException):
        e = e.args[0]
    if isinstance(e, PermissionError):
        return "permission denied (is it open in Excel, or the file or folder read-only?)"
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e)


def write_workbook(path, sheets: dict[str, pd.DataFrame], first: str | None = None, charts=None,
                   inputs=(), front=None) -> Path:
    """Write ``sheets`` (name -> DataFrame; a 'key'/'value' frame is fine) atomically to ``path``.

    ``front(wb)``, if given, adds a sheet written through xlsxwriter before the data sheets (so it comes
    first: the results' front sheet, planner.report.formats).  Every sheet gets a print setup
    (:func:`print_setup`).

    If ``path`` cannot be written, the workbook is saved elsewhere (see the module docstring) and
    :class:`WrittenElsewhere` is raised naming both places; :class:`PlannerError` if nowhere worked.
    """
    path = Path(path)
    check_target(path, inputs)
    try:
        return _write_whole(path, sheets, charts, front)
    except _CannotWrite as e:
        failed = e
    alt = None
    if failed.tmp is not None:  # complete in the target folder; only the rename failed (target locked)
        try:
            alt = commit(failed.tmp, free_name(path))
        except OSError:
            _cleanup(failed.tmp)
            alt = None
    if alt is None:
        for folder in _fallback_folders(path):
            try:
                alt = _write_whole(free_name(folder / path.name), sheets, charts, front)
                break
            except _CannotWrite:
                alt = None
    if alt is None:
        raise PlannerError(f"cannot write {path}: {failed.reason}; no other folder was writable either, so "
                           "nothing was saved")
    raise WrittenElsewhere(f"cannot write {path}: {failed.reason}; the results were saved to {alt} instead",
                           path, alt)


def _write_whole(path: Path, sheets, charts, front) -> Path:
    """:func:`_write_atomic`; if the charts or the front sheet fail (a reporting error, e.g. text that cannot be
    encoded), the tables are written without them and a warning says so: results are never lost to a chart."""
    try:
        return _write_atomic(path, sheets, charts, front)
    except (_CannotWrite, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 - any failure of the decoration, not of the data
        if not (charts or front):
            raise
        log.warning("warning: %s: the charts and front sheet could not be written (%s: %s); the results tables are "
                    "written without them", path, type(e).__name__, " ".join(str(e).split())[:160])
        return _write_atomic(path, sheets, None, None)


def _fallback_folders(path: Path) -> list[Path]:
    out = []
    for f in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            if f.resolve() != path.parent.resolve() and f not in out:
                out.append(f)
        except OSError:
            continue
    return out


def _write_atomic(path: Path, sheets, charts, front=None) -> Path:
    try:
        tmp = new_temp(path)
    except OSError as e:
        raise _CannotWrite(_reason(e)) from e
    try:
        wb = xlsxwriter.Workbook(tmp, {**SAFE, "in_memory": True})
        _literal_chart_names(wb)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "top"})
        fmts = {}
        texts = _Texts()
        if front:
            front(wb)
        tables = [_prepare(wb, wb.add_worksheet(name[:31]), df, head, fmts, texts) for name, df in sheets.items()]
        if charts:
            charts(wb)
        for ws in wb.worksheets():
            if not getattr(ws, "_planner_print", False):
                print_setup(ws)
        wb.close()  # the package without the data rows
        _add_rows(tmp, wb, tables, texts)
    except (OSError, FileCreateError) as e:  # disk full, quota, folder removed ...
        _cleanup(tmp)
        raise _CannotWrite(_reason(e)) from e
    except BaseException:  # a bug or Ctrl-C: no partial file stays behind
        _cleanup(tmp)
        raise
    try:
        path = commit(tmp, path)  # a name chosen free is claimed exclusively (common/files.py)
    except OSError as e:  # the target is locked (open in Excel) or read-only, or a folder
        raise _CannotWrite(_reason(e), tmp) from e
    except BaseException:
        _cleanup(tmp)
        raise
    return path


_cleanup = remove_quietly


# ====================================================================== the data rows
_ROWS_MAX = 1_048_575      # data rows under the header row (Excel: 1,048,576 rows)
_COLS_MAX = 16_384
_TEXT_MAX = 32_767         # UTF-16 units in a cell: xlsxwriter cuts longer text there
_CHUNK_BYTES = 16 << 20    # the byte matrix of one chunk of rows (a fifth of it NUL padding, typically)
_NUMBER = object()         # placeholder key of a number in a column's distinct values


def _missing(v) -> bool:
    """None, NaN, pd.NA, NaT (pandas' missing values): the cell stays empty."""
    try:
        return pd.api.types.is_scalar(v) and bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _cell(v):
    """One value as its cell: None (empty), ("b", bool), ("n", float) or ("s", str); ±inf is the text "inf"/"-inf"."""
    if _missing(v):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "b", bool(v)
    if _is_number(v):
        x = float(v)
        return ("n", x) if math.isfinite(x) else ("s", "inf" if x > 0 else "-inf")
    return "s", str(v)


def _text_width(values, w: int) -> int:
    """The column width: the header's, widened to the text (not numbers) among the first 200 values."""
    for v in values[:200]:
        if isinstance(v, str) or not (_missing(v) or _is_number(v) or isinstance(v, (bool, np.bool_))):
            w = max(w, min(len(str(v)) + 2, 60))
    return w


# ---------------------------------------------------------------------- text: shared strings
_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def _cut(s: str) -> str:
    """xlsxwriter's limit: at most 32,767 UTF-16 units (a character above U+FFFF counts 2, never split)."""
    if len(s) <= _TEXT_MAX // 2:
        return s
    n = 0
    for i, ch in enumerate(s):
        n += 2 if ord(ch) > 0xFFFF else 1
        if n > _TEXT_MAX:
            return s[:i]
    return s


_SURROGATE = re.compile("[\ud800-\udfff]")


def _si_text(s: str) -> bytes:
    """The ``<t>`` element of a shared string, escaped exactly as xlsxwriter escapes one (sharedstrings.py), except
    that text shaped like ``<r>...</r>`` is escaped too (xlsxwriter would take it for rich-text XML)."""
    s = _ESCAPED.sub(r"_x005F\1", s)  # a literal _xHHHH_ is kept by escaping its underscore
    s = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", s)
    s = s.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    s = _SURROGATE.sub("\ufffd", s)  # a file name that is not UTF-8 (Python's surrogate escapes): shown as U+FFFD
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(s) else ""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{s}</t>".encode()


class _Texts:
    """The text of the data cells, as shared strings appended to xlsxwriter's own (the header row's, the charts')."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.cells = 0       # data cells that refer to a shared string
        self.index = None    # id -> index in xl/sharedStrings.xml, once merged

    def add(self, s: str) -> int:
        return self.ids.setdefault(_cut(s), len(self.ids))

    def merge(self, sst: bytes | None) -> bytes | None:
        """xlsxwriter's ``xl/sharedStrings.xml`` with these strings appended (a string it holds already is reused)."""
        if not self.ids:
            return sst
        if sst is None:  # cannot happen: a sheet with data has a header row, which is text
            raise RuntimeError("results workbook: data text but no shared strings part")
        start = re.search(rb"<sst\b[^>]*>", sst)
        end = sst.rindex(b"</sst>")
        tag = start.group(0)
        count = int(re.search(rb'\bcount="(\d+)"', tag).group(1))
        unique = int(re.search(rb'\buniqueCount="(\d+)"', tag).group(1))
        body = sst[start.end():end]
        known = {}
        for i, inner in enumerate(re.findall(rb"<si>(.*?)</si>", body, re.S)):
            known.setdefault(inner, i)
        added = []
        index = np.empty(len(self.ids), np.int64)
        for s, i in self.ids.items():
            inner = _si_text(s)
            k = known.get(inner)
            if k is None:
                k = known[inner] = unique + len(added)
                added.append(inner)
            index[i] = k
        self.index = index
        tag = re.sub(rb'\bcount="\d+"', b'count="%d"' % (count + self.cells), tag)
        tag = re.sub(rb'\buniqueCount="\d+"', b'uniqueCount="%d"' % (unique + len(added)), tag)
        return b"".join([sst[:start.start()], tag, body, *(b"<si>" + a + b"</si>" for a in added), sst[end:]])


# ---------------------------------------------------------------------- numbers as text, vectorised
_TEN = 10.0 ** np.arange(23)                        # exact doubles
_TEN_INT = 10 ** np.arange(19, dtype=np.int64)
_K = 300                                            # 10**k for |k| <= _K in double-double
_REGULAR = (1e-280, 1e280)                          # magnitudes formatted here; others by repr()
_0 = np.uint8(ord("0"))
_NUM_WIDTH = 59  # sign, "0." and 3 zeros, 17 digits with a '.' slot between each two, 15 zeros, "E+ddd"


@lru_cache(maxsize=1)
def _pow10():
    """10**k (k = -_K.._K) as double-double hi + lo, hi the nearest double."""
    hi, lo = np.empty(2 * _K + 1), np.empty(2 * _K + 1)
    for i, k in enumerate(range(-_K, _K + 1)):
        v = Fraction(10) ** k
        hi[i] = float(v)
        lo[i] = float(v - Fraction(hi[i]))
    return hi, lo


def _two_product(a, b):
    """a*b = p + err exactly (Dekker), for float64 arrays."""
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _decimal(x):
    """Positive doubles x (within _REGULAR) as M * 10**-K, M an int64 of 15 to 17 digits (trailing zeros kept).

    15 significant digits M = rint(x * 10**K) when M / 10**K == x: M and 10**K are exact doubles, so that division
    is correctly rounded, as a correct reader rounds the decimal, and the text reads back as x. Otherwise the 17
    correctly rounded digits (x * 10**K in double-double), which always read back as x.
    """
    hi, lo = _pow10()
    k = 16 - np.floor(np.log10(x)).astype(np.int64)
    for _ in range(3):
        p, err = _two_product(x, hi[k + _K])
        m = p.astype(np.int64) + np.rint(err + x * lo[k + _K]).astype(np.int64)
        low, high = m < _TEN_INT[16], m >= _TEN_INT[17]
        if not (low.any() or high.any()):
            break
        k = k + low - high  # log10 was off by one next to a power of ten
    else:
        raise AssertionError("17-digit decimal out of range")
    k15 = k - 2
    p = _TEN[np.minimum(np.abs(k15), 22)]
    up = k15 >= 0
    r = np.rint(np.where(up, x * p, x / p))
    ok = (np.abs(k15) <= 22) & (np.where(up, r / p, r * p) == x)
    return np.where(ok, np.where(ok, r, 0).astype(np.int64), m), np.where(ok, k15, k)


def _digits17(M) -> np.ndarray:
    """Non-negative int64 values below 10**17 as their 17 decimal digits (0-9), right-aligned."""
    out = np.empty((len(M), 17), np.uint8)
    top = M // 100_000_000
    ten = np.uint32(10)
    for part, first, end in ((top.astype(np.uint32), 0, 9), ((M - top * 100_000_000).astype(np.uint32), 9, 17)):
        for i in range(end - 1, first - 1, -1):  # in uint32, as division by 10 is fast there
            q = part // ten
            out[:, i] = part - q * ten
            part = q
    return out


def _numbers_text(x) -> np.ndarray:
    """Finite doubles as the text of ``<v>``: rows of a (len(x), 59) uint8 matrix, NUL where nothing is written
    (only the order of the other bytes matters: the NULs are squeezed out).

    Positional for exponents -4..15 ("2030", "0.25", "0.00012", "1234.5678"), else "1.5E-7", "1E+16" (as Python's
    repr, with xlsxwriter's capital E); an integral value below 1e16 has no decimal point, so it reads back as an
    integer (openpyxl). Reads back bit-exactly.
    """
    out = np.zeros((len(x), _NUM_WIDTH), np.uint8)
    ax = np.abs(x)
    zero = ax == 0
    out[zero, 38] = ord("0")
    odd = ~zero & ((ax < _REGULAR[0]) | (ax > _REGULAR[1]))
    for i in np.flatnonzero(odd):  # subnormal or near overflow: rare
        b = repr(float(x[i])).upper().encode()
        out[i, :len(b)] = np.frombuffer(b, np.uint8)
    reg = None if not (zero.any() or odd.any()) else np.flatnonzero(~zero & ~odd)
    if reg is not None and not len(reg):
        return out
    xr = x if reg is None else x[reg]
    M, K = _decimal(np.abs(xr))
    o = out if reg is None else np.zeros((len(xr), _NUM_WIDTH), np.uint8)
    d = _digits17(M)
    nz = d != 0
    first = nz.argmax(axis=1)                       # index of the first digit
    trail = nz[:, ::-1].argmax(axis=1)              # trailing zeros of M
    E = 16 - first - K                              # exponent of the first digit
    sci = (E < -4) | (E >= 16)
    small = ~sci & (E < 0)
    big = ~sci & (E >= 0)
    cut = np.where(big, np.minimum(trail, np.maximum(K, 0)), trail)  # trailing zeros not written
    col = np.arange(17)[None, :]
    d += _0
    d *= (col >= first[:, None]) & (col < (17 - cut)[:, None])  # no leading zeros, nor trailing ones after a point
    o[:, 0] = (xr < 0) * np.uint8(ord("-"))
    o[:, 6:39:2] = d
    point = np.flatnonzero(np.where(big, K > cut, sci & (16 - first - cut > 0)))
    o[point, 7 + 2 * np.where(big, 16 - K, first)[point]] = ord(".")
    if small.any():  # 0.0012
        i = np.flatnonzero(small)
        o[i, 1], o[i, 2] = ord("0"), ord(".")
        o[i, 3:6] = (np.arange(3)[None, :] < (-E[i] - 1)[:, None]) * _0
    if (big & (K < 0)).any():  # integral with zeros after M: 2030, 1000000000000000
        i = np.flatnonzero(big & (K < 0))
        o[i, 39:54] = (np.arange(15)[None, :] < -K[i, None]) * _0
    if sci.any():
        a = np.abs(E[sci])
        e = o[sci, 54:59]
        e[:, 0] = ord("E")
        e[:, 1] = np.where(E[sci] < 0, ord("-"), ord("+"))
        e[:, 2] = np.where(a >= 100, a // 100 % 10 + ord("0"), 0)
        e[:, 3] = np.where(a >= 10, a // 10 % 10 + ord("0"), 0)
        e[:, 4] = a % 10 + ord("0")
        o[sci, 54:59] = e
    if reg is not None:
        out[reg] = o
    return out


# ---------------------------------------------------------------------- columns
def _padded(items: list[bytes]) -> np.ndarray:
    """Byte strings as the NUL-padded rows of a uint8 matrix."""
    w = max(map(len, items), default=0)
    if not items or not w:
        return np.zeros((len(items), w), np.uint8)
    return np.array(items, dtype=f"S{w}").view(np.uint8).reshape(len(items), w)


class _Style:
    """The ``s="..."`` attributes of a column's cells: a number takes its own number format, else the column's
    format (set by a charts callback, as xlsxwriter would apply it); text and booleans the column's format."""

    def __init__(self, number: bytes, other: bytes):
        self.number, self.other = number, other


def _nonempty(m: np.ndarray) -> np.ndarray:
    return m[:, m.any(axis=0)] if len(m) else m[:, :0]


def _table(prefix: bytes, digits: int, keys: list, numbers: np.ndarray, style: _Style, texts: _Texts):
    """A column's distinct cells, one NUL-padded row each plus an empty last row (code -1: no cell), and where in
    a row its number goes (marked 0xFF): ``<c r="B`` *row* ``" s="3"><v>1.5</v></c>`` ...

    ``keys``: ("s", text id), ("b", bool) or _NUMBER, the numbers in that order in ``numbers``.
    """
    u, p = len(keys), len(prefix)
    before, after = b'"' + style.number + b"><v>", b"</v></c>"
    nums = _nonempty(_numbers_text(numbers))
    w = len(before) + nums.shape[1] + len(after) if len(numbers) else 0
    other = []
    if len(numbers) < u:
        for key in keys:
            if key is not _NUMBER:
                kind, v = key
                t, v = (b"s", texts.index[v]) if kind == "s" else (b"b", v)
                other.append(b'"%s t="%s"><v>%d</v></c>' % (style.other, t, v))
        other = _padded(other)
        w = max(w, other.shape[1])
    t = np.zeros((u + 1, p + digits + w), np.uint8)
    t[:u, :p] = np.frombuffer(prefix, np.uint8)
    t[:u, p:p + digits] = 0xFF
    is_num = slice(0, u) if len(numbers) == u else np.array([key is _NUMBER for key in keys] + [False])
    at = p + digits
    if len(numbers):
        for block in (np.frombuffer(before, np.uint8), nums, np.frombuffer(after, np.uint8)):
            t[is_num, at:at + block.shape[-1]] = block
            at += block.shape[-1]
    if len(other):
        t[np.flatnonzero(~is_num[:u]), p + digits:p + digits + other.shape[1]] = other
    return t, p


class _Coded:
    """A column as codes (-1: empty) into its distinct values; text ids are registered in advance."""

    def __init__(self, codes: np.ndarray, keys: list, numbers=()):
        self.codes, self.keys = codes, keys
        self.numbers = np.asarray(numbers, np.float64)

    def bound(self) -> int:
        return len(self.keys) and 64 + _NUM_WIDTH

    def table(self, prefix, digits, style, texts):
        self._t = _table(prefix, digits, self.keys, self.numbers, style, texts)

    def cells(self, a: int, b: int):
        return self.codes[a:b], *self._t


class _Numbers:
    """A numeric column (ints become doubles): formatted chunk by chunk, distinct values once per chunk."""

    def __init__(self, x: np.ndarray, texts: _Texts):
        self.x = x
        inf = np.isinf(x)
        self.inf = {}
        if inf.any():
            for v, name in ((np.inf, "inf"), (-np.inf, "-inf")):
                if (x == v).any():
                    self.inf[v] = ("s", texts.add(name))
            texts.cells += int(inf.sum())

    def bound(self) -> int:
        return 64 + _NUM_WIDTH

    def table(self, prefix, digits, style, texts):
        self._args = prefix, digits, style, texts

    def cells(self, a: int, b: int):
        prefix, digits, style, texts = self._args
        codes, uniq = pd.factorize(self.x[a:b])
        keys = [self.inf.get(v, _NUMBER) for v in uniq.tolist()] if self.inf else [_NUMBER] * len(uniq)
        finite = uniq[np.isfinite(uniq)] if self.inf else uniq
        return codes, *_table(prefix, digits, keys, finite, style, texts)


def _column(s: pd.Series, texts: _Texts):
    """The plan of one column's data cells."""
    dt = s.dtype
    n = len(s)
    if dt.kind in "iuf":  # numpy and nullable ints and floats
        return _Numbers(s.to_numpy(dtype=np.float64, na_value=np.nan), texts)
    if dt == np.bool_:
        return _Coded(s.to_numpy().astype(np.int64), [("b", False), ("b", True)])
    arr = s.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind == "empty":
        return _Coded(np.full(n, -1, np.int64), [])
    if kind == "string":
        codes, uniq = pd.factorize(arr)
        texts.cells += int((codes >= 0).sum())
        return _Coded(codes.astype(np.int64, copy=False), [("s", texts.add(str(v))) for v in uniq])
    missing = pd.isna(arr)
    if kind in ("integer", "floating", "mixed-integer-float"):
        x = np.where(missing, 0.0, arr).astype(np.float64)
        x[missing] = np.nan
        return _Numbers(x, texts)
    if kind == "boolean":
        codes = np.where(missing, False, arr).astype(bool).astype(np.int64)
        codes[missing] = -1
        return _Coded(codes, [("b", False), ("b", True)])
    # anything else (mixed types, dates, decimals ...): value by value, the same rules
    ids: dict = {}
    codes = np.empty(n, np.int64)
    for i, v in enumerate(arr):
        c = _cell(v)
        codes[i] = -1 if c is None else ids.setdefault(c, len(ids))
    keys, numbers = [], []
    for kind_, v in ids:
        if kind_ == "n":
            keys.append(_NUMBER)
            numbers.append(v)
        elif kind_ == "s":
            keys.append(("s", texts.add(v)))
        else:
            keys.append(("b", int(v)))
    is_text = np.array([k is not _NUMBER and k[0] == "s" for k in keys] + [False])
    texts.cells += int(is_text[codes].sum())
    return _Coded(codes, keys, numbers)


class _Table:
    """One data sheet: xlsxwriter has its header row; these are its data rows."""

    def __init__(self, ws, rows: int, columns: list, heights: dict | None = None):
        self.ws, self.rows, self.columns = ws, rows, columns  # columns: (plan, own number format or None)
        self.heights = heights or {}  # data row -> height in points (rows of wrapped text)


def _prepare(wb, ws, df: pd.DataFrame, head, fmts: dict, texts: _Texts) -> _Table:
    """Header row, widths, frozen pane and autofilter through xlsxwriter; the plan of the data cells."""
    k = min(df.shape[1], _COLS_MAX)
    n = min(len(df), _ROWS_MAX)
    if (k, n) != (df.shape[1], len(df)):
        log.warning("sheet '%s' has %s rows x %s columns, more than an xlsx sheet holds (%s data rows, %s "
                    "columns): only the first %s rows x %s columns are written", ws.name, f"{len(df):,}",
                    f"{df.shape[1]:,}", f"{_ROWS_MAX:,}", f"{_COLS_MAX:,}", f"{n:,}", f"{k:,}")
    columns = []
    widths = []
    wrapped = []  # text columns holding text longer than the widest column: wrapped, so it prints on the page
    for j in range(k):
        c = str(df.columns[j])
        ws.write_string(0, j, c, head)
        nf = number_format(c)
        if nf and nf not in fmts:
            fmts[nf] = wb.add_format({"num_format": nf})
            register_format(fmts[nf])  # in the styles although no cell is written through xlsxwriter
        s = df.iloc[:, j]
        s = s.iloc[:n] if n < len(s) else s
        w = min(max(len(c) + 2, 8), 60)
        if s.dtype.kind not in "iufb":
            head200 = s.iloc[:200].to_numpy(dtype=object)
            w = _text_width(head200, w)
            if any(isinstance(v, str) and len(v) > 58 for v in head200):
                wrapped.append(j)
        widths.append(w)
        columns.append((_column(s, texts), fmts.get(nf) if nf else None))
    for j, w in enumerate(widths):
        if j in wrapped:
            if "wrap" not in fmts:
                fmts["wrap"] = wb.add_format({"text_wrap": True, "valign": "top"})
            ws.set_column(j, j, w, fmts["wrap"])
        elif wrapped:  # the other cells of a row of wrapped text start at its top too
            if "top" not in fmts:
                fmts["top"] = wb.add_format({"valign": "top"})
            ws.set_column(j, j, w, fmts["top"])
        else:
            ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    print_setup(ws, sum(widths), header=bool(k))
    if n and k:
        ws.autofilter(0, 0, n, k - 1)
    return _Table(ws, n if k else 0, columns, _wrapped_heights(df, n, wrapped, widths))


def _wrapped_heights(df: pd.DataFrame, n: int, wrapped: list, widths: list) -> dict:
    """Row heights (points) for the rows whose wrapped text needs more than one line: spreadsheets do not grow
    a row on opening a file, so without them the lines would print over the next rows.  Only for tables of
    up to 100,000 rows (the summary, sources and glossary sheets, in practice)."""
    heights: dict = {}
    if not wrapped or n > 100_000:
        return heights
    for j in wrapped:
        txt = df.iloc[:n, j].map(lambda v: v if isinstance(v, str) else "")
        lines = np.ceil(txt.str.len().to_numpy(dtype=float) / max(widths[j] - 2, 1)) + \
            txt.str.count("\n").to_numpy(dtype=float)
        for i in np.flatnonzero(lines > 1):
            heights[int(i)] = max(heights.get(int(i), 0.0), 15.0 * min(float(lines[i]), 27.0))  # 409 pt at most
    return heights


def _with_heights(chunk, a: int, b: int, heights: dict):
    """The chunk of rows a..b-1 with the heights of its rows of wrapped text (``ht``, ``customHeight``)."""
    todo = [(i, h) for i, h in heights.items() if a <= i < b]
    if not todo:
        return chunk
    data = bytes(chunk)
    for i, h in todo:
        data = data.replace(b'<row r="%d">' % (i + 2), b'<row r="%d" ht="%g" customHeight="1">' % (i + 2, h), 1)
    return data


PORTRAIT_WIDTH = 130  # characters of column width that print legibly across portrait A4 (scaled to ~75 %)


def print_setup(ws, width: float | None = None, header: bool = True) -> None:
    """A4, one page wide (as many pages down as needed), landscape when wider than ``PORTRAIT_WIDTH``
    characters (or of unknown width), the header row repeated on every page, sheet name and page number in
    the footer."""
    ws._planner_print = True
    ws.set_paper(9)
    if width is None or width > PORTRAIT_WIDTH:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if header:
        ws.repeat_rows(0)
    ws.set_footer("&L&A&Rpage &P of &N")


# ---------------------------------------------------------------------- rows
def _row_digits(first: int, m: int, digits: int) -> np.ndarray:
    """Row numbers first .. first+m-1 as (m, digits) ASCII, NUL for leading zeros."""
    r = np.arange(first, first + m, dtype=np.int64)
    out = np.empty((m, digits), np.uint8)
    for i in range(digits):
        p = _TEN_INT[digits - 1 - i]
        out[:, i] = np.where(r >= p, r // p % 10 + ord("0"), 0)
    return out


_ROW_OPEN, _ROW_END, _ROW_CLOSE = (np.frombuffer(b, np.uint8) for b in (b'<row r="', b'">', b"</row>"))


class _Scratch:
    """Byte matrix and mask reused from chunk to chunk (fresh large arrays cost page faults)."""

    def __init__(self):
        self.buf = np.empty(0, np.uint8)
        self.mask = np.empty(0, bool)

    def get(self, m: int, w: int):
        if self.buf.size < m * w:
            self.buf = np.empty(m * w, np.uint8)
            self.mask = np.empty(m * w, bool)
        return self.buf[:m * w].reshape(m, w), self.mask[:m * w]


def _chunk(columns, a: int, b: int, digits: int, scratch: _Scratch) -> memoryview:
    """The ``<row>`` elements of data rows a..b-1 (0-based; Excel rows a+2 ..)."""
    m = b - a
    parts = [c.cells(a, b) for c in columns]
    rd = _row_digits(a + 2, m, digits)
    o = len(_ROW_OPEN)
    buf, mask = scratch.get(m, o + digits + 2 + sum(t.shape[1] for _, t, _ in parts) + len(_ROW_CLOSE))
    buf[:, :o] = _ROW_OPEN
    buf[:, o:o + digits] = rd
    buf[:, o + digits:o + digits + 2] = _ROW_END
    at = o + digits + 2
    for codes, t, ro in parts:
        w = t.shape[1]
        if not w:  # no distinct value: every cell of the column empty
            continue
        rows = np.take(t.view(f"V{w}").ravel(), codes)  # code -1: the table's last row, all NUL (no cell)
        buf[:, at:at + w] = rows.view(np.uint8).reshape(m, w)
        buf[:, at + ro:at + ro + digits] &= rd
        at += w
    buf[:, at:] = _ROW_CLOSE
    flat = buf.reshape(-1)
    np.not_equal(flat, 0, out=mask)
    return memoryview(flat[mask])


_COL = re.compile(rb"<col\b([^>]*)/>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def _column_styles(xml: bytes) -> dict[int, int]:
    """Column -> xf index of the column formats in a sheet's ``<cols>`` (0-based columns)."""
    out = {}
    for m in _COL.finditer(xml):
        a = dict(_ATTR.findall(m.group(1)))
        if b"style" in a:
            for j in range(int(a[b"min"]) - 1, int(a[b"max"])):
                out[j] = int(a[b"style"])
    return out


def _split_sheet(xml: bytes, table: _Table, name: str) -> tuple[bytes, bytes]:
    """A sheet's XML before and after where its data rows go; the dimension made the full range."""
    at = xml.find(b"</sheetData>")
    start = xml.find(b"<sheetData")
    if at < 0 or start < 0:
        raise RuntimeError(f"results sheet {name!r}: no header row to add the data rows to")
    if set(re.findall(rb'<row r="(\d+)"', xml[start:at])) - {b"1"}:
        raise RuntimeError(f"results sheet {name!r}: cells were written below the header through xlsxwriter")
    k = len(table.columns)
    ref = b'<dimension ref="A1:%s%d"/>' % (xl_col_to_name(k - 1).encode(), table.rows + 1)
    return re.sub(rb'<dimension ref="[^"]*"/>', ref, xml[:at], count=1), xml[at:]


class _Behind:
    """One helper thread that does the package's writing, in order: deflate and crc32 release the GIL, so
    compressing and writing a chunk overlaps with building the next ones (at most ``depth`` wait)."""

    def __init__(self, depth: int = 2):
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="xlsio")
        self.jobs = collections.deque()
        self.depth = depth

    def do(self, fn, *args):
        while len(self.jobs) >= self.depth:
            self.jobs.popleft().result()  # raises the helper's error, if any
        self.jobs.append(self.pool.submit(fn, *args))

    def finish(self):
        while self.jobs:
            self.jobs.popleft().result()

    def close(self):
        """Wait for the helper (after an error elsewhere: its own errors are not raised)."""
        self.pool.shutdown(wait=True)


def _add_rows(tmp: str, wb, tables: list[_Table], texts: _Texts) -> None:
    """Rewrite the package xlsxwriter wrote to ``tmp``: data rows into the sheets, their text into the shared
    strings."""
    with zipfile.ZipFile(tmp) as z:
        parts = [(i.filename, z.read(i)) for i in z.infolist()]
    worksheets = [w for w in wb.worksheets() if not w.is_chartsheet]  # numbered as xlsxwriter's packager does
    part = {id(w): f"xl/worksheets/sheet{i}.xml" for i, w in enumerate(worksheets, 1)}
    todo = {part[id(t.ws)]: t for t in tables if t.rows}
    merged = texts.merge(dict(parts).get("xl/sharedStrings.xml"))
    with open(tmp, "wb") as fp, zipfile.ZipFile(fp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        behind = _Behind()
        entry = []  # the sheet part being written, in the helper thread
        try:
            for name, data in parts:
                if name == "xl/sharedStrings.xml":
                    data = merged
                if name in todo:
                    _write_sheet(zf, behind, entry, name, data, todo[name], texts)
                else:
                    behind.do(zf.writestr, name, data)
            behind.finish()
        finally:
            behind.close()
            for w in entry:  # stopped by an error: let the zip file close
                try:
                    w.close()
                except OSError:
                    pass


def _write_sheet(zf, behind: _Behind, entry: list, name: str, xml: bytes, table: _Table, texts: _Texts) -> None:
    """Queue a sheet part: its XML with the data rows inserted, built chunk by chunk here, written by ``behind``."""
    head, tail = _split_sheet(xml, table, table.ws.name)
    styles = _column_styles(head)
    digits = len(str(table.rows + 1))
    columns = []
    for j, (col, fmt) in enumerate(table.columns):
        own = fmt.xf_index if fmt is not None else styles.get(j)
        style = _Style(b"" if own is None else b' s="%d"' % own,
                       b"" if j not in styles else b' s="%d"' % styles[j])
        col.table(b'<c r="' + xl_col_to_name(j).encode(), digits, style, texts)
        columns.append(col)
    width = 16 + digits + sum(c.bound() + digits for c, _ in table.columns)  # bytes a row, at most
    step = max(256, min(65536, _CHUNK_BYTES // width))

    def start():
        entry.append(zf.open(name, "w", force_zip64=table.rows * width > 1 << 31))
        entry[0].write(head)

    def end():
        entry[0].write(tail)
        entry.pop().close()

    behind.do(start)
    scratch = _Scratch()
    for a in range(0, table.rows, step):
        rows = _chunk(columns, a, min(a + step, table.rows), digits, scratch)
        if table.heights:
            rows = _with_heights(rows, a, min(a + step, table.rows), table.heights)
        behind.do(lambda chunk: entry[0].write(chunk), rows)
    behind.do(end)
