"""The valid inequalities of planner/model/strengthen.py (issue 18; proofs in docs/model.md):
hand-computed optima that must not move, where each inequality applies and where it must not."""
import numpy as np
import pytest
from cflp_case import cflp
from modelkit import solve_book, write_book

from planner.input.load import load
from planner.model.build import build
from planner.model.prepare import prepare
from planner.solver import highs as H


def rows_of(path, **ov):
    ctx = build(prepare(load(str(path), ov)))
    return {name: n for name, _first, n in ctx.sink.row_names if name.startswith("strong")}, ctx


def lp_bound(ctx) -> float:
    A = list(H.compile_direct(ctx))
    A[5] = np.zeros_like(A[5])  # integrality dropped: the LP relaxation
    return H._solve_arrays(tuple(A), 0.0, duals=False).objective


@pytest.mark.parametrize("plain", [False, True])
def test_cflp_optimum_by_hand_with_and_without(tmp_path, monkeypatch, plain):
    if plain:
        monkeypatch.setenv("PLANNER_STRENGTHEN", "off")
    oc = solve_book(tmp_path, cflp(), plain=False)
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(6.5, abs=1e-9)
    inv = oc.tables["investments"]
    assert list(inv["item"]) == ["PW1"]


def test_linking_rows_raise_the_lp_bound_to_the_optimum(tmp_path, monkeypatch):
    p = write_book(tmp_path / "c.xlsx", cflp())
    rows, ctx = rows_of(p)
    assert rows["strong_link"] == 4  # one per route (2 sites x 2 customers)
    assert rows["strong_cover"] == 1  # 100 B_W1 + 100 B_W2 >= 70
    assert lp_bound(ctx) == pytest.approx(6.5, abs=1e-7)
    monkeypatch.setenv("PLANNER_STRENGTHEN", "off")
    rows, ctx = rows_of(p)
    assert rows == {}
    # plain LP: a tonne of module costs 0.05 (W1) or 0.06 (W2) MUSD; C1 from W1 (0.05 + 0.01), C2 from W2
    # (0.06 + 0.01): 30 x 0.06 + 40 x 0.07 = 4.6
    assert lp_bound(ctx) == pytest.approx(4.6, abs=1e-7)


def test_no_linking_where_a_customer_can_pass_goods_on(tmp_path):
    # C1 may ship on to C2: a flow W1 -> C1 may exceed C1's demand (70 t, all of it, passed on at 0 USD/t),
    # so F <= d_C1 B would be wrong; only the rows into C2 (which has no use but demand) stay.
    b = cflp()
    b["routes"].append({"from": "C1", "to": "C2", "commodity": "G", "cost_usd_per_t": 0})
    p = write_book(tmp_path / "c.xlsx", b)
    rows, _ = rows_of(p)
    assert rows["strong_link"] == 2  # W1 -> C2, W2 -> C2
    # optimum by hand: W1 alone, C2 served via C1 at 10,000 USD/t: 5 + 70 x 0.01 = 5.7
    assert solve_book(tmp_path, b, plain=False).objective == pytest.approx(5.7, abs=1e-9)


def test_no_linking_where_a_site_has_other_supply(tmp_path):
    # W1 may also import G at 50,000 USD/t: flows out of W1 are no longer tied to its module.
    b = cflp(market_prices=[{"commodity": "G", "year": 2026, "price_usd_per_t": 50000}],
             suppliers=[{"supplier": "X", "commodity": "G"}])
    p = write_book(tmp_path / "c.xlsx", b)
    rows, _ = rows_of(p)
    assert rows.get("strong_cover", 0) == 0
    # imports at W1... every member may import: each customer buys at 0.05 MUSD/t: 70 x 0.05 = 3.5 < 6.5
    oc = solve_book(tmp_path, b, plain=False)
    assert oc.objective == pytest.approx(3.5, abs=1e-9)


def test_existing_capacity_or_continuous_modules_get_no_rows(tmp_path):
    b = cflp()
    b["processes"][0]["existing_tpa"] = 10  # W1 has 10 t without a module
    b["processes"][1]["integer_modules"] = False
    p = write_book(tmp_path / "c.xlsx", b)
    rows, _ = rows_of(p)
    assert rows.get("strong_link", 0) == 0
    # by hand: W2 continuous at 6 MUSD per 100 t = 0.06 MUSD/t plus transport; W1's 10 t existing are free.
    # W1 serves C1 with 10 t (0.1 MUSD); the rest (20 t C1, 40 t C2) from W2 (60 t: 3.6) at 0.02 and 0.01 MUSD/t:
    # 0.4 + 0.4 = 0.8; total 0.1 + 3.6 + 0.8 = 4.5.  Opening W1's module instead (5 MUSD) costs more.
    assert solve_book(tmp_path, b, plain=False).objective == pytest.approx(4.5, abs=1e-9)


def test_elastic_and_fixed_builds_add_nothing(tmp_path):
    p = write_book(tmp_path / "c.xlsx", cflp())
    d = prepare(load(str(p), {}))
    assert not [n for n, _f, c in build(d, elastic=True).sink.row_names if n.startswith("strong") and c]
    assert not [n for n, _f, c in build(d, fixed={}).sink.row_names if n.startswith("strong") and c]


@pytest.mark.slow
def test_example_optimum_unchanged(monkeypatch):
    """The shipped example (1 scenario tree as shipped): same optimum with and without the family."""
    from planner.workflows.run import solve_model

    path = "inputs/bloc_example.xlsx"
    d = prepare(load(path, {"mip_gap": 1e-4, "foresight_years": 0}))
    _ctx, a, _ = solve_model(d, duals=False)
    monkeypatch.setenv("PLANNER_STRENGTHEN", "off")
    _ctx, b, _ = solve_model(d, duals=False)
    tol = 1e-4 * abs(a.objective) * 2
    assert abs(a.objective - b.objective) <= tol


def lumpy(**plant):
    """One member A, demand 30 t of ox, imports at 1,000 USD/t (0.001 MUSD/t), a plant with one 100-t module
    (capex 0.02 MUSD, life 1, r = 0).  By hand: importing costs 30 x 0.001 = 0.03 MUSD, the module 0.02 MUSD:
    the optimum builds it, 0.02 MUSD.  The plain LP builds 0.3 module (0.006 MUSD); the bloc can use at
    most 30 t, so the tightened row Q <= 30 B forces a whole module: LP bound 0.02."""
    return {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": 2026, "demand_t": 30}],
        "suppliers": [{"supplier": "W", "commodity": "ox"}],
        "processes": [{"process": "plant", "member": "A", "output": "ox", "module_tpa": 100, "max_modules": 1,
                       "capex_musd_per_module": 0.02, "lifetime_years": 1, **plant}],
    }


def test_capacity_tightened_by_what_the_bloc_can_use(tmp_path, monkeypatch):
    p = write_book(tmp_path / "l.xlsx", lumpy())
    rows, ctx = rows_of(p)
    assert rows["strong_capacity"] == 1
    assert lp_bound(ctx) == pytest.approx(0.02, abs=1e-9)
    assert solve_book(tmp_path, lumpy()).objective == pytest.approx(0.02, abs=1e-9)
    monkeypatch.setenv("PLANNER_STRENGTHEN", "off")
    _rows, ctx = rows_of(p)
    assert lp_bound(ctx) == pytest.approx(0.006, abs=1e-9)
    assert solve_book(tmp_path, lumpy()).objective == pytest.approx(0.02, abs=1e-9)


def test_no_capacity_tightening_where_output_can_leave_without_limit(tmp_path):
    # exports at market price x 0.5 make the bloc's use of ox unbounded: no row, same optimum (0.02 MUSD:
    # exporting 70 t more at 0.0005 MUSD/t earns 0.035, so by hand: build, make 100 t, sell 70: 0.02 - 0.035)
    b = lumpy()
    b["commodities"] = [{"commodity": "ox", "export_price_factor": 0.5}]
    p = write_book(tmp_path / "l.xlsx", b)
    rows, _ = rows_of(p)
    assert rows.get("strong_capacity", 0) == 0
    assert solve_book(tmp_path, b).objective == pytest.approx(0.02 - 0.035, abs=1e-9)
