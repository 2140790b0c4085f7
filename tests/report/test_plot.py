"""Charts (issue 4.5): the native `charts` sheet of every results workbook and `planner plot` PNGs."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.report.charts import base_scenario, chart_data
from planner.cli import main
from planner.report.plot import free_png, read_for_charts, scenarios_of
from planner.workflows.run import solve_file

TINY = Path("inputs/tiny.xlsx")
PNG = b"\x89PNG\r\n\x1a\n"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    d = tmp_path_factory.mktemp("plot")
    return solve_file(str(TINY), out=str(d / "tiny.results.xlsx")).out


def test_results_workbook_has_native_charts(tiny_results):
    with zipfile.ZipFile(tiny_results) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    # cost by category, cost by scenario, capacity of X by member, supply mix of X, dependence of X
    assert len(charts) == 5
    book = pd.read_excel(tiny_results, sheet_name=None, header=None)
    assert {"charts", "chart_data"} <= set(book)
    text = book["chart_data"].astype(str).to_string()
    assert "Capacity: X (t/yr, by member)" in text and "Supply of X, scenario base (t)" in text
    assert "Dependence share: X" in text


def test_chart_data_from_the_results(tiny_results):
    sheets, scen, prob = read_for_charts(tiny_results)
    assert scen == ["base", "ban"] and prob == [0.5, 0.5]
    data = chart_data(sheets, scen, prob)
    assert data["base"] == "base"
    cap = data["capacity"]["X"]
    assert list(cap["year"]) == [2026, 2027] and list(cap["A"]) == [0, 100]          # the plant, online 2027
    mix = data["mix"]["X"].set_index("year")
    assert mix.loc[2026, "concern_imports_t"] == 100 and mix.loc[2027, "domestic_output_t"] == 100
    dep = data["dependence"]["X"].set_index("year")
    assert dep.loc[2026, "share_base"] == 1 and dep.loc[2027, "share_base"] == 0
    exp = data["cost"].set_index("category")["expected_cost_musd"]
    assert exp.sum() == pytest.approx(0.075)


def test_base_scenario_and_scenario_parsing():
    assert base_scenario(["a", "base"], [0.9, 0.1]) == "base"
    assert base_scenario(["a", "b"], [0.3, 0.7]) == "b"
    summ = pd.DataFrame({"key": ["scenarios"], "value": ["base (0.4), price (x, y) (0.35), ban (0.25)"]})
    assert scenarios_of({"summary": summ}) == (["base", "price (x, y)", "ban"], [0.4, 0.35, 0.25])


def test_plot_writes_pngs_and_never_overwrites(tiny_results, tmp_path):
    out = tmp_path / "png"
    res = run("plot", tiny_results, "-o", out)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["capacity.png", "cost.png", "dependence.png", "supply_mix_base.png"]
    for p in out.iterdir():
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 5000
    res = run("plot", tiny_results, "-o", out)
    assert res.exit_code == 0 and (out / "cost-2.png").exists() and len(list(out.iterdir())) == 8
    assert free_png(out / "cost.png", force=True) == out / "cost.png"
    assert free_png(out / "cost.png", force=False) == out / "cost-3.png"


def test_plot_refuses_an_input_workbook(tmp_path):
    res = run("plot", TINY, "-o", tmp_path / "png")
    assert res.exit_code == 1 and "not a results workbook" in res.output
