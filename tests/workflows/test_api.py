"""The public Python API: planner.solve / planner.read (README, "Python API")."""
from pathlib import Path

import pandas as pd
import pytest

import planner

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def test_solve_returns_status_figures_and_every_table(tmp_path):
    res = planner.solve(TINY)
    # docs/tiny.md solves this case by hand: 0.075 MUSD, the plant built in 2026
    assert res.status == "optimal" and res.ok
    assert res.objective_musd == pytest.approx(0.075, abs=1e-9)
    assert res.gap == pytest.approx(0.0, abs=1e-9) and res.gap_musd == pytest.approx(0.0, abs=1e-9)
    assert {"summary", "investments", "supply", "costs", "prices", "scenario_tree"} <= set(res.tables)
    assert all(isinstance(df, pd.DataFrame) for df in res.tables.values())
    assert res.summary["status"] == "optimal"
    inv = res.tables["investments"]
    assert list(inv["item"]) == ["PLANT"] and int(inv["build_year"].iloc[0]) == 2026
    out = res.write(tmp_path / "r.xlsx")
    book = pd.read_excel(out, sheet_name=None)
    assert float(book["summary"].set_index("key").loc["objective_musd", "value"]) == pytest.approx(0.075)
    assert res.write(tmp_path / "r.xlsx") == tmp_path / "r-2.xlsx"  # an existing file is kept


def test_overrides_and_solver_options_reach_the_model():
    # shortage at 100 USD/t is cheaper than any supply: the plan is to buy nothing
    res = planner.solve(TINY, overrides={"commodities.X.shortage_penalty_usd_per_t": 100}, mip_gap=0,
                        time_limit=60)
    assert res.summary["mip_gap"] == 0 or res.gap == 0
    assert res.tables["supply"]["shortage_t"].sum() == pytest.approx(400)  # 100 t x 2 years x 2 scenarios
    assert float(res.summary["objective_musd"]) == pytest.approx(0.02, abs=1e-9)  # 200 t expected x 100 USD


def test_read_gives_typed_tables_and_refuses_bad_input(tmp_path):
    inp = planner.read(TINY)
    assert inp.settings["start_year"] == 2026
    assert list(inp.tables["members"]["member"]) == ["A"]
    with pytest.raises(planner.InputError) as e:
        planner.read(TINY, overrides={"discount_rate": "fast"})
    assert "discount_rate" in str(e.value.problems[0])


def test_an_infeasible_model_says_why_instead_of_tables():
    res = planner.solve(TINY, overrides={"commodities.X.shortage_penalty_usd_per_t": "", "suppliers.CHN/X.max_tpa": 0,
                                         "processes.PLANT.max_modules": 0})
    assert res.status == "infeasible" and not res.ok
    assert "infeasible" in res.message and res.relaxed is not None and len(res.relaxed)
    with pytest.raises(planner.PlannerError):
        res.write("never.xlsx")
