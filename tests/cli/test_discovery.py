"""Discovery (issue 16 item 4): planner info, did-you-mean suggestions, --overrides FILE.yaml, planner example."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.common.problems import PlannerError
from planner.common.suggest import close, did_you_mean
from planner.input.override_files import merge_overrides, read_override_file
from planner.input.overrides import check_override_keys
from planner.workflows.examples import shipped
from planner.workflows.info import every_key, gather, periods

TINY = Path("inputs/tiny.xlsx")
PEN = "commodities.X.shortage_penalty_usd_per_t"


def run(*args, columns=80):
    res = CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": str(columns)})
    assert "Traceback" not in res.output, res.output
    return res


# ------------------------------------------------------------------ planner info
def test_info_shows_members_commodities_scenarios_tree_settings_and_keys():
    res = run("info", TINY)
    assert res.exit_code == 0, res.output
    out = res.output
    for words in ("1 member(s), 1 commodities, 2 scenario(s)", "Member A", "Metal X", "1,000",
                  "CHN supplies nothing in 2027", "derived from the data, foresight_years 0",
                  "2026      one node: {base, ban}", "2027      2 nodes: {base}  {ban}",
                  "discount_rate", "time_limit_s", "--set commodities.X.floor_price_usd_per_t=",
                  "demand.ROW.COLUMN: ROW is the member/commodity/year", "A/X/2026,\n      A/X/2027"):
        assert words in out, words
    # the tables fit 80 columns
    assert max(len(line) for line in out.splitlines() if line[:1] in "┏┃┡│└") <= 80


def test_info_settings_say_value_and_default():
    info = gather(str(TINY))
    s = info.settings.set_index("setting")
    assert s.loc["discount_rate", "value"] == "0" and s.loc["discount_rate", "default"] == "0.05"
    assert s.loc["risk_aversion", "value"] == "" and s.loc["risk_aversion", "default"] == "0"  # default holds
    assert s.loc["base_year", "default"] == "settings start_year"
    info = gather(str(TINY), {"risk_aversion": "0.5"})
    assert info.settings.set_index("setting").loc["risk_aversion", "value"] == "0.5 (--set)"


def test_info_keys_lists_every_key_and_each_is_accepted():
    res = run("info", TINY, "--keys")
    assert res.exit_code == 0, res.output
    keys = res.output.split()
    assert keys[:2] == ["start_year", "end_year"]
    for k in (PEN, "demand.A/X/2027.demand_t", "suppliers.CHN/X.max_tpa", "disruptions.3.available_share",
              "scenarios.ban.probability"):
        assert k in keys, k
    assert keys == every_key(gather(str(TINY)))
    assert check_override_keys(str(TINY), keys) == []          # every listed key is one --set takes


def test_tree_derived_with_foresight_and_explicit():
    # foresight_years 1: base and ban first differ in 2027, so they part already in 2026 (t < 2027 - 1)
    info = gather(str(TINY), {"foresight_years": "1"})
    assert info.tree_kind == "derived" and [len(g) for _, _, g in info.periods] == [2]
    assert info.periods[0][:2] == (2026, 2027)
    # explicit: ban branches from base in 2027 by the analyst's word
    info = gather(str(TINY), {"scenarios.ban.parent": "base", "scenarios.ban.branch_year": "2027"})
    assert info.tree_kind == "explicit"
    assert info.periods == [(2026, 2026, [["base", "ban"]]), (2027, 2027, [["base"], ["ban"]])]
    res = run("info", TINY, "--set", "scenarios.ban.parent=base", "--set", "scenarios.ban.branch_year=2027")
    assert "explicit: the scenarios sheet's parent and branch_year" in res.output
    assert "parent" in res.output and "branch year" in res.output


def test_periods_groups_years_with_the_same_nodes():
    # hand-made rep: 3 scenarios, 4 years; all together, then {0,1}{2}, then each alone
    rep = np.array([[0, 0, 0], [0, 0, 2], [0, 0, 2], [0, 1, 2]])
    got = periods(rep, [2030, 2031, 2032, 2033], ["a", "b", "c"])
    assert got == [(2030, 2030, [["a", "b", "c"]]), (2031, 2032, [["a", "b"], ["c"]]),
                   (2033, 2033, [["a"], ["b"], ["c"]])]


@pytest.mark.slow
def test_info_default_is_the_shipped_example_and_bad_input_is_one_clear_error(tmp_path):
    res = run("info")
    assert res.exit_code == 0, res.output
    assert "8 member(s), 13 commodities, 4 scenario(s)" in res.output
    res = run("info", tmp_path / "missing.xlsx")
    assert res.exit_code == 1 and "not found" in res.output.lower()


def test_the_default_input_is_the_packaged_example():
    import planner
    from planner.cli import default_input

    assert Path(default_input()) == Path(planner.__file__).parent / "data" / "bloc_example.xlsx"
    assert Path(default_input()).is_file()


# ------------------------------------------------------------------ did you mean
def test_close_and_did_you_mean():
    assert close("UAS", ["USA", "EU", "JPN"]) == ["USA"]
    assert close("usa", ["USA", "EU"]) == ["USA"]                     # case alone is close
    assert did_you_mean("exportban", ["base", "export_ban"]) == " (did you mean 'export_ban'?)"
    assert did_you_mean("zzz", ["base"]) == ""


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    from conftest import valid_book, write_book

    return write_book(tmp_path_factory.mktemp("book") / "book.xlsx", valid_book())   # members USA, EU ...


@pytest.mark.parametrize("key, hint", [
    ("discount_rat", "did you mean 'discount_rate'"),
    ("members.UAS.burden_share", "did you mean 'USA'"),
    ("comodities.oxide.floor_price_usd_per_t", "did you mean 'commodities'"),
    ("commodities.oxide.floor_price", "did you mean 'floor_price_usd_per_t'"),
    ("suppliers.CHN/oxid.tariff_usd_per_t", "did you mean 'CHN/oxide'"),
    ("market_prices.ore/2052.price_usd_per_t", "did you mean 'ore/2025'"),
])
def test_misspelt_keys_get_a_suggestion(small_book, key, hint):
    msgs = check_override_keys(small_book, [key])
    assert len(msgs) == 1 and hint in msgs[0], msgs


def test_misspelt_key_on_the_command_line(small_book):
    res = run("info", small_book, "--set", "members.UAS.burden_share=1")
    assert res.exit_code == 1 and "did you mean 'USA'" in res.output, res.output


def test_misspelt_scenario_gets_a_suggestion(tmp_path):
    res = run("solve", TINY, "--scenario", "bann", "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 1 and "did you mean 'ban'?" in res.output, res.output
    assert not (tmp_path / "r.xlsx").exists()


def test_misspelt_scenario_in_sweep_is_reported_before_solving(tmp_path):
    res = run("sweep", TINY, "--scenario", "bann", "--set", "discount_rate=0,0.1", "-o", tmp_path / "sw")
    assert res.exit_code == 1 and "did you mean 'ban'?" in res.output, res.output
    assert not (tmp_path / "sw").exists()


@pytest.mark.slow
def test_misspelt_scenario_in_stress(tmp_path):
    from planner.workflows.run import solve_file

    plan = solve_file(str(TINY), out=str(tmp_path / "plan.xlsx")).out
    res = run("stress", TINY, "--plan", plan, "--scenario", "bse", "-o", tmp_path / "st.xlsx")
    assert res.exit_code == 1 and "did you mean 'base'?" in res.output, res.output


# ------------------------------------------------------------------ --overrides FILE.yaml
def test_override_file_flat_and_nested(tmp_path):
    f = tmp_path / "o.yaml"
    f.write_text("# a scenario of settings\ndiscount_rate: 0.03\ncommodities:\n  X:\n    shortage_penalty_usd_per_t: 200\n"
                 "suppliers.CHN/X.border_adjusted: true\nmembers.A.fiscal_budget_musd:\n")
    assert read_override_file(f) == {"discount_rate": 0.03, PEN: 200, "suppliers.CHN/X.border_adjusted": "TRUE",
                                     "members.A.fiscal_budget_musd": ""}
    assert merge_overrides([f], {"discount_rate": "0.07"})["discount_rate"] == "0.07"   # --set wins


@pytest.mark.parametrize("text, words", [
    ("discount_rate: [0.03, 0.05]", "must be one value"),
    ("a: 1\n  b: : 2", "line 2"),
    ("- discount_rate: 0.03", "a mapping of KEY: VALUE"),
    ("x: 1\nx: 2", None),
])
def test_bad_override_files_are_one_clear_error(tmp_path, text, words):
    f = tmp_path / "o.yaml"
    f.write_text(text)
    if words is None:       # YAML keeps the last of a repeated key; nothing to report
        assert read_override_file(f) == {"x": 2}
        return
    with pytest.raises(PlannerError, match=words) as e:
        read_override_file(f)
    assert str(f) in str(e.value)
    with pytest.raises(PlannerError, match="not found"):
        read_override_file(tmp_path / "nope.yaml")


@pytest.mark.slow
def test_solve_with_an_override_file_and_set_on_top(tmp_path):
    f = tmp_path / "cheap_shortage.yaml"
    f.write_text(f"{PEN}: 200\n")
    # hand-computed in docs/tiny.md terms: shortage at 200 USD/t is cheaper than building (objective 0.04
    # MUSD); at the sheet's 1000 USD/t the plant is built (0.075 MUSD)
    res = run("solve", TINY, "--overrides", f, "-o", tmp_path / "a.xlsx")
    assert res.exit_code == 0 and "0.040" in res.output, res.output
    res = run("solve", TINY, "--overrides", f, "--set", f"{PEN}=1000", "-o", tmp_path / "b.xlsx")
    assert res.exit_code == 0 and "0.075" in res.output, res.output
    f.write_text("shortage_penalty: 200\n")
    res = run("solve", TINY, "--overrides", f, "-o", tmp_path / "c.xlsx")
    assert res.exit_code == 1 and "did you mean 'shortage_penalty_usd_per_t'?" in res.output, res.output


@pytest.mark.slow
def test_sweep_with_an_override_file(tmp_path):
    import pandas as pd

    f = tmp_path / "o.yaml"
    f.write_text(f"{PEN}: 200\n")
    res = run("sweep", TINY, "--overrides", f, "--set", "discount_rate=0,0.1", "-o", tmp_path / "sw")
    assert res.exit_code == 0, res.output
    pts = pd.read_excel(tmp_path / "sw" / "sweep_summary.xlsx", sheet_name="points")
    assert pts["objective_musd"].iloc[0] == pytest.approx(0.04)      # the file's penalty at every point
    f.write_text("commodities.Y.shortage_penalty_usd_per_t: 1\n")
    res = run("sweep", TINY, "--overrides", f, "--set", "discount_rate=0,0.1", "-o", tmp_path / "sw2")
    assert res.exit_code == 1 and "no row 'Y'" in res.output and not (tmp_path / "sw2").exists()


# ------------------------------------------------------------------ planner example
def test_example_copies_and_refuses_to_overwrite(tmp_path):
    res = run("example", tmp_path / "ex")
    assert res.exit_code == 0, res.output
    for name in ("bloc_example.xlsx", "tiny.xlsx"):
        assert (tmp_path / "ex" / name).read_bytes() == shipped(name).read_bytes()
    (tmp_path / "ex" / "tiny.xlsx").write_bytes(b"my edits")
    res = run("example", tmp_path / "ex")
    assert res.exit_code == 1 and "already exist" in res.output and "--force" in res.output
    assert (tmp_path / "ex" / "tiny.xlsx").read_bytes() == b"my edits"
    res = run("example", tmp_path / "ex", "--force")
    assert res.exit_code == 0 and (tmp_path / "ex" / "tiny.xlsx").read_bytes() == shipped("tiny.xlsx").read_bytes()
    (tmp_path / "file").write_text("x")
    res = run("example", tmp_path / "file")
    assert res.exit_code == 1 and "is a file" in res.output
