"""The `planner` command line (click).

Exit codes: 0 done; 1 invalid input, infeasible or no solution; 2 usage error.
Bad input never shows a traceback unless --debug is given.
"""
from __future__ import annotations

import functools
import logging
import sys

import click

from . import __version__
from .problems import InputError, PlannerError

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
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written for the run in progress", err=True)
            sys.exit(130)
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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--no-warnings", is_flag=True, help="Print errors only.")
@friendly
def validate(paths, no_warnings):
    """Check input workbooks and report every problem at once.

    Each problem reads FILE: sheet 'X', row N, column 'Y': what is wrong (got 'V').
    Exit 1 if any error, 0 otherwise (warnings are printed).
    """
    from .reader import read_workbook
    from .validate import validate as check

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
    from .template import write_template

    write_template(path, force=force)
    click.echo(f"wrote {path}: fill in settings start_year and end_year, then the other sheets")


DEFAULT_INPUT = "inputs/bloc_example.xlsx"


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
        for k, v in h.items():
            if k.startswith("expected_") and k.endswith("_musd") and k != "expected_cost_musd":
                t.add_row(k[len("expected_"):-len("_musd")].replace("_", " ") + " (MUSD, expected)", f"{v:,.3f}")
        t.add_row("modules built", f"{h.get('modules_built', 0):,.0f}")
        t.add_row("offtakes signed", f"{h.get('offtakes_signed', 0)}")
        if "worst_dependence_share" in h:
            t.add_row("worst dependence share", f"{100 * h['worst_dependence_share']:.1f}% ({h['worst_dependence_at']})")
        t.add_row("expected shortage (t)", f"{h.get('expected_shortage_t', 0):,.1f}")
        con.print(t)
        if oc.out:
            con.print(f"results: {oc.out}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--out", type=click.Path(), help="Results .xlsx (one input) or folder (default results/).")
@click.option("--time-limit", type=float, help="Solver time limit in seconds (settings time_limit_s).")
@click.option("--mip-gap", type=float, help="Relative MIP gap (settings mip_gap).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a setting; repeatable.")
@click.option("--scenario", help="Solve this scenario alone (probability 1).")
@click.option("--force", is_flag=True, help="Overwrite an existing results file instead of writing NAME-2.xlsx.")
@click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Parallel solves for several inputs.")
@friendly
def solve(paths, out, time_limit, mip_gap, sets, scenario, force, jobs):
    """Solve input workbooks and write results workbooks (default: the shipped example).

    Results go to results/<input stem>.results.xlsx unless -o says otherwise.
    """
    from .run import settings_overrides, solve_file

    paths = list(paths) or [DEFAULT_INPUT]
    overrides = settings_overrides(time_limit, mip_gap, parse_sets(sets))
    many = len(paths) > 1
    if many and out and out.lower().endswith(".xlsx"):
        raise click.UsageError("with several inputs, -o must be a folder")
    if many or jobs > 1:
        from .batch import run_batch

        outcomes = run_batch(paths, out=out, overrides=overrides, scenario=scenario, force=force, jobs=jobs)
    else:
        outcomes = [solve_file(paths[0], out=out, overrides=overrides, scenario=scenario, force=force)]
    print_summary(outcomes)
    failed = [oc for oc in outcomes if oc.exit_code]
    for oc in outcomes:
        if oc.message:
            click.echo(oc.message, err=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
