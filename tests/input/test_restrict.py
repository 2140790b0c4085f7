"""The input restricted to a coalition drops exactly what SPEC §6 says (planner.input.restrict)."""
from __future__ import annotations

import pytest
from conftest import valid_book, write_book

from planner.input.load import load
from planner.input.restrict import restrict
from planner.model.prepare import prepare


@pytest.fixture
def data(tmp_path):
    b = valid_book()  # USA and EU (see tests/conftest.py); add JPN with a bit of everything
    b["members"].append({"member": "JPN", "name": "Japan", "burden_share": 2, "fiscal_budget_musd": 50})
    b["demand"].append({"member": "JPN", "commodity": "oxide", "year": 2025, "demand_t": 30})
    b["processes"].append({"process": "ref_JPN", "member": "JPN", "output": "oxide", "input": "ore",
                           "existing_tpa": 5})
    b["coproducts"].append({"process": "ref_JPN", "commodity": "la", "t_per_t_output": 0.2})
    b["stockpiles"].append({"member": "JPN", "commodity": "oxide", "existing_capacity_t": 3})
    b["offtakes"].append({"offtake": "off2", "seller": "AUS", "member": "JPN", "commodity": "oxide", "max_tpa": 5,
                          "floor_price_usd_per_t": 1100})
    b["routes"] += [{"from": "JPN", "to": "USA", "cost_usd_per_t": 20}, {"from": "EU", "to": "JPN", "allowed": False}]
    b["security"].append({"commodity": "oxide", "member": "JPN", "max_concern_share": 0.3})
    b["scenario_demand"].append({"scenario": "ban", "commodity": "oxide", "member": "EU", "multiplier": 1.2})
    return load(write_book(tmp_path / "b.xlsx", b))


def test_drops_exactly_what_section_6_says(data):
    r = restrict(data, ["EU", "JPN"])
    T, R = data.tables, r.tables
    assert list(R["members"]["member"]) == ["EU", "JPN"]
    assert set(R["demand"]["member"]) == {"EU", "JPN"} and len(R["demand"]) == 2
    assert list(R["processes"]["process"]) == ["mine_EU", "ref_JPN"]           # ref_USA gone
    assert list(R["coproducts"]["process"]) == ["ref_JPN"]                     # and its coproduct row
    assert list(R["stockpiles"]["member"]) == ["JPN"]                          # USA's stockpile gone
    assert list(R["offtakes"]["offtake"]) == ["off2"]                          # off1 was bought by USA
    assert [(a, b) for a, b in zip(R["routes"]["from"], R["routes"]["to"])] == [("EU", "JPN")]  # rows with USA gone
    sec = R["security"]
    assert list(sec["member"].fillna("(bloc)")) == ["(bloc)", "JPN"]          # USA's row gone, bloc-wide kept
    assert list(R["scenario_demand"]["member"]) == ["EU"]                      # USA's multiplier gone
    for kept in ("suppliers", "commodities", "market_prices", "scenarios", "scenario_prices", "disruptions"):
        assert R[kept].equals(T[kept]), kept
    assert r.settings == data.settings
    # the original is untouched
    assert list(T["members"]["member"]) == ["USA", "EU", "JPN"] and len(T["offtakes"]) == 2


def test_burden_shares_renormalised_and_budgets_follow(data):
    d = prepare(restrict(data, ["EU", "JPN"]))
    assert d.burden == pytest.approx({"EU": 1 / 3, "JPN": 2 / 3})  # shares 1 and 2 over S
    assert d.budget == {"JPN": 50.0}                                # USA's budget left with USA
    assert sorted({m for m, _ in d.demand}) == ["EU", "JPN"]
    assert all("USA" not in k[:2] for k in d.routes)


def test_all_zero_shares_in_s_become_equal(tmp_path):
    b = valid_book()
    b["members"] = [{"member": "USA", "burden_share": 1}, {"member": "EU", "burden_share": 0}]
    data = load(write_book(tmp_path / "z.xlsx", b))
    d = prepare(restrict(data, ["EU"]))
    assert d.burden == {"EU": 1.0}


def test_unknown_member_refused(data):
    with pytest.raises(ValueError, match="ZZZ"):
        restrict(data, ["EU", "ZZZ"])
