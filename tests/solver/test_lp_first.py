"""The LP relaxation first (issue 18): a MIP block whose relaxation, rounded, is within the gap of the relaxation's
bound needs no branch and bound, and its duals come from the fixed-integer LP started from the relaxation's basis.
Hand cases on the two-block arrays of test_mip_blocks."""
from __future__ import annotations

import numpy as np
import pytest

import planner.solver.highs as H
from test_mip_blocks import _arrays


def _spy_highs(monkeypatch, method: str, record) -> list:
    """Every HiGHS object made from now on records ``record(*args)`` of each call of ``method`` in the list
    returned, then makes the call."""
    seen = []
    real = H.new_highs

    class Spy:
        def __init__(self, h):
            self._h = h

        def __getattr__(self, name):
            attr = getattr(self._h, name)
            if name != method:
                return attr

            def call(*a):
                seen.append(record(*a))
                return attr(*a)

            return call

    monkeypatch.setattr(H, "new_highs", lambda *a, **k: Spy(real(*a, **k)))
    return seen


def _mip_handoffs(monkeypatch):
    """Counts the hand-offs of models with an integer column (branch and bound runs)."""
    calls = []
    real = H.pass_arrays

    def spy(h, M, cs, lo, hi, rlo, rhi, integer=None, *a, **k):
        if integer is not None and np.asarray(integer).any():
            calls.append(len(cs))
        return real(h, M, cs, lo, hi, rlo, rhi, integer, *a, **k)

    monkeypatch.setattr(H, "pass_arrays", spy)
    return calls


@pytest.mark.parametrize("first", ["on", "off"])
def test_an_integral_relaxation_needs_no_branch_and_bound(monkeypatch, first):
    """Block 1 with x1 >= 2 (lower bound): its relaxation, min 3 x1 + 2 y1, x1 + y1 >= 2.5, y1 <= 1, takes x1 = 2 at
    its bound and y1 = 0.5 (by hand: raising x1 costs 3 > 2): integral, 7.  Block 2's relaxation (x2 = 2.3,
    y2 = 0.2) rounds to x2 = 2, which needs y2 = 0.5 > 0.2: no plan, so branch and bound solves it (x2 = 3: 15).
    Total 7 + 15 + 1 + 1 = 24, duals 2 (r0 at y1's cost) and 0 (r1 slack).  Relaxation first: one branch and bound
    (block 2); without it, two."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    monkeypatch.setenv("PLANNER_LP_FIRST", first)
    arrays = _arrays()
    arrays[3] = arrays[3].copy()
    arrays[3][0] = 2.0
    mips = _mip_handoffs(monkeypatch)
    lines = []
    res = H._solve_arrays(arrays, 0.0, mip_gap=0.0, log_lines=lines.append)
    assert res.status == "optimal" and res.objective == pytest.approx(24.0)
    assert res.x == pytest.approx([2, 0.5, 3, 0, 1, 0.5])
    assert res.row_dual == pytest.approx([2.0, 0.0])
    assert res.bound == pytest.approx(24.0)
    assert len(mips) == (1 if first == "on" else 2)
    if first == "on":
        text = "".join(lines)
        assert "no branch and bound" in text and "no feasible plan" in text
        assert res.times["fixed_lp_blocks"] == 2  # both blocks' duals from their own fixed LPs


def test_a_rounded_relaxation_within_the_gap_is_the_answer(monkeypatch):
    """Block 1 as given (x1 >= 0): relaxation y1 = 1, x1 = 1.5: 6.5; rounded x1 = 2 (then y1 = 0.5): 7, which is
    0.5 / 7 = 7.1 % above the bound.  At a 10 % gap that plan is the answer with the relaxation's bound (6.5); at a
    5 % gap it is only the start of branch and bound, which proves 7 (x1 = 1 would need y1 = 1.5 > 1)."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    mips = _mip_handoffs(monkeypatch)
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.1)
    assert res.objective == pytest.approx(24.0) and res.x[:2] == pytest.approx([2, 0.5])
    assert len(mips) == 1  # block 2 only
    starts = _spy_highs(monkeypatch, "setSolution", lambda n, idx, vals: np.asarray(vals, dtype=float).tolist())
    del mips[:]
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.05)
    assert res.objective == pytest.approx(24.0) and res.gap <= 0.05
    assert len(mips) == 2
    assert [2.0, 0.5] in [pytest.approx(s) for s in starts]  # block 1's rounded plan started branch and bound


def test_relaxation_basis_kept_in_a_sweep(monkeypatch):
    """In a sweep, a block with the same rows and columns starts its relaxation from the previous one's basis:
    block 2's demand moves 2.5 -> 3.5 (x2 = 4, y2 = 0: 20 by hand, total 29); block 1 is reused whole."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    bases = _spy_highs(monkeypatch, "setBasis", lambda b: len(b.row_status))
    with H.reusing():
        H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
        assert bases == []
        res = H._solve_arrays(_arrays(demand2=3.5), 0.0, mip_gap=0.0)
    assert bases == [1]  # block 2's relaxation (1 row)
    assert res.objective == pytest.approx(29.0) and res.times["mip_blocks_reused"] == 1
    assert res.row_dual == pytest.approx([2.0, 0.0])


def test_the_cheapest_feasible_start_is_chosen():
    """Block 1 of test_mip_blocks (min 3 x1 + 2 y1, x1 + y1 >= 2.5, x1 integer in [0, 10], y1 in [0, 1]).
    By hand: (1, 1) misses the row (2 < 2.5); (2.5, 0) has a fractional integer; (3, 0) costs 9; (2, 0.5) costs 7;
    a candidate of another length (another block's) is skipped.  The start is (2, 0.5)."""
    M = H.csc_from_triplets(np.array([0, 0]), np.array([0, 1]), np.ones(2), 1, 2)
    cs, lo, hi = np.array([3.0, 2.0]), np.zeros(2), np.array([10.0, 1.0])
    rlo, rhi, is_int = np.array([2.5]), np.array([np.inf]), np.array([True, False])
    cands = [np.array([1.0, 1.0]), np.array([2.5, 0.0]), np.array([3.0, 0.0]), np.array([2.0, 0.5]), np.ones(3), None]
    assert H._cheapest_feasible(cands, M, cs, lo, hi, rlo, rhi, is_int).tolist() == [2.0, 0.5]
    assert H._cheapest_feasible(cands[:2], M, cs, lo, hi, rlo, rhi, is_int) is None


def test_a_failed_warm_fixed_lp_falls_back_to_the_fixed_lp_by_blocks(monkeypatch):
    """When the relaxation's object cannot give the fixed LP (here: made to fail), branch and bound solves each block
    and the duals come from the fixed-integer LP by blocks, solved cold: the same hand optimum (24) and duals (2, 0)
    as test_two_blocks_by_hand."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    monkeypatch.setattr(H._Relaxed, "fix", lambda self, *a, **k: None)
    cold = []
    real = H.block_duals
    monkeypatch.setattr(H, "block_duals", lambda *a, **k: cold.append(1) or real(*a, **k))
    res = H._solve_arrays(_arrays(), 0.0, mip_gap=0.0)
    assert res.objective == pytest.approx(24.0) and res.row_dual == pytest.approx([2.0, 0.0])
    assert cold == [1]


def test_relaxation_options_only_where_the_value_alone_is_read(monkeypatch):
    """HiGHS's LP options for relaxations (no presolve, devex) apply only inside ``value_only`` (a coalition's c(S)),
    not to a solve whose plan is reported, nor with PLANNER_RELAXATION_TUNING=off; the optimum is the hand case's
    either way (24, as test_an_integral_relaxation_needs_no_branch_and_bound: block 1 at x1 = 2 integral)."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    def arrays():  # the hand-off takes the list (it lets the arrays go)
        a = _arrays()
        a[3] = a[3].copy()
        a[3][0] = 2.0
        return a

    options = _spy_highs(monkeypatch, "setOptionValue", lambda k, v: (k, v))

    def tuned():
        return ("presolve", "off") in options and ("simplex_dual_edge_weight_strategy", 1) in options

    res = H._solve_arrays(arrays(), 0.0, mip_gap=0.0)
    assert res.objective == pytest.approx(24.0) and not tuned()
    with H.value_only():
        res = H._solve_arrays(arrays(), 0.0, mip_gap=0.0)
    assert res.objective == pytest.approx(24.0) and tuned()
    del options[:]
    monkeypatch.setenv("PLANNER_RELAXATION_TUNING", "off")
    with H.value_only():
        res = H._solve_arrays(arrays(), 0.0, mip_gap=0.0)
    assert res.objective == pytest.approx(24.0) and not tuned()
    assert not H._VALUE_ONLY.on  # off again after the block
