"""Rows and balance terms given as arrays (issue 19) make the same model as rows given term by term."""
from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo

from planner.model.context import Ctx, DirectSink, PyomoSink


def _rows_both_ways(sink_a, sink_b):
    ca = sink_a.new_columns("x", list(range(4)), pyo.NonNegativeReals, None, False)
    cb = sink_b.new_columns("x", list(range(4)), pyo.NonNegativeReals, None, False)
    # by hand: r0: x0 + 2 x1 <= 3;  r1: x2 - x3 == 1;  r2: -x1 >= -5 (terms given out of row order below)
    rows = {"r0": ([(1.0, ca[0]), (2.0, ca[1])], "<=", 3.0), "r1": ([(1.0, ca[2]), (-1.0, ca[3])], "==", 1.0),
            "r2": ([(-1.0, ca[1])], ">=", -5.0)}
    ha = sink_a.add_rows("rows", list(rows), rows)
    row = np.array([1, 0, 2, 0, 1])
    cols = sink_b.columns([cb[2], cb[0], cb[1], cb[1], cb[3]])
    coefs = np.array([1.0, 1.0, -1.0, 2.0, -1.0])
    hb = sink_b.add_rows_arrays("rows", ["r0", "r1", "r2"], row, cols, coefs,
                                np.array([-np.inf, 1.0, -5.0]), np.array([3.0, 1.0, np.inf]))
    return ha, hb


def test_direct_sink_rows_as_arrays_equal_rows_as_terms():
    a, b = DirectSink(), DirectSink()
    ha, hb = _rows_both_ways(a, b)
    assert ha == hb == {"r0": 0, "r1": 1, "r2": 2}
    ta, tb = a.triplets(), b.triplets()
    assert ta[3].tolist() == tb[3].tolist() == [-np.inf, 1.0, -5.0]
    assert ta[4].tolist() == tb[4].tolist() == [3.0, 1.0, np.inf]

    def by_row(t):  # within a row the terms keep the order they were given in (the hand-off sorts by column)
        o = np.argsort(t[0], kind="stable")
        return t[0][o].tolist(), t[1][o].tolist(), t[2][o].tolist()

    assert by_row(ta) == by_row(tb) == ([0, 0, 1, 1, 2], [0, 1, 2, 3, 1], [1.0, 2.0, 1.0, -1.0, -1.0])
    assert a.row_names == b.row_names == [("rows", 0, 3)]


def test_pyomo_sink_rows_as_arrays_fall_back_to_terms():
    m1, m2 = pyo.ConcreteModel(), pyo.ConcreteModel()
    a, b = PyomoSink(model=m1), PyomoSink(model=m2)
    _ha, hb = _rows_both_ways(a, b)
    for k, sense in (("r0", "<="), ("r1", "=="), ("r2", ">=")):
        con = hb[k]
        body = str(con.body)
        assert body == str(_ha[k].body), k
        if sense == "<=":
            assert con.upper == 3.0 and con.lower is None
        elif sense == "==":
            assert con.equality and con.upper == 1.0
        else:
            assert con.lower == -5.0 and con.upper is None


def test_balance_terms_added_as_arrays_read_as_term_lists():
    d = SimpleNamespace(years=[2030, 2031], scen=["base", "ban"], tree=None, S=2)
    ctx = Ctx(d=d, sink=DirectSink())
    cols = ctx.sink.new_columns("f", list(range(3)), pyo.NonNegativeReals, None, False)
    m, c = ctx.member_index("DE"), ctx.commodity_index("NdPr")
    ctx.balance_add(m, c, [0, 1, 1], [0, 0, 1], np.array(cols), [1.0, -1.0, 2.0])
    ctx.balance[("DE", "NdPr", 2030, "base")].append((5.0, 99))  # appending keeps the arrays as arrays
    assert len(ctx.balance.chunks) == 1
    assert ctx.balance.get(("DE", "NdPr", 2031, "ban")) == [(2.0, 2)]  # reading turns them into lists
    assert not ctx.balance.chunks
    assert ctx.balance[("DE", "NdPr", 2030, "base")] == [(5.0, 99), (1.0, 0)]
    assert ctx.balance[("DE", "NdPr", 2031, "base")] == [(-1.0, 1)]
    assert sorted(ctx.balance) == [("DE", "NdPr", 2030, "base"), ("DE", "NdPr", 2031, "ban"),
                                   ("DE", "NdPr", 2031, "base")]


def test_balance_terms_cannot_be_read_after_the_rows_are_made(monkeypatch):
    """The balance family lets the array chunks go once they are rows: a later reader gets an error, not a
    silently incomplete term list (the valid inequalities, which read the terms before, are off here)."""
    import pytest

    monkeypatch.setenv("PLANNER_STRENGTHEN", "off")

    from planner.input.load import load
    from planner.model.build import build
    from planner.model.prepare import prepare

    ctx = build(prepare(load("inputs/tiny.xlsx")))
    assert ctx.balance.consumed and not ctx.balance.chunks
    with pytest.raises(RuntimeError, match="after the rows"):
        ctx.balance.get(next(iter(ctx.balance_rows)))
