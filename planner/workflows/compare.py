"""Compare results workbooks: headline figures side by side and every table aligned on its keys.

``planner compare A B [C ...] -o OUT.xlsx [--tol 1e-6] [--rel-tol 0]``

The first workbook is the reference; every other one is compared with it.

- ``headline``: every summary figure of every workbook side by side, with the
  difference and relative difference against the reference;
- one sheet per results table (investments, capacity, supply, ...): rows
  aligned on the table's keys (e.g. member, commodity, year, scenario); for
  each value column the values of every workbook, ``Δ X−A`` (absolute) and
  ``% X−A`` (relative to the reference); column ``rows`` marks rows found in
  only some workbooks; rows whose every difference is within the tolerance
  are hidden (left out), columns that never change are left out; changed
  cells are highlighted;
- ``notes``: what could not be aligned (a table or column missing in one
  workbook, different scenarios, members or years) and how many rows each
  table hid. Results of different input workbooks compare without failing.
- ``files``: which workbook each label stands for.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.problems import PlannerError
from planner.input.reader import check_results_file
from planner.report.schema import RESULT_SHEETS
from planner.workflows.sweep import TOLERANCE_NOTE, within_tolerance

KEYS = {s.name: list(s.keys) for s in RESULT_SHEETS if s.name != "summary"}  # the results schema's row keys
KEYS.update({  # coalition workbooks (planner coalition, SPEC §6)
    "allocation": ["member"],
    "coalitions": ["members"],
    "core": ["allocation"],
})
SKIP = {"summary", "sources", "charts", "chart_data", "headline", "notes", "files", "overview", "glossary"}
TABLE_ORDER = [s.name for s in RESULT_SHEETS if s.name != "summary"]
TERMINAL_FIGURES = re.compile(r"^(status|objective_musd|mip_gap|expected_.*|cost_.*_musd|modules_built|"
                              r"offtakes_signed|worst_dependence_share|worst_dependence_at|scenarios|years|"
                              r"method|c_N_musd|total_saving_musd|coalitions_solved|least_core_epsilon_musd)$")


# ------------------------------------------------------------------ reading
def read_results(path) -> dict[str, pd.DataFrame]:
    """A results workbook, or a results folder (``planner solve --format csv|parquet``), as its sheets."""
    path = Path(path)
    if not path.exists():
        raise PlannerError(f"{path}: file not found")
    if path.is_dir():
        from planner.report.formats import read_folder

        return read_folder(path)
    check_results_file(path)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as xl:
            book = {n: pd.read_excel(xl, sheet_name=n) for n in xl.sheet_names
                    if n not in ("charts", "chart_data", "sources", "overview", "glossary")}
    except Exception as e:
        raise PlannerError(f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from e
    if "summary" not in book or not {"key", "value"} <= set(book["summary"].columns):
        hint = " (it looks like an input workbook: solve it first)" if "settings" in book else ""
        raise PlannerError(f"{path}: not a results workbook (no summary sheet with key and value){hint}")
    return book


def letters(n: int) -> list[str]:
    """A, B, ..., Z, AA, AB ...: short labels for the column headers."""
    out = []
    for i in range(n):
        s, k = "", i
        while True:
            s = chr(65 + k % 26) + s
            k = k // 26 - 1
            if k < 0:
                break
        out.append(s)
    return out


def names_for(paths, width: int = 30) -> list[str]:
    """Short display names: file names without .results.xlsx, a prefix common to all cut off, long names
    shortened in the middle."""
    raw = [re.sub(r"\.results(-\d+)?$", r"\1", re.sub(r"\.xlsx$", "", Path(p).name, flags=re.I)) for p in paths]
    if len(raw) > 1 and len(set(raw)) == len(raw):
        pre = os.path.commonprefix(raw)
        cut = pre.rfind(".") + 1
        if cut >= 2:
            raw = [r[cut:] for r in raw]
    out = []
    for s in raw:
        s = s or "workbook"
        if len(s) > width:
            s = s[: width // 2 - 1] + "…" + s[-(width - width // 2):]
        base, k = s, 2
        while s in out:
            s = f"{base}#{k}"
            k += 1
        out.append(s)
    return out


def _key_text(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    return str(v)


def _num(v):
    if isinstance(v, (bool, np.bool_)):
        return float(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return None


# ------------------------------------------------------------------ headline
def headline_frame(books, labels, tol, rtol, names=None):
    order, vals = [], []
    for b in books:
        s = b["summary"].dropna(subset=["key"])
        s = s[~s["key"].astype(str).duplicated()]
        d = dict(zip(s["key"].astype(str), s["value"]))
        vals.append(d)
        order += [k for k in d if k not in order]
    rows = []
    ref = labels[0]
    names = names or labels
    gaps = [_gap_musd(d) for d in vals]
    for k in order:
        r = {"figure": k}
        raw = {}
        for lab, name, d in zip(labels, names, vals):
            v = d.get(k)
            raw[lab] = r[f"{lab}: {name}"] = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
        zero_if_missing = bool(re.match(r"^(expected|cost)_.*_musd$", k))  # a cost category absent = 0
        a = _num(raw[ref])
        if a is None and zero_if_missing and raw[ref] is None:
            a = 0.0
        for lab in labels[1:]:
            b = _num(raw[lab])
            if b is None and zero_if_missing and raw[lab] is None:
                b = 0.0
            dv = (b - a) if a is not None and b is not None else None
            if dv is not None and not changed(dv, a, tol, rtol):
                dv = 0.0
            r[f"Δ {lab}−{ref}"] = dv
            r[f"% {lab}−{ref}"] = dv / abs(a) if dv is not None and a not in (None, 0.0) else None
            g = gaps[0] + gaps[labels.index(lab)]
            money = k.endswith("_musd") and k not in ("mip_gap_musd", "mip_dual_bound_musd")
            r[f"note {lab}−{ref}"] = f"{TOLERANCE_NOTE} (±{g:,.3f} MUSD, the runs' combined gaps)" \
                if money and within_tolerance(dv, gaps[0], gaps[labels.index(lab)]) else ""
        rows.append(r)
    return pd.DataFrame(rows)


def _gap_musd(summary: dict) -> float:
    """A run's MIP gap in MUSD: the summary's mip_gap_musd, else mip_gap × |objective| (older results)."""
    g = _num(summary.get("mip_gap_musd"))
    if g is not None and g == g:
        return abs(g)
    share, obj = _num(summary.get("mip_gap")), _num(summary.get("objective_musd"))
    if share is not None and obj is not None and share == share and obj == obj:
        return abs(share * obj)
    return 0.0


def changed(d, ref, tol, rtol) -> bool:
    if d is None or d != d:
        return False
    ad = abs(d)
    return ad > tol and ad > rtol * abs(ref if ref is not None and ref == ref else 0.0)


# ------------------------------------------------------------------ tables
def align_table(name, frames, labels, tol, rtol, notes):
    """One aligned table; returns (DataFrame or None, info dict)."""
    present = [(lab, df) for lab, df in zip(labels, frames) if df is not None]
    missing = [lab for lab, df in zip(labels, frames) if df is None]
    if missing:
        notes.append((name, "table missing", f"no '{name}' sheet in {', '.join(missing)}; its rows show as "
                                             "missing there"))
    if not present:
        return None, {}
    keys = KEYS.get(name)
    if keys is None:  # an unknown table: text columns and year are the keys
        first = present[0][1]
        keys = [c for c in first.columns if c == "year" or not pd.api.types.is_numeric_dtype(first[c])]
    lacking = {lab: [k for k in keys if k not in df.columns] for lab, df in present}
    if any(lacking.values()):
        common = [k for k in keys if all(k in df.columns for _, df in present)]
        for lab, miss in lacking.items():
            if miss:
                notes.append((name, "key column missing", f"{lab} has no column {', '.join(miss)}; aligned on "
                                                          f"{', '.join(common) or 'nothing'}"))
        keys = common
    if not keys:
        notes.append((name, "not aligned", "no key column common to every workbook; table left out"))
        return None, {}
    numeric, attrs = [], []
    for _, df in present:
        for c in df.columns:
            if c in keys or c.startswith("Unnamed"):
                continue
            is_num = (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])) \
                and not str(c).endswith("year")  # a year (online_year) describes the row, no difference of it
            if is_num and c not in numeric and c not in attrs:
                numeric.append(c)
            elif not is_num and c not in attrs and c not in numeric:
                attrs.append(c)
    for c in numeric:
        miss = [lab for lab, df in present if c not in df.columns]
        if miss:
            notes.append((name, "column missing", f"column '{c}' not in {', '.join(miss)}"))
    pieces = []
    for lab, df in zip(labels, frames):
        if df is None:
            continue
        d = df.copy()
        for k in keys:
            d[k] = d[k].map(_key_text)
        dup = d.duplicated(subset=keys, keep=False)
        if dup.any():
            d["#"] = d.groupby(keys).cumcount() + 1
        else:
            d["#"] = 1
        d = d.set_index(keys + ["#"])
        part = pd.DataFrame(index=d.index)
        part[f"__in {lab}"] = True
        for c in attrs:
            if c in d.columns:
                part[f"__attr {c} {lab}"] = d[c].astype(object)
        for c in numeric:
            if c in d.columns:
                part[f"{c} [{lab}]"] = pd.to_numeric(d[c].map(lambda v: float(v) if isinstance(v, (bool, np.bool_))
                                                               else v), errors="coerce")
        pieces.append(part)
    allk = pd.concat(pieces, axis=1, join="outer", sort=False)
    # row order: reference order first, then rows new in the others
    seen, order = set(), []
    for p in pieces:
        for k in p.index:
            if k not in seen:
                seen.add(k)
                order.append(k)
    allk = allk.loc[order]
    out = allk.index.to_frame(index=False)
    multi = (out["#"] > 1).any()
    if not multi:
        out = out.drop(columns="#")
    for c in attrs:
        val = pd.Series([None] * len(allk), index=allk.index, dtype=object)
        for lab in labels:
            col = f"__attr {c} {lab}"
            if col in allk:
                val = val.where(val.notna(), allk[col])
        out[c] = val.to_numpy()
    inside = np.column_stack([allk[f"__in {lab}"].fillna(False).astype(bool).to_numpy() if f"__in {lab}" in allk
                              else np.zeros(len(allk), dtype=bool) for lab in labels])
    everywhere = inside.all(axis=1)
    if len(labels) == 2:
        rows_txt = np.where(everywhere, "both", np.where(inside[:, 0], f"only in {labels[0]}",
                                                          f"only in {labels[1]}"))
    else:
        rows_txt = ["all" if e else "only in " + ", ".join(l for l, x in zip(labels, row) if x)
                    for e, row in zip(everywhere, inside)]
    out["rows"] = rows_txt
    ref = labels[0]
    show = ~everywhere
    groups = []
    for c in numeric:
        a = allk[f"{c} [{ref}]"].to_numpy(dtype=float) if f"{c} [{ref}]" in allk else np.full(len(allk), np.nan)
        cols = {f"{c} {ref}": a}
        col_changed = False
        for j, lab in enumerate(labels[1:], 1):
            b = allk[f"{c} [{lab}]"].to_numpy(dtype=float) if f"{c} [{lab}]" in allk else np.full(len(allk), np.nan)
            # a row missing on one side counts as zero there (results tables leave zero rows out), and the
            # 'rows' column says it is missing
            either = inside[:, 0] | inside[:, j]
            d = np.where(either, np.nan_to_num(b, nan=0.0) - np.nan_to_num(a, nan=0.0), np.nan)
            ch = either & (np.abs(np.nan_to_num(d)) > tol) & (np.abs(np.nan_to_num(d)) > rtol * np.abs(
                np.nan_to_num(a)))
            col_changed |= bool(ch.any())
            show |= ch
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(ch & inside[:, 0] & (np.abs(np.nan_to_num(a)) > 0), d / np.abs(a), np.nan)
            cols[f"{c} {lab}"] = b
            cols[f"Δ {c} {lab}−{ref}"] = np.where(ch, d, np.where(either, 0.0, np.nan))
            cols[f"% {c} {lab}−{ref}"] = rel
        groups.append((c, cols, col_changed))
    kept = [c for c, _, ch in groups if ch]
    dropped = [c for c, _, ch in groups if not ch]
    for c, cols, ch in groups:
        if ch:
            for k, v in cols.items():
                out[k] = v
    n_hidden = int((~show).sum())
    info = {"table": name, "keys": ", ".join(keys), "rows": len(out), "shown": int(show.sum()), "hidden": n_hidden,
            "changed": int((show & everywhere).sum()),
            **{f"rows not in all, in {lab}": int((inside[:, j] & ~everywhere).sum()) for j, lab in enumerate(labels)},
            "unchanged columns": ", ".join(dropped)}
    out = out[show].reset_index(drop=True)
    info["value_columns"] = kept
    return out, info


def _diff_notes(books, labels, notes):
    """What differs in the shape of the runs: scenarios, members, commodities, years."""
    def values(b, sheet, col):
        df = b.get(sheet)
        if df is None or col not in df.columns:
            return None
        return sorted({_key_text(v) for v in df[col].dropna()})

    for what, sheet, col in (("scenarios", "costs", "scenario"), ("members", "fiscal", "member"),
                             ("commodities", "supply", "commodity"), ("years", "supply", "year"),
                             ("processes", "capacity", "process")):
        sets = [values(b, sheet, col) for b in books]
        if any(s is None for s in sets):
            continue
        ref = set(sets[0])
        for lab, s in zip(labels[1:], sets[1:]):
            extra, lack = sorted(set(s) - ref), sorted(ref - set(s))
            if extra or lack:
                txt = []
                if extra:
                    txt.append(f"{lab} has {', '.join(extra[:20])}{' ...' if len(extra) > 20 else ''} "
                               f"that {labels[0]} has not")
                if lack:
                    txt.append(f"{lab} lacks {', '.join(lack[:20])}{' ...' if len(lack) > 20 else ''}")
                notes.append(("(all)", f"different {what}", "; ".join(txt) + ": their rows show as 'only in'"))


def compare(paths, out, tol: float = 1e-6, rtol: float = 0.0, force: bool = False):
    """Write the comparison workbook; returns (path written, headline DataFrame, table info list, notes)."""
    from planner.common.files import free_name
    from planner.report.xlsio import write_workbook

    if len(paths) < 2:
        raise PlannerError("compare needs at least two results workbooks")
    if tol < 0 or rtol < 0:
        raise PlannerError("--tol and --rel-tol must be >= 0")
    books = [read_results(p) for p in paths]
    labels = letters(len(paths))
    names = names_for(paths)
    notes: list[tuple] = []
    head = headline_frame(books, labels, tol, rtol, names)
    _diff_notes(books, labels, notes)
    tables = [n for n in TABLE_ORDER if any(n in b for b in books)]
    tables += sorted({n for b in books for n in b if n not in SKIP and n not in tables})
    sheets = {"headline": head}
    infos = []
    for n in tables:
        frames = [b.get(n) for b in books]
        df, info = align_table(n, frames, labels, tol, rtol, notes)
        if df is None:
            continue
        infos.append(info)
        sheets[n[:31]] = df
    _plan_not_cost(books, labels, head, infos, notes)
    files = pd.DataFrame([{"label": lab, "name": nm, "results_workbook": str(Path(p).resolve()),
                           "input_path": _summary_value(b, "input_path"),
                           "input_sha256": _summary_value(b, "input_sha256"),
                           "status": _summary_value(b, "status"), "scenarios": _summary_value(b, "scenarios"),
                           "years": _summary_value(b, "years"), "timestamp": _summary_value(b, "timestamp")}
                          for lab, nm, p, b in zip(labels, names, paths, books)])
    tinfo = pd.DataFrame([{k: v for k, v in i.items() if k != "value_columns"} for i in infos])
    note_df = pd.DataFrame(notes, columns=["table", "issue", "detail"]) if notes else pd.DataFrame(
        {"table": [], "issue": [], "detail": []})
    sheets["tables"] = tinfo
    sheets["notes"] = note_df
    sheets["files"] = files
    ordered = {"headline": head, "tables": tinfo, "notes": note_df, "files": files}
    ordered.update({k: v for k, v in sheets.items() if k not in ordered})
    target = free_name(Path(out), force)
    written = write_workbook(target, ordered, charts=lambda wb: _format(wb, ordered, tol, labels), inputs=list(paths))
    return written, head, infos, notes, labels, names


def _plan_not_cost(books, labels, head, infos, notes) -> None:
    """A note in words when tables differ but the objective does not (within --tol/--rel-tol or the runs' MIP
    gap): e.g. a floor moved in resource mode, where floor support is a transfer, not a cost."""
    from planner.report.notes import plan_not_cost

    row = head[head["figure"] == "objective_musd"]
    if not len(row):
        return
    row = row.iloc[0]
    ref = labels[0]
    a = _num(_summary_value(books[0], "objective_musd"))
    gap = max((_num(_summary_value(b, "mip_gap")) or 0.0) for b in books)
    equal, exact = a is not None, True
    for lab in labels[1:]:
        d = row[f"Δ {lab}−{ref}"]
        if d is None or d != d or abs(d) > gap * abs(a or 0.0) + 1e-9:
            equal = False
        elif d != 0:
            exact = False
    changed_tables = [i["table"] for i in infos if i.get("shown", 0) > 0]
    modes = [str(_summary_value(b, "objective_mode")) for b in books]
    text = plan_not_cost(labels, modes, equal, changed_tables, a, "fiscal" in changed_tables,
                         within_gap=not exact)
    if text:
        notes.append(("(all)", "plan differs, cost does not", text))


def _summary_value(book, key):
    s = book["summary"]
    hit = s.loc[s["key"].astype(str) == key, "value"]
    return "" if not len(hit) or hit.iloc[0] != hit.iloc[0] else hit.iloc[0]


def _format(wb, sheets, tol, labels):
    """Number formats by column and highlighting of changed cells (conditional formats, not formulas in cells)."""
    from xlsxwriter.utility import xl_col_to_name

    from planner.report.xlsio import number_format

    hi = wb.add_format({"bg_color": "#FFEB9C"})
    side = wb.add_format({"bg_color": "#F8CBAD"})
    pct = wb.add_format({"num_format": "0.0%"})
    fmts = {}
    for name, df in sheets.items():
        ws = wb.get_worksheet_by_name(name[:31])
        if ws is None or not len(df.columns):
            continue
        n = len(df)
        cols = list(df.columns)
        for j, c in enumerate(cols):
            c = str(c)
            m = re.match(r"^(Δ |% )?(.*?) ?([A-Z]+(?:−[A-Z]+)?)$", c)
            role = "other"
            base = c
            if name != "headline" and m and m.group(3).split("−")[0] in labels:
                role = {"Δ ": "delta", "% ": "rel", None: "value"}[m.group(1)]
                base = m.group(2)
            elif name == "headline" and (c.startswith(("Δ ", "% ")) or ":" in c):
                role = "rel" if c.startswith("% ") else "headline"
            if role == "rel":
                f = pct
            elif role in ("value", "delta"):
                nf = number_format(base)
                if nf and nf not in fmts:
                    fmts[nf] = wb.add_format({"num_format": nf})
                f = fmts.get(nf) if nf else None
            else:
                f = None
            width = min(max(len(c) + 2, 10), 42)
            if role != "other":
                ws.set_column(j, j, width, f)
            if n == 0:
                continue
            rng = f"{xl_col_to_name(j)}2:{xl_col_to_name(j)}{n + 1}"
            if role == "delta" or (name == "headline" and c.startswith("Δ ")):
                ws.conditional_format(rng, {"type": "cell", "criteria": "not between", "minimum": -tol,
                                            "maximum": tol, "format": hi})
                if role == "delta" and j >= 1:  # the compared value just left of its difference, too
                    vcol, dcol = xl_col_to_name(j - 1), xl_col_to_name(j)
                    ws.conditional_format(f"{vcol}2:{vcol}{n + 1}",
                                          {"type": "formula", "criteria": f"=ABS(${dcol}2)>{tol!r}", "format": hi})
            elif c == "rows":
                ws.conditional_format(rng, {"type": "text", "criteria": "begins with", "value": "only in",
                                            "format": side})


def print_compare(head, infos, notes, labels, tol, names=None) -> None:
    """Headline deltas, per-table counts and notes on the terminal (stdout). Each table is drawn whole when
    it fits the terminal and vertically (one block per figure or table) when it does not: a number is never
    split or cut."""
    from rich.text import Text

    from planner.workflows.terminal import Col, console, print_table

    names = names or labels
    con = console()
    ref = labels[0]
    for lab, name in zip(labels, names):
        con.print(Text(f"{lab} = {name}" + (" (reference)" if lab == ref else "")), soft_wrap=True)
    cols = [Col("figure", wrap=True)] + [Col(lab, "right") for lab in labels]   # long names may wrap at '_'
    for lab in labels[1:]:
        cols += [Col(f"Δ {lab}−{ref}", "right"), Col(f"% {lab}−{ref}", "right")]
    rows = []
    tol_rows = False
    for _, r in head.iterrows():
        if not TERMINAL_FIGURES.match(str(r["figure"])):
            continue
        cells = [str(r["figure"])]
        for lab, name in zip(labels, names):
            v = r[f"{lab}: {name}"]
            cells.append(_fmt(v))
            if isinstance(v, str) and len(v) > 16:   # long text (the scenario list) may fold; numbers never
                cols[len(cells) - 1].wrap = True
        for lab in labels[1:]:
            d, p = r[f"Δ {lab}−{ref}"], r[f"% {lab}−{ref}"]
            changed_ = d is not None and d == d and d != 0
            if changed_ and r.get(f"note {lab}−{ref}"):  # within the runs' MIP gaps: noise, not an effect
                tol_rows = True
                changed_ = False
                cells.append(Text("≈" + _fmt(d, sign=True), style="dim"))
                cells.append("")
                continue
            cells.append(Text(_fmt(d, sign=True), style="yellow") if changed_ else ("0" if d == 0 else ""))
            cells.append(f"{100 * p:+.2f}%" if p is not None and p == p and changed_ else "")
        rows.append(cells)
    print_table(con, f"headline figures, differences against {ref}", cols, rows)
    if tol_rows:
        con.print(Text(f"≈: {TOLERANCE_NOTE}: the difference is no larger than the two runs' MIP gaps "
                       "(mip_gap_musd) added, so it is solver noise, not an effect"), soft_wrap=True)
    if infos:
        tcols = [Col("table"), Col("rows shown", "right"), Col("changed", "right")] + \
                [Col(f"only in some, in {lab}", "right") for lab in labels] + [Col("hidden", "right")]
        trows = [[i["table"], str(i["shown"]), str(i["changed"]),
                  *[str(i.get(f"rows not in all, in {lab}", 0)) for lab in labels], str(i["hidden"])]
                 for i in infos]
        print_table(con, f"tables (differences within {tol:g} hidden)", tcols, trows)
    for table, issue, detail in notes:
        con.print(Text("note", style="yellow") + Text(f" {table}: {issue}: {detail}"))


def _fmt(v, sign=False):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
        if x.is_integer() and abs(x) < 1e15:
            return f"{x:+,.0f}" if sign else f"{x:,.0f}"
        return f"{x:+,.4g}" if sign and abs(x) < 1 else (f"{x:+,.3f}" if sign else (
            f"{x:,.4g}" if abs(x) < 1 else f"{x:,.3f}"))
    return str(v)
