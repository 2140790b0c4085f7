"""The public Python API, for notebooks and scripts (the CLI's ``solve`` calls it too).

    import planner
    res = planner.solve("inputs/bloc_example.xlsx", overrides={"risk_aversion": 0.3}, mip_gap=1e-4)
    res.status, res.objective_musd, res.gap, res.gap_musd
    res.tables["investments"]            # every results sheet as a pandas DataFrame
    res.write("results/risk.xlsx")       # the same workbook `planner solve` writes
    inputs = planner.read("inputs/bloc_example.xlsx")   # typed input tables: inputs.tables, inputs.settings

Errors: an invalid workbook raises :class:`planner.InputError` (``.problems``: every problem, located);
an infeasible or unsolved model returns a Result whose ``status`` says so, with ``message`` (in the
analyst's terms) and ``relaxed`` (what would have to give), and no tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.common.files import free_name
from planner.common.problems import PlannerError
from planner.input.load import load
from planner.input.reader import InputData
from planner.workflows.run import Outcome, settings_overrides, solve_file


@dataclass
class Result:
    """One solve: status, figures and every results table."""

    input: str
    status: str
    objective_musd: float
    gap: float
    gap_musd: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    message: str = ""
    relaxed: pd.DataFrame | None = None
    outcome: Outcome | None = field(default=None, repr=False)

    @property
    def out(self) -> Path | None:
        """Where the results were written (``solve(..., write=True)``), else None."""
        return self.outcome.out if self.outcome is not None else None

    @property
    def ok(self) -> bool:
        return bool(self.tables)

    def write(self, path, fmt: str = "xlsx", force: bool = False) -> Path:
        """Write the results workbook (or a csv/parquet folder) to ``path``; an existing file is kept
        (``NAME-2.xlsx`` is written instead) unless ``force``.  Returns where it went."""
        if self.outcome is None or self.outcome.writer is None:
            raise PlannerError(f"{self.input}: there are no results to write (status {self.status})")
        target = Path(path)
        if fmt == "xlsx":
            target = free_name(target, force)
        return self.outcome.writer(target, fmt)


def _default_input() -> str:
    from planner.workflows.examples import shipped

    return str(shipped())


def solve(path=None, overrides: dict | None = None, mip_gap: float | None = None, time_limit: float | None = None,
          scenario: str | None = None, data: InputData | None = None, *, write: bool = False, out=None,
          force: bool = False, fmt: str = "xlsx", duals: bool = True) -> Result:
    """Solve one input workbook (default: the shipped example) and return a :class:`Result`.

    ``overrides``: settings (``{"discount_rate": 0.03}``) and table cells
    (``{"commodities.NDPR_OX.floor_price_usd_per_t": 90000}``), as ``--set`` takes them; the file is
    never modified.  ``data``: an already-read :class:`InputData` (see :func:`read`).
    ``write``: also write the results as ``planner solve`` does (to ``out``, default
    ``results/<stem>.results.xlsx``; ``fmt`` csv or parquet for a folder; ``force`` overwrites); the
    command line's ``solve`` calls this.  ``duals``: False skips the shadow prices of a MIP."""
    path = str(path) if path is not None else _default_input()
    ov = {k: (v if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v))
          for k, v in settings_overrides(time_limit, mip_gap, overrides).items()}
    oc = solve_file(path, out=out, overrides=ov, scenario=scenario, write=write, keep=True, data=data, force=force,
                    fmt=fmt, duals=duals)
    tables = dict(oc.sheets or {})
    summary = {}
    if "summary" in tables:
        summary = dict(zip(tables["summary"]["key"], tables["summary"]["value"]))
    return Result(input=path, status=oc.status, objective_musd=oc.objective, gap=oc.gap,
                  gap_musd=float(oc.headline.get("mip_gap_musd", float("nan"))) if oc.headline else float("nan"),
                  tables=tables, summary=summary, message=oc.message, relaxed=oc.relaxed, outcome=oc)


def read(path=None, overrides: dict | None = None) -> InputData:
    """Read and validate an input workbook: ``.settings`` (dict) and ``.tables`` (sheet -> DataFrame, typed,
    defaults filled, ``_row`` the spreadsheet row).  Raises :class:`planner.InputError` listing every problem."""
    path = str(path) if path is not None else _default_input()
    return load(path, {k: str(v) for k, v in (overrides or {}).items()})
