"""planner compare (issue 4.2): headline side by side, tables aligned on keys, mismatched workbooks."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from modelkit import write_book
from planner.cli import main
from planner.workflows.run import solve_file

TINY = Path("inputs/tiny.xlsx")


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def duo_book(path):
    """Another small bloc: two members, three years, one scenario, a plant at each member."""
    return write_book(path, {
        "settings": {"start_year": 2026, "end_year": 2028, "discount_rate": 0},
        "members": [{"member": "A"}, {"member": "B"}],
        "commodities": [{"commodity": "X", "shortage_penalty_usd_per_t": 1000}],
        "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 300}],
        "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100},
                   {"member": "B", "commodity": "X", "year": 2026, "demand_t": 50}],
        "suppliers": [{"supplier": "CHN", "commodity": "X", "country_of_concern": True}],
        "processes": [{"process": "PLANT", "member": "A", "output": "X", "variable_cost_usd_per_t": 100,
                       "module_tpa": 100, "max_modules": 1, "capex_musd_per_module": 0.01, "lead_time_years": 1,
                       "lifetime_years": 5},
                      {"process": "PLANT_B", "member": "B", "output": "X", "variable_cost_usd_per_t": 100,
                       "module_tpa": 50, "max_modules": 1, "capex_musd_per_module": 0.005, "lead_time_years": 1,
                       "lifetime_years": 5}],
    })


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    tiny = solve_file(str(TINY), out=str(d / "tiny.results.xlsx")).out
    cheap = solve_file(str(TINY), out=str(d / "cheap.results.xlsx"),
                       overrides={"discount_rate": "0.1"}).out
    duo = solve_file(str(duo_book(d / "duo.xlsx")), out=str(d / "duo.results.xlsx")).out
    return d, tiny, cheap, duo


def test_mismatched_workbooks_compare_without_failing(results):
    d, tiny, _, duo = results
    out = d / "tiny_vs_duo.xlsx"
    res = run("compare", tiny, duo, "-o", out)
    assert res.exit_code == 0, res.output
    # the terminal: headline deltas and notes on what cannot be aligned
    assert "objective_musd" in res.output and "Δ B−A" in res.output
    assert "different scenarios" in res.output and "different members" in res.output
    assert "different years" in res.output
    book = pd.read_excel(out, sheet_name=None)
    assert {"headline", "tables", "notes", "files", "supply", "costs", "investments"} <= set(book)
    head = book["headline"].set_index("figure")
    assert head.loc["objective_musd", "A: tiny"] == pytest.approx(0.075)
    assert head.loc["objective_musd", "Δ B−A"] == pytest.approx(
        head.loc["objective_musd", "B: duo"] - head.loc["objective_musd", "A: tiny"])
    sup = book["supply"]
    assert set(sup["rows"]) <= {"both", "only in A", "only in B"}
    assert (sup[sup["member"] == "B"]["rows"] == "only in B").all()          # B exists only in duo
    assert (sup[sup["year"] == 2028]["rows"] == "only in B").all()
    inv = book["investments"]
    assert "PLANT_B" in set(inv["item"])
    notes = book["notes"]
    assert (notes["issue"] == "different members").any()


def test_same_input_other_setting_differences_and_tolerance(results):
    d, tiny, cheap, _ = results
    out = d / "disc.xlsx"
    res = run("compare", tiny, cheap, "-o", out)
    assert res.exit_code == 0, res.output
    book = pd.read_excel(out, sheet_name=None)
    costs = book["costs"]
    # discounting at 10 % lowers the 2027 costs; the 2026 imports are unchanged and hidden (within --tol)
    assert len(costs) and (costs["rows"] == "both").all()
    assert "Δ cost_musd B−A" in costs.columns and "% cost_musd B−A" in costs.columns
    assert (costs["Δ cost_musd B−A"].abs() > 1e-6).all()
    sup = book["supply"]
    # same physical plan: nothing shown, except that HiGHS may return the degenerate alternative optimum
    # of filling and drawing the same tonnes in one year (net zero, no cost): then exactly that pair differs
    if len(sup):
        delta = {c[len("Δ "):-len(" B−A")]: sup[c] for c in sup.columns if c.startswith("Δ ")}
        assert set(delta) <= {"stock_fill_t", "stock_draw_t"}, set(delta)
        assert (delta.get("stock_fill_t", 0) - delta.get("stock_draw_t", 0)).abs().max() < 1e-6
    tables = book["tables"].set_index("table")
    assert tables.loc["supply", "hidden"] + len(sup) == tables.loc["supply", "rows"]
    # changed cells are highlighted with conditional formats (no formulas in cells)
    ws = openpyxl.load_workbook(out)["costs"]
    assert len(ws.conditional_formatting) >= 1
    # a large tolerance hides every cost difference
    res = run("compare", tiny, cheap, "-o", d / "disc_tol.xlsx", "--tol", "1")
    assert res.exit_code == 0
    assert not len(pd.read_excel(d / "disc_tol.xlsx", sheet_name="costs"))
    # never overwrite silently
    res = run("compare", tiny, cheap, "-o", out)
    assert (d / "disc-2.xlsx").exists()


def test_three_workbooks(results):
    d, tiny, cheap, duo = results
    res = run("compare", tiny, cheap, duo, "-o", d / "three.xlsx")
    assert res.exit_code == 0, res.output
    head = pd.read_excel(d / "three.xlsx", sheet_name="headline")
    assert {"Δ B−A", "Δ C−A", "% C−A"} <= set(head.columns)
    sup = pd.read_excel(d / "three.xlsx", sheet_name="supply")
    assert "only in C" in set(sup["rows"])


def test_not_a_results_workbook(results, tmp_path):
    d, tiny, _, _ = results
    res = run("compare", tiny, TINY, "-o", tmp_path / "x.xlsx")
    assert res.exit_code == 1 and "not a results workbook" in res.output and "solve it first" in res.output
    res = run("compare", tiny, tmp_path / "missing.xlsx", "-o", tmp_path / "x.xlsx")
    assert res.exit_code == 1 and "file not found" in res.output
    assert run("compare", tiny, "-o", tmp_path / "x.xlsx").exit_code == 2
