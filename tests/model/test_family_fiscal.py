"""Fiscal family (SPEC §3 "Fiscal", market objective mode): optima worked out by hand.

discount_rate 0, one year; money in MUSD (1 t at 1 USD/t = 1e-6 MUSD).
"""
import pytest

from modelkit import cost, solve_book


def book(members=({"member": "A"},), objective="resource", floor=None, suppliers=None, processes=(), **extra):
    sheets = {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "objective": objective},
        "members": list(members),
        "commodities": [{"commodity": "ox", "floor_price_usd_per_t": floor}],
        "market_prices": [{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": 2026, "demand_t": 100}],
        "suppliers": suppliers if suppliers is not None else [{"supplier": "CHN", "commodity": "ox"}],
        "processes": list(processes),
    }
    sheets.update(extra)
    return sheets


def mine(vc, tpa=100):
    return {"process": "mine", "member": "A", "output": "ox", "existing_tpa": tpa, "variable_cost_usd_per_t": vc}


def fiscal(oc):
    return oc.tables["fiscal"].set_index("member")


@pytest.mark.parametrize("shares, expected", [
    # blank burden shares: equal, 0.5 each of 0.052
    ((None, None), {"A": 0.026, "B": 0.026}),
    # 3 : 1 -> 0.75 / 0.25 of 0.052
    ((3, 1), {"A": 0.039, "B": 0.013}),
])
def test_floor_support_excludes_disposal_and_is_shared(tmp_path, shares, expected):
    # A runs a separation plant: 100 t/yr nd (variable cost 1000) with 0.5 t la per t nd.
    # nd: market 2000 (CHN), floor 2500; la: market 200, floor 300, disposal 5 USD/t, no supplier.
    # A needs 100 t nd, B needs 20 t la (shipped from A at 1 USD/t) -> 50 t la made, 30 disposed at A.
    # support = (2500 - 2000) x 100 + (300 - 200) x (50 - 30) = 50,000 + 2,000 USD = 0.052 MUSD
    # resource cost = 100 x 1000 + 30 x 5 + 20 x 1 = 100,170 USD = 0.10017 MUSD (support is a transfer)
    b = book(members=[{"member": "A", "burden_share": shares[0]}, {"member": "B", "burden_share": shares[1]}],
             commodities=[{"commodity": "nd", "floor_price_usd_per_t": 2500},
                          {"commodity": "la", "floor_price_usd_per_t": 300, "disposal_cost_usd_per_t": 5}],
             market_prices=[{"commodity": "nd", "year": 2026, "price_usd_per_t": 2000},
                            {"commodity": "la", "year": 2026, "price_usd_per_t": 200}],
             demand=[{"member": "A", "commodity": "nd", "year": 2026, "demand_t": 100},
                     {"member": "B", "commodity": "la", "year": 2026, "demand_t": 20}],
             suppliers=[{"supplier": "CHN", "commodity": "nd"}],
             processes=[{"process": "sep", "member": "A", "output": "nd", "existing_tpa": 100,
                         "variable_cost_usd_per_t": 1000}],
             coproducts=[{"process": "sep", "commodity": "la", "t_per_t_output": 0.5}],
             settings={"start_year": 2026, "end_year": 2026, "discount_rate": 0, "default_route_cost_usd_per_t": 1})
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.10017, abs=1e-9)
    sup = oc.tables["supply"].set_index(["member", "commodity"])
    assert sup.loc[("A", "la"), "disposal_t"] == pytest.approx(30)
    assert sup.loc[("B", "la"), "trade_in_t"] == pytest.approx(20)
    f = fiscal(oc)
    for m, v in expected.items():
        assert f.loc[m, "floor_support_share_musd"] == pytest.approx(v, abs=1e-9)
    # the producers at A receive all of it
    assert f.loc["A", "floor_support_received_musd"] == pytest.approx(0.052, abs=1e-9)
    assert f.loc["B", "floor_support_received_musd"] == pytest.approx(0.0, abs=1e-9)
    assert oc.headline["expected_floor_support_musd"] == pytest.approx(0.052, abs=1e-9)
    assert cost(oc, "floor_support") == pytest.approx(0.0, abs=1e-12)  # resource mode: not a cost


@pytest.mark.parametrize("objective, expected", [
    # resource: 60 x 900 + 40 x 1000 = 54,000 + 40,000 = 0.094 MUSD (0.09 without the budget)
    ("resource", 0.094),
    # market: the same plan, less the support received: 0.094 - 60 x 200 = 0.094 - 0.012 = 0.082
    ("market", 0.082),
])
def test_fiscal_budget_binds_and_changes_plan(tmp_path, objective, expected):
    # Own mine at A (100 t/yr, 900 USD/t) vs CHN at 1000; floor 1200 -> support 200 USD per t mined.
    # B bears 3/4 of the support and has a budget of 0.009 MUSD:
    #   0.75 x 200 x Q <= 9,000 USD  ->  Q <= 60 t (without the budget Q = 100)
    b = book(members=[{"member": "A", "burden_share": 1}, {"member": "B", "burden_share": 3,
                                                            "fiscal_budget_musd": 0.009}],
             objective=objective, floor=1200, processes=[mine(900)])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(expected, abs=1e-9)
    assert float(oc.tables["capacity"]["production_t"].iloc[0]) == pytest.approx(60)
    f = fiscal(oc)
    # support 60 x 200 = 12,000 USD = 0.012 MUSD: B 0.75 x 0.012 = 0.009 (= budget), A 0.003
    assert f.loc["B", "floor_support_share_musd"] == pytest.approx(0.009, abs=1e-9)
    assert f.loc["A", "floor_support_share_musd"] == pytest.approx(0.003, abs=1e-9)
    assert f.loc["B", "budget_slack_musd"] == pytest.approx(0.0, abs=1e-9)


def test_fiscal_budget_counts_discounted_support(tmp_path):
    # As above (resource mode) but the year 2026 is discounted to base_year 2025 at r = 0.1:
    # delta = 1/1.1.  B: 0.75 x 200 x Q / 1.1 <= 9,000  ->  Q <= 66 t.
    # cost = (66 x 900 + 34 x 1000) / 1.1 = (59,400 + 34,000) / 1.1 = 84,909.09 USD = 0.08490909 MUSD
    b = book(members=[{"member": "A", "burden_share": 1}, {"member": "B", "burden_share": 3,
                                                            "fiscal_budget_musd": 0.009}],
             floor=1200, processes=[mine(900)],
             settings={"start_year": 2026, "end_year": 2026, "discount_rate": 0.1, "base_year": 2025})
    oc = solve_book(tmp_path, b)
    assert float(oc.tables["capacity"]["production_t"].iloc[0]) == pytest.approx(66)
    assert oc.objective == pytest.approx(93400 / 1.1 * 1e-6, abs=1e-9)
    assert fiscal(oc).loc["B", "floor_support_share_musd"] == pytest.approx(0.009, abs=1e-9)


@pytest.mark.parametrize("objective, with_row, expected, tariffs_cost, revenue", [
    # resource: CHN at 1000 (tariff a transfer): 0.1; revenue 100 x 100 = 0.01 reported
    ("resource", True, 0.100, 0.0, 0.01),
    # market, CHN only: 100 x (1000 + 100) = 0.11, of which tariffs 0.01
    ("market", False, 0.110, 0.01, 0.01),
    # market with ROW at 1050 < 1000 + 100: switch to ROW, 100 x 1050 = 0.105, no tariff
    ("market", True, 0.105, 0.0, 0.0),
])
def test_tariff_revenue_and_market_mode(tmp_path, objective, with_row, expected, tariffs_cost, revenue):
    sup = [{"supplier": "CHN", "commodity": "ox", "tariff_usd_per_t": 100}]
    if with_row:
        sup.append({"supplier": "ROW", "commodity": "ox", "price_factor": 1.05})
    oc = solve_book(tmp_path, book(objective=objective, suppliers=sup))
    assert oc.objective == pytest.approx(expected, abs=1e-9)
    assert cost(oc, "tariffs") == pytest.approx(tariffs_cost, abs=1e-9)
    assert fiscal(oc).loc["A", "tariff_revenue_musd"] == pytest.approx(revenue, abs=1e-9)
    assert oc.headline["expected_tariff_revenue_musd"] == pytest.approx(revenue, abs=1e-9)


def test_border_adjusted_tariff_lifts_import_price_to_floor(tmp_path):
    # floor 1300, CHN at 1000 with tariff 100, border_adjusted: T = max(100, 1300 - 1000) = 300.
    # resource mode: cost 100 x 1000 = 0.1; tariff revenue 100 x 300 = 0.03
    sup = [{"supplier": "CHN", "commodity": "ox", "tariff_usd_per_t": 100, "border_adjusted": True}]
    oc = solve_book(tmp_path, book(floor=1300, suppliers=sup))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert fiscal(oc).loc["A", "tariff_revenue_musd"] == pytest.approx(0.03, abs=1e-9)


@pytest.mark.parametrize("objective, expected, q", [
    # resource: mine at 1100 > CHN 1000 -> import: 100 x 1000 = 0.1, no production
    ("resource", 0.100, 0.0),
    # market: the mine gets the floor: 1100 - (1200 - 1000) = 900 < 1000 -> mine 100 t:
    #   100 x 1100 - 100 x 200 = 110,000 - 20,000 = 0.09 MUSD
    ("market", 0.090, 100.0),
])
def test_market_mode_floor_makes_bloc_production_pay(tmp_path, objective, expected, q):
    oc = solve_book(tmp_path, book(objective=objective, floor=1200, processes=[mine(1100)]))
    assert oc.objective == pytest.approx(expected, abs=1e-9)
    assert float(oc.tables["capacity"]["production_t"].iloc[0]) == pytest.approx(q)
    # support 200 x Q is reported in both modes; it is a cost (negative) only in market mode
    assert oc.headline["expected_floor_support_musd"] == pytest.approx(200 * q * 1e-6, abs=1e-9)
    assert cost(oc, "floor_support") == pytest.approx(-200 * q * 1e-6 if objective == "market" else 0.0, abs=1e-9)
