"""Sweeps and batches do not solve again a block that a solve before gave the same arrays (issue 18), and the
connected components that split a model into blocks (planner.solver.highs.components)."""
from __future__ import annotations

import os

import numpy as np
import pytest

import planner.solver.highs as H
from test_mip_blocks import _arrays


def test_an_unchanged_block_is_reused_and_a_changed_one_solved(monkeypatch):
    """The two-block MIP of test_mip_blocks (hand optimum 24: block 1 costs 7, block 2 15, f and z 2).
    The second solve raises block 2's demand from 2.5 to 3.5: x2 = 4, y2 = 0 (x2 = 3 would need y2 = 0.5 > 0.2)
    costs 20, so the total is 7 + 20 + 2 = 29; block 1's arrays are the same and its solution is reused.
    A block key that missed the row bounds would reuse block 2's old solution too and give 24."""
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    with H.reusing():
        first = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        second = H._solve_arrays(_arrays(demand2=3.5), 0.0, mip_gap=0.0)
        third = H._solve_arrays(_arrays(demand2=3.5), 0.0, mip_gap=0.0)
    assert first.objective == pytest.approx(24.0) and "mip_blocks_reused" not in first.times
    assert second.objective == pytest.approx(29.0)
    assert second.x == pytest.approx([2, 0.5, 4, 0, 1, 0.5])
    assert second.times["mip_blocks_reused"] == 1
    # shadow prices as in test_two_blocks_by_hand: r0 binding at y1's cost 2, r1 slack (0.5 of room)
    assert second.row_dual == pytest.approx([2.0, 0.0])
    assert third.times["mip_blocks_reused"] == 2 and third.objective == pytest.approx(29.0)


def test_a_start_from_the_previous_solution_that_is_no_longer_optimal(monkeypatch):
    """Block 2's rows and columns stay, its values change: x2 costs 10 (was 5) and y2 may reach 1 (was 0.2).  The
    previous block solution (x2 = 3, y2 = 0: cost 30) is still feasible and is HiGHS's MIP start, and the previous
    fixed-LP basis the LP's start; by hand the optimum is x2 = 2, y2 = 0.5: 20 + 2 = 22, total 7 + 22 + 2 = 31, and
    with x2 fixed at 2 row r1 binds at y2's cost: dual 4 (r0 keeps 2).  A start taken as the answer would give 39."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)  # each small block solved apart (joined: test_mip_blocks.py)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    monkeypatch.setenv("PLANNER_LP_FIRST", "off")  # the starts of branch and bound (relaxation first: test_lp_first)
    changed = _arrays()
    changed[1] = changed[1].copy()
    changed[1][2] = 10.0
    changed[4] = changed[4].copy()
    changed[4][3] = 1.0
    calls = []
    real = H.new_highs

    class Spy:  # records the starts given to HiGHS
        def __init__(self, h):
            self._h = h

        def __getattr__(self, name):
            return getattr(self._h, name)

        def setSolution(self, n, idx, vals):
            calls.append(("solution", int(n)))
            return self._h.setSolution(n, idx, vals)

        def setBasis(self, b):
            calls.append(("basis", len(b.row_status)))
            return self._h.setBasis(b)

    monkeypatch.setattr(H, "new_highs", lambda *a, **k: Spy(real(*a, **k)))
    with H.reusing():
        H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        assert calls == []
        res = H._solve_arrays(changed, 0.0, mip_gap=0.0)
    # block 2's previous solution (its 2 columns) as the MIP start; the fixed LP of block 2 (its 1 row) from its basis
    assert calls == [("solution", 2), ("basis", 1)]
    assert res.times["mip_blocks_reused"] == 1
    assert res.objective == pytest.approx(31.0)
    assert res.x == pytest.approx([2, 0.5, 2, 0.5, 1, 0.5])
    assert res.row_dual == pytest.approx([2.0, 4.0])


def test_nothing_is_kept_outside_a_sweep_or_batch(monkeypatch):
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    again = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert "mip_blocks_reused" not in again.times
    assert H._MEMO == {"prev": {}, "now": {}}


def test_reuse_off_solves_every_block(monkeypatch):
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    monkeypatch.setenv("PLANNER_REUSE", "off")
    with H.reusing():
        H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        again = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert "mip_blocks_reused" not in again.times and again.objective == pytest.approx(24.0)


def test_a_different_gap_is_a_different_block(monkeypatch):
    """A block solved to another gap is not the same answer: solved again."""
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    with H.reusing():
        H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        again = H._solve_arrays(_arrays(), 0.0, mip_gap=0.5)
    assert "mip_blocks_reused" not in again.times


def test_the_fixed_lp_blocks_are_reused_with_their_duals(monkeypatch):
    """Duals of the fixed-integer LP come back the same from a kept block: the second solve of the same MIP
    reuses both MIP blocks and their fixed-LP blocks (hand duals of test_two_blocks_by_hand: 2 and 0)."""
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    H.highs_version()  # cached: makes its own HiGHS object once per process
    calls = []
    real = H.new_highs
    monkeypatch.setattr(H, "new_highs", lambda *a, **k: calls.append(1) or real(*a, **k))
    with H.reusing():
        H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        n_first = len(calls)
        again = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert n_first >= 3 and len(calls) == n_first  # no HiGHS object made for the second solve
    assert again.row_dual == pytest.approx([2.0, 0.0]) and again.objective == pytest.approx(24.0)


def _scipy_labels(n, u, v):
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    _k, lab = connected_components(coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False)
    first = np.full(lab.max() + 1, n)
    np.minimum.at(first, lab, np.arange(n))
    return first[lab]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rounds", [64, 1])
def test_components_match_scipy(seed, rounds):
    """Labels = the smallest node of each component, as SciPy's components relabelled; ``rounds=1`` takes the
    SciPy fallback for graphs that need more rounds."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = int(rng.integers(0, 2 * n))
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    assert np.array_equal(H.components(n, u, v, rounds=rounds), _scipy_labels(n, u, v))


def test_components_by_hand():
    # 0-3, 3-5, 1-4; 2 alone: components {0, 3, 5}, {1, 4}, {2}
    lab = H.components(6, np.array([3, 5, 4]), np.array([0, 3, 1]))
    assert lab.tolist() == [0, 1, 2, 0, 1, 0]


# ---------------------------------------------------------------- property: a sequence of solves, kept or not
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _random_blocks(rng, n_blocks):
    """n_blocks independent knapsack-cover MIPs: min c·x + p·y, a·x + y >= d, x integer in [0, 5], y in [0, 3]."""
    r, c, v, cost, lo, hi, integer, rlo = [], [], [], [], [], [], [], []
    col = 0
    for b in range(n_blocks):
        k = int(rng.integers(2, 5))
        a = rng.integers(1, 9, size=k).astype(float)
        r += [b] * (k + 1)
        c += list(range(col, col + k + 1))
        v += list(a) + [1.0]
        cost += list(rng.integers(3, 20, size=k).astype(float)) + [float(rng.integers(5, 30))]
        lo += [0.0] * (k + 1)
        hi += [5.0] * k + [3.0]
        integer += [True] * k + [False]
        rlo.append(float(rng.integers(5, 25)))
        col += k + 1
    A = H.csc_from_triplets(np.array(r), np.array(c), np.array(v), n_blocks, col)
    return [A, np.array(cost), 0.0, np.array(lo), np.array(hi), np.array(integer), np.array(rlo),
            np.full(n_blocks, np.inf), None, {}]


@settings(max_examples=int(os.environ.get("PLANNER_PROPERTY_EXAMPLES", 25)), deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_blocks=st.integers(2, 4), steps=st.integers(2, 4))
def test_a_sequence_of_solves_gives_the_same_optima_with_blocks_kept_or_not(seed, n_blocks, steps):
    """Each step changes one block's demand (or nothing): solved in a sweep (blocks kept, starts from the previous
    solutions and bases) and each alone, the optima and the duals' objective agree."""
    rng = np.random.default_rng(seed)
    base = _random_blocks(rng, n_blocks)
    seq = []
    for _ in range(steps):
        arrays = [x.copy() if isinstance(x, np.ndarray) else x for x in base]
        b = int(rng.integers(0, n_blocks + 1))  # n_blocks: nothing changes
        if b < n_blocks:
            arrays[6][b] = float(rng.integers(5, 25))
        seq.append(arrays)
        base = arrays
    old = {k: os.environ.get(k) for k in ("PLANNER_MIP_BLOCKS", "PLANNER_LP_FIRST")}
    os.environ["PLANNER_MIP_BLOCKS"] = "on"
    try:
        with H.reusing():
            kept = [H._solve_arrays(list(a), 0.0, mip_gap=0.0) for a in seq]
        alone = [H._solve_arrays(list(a), 0.0, mip_gap=0.0) for a in seq]
        os.environ["PLANNER_LP_FIRST"] = "off"  # branch and bound only: the relaxation first changes no optimum
        bnb = [H._solve_arrays(list(a), 0.0, mip_gap=0.0) for a in seq]
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for k, a, b, arrays in zip(kept, alone, bnb, seq):
        assert k.status == a.status == b.status  # a demand above a block's capacity: infeasible every way
        if a.status != "optimal":
            assert a.status == "infeasible"
            continue
        assert k.objective == pytest.approx(a.objective, rel=1e-9, abs=1e-9)
        assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-9)
        # the duals are optimal for the fixed-integer LP: their objective (rows' lower bounds net of the integer
        # columns' share, plus the continuous columns' bound terms) equals the LP's; compare the row duals' own part
        assert k.row_dual is not None and np.all(k.row_dual >= -1e-9)
        A = arrays[0]
        xi = np.where(arrays[5], np.round(k.x), 0.0)
        act_int = H.fixed_activity(A, xi)
        y = k.row_dual
        cont = ~arrays[5]
        # reduced costs of continuous columns: c - A^T y, at an upper bound when negative
        col_of_nz = np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
        aty = np.bincount(col_of_nz, weights=A.data * y[A.indices], minlength=A.shape[1])
        red = arrays[1] - aty
        dual_obj = float(y @ (arrays[6] - act_int)) + float(np.sum(np.minimum(red[cont], 0.0) * arrays[4][cont]))
        primal_cont = float(arrays[1][cont] @ k.x[cont])
        assert dual_obj == pytest.approx(primal_cont, rel=1e-7, abs=1e-7)
