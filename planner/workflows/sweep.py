"""Parameter sweeps: one solve per point of a grid, and a summary workbook.

``planner sweep PATH --set KEY=V1,V2,... [--set KEY2=a:b:step ...]``

- KEY is a settings key (``discount_rate``) or one cell of an input table,
  ``sheet.rowkey.column`` (``commodities.NDPR_OX.floor_price_usd_per_t``; rows of
  sheets keyed by several columns join the key parts with '/', e.g.
  ``suppliers.CHN/NDPR_OX.tariff_usd_per_t``; sheets without a key name the
  row by its Excel row number, e.g. ``security.5.max_concern_share``). Cells
  are changed in memory before validation; the input file is never modified.
- values: a comma list ``V1,V2,...`` (no thousands separators) or a range
  ``start:stop:step`` with ``stop`` included when the steps reach it;
- several ``--set`` make the full grid (the first key varies slowest).

Writes one results workbook per point and ``sweep_summary.xlsx`` (sheets
``points``: the headline figures per point; ``sweep``: what was swept; and
``charts``: the objective, floor support and worst dependence share against
the first swept key, one line per combination of the other keys).
"""
from __future__ import annotations

import itertools
import logging
import math
import re
from pathlib import Path

import pandas as pd

from planner.common.problems import PlannerError
from planner.report.schema import COL
from planner.workflows.batch import PREVIOUS, Task, reserve_names, run_tasks

log = logging.getLogger("planner")


# ------------------------------------------------------------------ parsing
def _num(s: str):
    try:
        return int(s)
    except ValueError:
        return float(s)


def parse_values(key: str, spec: str) -> list[str]:
    """``V1,V2,...`` or ``start:stop:step`` -> the list of values (as text, the way --set takes them)."""
    spec = spec.strip()
    if re.fullmatch(r"\s*[^,:]+:[^,:]+:[^,:]+\s*", spec):
        try:
            a, b, step = (_num(x.strip()) for x in spec.split(":"))
        except ValueError:
            raise PlannerError(f"--set {key}={spec}: a range is start:stop:step with numbers") from None
        if step == 0 or (b - a) * step < 0:
            raise PlannerError(f"--set {key}={spec}: the step must be non-zero and go from start towards stop")
        n = int(math.floor((b - a) / step + 1e-9)) + 1
        if n > 10_000:
            raise PlannerError(f"--set {key}={spec}: {n} values; a sweep takes at most 10,000 points")
        vals = [a + i * step for i in range(n)]
        if all(isinstance(x, int) for x in (a, b, step)):
            return [str(int(v)) for v in vals]
        return [repr(float(f"{v:.12g}")) for v in vals]
    vals = [v.strip() for v in spec.split(",")]
    if not vals or any(v == "" for v in vals) and len(vals) > 1:
        raise PlannerError(f"--set {key}={spec}: an empty value in the list (write V1,V2,... without thousands "
                           "separators)")
    return vals


def parse_grid(sets) -> tuple[list[str], list[dict]]:
    """--set options -> (keys, points): the full grid, first key slowest."""
    keys, lists = [], []
    for s in sets:
        if "=" not in s:
            raise PlannerError(f"--set expects KEY=V1,V2,... or KEY=start:stop:step (got '{s}')")
        k, v = s.split("=", 1)
        k = k.strip()
        if k in keys:
            raise PlannerError(f"--set {k} is given twice; put every value in one list")
        keys.append(k)
        lists.append(parse_values(k, v))
    points = [dict(zip(keys, combo)) for combo in itertools.product(*lists)]
    if len(points) > 10_000:
        raise PlannerError(f"the grid has {len(points):,} points; a sweep takes at most 10,000")
    return keys, points


def _typed(v: str):
    try:
        x = float(v)
        return int(x) if x.is_integer() and re.fullmatch(r"[+-]?\d+", v.strip()) else x
    except ValueError:
        return v


SLUG_MAX = 150  # characters of a point's part of a file name (file names stop at 255)


def _slug(point: dict) -> str:
    """The point's part of its file name: every swept key whole (``demand.USA/NDFEB/2030.demand_t=9000``
    -> ``demand.USA-NDFEB-2030.demand_t=9000``), so two points never differ only in a part left out. Over
    :data:`SLUG_MAX` characters the middle of each key is shortened and a short digest of the whole point
    keeps the names apart."""
    def clean(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9=.+_-]+", "-", text)

    s = clean("_".join(f"{k}={v}" for k, v in point.items()))
    if len(s) <= SLUG_MAX:
        return s
    import hashlib

    digest = hashlib.sha1(repr(sorted(point.items())).encode()).hexdigest()[:8]
    n = max(len(point), 1)
    room = max(8, (SLUG_MAX - 9 - (n - 1)) // n)
    parts = []
    for k, v in point.items():
        v = clean(str(v))
        keep = max(4, room - len(v) - 1)
        bits = k.split(".")
        if len(k) > keep and len(bits) >= 3:      # the row key tells points apart: shorten sheet and column first
            k = f"{bits[0][:4]}.{'.'.join(bits[1:-1])}.{bits[-1][:6]}"
        k = clean(k)
        if len(k) > keep:
            k = k[: keep // 2] + "~" + k[-(keep - keep // 2 - 1):]
        parts.append(f"{k}={v}")
    return ("_".join(parts))[: SLUG_MAX - 9] + "_" + digest


# ------------------------------------------------------------------ running
def run_sweep(path: str, sets, out: str | None = None, overrides: dict | None = None, scenario: str | None = None,
              force: bool = False, jobs: int = 1, executor: str = "process", scheduler: str | None = None,
              progress: bool = True, duals: bool = True):
    """Solve every point; returns (summary DataFrame, outcomes, path of sweep_summary.xlsx).
    Every point after the first starts from the plan solved before it (a MIP start; with --jobs, the first
    point's plan), and a point whose model differs from the one solved before it in the same process only in
    coefficients reuses that HiGHS model (an LP warm-starts from its basis; planner.solver.highs.reusing, in
    run_tasks), and supply chains whose arrays did not change are not solved again; the workbook is parsed
    once (planner.input.reader.keeping_reads).  ``duals`` False skips the fixed-integer LP of each point
    (headline figures only)."""
    from planner.input.reader import keeping_reads

    with keeping_reads():
        return _run_sweep(path, sets, out, overrides, scenario, force, jobs, executor, scheduler, progress, duals)


def _run_sweep(path, sets, out, overrides, scenario, force, jobs, executor, scheduler, progress, duals):
    from planner.input.overrides import check_override_keys
    from planner.report.xlsio import write_workbook

    keys, points = parse_grid(sets)
    problems = check_override_keys(path, keys)
    if problems:
        raise PlannerError("\n".join(problems))
    if scenario is not None:  # once, before any point runs (each point would fail with the same message)
        from planner.common.suggest import did_you_mean
        from planner.input.reader import read_workbook

        known = [str(s) for s in read_workbook(path).tables["scenarios"]["scenario"]] or ["base"]
        if scenario not in known:
            raise PlannerError(f"--scenario {scenario}: no such scenario in {path}{did_you_mean(scenario, known)} "
                               f"(scenarios: {', '.join(known)})")
    stem = Path(path).stem
    folder = Path(out) if out else Path("results") / f"{stem}.sweep"
    if folder.suffix.lower() == ".xlsx":
        raise PlannerError("sweep -o is a folder (one results workbook per point and sweep_summary.xlsx)")
    wanted = [folder / f"{stem}.p{i:02d}_{_slug(p)}.results.xlsx" for i, p in enumerate(points, 1)]
    targets = reserve_names(wanted, force)
    renamed = [t for w, t in zip(wanted, targets) if Path(w) != Path(t)]
    if renamed:
        log.warning("warning: %d point(s) of %s hold earlier results in %s; this sweep writes beside them "
                    "(e.g. %s; use --force to overwrite, or -o for another folder)", len(renamed), stem, folder,
                    Path(renamed[0]).name)
    tasks = [Task(path=str(path), label=f"point {i}: " + ", ".join(f"{k.split('.', 1)[-1]}={v}" for k, v in p.items()),
                  out=str(t), overrides={**(overrides or {}), **p}, scenario=scenario, force=force,
                  keep=("investments", "supply"), meta={"point": i, **p},
                  start=PREVIOUS if i > 1 else None, duals=duals)
             for i, (p, t) in enumerate(zip(points, targets), 1)]
    outcomes = run_tasks(tasks, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                         title=f"sweep of {len(tasks)} point(s)")
    summary = summary_frame(keys, outcomes)
    info = pd.DataFrame([("input", str(Path(path).resolve())), ("scenario_only", scenario or ""),
                         ("points", len(points))]
                        + [(f"swept {k}", ", ".join(dict.fromkeys(p[k] for p in points))) for k in keys]
                        + [(f"fixed {k}", v) for k, v in (overrides or {}).items()]
                        + [("note", "one results workbook per point in this folder; the 'results' column of "
                                    "'points' names it. Money in MUSD discounted to base_year; expected = "
                                    "probability-weighted.")],
                        columns=["key", "value"])
    target = reserve_names([folder / "sweep_summary.xlsx"], force)[0]
    if Path(target).name != "sweep_summary.xlsx":
        log.warning("warning: %s holds an earlier sweep's summary; this one is %s (use --force to overwrite)",
                    folder / "sweep_summary.xlsx", Path(target).name)
    sheets = {"points": summary, "sweep": info}
    written = write_workbook(target, sheets, charts=lambda wb: add_sweep_charts(wb, summary, keys),
                             inputs=[path])
    return summary, outcomes, written


def summary_frame(keys: list[str], outcomes) -> pd.DataFrame:
    """One row per point: swept values, status, and the headline figures."""
    rows = []
    cats, scen = [], []
    for oc in outcomes:
        for k in oc.headline:
            if k.startswith("expected_") and k.endswith("_musd") and k not in (
                    "expected_cost_musd", "expected_floor_support_musd", "expected_tariff_revenue_musd") \
                    and k not in cats:
                cats.append(k)
            if k.startswith("cost_") and k.endswith("_musd") and k not in scen:
                scen.append(k)
    commodities = []
    for oc in outcomes:
        for name in ("investments", "supply"):
            df = (oc.tables or {}).get(name)
            if df is not None and len(df):
                commodities += [c for c in df["commodity"].unique() if c not in commodities]
    commodities.sort()
    for oc in outcomes:
        h = oc.headline or {}
        r = {"point": oc.meta.get("point")}
        for k in keys:
            r[k] = _typed(oc.meta.get(k, ""))
        r.update(status=oc.status, objective_musd=oc.objective, mip_gap=oc.gap,
                 mip_gap_musd=h.get("mip_gap_musd", float("nan")),
                 expected_cost_musd=h.get("expected_cost_musd", float("nan")))
        ok = not oc.exit_code
        for k in cats:
            r[k] = h.get(k, 0.0) if ok else float("nan")
        for k in scen:
            r[k] = h.get(k, float("nan"))
        for k in ("expected_floor_support_musd", "expected_tariff_revenue_musd", "expected_shortage_t",
                  "modules_built", "offtakes_signed", "worst_dependence_share"):
            r[k] = h.get(k, 0.0 if ok and k != "worst_dependence_share" else float("nan"))
        r["worst_dependence_at"] = h.get("worst_dependence_at", "")
        inv = (oc.tables or {}).get("investments")
        sup = (oc.tables or {}).get("supply")
        for c in commodities:
            if inv is not None and len(inv):
                sel = inv[(inv["commodity"] == c) & (inv["kind"] == "process modules")]
                r[f"built_{c}_tpa"] = float(sel[COL.capacity_added_t].sum())
                sel = inv[(inv["commodity"] == c) & (inv["kind"] == "stockpile capacity")]
                r[f"stock_built_{c}_t"] = float(sel[COL.capacity_added_t].sum())
            else:
                r[f"built_{c}_tpa"] = 0.0 if ok else float("nan")
                r[f"stock_built_{c}_t"] = 0.0 if ok else float("nan")
        worst = worst_shares(sup) if ok and sup is not None else {}
        for c in commodities:
            r[f"dependence_{c}_share"] = worst.get(c, 0.0) if ok and sup is not None else float("nan")
        r["results"] = str(oc.out) if oc.out else ""
        r["message"] = (oc.message or "")[:2000]
        rows.append(r)
    df = pd.DataFrame(rows)
    if len(df):
        add_tolerance_columns(df)
    # drop commodity columns that are zero at every point (keeps the sheet readable)
    for c in commodities:
        for col in (f"built_{c}_tpa", f"stock_built_{c}_t", f"dependence_{c}_share"):
            if col in df and not (df[col].fillna(0) != 0).any():
                df = df.drop(columns=col)
    return df


TOLERANCE_NOTE = "within solver tolerance"


def within_tolerance(delta: float, gap_a: float, gap_b: float) -> bool:
    """A difference of two solved objectives no larger than their combined MIP gaps (MUSD) is solver noise:
    either run may lie anywhere within its gap of its own optimum (issue 18)."""
    if delta is None or delta != delta or delta == 0:
        return False
    g = (gap_a if gap_a == gap_a else 0.0) + (gap_b if gap_b == gap_b else 0.0)
    return abs(delta) <= g


def add_tolerance_columns(df: pd.DataFrame) -> None:
    """``objective_change_musd`` (against the point before) and ``change_note``: "within solver tolerance"
    when the change is no larger than the two points' combined MIP gaps in MUSD."""
    obj = pd.to_numeric(df["objective_musd"], errors="coerce")
    gap = pd.to_numeric(df.get("mip_gap_musd", pd.Series(float("nan"), index=df.index)), errors="coerce")
    ch = obj.diff()
    note = [""] + [f"{TOLERANCE_NOTE} (|change| <= {g0 + g1:,.3f} MUSD, the two points' gaps)"
                   if within_tolerance(d, g0, g1) else ""
                   for d, g0, g1 in zip(ch.iloc[1:], gap.fillna(0).iloc[:-1], gap.fillna(0).iloc[1:])]
    pos = list(df.columns).index("expected_cost_musd") + 1
    df.insert(pos, "objective_change_musd", ch)
    df.insert(pos + 1, "change_note", note)


def worst_shares(sup: pd.DataFrame) -> dict:
    """Per commodity, the largest bloc-wide share of consumption met from countries of concern over years and
    scenarios (as the headline's worst dependence share: never above 100 %, SPEC §3 "Security"); 0 for a
    commodity with no consumption.  One grouping for all commodities."""
    from planner.report.results import concern_share

    if sup is None or not len(sup):
        return {}
    worst = concern_share(sup, ("commodity", "year", "scenario")).groupby(level="commodity").max()  # NaN -> 0
    return {c: (float(v) if v == v else 0.0) for c, v in worst.items()}


# ------------------------------------------------------------------ charts
def dependence_columns(summary: pd.DataFrame, key: str) -> list[str]:
    """Dependence columns worth a line: the commodity the swept cell belongs to (e.g. NDPR_OX for
    commodities.NDPR_OX.floor_price_usd_per_t) first, then commodities whose share moves across the points;
    the worst share over all commodities when none does."""
    cols = [c for c in summary.columns if c.startswith("dependence_") and c.endswith("_share")]
    focus = []
    parts = key.split(".")
    if len(parts) >= 3:
        for part in ".".join(parts[1:-1]).split("/"):
            c = f"dependence_{part}_share"
            if c in cols and c not in focus:
                focus.append(c)
    moving = [c for c in cols if c not in focus and summary[c].nunique(dropna=True) > 1]
    out = (focus + moving)[:8]
    return out or (["worst_dependence_share"] if "worst_dependence_share" in summary else [])


def add_sweep_charts(wb, summary: pd.DataFrame, keys: list[str]) -> None:
    """Native Excel charts of the objective, fiscal exposure and dependence against the first varying key
    (one line per combination of the other varying keys)."""
    if not len(summary) or not keys:
        return
    ws = wb.add_worksheet("charts")
    bold = wb.add_format({"bold": True})
    varying = [k for k in keys if summary[k].nunique(dropna=False) > 1] or keys[:1]
    x = varying[0]
    short = x.split(".", 1)[-1] if x.count(".") >= 2 else x
    others = varying[1:]
    numeric = pd.api.types.is_numeric_dtype(summary[x])
    xs = list(dict.fromkeys(summary[x]))
    if numeric:
        xs = sorted(xs)
    groups = [()] if not others else list(dict.fromkeys(tuple(r) for r in summary[others].itertuples(index=False)))
    dep = dependence_columns(summary, x)
    # (title, y format, [(series name, column, group)])
    figures = []
    for fig, title in (("objective_musd", "Objective (MUSD)"),
                       ("expected_floor_support_musd", "Expected floor support (MUSD)")):
        if fig in summary and summary[fig].notna().any():
            figures.append((title, "#,##0.0", [(_gname(others, g) or title, fig, g) for g in groups]))
    if dep:
        if others:
            c = dep[0]
            series = [(_gname(others, g), c, g) for g in groups]
            title = f"Dependence share, {_dep_name(c)}"
        else:
            series = [(_dep_name(c), c, ()) for c in dep]
            title = "Dependence share (concern imports / consumption, worst year and scenario)"
        figures.append((title, "0%", series))
    col = 0
    charts = []
    for title, fmt, series in figures:
        ws.write_string(0, col, title, bold)
        ws.write_string(1, col, x, bold)
        for i, v in enumerate(xs):
            if isinstance(v, str):
                ws.write_string(2 + i, col, v)
            else:
                ws.write_number(2 + i, col, float(v))
        for j, (name, fig, g) in enumerate(series, 1):
            ws.write_string(1, col + j, name, bold)
            sel = summary
            for k, v in zip(others, g):
                sel = sel[sel[k] == v]
            vals = dict(zip(sel[x], sel[fig]))
            for i, v in enumerate(xs):
                y = vals.get(v)
                if y is not None and y == y:
                    ws.write_number(2 + i, col + j, float(y))
        n = len(xs)
        ch = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"} if numeric else {"type": "line"})
        for j in range(1, len(series) + 1):
            ch.add_series({"name": ["charts", 1, col + j], "values": ["charts", 2, col + j, 1 + n, col + j],
                           "categories": ["charts", 2, col, 1 + n, col], "marker": {"type": "circle"}})
        ch.set_title({"name": f"{title} against {short}", "name_font": {"size": 11}})
        ch.set_x_axis({"name": short})
        ch.set_y_axis({"num_format": fmt})
        ch.show_blanks_as("gap")
        if len(series) == 1:
            ch.set_legend({"none": True})
        else:
            ch.set_legend({"position": "bottom"})
        ch.set_size({"width": 720, "height": 380})
        charts.append(ch)
        col += len(series) + 2
    top = len(xs) + 4
    for k, ch in enumerate(charts):
        ws.insert_chart(top + 20 * k, 0, ch)


def _gname(others, g) -> str:
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, g))


def _dep_name(col: str) -> str:
    if col == "worst_dependence_share":
        return "worst commodity"
    return col[len("dependence_"):-len("_share")]
