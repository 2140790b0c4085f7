"""One solve, end to end: read → build → hand-off → HiGHS → results → write.

Each phase is timed, logged at INFO and written into the summary sheet.
Status handling (SPEC §5, issue 3):
- optimal → results, exit 0;
- time limit with an incumbent → results marked with status and gap, exit 0 and a warning;
- time limit without one → a clear message, exit 1;
- infeasible → an elastic re-solve that relaxes demand, security targets,
  budgets and take-or-pay with penalised slacks, then a list of what had to
  give (target, member, commodity, year, scenario, how much), exit 1;
- unbounded → a message naming the likely cause, exit 1.
"""
from __future__ import annotations

import datetime as _dt
import gc
import logging
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.common.version import __version__
from planner.common.files import free_name
from planner.common.problems import PlannerError
from planner.input.load import load
from planner.input.reader import InputData
from planner.model.build import build
from planner.model.prepare import ModelData, prepare
from planner.report.results import extract, headline
from planner.report.formats import free_folder, target_for, write_results
from planner.report.notes import floor_note
from planner.report.schema import RESULT_SHEETS
from planner.report.progress import highs_hooks, logged, phase, write_solve_log
from planner.solver.highs import SolveResult, solve_ctx

log = logging.getLogger("planner")
COUNTS = ("handoff_reused", "basis_reused", "mip_blocks", "mip_blocks_reused")  # in ``times``, not seconds
SHEET_ORDER = [s.name for s in RESULT_SHEETS] + ["sources"]  # the results schema's order


@dataclass
class Outcome:
    input: str
    status: str
    exit_code: int
    message: str = ""
    out: Path | None = None
    objective: float = float("nan")
    gap: float = float("nan")
    headline: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    relaxed: pd.DataFrame | None = None
    summary_extra: list = field(default_factory=list)  # (key, value) rows a caller adds to the summary sheet
    sheets: dict | None = field(default=None, repr=False)  # the results sheets, kept on request (``keep``)
    writer: object = field(default=None, repr=False)       # sheets -> file, kept on request (not pickled)

    def __getstate__(self):  # outcomes travel between processes (batch): without the writer closure
        state = dict(self.__dict__)
        state["writer"] = None
        return state


def results_path(inp: str, out: str | None, many: bool = False) -> Path:
    stem = Path(inp).stem
    if out is None:
        return Path("results") / f"{stem}.results.xlsx"
    o = Path(out)
    if o.suffix.lower() == ".xlsx" and not many:
        return o
    return o / f"{stem}.results.xlsx"


def settings_overrides(time_limit=None, mip_gap=None, sets=None) -> dict:
    ov = dict(sets or {})
    if time_limit is not None:
        ov["time_limit_s"] = time_limit
    if mip_gap is not None:
        ov["mip_gap"] = mip_gap
    return ov


def solve_model(d: ModelData, fixed: dict | None = None, elastic: bool = False, direct: bool | None = None,
                start: dict | None = None, duals: bool = True):
    """Build and solve one prepared model; returns (ctx, result, phase times).
    ``start``: a previous plan as a MIP start (planner.model.warmstart); ``duals`` False skips the
    fixed-integer LP (no shadow prices).

    ``direct`` (default; PLANNER_HANDOFF=pyomo switches it off): rows go straight to HiGHS as
    coefficient arrays; otherwise they become Pyomo constraints compiled by Pyomo's
    standard-form compiler (same matrix, slower; kept to cross-check the fast path).
    """
    if direct is None:
        direct = os.environ.get("PLANNER_HANDOFF", "direct") != "pyomo"
    times = {}
    t = time.perf_counter()
    phase("building the model")
    ctx = build(d, elastic=elastic, fixed=fixed, direct=direct)
    times["build"] = time.perf_counter() - t
    log.info("build: %.2f s", times["build"])
    st = d.settings
    if ctx.structural and not elastic:
        return ctx, SolveResult(status="infeasible", has_solution=False, message="structural"), times
    with gc_frozen():
        res = solve_ctx(ctx, time_limit=float(st["time_limit_s"]), mip_gap=float(st["mip_gap"]),
                        threads=int(st["threads"] or 0), start=start, duals=duals, **highs_hooks())
    times["handoff"] = res.times.get("handoff_compile", 0) + res.times.get("handoff_pass", 0)
    times["highs"] = res.times.get("highs", 0)
    times["highs_fixed_lp"] = res.times.get("highs_fixed_lp", 0)
    for k in ("handoff_reused", "basis_reused"):  # the previous solve's HiGHS model, or its LP basis (issue 18)
        if res.times.get(k):
            times[k] = 1
    for k in ("mip_blocks", "mip_blocks_reused"):  # counts: independent blocks, and those kept from the solve before
        if res.times.get(k):
            times[k] = int(res.times[k])
    log.info("hand-off: %.2f s%s; HiGHS: %.2f s", times["handoff"],
             " (the previous solve's model reused)" if res.times.get("handoff_reused") else
             " (the previous LP's basis reused)" if res.times.get("basis_reused") else "", times["highs"])
    return ctx, res, times


def explain_infeasible(d: ModelData, fixed: dict | None = None) -> pd.DataFrame:
    """Elastic re-solve: which targets had to give, and by how much (with the same first-stage values fixed)."""
    ctx, res, _ = solve_model(d, fixed=fixed, elastic=True)
    rows = []
    for slack, amount in ctx.structural:
        rows.append((slack.target, slack.member or "(bloc)", slack.commodity, slack.year, slack.scenario, amount,
                     slack.unit, slack.detail))
    if res.has_solution:
        for v, s in ctx.slacks:
            x = res.value(v)
            if x > 1e-6:
                rows.append((s.target, s.member or "(bloc)", s.commodity, s.year, s.scenario, x, s.unit, s.detail))
    df = pd.DataFrame(rows, columns=["target", "member", "commodity", "year", "scenario", "shortfall", "unit",
                                     "detail"])
    return df.sort_values(["target", "member", "commodity", "year"], na_position="first", kind="stable") \
        .reset_index(drop=True)


def setting_causes(d: ModelData) -> list[str]:
    """Settings that can make the model unbounded or numerically fragile, named first (before any commodity)."""
    st = d.settings
    out = []
    if float(st.get("default_route_cost_usd_per_t") or 0) < 0:
        out.append(f"settings default_route_cost_usd_per_t is {st['default_route_cost_usd_per_t']:g}: shipping "
                   "between members earns money on every route the default covers"
                   + (" (trade_all_pairs TRUE: every pair)" if st.get("trade_all_pairs") else ""))
    if st.get("objective") == "market":
        neg = sorted({x["supplier"] for x in d.suppliers if (x["tariff_usd_per_t"] or 0) < 0})
        if neg:
            out.append("settings objective is 'market', where tariffs are costs: the negative tariff(s) of "
                       f"{', '.join(map(str, neg))} pay the importer")
    if float(st.get("terminal_stock_value") or 0) > 0 and any(
            (sp["capex_usd_per_t"] is not None and sp["max_capacity_t"] is None) for sp in d.stockpiles):
        out.append("settings terminal_stock_value credits end stock at replacement cost, and some stockpile "
                   "capacity can be built without a max_capacity_t")
    return out


def unbounded_hint(d: ModelData) -> str:
    causes = setting_causes(d)
    for c, row in d.commodities.items():
        f = row["export_price_factor"]
        if f is not None and any(x["commodity"] == c and x["max_tpa"] is None for x in d.suppliers):
            causes.append(f"'{c}' can be bought without limit and exported at market price x {f}")
    for p in d.processes:
        if (p["variable_cost_usd_per_t"] or 0) < 0 and p["module_tpa"] and p["max_modules"] is None:
            causes.append(f"process '{p['process']}' has a negative variable cost and unlimited modules")
    for c, row in d.commodities.items():
        if (row["disposal_cost_usd_per_t"] or 0) < 0:
            causes.append(f"'{c}' has a negative disposal cost (disposal earns money)")
    return "; ".join(causes) or "a negative cost or revenue with no volume limit (check negative variable costs, " \
                                "disposal costs and route costs, and export factors above import prices)"


@logged  # NAME.results.log beside the results: the planner's log and HiGHS's
def solve_file(path: str, out: str | None = None, overrides: dict | None = None, scenario: str | None = None,
               force: bool = False, many: bool = False, fixed: dict | None = None, write: bool = True,
               data: InputData | None = None, summary_rows=None, keep: bool = False, fmt: str = "xlsx",
               start: dict | None = None, duals: bool = True) -> Outcome:
    """``summary_rows``: optional function Outcome -> [(key, value), ...], called once the objective is known;
    its rows follow the objective in the summary sheet (planner.workflows.decomp adds the decomposition's figures).
    ``fmt``: xlsx, csv or parquet (planner.report.formats)."""
    times = {}
    t0 = time.perf_counter()
    phase("reading the input")
    inp = data or load(path, overrides)
    times["read"] = time.perf_counter() - t0
    log.info("read %s: %.2f s", path, times["read"])
    if scenario is not None and scenario not in list(inp.tables["scenarios"]["scenario"]) + (
            ["base"] if not len(inp.tables["scenarios"]) else []):
        from planner.common.suggest import did_you_mean

        known = list(inp.tables["scenarios"]["scenario"]) or ["base"]
        raise PlannerError(f"--scenario {scenario}: no such scenario in {path}{did_you_mean(scenario, known)} "
                           f"(scenarios: {', '.join(map(str, known))})")
    t = time.perf_counter()
    phase("preparing")
    d = prepare(inp, scenario=scenario)
    times["prepare"] = time.perf_counter() - t
    from planner.input.size import check_model_size
    check_model_size(inp, scenario)  # refuse a model the machine's memory cannot hold, before building it
    ctx, res, st = solve_model(d, fixed=fixed, start=start, duals=duals)
    times.update(st)
    oc = Outcome(input=path, status=res.status, exit_code=0, times=times)

    if not res.has_solution:
        oc.exit_code = 1
        if res.status == "infeasible":
            t = time.perf_counter()
            oc.relaxed = explain_infeasible(d, fixed)
            times["elastic"] = time.perf_counter() - t
            oc.message = infeasibility_message(path, oc.relaxed)
        elif res.status == "unbounded":
            oc.message = f"{path}: the model is unbounded (cost can fall without limit). Likely cause: " \
                         f"{unbounded_hint(d)}."
        elif res.status == "time_limit":
            oc.message = f"{path}: no solution found within the time limit of {d.settings['time_limit_s']:g} s; " \
                         f"raise it with --time-limit or loosen --mip-gap"
        else:
            causes = setting_causes(d)
            oc.message = (f"{path}: the solver stopped with status '{res.status}' and no solution. Settings that "
                          f"can cause it: time_limit_s {d.settings['time_limit_s']:g}, mip_gap "
                          f"{d.settings['mip_gap']:g}, threads {d.settings['threads']}"
                          + ("; " + "; ".join(causes) if causes else "")
                          + ". Try a longer --time-limit, or look for costs that can fall without limit.")
        return oc

    oc.objective, oc.gap = res.objective, res.gap
    if summary_rows is not None:
        oc.summary_extra = list(summary_rows(oc))
    if not duals and res.is_mip:
        oc.summary_extra.append(("duals", "not computed (--no-duals): prices and security shadow prices "
                                                  "are blank"))
    if res.status != "optimal":
        how_far = f"{100 * res.gap:.3g}% from optimal" if res.gap == res.gap else \
            "whose distance from optimal HiGHS did not report"
        oc.message = f"{path}: stopped at the {res.status.replace('_', ' ')} with a solution {how_far} (results are " \
                     "marked with this status and gap)"
        log.warning("warning: %s", oc.message)
    with gc_frozen():
        _results(path, out, scenario, force, many, write, inp, d, ctx, res, oc, times, fmt, keep)
    return oc


@contextmanager
def gc_frozen():
    """Python's cyclic garbage collector leaves the objects that exist now alone (``gc.freeze``)
    until the block ends: the model's millions of tuples are not garbage, and walking them again
    at every collection cost seconds per phase at the larger sizes (docs/performance.md)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _results(path, out, scenario, force, many, write, inp, d, ctx, res, oc, times, fmt="xlsx", keep=False) -> None:
    """Tables, headline figures and (with ``write``) the results workbook (or folder) of a solved model."""
    t = time.perf_counter()
    phase("results tables")
    tables = extract(ctx, res)
    from planner.report.ledger import ledger  # per-member fiscal ledger (SPEC §6, issue 13)
    tables["ledger"] = ledger(tables, d)
    oc.headline = headline(ctx, res, tables)
    times["results"] = time.perf_counter() - t
    oc.tables = tables
    if write or keep:
        summary = summary_table(inp, d, res, oc, scenario)
        sheets = {"summary": summary, **{k: tables[k] for k in SHEET_ORDER if k in tables}}
        sheets["sources"] = inp.sources if len(inp.sources.columns) else pd.DataFrame(
            {"note": ["the input workbook has no sources sheet"]})
    if keep:  # the public API writes later, on request (planner.api.Result.write)
        from planner.report.charts import add_charts
        oc.sheets = sheets
        oc.writer = lambda target, fmt="xlsx": write_results(
            target, sheets, fmt, charts=lambda wb: add_charts(wb, sheets, d), inputs=[path])
    if write:
        target = free_name(results_path(path, out, many), force) if fmt == "xlsx" else \
            free_folder(target_for(results_path(path, out, many), fmt), force)
        t = time.perf_counter()
        phase("writing the results")
        from planner.report.charts import add_charts
        oc.out = write_results(target, sheets, fmt, charts=lambda wb: add_charts(wb, sheets, d), inputs=[path])
        times["write"] = time.perf_counter() - t
        # the summary's own write time is known only now: note it in the log
        log.info("write %s: %.2f s", oc.out, times["write"])
        write_solve_log(oc.out)


def infeasibility_message(path: str, relaxed: pd.DataFrame) -> str:
    if relaxed is None or not len(relaxed):
        return (f"{path}: the model is infeasible, and it stays infeasible even with demand, security targets, "
                "budgets and take-or-pay relaxed: check stockpile end-stock rules (end_stock_at_least_initial), "
                "initial stocks above capacity, and max_modules")
    lines = [f"{path}: the model is infeasible. To make it feasible these would have to give "
             f"(elastic re-solve, {len(relaxed)} item(s)):"]
    for r in relaxed.head(30).itertuples():
        # blank cells come back as None or NaN (a year column mixing years and blanks turns float)
        where = ", ".join(x for x in [f"member {r.member}",
                                      f"commodity {r.commodity}" if _given(r.commodity) else "",
                                      f"year {int(r.year)}" if _given(r.year) else "",
                                      f"scenario {r.scenario}" if _given(r.scenario) else ""] if x)
        amount = f"{r.shortfall:,.1f}" if abs(r.shortfall) >= 1 else f"{r.shortfall:.3g}"  # 0.006 MUSD, not 0.0
        verb = "excess of" if str(r.target).startswith("surplus") else "short by"
        lines.append(f"  - {r.target} ({where}): {verb} {amount} {r.unit}"
                     + (f" [{r.detail}]" if _given(r.detail) else ""))
    if len(relaxed) > 30:
        lines.append(f"  ... and {len(relaxed) - 30} more")
    return "\n".join(lines)


def _given(v) -> bool:
    """A filled cell of the relaxed table (not None, NaN or empty)."""
    return not pd.isna(v) and str(v) != ""


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from planner.solver.highs import highs_version
    try:  # without importing Pyomo (0.3 s), which the default hand-off does not need
        pyomo_version = version("pyomo")
    except PackageNotFoundError:  # pragma: no cover - Pyomo is a dependency
        pyomo_version = "not installed"
    return {"planner_version": __version__, "pyomo_version": pyomo_version, "highs_version": highs_version(),
            "python_version": platform.python_version()}


def summary_table(inp: InputData, d: ModelData, res: SolveResult, oc: Outcome, scenario) -> pd.DataFrame:
    rows = [("status", res.status), ("objective_musd", res.objective), ("mip_gap", res.gap),
            ("mip_dual_bound_musd", res.bound)]
    rows += oc.summary_extra
    have = {k for k, _ in rows}
    rows += [(k, v) for k, v in oc.headline.items() if k not in have]  # one row per key
    rows += [("floor_note", floor_note(d))]  # what a floor does in this objective mode, in words
    rows += [("objective_mode", d.settings["objective"]), ("risk_aversion", d.settings["risk_aversion"]),
             ("scenarios", ", ".join(f"{s} ({p:g})" for s, p in zip(d.scen, d.prob))),
             ("scenario_only", scenario or ""),
             ("years", f"{d.years[0]}-{d.years[-1]}"), ("base_year", d.settings["base_year"]),
             ("discount_rate", d.settings["discount_rate"]),
             ("rows", res.n_rows), ("columns", res.n_cols), ("nonzeros", res.nnz), ("integer_columns", res.n_int)]
    rows += [(f"time_{k}_s", round(v, 4)) for k, v in oc.times.items() if k not in COUNTS]
    if oc.times.get("mip_blocks"):
        n, kept = int(oc.times["mip_blocks"]), int(oc.times.get("mip_blocks_reused", 0))
        rows += [("independent_blocks", f"{n} (the model's supply chains share no free column: solved apart, "
                                        "docs/model.md)")]
        if kept:
            rows += [("blocks_reused", f"{kept} of {n}: the same arrays as a block of the previous solve, whose "
                                       "solution they take (issue 18)")]
    if oc.times.get("handoff_reused"):
        rows += [("handoff", "the previous solve's HiGHS model, only changed coefficients passed (issue 18)")]
    elif oc.times.get("basis_reused"):
        rows += [("handoff", "the whole model passed; the LP started from the previous solve's optimal basis")]
    rows += [("solve_time_s", round(oc.times.get("highs", 0) + oc.times.get("highs_fixed_lp", 0), 4)),
             ("input_path", str(Path(inp.path).resolve())), ("input_sha256", inp.sha256)]
    rows += list(versions().items())
    rows += [("timestamp", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))]
    rows += [(f"setting_{k}", "" if v is None else v) for k, v in d.settings.items()]
    rows += [("money", "MUSD, discounted to base_year; per-scenario figures per scenario, expected figures "
                       "probability-weighted"),
             ("shadow_prices", "USD/t, undiscounted and conditional on the scenario; for a MIP from the LP with "
                               "integer decisions fixed at their optimum")]
    return pd.DataFrame(rows, columns=["key", "value"])
