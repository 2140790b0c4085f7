"""The process's memory policy (planner/common/memory.py): after a large solve the heap memory HiGHS freed goes back to
the system (glibc's malloc_trim), and every thread allocates from the main heap (one arena)."""
from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

import planner.solver.highs as H
from planner.common import memory
from planner.input.load import load
from planner.model.prepare import prepare
from planner.workflows.run import solve_model

TINY = Path(__file__).resolve().parents[2] / "inputs" / "tiny.xlsx"


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_release_and_one_arena_on_glibc(monkeypatch):
    assert memory.release_freed_memory() is True
    # set when planner was imported, unless MALLOC_ARENA_MAX was in the environment
    assert memory.one_malloc_arena() is (not os.environ.get("MALLOC_ARENA_MAX"))
    monkeypatch.setitem(memory._DONE, "arena", None)
    monkeypatch.delitem(memory._DONE, "arena")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.one_malloc_arena() is False  # the environment's choice wins


@pytest.mark.parametrize("threshold, calls", [(0, 1), (10**12, 0)])
def test_large_solves_release_and_small_ones_do_not(monkeypatch, threshold, calls):
    seen = []
    monkeypatch.setattr(H, "TRIM_MIN_NNZ", threshold)
    monkeypatch.setattr(H, "release_freed_memory", lambda: seen.append(1) or True)  # as highs.py imported it
    _ctx, res, _t = solve_model(prepare(load(str(TINY))))
    assert res.status == "optimal" and len(seen) == calls
