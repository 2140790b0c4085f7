"""Workbook → typed tables (no Pyomo here).

``read_workbook(path)`` returns :class:`InputData`: the settings as a typed
dict and one pandas DataFrame per schema sheet with exactly the declared
columns (typed, defaults filled) plus ``_row``, the spreadsheet row number of
each record.  Problems (type errors, blanks in required cells, ranges,
unknown sheets and columns) are collected in ``InputData.problems``; the
cross-sheet rules live in :mod:`planner.input.validate`.  ``planner.input.load.load(path)``
does both and raises :class:`InputError` with every problem at once.

What real analyst files contain and how it is read:
- an optional units/notes row 2 whose first cell starts with ``#``;
- blank rows (skipped) and trailing empty columns (ignored);
- numbers stored as text (``"1,200"``, ``" 5 "``, ``"5%"``);
- booleans TRUE/FALSE in any case, yes/no, y/n, 1/0;
- formulas: their cached values (as Excel saved them);
- Excel error values (#N/A, #REF!, ...): an error naming the cell;
- dates typed into year columns: their year;
- stray spaces around keys, headers and sheet names; headers in another case
  (accepted with a warning);
- unknown sheets and columns: a warning.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import math
import os
import re
import stat
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.common.problems import PlannerError, ProblemList
from planner.common.switch import Switch
from planner.input.schema import (
    BOOL,
    CHOICE,
    FLOAT,
    INT,
    KEY,
    SETTING_BY_NAME,
    SETTINGS,
    SHEET_BY_NAME,
    SHEETS,
    TEXT,
    YEAR,
    Column,
    FromSetting,
    Sheet,
)

EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA",
                "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#CONNECT!", "#BUSY!"}
TRUE_WORDS = {"true", "yes", "y", "1", "1.0", "wahr", "vrai"}
FALSE_WORDS = {"false", "no", "n", "0", "0.0", "falsch", "faux"}
MAX_ROWS = 1_048_576          # Excel's own limit: a row beyond it means a damaged or hostile file
MAX_COLS = 200                # columns read per sheet (the widest sheet has 17; notes columns beyond 200 are ignored)
MAX_XML_BYTES = 64 * 2**20    # uncompressed size of all parts: ~400,000 rows of 4 columns (docs/reliability.md)
BOMB_RATIO = 500              # compression ratio no spreadsheet reaches (real ones: 5-20)
RESULTS_MAX_XML_BYTES = 2 * 2**30  # results workbooks read back (compare, stress --plan, plot); L's: 113 MB


@dataclass
class InputData:
    path: str
    sha256: str
    settings: dict
    tables: dict[str, pd.DataFrame]
    problems: ProblemList
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings_rows: dict = field(default_factory=dict)  # setting key -> spreadsheet row
    settings_raw: dict = field(default_factory=dict)   # setting key -> value as typed in the sheet
    setting_defaults: dict = field(default_factory=dict)  # (sheet, column) -> mask of cells defaulted from settings
    present: set = field(default_factory=set)          # sheets present in the file

    damaged: bool = False                              # a sheet could not be read: cross-sheet rules are skipped

    @property
    def years(self) -> list[int]:
        return list(range(self.settings["start_year"], self.settings["end_year"] + 1))

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


# ------------------------------------------------------------------ cells
class CellError(ValueError):
    pass


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and math.isnan(v))


def percent_ok(col: Column) -> bool:
    """Whether a ``%`` typed into this column means a share (shares, rates, weights and multipliers);
    elsewhere (tonnes, prices, costs, years) ``100%`` is almost surely a typo and is refused, not read as 1."""
    u = col.unit or ""
    return col.type == FLOAT and ((col.max is not None and col.max <= 1) or u.startswith(("share", "x"))
                                  or u in ("per year", "weight"))


def _number(v, pct_ok: bool = True, unit: str = "") -> float:
    if isinstance(v, bool):
        raise CellError("expected a number, not TRUE/FALSE")
    if isinstance(v, (int, float)):
        try:
            x = float(v)
        except OverflowError:
            raise CellError("expected a finite number (this one is too large)") from None
    elif isinstance(v, str):
        s = v.strip().replace("\u00a0", "").replace(" ", "")
        pct = s.endswith("%")
        if pct:
            s = s[:-1]
            if not pct_ok and re.fullmatch(r"[+-]?[\d.,]+", s):
                raise CellError(f"a percentage in a column of {unit or 'plain numbers'}: type the number itself "
                                "(a % sign is read only in share and rate columns)")
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?", s):
            s = s.replace(",", "")
        try:
            x = float(s)
        except ValueError:
            raise CellError("expected a number") from None
        if pct:
            x /= 100.0
    elif isinstance(v, (_dt.datetime, _dt.date)):
        raise CellError("expected a number, not a date")
    else:
        raise CellError("expected a number")
    if not math.isfinite(x):
        raise CellError("expected a finite number (leave the cell blank for 'none')")
    return x


def coerce(v, col: Column):
    """Typed value of one non-blank cell, or raise CellError with what was expected."""
    if isinstance(v, str) and v.strip().upper() in EXCEL_ERRORS:
        raise CellError(f"the cell holds the Excel error {v.strip().upper()}; fix the formula or type a value")
    t = col.type
    if t == KEY:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (_dt.datetime, _dt.date)):
            return v.isoformat()[:10]
        s = str(v).strip()
        if any(ord(ch) < 32 for ch in s):
            raise CellError("a key may not contain control characters or line breaks")
        return s
    if t == TEXT:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    if t == FLOAT:
        return _number(v, percent_ok(col), col.unit)
    if t in (INT, YEAR):
        if t == YEAR and isinstance(v, (_dt.datetime, _dt.date)):
            return v.year
        x = _number(v, False, col.unit or ("years" if t == YEAR else "whole numbers"))
        if not float(x).is_integer():
            raise CellError("expected a whole number" if t == INT else "expected a year (whole number)")
        return int(x)
    if t == BOOL:
        if isinstance(v, bool):
            return v
        if isinstance(v, (int, float)) and v in (0, 1):
            return bool(v)
        if isinstance(v, str):
            s = v.strip().lower()
            if s in TRUE_WORDS:
                return True
            if s in FALSE_WORDS:
                return False
        raise CellError("expected TRUE or FALSE (yes/no, 1/0 also accepted)")
    if t == CHOICE:
        s = str(v).strip().lower()
        if s not in col.choices:
            raise CellError("expected one of " + ", ".join(col.choices))
        return s
    raise AssertionError(t)


def check_range(x, col: Column) -> str | None:
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        return None
    if col.min is not None and x < col.min:
        return f"must be >= {col.min:g}"
    if col.max is not None and x > col.max:
        return f"must be <= {col.max:g}"
    if col.min_exclusive is not None and x <= col.min_exclusive:
        return f"must be > {col.min_exclusive:g}"
    if col.max_exclusive is not None and x >= col.max_exclusive:
        return f"must be < {col.max_exclusive:g}"
    return None


# ------------------------------------------------------------------ raw sheets
def _file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class SheetError(Exception):
    """A sheet whose XML cannot be read (raised while its rows are streamed)."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


def container_problem(path, max_bytes: int | None = None) -> str | None:
    """Why ``path`` cannot be opened as a workbook, before any XML is parsed or inflated; None if it can.

    In order: exists and is a file; not an OLE container (old .xls or a password-protected workbook); a
    zip with xl/workbook.xml; no zip-level encryption; no part with a compression ratio above BOMB_RATIO
    (decompression bombs are refused before anything is inflated); all parts together at most ``max_bytes``
    uncompressed.  Also for results workbooks read back (compare, stress, plot), with a larger ``max_bytes``.
    """
    import openpyxl

    path = str(path)
    cap = MAX_XML_BYTES if max_bytes is None else max_bytes
    if re.search("[\ud800-\udfff]", path):  # bytes that are not UTF-8, as Python's surrogate escapes
        return ("the file name is not valid UTF-8 (it was saved in another encoding); rename the file, as its name "
                "is written into the results, the summary and the log")
    if not getattr(openpyxl, "DEFUSEDXML", False):
        return ("refusing to read workbooks without defusedxml (pip install defusedxml, and do not set "
                "OPENPYXL_DEFUSEDXML=False)")
    if not os.path.exists(path):
        return "file not found"
    if os.path.isdir(path):
        return "is a folder, not an .xlsx workbook"
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if not stat.S_ISREG(mode):  # a FIFO would block the read forever, a device never ends
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"is {kind}, not a regular file; give the path of an .xlsx workbook"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return ("is an old-format .xls or an encrypted (password-protected) workbook; "
                "save it from Excel as an unprotected .xlsx")
    if not head.startswith(b"PK"):
        return "is not an .xlsx workbook (not a zip file; a .csv or other file renamed .xlsx?)"
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        return "is not a readable .xlsx workbook (damaged or truncated zip)"
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        return "is a zip file but not an .xlsx workbook (no xl/workbook.xml)"
    if any(i.flag_bits & 0x1 for i in infos):
        return "is an encrypted (password-protected) zip; save it from Excel as an unprotected .xlsx"
    if _is_strict_ooxml(path):
        return ("is saved as Strict Open XML, which the planner cannot read; in Excel use File > Save As > "
                "'Excel Workbook (*.xlsx)'")
    worst = max(infos, key=lambda i: i.file_size / max(i.compress_size, 1))
    ratio = worst.file_size / max(worst.compress_size, 1)
    if worst.file_size > 2**20 and ratio > BOMB_RATIO:
        return (f"part {worst.filename} expands {ratio:,.0f}-fold to {_mb(worst.file_size)}; refusing to read a "
                "possible decompression bomb")
    total = sum(i.file_size for i in infos)
    if total > cap:
        return (f"expands to {_mb(total)} of XML; the planner reads workbooks up to {_mb(cap)}"
                + (" (about 400,000 rows of four columns); split the data or remove formatting from unused rows"
                   if max_bytes is None else ""))
    return None


STRICT_NS = b"purl.oclc.org/ooxml/spreadsheetml/main"  # the namespace of Strict OOXML workbooks


def _is_strict_ooxml(path: str) -> bool:
    """The first 4 kB of xl/workbook.xml declare the Strict namespace (openpyxl finds no sheets in such a file)."""
    try:
        with zipfile.ZipFile(path) as z, z.open("xl/workbook.xml") as f:
            return STRICT_NS in f.read(4096)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, RuntimeError, zlib.error):
        return False


def open_results_file(path):
    """A results (or design) workbook opened for reading with pandas, after the decompression-bomb check;
    one located line (PlannerError) for a missing or unreadable file."""
    path = Path(path)
    if not path.exists():
        raise PlannerError(f"{path}: file not found")
    check_results_file(path)
    try:
        return pd.ExcelFile(path, engine="openpyxl")
    except Exception as e:
        raise PlannerError(f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from e


def check_results_file(path, label: str = "") -> None:
    """Before compare, stress --plan or plot reads a results workbook back: one-line :class:`PlannerError` if it
    is not a readable .xlsx, or is a possible decompression bomb (:func:`container_problem`)."""
    why = container_problem(path, max_bytes=RESULTS_MAX_XML_BYTES)
    if why:
        raise PlannerError(f"{label}{path}: {why}")


def open_workbook(path: str, probs: ProblemList):
    """openpyxl workbook (read-only, cached values) or None with one clear problem.

    :func:`container_problem` first; then openpyxl, whose XML goes through defusedxml (entity declarations
    and DTDs refused); sheets are parsed later, row by row (:func:`_raw_rows`).
    """
    import openpyxl

    why = container_problem(path)
    if why:
        probs.error(why)
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        probs.error(f"could not be read as an .xlsx workbook ({_why(exc)})")
        return None


def _mb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB"


def _why(exc: BaseException) -> str:
    """One line naming a parse failure (defusedxml's refusals said in words)."""
    seen, e = set(), exc
    while e is not None and id(e) not in seen:  # openpyxl wraps the parser's refusal in its own ValueError
        seen.add(id(e))
        if type(e).__name__ in ("EntitiesForbidden", "DTDForbidden", "ExternalReferenceForbidden",
                                "NotSupportedError"):
            return (f"{type(e).__name__}: the XML declares entities or a DTD, which a workbook never needs; "
                    "refused for safety")
        e = e.__cause__ or e.__context__
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200]
    return f"{name}: {text}" if text else name


def _raw_rows(ws):
    """(excel_row, [values]) for every row, at most MAX_COLS values; a damaged sheet raises SheetError."""
    if not hasattr(ws, "iter_rows"):
        raise SheetError("is a chart sheet, not a table")
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # the stored dimension may be wrong (too small: rows lost; huge: padding)
    r = 0
    try:
        for r, values in enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLS), start=1):
            if r > MAX_ROWS:
                raise SheetError(f"has rows beyond row {MAX_ROWS:,} (Excel's limit): the file is damaged", r)
            yield r, values
    except SheetError:
        raise
    except Exception as exc:  # openpyxl and the XML parser raise many kinds for damaged cells
        raise SheetError(f"cannot be read: damaged data after row {r} ({_why(exc)})", r + 1) from exc


def _norm_header(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return re.sub(r"\s+", " ", str(v)).strip()


def _sheet_rows(ws, sheet_name: str, probs: ProblemList):
    """Header (list of names) and the data rows (excel_row, values) of one sheet."""
    rows = _raw_rows(ws)
    header, first = None, None
    for r, vals in rows:
        if vals.count(None) != len(vals) and any(not _blank(v) for v in vals):
            header, first = [_norm_header(v) for v in vals], r
            break
    if header is None:
        return [], first or 1, []
    while header and header[-1] == "":
        header.pop()
    data = []
    width = len(header)
    for r, vals in rows:
        vals = list(vals[:width])
        if vals.count(None) == width or all(_blank(v) for v in vals):
            continue
        if r == first + 1 and isinstance(vals[0], str) and vals[0].lstrip().startswith("#") \
                and vals[0].strip().upper() not in EXCEL_ERRORS:
            if all(v is None or isinstance(v, str) for v in vals):
                continue  # units / notes row: text only (an Excel error such as #REF! is data, reported when typed)
            probs.warning("this row starts with '#' like a units row but holds numbers, so it is read as data "
                          "(a units row holds text only)", sheet=sheet_name, row=r, column=header[0] or None,
                          value=vals[0])
        data.append((r, vals))
    _warn_hidden(ws, sheet_name, data, probs)
    return header, first, data


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_HIDDEN = re.compile(rb"""\bhidden\s*=\s*["'](?:1|true)["']""")
_ROW_NUM = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")


def hidden_rows(ws) -> list[int]:
    """Row numbers a sheet marks hidden (``<row r="5" hidden="1">``), read from the sheet's XML in 1 MB chunks
    (openpyxl's read-only mode does not report them).  Empty for anything but a worksheet part."""
    source = getattr(ws, "_get_source", None)
    if source is None:
        return []
    out, tail = [], b""
    try:
        with source() as f:
            while True:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                buf = tail + chunk
                cut = buf.rfind(b"<")  # a tag cut at the chunk's end is read with the next chunk
                buf, tail = (buf[:cut], buf[cut:]) if cut >= 0 and b">" not in buf[cut:] else (buf, b"")
                if b"hidden" not in buf:
                    continue
                for m in _ROW_TAG.finditer(buf):
                    if _HIDDEN.search(m.group(1)):
                        n = _ROW_NUM.search(m.group(1))
                        if n:
                            out.append(int(n.group(1)))
    except Exception:  # noqa: BLE001 - a damaged part is reported when its rows are read
        return out
    return out


def _warn_hidden(ws, title: str, data_rows, probs: ProblemList) -> None:
    if getattr(ws, "sheet_state", "visible") != "visible":
        probs.warning(f"this sheet is {ws.sheet_state.replace('veryHidden', 'very hidden')} in Excel; it is read "
                      "like the others", sheet=title)
    rows = {r for r, _ in data_rows}
    hidden = [r for r in hidden_rows(ws) if r in rows]
    if hidden:
        shown = ", ".join(map(str, hidden[:8])) + (f" and {len(hidden) - 8} more" if len(hidden) > 8 else "")
        probs.warning(f"{len(hidden)} hidden row(s) in Excel are read like the others (rows {shown})", sheet=title,
                      row=hidden[0])


# ------------------------------------------------------------------ reading
# A sweep or batch solves one workbook many times with different overrides.  Inside ``keeping_reads()`` the last
# workbook read is kept (pickled, so that every caller gets its own copy to apply overrides to) and given again while
# the file's size and modification time are the same: an edit saved during a sweep is read anew.
_READS: dict = {"kept": None}
_KEEPING = Switch(lambda: _READS.update(kept=None))


def keeping_reads():
    """``with keeping_reads(): ...``: a workbook read again in the block, unchanged on disk, is not parsed again."""
    return _KEEPING.within()


def keep_reads(on: bool) -> None:
    """Keep the last workbook read for the rest of this process (a batch's worker process), or stop (released)."""
    _KEEPING.set(on)


def _stat_key(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino


def read_workbook(path: str | os.PathLike) -> InputData:
    """Every sheet of the workbook at ``path``, typed and checked (problems in ``.problems``, never raised)."""
    import pickle

    path = str(path)
    key = _stat_key(path) if _KEEPING.on else None
    kept = _READS["kept"]
    if key is not None and kept is not None and kept[0] == key and kept[1] == path:
        return pickle.loads(kept[2])
    data = _read_workbook(path)
    if key is not None and _stat_key(path) == key:  # unchanged while it was read
        _READS["kept"] = (key, path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    return data


def _read_workbook(path: str) -> InputData:
    probs = ProblemList(path)
    wb = open_workbook(path, probs)
    if wb is None:
        return InputData(path, "", {}, {s.name: _empty_table(s) for s in SHEETS if s.kind == "table"}, probs)
    try:
        sha = _file_sha256(path)
        by_name = {}
        for title in wb.sheetnames:
            key = title.strip()
            match = SHEET_BY_NAME.get(key) or next(
                (s for s in SHEETS if s.name.lower() == key.lower()), None)
            if match is None:
                if key.lower() != "readme":
                    probs.warning("unknown sheet ignored", sheet=title)
                continue
            if match.name in by_name:
                probs.error(f"sheet '{match.name}' appears twice", sheet=title)
                continue
            if match.name != title:
                probs.warning(f"sheet name read as '{match.name}'", sheet=title)
            by_name[match.name] = wb[title]
        for s in SHEETS:
            if s.required and s.name not in by_name:
                probs.error(f"required sheet '{s.name}' is missing", sheet=s.name)

        damaged = False

        def guarded(name, read, fallback):
            nonlocal damaged
            try:
                return read()
            except SheetError as e:
                damaged = True
                probs.error(f"this sheet {e}", sheet=name, row=e.row)
                return fallback

        settings, settings_rows, settings_raw = guarded(
            "settings", lambda: _read_settings(by_name.get("settings"), probs), (None, None, None))
        if settings is None:  # damaged settings sheet: the defaults, without repeating "required" errors
            settings, settings_rows, settings_raw = _read_settings(None, ProblemList(path))
        tables = {}
        sources = pd.DataFrame()
        for s in SHEETS:
            if s.kind == "settings":
                continue
            ws = by_name.get(s.name)
            if s.kind == "free":
                if ws is not None:
                    sources = guarded(s.name, lambda: _read_free(ws, s.name, probs), pd.DataFrame())
                continue
            tables[s.name] = guarded(s.name, lambda: _read_table(ws, s, settings, probs), _empty_table(s)) \
                if ws is not None else _empty_table(s)
        data = InputData(path, sha, settings, tables, probs, sources, settings_rows, settings_raw, {}, set(by_name),
                         damaged)
        for s in SHEETS:
            for c in s.columns:
                if isinstance(c.default, FromSetting) and s.name in tables:
                    data.setting_defaults[(s.name, c.name)] = tables[s.name][c.name].isna().to_numpy()
        resolve_setting_defaults(data)
        return data
    finally:
        wb.close()


def _read_free(ws, name: str, probs: ProblemList) -> pd.DataFrame:
    """A free-form sheet (sources) as it is: headers made unique, blank headers named 'column N'."""
    header, _, data = _sheet_rows(ws, name, probs)
    cols, seen = [], set()
    for i, h in enumerate(header):
        c = h or f"column {i + 1}"
        k, n = c, 2
        while k.lower() in seen:
            k, n = f"{c} ({n})", n + 1
        seen.add(k.lower())
        cols.append(k)
    return pd.DataFrame([v for _, v in data], columns=cols) if cols else pd.DataFrame()


def _empty_table(s: Sheet) -> pd.DataFrame:
    return pd.DataFrame({**{c.name: pd.Series([], dtype=object) for c in s.columns},
                         "_row": pd.Series([], dtype=int)})


def _read_settings(ws, probs: ProblemList):
    raw = {}
    rows = {}
    if ws is not None:
        header, first, data = _sheet_rows(ws, "settings", probs)
        low = [h.lower() for h in header]
        if "key" not in low or "value" not in low:
            probs.error("the settings sheet needs the columns 'key' and 'value'", sheet="settings", row=first,
                        value=", ".join(header))
        else:
            ki, vi = low.index("key"), low.index("value")
            for r, vals in data:
                k = vals[ki]
                if _blank(k):
                    if not _blank(vals[vi]):
                        probs.error("value without a key", sheet="settings", row=r, column="key")
                    continue
                k = str(k).strip()
                decl = SETTING_BY_NAME.get(k) or SETTING_BY_NAME.get(k.lower())
                if decl is None:
                    probs.warning("unknown setting ignored", sheet="settings", row=r, column="key", value=k)
                    continue
                if decl.name in raw:
                    probs.error(f"setting '{decl.name}' is given twice (first in row {rows[decl.name]})",
                                sheet="settings", row=r, column="key", value=k)
                    continue
                raw[decl.name] = vals[vi]
                rows[decl.name] = r
    settings = parse_settings(raw, probs, rows)
    return settings, rows, raw


def parse_settings(raw: dict, probs: ProblemList, rows: dict | None = None, where: str = "sheet") -> dict:
    """Typed settings from raw values (also used for ``--set KEY=VALUE``)."""
    rows = rows or {}
    out = {}
    for decl in SETTINGS:
        v = raw.get(decl.name)
        loc = dict(sheet="settings", row=rows.get(decl.name), column="value")
        if where != "sheet":
            loc = dict(sheet=None, row=None, column=None)
        if _blank(v):
            if decl.required:
                msg = f"setting '{decl.name}' is required"
                if where == "sheet" and decl.name not in raw:
                    probs.error(msg + " (add a row with this key)", sheet="settings")
                else:
                    probs.error(msg, **loc, value=v)
            out[decl.name] = decl.default
            continue
        try:
            x = coerce(v, decl)
        except CellError as e:
            probs.error(f"setting '{decl.name}': {e}", **loc, value=v)
            out[decl.name] = decl.default
            continue
        bad = check_range(x, decl)
        if bad:
            probs.error(f"setting '{decl.name}' {bad}", **loc, value=v)
        out[decl.name] = x
    if isinstance(out.get("start_year"), int) and isinstance(out.get("end_year"), int):
        if out["end_year"] < out["start_year"]:
            probs.error("setting 'end_year' must not be before start_year", sheet="settings",
                        row=rows.get("end_year"), column="value", value=out["end_year"])
        if out["end_year"] - out["start_year"] > 200:
            probs.error("the horizon may span at most 200 years", sheet="settings",
                        row=rows.get("end_year"), column="value", value=out["end_year"])
    for decl in SETTINGS:
        if isinstance(decl.default, FromSetting) and (out.get(decl.name) is None or isinstance(out.get(decl.name), FromSetting)):
            out[decl.name] = out.get(decl.default.key)
    return out


def _read_table(ws, s: Sheet, settings: dict, probs: ProblemList) -> pd.DataFrame:
    header, first, data = _sheet_rows(ws, s.name, probs)
    if not header and not s.required:
        return _empty_table(s)  # a blank optional sheet is an empty table, like an absent one
    positions = {}
    for i, h in enumerate(header):
        if h == "":
            if any(not _blank(vals[i]) for _, vals in data):
                probs.warning(f"column {i + 1} has no header; its values are ignored", sheet=s.name, row=first)
            continue
        name = h if h in s.names else next((n for n in s.names if n.lower() == h.lower()), None)
        if name is None:
            near = _near_column(h, s, header)
            if near:
                probs.error(f"unknown column: did you mean '{near}'? (its values would be ignored; rename the "
                            "header)", sheet=s.name, row=first, column=h)
            else:
                probs.warning("unknown column ignored", sheet=s.name, row=first, column=h)
            continue
        if name in positions:
            probs.error("column appears twice", sheet=s.name, row=first, column=h)
            continue
        if name != h:
            probs.warning(f"column header read as '{name}'", sheet=s.name, row=first, column=h)
        positions[name] = i
    for c in s.columns:
        if c.required and c.name not in positions:
            probs.error("required column is missing", sheet=s.name, row=first, column=c.name)

    out = {c.name: [] for c in s.columns}
    out["_row"] = []
    for r, vals in data:
        out["_row"].append(r)
        for c in s.columns:
            i = positions.get(c.name)
            v = vals[i] if i is not None else None
            if _blank(v):
                if c.required and i is not None:
                    probs.error("required value is blank", sheet=s.name, row=r, column=c.name)
                d = c.default
                out[c.name].append(None if isinstance(d, FromSetting) else d)
                continue
            try:
                x = coerce(v, c)
            except CellError as e:
                probs.error(str(e), sheet=s.name, row=r, column=c.name, value=v)
                out[c.name].append(None)
                continue
            bad = check_range(x, c)
            if bad:
                probs.error(bad, sheet=s.name, row=r, column=c.name, value=v)
            out[c.name].append(x)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in out.items()})
    df["_row"] = df["_row"].astype(int)
    return df


def _canon(h: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", unicodedata.normalize("NFKC", h).casefold()).strip("_")


def _near_column(h: str, s: Sheet, header: list[str]) -> str | None:
    """The declared column an unknown header was most likely meant to be (spaces for underscores, a typo, units
    left out), if that column is not in the sheet already: then the values would silently be lost."""
    present = {x.lower() for x in header}
    free = [n for n in s.names if n.lower() not in present]
    c = _canon(h)
    if not c:
        return None
    for n in free:
        if _canon(n) == c:
            return n
    close = difflib.get_close_matches(c, free, n=1, cutoff=0.8)
    if close:
        return close[0]
    stems = [n for n in free if len(c) >= 4 and n.startswith(c + "_")]  # units left out: 'fiscal_budget'
    return stems[0] if len(stems) == 1 else None


def resolve_setting_defaults(data: InputData) -> None:
    """Fill cells whose default is a setting (e.g. start_year) from the current settings."""
    for (sheet, col), mask in data.setting_defaults.items():
        decl = SHEET_BY_NAME[sheet].column(col)
        if mask.any():
            df = data.tables[sheet]
            df.loc[mask, col] = data.settings.get(decl.default.key)


