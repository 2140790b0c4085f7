"""After a large solve, the heap memory HiGHS freed goes back to the system (planner.solver.highs.release_freed_memory:
glibc's malloc_trim), so the results tables made afterwards do not add to the process's peak."""
from __future__ import annotations

import platform
from pathlib import Path

import pytest

import planner.solver.highs as H
from planner.input.load import load
from planner.model.prepare import prepare
from planner.workflows.run import solve_model

TINY = Path(__file__).resolve().parents[2] / "inputs" / "tiny.xlsx"


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_release_is_available_on_glibc():
    assert H.release_freed_memory() is True


@pytest.mark.parametrize("threshold, calls", [(0, 1), (10**12, 0)])
def test_large_solves_release_and_small_ones_do_not(monkeypatch, threshold, calls):
    seen = []
    monkeypatch.setattr(H, "TRIM_MIN_NNZ", threshold)
    monkeypatch.setattr(H, "release_freed_memory", lambda: seen.append(1) or True)
    _ctx, res, _t = solve_model(prepare(load(str(TINY))))
    assert res.status == "optimal" and len(seen) == calls
