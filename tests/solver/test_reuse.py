"""Reuse of the previous solve's HiGHS model when only coefficients change (issue 18 item 3).

Each case is solved cold (reuse off: a new HiGHS object, the whole model passed) and reused (the kept object,
only the differences changed); both must give the optimum computed by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from planner.solver import highs
from planner.solver.highs import _solve_arrays, csc_from_triplets, reusing

INF = np.inf


def arrays(cost, A, lower, upper, row_hi, integer=None, row_lo=None):
    """The compiled arrays of min cost·x s.t. row_lo <= A x <= row_hi, lower <= x <= upper (A dense)."""
    A = np.asarray(A, dtype=float)
    r, c = np.nonzero(A)
    m, n = A.shape
    csc = csc_from_triplets(r.astype(np.int64), c.astype(np.int64), A[r, c], m, n)
    return [csc, np.asarray(cost, dtype=float), 0.0, np.asarray(lower, dtype=float), np.asarray(upper, dtype=float),
            np.zeros(n, dtype=bool) if integer is None else np.asarray(integer, dtype=bool),
            np.full(m, -INF) if row_lo is None else np.asarray(row_lo, dtype=float),
            np.asarray(row_hi, dtype=float), None, {}]


def solve(arr, **kw):
    return _solve_arrays(list(arr), 0.0, **kw)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv(highs.REUSE_ENV, raising=False)
    highs.set_reuse(False)
    yield
    highs.set_reuse(False)


# LP: min -x0 - 2 x1  s.t.  x0 + x1 <= 4,  x0 + 3 x1 <= 6,  x >= 0.
# By hand, the vertices: (0,0) 0; (4,0) -4; (0,2) -4; the two rows together x1 = 1, x0 = 3: -5 (the optimum).
LP = {"cost": [-1, -2], "A": [[1, 1], [1, 3]], "lower": [0, 0], "upper": [INF, INF], "row_hi": [4, 6]}

# changed case -> optimum by hand (vertices of the changed polytope)
LP_CASES = {
    # cost (-1, -4): (0,2) gives -8, (3,1) -7, (4,0) -4
    "cost": ({"cost": [-1, -4]}, -8.0),
    # x1 <= 0.5: the second row is slack; x0 + x1 = 4 with x1 = 0.5 -> (3.5, 0.5): -3.5 - 1 = -4.5
    "column bound": ({"upper": [INF, 0.5]}, -4.5),
    # x0 + x1 <= 5: with x0 + 3 x1 = 6 -> x1 = 0.5, x0 = 4.5: -5.5 ((5,0) -5, (0,2) -4)
    "row bound": ({"row_hi": [5, 6]}, -5.5),
    # A[1,1] 3 -> 2 (x0 + 2 x1 <= 6): with x0 + x1 = 4 -> (2,2): -6 ((0,3) -6 too, (4,0) -4)
    "matrix value": ({"A": [[1, 1], [1, 2]]}, -6.0),
}


@pytest.mark.parametrize("case", list(LP_CASES))
def test_lp_reused_after_a_change_gives_the_cold_optimum(case, monkeypatch):
    monkeypatch.setattr(highs, "REUSE_MAX_COEFF_SHARE", 1.0)  # one of four matrix values changes here
    change, expect = LP_CASES[case]
    cold = solve(arrays(**{**LP, **change}))
    assert cold.status == "optimal" and cold.objective == pytest.approx(expect, abs=1e-9)
    assert "handoff_reused" not in cold.times
    with reusing():
        first = solve(arrays(**LP))
        assert first.objective == pytest.approx(-5.0, abs=1e-9) and "handoff_reused" not in first.times
        again = solve(arrays(**{**LP, **change}))
        assert again.times.get("handoff_reused") == 1           # no passModel: the kept object, changed
        assert again.status == "optimal" and again.objective == pytest.approx(expect, abs=1e-9)
        np.testing.assert_allclose(again.x @ np.array(change.get("cost", LP["cost"]), dtype=float), expect)
        back = solve(arrays(**LP))                             # and back: the first optimum again
        assert back.times.get("handoff_reused") == 1 and back.objective == pytest.approx(-5.0, abs=1e-9)
    assert highs._REUSE["kept"] is None                         # released when the block ends


def test_a_reused_lp_starts_from_the_previous_basis():
    """The same LP again: HiGHS has the optimal basis already, so the reused solve takes no simplex iteration."""
    with reusing():
        solve(arrays(**LP))
        res = solve(arrays(**LP))
        assert res.times.get("handoff_reused") == 1 and res.objective == pytest.approx(-5.0)
        assert highs._REUSE["kept"].h.getInfo().simplex_iteration_count == 0


def test_a_structure_change_takes_the_normal_path():
    with reusing():
        solve(arrays(**LP))
        # a new nonzero (x1 in the first row was there; add x0 in a third row): another shape -> passed whole
        res = solve(arrays(**{**LP, "A": [[1, 1], [1, 3], [1, 0]], "row_hi": [4, 6, 2]}))
        # x0 <= 2: with x0 + 3 x1 = 6 -> x1 = 4/3: -2 - 8/3 = -14/3 ((0,2) -4)
        assert "handoff_reused" not in res.times and "basis_reused" not in res.times
        assert res.objective == pytest.approx(-14 / 3)
        res = solve(arrays(**{**LP, "A": [[1, 1], [1, 3], [1, 0]], "row_hi": [4, 6, 2]}))   # the same again
        assert res.times.get("handoff_reused") == 1 and res.objective == pytest.approx(-14 / 3)
        # same shape and number of nonzeros, another sparsity pattern -> passed whole, from the previous basis
        res = solve(arrays(**{**LP, "A": [[1, 0], [1, 3], [1, 1]], "row_hi": [4, 6, 2]}))
        # rows: x0 <= 4, x0 + 3 x1 <= 6, x0 + x1 <= 2 -> with the last two tight: x1 = 2, x0 = 0: -4
        assert "handoff_reused" not in res.times and res.objective == pytest.approx(-4.0)
        assert res.times.get("basis_reused") == 1
        # integrality changed -> passed whole (a MIP: no basis)
        res = solve(arrays(**{**LP, "A": [[1, 0], [1, 3], [1, 1]], "row_hi": [4, 6, 2]}, integer=[False, True]))
        assert "handoff_reused" not in res.times and "basis_reused" not in res.times
        assert res.objective == pytest.approx(-4.0)


def test_off_by_environment(monkeypatch):
    monkeypatch.setenv(highs.REUSE_ENV, "off")
    with reusing():
        solve(arrays(**LP))
        res = solve(arrays(**{**LP, "cost": [-1, -4]}))
    assert "handoff_reused" not in res.times and res.objective == pytest.approx(-8.0)


def test_too_many_changed_matrix_values_pass_the_model_again(monkeypatch):
    monkeypatch.setattr(highs, "REUSE_MAX_COEFF_SHARE", 0.0)
    monkeypatch.setattr(highs, "REUSE_MAX_NNZ", 4)          # and a model above the size limit is not kept at all
    with reusing():
        solve(arrays(**LP))
        res = solve(arrays(**{**LP, "A": [[1, 1], [1, 2]]}))
        assert "handoff_reused" not in res.times and res.objective == pytest.approx(-6.0)
        solve(arrays(**{**LP, "A": [[1, 1], [1, 2]], "row_hi": [4, 6]}))
    monkeypatch.setattr(highs, "REUSE_MAX_NNZ", 3)
    with reusing():
        solve(arrays(**LP))
        assert highs._REUSE["kept"] is None


# MIP: min -x0 - 2 x1  s.t.  2 x0 + 2 x1 <= 5,  x integer in [0, 10].
# By hand: the LP relaxation reaches x1 = 2.5 (-5); integers: x1 = 2 leaves 2 x0 <= 1 -> x0 = 0: -4, and
# x1 <= 1 gives at most -2 - 1.5 -> -3 with integers; so (0, 2), -4, unique.
MIP = {"cost": [-1, -2], "A": [[2, 2]], "lower": [0, 0], "upper": [10, 10], "row_hi": [5], "integer": [True, True]}
# After the change the costs are (-2, -1): by symmetry (2, 0), -4.  A model left as the fixed-integer LP would give
# -2 (x fixed at (0, 2)); with integrality lost but bounds restored, the LP relaxation gives -5.
MIP2 = {**MIP, "cost": [-2, -1]}


@pytest.mark.parametrize("fixed_lp", ["whole", "blocks"])
def test_after_a_mip_with_duals_integers_stay_integers(monkeypatch, fixed_lp):
    monkeypatch.setenv("PLANNER_FIXED_LP", fixed_lp)  # "whole": the fixed LP runs in the kept object itself
    cold = solve(arrays(**MIP2))
    assert cold.is_mip and cold.objective == pytest.approx(-4.0)
    with reusing():
        first = solve(arrays(**MIP), duals=True)
        assert first.objective == pytest.approx(-4.0) and np.allclose(first.x, [0, 2])
        assert first.row_dual is not None                     # the duals LP ran
        res = solve(arrays(**MIP2), duals=True)
        assert res.times.get("handoff_reused") == 1
        assert res.is_mip and res.status == "optimal"
        assert res.objective == pytest.approx(-4.0) and np.allclose(res.x, [2, 0])
        assert np.allclose(res.x, np.round(res.x))             # integers are integers
        # the kept object holds the model as passed once more after restoring: integer columns, their bounds
        h = highs._REUSE["kept"].h
        res = solve(arrays(**MIP), duals=False)
        assert res.times.get("handoff_reused") == 1 and res.objective == pytest.approx(-4.0)
        assert [h.getColIntegrality(j)[1] for j in range(2)] == [highspy_integer()] * 2
        _, _, _, lo, hi, _ = h.getCols(2, np.arange(2, dtype=np.int32))
        assert list(lo) == [0, 0] and list(hi) == [10, 10]


def highspy_integer():
    import highspy

    return highspy.HighsVarType.kInteger


def test_a_mip_start_and_the_time_limit_still_apply():
    """The MIP start goes to the kept object as to a new one; the time limit counts from this run (HiGHS 1.x
    measures it over every run of one object)."""
    with reusing():
        solve(arrays(**MIP), time_limit=50.0)
        h = highs._REUSE["kept"].h
        res = solve(arrays(**MIP2), start=(np.array([0, 1]), np.array([2.0, 0.0])), time_limit=50.0, duals=False)
        assert res.times.get("handoff_reused") == 1 and res.objective == pytest.approx(-4.0)
        assert h.getOptionValue("time_limit")[1] == pytest.approx(50.0 + h.getRunTime(), abs=1.0)
        assert h.getOptionValue("presolve")[1] == "choose"   # the duals LP's presolve 'on' undone


def test_a_change_highs_refuses_falls_back_to_a_new_object():
    import highspy

    with reusing():
        solve(arrays(**LP))
        h = highs._REUSE["kept"].h
        h.changeColsCost = lambda *a: highspy.HighsStatus.kError   # as if HiGHS refused the new costs
        res = solve(arrays(**{**LP, "cost": [-1, -4]}))
        assert "handoff_reused" not in res.times and "basis_reused" not in res.times
        assert res.objective == pytest.approx(-8.0)
        assert highs._REUSE["kept"].h is not h
