"""Stress tests follow SPEC §3 "Information": the plan's operations run through all scenarios together,
shared while the scenarios cannot yet be told apart."""
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli
from modelkit import write_book

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from test_information import ban_book  # noqa: E402


def test_the_plan_cannot_see_the_ban_coming(tmp_path):
    # ban_book at foresight 0 (tests/model/test_information.py): no investment to make (the stockpile
    # exists), so the plan is empty.  Run through both scenarios together, the 2027 operations are shared:
    # both fill 100 t in 2027, base costs 301,000 USD and ban 301,000.  Each scenario's own optimum
    # (perfect foresight) costs 300,000 in base and 301,000 in ban: the regret of 0.001 MUSD in base is
    # the price of not knowing, which a scenario-alone re-solve would hide.
    book = write_book(tmp_path / "ban.xlsx", ban_book(foresight_years=0))
    res = run_cli("solve", book, "-o", tmp_path / "plan.xlsx")
    assert res.exit_code == 0, res.output
    out = tmp_path / "st.xlsx"
    res = run_cli("stress", book, "--plan", tmp_path / "plan.xlsx", "-o", out)
    assert res.exit_code == 0, res.output
    sc = pd.read_excel(out, sheet_name="scenarios").set_index("scenario")
    assert sc.loc["base", "plan_cost_musd"] == pytest.approx(0.301, abs=1e-9)
    assert sc.loc["ban", "plan_cost_musd"] == pytest.approx(0.301, abs=1e-9)
    assert sc.loc["base", "optimum_cost_musd"] == pytest.approx(0.300, abs=1e-9)
    assert sc.loc["base", "regret_musd"] == pytest.approx(0.001, abs=1e-9)
    note = pd.read_excel(out, sheet_name="summary").set_index("key").loc["note", "value"]
    assert "together" in note
