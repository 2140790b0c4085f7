"""HiGHS options planner sets for every MIP (issue 18): the sub-MIP heuristics and root restarts off unless
PLANNER_MIP_TUNING=off,
and an optional absolute gap in MUSD (scaled like the objective)."""
from __future__ import annotations

import numpy as np
import pytest

import planner.solver.highs as H


def _tiny_mip():
    """min 3 x + 2 y  s.t.  x + y >= 2.5,  x integer in [0, 10], y in [0, 1]: by hand x = 2, y = 0.5,
    objective 7 (x = 3, y = 0 costs 9; x = 2 needs y = 0.5)."""
    A = H.csc_from_triplets(np.array([0, 0]), np.array([0, 1]), np.array([1.0, 1.0]), 1, 2)
    return [A, np.array([3.0, 2.0]), 0.0, np.zeros(2), np.array([10.0, 1.0]), np.array([True, False]),
            np.array([2.5]), np.array([np.inf]), None, {}]


def _options(monkeypatch, **kw):
    seen = {}
    real = H._run

    def run(h):
        seen.update({k: h.getOptionValue(k)[1] if isinstance(h.getOptionValue(k), tuple) else h.getOptionValue(k)
                     for k in (*H.MIP_TUNING, "mip_abs_gap")})
        return real(h)

    monkeypatch.setattr(H, "_run", run)
    res = H._solve_arrays(_tiny_mip(), 0.0, duals=False, **kw)
    assert res.status == "optimal" and res.objective == pytest.approx(7.0)
    return seen


def test_sub_mip_heuristics_and_restarts_off_by_default(monkeypatch):
    monkeypatch.delenv("PLANNER_MIP_TUNING", raising=False)
    seen = _options(monkeypatch)
    assert all(seen[k] is False for k in H.MIP_TUNING)


def test_tuning_off_keeps_highs_defaults(monkeypatch):
    monkeypatch.setenv("PLANNER_MIP_TUNING", "off")
    seen = _options(monkeypatch)
    assert all(seen[k] is True for k in H.MIP_TUNING)


def test_absolute_gap_in_musd_is_scaled_like_the_objective(monkeypatch):
    seen = _options(monkeypatch, mip_abs_gap=2.5)
    assert seen["mip_abs_gap"] == pytest.approx(2.5 * H.OBJ_SCALE)
    seen = _options(monkeypatch)
    assert seen["mip_abs_gap"] == pytest.approx(1e-12)
