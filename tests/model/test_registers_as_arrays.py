"""Registers kept as arrays during the build (issue 19): Ctx.costs (planner.model.context.CostTerms), whose terms
added as tuples and as arrays keep their order, read as tuples after the solve, and give the objective the same
products in the same order (so the compiled model is the same to the bit); and operations variables made by
array arithmetic (Ctx.var_ops_rows, OpsVars), with the keys and columns of Ctx.var."""
from __future__ import annotations

import numpy as np
import pytest

from planner.model.context import CostTerms


def _terms():
    c = CostTerms()
    c.scen, c.handles = ["base", "ban"], lambda cols: [int(j) for j in cols]
    c.append(("base", "USA", "capex", 2.0, 7))
    c.add_arrays(np.array([0, 1, -1]), (np.array(["EU", "JPN"], dtype=object), np.array([1, 0, 1])), "transport",
                 np.array([0.5, 0.25, 3.0]), np.array([3, 4, 5]))
    c.append((None, "KOR", "capex", 1.5, 9))
    c.extend([("ban", None, "variable", 4.0, 2)])
    c.add_arrays(np.array([1]), np.array(["MEX"], dtype=object), np.array(["tariffs"], dtype=object),
                 np.array([0.125]), np.array([6]))
    return c


EXPECTED = [("base", "USA", "capex", 2.0, 7), ("base", "JPN", "transport", 0.5, 3), ("ban", "EU", "transport", 0.25, 4),
            (None, "JPN", "transport", 3.0, 5), (None, "KOR", "capex", 1.5, 9), ("ban", None, "variable", 4.0, 2),
            ("ban", "MEX", "tariffs", 0.125, 6)]


def test_tuples_and_arrays_keep_their_order():
    c = _terms()
    assert list(c) == EXPECTED and len(c) == 7 and c[3] == EXPECTED[3]
    c.append(("base", "AUS", "x", 1.0, 1))  # after reading: an ordinary list
    assert c[-1] == ("base", "AUS", "x", 1.0, 1) and len(c) == 8


def test_objective_arrays_weigh_scenario_terms_and_count_first_stage_once():
    """By hand, weights base 0.75, ban 0.25: 2·0.75, 0.5·0.75, 0.25·0.25, 3 (first stage), 1.5, 4·0.25, 0.125·0.25."""
    cols, coefs = _terms().objective_arrays({"base": 0.75, "ban": 0.25})
    assert cols.tolist() == [7, 3, 4, 5, 9, 2, 6]
    assert coefs.tolist() == pytest.approx([1.5, 0.375, 0.0625, 3.0, 1.5, 1.0, 0.03125], abs=0)
    c = _terms()
    w = {"base": 0.75, "ban": 0.25}
    by_tuples = [coef if s is None else w[s] * coef for s, _m, _c, coef, _v in list(c)]
    assert _terms().objective_arrays(w)[1].tolist() == by_tuples  # the same products, to the bit


def test_slice_assignment_as_the_coalition_does():
    c = _terms()
    c[:] = [t for t in c if t[2] != "capex"]
    assert [t[2] for t in c] == ["transport"] * 3 + ["variable", "tariffs"]


# ---------------------------------------------------------------- operations variables by array arithmetic
def test_ops_rows_give_the_columns_and_keys_of_var():
    """Ctx.var_ops_rows against Ctx.var(..., ops=True) on the example (its explicit scenario tree aliases
    operations) and without a tree (foresight beyond the horizon): the same keys, in the same order, with the same
    columns, and the same nonzero values read back."""
    from pathlib import Path

    from planner.input.load import load
    from planner.model.build import build
    from planner.model.context import OpsVars, nonzero_items
    from planner.model.prepare import prepare

    example = Path(__file__).resolve().parents[2] / "inputs" / "bloc_example.xlsx"
    for ov in ({}, {"foresight_years": 99}):
        d = prepare(load(str(example), ov))
        ctx = build(d)
        assert isinstance(ctx.F, OpsVars) and len(ctx.F) > 0
        heads, t_idx = ctx.F.heads[:40], ctx.F.t_idx[:40]
        a = ctx.var_ops_rows("check_a", heads, t_idx)
        b = ctx.var("check_b", [h + (d.years[t], s) for h, t in zip(heads, t_idx.tolist()) for s in d.scen], ops=True)
        assert list(a.keys()) == list(b.keys())
        offset = min(b.values()) - int(a.cols.min())
        assert [v + offset for v in a.values()] == list(b.values())  # the same aliasing, shifted by one block
        x = np.zeros(ctx.ncols)
        x[a.cols[::7]] = np.arange(1, len(a.cols[::7]) + 1)

        class Sol:
            col_of = None

            def value_of(self):
                return x.tolist().__getitem__

        Sol.x = x
        assert nonzero_items(a, Sol()) == [(k, float(x[c])) for k, c in a.items() if x[c]]


def test_sparse_ops_give_the_columns_bounds_and_keys_of_var():
    """Ctx.var_ops_sparse against Ctx.var(..., bounds, ops=True) on the example (explicit scenario tree) and without
    a tree: random sparse entries, so that some nodes miss a scenario (fixed at 0) and others take the tightest
    bound of their scenarios; the same keys in the same order, the same columns (shifted by one block) and the
    same bounds per column."""
    from pathlib import Path

    from planner.input.load import load
    from planner.model.build import build
    from planner.model.context import SparseOpsVars
    from planner.model.prepare import prepare

    example = Path(__file__).resolve().parents[2] / "inputs" / "bloc_example.xlsx"
    rng = np.random.default_rng(5)
    for ov in ({}, {"foresight_years": 99}):
        d = prepare(load(str(example), ov))
        ctx = build(d)
        assert isinstance(ctx.I, SparseOpsVars) and len(ctx.I) > 0
        heads = [("A", "x", "c"), ("B", "y", "c"), ("C", "x", "d")]
        full = [(h, t, s) for h in range(3) for s in range(d.S) for t in range(d.nT)]
        pick = sorted(rng.choice(len(full), size=len(full) * 2 // 3, replace=False).tolist())
        h_idx, s_idx, t_idx = (np.array([full[i][j] for i in pick]) for j in (0, 2, 1))
        hi = rng.integers(1, 9, size=len(pick)).astype(float)
        a = ctx.var_ops_sparse("check_a", heads, h_idx, t_idx, s_idx, lo=np.zeros(len(pick)), hi=hi)
        keys = [heads[h] + (d.years[t], d.scen[s]) for h, t, s in zip(h_idx, t_idx, s_idx)]
        ub = dict(zip(keys, hi.tolist()))
        b = ctx.var("check_b", keys, bounds=lambda k: (0.0, ub[k]), ops=True)
        assert list(a.keys()) == list(b.keys()) == keys
        offset = min(b.values()) - int(a.cols.min())
        assert [v + offset for v in a.values()] == list(b.values())
        sink = ctx.sink
        for ca, cb in zip(a.values(), b.values()):
            assert (sink.col_lo[ca], sink.col_hi[ca]) == (sink.col_lo[cb], sink.col_hi[cb])
        if ov == {}:  # the tree: some node lacks a scenario, so it is fixed at 0
            assert any(sink.col_hi[c] == 0.0 for c in a.values())
