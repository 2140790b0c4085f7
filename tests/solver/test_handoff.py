"""The direct hand-off (rows as coefficient arrays) and Pyomo's standard-form compiler build the same model."""
import numpy as np
import pytest

from planner.model.prepare import prepare
from planner.input.load import load
from planner.workflows.run import solve_model


@pytest.mark.parametrize("path,scenario", [("inputs/tiny.xlsx", None),
                                           pytest.param("inputs/bloc_example.xlsx", "hre_controls",
                                                        marks=pytest.mark.slow)])
def test_direct_and_pyomo_handoff_agree(path, scenario):
    d = prepare(load(path), scenario=scenario)
    ctx_d, res_d, _ = solve_model(d, direct=True)
    ctx_p, res_p, _ = solve_model(d, direct=False)
    assert res_d.status == res_p.status == "optimal"
    assert res_d.objective == pytest.approx(res_p.objective, rel=2e-3)  # both within the MIP gap
    # same rows and nonzeros once Pyomo's compiler has dropped unreferenced columns
    assert res_d.n_rows == res_p.n_rows
    assert res_d.nnz == res_p.nnz
    # with the integer decisions of the direct solve fixed, both paths give the same LP optimum
    fixed = {}
    for (p, y), v in ctx_d.B.items():
        fixed[("build", p, y)] = round(res_d.value(v))
    for k, v in ctx_d.K.items():
        fixed[("stock_build",) + k] = res_d.value(v)
    for o, v in ctx_d.Z.items():
        fixed[("signed", o)] = round(res_d.value(v))
    _, rf_d, _ = solve_model(d, fixed=fixed, direct=True)
    _, rf_p, _ = solve_model(d, fixed=fixed, direct=False)
    assert rf_d.objective == pytest.approx(rf_p.objective, rel=1e-9, abs=1e-9)
    assert np.isfinite(rf_d.objective)


@pytest.mark.slow  # three builds of the example through Pyomo (~8 s each)
@pytest.mark.parametrize("elastic,fix", [(False, False), (True, False), (False, True)])
def test_direct_arrays_equal_pyomo_compiler_arrays(elastic, fix):
    """Column by column, the direct hand-off's bounds, integrality, costs and matrix equal what Pyomo's
    standard-form compiler makes of the same model (risk aversion on, so the free CVaR variable and
    its rows are in; first-stage fixings in; elastic slacks in one case)."""
    from planner.model.build import build
    from planner.solver.highs import compile_direct, compile_pyomo

    d = prepare(load("inputs/bloc_example.xlsx", {"risk_aversion": 0.3}), scenario=None)
    ctx_p0 = build(d, direct=False)
    # fixings at 0: Pyomo's compiler turns fixed variables into constants (dropping their columns), so
    # only at 0 do both paths give the same row bounds
    # (the first-stage decisions not listed are fixed at 0 too)
    fixed = {("build",) + k: 0.0 for k in list(ctx_p0.B)[:3]} if fix else None
    ctx_d = build(d, elastic=elastic, fixed=fixed, direct=True)
    ctx_p = build(d, elastic=elastic, fixed=fixed, direct=False)
    A_d, c_d, _, lo_d, hi_d, int_d, rlo_d, rhi_d, _, _ = compile_direct(ctx_d)
    A_p, c_p, off_p, lo_p, hi_p, int_p, rlo_p, rhi_p, col_of, _ = compile_pyomo(ctx_p.m)
    assert off_p == 0.0
    assert [(n, s) for n, _, s, _ in ctx_d.sink.col_blocks] == [(n, s) for n, _, s, _ in ctx_p.sink.col_blocks]
    # direct column j <-> the Pyomo variable made for it; Pyomo's compiler leaves out unused columns
    pair = {}
    for (_n, _, start, _), (_n2, datas, _s, _) in zip(ctx_d.sink.col_blocks, ctx_p.sink.col_blocks):
        for i, v in enumerate(datas):
            if id(v) in col_of:
                pair[start + i] = col_of[id(v)]
            else:  # fixed (a constant to Pyomo), or unused by every row and the objective
                j = start + i
                if j in ctx_d.sink.col_fixed:
                    assert lo_d[j] == hi_d[j] == 0.0
                else:
                    assert A_d.indptr[j + 1] == A_d.indptr[j] and c_d[j] == 0.0
    jd = np.array(sorted(pair))
    jp = np.array([pair[j] for j in jd])
    assert len(jd) == A_p.shape[1]
    # the cases under test occur: free (CVaR) and bounded columns, integers or fixings, elastic slacks
    assert np.isinf(lo_d[jd]).any() and np.isfinite(hi_d[jd]).any()
    if fix:
        assert len(ctx_d.sink.col_fixed) == len(ctx_d.B) + len(ctx_d.K) + len(ctx_d.Z) > 0
    else:
        assert int_d[jd].sum() > 0 and not ctx_d.sink.col_fixed
    assert any(n.startswith("elastic_") for n, *_ in ctx_d.sink.col_blocks) == elastic
    assert np.array_equal(lo_d[jd], lo_p[jp]) and np.array_equal(hi_d[jd], hi_p[jp])
    assert np.array_equal(int_d[jd], int_p[jp])
    assert np.allclose(c_d[jd], c_p[jp], rtol=1e-12, atol=1e-15)
    if fix:  # rows whose variables are all fixed are constants to Pyomo and left out: rows differ
        return
    assert A_d.shape[0] == A_p.shape[0]
    assert np.array_equal(rlo_d, rlo_p) and np.array_equal(rhi_d, rhi_p)
    # the matrices, column by column: same rows, same coefficients
    for j_d, j_p in zip(jd, jp):
        a, b = slice(A_d.indptr[j_d], A_d.indptr[j_d + 1]), slice(A_p.indptr[j_p], A_p.indptr[j_p + 1])
        rows_p = A_p.indices[b]
        order = np.argsort(rows_p)
        assert np.array_equal(A_d.indices[a], rows_p[order])
        assert np.allclose(A_d.data[a], A_p.data[b][order], rtol=1e-12)


def test_pyomo_handoff_end_to_end_gives_the_same_tables(tmp_path, monkeypatch):
    """PLANNER_HANDOFF=pyomo runs the whole solve (extraction and workbook included) and its tables
    equal the direct path's (tiny.xlsx is an LP with one optimum, docs/tiny.md)."""
    from planner.workflows.run import solve_file

    direct = solve_file("inputs/tiny.xlsx", out=str(tmp_path / "d.xlsx"))
    monkeypatch.setenv("PLANNER_HANDOFF", "pyomo")
    pyomo = solve_file("inputs/tiny.xlsx", out=str(tmp_path / "p.xlsx"))
    assert direct.exit_code == pyomo.exit_code == 0 and (tmp_path / "p.xlsx").exists()
    assert pyomo.objective == pytest.approx(direct.objective, rel=1e-9)
    for name, df in direct.tables.items():
        other = pyomo.tables[name]
        assert list(df.columns) == list(other.columns), name
        assert len(df) == len(other), name
        num = df.select_dtypes("number").columns
        assert np.allclose(df[num].to_numpy(float), other[num].to_numpy(float), rtol=1e-7, atol=1e-9,
                           equal_nan=True), name
