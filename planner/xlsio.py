"""Writing result workbooks: atomic, readable, and safe against formula injection.

- The file is written to a temporary name in the target folder and renamed
  into place (``os.replace``), so no half-written file ever carries the final
  name, and an existing file stays intact until the new one is complete.
- Every text cell is written as text (xlsxwriter with strings_to_formulas,
  strings_to_urls and strings_to_numbers off): a member named
  ``=HYPERLINK(...)`` shows as that string, never as a formula.
- Frozen header row, autofilter, number formats by column name, widths.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from .problems import PlannerError

SAFE = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "nan_inf_to_errors": True}


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


def write_workbook(path, sheets: dict[str, pd.DataFrame], first: str | None = None, charts=None,
                   inputs=()) -> Path:
    """Write ``sheets`` (name -> DataFrame; a 'key'/'value' frame is fine) atomically to ``path``."""
    path = Path(path)
    check_target(path, inputs)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.xlsx", dir=folder)
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp, SAFE)
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "top"})
        fmts = {}
        for name, df in sheets.items():
            ws = wb.add_worksheet(name[:31])
            _write_frame(wb, ws, df, head, fmts)
        if charts:
            charts(wb)
        wb.close()
        os.replace(tmp, path)
    except PermissionError as e:
        _cleanup(tmp)
        raise PlannerError(f"cannot write {path}: permission denied (is it open in Excel or read-only?)") from e
    except OSError as e:
        _cleanup(tmp)
        raise PlannerError(f"cannot write {path}: {e.strerror or e}") from e
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
