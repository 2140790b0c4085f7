"""The fixed-integer LP for a MIP's shadow prices, solved block by block (issue 18).

With every integer column fixed, the LP often falls apart into blocks that share no free column (one per
supply chain, say).  ``fixed_lp_blocks`` finds them and ``block_duals`` solves each on its own; the duals must
be those of the whole LP (PLANNER_FIXED_LP=whole)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import planner.solver.highs as H
from planner.solver.highs import OBJ_SCALE, block_duals, csc_from_triplets, fixed_lp_blocks

try:  # the repository root on the path, as tests/solver/test_limits.py does (an installed planner does not add it)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks.generate import PRESETS
    from benchmarks.generate import write as write_instance
except Exception:  # pragma: no cover - the benchmarks folder is not shipped in a wheel
    PRESETS = write_instance = None


def _csc(triplets, n_rows, n_cols):
    r, c, v = (np.array(x) for x in zip(*triplets))
    return csc_from_triplets(r.astype(np.int64), c.astype(np.int64), v.astype(float), n_rows, n_cols)


def test_two_blocks_by_hand(monkeypatch):
    """Columns: B (integer, solved at 1), y1 (cost 3), y2 (cost 7), z (cost 2, fixed at 0.5 by its bounds).
    Rows: r0  y1 + 10 B >= 15   -> with B = 1: y1 >= 5, binding, dual = cost of y1 = 3
          r1  y2 + z >= 4.5     -> with z = 0.5: y2 >= 4, binding, dual = 7
          r2  B <= 3            -> fixed columns only: in no block, dual 0
          r3  y1 - 2 B <= 98    -> y1 <= 100, slack, dual 0
    By hand: blocks {r0, r3 | y1} and {r1 | y2}; duals (3, 7, 0, 0)."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)  # each small block solved apart (joined: test_mip_blocks.py)
    A = _csc([(0, 1, 1.0), (0, 0, 10.0), (1, 2, 1.0), (1, 3, 1.0), (2, 0, 1.0), (3, 1, 1.0), (3, 0, -2.0)], 4, 4)
    lower = np.array([0.0, 0.0, 0.0, 0.5])
    upper = np.array([5.0, np.inf, np.inf, 0.5])
    row_lo = np.array([15.0, 4.5, -np.inf, -np.inf])
    row_hi = np.array([np.inf, np.inf, 3.0, 98.0])
    integer = np.array([True, False, False, False])
    x = np.array([0.9999999, 5.0, 4.0, 0.5])  # a MIP solution within integrality tolerance
    blocks = fixed_lp_blocks(A, lower, upper, row_lo, row_hi, x, integer)
    assert blocks is not None and len(blocks) == 2
    assert sorted(tuple(b[0]) for b in blocks) == [(0, 3), (1,)]
    b0 = next(b for b in blocks if 0 in b[0])
    assert b0[5].tolist() == [5.0, -np.inf]  # 15 - 10 * 1 moved into the row bound
    b1 = next(b for b in blocks if 1 in b[0])
    assert b1[5].tolist() == [4.0]  # 4.5 - 0.5 (z fixed by its bounds)
    assert b0[6].tolist() == [np.inf, 100.0]  # 98 + 2 * 1
    cost = np.array([100.0, 3.0, 7.0, 2.0])
    y = block_duals(blocks, cost, 4, time_limit=60)
    assert y is not None
    assert np.allclose(y / OBJ_SCALE, [3.0, 7.0, 0.0, 0.0])


def test_one_block_is_left_to_the_whole_lp():
    """A free column in both rows couples them: one block, so None (the whole LP is solved as before)."""
    A = _csc([(0, 1, 1.0), (1, 1, 1.0), (1, 0, 1.0)], 2, 2)
    blocks = fixed_lp_blocks(A, np.zeros(2), np.full(2, np.inf), np.array([1.0, 2.0]), np.full(2, np.inf),
                             np.array([1.0, 1.0]), np.array([True, False]))
    assert blocks is None


def dual_objective(A, cost, lower, upper, row_lo, row_hi, y):
    """The Lagrangian dual objective of min c.x s.t. row_lo <= Ax <= row_hi, lower <= x <= upper at row duals y
    (HiGHS's signs: y > 0 on an active lower row bound), and the number of sign violations.  Equal to the
    primal optimum with no violations exactly when y is an optimal dual."""
    col = np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
    rc = cost - np.bincount(col, weights=A.data * y[A.indices], minlength=A.shape[1])
    with np.errstate(invalid="ignore"):
        rows = np.where(y > 0, y * np.nan_to_num(row_lo, posinf=0, neginf=0), y * np.nan_to_num(row_hi, posinf=0,
                                                                                                 neginf=0))
        cols = np.where(rc > 1e-9, rc * lower, np.where(rc < -1e-9, rc * upper, 0.0))
        cols[~np.isfinite(cols)] = 0.0  # counted in ``bad``
    bad = int(((y > 1e-9) & ~np.isfinite(row_lo)).sum() + ((y < -1e-9) & ~np.isfinite(row_hi)).sum()
              + ((rc > 1e-9) & ~np.isfinite(lower)).sum() + ((rc < -1e-9) & ~np.isfinite(upper)).sum())
    return float(rows.sum() + cols.sum()), bad


@pytest.mark.slow
@pytest.mark.skipif(write_instance is None, reason="benchmarks/generate.py not available")
def test_blocks_give_optimal_prices(tmp_path, monkeypatch):
    """A generated MIP with several supply chains (preset S: 3 chains, 3 scenarios, integer modules).  By blocks
    and as a whole LP: the same plan, and duals that are both optimal for the fixed-integer LP (dual objective =
    primal objective, every sign right).  The duals themselves may differ where the LP is dual degenerate
    (several optimal duals: each method returns one of them); every results table without a shadow price is the
    same."""
    monkeypatch.setattr(H, "SMALL_BLOCK_ROWS", 0)  # each small block solved apart (joined: test_mip_blocks.py)
    import pandas as pd

    from planner.input.load import load
    from planner.model.prepare import prepare
    from planner.report.results import extract
    from planner.workflows.run import solve_model

    path = write_instance(tmp_path / "s.xlsx", PRESETS["S"])
    seen = {}
    real = H._solve_arrays

    def spy(arrays, *a, **k):
        A, cost, _off, lower, upper, integer, row_lo, row_hi = arrays[:8]
        seen.update(A=A, cost=cost.copy(), lower=lower.copy(), upper=upper.copy(), integer=integer.copy(),
                    row_lo=row_lo.copy(), row_hi=row_hi.copy())
        return real(arrays, *a, **k)

    monkeypatch.setattr(H, "_solve_arrays", spy)
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "off")  # the MIP whole, then its fixed LP whole or by blocks
    res, tables = {}, {}
    for mode in ("whole", "blocks"):
        monkeypatch.setenv("PLANNER_FIXED_LP", mode)
        ctx, res[mode], _t = solve_model(prepare(load(str(path))), duals=True)
        assert res[mode].status == "optimal" and res[mode].row_dual is not None
        tables[mode] = extract(ctx, res[mode])
    assert res["blocks"].times.get("fixed_lp_blocks", 0) >= 2
    assert np.array_equal(res["whole"].x, res["blocks"].x)
    lower, upper = seen["lower"].copy(), seen["upper"].copy()
    ints = np.flatnonzero(seen["integer"])
    lower[ints] = upper[ints] = np.round(res["whole"].x[ints])  # the fixed-integer LP
    primal = float(seen["cost"] @ res["whole"].x)
    for mode in res:
        dual, bad = dual_objective(seen["A"], seen["cost"], lower, upper, seen["row_lo"], seen["row_hi"],
                                   res[mode].row_dual)
        assert bad == 0, mode
        assert dual == pytest.approx(primal, rel=1e-7), mode
    # the MIP by blocks (the default): its own plan, and duals optimal for its own fixed-integer LP
    monkeypatch.setenv("PLANNER_MIP_BLOCKS", "on")
    monkeypatch.setenv("PLANNER_FIXED_LP", "blocks")
    _ctx, rb, _t = solve_model(prepare(load(str(path))), duals=True)
    assert rb.times.get("mip_blocks", 0) >= 2 and rb.times.get("fixed_lp_blocks", 0) >= 2
    assert rb.objective == pytest.approx(res["whole"].objective, rel=2e-5)
    lower, upper = seen["lower"].copy(), seen["upper"].copy()
    lower[ints] = upper[ints] = np.round(rb.x[ints])
    dual, bad = dual_objective(seen["A"], seen["cost"], lower, upper, seen["row_lo"], seen["row_hi"], rb.row_dual)
    assert bad == 0 and dual == pytest.approx(float(seen["cost"] @ rb.x), rel=1e-7)
    for name, a in tables["whole"].items():
        b = tables["blocks"][name]
        num = [c for c in a.select_dtypes("number").columns if "shadow" not in c and "price" not in c
               and "marginal" not in c and "dual" not in c]
        if name in ("prices",) or not num:
            continue
        pd.testing.assert_frame_equal(a[num].reset_index(drop=True), b[num].reset_index(drop=True), obj=name)
