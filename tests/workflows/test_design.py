"""planner design (issue 14, SPEC §7): projects, floors, price of security, value of information."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from modelkit import write_book

from planner.cli import main
from planner.common.problems import PlannerError
from planner.workflows.design import floor_level, mean_input, run_design
from planner.workflows.run import solve_file


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


# ------------------------------------------------------------------ the exact break-even of a piecewise linear sum
def test_floor_level_by_hand():
    # one kink: 2 t at price 10 -> 2 (F - 10) >= 6 at F = 13
    assert floor_level([10.0], [2.0], 6.0) == pytest.approx(13.0)
    # two kinks, P = 10 (w 1) and 20 (w 1); target 15: on [10, 20] the sum is F - 10 (reaches 10 at 20),
    # beyond it 2F - 30 = 15 -> F = 22.5
    assert floor_level([20.0, 10.0], [1.0, 1.0], 15.0) == pytest.approx(22.5)
    assert floor_level([20.0, 10.0], [1.0, 1.0], 5.0) == pytest.approx(15.0)
    assert floor_level([10.0], [1.0], 0.0) == 0.0          # bankable without a floor
    assert floor_level([10.0], [0.0], 1.0) == math.inf     # no volume: no floor helps


# ------------------------------------------------------------------ one plant, hand-computed bankability
def one_plant_book(budget=None, floor=None):
    """2026-2027, r = 0 (δ = 1, annuity 1/life). One member A, demand 100 t/yr of OX, no supplier, shortage at
    1e5 USD/t: the one module of plant P (100 t/yr) is built in 2026 and makes 100 t in each year.
    Market price of OX 2000 x 0.5 in scenario lo (1000), x 2 in scenario hi (4000), probability 0.5 each.

    Levelised cost: capex 0.5 MUSD / life 2 = 0.25 MUSD/yr + fixed O&M 0.01 MUSD/yr = 260,000 USD/yr,
    + variable 300 USD/t x 100 t = 30,000 USD/yr -> 290,000 USD per 100 t = 2,900 USD/t.
    NPV at market: lo 200 t x (1000 - 2900) = -0.38 MUSD; hi 200 x (4000 - 2900) = +0.22; expected -0.08.
    Break-even floor (expected): for 1000 <= F <= 4000, 0.5 x 200 (F - 2900) + 0.5 x 0.22 >= 0 -> F = 1800.
    Worst scenario: lo needs F = 2900 (hi needs none) -> 2900.
    Support at F = 1800: lo (1800 - 1000) x 200 t = 0.16 MUSD, hi 0."""
    return {
        "settings": {"start_year": 2026, "end_year": 2027, "discount_rate": 0, "mip_gap": 0},
        "members": [{"member": "A", "fiscal_budget_musd": budget}],
        "commodities": [{"commodity": "OX", "shortage_penalty_usd_per_t": 1e5, "floor_price_usd_per_t": floor}],
        "market_prices": [{"commodity": "OX", "year": 2026, "price_usd_per_t": 2000}],
        "demand": [{"member": "A", "commodity": "OX", "year": 2026, "demand_t": 100}],
        "processes": [{"process": "P", "member": "A", "output": "OX", "variable_cost_usd_per_t": 300,
                       "module_tpa": 100, "max_modules": 1, "capex_musd_per_module": 0.5,
                       "fixed_om_musd_per_module_yr": 0.01, "lifetime_years": 2}],
        "scenarios": [{"scenario": "lo", "probability": 0.5}, {"scenario": "hi", "probability": 0.5}],
        "scenario_prices": [{"scenario": "lo", "commodity": "OX", "multiplier": 0.5},
                            {"scenario": "hi", "commodity": "OX", "multiplier": 2}],
    }


def test_one_plant_bankability_by_hand(tmp_path):
    p = write_book(tmp_path / "plant.xlsx", one_plant_book(budget=0.1))
    r = run_design(str(p), parts=("projects", "floors"), write=False, progress=False)
    pr = r.sheets["projects"].set_index("project").loc["P"]
    assert pr["levelised_cost_usd_per_t"] == pytest.approx(2900, rel=1e-6)
    assert pr["breakeven_floor_usd_per_t"] == pytest.approx(1800, rel=1e-6)
    assert pr["breakeven_floor_worst_usd_per_t"] == pytest.approx(2900, rel=1e-6)
    assert pr["expected_npv_market_musd"] == pytest.approx(-0.08, abs=1e-9)
    assert bool(pr["needs_floor"])
    ps = r.sheets["project_scenarios"].set_index("scenario")
    assert ps.loc["lo", "npv_market_musd"] == pytest.approx(-0.38, abs=1e-9)
    assert ps.loc["hi", "npv_market_musd"] == pytest.approx(0.22, abs=1e-9)
    assert ps.loc["lo", "margin_market_usd_per_t"] == pytest.approx(-1900, rel=1e-6)
    fl = r.sheets["floors"].set_index("commodity").loc["OX"]
    assert fl["required_floor_usd_per_t"] == pytest.approx(1800, rel=1e-6)
    assert fl["expected_support_required_musd"] == pytest.approx(0.5 * 0.16, abs=1e-9)
    b = r.sheets["budgets"]
    bind = b[b["binds"]]
    # A's budget of 0.1 MUSD binds in lo under the required floor (0.16 MUSD), nowhere else
    assert list(zip(bind["case"], bind["scenario"], bind["member"])) == [("required", "lo", "A")]
    # no workbook floor and no max_concern_share row: said, not silently empty
    assert any("floors: the workbook sets no floor price" in s for s in r.skipped)


def test_floor_at_the_workbook_level(tmp_path):
    # a workbook floor of 3000 makes the expected NPV 0.5 x 200 x (3000-2900) + 0.5 x 0.22 = 0.12 MUSD
    p = write_book(tmp_path / "plant.xlsx", one_plant_book(floor=3000))
    r = run_design(str(p), parts=("projects", "floors"), write=False, progress=False)
    pr = r.sheets["projects"].set_index("project").loc["P"]
    assert pr["expected_npv_floor_musd"] == pytest.approx(0.12, abs=1e-9)
    assert bool(pr["bankable_at_workbook_floor"])
    fl = r.sheets["floors"].set_index("commodity").loc["OX"]
    # support at 3000: lo (3000 - 1000) x 200 = 0.4 MUSD, hi 0 -> expected 0.2
    assert fl["expected_support_workbook_musd"] == pytest.approx(0.2, abs=1e-9)
    # the same figures as the model's own fiscal rows (results sheet fiscal)
    fis = solve_file(str(p), write=False).tables["fiscal"].set_index("scenario")["floor_support_share_musd"]
    sup = r.sheets["floor_support"]
    mine = sup[sup["case"] == "workbook"].set_index("scenario")["member_share_musd"]
    assert mine["lo"] == pytest.approx(fis["lo"], abs=1e-9) == pytest.approx(0.4, abs=1e-9)
    assert mine["hi"] == pytest.approx(fis["hi"], abs=1e-9)


def test_volume_is_what_the_new_modules_add(tmp_path):
    # P already has 50 t/yr; demand 120: the module is built and the plant makes 120 t, of which the project
    # (the module) is credited with 120 - 50 = 70 t/yr. Levelised cost (260,000 + 300 x 70) / 70 = 4,014.29 USD/t.
    book = one_plant_book()
    book["processes"][0]["existing_tpa"] = 50
    book["demand"][0]["demand_t"] = 120
    p = write_book(tmp_path / "ex.xlsx", book)
    r = run_design(str(p), parts=("projects",), write=False, progress=False)
    pr = r.sheets["projects"].set_index("project").loc["P"]
    assert pr["volume_t_per_yr"] == pytest.approx(70, rel=1e-9)
    assert pr["levelised_cost_usd_per_t"] == pytest.approx(281000 / 70, rel=1e-9)


def test_coproduct_credit_lowers_the_break_even(tmp_path):
    # the plant of one_plant_book also yields 2 t of LA per t (exported at its market price, 100 USD/t):
    # credit 200 USD/t. NPV_s(F) = 200 t x (max(F, P_s) + 200 - 2900): lo -0.34, hi +0.26 MUSD;
    # expected 0.5 x 200 (F - 2700) + 0.5 x 0.26 = 0 at F = 1400; worst (lo) 2700.
    book = one_plant_book()
    book["commodities"].append({"commodity": "LA", "export_price_factor": 1})
    book["market_prices"].append({"commodity": "LA", "year": 2026, "price_usd_per_t": 100})
    book["coproducts"] = [{"process": "P", "commodity": "LA", "t_per_t_output": 2}]
    p = write_book(tmp_path / "cop.xlsx", book)
    r = run_design(str(p), parts=("projects",), write=False, progress=False)
    pr = r.sheets["projects"].set_index("project").loc["P"]
    assert pr["levelised_cost_usd_per_t"] == pytest.approx(2900, rel=1e-6)
    assert pr["coproduct_credit_usd_per_t"] == pytest.approx(200, rel=1e-6)
    assert pr["breakeven_floor_usd_per_t"] == pytest.approx(1400, rel=1e-6)
    assert pr["breakeven_floor_worst_usd_per_t"] == pytest.approx(2700, rel=1e-6)


def test_offtake_seen_from_the_buyer(tmp_path):
    """One year, r = 0. A needs 150 t of OX (market price 1000). ROW sells at 2 x 1000 = 2000 without limit;
    offtake O delivers up to 100 t at max(floor 1500, 1000) = 1500, signing 0.01 MUSD: it is signed, delivers
    100 t and ROW the other 50, so A's marginal supply price (balance dual) is 2000.
    Levelised cost (100 x 1500 + 10,000) / 100 = 1600 USD/t; NPV = 100 x (2000 - 1500) - 10,000 = 0.04 MUSD;
    at a market-price contract 100 x (2000 - 1000) - 10,000 = 0.09; highest contract floor at which it still
    pays: 100 x (2000 - F) = 10,000 -> F = 1900."""
    book = {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "OX"}],
        "market_prices": [{"commodity": "OX", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "OX", "year": 2026, "demand_t": 150}],
        "suppliers": [{"supplier": "ROW", "commodity": "OX", "price_factor": 2}],
        "offtakes": [{"offtake": "O", "seller": "S", "member": "A", "commodity": "OX", "max_tpa": 100,
                      "floor_price_usd_per_t": 1500, "signing_cost_musd": 0.01}],
    }
    p = write_book(tmp_path / "off.xlsx", book)
    r = run_design(str(p), parts=("projects",), write=False, progress=False)
    pr = r.sheets["projects"].set_index("project").loc["O"]
    assert pr["kind"] == "offtake"
    assert pr["levelised_cost_usd_per_t"] == pytest.approx(1600, rel=1e-6)
    assert pr["expected_npv_floor_musd"] == pytest.approx(0.04, abs=1e-9)
    assert pr["expected_npv_market_musd"] == pytest.approx(0.09, abs=1e-9)
    assert pr["breakeven_floor_usd_per_t"] == pytest.approx(1900, rel=1e-6)


# ------------------------------------------------------------------ WS, RP, EEV by hand
def two_scenario_book(penalty=1e4, calm=0.75):
    """One year (2026), r = 0. Member A needs 100 t of OX. CHN sells OX at 1000 USD/t without limit, but is
    banned (available_share 0) in scenario ban. Plant P: one module of 100 t/yr, capex 0.2 MUSD, life 1
    (annuity 0.2 MUSD), variable cost 500 USD/t. Shortage at ``penalty`` USD/t.

    calm alone: import, 0.1 MUSD (build: 0.2 + 0.05 = 0.25). ban alone: build, 0.25 (else 100 x 1e4 = 1.0).
    WS = 0.75 x 0.1 + 0.25 x 0.25 = 0.1375.
    RP: build -> 0.25 in both scenarios (the plant's 500 USD/t beats 1000 in calm too) = 0.25;
        no build -> 0.75 x 0.1 + 0.25 x 1.0 = 0.325. RP = 0.25.
    Mean scenario: CHN's available share 0.75 x 1 + 0.25 x 0 = 0.75 of an unlimited supply: CHN is available,
    the mean plan imports and builds nothing; fixed in the stochastic model -> EEV = 0.325.
    EVPI = 0.25 - 0.1375 = 0.1125; VSS = 0.325 - 0.25 = 0.075.
    Hedges: the plan for calm alone (no build) costs 0.325 (+0.075); the plan for ban alone (build) 0.25 (+0)."""
    return {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "OX", "shortage_penalty_usd_per_t": penalty}],
        "market_prices": [{"commodity": "OX", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "OX", "year": 2026, "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "OX", "country_of_concern": True}],
        "processes": [{"process": "P", "member": "A", "output": "OX", "variable_cost_usd_per_t": 500,
                       "module_tpa": 100, "max_modules": 1, "capex_musd_per_module": 0.2, "lifetime_years": 1}],
        "scenarios": [{"scenario": "calm", "probability": calm}, {"scenario": "ban", "probability": 1 - calm}],
        "disruptions": [{"scenario": "ban", "supplier": "CHN", "commodity": "OX", "from_year": 2026,
                         "to_year": 2026, "available_share": 0}],
    }


def _value(r) -> dict:
    v = r.sheets["value"]
    return dict(zip(v["figure"], v["value_musd"]))


def test_value_by_hand(tmp_path):
    p = write_book(tmp_path / "two.xlsx", two_scenario_book())
    r = run_design(str(p), parts=("value",), write=False, progress=False)
    v = _value(r)
    assert v["WS"] == pytest.approx(0.1375, abs=1e-7)
    assert v["RP"] == pytest.approx(0.25, abs=1e-7)
    assert v["EEV"] == pytest.approx(0.325, abs=1e-7)
    assert v["EVPI"] == pytest.approx(0.1125, abs=1e-7)
    assert v["VSS"] == pytest.approx(0.075, abs=1e-7)
    h = r.sheets["hedge"]
    e = h[h["scenario"] == "(expected)"].set_index("plan_for")["difference_musd"]
    assert e["calm"] == pytest.approx(0.075, abs=1e-7) and e["ban"] == pytest.approx(0.0, abs=1e-7)
    s = r.sheets["solves"]
    # every figure names its solves, and they are listed: WS 2 + EEV 2 (mean alone, then fixed) + 2 hedges + base
    assert len(s) == 7 and set(s["status"]) == {"optimal"}
    assert all(x in set(s["solve"]) for x in r.sheets["value"]["solves"].iloc[0].split(", "))


@pytest.mark.slow
def test_value_is_risk_neutral(tmp_path):
    # risk_aversion 0.5 in the workbook: the value figures are still the risk-neutral ones above (RP re-solved)
    book = two_scenario_book()
    book["settings"]["risk_aversion"] = 0.5
    p = write_book(tmp_path / "two.xlsx", book)
    r = run_design(str(p), parts=("value",), write=False, progress=False)
    v = _value(r)
    assert v["RP"] == pytest.approx(0.25, abs=1e-7) and v["VSS"] == pytest.approx(0.075, abs=1e-7)
    s = r.sheets["solves"]
    assert s["purpose"].str.startswith("RP").sum() == 1
    assert s.loc[s["purpose"].str.startswith("WS"), "settings"].str.contains("risk_aversion=0").all()


def test_mean_scenario_averages_shares_and_multipliers(tmp_path):
    from planner.input.load import load
    from planner.model.prepare import prepare

    book = two_scenario_book()
    book["scenario_prices"] = [{"scenario": "ban", "commodity": "OX", "multiplier": 3}]
    p = write_book(tmp_path / "two.xlsx", book)
    d = prepare(mean_input(load(str(p))))
    assert d.scen == ["mean"]
    assert d.price["OX"][0, 0] == pytest.approx(1000 * (0.75 * 1 + 0.25 * 3))
    assert d.avail("CHN", "OX")[0, 0] == pytest.approx(0.75)


def test_eev_plan_that_cannot_serve_a_scenario_is_unbounded(tmp_path):
    # no shortage allowed: the mean plan (no plant) cannot serve ban -> EEV and VSS unbounded, explained
    book = two_scenario_book()
    book["commodities"] = [{"commodity": "OX"}]
    p = write_book(tmp_path / "two.xlsx", book)
    r = run_design(str(p), parts=("value",), write=False, progress=False)
    v = _value(r)
    assert v["EEV"] == math.inf and v["VSS"] == math.inf
    note = r.sheets["value"].set_index("figure").loc["EEV", "note"]
    assert "unbounded" in note and "infeasible" in note and "would have to give" in note


@pytest.mark.slow
def test_evpi_and_vss_are_never_negative():
    pytest.importorskip("hypothesis")
    import tempfile
    from pathlib import Path

    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=6, deadline=None, derandomize=True)
    @given(calm=st.sampled_from([0.2, 0.5, 0.9]), capex=st.floats(0.02, 0.4), var=st.floats(0, 1500),
           penalty=st.floats(1500, 2e4), ban_price=st.floats(0.5, 3), share=st.sampled_from([0.0, 0.3]))
    def check(calm, capex, var, penalty, ban_price, share):
        book = two_scenario_book(penalty=penalty, calm=calm)
        book["processes"][0].update({"capex_musd_per_module": capex, "variable_cost_usd_per_t": var})
        book["suppliers"][0]["max_tpa"] = 100
        book["disruptions"][0]["available_share"] = share
        book["scenario_prices"] = [{"scenario": "ban", "commodity": "OX", "multiplier": ban_price}]
        with tempfile.TemporaryDirectory() as tmp:
            p = write_book(Path(tmp) / "g.xlsx", book)
            v = _value(run_design(str(p), parts=("value",), write=False, progress=False))
        assert v["EVPI"] >= -1e-7
        assert v["VSS"] >= -1e-7
        assert v["WS"] <= v["RP"] + 1e-7 <= v["EEV"] + 2e-7

    check()


# ------------------------------------------------------------------ price of security
def capped_book(penalty=5000.0, cap=0.5):
    """One year, demand 100 t. CHN (concern) at 1000 USD/t unlimited, ROW at 1500 up to 60 t, shortage at
    ``penalty``; a bloc row caps the concern share at ``cap``.
    Cost(v) in MUSD: v >= 0.4: 0.1 v + 0.15 (1 - v) = 0.15 - 0.05 v; v < 0.4: 0.1 v + 0.09 + 0.5 (0.4 - v)
    = 0.29 - 0.4 v. So 0.10 at 100 %, 0.29 at 0 %; shadow 0.0005 MUSD/pp above 40 %, 0.004 below.
    Without shortage (penalty None) the tightest feasible cap is 40 % (ROW covers 60 t)."""
    return {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "OX", "shortage_penalty_usd_per_t": penalty}],
        "market_prices": [{"commodity": "OX", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "OX", "year": 2026, "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "OX", "country_of_concern": True},
                      {"supplier": "ROW", "commodity": "OX", "max_tpa": 60, "price_factor": 1.5}],
        "security": [{"commodity": "OX", "max_concern_share": cap}],
    }


def cost_of(v):
    return 0.15 - 0.05 * v if v >= 0.4 else 0.29 - 0.4 * v


def test_security_curve_by_hand_and_non_decreasing(tmp_path):
    p = write_book(tmp_path / "cap.xlsx", capped_book())
    r = run_design(str(p), parts=("security",), write=False, progress=False)
    sc = r.sheets["security_cost"]
    assert set(sc["status"]) == {"optimal"}
    assert sc["tightest_feasible_cap"].iloc[0] == 0.0
    assert len(sc) >= 6 and sc["refined"].any()  # 6 caps, the workbook's 50 %, and refinement at the 40 % bend
    for x in sc.itertuples():
        assert x.cost_musd == pytest.approx(cost_of(x.cap_share), abs=1e-7)
    by = sc.sort_values("cap_share", ascending=False)
    # an LP solved exactly: the solves' own objectives rise as the cap tightens, and are the costs reported
    assert (np.diff(by["objective_of_this_solve_musd"].to_numpy()) >= -1e-9).all()
    assert by["non_decreasing_within_gap"].all()
    assert np.allclose(by["cost_musd"], by["objective_of_this_solve_musd"], atol=1e-9)
    at = sc.set_index("cap_share")
    assert at.loc[0.8, "shadow_price_musd_per_pp"] == pytest.approx(0.0005, rel=1e-6)
    assert at.loc[0.2, "shadow_price_musd_per_pp"] == pytest.approx(0.004, rel=1e-6)
    assert at.loc[0.2, "slope_musd_per_pp"] == pytest.approx(0.004, rel=1e-6)


@pytest.mark.slow
def test_tightest_feasible_cap_by_bisection(tmp_path):
    p = write_book(tmp_path / "cap.xlsx", capped_book(penalty=None))
    r = run_design(str(p), parts=("security",), write=False, progress=False, points=2)
    sc = r.sheets["security_cost"]
    v = sc["tightest_feasible_cap"].iloc[0]
    assert 0.4 <= v <= 0.4 + 0.001
    assert set(sc["status"]) == {"optimal"}


# ------------------------------------------------------------------ bad input and the command line
def test_nothing_floored_or_capped_says_what_was_skipped(tmp_path):
    book = two_scenario_book()
    book["scenarios"] = book["scenarios"][:1]
    book["scenarios"][0]["probability"] = 1
    book["disruptions"] = []
    p = write_book(tmp_path / "plain.xlsx", book)
    r = run_design(str(p), write=False, progress=False)
    text = " | ".join(r.skipped)
    assert "price of security: no security row sets max_concern_share" in text
    assert "projects: the plan builds no module and signs no offtake" in text
    assert "value: one scenario" in text
    assert _value(r)["EVPI"] == 0.0


def test_base_infeasible_gives_the_usual_explanation(tmp_path):
    book = two_scenario_book()
    book["commodities"] = [{"commodity": "OX"}]
    book["processes"] = []
    p = write_book(tmp_path / "bad.xlsx", book)
    with pytest.raises(PlannerError, match="infeasible"):
        run_design(str(p), write=False, progress=False)
    res = run("design", p, "-o", tmp_path / "d.xlsx")
    assert res.exit_code == 1
    assert "would have to give" in res.output and "demand" in res.output
    assert not (tmp_path / "d.xlsx").exists()


@pytest.mark.slow
def test_cli_writes_the_workbook_and_plot_draws_it(tmp_path):
    p = write_book(tmp_path / "plant.xlsx", one_plant_book())
    out = tmp_path / "plant.design.xlsx"
    res = run("design", p, "-o", out, "--parts", "projects,floors", "--mip-gap", "0")
    assert res.exit_code == 0, res.output
    assert "floors" in res.output and str(out) in res.output.replace("\n", "")
    xl = pd.ExcelFile(out, engine="openpyxl")
    assert {"summary", "projects", "floors", "budgets", "solves", "charts"} <= set(xl.sheet_names)
    res = run("plot", out, "-o", tmp_path / "png")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "png" / "breakeven.png").exists()
    assert run("design", p, "--parts", "nope").exit_code == 2
    assert run("design", "--help").exit_code == 0
