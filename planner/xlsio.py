"""Writing result workbooks: atomic, readable, and safe against formula injection.

- The file is written to a temporary name in the target folder and renamed
  into place (``os.replace``), so no half-written file ever carries the final
  name, and an existing file stays intact until the new one is complete.
- A target that cannot be written (locked by Excel, read-only, folder not
  writable, disk full) does not lose the results: they are saved next to it
  under the next free name (``NAME-2.xlsx`` ...), else in the current
  folder, else in the system temp folder, and :class:`WrittenElsewhere`
  (a :class:`PlannerError`) says where; exit 1.
- Every text cell is written as text (xlsxwriter with strings_to_formulas,
  strings_to_urls and strings_to_numbers off): a member named
  ``=HYPERLINK(...)`` shows as that string, never as a formula.
- Frozen header row, autofilter, number formats by column name, widths.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError

from .problems import PlannerError

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
        process = getattr(chart, "_process_names", None)
        if process is not None:
            def literal(name, name_formula, _process=process):
                if isinstance(name, str):
                    name = chart_text(name)
                return _process(name, name_formula)
            chart._process_names = literal
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
                   inputs=()) -> Path:
    """Write ``sheets`` (name -> DataFrame; a 'key'/'value' frame is fine) atomically to ``path``.

    If ``path`` cannot be written, the workbook is saved elsewhere (see the module docstring) and
    :class:`WrittenElsewhere` is raised naming both places; :class:`PlannerError` if nowhere worked.
    """
    path = Path(path)
    check_target(path, inputs)
    try:
        return _write_atomic(path, sheets, charts)
    except _CannotWrite as e:
        failed = e
    alt = None
    if failed.tmp is not None:  # complete in the target folder; only the rename failed (target locked)
        try:
            alt = _next_free(path)
            os.replace(failed.tmp, alt)
        except OSError:
            _cleanup(failed.tmp)
            alt = None
    if alt is None:
        for folder in _fallback_folders(path):
            try:
                alt = _write_atomic(_next_free(folder / path.name), sheets, charts)
                break
            except _CannotWrite:
                alt = None
    if alt is None:
        raise PlannerError(f"cannot write {path}: {failed.reason}; no other folder was writable either, so "
                           "nothing was saved")
    raise WrittenElsewhere(f"cannot write {path}: {failed.reason}; the results were saved to {alt} instead",
                           path, alt)


def _next_free(path: Path) -> Path:
    if not path.exists():
        return path
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    k = 2
    while (path.parent / f"{stem}-{k}{path.suffix}").exists():
        k += 1
    return path.parent / f"{stem}-{k}{path.suffix}"


def _fallback_folders(path: Path) -> list[Path]:
    out = []
    for f in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            if f.resolve() != path.parent.resolve() and f not in out:
                out.append(f)
        except OSError:
            continue
    return out


def _write_atomic(path: Path, sheets, charts) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.xlsx", dir=folder)
        os.close(fd)
    except OSError as e:
        raise _CannotWrite(_reason(e)) from e
    try:
        wb = xlsxwriter.Workbook(tmp, SAFE)
        _literal_chart_names(wb)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "top"})
        fmts = {}
        for name, df in sheets.items():
            ws = wb.add_worksheet(name[:31])
            _write_frame(wb, ws, df, head, fmts)
        if charts:
            charts(wb)
        wb.close()
    except (OSError, FileCreateError) as e:  # disk full, quota, folder removed ...
        _cleanup(tmp)
        raise _CannotWrite(_reason(e)) from e
    except BaseException:  # a bug or Ctrl-C: no partial file stays behind
        _cleanup(tmp)
        raise
    try:
        os.replace(tmp, path)
    except OSError as e:  # the target is locked (open in Excel) or read-only, or a folder
        raise _CannotWrite(_reason(e), tmp) from e
    except BaseException:
        _cleanup(tmp)
        raise
    return path


def _cleanup(tmp):
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _write_frame(wb, ws, df: pd.DataFrame, head, fmts):
    cols = list(df.columns)
    widths = []
    for j, c in enumerate(cols):
        ws.write_string(0, j, str(c), head)
        widths.append(min(max(len(str(c)) + 2, 8), 60))
    colfmt = []
    for c in cols:
        nf = number_format(str(c))
        if nf and nf not in fmts:
            fmts[nf] = wb.add_format({"num_format": nf})
        colfmt.append(fmts.get(nf) if nf else None)
    arrays = [df[c].to_numpy(dtype=object) for c in cols]
    n = len(df)
    for j, arr in enumerate(arrays):
        f = colfmt[j]
        w = widths[j]
        for i in range(n):
            v = arr[i]
            r = i + 1
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if isinstance(v, (bool, np.bool_)):
                ws.write_boolean(r, j, bool(v))
            elif isinstance(v, (int, float, np.integer, np.floating)):
                x = float(v)
                if math.isfinite(x):
                    ws.write_number(r, j, x, f)
                else:
                    ws.write_string(r, j, "inf" if x > 0 else "-inf")
            else:
                s = str(v)
                ws.write_string(r, j, s)
                if i < 200:
                    w = max(w, min(len(s) + 2, 60))
        widths[j] = w
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    if n and cols:
        ws.autofilter(0, 0, n, len(cols) - 1)
