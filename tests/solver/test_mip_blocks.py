"""A MIP that falls apart into independent blocks is solved block by block (issue 18): same optimum as the
whole model, and the whole model whenever a block cannot be solved to optimality."""
from __future__ import annotations

import numpy as np
import pytest

import planner.solver.highs as H


def _arrays(demand2=2.5):
    """Two blocks, one fixed column, one column in no row.
    Block 1: min 3 x1 + 2 y1  s.t.  x1 + y1 >= 2.5, x1 integer in [0, 10], y1 in [0, 1]
             by hand: x1 = 2, y1 = 0.5 -> 7 (x1 = 3 costs 9).
    Block 2: min 5 x2 + 4 y2  s.t.  x2 + y2 + f >= demand2 + 1, x2 integer in [0, 10], y2 in [0, 0.2]; f fixed at 1
             by hand (demand2 = 2.5): x2 + y2 >= 2.5 -> x2 = 3, y2 = 0 costs 15; x2 = 2 needs y2 = 0.5 > 0.2.
    f costs 1 (fixed at 1: +1); z is in no row, cost 2, bounds [0.5, 4]: at 0.5, +1.  Total 7 + 15 + 1 + 1 = 24."""
    # columns: x1, y1, x2, y2, f, z ; rows: r0 (block 1), r1 (block 2)
    r = np.array([0, 0, 1, 1, 1])
    c = np.array([0, 1, 2, 3, 4])
    A = H.csc_from_triplets(r, c, np.ones(5), 2, 6)
    cost = np.array([3.0, 2.0, 5.0, 4.0, 1.0, 2.0])
    lower = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.5])
    upper = np.array([10.0, 1.0, 10.0, 0.2, 1.0, 4.0])
    integer = np.array([True, False, True, False, False, False])
    return [A, cost, 0.0, lower, upper, integer, np.array([2.5, demand2 + 1]), np.array([np.inf, np.inf]), None, {}]


@pytest.mark.parametrize("mode", ["on", "off"])
def test_two_blocks_by_hand(monkeypatch, mode):
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", mode)
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(24.0)
    assert res.x == pytest.approx([2, 0.5, 3, 0, 1, 0.5])
    assert res.times.get("mip_blocks") == (2 if mode == "on" else None)
    # shadow prices of the LP with x1 = 2, x2 = 3 fixed: r0 binding at the cost of y1 (2); r1 slack (0)
    assert res.row_dual == pytest.approx([2.0, 0.0])


def test_a_block_infeasible_falls_back_to_the_whole_model(monkeypatch):
    # demand2 = 13: x2 <= 10, y2 <= 0.2, f = 1 cannot reach 14: the whole model reports it
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    res = H._solve_arrays(_arrays(demand2=13.0), 0.0, mip_gap=0.0)
    assert res.status == "infeasible" and not res.has_solution
    assert "mip_blocks" not in res.times


def test_one_block_is_solved_whole():
    A = H.csc_from_triplets(np.array([0, 0]), np.array([0, 1]), np.ones(2), 1, 2)
    assert H.mip_blocks(A, np.zeros(2), np.full(2, 10.0), np.array([True, False])) is None


@pytest.mark.parametrize("mode, small, blocks", [("on", 0, 2), ("on", H.SMALL_BLOCK_ROWS, 1), ("off", 0, None)])
def test_an_lp_by_blocks_by_hand(monkeypatch, mode, small, blocks):
    """The same arrays with x1, x2 continuous: block 1 takes y1 = 1 (2 < 3) and x1 = 1.5: 6.5; block 2 takes
    y2 = 0.2 (4 < 5) and x2 = 2.3: 12.3; with f and z, 6.5 + 12.3 + 1 + 1 = 20.8.  Duals: one more unit of r0
    costs 3 (x1), of r1 5 (x2).  Solved apart, joined as one block-diagonal LP (both blocks, one row each, are
    below SMALL_BLOCK_ROWS), and whole: the same optimum."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", small)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", mode)
    arrays = _arrays()
    arrays[5] = np.zeros(6, dtype=bool)
    res = H._solve_arrays(arrays, 0.0)
    assert res.status == "optimal" and not res.is_mip
    assert res.objective == pytest.approx(20.8)
    assert res.x == pytest.approx([1.5, 1, 2.3, 0.2, 1, 0.5])
    assert res.row_dual == pytest.approx([3.0, 5.0])
    assert res.times.get("mip_blocks") == blocks


def test_a_block_stopped_at_the_time_limit_keeps_its_plan(monkeypatch):
    """A block that stops at the time limit with an incumbent: the sum is returned as the whole model's would be,
    status time_limit with its plan (here HiGHS is made to report block 2's optimum as stopped at the limit, so
    the plan is still the hand optimum of test_two_blocks_by_hand, 24)."""
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    real = H.new_highs

    class Stopped:
        def __init__(self, h):
            self._h, self._block2 = h, False

        def __getattr__(self, name):
            return getattr(self._h, name)

        def passModel(self, *a):
            self._block2 = len(a) > 6 and list(np.asarray(a[6]) / H.OBJ_SCALE) == [5.0, 4.0]
            return self._h.passModel(*a)

        def getModelStatus(self):
            st = self._h.getModelStatus()
            return H.highspy.HighsModelStatus.kTimeLimit if self._block2 else st

    monkeypatch.setattr(H, "new_highs", lambda output=False: Stopped(real(output)))
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0, duals=False)
    assert res.status == "time_limit" and res.has_solution
    assert res.objective == pytest.approx(24.0)
    assert res.x == pytest.approx([2, 0.5, 3, 0, 1, 0.5])
    assert res.times.get("mip_blocks") == 2


def test_an_integer_column_in_no_row_takes_the_best_integer_inside_its_bounds(monkeypatch):
    """_arrays() plus w: integer, cost -1, bounds [0, 3.7], in no row: w = 3 (4 is above its bound), -3;
    the total 24 - 3 = 21, by blocks and whole."""
    for mode in ("on", "off"):
        monkeypatch.setenv("PLANNER_MIP_BLOCKS", mode)
        a = _arrays()
        A = a[0]
        a[0] = H.Csc(np.r_[A.indptr, A.indptr[-1]], A.indices, A.data, (A.shape[0], A.shape[1] + 1))
        a[1] = np.r_[a[1], -1.0]
        a[3], a[4] = np.r_[a[3], 0.0], np.r_[a[4], 3.7]
        a[5] = np.r_[a[5], True]
        res = H._solve_arrays(a, 0.0, mip_gap=0.0, duals=False)
        assert res.status == "optimal", mode
        assert res.objective == pytest.approx(21.0), mode
        assert res.x[-1] == pytest.approx(3.0), mode


def test_small_blocks_with_integers_stay_apart(monkeypatch):
    """The MIP of test_two_blocks_by_hand: each block has an integer column, so each keeps its own MIP (and gap)."""
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert res.times["mip_blocks"] == 2 and res.objective == pytest.approx(24.0)


def test_merge_small_joins_block_diagonally():
    """Three blocks: [[1, 2]] (rows 4; cols 7, 8), [[3], [4]] (rows 0, 2; col 5), a large one (left alone).
    The join of the first two: rows (4, 0, 2), columns (7, 8, 5), matrix [[1, 2, 0], [0, 0, 3], [0, 0, 4]]."""
    b1 = (np.array([4]), np.array([7, 8]), H.csc_from_triplets(np.array([0, 0]), np.array([0, 1]),
                                                               np.array([1.0, 2.0]), 1, 2), np.array([10.0, 11.0]))
    b2 = (np.array([0, 2]), np.array([5]), H.csc_from_triplets(np.array([0, 1]), np.array([0, 0]),
                                                               np.array([3.0, 4.0]), 2, 1), np.array([12.0]))
    n = H.SMALL_BLOCK_ROWS
    big = (np.arange(10, 10 + n), np.array([9]), H.csc_from_triplets(np.arange(n), np.zeros(n, dtype=int),
                                                                     np.ones(n), n, 1), np.array([13.0]))
    out = H.merge_small([b1, big, b2])
    assert len(out) == 2 and out[0] is big
    R, C, M, extra = out[1]
    assert R.tolist() == [4, 0, 2] and C.tolist() == [7, 8, 5] and extra.tolist() == [10.0, 11.0, 12.0]
    dense = np.zeros(M.shape)
    for j in range(M.shape[1]):
        dense[M.indices[M.indptr[j]:M.indptr[j + 1]], j] = M.data[M.indptr[j]:M.indptr[j + 1]]
    assert dense.tolist() == [[1, 2, 0], [0, 0, 3], [0, 0, 4]]
    assert H.merge_small([b1, big]) == [b1, big]  # one small block: nothing to join
    assert H.merge_small([b1, b2], lambda C: 5 not in C) == [b1, b2]  # b2 may not be joined


def test_the_live_line_counts_the_blocks_done(monkeypatch):
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    events = []
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0, progress=events.append)
    assert res.objective == pytest.approx(24.0)
    phases = [e["phase"] for e in events if "phase" in e]
    assert phases[0] == "HiGHS MIP (2 independent blocks)"
    assert "HiGHS MIP: 1 of 2 independent blocks done" in phases and "HiGHS MIP: 2 of 2 independent blocks done" in phases
