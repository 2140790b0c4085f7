"""How large a model will be, estimated from the tables before it is built (issue 15 item 5).

A 19 KB workbook with 201 members and 175 years asks for a model of tens of millions of columns: it ran for
minutes and died with a MemoryError after 5.4 GB.  :func:`check_model_size` estimates the model's columns and
nonzeros from the input tables (the blocks that repeat for every year and scenario: trade between member pairs,
purchases, balances, plants, stockpiles, offtakes), converts them to memory with the figures measured on the
benchmark presets (docs/performance.md: peak RSS about 1.3 kB per nonzero while HiGHS runs, 2.3 nonzeros per
column), and refuses a model that would need more than ``MEMORY_SHARE`` of the machine's memory, naming the
sheets and settings that make it large.  ``--force-size`` (environment variable ``PLANNER_FORCE_SIZE=1``) runs it
anyway.  The estimate errs on the large side (every commodity counted at every member).
"""
from __future__ import annotations

import os

from planner.common.problems import PlannerError

BYTES_PER_NNZ = 1300       # peak RSS per nonzero (docs/performance.md: L 2.77 GB / 2.13 M, 64 scenarios 5.06 GB / 4.07 M)
BASE_BYTES = 200 * 2**20   # the interpreter, pandas, Pyomo and HiGHS before any model
NNZ_PER_COLUMN = 1.6       # with the column estimate above: estimated nonzeros 1.0-1.3x the built ones (presets tiny, S, M; inputs)
MEMORY_SHARE = 0.8         # of the machine's physical memory
FORCE_ENV = "PLANNER_FORCE_SIZE"


def machine_memory() -> int | None:
    """Physical memory in bytes (MemTotal), or None where it cannot be told."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _n(df) -> int:
    return len(df)


def estimate(data, scenario: str | None = None) -> dict:
    """{'columns', 'nonzeros', 'bytes', 'blocks': [(columns, what)]} of the model of ``data`` (InputData)."""
    T, st = data.tables, data.settings
    y0, y1 = st.get("start_year"), st.get("end_year")
    years = max(1, y1 - y0 + 1) if isinstance(y0, int) and isinstance(y1, int) else 1
    scen = 1 if scenario is not None else max(1, _n(T["scenarios"]))
    members, comms = max(1, T["members"]["member"].nunique()), max(1, T["commodities"]["commodity"].nunique())
    ys = years * scen
    where_y = f"years {years} (settings start_year-end_year)"
    where_s = f"scenarios {scen} (sheet scenarios)"
    blocks = []
    pairs = members * (members - 1) if st.get("trade_all_pairs", True) else 0
    pairs += _n(T["routes"])
    allp = ", settings trade_all_pairs" if st.get("trade_all_pairs", True) else ""
    trade = (f"trade: {pairs:,} member pairs (sheet members, {members} rows{allp}; sheet routes) x commodities "
             f"{comms} (sheet commodities) x {where_y} x {where_s}")
    blocks.append((pairs * comms * ys, trade))
    blocks.append((3 * members * comms * ys,
                   f"balances: members {members} x commodities {comms} x {where_y} x {where_s}"))
    blocks.append((_n(T["suppliers"]) * members * ys,
                   f"purchases: suppliers {_n(T['suppliers'])} rows x members {members} x {where_y} x {where_s}"))
    blocks.append(((2 * _n(T["processes"]) + _n(T["coproducts"])) * ys + 2 * _n(T["processes"]) * years,
                   f"plants: processes {_n(T['processes'])} rows x {where_y} x {where_s}"))
    blocks.append((4 * _n(T["stockpiles"]) * ys, f"stockpiles: {_n(T['stockpiles'])} rows x {where_y} x {where_s}"))
    blocks.append((2 * _n(T["offtakes"]) * ys, f"offtakes: {_n(T['offtakes'])} rows x {where_y} x {where_s}"))
    blocks.append((_n(T["security"]) * members * ys,
                   f"security: {_n(T['security'])} rows x members {members} x {where_y} x {where_s}"))
    cols = sum(b for b, _ in blocks)
    nnz = int(cols * NNZ_PER_COLUMN)
    return {"columns": cols, "nonzeros": nnz, "bytes": BASE_BYTES + BYTES_PER_NNZ * nnz,
            "blocks": sorted(blocks, reverse=True)}


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_model_size(data, scenario: str | None = None, force: bool | None = None) -> dict:
    """Raise :class:`PlannerError` (one line) if the model of ``data`` would not fit in the machine's memory."""
    est = estimate(data, scenario)
    if force is None:
        force = os.environ.get(FORCE_ENV, "") not in ("", "0")
    mem = machine_memory()
    if force or mem is None or est["bytes"] <= MEMORY_SHARE * mem:
        return est
    big = "; ".join(f"{what} = {cols:,} columns" for cols, what in est["blocks"][:2] if cols)
    raise PlannerError(f"{data.path}: the model would need about {_gb(est['bytes'])} of memory "
                       f"(~{est['columns']:,} columns, ~{est['nonzeros']:,} nonzeros), more than this machine's "
                       f"{_gb(mem)} can hold; largest: {big}. Shorten the horizon, merge members or scenarios, or "
                       "solve one --scenario; --force-size runs it anyway")


def _force(ctx, param, value) -> None:
    if value:
        os.environ[FORCE_ENV] = "1"  # also seen by parallel solves in worker processes


def force_size_option(fn):
    """The ``--force-size`` flag of a command that solves (sets PLANNER_FORCE_SIZE; no function argument)."""
    import click

    return click.option("--force-size", is_flag=True, expose_value=False, callback=_force,
                        help="Solve even when the model looks too large for this machine's memory.")(fn)
