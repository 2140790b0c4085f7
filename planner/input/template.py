"""The empty input workbook (``planner template PATH``), generated from :mod:`planner.input.schema` only.

Layout: a ``README`` sheet (ignored by the reader) describing every sheet and
column, then one sheet per :data:`planner.input.schema.SHEETS` entry with

- row 1: the column names (required ones marked by a darker fill);
- row 2: a units/notes row whose cells start with ``#`` (the reader skips it);
- frozen panes below row 2, column widths that fit the notes;
- drop-down lists for TRUE/FALSE and choice columns, and for key columns that
  refer to another sheet (a list over that sheet's key column);
- on ``settings``: every setting key pre-filled, values blank, and a ``notes``
  column with each setting's default and meaning (the reader reads only
  ``key`` and ``value``).

The file is written to a temporary file in the target folder and moved into
place, so a failure never leaves a half-written workbook.

:func:`write_filled` writes a *filled* workbook in the same style (README sheet,
units row, drop-downs, frozen headers) from plain rows: the shipped example and
the tiny case are built with it (``inputs/build_example.py``).

The small text helpers here (:func:`type_text`, :func:`default_text`,
:func:`column_note`, ...) are shared with :mod:`planner.input.docs_gen`.
"""
from __future__ import annotations

import math
from pathlib import Path

from planner.common.files import atomic_write
from planner.common.problems import PlannerError
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

FIRST_DATA_ROW = 3          # rows 1-2: header and notes (1-based, as Excel shows them)
LAST_LIST_ROW = 5000        # drop-down lists and their source ranges reach this row

TYPE_TEXT = {
    KEY: "key",
    TEXT: "text",
    INT: "whole number",
    YEAR: "year",
    FLOAT: "number",
    BOOL: "TRUE/FALSE",
    CHOICE: "choice",
}


# ------------------------------------------------------------------ text helpers (also used by docs_gen)
def value_text(v) -> str:
    """A default value as an analyst would type it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, FromSetting):
        return str(v)
    return str(v)


def type_text(col: Column) -> str:
    if col.type == CHOICE:
        return "one of " + ", ".join(col.choices)
    return TYPE_TEXT[col.type]


def default_text(col: Column) -> str:
    return value_text(col.default)


def ref_text(col: Column) -> str:
    """Where a key column's values must be found, e.g. ``members.member``."""
    if not col.ref:
        return ""
    refs = [col.ref, *col.ref_extra]
    return " or ".join(f"{s}.{c}" for s, c in refs)


def column_note(col: Column) -> str:
    """The row-2 note of a column, e.g. ``# t/yr, default 0, >= 0``."""
    head = col.unit or type_text(col)
    if col.type == CHOICE and col.unit:
        head += f" ({type_text(col)})"
    parts = [head + (" * (required)" if col.required else "")]
    d = default_text(col)
    if d:
        parts.append(f"default {d}")
    if col.range_text:
        parts.append(col.range_text)
    if col.ref:
        parts.append("from " + ref_text(col))
    return "# " + ", ".join(parts)


def setting_note(decl: Column) -> str:
    """The notes cell of one settings row: default (or required), unit, range and meaning."""
    parts = ["required" if decl.required else ("default " + (default_text(decl) or "blank (none)"))]
    if decl.unit:
        parts.append(decl.unit)
    if decl.type in (BOOL, CHOICE):
        parts.append(type_text(decl))
    if decl.range_text:
        parts.append(decl.range_text)
    text = "; ".join(parts)
    return f"{text}: {decl.description}" if decl.description else text


def _col_letter(i: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


def _quote_sheet(name: str) -> str:
    return name if name.isidentifier() else "'" + name.replace("'", "''") + "'"


def ref_range(col: Column) -> str | None:
    """The list source of a reference column's drop-down, e.g. ``=members!$A$3:$A$5000``."""
    if not col.ref:
        return None
    sheet_name, col_name = col.ref
    target = SHEET_BY_NAME[sheet_name]
    letter = _col_letter(target.names.index(col_name))
    return f"={_quote_sheet(sheet_name)}!${letter}${FIRST_DATA_ROW}:${letter}${LAST_LIST_ROW}"


# ------------------------------------------------------------------ writing
def _check_path(path: Path, force: bool) -> None:
    if path.suffix.lower() != ".xlsx":
        raise PlannerError(f"{path}: the template must be an .xlsx file (got suffix '{path.suffix}')")
    if path.is_dir():
        raise PlannerError(f"{path}: is a folder")
    if path.exists() and not force:
        raise PlannerError(f"{path} already exists; use --force to overwrite it")


def write_template(path, force: bool = False) -> Path:
    """Write the empty input workbook to ``path`` (atomically); refuse to overwrite unless ``force``."""
    path = Path(path)
    _check_path(path, force)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PlannerError(f"{path}: cannot create folder {folder} ({e.strerror or e})") from None
    try:
        atomic_write(path, _write)
    except OSError as e:
        raise PlannerError(f"{path}: could not write the template ({e.strerror or e})") from None
    return path


def _write(filename: str, filled: dict | None = None, intro: tuple = (), title: str = "") -> None:
    import datetime

    import xlsxwriter

    wb = xlsxwriter.Workbook(filename)
    try:
        if filled is not None:  # same data, same bytes (no save time in the document properties)
            wb.set_properties({"created": datetime.datetime(2026, 1, 1), "author": "bloc planner",
                               "title": title or "bloc planner input workbook"})
        f = _formats(wb)
        _write_readme(wb, f, intro=intro, title=title)
        for s in SHEETS:
            if s.kind == "settings":
                _write_settings(wb, s, f, (filled or {}).get(s.name))
            else:
                _write_table(wb, s, f, (filled or {}).get(s.name))
        wb.worksheets()[1].activate()  # open on 'settings'
    finally:
        wb.close()


# ------------------------------------------------------------------ filled workbooks
def _rows_of(s: Sheet, rows) -> list[dict]:
    """Rows given as dicts (column -> value), tuples in the schema's column order, or a DataFrame."""
    if rows is None:
        return []
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    out = []
    for r in rows:
        if isinstance(r, dict):
            unknown = [k for k in r if k not in s.names]
            if unknown:
                raise ValueError(f"sheet '{s.name}': unknown column(s) {', '.join(map(str, unknown))} "
                                 f"(columns: {', '.join(s.names)})")
            out.append(r)
        else:
            if len(r) > len(s.names):
                raise ValueError(f"sheet '{s.name}': row longer than the sheet's columns: {r!r}")
            out.append(dict(zip(s.names, r)))
    return out


def _settings_of(values) -> dict:
    if values is None:
        return {}
    d = dict(values)
    unknown = [k for k in d if k not in SETTING_BY_NAME]
    if unknown:
        raise ValueError(f"settings: unknown key(s) {', '.join(unknown)}")
    return d


def write_filled(path, tables: dict, force: bool = False, intro=(), title: str = "") -> Path:
    """Write an input workbook holding ``tables`` in the template's style (atomically).

    ``tables`` maps sheet names to rows: ``settings`` to a mapping (or pairs) key -> value, every other
    sheet to a list of dicts (column -> value; missing = blank), tuples in the schema's column order, or a
    DataFrame. Sheets not given are written empty, with their headers and notes, as in the template.
    ``intro``: lines shown first on the README sheet. The bytes depend on the data only (a rebuild of the
    same data gives the same file). Unknown sheets, columns or settings raise ValueError.
    """
    unknown = [k for k in tables if k not in SHEET_BY_NAME]
    if unknown:
        raise ValueError(f"unknown sheet(s) {', '.join(unknown)} (sheets: {', '.join(SHEET_BY_NAME)})")
    filled = {}
    for name, rows in tables.items():
        s = SHEET_BY_NAME[name]
        filled[name] = _settings_of(rows) if s.kind == "settings" else _rows_of(s, rows)
    path = Path(path)
    _check_path(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write(path, lambda tmp: _write(tmp, filled, tuple(intro), title))
    except OSError as e:
        raise PlannerError(f"{path}: could not write the workbook ({e.strerror or e})") from None
    return path


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _write_value(ws, r: int, j: int, v, col: Column | None) -> None:
    if _missing(v):
        return
    if isinstance(v, bool):
        ws.write_boolean(r, j, v)
    elif col is not None and col.type == KEY:
        ws.write_string(r, j, value_text(v) if isinstance(v, float) else str(v))
    elif isinstance(v, (int, float)) or type(v).__module__ == "numpy":
        ws.write_number(r, j, float(v))
    else:
        ws.write_string(r, j, str(v))


def _formats(wb) -> dict:
    return {
        "header": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "border_color": "#9BC2E6"}),
        "header_req": wb.add_format({"bold": True, "bg_color": "#9BC2E6", "border": 1, "border_color": "#5B9BD5"}),
        "note": wb.add_format({"italic": True, "font_color": "#595959", "bg_color": "#F2F2F2", "text_wrap": False}),
        "key": wb.add_format({"num_format": "@"}),     # keys stay text (a key 1 is "1")
        "year": wb.add_format({"num_format": "0"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "h2": wb.add_format({"bold": True, "font_size": 12, "bg_color": "#DDEBF7"}),
        "bold": wb.add_format({"bold": True}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "top": wb.add_format({"valign": "top"}),
    }


def _width(*texts: str, lo: int = 10, hi: int = 45) -> int:
    return max(lo, min(hi, max(len(t) for t in texts) + 2))


def _list_validation(ws, first_col: int, last_col: int, source, strict: bool, title: str, message: str,
                     first_row: int = FIRST_DATA_ROW - 1, last_row: int = LAST_LIST_ROW - 1) -> None:
    """A drop-down list on a 0-based cell range; ``source`` is a list of values or a range formula."""
    opts = {"validate": "list", "source": source, "ignore_blank": True}
    if message:
        opts.update(input_title=title[:32], input_message=message[:255])
    if strict:
        opts.update(error_type="stop", error_title="Not in the list",
                    error_message=f"Pick one of the values in the list ({title}).")
    else:
        opts.update(error_type="warning", error_title="Not in the list",
                    error_message="This value is not (yet) in the referenced sheet; planner validate will "
                                  "report it unless you add it there. Continue?")
    ws.data_validation(first_row, first_col, last_row, last_col, opts)


def _column_validation(ws, j: int, col: Column) -> None:
    msg = col.description
    if col.type == BOOL:
        _list_validation(ws, j, j, ["TRUE", "FALSE"], True, col.name, msg)
    elif col.type == CHOICE:
        _list_validation(ws, j, j, list(col.choices), True, col.name, msg)
    elif col.type == KEY and col.ref:
        hint = f"a {col.ref[1]} from sheet '{col.ref[0]}'"
        _list_validation(ws, j, j, ref_range(col), False, col.name, (msg + ": " if msg else "") + hint)


def _write_table(wb, s: Sheet, f: dict, rows: list[dict] | None = None) -> None:
    ws = wb.add_worksheet(s.name)
    rows = rows or []
    for j, col in enumerate(s.columns):
        note = column_note(col)
        ws.write_string(0, j, col.name, f["header_req"] if col.required else f["header"])
        ws.write_string(1, j, note, f["note"])
        fmt = f["key"] if col.type == KEY else f["year"] if col.type == YEAR else None
        longest = [value_text(r.get(col.name)) for r in rows[:2000]]
        ws.set_column(j, j, _width(col.name, note, *longest), fmt)
        _column_validation(ws, j, col)
    for i, r in enumerate(rows):
        for j, col in enumerate(s.columns):
            _write_value(ws, FIRST_DATA_ROW - 1 + i, j, r.get(col.name), col)
    ws.freeze_panes(FIRST_DATA_ROW - 1, 0)


def _write_settings(wb, s: Sheet, f: dict, values: dict | None = None) -> None:
    ws = wb.add_worksheet(s.name)
    headers = [c.name for c in s.columns] + ["notes"]
    notes = ["# setting name (do not change)", "# value; blank = the default", "# default and meaning (not read)"]
    for j, (h, n) in enumerate(zip(headers, notes)):
        ws.write_string(0, j, h, f["header_req"] if j == 0 else f["header"])
        ws.write_string(1, j, n, f["note"])
    for i, decl in enumerate(SETTINGS):
        r = FIRST_DATA_ROW - 1 + i
        ws.write_string(r, 0, decl.name, f["key"])
        if values and decl.name in values:
            _write_value(ws, r, 1, values[decl.name], decl)
        ws.write_string(r, 2, setting_note(decl))
        if decl.type in (BOOL, CHOICE):
            source = ["TRUE", "FALSE"] if decl.type == BOOL else list(decl.choices)
            _list_validation(ws, 1, 1, source, True, decl.name, setting_note(decl)[:255],
                             first_row=r, last_row=r)
    ws.set_column(0, 0, _width(*headers[:1], *(d.name for d in SETTINGS)), f["key"])
    ws.set_column(1, 1, 14)
    ws.set_column(2, 2, 100)
    ws.freeze_panes(FIRST_DATA_ROW - 1, 0)


def _write_readme(wb, f: dict, intro=(), title: str = "") -> None:
    ws = wb.add_worksheet("README")
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 16)
    ws.set_column(2, 2, 10)
    ws.set_column(3, 3, 22)
    ws.set_column(4, 4, 14)
    ws.set_column(5, 5, 14)
    ws.set_column(6, 6, 26)
    ws.set_column(7, 7, 80)
    r = 0
    ws.write_string(r, 0, title or "bloc planner input workbook", f["title"])
    r += 2
    for line in intro:
        ws.write_string(r, 0, line)
        r += 1
    if intro:
        r += 1
    intro = [
        "Fill in the sheets after this one; this README sheet is ignored when the workbook is read.",
        "Row 1 of each sheet holds the column names, row 2 (starting with #) units and notes: keep both. "
        "Data starts in row 3; blank rows are ignored.",
        "Columns marked * are required; a blank cell in another column takes the default shown.",
        "Keys are case-sensitive text (surrounding spaces are stripped); TRUE/FALSE also accept yes/no and 1/0.",
        "Sheets other than settings, members, commodities and demand may stay empty.",
        "Fill in settings start_year and end_year first. Then run:  planner validate THIS_FILE.xlsx",
    ]
    for line in intro:
        ws.write_string(r, 0, line)
        r += 1
    r += 1
    ws.write_string(r, 0, "Sheets", f["h2"])
    r += 1
    for j, h in enumerate(["sheet", "required", "key", "description"]):
        ws.write_string(r, j if j < 3 else 7, h, f["bold"])
    r += 1
    for s in SHEETS:
        ws.write_string(r, 0, s.name)
        ws.write_string(r, 1, "yes" if s.required else "no")
        ws.write_string(r, 2, ", ".join(s.key) if s.key else "(none)")
        ws.write_string(r, 7, s.description)
        r += 1
    header = ["column", "type", "required", "default", "unit", "range", "from sheet.column", "description"]
    for s in SHEETS:
        r += 1
        title = f"Sheet '{s.name}'" + (" (required)" if s.required else "")
        ws.write_string(r, 0, title, f["h2"])
        ws.write_string(r, 7, s.description, f["h2"])
        r += 1
        if s.key:
            ws.write_string(r, 0, "Key (must not repeat): " + ", ".join(s.key))
            r += 1
        for j, h in enumerate(header):
            ws.write_string(r, j, h, f["bold"])
        r += 1
        for c in s.columns:
            cells = [c.name, type_text(c), "*" if c.required else "", default_text(c), c.unit, c.range_text,
                     ref_text(c), c.description]
            for j, v in enumerate(cells):
                ws.write_string(r, j, v)
            r += 1
    r += 1
    ws.write_string(r, 0, "Settings (sheet 'settings': one row per key)", f["h2"])
    ws.write_string(r, 7, "", f["h2"])
    r += 1
    for j, h in enumerate(["key", "type", "required", "default", "unit", "range", "", "meaning"]):
        ws.write_string(r, j, h, f["bold"])
    r += 1
    for d in SETTINGS:
        cells = [d.name, type_text(d), "*" if d.required else "", default_text(d), d.unit, d.range_text, "",
                 d.description]
        for j, v in enumerate(cells):
            ws.write_string(r, j, v)
        r += 1
    ws.freeze_panes(1, 0)
