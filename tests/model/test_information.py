"""SPEC v2 §3 rules, each on a case solved by hand: Information (the scenario tree), Terminal value,
the reported security share, Money and tolerances, and the risk figures of the summary.

Every case: discount rate 0 unless said, so δ_t = 1; money in MUSD (1 t at 1 USD/t = 1e-6 MUSD).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelkit import solve_book

S = {"start_year": 2026, "end_year": 2028, "discount_rate": 0, "mip_gap": 0}


def ban_book(**settings) -> dict:
    """One member A needs 100 t of X a year, 2026-2028.  CHN sells X at 1,000 USD/t, without limit; in
    scenario `ban` (probability 0.5) CHN sells nothing in 2028.  A's stockpile holds up to 1,000 t (none
    at the start, holding 10 USD/t/yr on the end-of-year level); shortage costs 5,000 USD/t."""
    return {"settings": {**S, "terminal_stock_value": 0, **settings},
            "members": [{"member": "A"}],
            "commodities": [{"commodity": "X", "shortage_penalty_usd_per_t": 5000}],
            "suppliers": [{"supplier": "CHN", "commodity": "X"}],
            "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 1000}],
            "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100}],
            "stockpiles": [{"member": "A", "commodity": "X", "existing_capacity_t": 1000,
                            "holding_cost_usd_per_t_yr": 10}],
            "scenarios": [{"scenario": "base", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}],
            "disruptions": [{"scenario": "ban", "supplier": "CHN", "commodity": "X", "from_year": 2028,
                             "to_year": 2028, "available_share": 0}]}


def fills(oc) -> dict:
    st = oc.tables["stockpiles"]
    return {(int(r.year), r.scenario): round(float(r.fill_t), 6) for r in st.itertuples()}


def test_foresight_0_fills_the_same_stock_in_every_scenario_before_the_ban(tmp_path):
    # The data of base and ban first differ in 2028, so with foresight 0 the operations of 2026 and 2027
    # are shared.  A fill of x t in 2027 (x <= 100) costs 1,000 + 10 holding per t in both scenarios;
    # in 2028 it saves a purchase of 1,000 in base and a shortage of 5,000 in ban:
    #   base = 300,000 + 10 x,  ban = 700,000 - 3,990 x,  expected = 500,000 - 1,990 x  -> x = 100
    # (filling in 2026 instead costs one more year of holding).  Objective 301,000 USD = 0.301 MUSD.
    oc = solve_book(tmp_path, ban_book(foresight_years=0), plain=False)
    assert oc.objective == pytest.approx(0.301, abs=1e-9)
    f = fills(oc)
    assert f[(2027, "base")] == f[(2027, "ban")] == pytest.approx(100)
    assert f[(2026, "base")] == f[(2026, "ban")] == 0
    tree = oc.tables["scenario_tree"].set_index(["scenario", "year"])
    assert tree.loc[("ban", 2027), "node"] == "2027/base" and tree.loc[("ban", 2028), "node"] == "2028/ban"
    assert tree.loc[("base", 2026), "scenarios"] == "base, ban"
    assert oc.headline["scenario_tree_nodes"] == 4  # 2026: 1, 2027: 1, 2028: 2


def test_foresight_1_lets_the_ban_scenario_fill_alone_a_year_ahead(tmp_path):
    # With foresight 1 the scenarios may differ from 2027 (= 2028 - 1): base fills nothing
    # (300,000 USD), ban fills 100 t in 2027 (100,000 + 200,000 + 1,000 holding = 301,000 USD).
    # Expected 300,500 USD = 0.3005 MUSD, cheaper than foresight 0 by the value of knowing a year ahead.
    oc = solve_book(tmp_path, ban_book(foresight_years=1), plain=False)
    assert oc.objective == pytest.approx(0.3005, abs=1e-9)
    f = fills(oc)
    assert f[(2027, "base")] == 0 and f[(2027, "ban")] == pytest.approx(100)
    assert oc.headline["scenario_tree_nodes"] == 5  # 2026: 1, 2027: 2, 2028: 2


def test_explicit_tree_with_data_that_differ_before_the_branch_makes_a_robust_choice(tmp_path):
    # The analyst says the ban gives no warning: ban branches from base only in 2028, but CHN already
    # sells nothing in 2027 in ban.  The operations of 2027 are shared, so no CHN imports in 2027 in
    # base either (the shared decision must work in both).  By hand: fill 200 t in 2026 (100,000 for
    # demand + 200,000 fill, holding 2,000), draw 100 in 2027 (holding 1,000 on the 100 carried), draw
    # 100 in 2028 in both scenarios (carrying a tonne costs 1,020 and saves 1,000 in base, 5,000 in ban).
    # Both scenarios cost 303,000 USD -> 0.303 MUSD.  Full foresight would let base buy in 2027 (301,500).
    b = ban_book()
    b["disruptions"][0]["from_year"] = 2027
    b["scenarios"][1].update(parent="base", branch_year=2028)
    oc = solve_book(tmp_path, b, plain=False)
    assert oc.objective == pytest.approx(0.303, abs=1e-9)
    sup = oc.tables["supply"].set_index(["year", "scenario"])
    assert sup.loc[(2027, "base"), "imports_concern_t"] + sup.loc[(2027, "base"), "imports_other_t"] == 0
    assert oc.headline["scenario_tree"] == "explicit"
    # branching in 2027 does not help: ban must fill its 200 t in 2026, the only year CHN sells in ban,
    # and 2026 is still shared.  Branching at the start (2026) is full foresight: base buys every year
    # (300,000), ban fills 200 t in 2026 (303,000): expected 301,500 USD.
    b["scenarios"][1]["branch_year"] = 2027
    assert solve_book(tmp_path, b, plain=False).objective == pytest.approx(0.303, abs=1e-9)
    b["scenarios"][1]["branch_year"] = 2026
    assert solve_book(tmp_path, b, plain=False).objective == pytest.approx(0.3015, abs=1e-9)


def test_foresight_beyond_the_horizon_is_the_plain_two_stage_model_exactly(tmp_path, monkeypatch):
    # Same book, solved (a) with foresight beyond the horizon and (b) with the aliasing switched off
    # entirely (every scenario its own columns in every year): identical objective and tables.
    import planner.model.prepare as prep

    a = solve_book(tmp_path, ban_book(foresight_years=50), plain=False)
    real = prep.scenario_tree

    def no_tree(md, sc):
        _rep, kind = real(md, sc)
        return np.tile(np.arange(md.S), (md.nT, 1)), kind

    monkeypatch.setattr(prep, "scenario_tree", no_tree)
    b = solve_book(tmp_path, ban_book(foresight_years=0), plain=False)
    assert a.objective == pytest.approx(b.objective, abs=1e-12) == pytest.approx(0.3005, abs=1e-9)
    for name in ("stockpiles", "supply", "costs"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def stock_target_book(tsv, ban_cheap=False) -> dict:
    """A needs 100 t of X in 2026 and 2027 and must hold 365 days of consumption (100 t) at the end of
    2027.  CHN sells at 1,000 USD/t (and ROW at 1,500); holding costs 10 USD/t/yr."""
    b = {"settings": {"start_year": 2026, "end_year": 2027, "discount_rate": 0, "terminal_stock_value": tsv},
         "members": [{"member": "A"}], "commodities": [{"commodity": "X"}],
         "suppliers": [{"supplier": "CHN", "commodity": "X"},
                       {"supplier": "ROW", "commodity": "X", "price_factor": 1.5}],
         "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 1000}],
         "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100}],
         "stockpiles": [{"member": "A", "commodity": "X", "existing_capacity_t": 500,
                         "holding_cost_usd_per_t_yr": 10}],
         "security": [{"commodity": "X", "member": "A", "from_year": 2027, "to_year": 2027, "min_stock_days": 365}]}
    if ban_cheap:
        b["scenarios"] = [{"scenario": "base", "probability": 1}]
        b["disruptions"] = [{"scenario": "base", "supplier": "CHN", "from_year": 2027, "to_year": 2027,
                             "available_share": 0}]
    return b


@pytest.mark.parametrize("tsv,objective,shadow", [
    (0.0, 0.301, 1010.0),   # 200 t for demand + 100 t kept (1,000 each) + 1,000 holding; a kept t costs 1,010
    (1.0, 0.201, 10.0),     # the 100 t left are credited at replacement cost 1,000: only holding remains
    (0.5, 0.251, 510.0),    # half the credit
])
def test_terminal_value_credits_end_stock_at_replacement_cost(tmp_path, tsv, objective, shadow):
    oc = solve_book(tmp_path, stock_target_book(tsv), plain=False)
    assert oc.objective == pytest.approx(objective, abs=1e-9)
    sec = oc.tables["security"]
    assert sec["shadow_price_usd_per_t"].iloc[0] == pytest.approx(shadow, rel=1e-6)
    st = oc.tables["stockpiles"].set_index("year")
    assert st.loc[2027, "terminal_value_musd"] == pytest.approx(-tsv * 100 * 1000 * 1e-6, abs=1e-12)


def test_replacement_cost_is_the_cheapest_supplier_still_selling_in_the_last_year(tmp_path):
    # CHN is banned in 2027, so stock left at the end is credited at ROW's 1,500 USD/t.  A tonne bought
    # from CHN in 2026 and kept costs 1,000 + 10 + 10 holding - 1,500 credit = -480: an asset bought
    # cheap before the ban, worth its replacement cost after it; the 500 t of capacity limit it.  By hand:
    # buy 600 t in 2026 (100 for demand, 500 stocked: 600,000), holding 5,000; draw 100 for 2027's demand
    # (cheaper than ROW); 400 t left (>= the 100 t target): holding 4,000, credit -600,000.  9,000 USD.
    oc = solve_book(tmp_path, stock_target_book(1.0, ban_cheap=True), plain=False)
    assert oc.objective == pytest.approx(0.009, abs=1e-9)
    st = oc.tables["stockpiles"].set_index("year")
    assert st.loc[2027, "level_t"] == pytest.approx(400)
    assert st.loc[2027, "terminal_value_musd"] == pytest.approx(-0.6, abs=1e-9)


def concern_book(cap=None) -> dict:
    """A needs 100 t of X in 2026 and must hold 730 days (200 t) of it; CHN (a country of concern) sells at
    1,000 USD/t, ROW at 1,200."""
    sec = [{"commodity": "X", "member": "A", "min_stock_days": 730}]
    if cap is not None:
        sec.append({"commodity": "X", "member": "A", "max_concern_share": cap})
    return {"settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "terminal_stock_value": 0,
                         "end_stock_at_least_initial": False},
            "members": [{"member": "A"}], "commodities": [{"commodity": "X"}],
            "suppliers": [{"supplier": "CHN", "commodity": "X", "country_of_concern": True},
                          {"supplier": "ROW", "commodity": "X", "price_factor": 1.2}],
            "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 1000}],
            "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100}],
            "stockpiles": [{"member": "A", "commodity": "X", "existing_capacity_t": 500}],
            "security": sec}


def test_stock_filled_from_the_concern_supplier_is_reported_as_tonnes_beyond_consumption(tmp_path):
    # No cap: all 300 t come from CHN (100 used, 200 stocked).  The share of consumption met from
    # countries of concern is 100 %, not 300 %, and 200 t were bought from them beyond consumption.
    oc = solve_book(tmp_path, concern_book(), plain=False)
    assert oc.objective == pytest.approx(0.3, abs=1e-9)
    assert oc.headline["worst_dependence_share"] == pytest.approx(1.0)
    assert oc.headline["max_concern_beyond_consumption_t"] == pytest.approx(200)
    # the sweep's per-commodity column and the results' dependence chart say the same (they said 300 %)
    from planner.report.charts import chart_data
    from planner.workflows.sweep import worst_shares

    assert worst_shares(oc.tables["supply"]) == {"X": pytest.approx(1.0)}
    dep = chart_data(oc.tables, scen=["base"], prob=[1.0])["dependence"]["X"]
    assert dep.filter(like="share_").to_numpy().max() == pytest.approx(1.0)


def test_the_concern_cap_counts_stock_fill(tmp_path):
    # Cap 50 %: concern imports (stock fill included) <= 50 t, so 250 t come from ROW at 1,200:
    # 50,000 + 300,000 = 350,000 USD.  The report: share 50 %, nothing beyond consumption.
    oc = solve_book(tmp_path, concern_book(cap=0.5), plain=False)
    assert oc.objective == pytest.approx(0.35, abs=1e-9)
    sec = oc.tables["security"].set_index("target").loc["max_concern_share"]
    assert sec["achieved"] == pytest.approx(0.5) and sec["beyond_consumption_t"] == 0
    assert sec["value_t"] == pytest.approx(50)


def test_a_cent_per_tonne_decides_at_weight_0_05(tmp_path):
    # SPEC §3 "Money and tolerances": B is 0.01 USD/t cheaper than C (999.99 vs 1,000).  In scenario
    # `rare` (probability 0.1), in 2040 (discount 5 %, 14 years after base_year 2026: δ = 1.05^-14 = 0.505),
    # the weight is 0.0505, and B must still win: every tonne, every year, every scenario from B.
    b = {"settings": {"start_year": 2026, "end_year": 2040, "discount_rate": 0.05, "terminal_stock_value": 0},
         "members": [{"member": "A"}], "commodities": [{"commodity": "X"}],
         "suppliers": [{"supplier": "B", "commodity": "X", "price_factor": 0.99999, "max_tpa": 1000},
                       {"supplier": "C", "commodity": "X", "max_tpa": 1000}],
         "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 1000}],
         "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100}],
         "scenarios": [{"scenario": "usual", "probability": 0.9}, {"scenario": "rare", "probability": 0.1}],
         "scenario_demand": [{"scenario": "rare", "commodity": "X", "multiplier": 1.5}]}
    oc = solve_book(tmp_path, b, plain=False)
    sup = oc.tables["supply"]
    assert (sup["imports_from_C_t"] == 0).all(), sup[sup["imports_from_C_t"] != 0]
    assert (sup["imports_from_B_t"] == sup["demand_t"]).all()
    # and the shadow price comes back in USD/t: one more tonne in `rare` 2040 costs B's 999.99
    pr = oc.tables["prices"].set_index(["year", "scenario"])
    assert pr.loc[(2040, "rare"), "marginal_cost_usd_per_t"] == pytest.approx(999.99, abs=1e-6)


def test_summary_gives_expected_cost_var_cvar_and_the_gap_in_musd(tmp_path):
    # ban_book at foresight 1: base costs 0.300, ban 0.301 MUSD.  At alpha 0.5: VaR = 0.300 (the smallest
    # cost whose cumulative probability reaches 0.5), CVaR = 0.300 + 0.5 x 0.001 / 0.5 = 0.301.
    oc = solve_book(tmp_path, ban_book(foresight_years=1, cvar_alpha=0.5), plain=False)
    h = oc.headline
    assert h["expected_cost_musd"] == pytest.approx(0.3005, abs=1e-9)
    assert h["cost_base_musd"] == pytest.approx(0.300, abs=1e-9)
    assert h["cost_ban_musd"] == pytest.approx(0.301, abs=1e-9)
    assert h["var_musd"] == pytest.approx(0.300, abs=1e-9)
    assert h["cvar_musd"] == pytest.approx(0.301, abs=1e-9)
    assert h["mip_gap_musd"] == 0.0  # an LP


def test_risk_averse_prices_are_in_each_scenarios_own_terms(tmp_path):
    # λ = 1, α = 0.5: the objective is CVaR = the cost of ban alone (the costlier scenario), so ban's
    # weight is 1 and base's 0.  One more tonne of demand in ban 2027 costs 1,000 (bought from CHN);
    # the risk weight of ban is 1 / 0.5 = 2.
    oc = solve_book(tmp_path, ban_book(foresight_years=1, risk_aversion=1, cvar_alpha=0.5), plain=False)
    pr = oc.tables["prices"].set_index(["year", "scenario"])
    assert pr.loc[(2027, "ban"), "marginal_cost_usd_per_t"] == pytest.approx(1000, rel=1e-6)
    assert pr.loc[(2027, "ban"), "risk_weight"] == pytest.approx(2.0, rel=1e-6)
