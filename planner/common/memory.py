"""The process's memory policy with glibc's allocator (nothing elsewhere: macOS, musl, Windows).

HiGHS runs in threads: the blocks of a model two at a time, the relaxations and fixed LPs, highspy's own
solve thread.  glibc gives each thread an arena of its own, and what HiGHS frees in an arena stays there:
the Python objects of the model (main arena) could not use it, and the process's peak grew by what every
thread had once held.  :func:`one_malloc_arena` makes every thread allocate from the main heap; it must run
before any thread allocates, so ``planner/__init__.py`` calls it.  :func:`release_freed_memory` hands the
freed pages back to the system after a large solve (planner.solver.highs).  Measured at preset XL
(benchmarks/run.py, docs/performance.md): peak RSS 766 → 624 MiB with one arena, HiGHS's time unchanged.
"""
from __future__ import annotations

import os

M_ARENA_MAX = -8  # glibc's mallopt parameter number for the largest number of arenas
_DONE: dict = {}


def _libc():
    import ctypes

    for name in ("libc.so.6", None):  # None: the symbols of the running program, which links the C library
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def one_malloc_arena() -> bool:
    """Every thread allocates from the main heap (``mallopt(M_ARENA_MAX, 1)``), once per process; a
    MALLOC_ARENA_MAX in the environment wins.  True when it was set."""
    if "arena" in _DONE:
        return _DONE["arena"]
    ok = False
    if not os.environ.get("MALLOC_ARENA_MAX"):
        libc = _libc()
        try:
            ok = bool(libc is not None and libc.mallopt(M_ARENA_MAX, 1) == 1)
        except AttributeError:  # not glibc
            ok = False
    _DONE["arena"] = ok
    return ok


def release_freed_memory() -> bool:
    """Give the heap memory that was freed (by HiGHS, after a solve) back to the system (``malloc_trim``): the
    results tables made afterwards then do not add to the peak (XL: 930–975 → 905 MiB before one arena, one-off).
    True when the call was made."""
    import ctypes

    libc = _libc()
    try:
        trim = libc.malloc_trim
    except AttributeError:  # not glibc, or no C library found: nothing to do
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True
