"""planner stress (issue 4.3): a plan's investments fixed, operations re-solved per scenario, regret."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from modelkit import write_book
from planner.input.load import load_input
from planner.cli import main
from planner.input.reader import read_workbook
from planner.workflows.run import solve_file
from planner.workflows.stress import plan_to_fixed

TINY = Path("inputs/tiny.xlsx")
PEN = "commodities.X.shortage_penalty_usd_per_t"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    d = tmp_path_factory.mktemp("stress")
    build = solve_file(str(TINY), out=str(d / "build.results.xlsx")).out           # builds PLANT in 2026
    nothing = solve_file(str(TINY), out=str(d / "nothing.results.xlsx"),          # shortage cheap: builds nothing
                         data=load_input(str(TINY), {PEN: "200"})).out
    return d, build, nothing


def test_plan_against_each_scenario_with_regret(plans):
    d, build, nothing = plans
    out = d / "st.xlsx"
    res = run("stress", TINY, "--plan", build, "-o", out)
    assert res.exit_code == 0, res.output
    sc = pd.read_excel(out, sheet_name="scenarios").set_index("scenario")
    # docs/tiny.md: with the plant, base and ban both cost 0.075; alone, base's optimum imports (0.060)
    # and ban's optimum builds the plant (0.075)
    assert sc.loc["base", "plan_cost_musd"] == pytest.approx(0.075)
    assert sc.loc["ban", "plan_cost_musd"] == pytest.approx(0.075)
    assert sc.loc["base", "optimum_cost_musd"] == pytest.approx(0.060)
    assert sc.loc["base", "regret_musd"] == pytest.approx(0.015)
    assert sc.loc["ban", "regret_musd"] == pytest.approx(0.0, abs=1e-9)
    summ = dict(pd.read_excel(out, sheet_name="summary").values)
    assert summ["expected_plan_cost_musd"] == pytest.approx(0.075)      # = the plan's own objective
    assert summ["expected_regret_musd"] == pytest.approx(0.0075)
    plan = pd.read_excel(out, sheet_name="plan")
    assert list(plan["status"]) == ["applied"]
    opt = pd.read_excel(out, sheet_name="investments_optimum")
    assert list(opt["scenario"]) == ["ban"]                              # only ban's optimum builds
    assert "regret" in res.output and "0.015" in res.output


def test_a_plan_that_builds_nothing_runs_short_in_the_ban(plans):
    d, _, nothing = plans
    out = d / "st0.xlsx"
    res = run("stress", TINY, "--plan", nothing, "-o", out)
    assert res.exit_code == 0, res.output
    sc = pd.read_excel(out, sheet_name="scenarios").set_index("scenario")
    assert sc.loc["ban", "plan_cost_musd"] == pytest.approx(0.130)      # plan (a) of docs/tiny.md
    assert sc.loc["ban", "regret_musd"] == pytest.approx(0.055)
    assert sc.loc["ban", "plan_shortage_t"] == pytest.approx(100)
    short = pd.read_excel(out, sheet_name="shortage")
    row = short[(short["scenario"] == "ban") & (short["commodity"] == "X")].iloc[0]
    assert row["plan_shortage_t"] == pytest.approx(100) and row["optimum_shortage_t"] == 0
    costs = pd.read_excel(out, sheet_name="costs")
    assert {"plan_musd", "optimum_musd", "difference_musd"} <= set(costs.columns)


def test_infeasible_scenario_is_reported(plans, tmp_path):
    _, _, nothing = plans
    out = tmp_path / "inf.xlsx"
    # without a shortage penalty the ban cannot be met unless something is built
    res = run("stress", TINY, "--plan", nothing, "-o", out, "--set", f"{PEN}=")
    assert res.exit_code == 1
    sc = pd.read_excel(out, sheet_name="scenarios").set_index("scenario")
    assert sc.loc["ban", "plan_status"] == "infeasible" and sc.loc["ban", "optimum_status"] == "optimal"
    assert sc.loc["base", "plan_status"] == "optimal"
    inf = pd.read_excel(out, sheet_name="infeasible")
    assert (inf["scenario_solved"] == "ban").all() and len(inf)


def test_plan_from_another_workbook_unknown_items_are_reported(tmp_path):
    other = write_book(tmp_path / "other.xlsx", {
        "settings": {"start_year": 2026, "end_year": 2028, "discount_rate": 0},
        "members": [{"member": "A"}, {"member": "B"}],
        "commodities": [{"commodity": "X", "shortage_penalty_usd_per_t": 1000}],
        "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 300}],
        "demand": [{"member": "B", "commodity": "X", "year": 2026, "demand_t": 50},
                   {"member": "A", "commodity": "X", "year": 2028, "demand_t": 500}],
        "suppliers": [{"supplier": "CHN", "commodity": "X", "country_of_concern": True}],
        "processes": [{"process": "PLANT", "member": "A", "output": "X", "variable_cost_usd_per_t": 100,
                       "module_tpa": 100, "capex_musd_per_module": 0.01, "lead_time_years": 0,
                       "first_build_year": 2027, "lifetime_years": 5},
                      {"process": "PLANT_B", "member": "B", "output": "X", "variable_cost_usd_per_t": 100,
                       "module_tpa": 50, "max_modules": 1, "capex_musd_per_module": 0.001, "lifetime_years": 5}],
    })
    plan = solve_file(str(other), out=str(tmp_path / "other.results.xlsx")).out
    inv = pd.read_excel(plan, sheet_name="investments")
    assert {"PLANT", "PLANT_B"} <= set(inv["item"])
    out = tmp_path / "x.xlsx"
    res = run("stress", TINY, "--plan", plan, "-o", out)
    assert res.exit_code == 0, res.output
    rep = pd.read_excel(out, sheet_name="plan")
    why = dict(zip(rep["item"] + " " + rep["build_year"].astype(str), rep["note"].fillna("")))
    assert "no process 'PLANT_B'" in why["PLANT_B 2026"]
    assert any("outside the input's build years 2026-2026" in v for k, v in why.items() if k.startswith("PLANT "))
    assert "plan item ignored" in res.output
    assert len(pd.read_excel(out, sheet_name="scenarios")) == 2


def test_plan_to_fixed_keys():
    data = read_workbook(str(TINY))
    inv = pd.DataFrame([
        {"kind": "process modules", "item": "PLANT", "build_year": 2026, "quantity": 1.0000001},
        {"kind": "stockpile capacity", "item": "A/X", "member": "A", "commodity": "X", "build_year": 2027,
         "quantity": 40},
        {"kind": "offtake signed", "item": "NOPE", "build_year": 2026, "quantity": 1},
        {"kind": "rocket", "item": "R", "build_year": 2026, "quantity": 1},
    ])
    fixed, rep = plan_to_fixed(inv, data)
    assert fixed == {("build", "PLANT", 2026): 1.0, ("stock_build", "A", "X", 2027): 40.0}
    assert list(rep["status"]) == ["applied", "applied", "ignored", "ignored"]
    assert "unknown kind" in rep["note"].iloc[3]


def test_bad_plan(tmp_path):
    res = run("stress", TINY, "--plan", TINY, "-o", tmp_path / "x.xlsx")
    assert res.exit_code == 1 and "not a results workbook" in res.output
    res = run("stress", TINY, "--plan", tmp_path / "none.xlsx", "-o", tmp_path / "x.xlsx")
    assert res.exit_code == 1 and "file not found" in res.output
