"""Hand-computed optima for the trade family (SPEC §2 routes, §3 flows F on allowed routes).

A plant at A makes each commodity at 100 USD/t; demand sits elsewhere; an outside
supplier W sells at 1000 USD/t (the fallback when no route is allowed).  One year, r = 0.
Money: 1 t x 1 USD/t = 1e-6 MUSD.
"""
import pytest

from modelkit import cost, solve_book


def book(members=("A", "B"), commodities=("ox",), demand_at="B", routes=None, **settings):
    b = {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0, **settings},
        "members": [{"member": m} for m in members],
        "commodities": [{"commodity": c} for c in commodities],
        "market_prices": [{"commodity": c, "year": 2026, "price_usd_per_t": 1000} for c in commodities],
        "demand": [{"member": demand_at, "commodity": c, "year": 2026, "demand_t": 100} for c in commodities],
        "suppliers": [{"supplier": "W", "commodity": c} for c in commodities],
        "processes": [{"process": f"p_{c}", "member": "A", "output": c, "existing_tpa": 1000,
                       "variable_cost_usd_per_t": 100} for c in commodities],
    }
    if routes is not None:
        b["routes"] = routes
    return b


def flows(oc):
    tr = oc.tables["trade"]
    return {(f, t, c): float(q) for f, t, c, q in zip(tr["from"], tr["to"], tr["commodity"], tr["flow_t"])}


def test_all_pairs_default_route_cost(tmp_path):
    # produce 100 at A (10 000), ship A->B at the default 50 USD/t (5000) -> 15 000 USD = 0.015
    oc = solve_book(tmp_path, book(default_route_cost_usd_per_t=50))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.015, abs=1e-9)
    assert flows(oc) == {("A", "B", "ox"): pytest.approx(100)}
    assert cost(oc, "transport") == pytest.approx(0.005, abs=1e-9)
    tr = oc.tables["trade"]
    assert float(tr["cost_musd"].iloc[0]) == pytest.approx(0.005, abs=1e-9)
    # transport is booked to the receiving member
    c = oc.tables["costs"]
    assert list(c.loc[c["category"] == "transport", "member"]) == ["B"]


def test_default_route_cost_above_import_price(tmp_path):
    # default route cost 950: ship = 100 + 950 = 1050 > import 1000 -> import at B: 0.1
    oc = solve_book(tmp_path, book(default_route_cost_usd_per_t=950))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert flows(oc) == {}


def test_trade_all_pairs_false_listed_routes_only(tmp_path):
    # members A, B, C; demand at C; only A->B (30) and B->C (cost blank -> default 40) listed, no A->C.
    # produce 100 (10 000) + A->B 3000 + B->C 4000 -> 17 000 = 0.017
    # (with all pairs, A->C direct at the default 40: 14 000)
    routes = [{"from": "A", "to": "B", "cost_usd_per_t": 30}, {"from": "B", "to": "C"}]
    oc = solve_book(tmp_path, book(("A", "B", "C"), demand_at="C", routes=routes, trade_all_pairs=False,
                                   default_route_cost_usd_per_t=40))
    assert oc.objective == pytest.approx(0.017, abs=1e-9)
    assert flows(oc) == {("A", "B", "ox"): pytest.approx(100), ("B", "C", "ox"): pytest.approx(100)}
    allp = solve_book(tmp_path, book(("A", "B", "C"), demand_at="C", routes=routes,
                                     default_route_cost_usd_per_t=40))
    assert allp.objective == pytest.approx(0.014, abs=1e-9)
    assert flows(allp) == {("A", "C", "ox"): pytest.approx(100)}


def test_trade_all_pairs_false_without_routes_means_no_trade(tmp_path):
    # no routes at all and trade_all_pairs FALSE: B must import, 100 x 1000 = 0.1
    oc = solve_book(tmp_path, book(trade_all_pairs=False))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert flows(oc) == {}


def test_routes_are_directed(tmp_path):
    # only B->A listed (trade_all_pairs FALSE): useless for A->B, so B imports: 0.1
    oc = solve_book(tmp_path, book(routes=[{"from": "B", "to": "A", "cost_usd_per_t": 1}], trade_all_pairs=False))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)


def test_allowed_false_removes_route_forcing_detour(tmp_path):
    # all pairs at the default 10; A->C allowed FALSE: detour A->B->C at 20/t:
    # 10 000 + 2000 = 12 000 -> 0.012 (direct would be 0.011)
    routes = [{"from": "A", "to": "C", "allowed": False}]
    oc = solve_book(tmp_path, book(("A", "B", "C"), demand_at="C", routes=routes, default_route_cost_usd_per_t=10))
    assert oc.objective == pytest.approx(0.012, abs=1e-9)
    assert flows(oc) == {("A", "B", "ox"): pytest.approx(100), ("B", "C", "ox"): pytest.approx(100)}


def test_allowed_false_on_both_legs_forces_import(tmp_path):
    # A->C and B->C both removed: C imports 100 x 1000 = 0.1
    routes = [{"from": "A", "to": "C", "allowed": False}, {"from": "B", "to": "C", "allowed": "no"}]
    oc = solve_book(tmp_path, book(("A", "B", "C"), demand_at="C", routes=routes, default_route_cost_usd_per_t=10))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert flows(oc) == {}


def test_commodity_row_overrides_blank_row(tmp_path):
    # A->B blank-commodity row 500 USD/t; ox row 20 (overrides); dy row allowed FALSE (overrides the blank row).
    # ox: produce 10 000 + ship 100 x 20 = 2000          -> 12 000
    # mag: produce 10 000 + ship 100 x 500 = 50 000       -> 60 000 (< import 100 000)
    # dy: no route: import 100 x 1000                     -> 100 000
    # total 172 000 USD = 0.172
    routes = [{"from": "A", "to": "B", "cost_usd_per_t": 500},
              {"from": "A", "to": "B", "commodity": "ox", "cost_usd_per_t": 20},
              {"from": "A", "to": "B", "commodity": "dy", "allowed": False}]
    oc = solve_book(tmp_path, book(commodities=("ox", "mag", "dy"), routes=routes))
    assert oc.objective == pytest.approx(0.172, abs=1e-9)
    assert flows(oc) == {("A", "B", "ox"): pytest.approx(100), ("A", "B", "mag"): pytest.approx(100)}
    assert cost(oc, "transport") == pytest.approx(0.052, abs=1e-9)


def test_commodity_row_allows_what_blank_row_forbids(tmp_path):
    # trade_all_pairs TRUE, blank A->B row allowed FALSE, ox row allowed with cost 30:
    # ox shipped: 10 000 + 3000 = 13 000; mag imported 100 000 -> 0.113
    routes = [{"from": "A", "to": "B", "allowed": False},
              {"from": "A", "to": "B", "commodity": "ox", "cost_usd_per_t": 30}]
    oc = solve_book(tmp_path, book(commodities=("ox", "mag"), routes=routes))
    assert oc.objective == pytest.approx(0.113, abs=1e-9)
    assert flows(oc) == {("A", "B", "ox"): pytest.approx(100)}
