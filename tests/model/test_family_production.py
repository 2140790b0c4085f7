"""Hand-computed optima for the production family: conversion chains and coproducts (SPEC §3 "Balance").

One member A, one year 2026, r = 0.  Money: 1 t x 1 USD/t = 1e-6 MUSD.
"""
import pytest

from modelkit import cost, solve_book


def settings(**kw):
    return {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0, **kw}


def supply(oc, commodity, col, member="A", year=2026, scenario="base"):
    s = oc.tables["supply"]
    row = s[(s["member"] == member) & (s["commodity"] == commodity) & (s["year"] == year) & (s["scenario"] == scenario)]
    return float(row[col].sum())


def chain_book():
    return {
        "settings": settings(),
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ore"}, {"commodity": "oxide"}, {"commodity": "magnet"}],
        "market_prices": [{"commodity": "ore", "year": 2026, "price_usd_per_t": 50}],
        "demand": [{"member": "A", "commodity": "magnet", "year": 2026, "demand_t": 1000}],
        "suppliers": [{"supplier": "W", "commodity": "ore"}],
        "processes": [
            {"process": "refine", "member": "A", "output": "oxide", "input": "ore", "input_per_output": 2,
             "existing_tpa": 10000, "variable_cost_usd_per_t": 100},
            {"process": "magnets", "member": "A", "output": "magnet", "input": "oxide", "input_per_output": 1.5,
             "existing_tpa": 10000, "variable_cost_usd_per_t": 1000},
        ],
    }


def test_input_chain_ore_oxide_magnet(tmp_path):
    # 1000 t magnets need 1.5 x 1000 = 1500 t oxide, which need 2 x 1500 = 3000 t ore (bought at 50).
    # ore 3000 x 50 = 150 000; refining 1500 x 100 = 150 000; magnets 1000 x 1000 = 1 000 000
    # -> 1 300 000 USD = 1.3 MUSD
    oc = solve_book(tmp_path, chain_book())
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(1.3, abs=1e-9)
    assert supply(oc, "magnet", "production_t") == pytest.approx(1000)
    assert supply(oc, "oxide", "production_t") == pytest.approx(1500)
    assert supply(oc, "oxide", "input_use_t") == pytest.approx(1500)
    assert supply(oc, "ore", "imports_other_t") == pytest.approx(3000)
    assert supply(oc, "ore", "input_use_t") == pytest.approx(3000)
    assert cost(oc, "imports") == pytest.approx(0.15, abs=1e-9)
    assert cost(oc, "variable") == pytest.approx(1.15, abs=1e-9)


def test_input_chain_capacity_limits_middle_stage(tmp_path):
    # refinery capacity 1000 t oxide -> at most 1000 / 1.5 = 666.67 t magnets; magnets may be short at 5000 USD/t.
    # magnets 666.667 x 1000 = 666 666.7; oxide 1000 x 100 = 100 000; ore 2000 x 50 = 100 000;
    # shortage 333.333 x 5000 = 1 666 666.7 -> 2 533 333.3 USD
    b = chain_book()
    b["processes"][0]["existing_tpa"] = 1000
    b["commodities"][2]["shortage_penalty_usd_per_t"] = 5000
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx((2000 / 3 * 1000 + 100000 + 100000 + 1000 / 3 * 5000) * 1e-6, abs=1e-9)
    assert supply(oc, "magnet", "shortage_t") == pytest.approx(1000 / 3)
    assert supply(oc, "ore", "imports_other_t") == pytest.approx(2000)


def sep_book(disposal=20.0, la_demand=None, la_supplier=False):
    la = {"commodity": "la"}
    if disposal is not None:
        la["disposal_cost_usd_per_t"] = disposal
    b = {
        "settings": settings(),
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ndpr"}, la],
        "demand": [{"member": "A", "commodity": "ndpr", "year": 2026, "demand_t": 100}],
        "processes": [{"process": "sep", "member": "A", "output": "ndpr", "existing_tpa": 1000,
                       "variable_cost_usd_per_t": 100}],
        "coproducts": [{"process": "sep", "commodity": "la", "t_per_t_output": 0.5}],
    }
    if la_demand is not None:
        b["demand"].append({"member": "A", "commodity": "la", "year": 2026, "demand_t": la_demand})
    if la_supplier:
        b["suppliers"] = [{"supplier": "W", "commodity": "la"}]
        b["market_prices"] = [{"commodity": "la", "year": 2026, "price_usd_per_t": 300}]
    return b


def test_coproduct_disposed_at_cost(tmp_path):
    # 100 t ndpr -> 0.5 x 100 = 50 t la with no use: disposed at 20 -> 1000; production 100 x 100 = 10 000
    # -> 11 000 USD = 0.011 MUSD
    oc = solve_book(tmp_path, sep_book())
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.011, abs=1e-9)
    assert supply(oc, "la", "production_t") == pytest.approx(50)
    assert supply(oc, "la", "disposal_t") == pytest.approx(50)
    assert cost(oc, "disposal") == pytest.approx(0.001, abs=1e-9)


def test_coproduct_without_disposal_is_infeasible(tmp_path):
    # no disposal cost and no use for la: the 50 t made with the 100 t of ndpr have nowhere to go
    oc = solve_book(tmp_path, sep_book(disposal=None))
    assert oc.status == "infeasible"
    assert oc.exit_code == 1
    assert "surplus" in oc.message.lower()
    assert "la" in oc.message
    rel = oc.relaxed
    # the elastic re-solve gives on the 50 t of la (cheaper than 100 t of unmet ndpr)
    row = rel[rel["target"].str.contains("surplus")]
    assert list(row["commodity"]) == ["la"]
    assert float(row["shortfall"].iloc[0]) == pytest.approx(50)


def test_coproduct_used_to_meet_demand(tmp_path):
    # ndpr 100 t -> la 50 t, la demand 80: 50 from the coproduct, 30 imported at 300 = 9000;
    # production 100 x 100 = 10 000 -> 19 000 USD = 0.019 (nothing disposed)
    oc = solve_book(tmp_path, sep_book(la_demand=80, la_supplier=True))
    assert oc.objective == pytest.approx(0.019, abs=1e-9)
    assert supply(oc, "la", "production_t") == pytest.approx(50)
    assert supply(oc, "la", "imports_other_t") == pytest.approx(30)
    assert supply(oc, "la", "disposal_t") == pytest.approx(0)


def test_coproduct_drives_production(tmp_path):
    # la demand 150 (no supplier), ndpr demand 100, ndpr disposal at 10 USD/t:
    # la needs Q = 150 / 0.5 = 300 t ndpr; 200 t surplus ndpr disposed at 10 = 2000; production 300 x 100 = 30 000
    # -> 32 000 USD = 0.032
    b = sep_book(la_demand=150)
    b["commodities"][0]["disposal_cost_usd_per_t"] = 10
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.032, abs=1e-9)
    assert supply(oc, "ndpr", "production_t") == pytest.approx(300)
    assert supply(oc, "ndpr", "disposal_t") == pytest.approx(200)
    assert supply(oc, "la", "disposal_t") == pytest.approx(0)


def test_process_at_other_member_ships_intermediate(tmp_path):
    # mine at B (ore, 100 USD/t), refinery at A (oxide from 2 t ore/t, 50 USD/t), route B->A 10 USD/t.
    # demand oxide at A 100: ore 200 x 100 = 20 000; ship 200 x 10 = 2000; refine 100 x 50 = 5000 -> 0.027
    b = {
        "settings": settings(default_route_cost_usd_per_t=10),
        "members": [{"member": "A"}, {"member": "B"}],
        "commodities": [{"commodity": "ore"}, {"commodity": "oxide"}],
        "demand": [{"member": "A", "commodity": "oxide", "year": 2026, "demand_t": 100}],
        "processes": [
            {"process": "mine", "member": "B", "output": "ore", "existing_tpa": 1000, "variable_cost_usd_per_t": 100},
            {"process": "ref", "member": "A", "output": "oxide", "input": "ore", "input_per_output": 2,
             "existing_tpa": 1000, "variable_cost_usd_per_t": 50},
        ],
    }
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.027, abs=1e-9)
    tr = oc.tables["trade"]
    assert list(zip(tr["from"], tr["to"], tr["commodity"])) == [("B", "A", "ore")]
    assert float(tr["flow_t"].iloc[0]) == pytest.approx(200)
