"""The `planner` command line (click).

Exit codes: 0 done; 1 invalid input, infeasible or no solution; 2 usage error.
Bad input never shows a traceback unless --debug is given.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
from pathlib import Path

import click

from planner.common.problems import InputError, PlannerError
from planner.common.version import __version__
from planner.input.size import force_size_option

log = logging.getLogger("planner")


def friendly(fn):
    """Turn expected failures into one clear message and exit 1 (traceback only with --debug)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = (ctx.find_root().params or {}).get("debug", False)
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except InputError as e:
            for p in e.problems:
                click.echo(str(p), err=True)
            if debug:
                raise
            sys.exit(1)
        except PlannerError as e:
            click.echo(f"error: {e}", err=True)
            if debug:
                raise
            sys.exit(1)
        except KeyboardInterrupt as e:  # Ctrl-C, and SIGTERM/SIGHUP (planner.common.signals)
            click.echo("interrupted: nothing was written for the run in progress", err=True)
            sys.exit(getattr(e, "exit_code", 130))
        except Exception as e:  # a bug: say so plainly
            if debug:
                raise
            click.echo(f"error: unexpected {type(e).__name__}: {e} (run with --debug for details, and please "
                       "report it)", err=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="planner")
@click.option("--debug", is_flag=True, help="Show Python tracebacks (for developers).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def main(ctx, debug, quiet):
    """bloc planner: which refineries, stockpiles and offtakes a critical-minerals bloc should fund."""
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    ctx.ensure_object(dict)
    from planner.common.signals import install
    install()  # SIGTERM and SIGHUP take Ctrl-C's clean path


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--no-warnings", is_flag=True, help="Print errors only.")
@friendly
def validate(paths, no_warnings):
    """Check input workbooks and report every problem at once.

    Each problem reads FILE: sheet 'X', row N, column 'Y': what is wrong (got 'V').
    Exit 1 if any error, 0 otherwise (warnings are printed).
    """
    from planner.input.reader import read_workbook
    from planner.input.validate import validate as check

    n_err = 0
    for path in paths:
        data = check(read_workbook(path))
        for p in data.problems.items:
            if p.severity == "warning" and no_warnings:
                continue
            click.echo(str(p), err=p.severity == "error")
        errs = len(data.problems.errors)
        n_err += errs
        warns = len(data.problems.warnings)
        click.echo(f"{path}: {'OK' if not errs else str(errs) + ' error(s)'}"
                   f"{', ' + str(warns) + ' warning(s)' if warns else ''}")
    sys.exit(1 if n_err else 0)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@friendly
def template(path, force):
    """Write an empty input workbook with every sheet, header, unit note and drop-down list."""
    from planner.input.template import write_template

    write_template(path, force=force)
    click.echo(f"wrote {path}: fill in settings start_year and end_year, then the other sheets")


def default_input() -> str:
    """The example shipped inside the package (found from any folder)."""
    from planner.workflows.examples import shipped

    return str(shipped())


def overrides_option(fn):
    return click.option("--overrides", "override_files", multiple=True, type=click.Path(), metavar="FILE.yaml",
                        help="Overrides saved in a YAML file (the keys --set takes, e.g. discount_rate: 0.03 or "
                             "commodities.NDPR_OX.floor_price_usd_per_t: 80000); repeatable, a later file wins; "
                             "--set wins over the files.")(fn)


def merged_sets(override_files, sets: dict) -> dict:
    from planner.input.override_files import merge_overrides

    return merge_overrides(override_files, sets)


def warn_renamed(intended, written) -> None:
    """Say so when a results file went to NAME-2.xlsx because an older result has the name."""
    if written and Path(written) != Path(intended):
        click.echo(f"warning: {intended} holds an earlier result; this run wrote {written} beside it "
                   "(use --force to overwrite, or -o to name the file)", err=True)


def parse_sets(sets) -> dict:
    out = {}
    for s in sets or ():
        if "=" not in s:
            raise click.UsageError(f"--set expects KEY=VALUE (got '{s}')")
        k, v = s.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def print_summary(outcomes) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(stderr=False)
    for oc in outcomes:
        if not oc.headline:
            continue
        h = oc.headline
        t = Table(title=f"{oc.input}: {oc.status}" + (f", gap {100 * oc.gap:.3g}%" if oc.gap == oc.gap else ""),
                  show_header=True)
        t.add_column("figure")
        t.add_column("value", justify="right")
        t.add_row("objective (MUSD)", f"{oc.objective:,.3f}")
        if h.get("mip_gap_musd"):
            t.add_row("MIP gap (MUSD)", f"{h['mip_gap_musd']:,.3f}")
        for key, label in (("expected_cost_musd", "expected cost (MUSD)"),
                           ("var_musd", f"VaR at {h.get('cvar_alpha', 0.9):g} (MUSD)"),
                           ("cvar_musd", f"CVaR at {h.get('cvar_alpha', 0.9):g} (MUSD)")):
            if key in h:
                t.add_row(label, f"{h[key]:,.3f}")
        for k, v in h.items():
            if k.startswith("expected_") and k.endswith("_musd") and k != "expected_cost_musd":
                t.add_row(k[len("expected_"):-len("_musd")].replace("_", " ") + " (MUSD, expected)", f"{v:,.3f}")
        t.add_row("modules built", f"{h.get('modules_built', 0):,.0f}")
        t.add_row("offtakes signed", f"{h.get('offtakes_signed', 0)}")
        if "worst_dependence_share" in h:
            t.add_row("worst dependence share", f"{100 * h['worst_dependence_share']:.1f}% ({h['worst_dependence_at']})")
        t.add_row("expected shortage (t)", f"{h.get('expected_shortage_t', 0):,.1f}")
        if h.get("max_concern_beyond_consumption_t"):
            t.add_row("concern imports beyond consumption (t)",
                      f"{h['max_concern_beyond_consumption_t']:,.0f} ({h.get('max_concern_beyond_consumption_at', '')})")
        if "scenario_tree_nodes" in h:
            t.add_row("scenario tree", f"{h['scenario_tree_nodes']} nodes ({h.get('scenario_tree', 'derived')})")
        con.print(t)
        if oc.out:
            con.print(f"results: {oc.out}", soft_wrap=True, markup=False, highlight=False)  # one line: copyable


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="Results .xlsx (one input) or folder (default results/).")
@click.option("--time-limit", type=float, help="Solver time limit in seconds (settings time_limit_s).")
@click.option("--mip-gap", type=float, help="Relative MIP gap (settings mip_gap).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting, or a table cell as sheet.key.column (e.g. "
                   "commodities.NDPR_OX.floor_price_usd_per_t=80000); repeatable. The input file is not changed.")
@overrides_option
@click.option("--scenario", help="Solve this scenario alone (probability 1).")
@click.option("--force", is_flag=True, help="Overwrite an existing results file instead of writing NAME-2.xlsx.")
@click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Parallel solves for several inputs.")
@click.option("--executor", type=click.Choice(["process", "dask"]), default="process", show_default=True,
              help="Where parallel solves run: local processes, or a Dask distributed cluster.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a local cluster "
                   "of --jobs workers.")
@click.option("--decompose", type=click.Choice(["ef", "ph"]), default="ef", show_default=True,
              help="ef: one model of all scenarios (extensive form). ph: progressive hedging scenario by scenario "
                   "(mpi-sppy), then the agreed first stage is fixed and evaluated exactly; the summary sheet adds "
                   "the lower bound and the gap. See docs/decomposition.md.")
@click.option("--ph-iterations", type=int, default=None, metavar="N",
              help="PH: iteration limit [default: 50].")
@click.option("--ph-rho", type=float, default=None, metavar="R",
              help="PH: multiplier of the cost-proportional penalty rho; smaller moves the scenarios more gently "
                   "[default: 1].")
@click.option("--ph-tol", type=float, default=None, metavar="T",
              help="PH: stop when no first-stage decision differs between scenarios by more than T (relative, "
                   "absolute below one unit) [default: 0.001].")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "parquet"]), default="xlsx", show_default=True,
              help="Results as a workbook, or as a folder NAME.results/ of one CSV or Parquet file per table with "
                   "summary.json (one input at a time; parquet needs pyarrow: pip install 'bloc-planner[parquet]').")
@click.option("-v", "--verbose", is_flag=True, help="Stream HiGHS's own log to the terminal (stderr); it is always "
                                                    "in the .log written beside the results.")
@click.option("--no-duals", is_flag=True, help="Skip the fixed-integer LP that gives shadow prices (faster; the prices "
              "and security shadow prices are blank and the summary says so).")
@force_size_option
@friendly
def solve(paths, out, time_limit, mip_gap, sets, override_files, scenario, force, jobs, executor, scheduler,
          decompose, ph_iterations, ph_rho, ph_tol, fmt, verbose, no_duals):
    """Solve input workbooks and write results workbooks (default: the shipped example).

    Results go to results/<input stem>.results.xlsx unless -o says otherwise; when that file holds an
    earlier result, the new one is written beside it as NAME-2.xlsx (with a warning) unless --force.
    With several inputs, --jobs N or --executor dask the solves run in parallel with a progress bar; one
    failing input never stops the others, and a final table lists each input's status.
    """
    from planner.workflows.run import settings_overrides

    paths = list(paths) or [default_input()]
    overrides = settings_overrides(time_limit, mip_gap, merged_sets(override_files, parse_sets(sets)))
    many = len(paths) > 1
    ph_opts = {k: v for k, v in (("iterations", ph_iterations), ("rho", ph_rho), ("tol", ph_tol)) if v is not None}
    if ph_opts and decompose != "ph":
        raise click.UsageError(f"--ph-{next(iter(ph_opts))} needs --decompose ph")
    if decompose == "ph":
        from planner.workflows.decomp import check_ph_options

        if scenario:
            raise click.UsageError("--decompose ph splits the problem by scenario; --scenario solves one alone")
        if many or jobs > 1 or executor == "dask":
            raise click.UsageError("--decompose ph solves one input at a time (no several inputs, --jobs or "
                                   "--executor dask)")
        try:
            check_ph_options(**ph_opts)
        except PlannerError as e:
            raise click.UsageError(str(e)) from None
    if many and out and out.lower().endswith(".xlsx"):
        raise click.UsageError("with several inputs, -o must be a folder")
    if fmt != "xlsx":
        if many or jobs > 1 or executor == "dask" or decompose == "ph":
            raise click.UsageError(f"--format {fmt} writes the results of one input solved whole (no several "
                                   "inputs, --jobs, --executor dask or --decompose ph)")
        if out and out.lower().endswith(".xlsx"):
            raise click.UsageError(f"--format {fmt} writes a folder: give -o a folder, not an .xlsx file")
        if fmt == "parquet":
            from planner.report.formats import require_parquet

            require_parquet()
    if jobs < 1:
        raise click.UsageError("--jobs must be at least 1")
    if scheduler and executor != "dask":
        raise click.UsageError("--scheduler needs --executor dask")
    if many or jobs > 1 or executor == "dask":
        from planner.workflows.batch import INTERRUPTED, run_batch, status_table

        outcomes = run_batch(paths, out=out, overrides=overrides, scenario=scenario, force=force, jobs=jobs,
                             executor=executor, scheduler=scheduler, duals=not no_duals)
        status_table(outcomes, title=f"{len(outcomes)} input(s)")
        if not (out and out.lower().endswith(".xlsx")):
            from planner.workflows.run import results_path

            for p, oc in zip(paths, outcomes):
                warn_renamed(results_path(p, out, many=True), oc.out)
        if any(oc.exit_code == INTERRUPTED for oc in outcomes):
            click.echo("interrupted: finished results are kept (listed above); the inputs marked 'not run' or "
                       "'interrupted' have no results", err=True)
            sys.exit(INTERRUPTED)
        sys.exit(1 if any(oc.exit_code for oc in outcomes) else 0)
    from planner.report.formats import target_for
    from planner.report.progress import session

    root = click.get_current_context().find_root().params or {}
    live = sys.stderr.isatty() and not root.get("quiet") and os.environ.get("TERM") != "dumb"
    with session(enabled=live, verbose_log=verbose):  # a live line on the terminal; HiGHS's log with -v
        if decompose == "ph":
            from planner.workflows.decomp import solve_file_ph

            outcomes = [solve_file_ph(paths[0], out=out, overrides=overrides, force=force, **ph_opts)]
        else:
            from planner import (
                api,  # the public API: what a notebook calls, the command line calls too
            )

            outcomes = [api.solve(paths[0], overrides=overrides, scenario=scenario, write=True, out=out, force=force,
                                  fmt=fmt, duals=not no_duals).outcome]
    print_summary(outcomes)
    from planner.workflows.run import results_path

    warn_renamed(target_for(results_path(paths[0], out), fmt), outcomes[0].out)
    failed = [oc for oc in outcomes if oc.exit_code]
    for oc in outcomes:
        if oc.message:
            click.echo(oc.message, err=True)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------- sweep, compare, stress, plot (issue 4)
def _parallel_options(fn):
    fn = click.option("--scheduler", metavar="ADDRESS",
                      help="Dask scheduler address (tcp://host:8786); without it --executor dask starts a local "
                           "cluster of --jobs workers.")(fn)
    fn = click.option("--executor", type=click.Choice(["process", "dask"]), default="process", show_default=True,
                      help="Where the solves run: local processes or a Dask distributed cluster.")(fn)
    fn = click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Parallel solves.")(fn)
    return fn


def _check_parallel(jobs, executor, scheduler):
    if jobs < 1:
        raise click.UsageError("--jobs must be at least 1")
    if scheduler and executor != "dask":
        raise click.UsageError("--scheduler needs --executor dask")


def _exit_for(outcomes):
    from planner.workflows.batch import INTERRUPTED

    if any(oc.exit_code == INTERRUPTED for oc in outcomes):
        click.echo("interrupted: finished results are kept; the runs marked 'not run' or 'interrupted' have no "
                   "results", err=True)
        sys.exit(INTERRUPTED)
    sys.exit(1 if any(oc.exit_code for oc in outcomes) else 0)


@main.command()
@click.argument("path", type=click.Path())
@click.option("--set", "sets", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="Values to sweep: V1,V2,... or start:stop:step. KEY is a setting (discount_rate) or a table "
                   "cell sheet.key.column (commodities.NDPR_OX.floor_price_usd_per_t). Several --set make a grid.")
@click.option("-o", "--out", type=click.Path(), help="Folder for the results (default results/<stem>.sweep/).")
@click.option("--time-limit", type=float, help="Solver time limit per point in seconds.")
@click.option("--mip-gap", type=float, help="Relative MIP gap.")
@click.option("--scenario", help="Solve this scenario alone at every point.")
@overrides_option
@click.option("--force", is_flag=True, help="Overwrite existing files instead of writing NAME-2.xlsx.")
@click.option("--no-duals", is_flag=True, help="Skip the fixed-integer LP that gives shadow prices (faster; the prices "
              "and security shadow prices are blank and the summary says so).")
@_parallel_options
@friendly
def sweep(path, sets, out, time_limit, mip_gap, scenario, override_files, force, jobs, executor, scheduler,
          no_duals):
    """Solve PATH once per point of a parameter grid; summary workbook with charts.

    Writes one results workbook per point and sweep_summary.xlsx (headline figures per point and a
    native Excel chart of the objective against the swept value) in the folder -o. Settings in
    --overrides files hold at every point (a swept key wins over them).

    \b
    Examples:
      planner sweep inputs/bloc_example.xlsx --set discount_rate=0.03,0.05,0.07
      planner sweep inputs/bloc_example.xlsx -j 2 \\
        --set commodities.NDPR_OX.floor_price_usd_per_t=80000:140000:20000
    """
    from planner.workflows.batch import status_table
    from planner.workflows.run import settings_overrides
    from planner.workflows.sweep import run_sweep

    _check_parallel(jobs, executor, scheduler)
    fixed = merged_sets(override_files, {})
    if fixed:
        from planner.input.overrides import check_override_keys

        problems = check_override_keys(path, list(fixed))
        if problems:
            raise PlannerError("\n".join(problems))
    summary, outcomes, written = run_sweep(path, sets, out=out,
                                           overrides=settings_overrides(time_limit, mip_gap, fixed),
                                           scenario=scenario, force=force, jobs=jobs, executor=executor,
                                           scheduler=scheduler, duals=not no_duals)
    status_table(outcomes, title=f"sweep of {path}")
    click.echo(f"summary: {written}")
    _exit_for(outcomes)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--out", type=click.Path(), default="results/comparison.xlsx", show_default=True,
              help="Comparison workbook (.xlsx).")
@click.option("--tol", type=float, default=1e-6, show_default=True,
              help="Absolute tolerance: differences within it are hidden.")
@click.option("--rel-tol", type=float, default=0.0, show_default=True,
              help="Relative tolerance (share of the reference value): differences within it are hidden too.")
@click.option("--force", is_flag=True, help="Overwrite OUT instead of writing NAME-2.xlsx.")
@friendly
def compare(paths, out, tol, rel_tol, force):
    """Compare results workbooks A B [C ...] (A is the reference).

    Headline figures side by side, and every results table aligned on its keys with absolute and relative
    differences; rows in only one workbook are marked, differences within --tol are hidden and changed cells
    highlighted. Results of different input workbooks (other members, years, scenarios) compare too: what
    cannot be aligned is listed in the notes sheet and on the terminal.
    """
    from planner.workflows.compare import compare as run_compare
    from planner.workflows.compare import print_compare

    if len(paths) < 2:
        raise click.UsageError("compare needs at least two results workbooks")
    if not out.lower().endswith(".xlsx"):
        raise click.UsageError("-o must name an .xlsx file")
    written, head, infos, notes, labels, names = run_compare(list(paths), out, tol=tol, rtol=rel_tol, force=force)
    print_compare(head, infos, notes, labels, tol, names)
    click.echo(f"comparison: {written}")


@main.command()
@click.argument("path", type=click.Path())
@click.option("--plan", "plan", required=True, type=click.Path(),
              help="Results workbook whose investments (its investments sheet) are held fixed.")
@click.option("-o", "--out", type=click.Path(), help="Stress-test workbook (default results/<stem>.stress.xlsx).")
@click.option("--scenario", "scenarios", multiple=True, help="Only this scenario of PATH (repeatable).")
@click.option("--time-limit", type=float, help="Solver time limit per solve in seconds.")
@click.option("--mip-gap", type=float, help="Relative MIP gap of the optimum solves.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting or a table cell (sheet.key.column) of PATH; repeatable.")
@overrides_option
@click.option("--force", is_flag=True, help="Overwrite OUT instead of writing NAME-2.xlsx.")
@click.option("--no-duals", is_flag=True, help="Skip the fixed-integer LP that gives shadow prices (faster; the prices "
              "and security shadow prices are blank and the summary says so).")
@_parallel_options
@friendly
def stress(path, plan, out, scenarios, time_limit, mip_gap, sets, override_files, force, jobs, executor, scheduler,
           no_duals):
    """Fix the investments of an earlier plan and re-solve operations for every scenario of PATH.

    Per scenario: the plan's cost, shortage by commodity and its regret against PATH's own optimum for
    that scenario (solved alone, nothing fixed). Plan items PATH does not know are reported and left out.
    """
    from planner.workflows.run import settings_overrides
    from planner.workflows.stress import print_stress, run_stress

    _check_parallel(jobs, executor, scheduler)
    if out and not out.lower().endswith(".xlsx"):
        raise click.UsageError("-o must name an .xlsx file")
    written, table, report, outcomes, summary = run_stress(
        path, plan, out=out,
        overrides=settings_overrides(time_limit, mip_gap, merged_sets(override_files, parse_sets(sets))),
        scenarios=list(scenarios) or None, force=force, jobs=jobs, executor=executor, scheduler=scheduler,
        duals=not no_duals)
    from planner.workflows.batch import INTERRUPTED

    print_stress(table, report, summary,
                 messages=[(oc.label, oc.message) for oc in outcomes if oc.message and oc.exit_code != INTERRUPTED])
    click.echo(f"stress test: {written}")
    _exit_for(outcomes)


@main.command()
@click.argument("results", type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="Folder for the PNG files (default <RESULTS stem>.plots/ "
                                                     "next to RESULTS).")
@click.option("--force", is_flag=True, help="Overwrite existing PNG files instead of writing NAME-2.png.")
@friendly
def plot(results, out, force):
    """Draw the charts of a results workbook as PNG files for reports.

    cost.png, capacity.png (by commodity and member), supply_mix_<base scenario>.png and dependence.png
    (share of consumption from countries of concern against the target).
    """
    from planner.report.plot import plot_results

    for p in plot_results(results, out, force=force):
        click.echo(f"wrote {p}")



# ---------------------------------------------------------------- discovery (issue 16)
@main.command()
@click.argument("path", required=False, type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Show the workbook as --set would change it (a setting, or a cell sheet.key.column).")
@overrides_option
@click.option("--keys", is_flag=True, help="Print every key --set takes for PATH, one per line, and nothing else.")
@friendly
def info(path, sets, override_files, keys):
    """What an input workbook holds (default: the shipped example), without solving it.

    Members, commodities, scenarios with their probabilities and their tree (which scenarios share their
    operations in which years: from the scenarios sheet's parent and branch_year, else derived from the data
    with foresight_years), the settings with their values and defaults, and the keys --set and --overrides
    take. Exit 1 if the workbook has errors (they are listed, as planner validate does).
    """
    from planner.workflows.info import gather, print_info

    print_info(gather(path or default_input(), merged_sets(override_files, parse_sets(sets))), keys_only=keys)


@main.command()
@click.argument("folder", type=click.Path(), default=".", required=False)
@click.option("--force", is_flag=True, help="Overwrite workbooks of the same name in FOLDER.")
@friendly
def example(folder, force):
    """Copy the shipped example workbooks into FOLDER (default: here) for editing.

    bloc_example.xlsx (8 members, 13 commodities, 2026-2040, 4 scenarios) and tiny.xlsx (the case solved
    by hand in docs/tiny.md). Refuses to overwrite an existing file without --force.
    """
    from planner.workflows.examples import copy_examples

    for p in copy_examples(folder, force=force):
        click.echo(f"wrote {p}")
    click.echo(f"next: planner info {Path(folder) / 'bloc_example.xlsx'}   or   "
               f"planner solve {Path(folder) / 'bloc_example.xlsx'}")


# ---------------------------------------------------------------- who pays (issue 13, SPEC §6)
@main.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="Coalition workbook (.xlsx) or folder "
                                                     "(default results/<stem>.coalition.xlsx).")
@click.option("--members", metavar="A,B,...", help="The grand coalition N: these members only (everyone else is out "
                                                   "of every coalition). Default: every member.")
@click.option("--samples", type=int, metavar="N", help="Sampled Shapley value from N random orders of the members "
                                                       "(standard error per member); default: exact up to "
                                                       "--exact-max members, else 30 orders.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampled orders.")
@click.option("--exact-max", type=int, default=10, show_default=True,
              help="Largest bloc analysed exactly (all 2^n - 1 coalitions, nucleolus and least core).")
@click.option("--time-limit", type=float, help="Solver time limit per coalition in seconds.")
@click.option("--mip-gap", type=float, help="Relative MIP gap of every coalition solve.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting or a table cell (sheet.key.column); repeatable.")
@click.option("--force", is_flag=True, help="Overwrite OUT instead of writing NAME-2.xlsx.")
@_parallel_options
@friendly
def coalition(path, out, members, samples, seed, exact_max, time_limit, mip_gap, sets, force, jobs, executor,
              scheduler):
    """Who pays: the cost game over the members (SPEC section 6).

    c(S) is the cost of the model restricted to coalition S (members outside S removed with their demand,
    plants, stockpiles, routes, budgets and offtakes). Writes the allocation of c(N) by method (standalone,
    status quo, Shapley, nucleolus, least core), every coalition's cost, the core check of each allocation
    and the grand coalition's fiscal ledger. See docs/coalition.md.

    \b
    Examples:
      planner coalition inputs/bloc_example.xlsx -j 2
      planner coalition inputs/bloc_example.xlsx --members USA,JPN,EU
      planner coalition big.xlsx --samples 50 --seed 1 -j 2
    """
    from pathlib import Path as _Path

    from planner.workflows.coalition import MembersError, print_coalition, run_coalition
    from planner.workflows.run import settings_overrides

    _check_parallel(jobs, executor, scheduler)
    if out and not out.lower().endswith(".xlsx") and _Path(out).suffix:
        raise click.UsageError("-o must name an .xlsx file or a folder")
    try:
        result = run_coalition(path, out=out, overrides=settings_overrides(time_limit, mip_gap, parse_sets(sets)),
                               members=members.split(",") if members is not None else None, samples=samples,
                               seed=seed, exact_max=exact_max, jobs=jobs, executor=executor, scheduler=scheduler,
                               force=force)
    except MembersError as e:
        raise click.UsageError(str(e)) from None
    if result.interrupted:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(130)
    print_coalition(result)
    for m in result.messages:
        click.echo(f"note: {m}", err=True)
    click.echo(f"coalition analysis: {result.out}")


# ---------------------------------------------------------------- policy design (issue 14, SPEC section 7)
@main.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="Design workbook (.xlsx) or folder "
                                                     "(default results/<stem>.design.xlsx).")
@click.option("--time-limit", type=float, help="Solver time limit per solve in seconds.")
@click.option("--mip-gap", type=float, help="Relative MIP gap of every solve.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting or a table cell (sheet.key.column); repeatable. The input file is not changed.")
@overrides_option
@click.option("--points", type=int, default=6, show_default=True,
              help="Caps per security cost curve (from 100 % to the tightest feasible cap; more are added where "
                   "the curve bends).")
@click.option("--parts", default="projects,floors,security,value", show_default=True,
              metavar="A,B,...", help="Parts to run: projects, floors, security, value.")
@click.option("--force", is_flag=True, help="Overwrite OUT instead of writing NAME-2.xlsx.")
@_parallel_options
@friendly
def design(path, out, time_limit, mip_gap, sets, override_files, points, parts, force, jobs, executor, scheduler):
    """Which minerals, what floor levels: policy design from one solve (SPEC section 7).

    Projects (levelised cost, NPV per scenario at market price and at the floor, break-even floors),
    the floor each commodity needs and the support it implies per member against the fiscal budgets,
    the price of security (cost as each max_concern_share cap tightens to the tightest feasible value,
    with shadow prices) and the value of information and of the stochastic plan (WS, RP, EEV, EVPI, VSS,
    and each scenario's hedge). Every figure names the solves behind it (sheet solves). See docs/design.md.

    \b
    Examples:
      planner design inputs/bloc_example.xlsx -j 2
      planner design inputs/bloc_example.xlsx --parts projects,floors
      planner design inputs/bloc_example.xlsx --set risk_aversion=0.3 -o results/design.xlsx
    """
    from pathlib import Path as _Path

    from planner.workflows.design import PARTS, print_design, run_design
    from planner.workflows.run import settings_overrides

    _check_parallel(jobs, executor, scheduler)
    if out and not out.lower().endswith(".xlsx") and _Path(out).suffix:
        raise click.UsageError("-o must name an .xlsx file or a folder")
    chosen = [x.strip() for x in parts.split(",") if x.strip()]
    bad = [x for x in chosen if x not in PARTS]
    if bad or not chosen:
        raise click.UsageError(f"--parts: unknown part(s) {', '.join(bad) or '(none given)'} "
                               f"(known: {', '.join(PARTS)})")
    if points < 2:
        raise click.UsageError("--points must be at least 2")
    res = run_design(path, out=out, overrides=settings_overrides(time_limit, mip_gap,
                                                                 merged_sets(override_files, parse_sets(sets))),
                     force=force, jobs=jobs, executor=executor, scheduler=scheduler, points=points, parts=chosen)
    print_design(res)


if __name__ == "__main__":
    main()
