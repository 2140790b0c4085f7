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


if __name__ == "__main__":
    main()
