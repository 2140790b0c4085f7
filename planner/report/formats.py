"""Where a solve's results go, in which format: the xlsx workbook (front sheet, tables, glossary, print setup)
or a folder of CSV or Parquet files; and reading either back (``planner compare``).

- ``xlsx`` (default): ``NAME.results.xlsx`` with an ``overview`` front sheet first (key findings in words,
  units and number formats), the tables, and a ``glossary`` of every column.  Every sheet is set up for
  printing (xlsio).
- ``csv`` / ``parquet``: a folder ``NAME.results/`` holding one file per table (``supply.csv`` ...),
  ``glossary.csv`` and ``summary.json`` (the summary sheet as an ordered JSON object key -> value).  The
  folder is written as a temporary folder beside the target and renamed into place, so no half-written
  folder carries the final name; with ``--force`` an existing folder is replaced in the same way.
  CSV: UTF-8, comma-separated, a header row, empty cells for missing values, numbers at full precision
  (read them back with ``keep_default_na=False`` so a member named ``NA`` stays a name).
- the solve's log (planner.report.progress): ``NAME.results.log`` beside a workbook, ``solve.log`` inside a
  results folder.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.files import atomic_write
from planner.common.problems import PlannerError
from planner.report.glossary import SHEETS, figure, glossary_frame

FORMATS = ("xlsx", "csv", "parquet")
FRONT = "overview"
SUMMARY_JSON = "summary.json"
NOT_TABLES = {"summary", "sources", "glossary", "charts", "chart_data", FRONT}


# ---------------------------------------------------------------- names
def target_for(xlsx_path, fmt: str) -> Path:
    """The results path for ``fmt``: NAME.results.xlsx itself, or the folder NAME.results."""
    p = Path(xlsx_path)
    return p if fmt == "xlsx" else p.with_suffix("")


def free_folder(path, force: bool = False) -> Path:
    """``path`` if free (or ``force`` and it is a folder); else NAME-2, NAME-3 ... beside it."""
    path = Path(path)
    if not path.exists() or (force and path.is_dir()):
        return path
    k = 2
    while (path.parent / f"{path.name}-{k}").exists():
        k += 1
    return path.parent / f"{path.name}-{k}"


def log_path(results) -> Path:
    """NAME.results.xlsx -> NAME.results.log beside it; a results folder keeps its log inside, as solve.log
    (a folder NAME.results beside NAME.results.xlsx would otherwise claim the same log name)."""
    p = Path(results)
    return p.with_suffix(".log") if p.suffix.lower() == ".xlsx" else p / "solve.log"


def require_parquet() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise PlannerError("--format parquet needs pyarrow: pip install 'bloc-planner[parquet]' (or pip install "
                           "pyarrow)") from None


# ---------------------------------------------------------------- writing
def write_results(target, sheets: dict[str, pd.DataFrame], fmt: str = "xlsx", charts=None, inputs=()) -> Path:
    """Write the results (``sheets``: summary first, then the tables and sources) as ``fmt`` to ``target``
    (a .xlsx path, or the folder for csv/parquet); returns where they went."""
    sheets = dict(sheets)
    glossary = glossary_frame(sheets)
    if fmt == "xlsx":
        from planner.report.xlsio import write_workbook

        summary = sheets.get("summary")
        return write_workbook(target, {**sheets, "glossary": glossary}, charts=charts, inputs=inputs,
                              front=(lambda wb: front_sheet(wb, summary, list(sheets) + ["glossary"] + (["charts", "chart_data"] if charts else [])))
                              if summary is not None else None)
    if fmt not in FORMATS:
        raise PlannerError(f"unknown results format '{fmt}' (choose {', '.join(FORMATS)})")
    if fmt == "parquet":
        require_parquet()
    return write_folder(Path(target), {**sheets, "glossary": glossary}, fmt)


def _json_value(v):
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        x = float(v)
        return x if math.isfinite(x) else None  # JSON has no NaN or inf
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return str(v)


def summary_dict(summary: pd.DataFrame) -> dict:
    return {str(k): _json_value(v) for k, v in zip(summary["key"], summary["value"])}


def _arrow_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed types (text and numbers) as text, missing values kept: Parquet columns have one type."""
    out = df
    for c in df.columns:
        s = df[c]
        if s.dtype == object:
            kind = pd.api.types.infer_dtype(s, skipna=True)
            if kind not in ("string", "empty", "boolean", "integer", "floating", "mixed-integer-float"):
                if out is df:
                    out = df.copy()
                out[c] = s.map(lambda v: v if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    out.columns = [str(c) for c in out.columns]
    return out


def write_folder(target: Path, sheets: dict[str, pd.DataFrame], fmt: str) -> Path:
    """One file per table plus summary.json in a temporary folder, renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    old = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        for name, df in sheets.items():
            if name == "summary":
                (tmp / SUMMARY_JSON).write_text(json.dumps(summary_dict(df), indent=1, ensure_ascii=False) + "\n",
                                                encoding="utf-8")
                continue
            if fmt == "csv":
                df.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8")
            else:
                _arrow_safe(df).to_parquet(tmp / f"{name}.parquet", index=False)
        if target.exists():  # --force: the old folder steps aside, the new one takes its name, the old one goes
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and (old / target.name).exists() and not target.exists():
            os.replace(old / target.name, target)  # put the old results back
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_log(path, text: str) -> Path:
    """The solve's log, atomically."""
    def fill(tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return atomic_write(path, fill)


# ---------------------------------------------------------------- reading (compare)
def is_results_folder(path) -> bool:
    return Path(path).is_dir() and (Path(path) / SUMMARY_JSON).is_file()


def read_folder(path) -> dict[str, pd.DataFrame]:
    """A results folder as the sheets of a results workbook: summary (key/value) and one frame per table."""
    path = Path(path)
    if not is_results_folder(path):
        raise PlannerError(f"{path}: not a results folder (no {SUMMARY_JSON}; write one with planner solve "
                           "--format csv or parquet)")
    try:
        summary = json.loads((path / SUMMARY_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise PlannerError(f"{path / SUMMARY_JSON}: cannot be read ({e})") from e
    if not isinstance(summary, dict):
        raise PlannerError(f"{path / SUMMARY_JSON}: not a JSON object of key: value")
    book = {"summary": pd.DataFrame({"key": list(summary), "value": pd.Series(list(summary.values()),
                                                                              dtype=object)})}
    for f in sorted(path.iterdir()):
        name, suf = f.stem, f.suffix.lower()
        if name in ("glossary", "sources") or suf not in (".csv", ".parquet"):
            continue
        try:
            if suf == ".csv":
                book[name] = pd.read_csv(f, keep_default_na=False, na_values=[""], encoding="utf-8")
            else:
                require_parquet()
                book[name] = pd.read_parquet(f)
        except PlannerError:
            raise
        except Exception as e:
            raise PlannerError(f"{f}: cannot be read ({type(e).__name__}: {e})") from e
    return book


# ---------------------------------------------------------------- the front sheet
_CATEGORY_KEYS = ("expected_cost_musd", "expected_floor_support_musd", "expected_tariff_revenue_musd",
                  "expected_shortage_t")
_FINDINGS = ["status", "objective_musd", "expected_cost_musd", "mip_gap", "modules_built", "offtakes_signed",
             "worst_dependence_share", "worst_dependence_at", "expected_shortage_t", "expected_floor_support_musd",
             "expected_tariff_revenue_musd", "floor_note"]
_RUN = ["objective_mode", "risk_aversion", "scenarios", "scenario_only", "years", "base_year", "discount_rate",
        "mip_dual_bound_musd", "solve_time_s", "input_path", "input_sha256", "timestamp", "planner_version",
        "highs_version", "money", "shadow_prices"]


def front_rows(summary: pd.DataFrame) -> list[tuple[str, list[tuple[str, object]]]]:
    """The front sheet's sections: (title, [(key, value), ...]), key findings first."""
    vals = {}
    for k, v in zip(summary["key"].astype(str), summary["value"]):
        vals.setdefault(k, v)

    def pick(keys):
        return [(k, vals[k]) for k in keys if k in vals and not (k == "scenario_only" and not vals[k])]

    cats = [(k, v) for k, v in vals.items() if k.startswith("expected_") and k.endswith("_musd")
            and k not in _CATEGORY_KEYS]
    cats.sort(key=lambda kv: -abs(kv[1]) if isinstance(kv[1], (int, float)) and kv[1] == kv[1] else 0)
    scen = [(k, v) for k, v in vals.items() if k.startswith("cost_") and k.endswith("_musd")]
    return [("Key findings", pick(_FINDINGS)),
            ("Expected cost by category (- = revenue)", cats),
            ("Cost by scenario", scen),
            ("About this run", pick(_RUN))]


_WIDTHS = (42, 42, 14)  # label, value, unit: portrait A4 at full size


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _fit_row(ws, r: int, texts) -> None:
    """Row height for wrapped text (spreadsheets do not grow a row written by a program)."""
    lines = 1
    for t, w in texts:
        n = sum(max(1, math.ceil(len(part) / w)) for part in str(t).split("\n")) if t else 1
        lines = max(lines, n)
    if lines > 1:
        ws.set_row(r, 15 * lines)


def front_sheet(wb, summary: pd.DataFrame, sheet_names: list[str]) -> None:
    """The ``overview`` sheet, first in the workbook: plain-language labels, units, number formats."""
    ws = wb.add_worksheet(FRONT)
    title = wb.add_format({"bold": True, "font_size": 14})
    sub = wb.add_format({"italic": True, "font_color": "#555555"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    label = wb.add_format({"text_wrap": True, "valign": "top"})
    text = wb.add_format({"text_wrap": True, "valign": "top"})
    unit = wb.add_format({"font_color": "#555555", "valign": "top"})
    nums: dict = {}
    vals = dict(zip(summary["key"].astype(str), summary["value"]))
    for j, w in enumerate(_WIDTHS):
        ws.set_column(j, j, w)
    from planner.report.xlsio import print_setup

    print_setup(ws, sum(_WIDTHS), header=False)
    name = Path(str(vals.get("input_path", "") or "")).name or "the input workbook"
    ws.write_string(0, 0, f"Results of {name}", title)
    status = str(vals.get("status", ""))
    ws.write_string(1, 0, f"Status: {status}; solved {vals.get('timestamp', '')} (UTC). Money in MUSD "
                          f"discounted to {vals.get('base_year', 'the base year')}.", sub)
    r = 3
    for heading, items in front_rows(summary):
        if not items:
            continue
        for j, h in enumerate((heading, "value", "unit")):
            ws.write_string(r, j, h, head)
        r += 1
        for k, v in items:
            lab, u, nf = figure(k)
            ws.write_string(r, 0, lab, label)
            if isinstance(v, (bool, np.bool_)):
                ws.write_string(r, 1, "yes" if v else "no", text)
            elif isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(float(v)):
                if nf not in nums:
                    nums[nf] = wb.add_format({"num_format": nf or "General", "valign": "top"})
                ws.write_number(r, 1, float(v), nums[nf])
            elif v is None or (isinstance(v, float) and math.isnan(v)):
                ws.write_string(r, 1, "", text)
            else:
                ws.write_string(r, 1, str(v), text)
            ws.write_string(r, 2, u, unit)
            _fit_row(ws, r, [(lab, _WIDTHS[0]), ("" if _is_num(v) else str(v), _WIDTHS[1])])
            r += 1
        r += 1
    for j, h in enumerate(("Sheets in this workbook", "what it holds")):
        ws.write_string(r, j, h, head)
    r += 1
    for s in sheet_names:
        ws.write_string(r, 0, s, label)
        ws.write_string(r, 1, SHEETS.get(s, ""), text)
        _fit_row(ws, r, [(SHEETS.get(s, ""), _WIDTHS[1])])
        r += 1
    ws.write_string(r + 1, 0, "The glossary sheet explains every column; the summary sheet holds every figure "
                              "as key/value.", sub)
