"""bloc planner: critical-minerals trading-bloc planning with Pyomo and HiGHS.

Public API (see :mod:`planner.api`): ``planner.solve(path, overrides=..., mip_gap=..., time_limit=...)``
returns a Result (status, objective_musd, gap, gap_musd, tables, write(path)); ``planner.read(path)``
returns the typed input tables.  Imported on first use, so ``planner --help`` starts fast.
"""
from planner.common.memory import one_malloc_arena
from planner.common.version import __version__

one_malloc_arena()  # before any thread allocates: HiGHS's threads share the main heap (planner/common/memory.py)

__all__ = ["solve", "read", "Result", "InputError", "PlannerError", "__version__"]


def __getattr__(name):
    if name in ("solve", "read", "Result"):
        from planner import api

        return getattr(api, name)
    if name in ("InputError", "PlannerError"):
        from planner.common import problems

        return getattr(problems, name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")
