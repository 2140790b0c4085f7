"""Explanations where results surprise (issue 16 item 7): the summary's floor_note, and compare saying in words
that two runs differ in plan but not in cost.

The results folders below are written by hand (planner.report.formats.write_folder), so the figures are
known exactly: two plans of objective 100 MUSD, one building 2 modules and one 3.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from planner.report.formats import write_folder
from planner.report.notes import floor_note
from planner.workflows.compare import compare
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def _d(mode, floor=None, budget=None):
    return SimpleNamespace(settings={"objective": mode},
                           commodities={"X": {"floor_price_usd_per_t": floor}, "Y": {"floor_price_usd_per_t": None}},
                           budget=budget or {})


def test_floor_note_says_what_a_floor_does_in_each_mode():
    res = floor_note(_d("resource", floor=80000.0, budget={"USA": 100.0}))
    assert res.startswith("Floor prices are set for X.") and "transfer" in res and "not a cost" in res
    assert "set here for USA" in res
    assert "none set in this input" in floor_note(_d("resource", floor=80000.0))
    mk = floor_note(_d("market", floor=float("nan")))
    assert mk.startswith("No commodity has a floor price") and "subtracted from the cost" in mk
    assert "Offtake floor prices are contract prices" in mk


def test_summary_has_the_floor_note(tmp_path):
    oc = solve_file(str(TINY), out=str(tmp_path), fmt="csv")
    import json

    s = json.loads((Path(oc.out) / "summary.json").read_text())
    assert "resource mode" in s["floor_note"] and list(s).index("floor_note") < list(s).index("objective_mode")


def _run(folder: Path, modules: float, objective: float, mode: str = "resource", support: float = 5.0,
         gap: float = 0.0) -> Path:
    summary = pd.DataFrame({"key": ["status", "objective_musd", "mip_gap", "objective_mode"],
                            "value": pd.Series(["optimal", objective, gap, mode], dtype=object)})
    inv = pd.DataFrame({"kind": ["process modules"], "item": ["PLANT"], "build_year": [2026],
                        "quantity": [modules], "cost_musd": [10.0]})
    fiscal = pd.DataFrame({"member": ["A"], "scenario": ["base"], "floor_support_share_musd": [support]})
    return write_folder(folder, {"summary": summary, "investments": inv, "fiscal": fiscal}, "csv")


def _notes(tmp_path, a, b):
    _, _, _, notes, _, _ = compare([str(a), str(b)], str(tmp_path / "c.xlsx"))
    return [n for n in notes if n[1] == "plan differs, cost does not"]


def test_compare_explains_a_plan_that_differs_at_the_same_cost(tmp_path):
    a = _run(tmp_path / "a.results", modules=2, objective=100.0, support=5.0)
    b = _run(tmp_path / "b.results", modules=3, objective=100.0, support=9.0)  # a floor moved: support changed
    notes = _notes(tmp_path, a, b)
    assert len(notes) == 1
    text = notes[0][2]
    assert "investments" in text and "fiscal" in text and "not in objective (100.000 MUSD)" in text
    assert "resource mode floor support and tariffs are transfers" in text and "see the fiscal sheet" in text
    book = pd.read_excel(tmp_path / "c.xlsx", sheet_name="notes")
    assert (book["issue"] == "plan differs, cost does not").any()


def test_no_explanation_when_the_cost_differs_or_nothing_differs(tmp_path):
    a = _run(tmp_path / "a.results", modules=2, objective=100.0)
    b = _run(tmp_path / "b.results", modules=3, objective=101.0)
    assert _notes(tmp_path, a, b) == []
    c = _run(tmp_path / "c.results", modules=2, objective=100.0)
    assert _notes(tmp_path, a, c) == []


def test_within_the_mip_gap_counts_as_the_same_cost(tmp_path):
    # 100 vs 100.05 MUSD with gaps of 0.1 %: 0.05 <= 0.001 x 100 = 0.1
    a = _run(tmp_path / "a.results", modules=2, objective=100.0, gap=0.001, mode="market")
    b = _run(tmp_path / "b.results", modules=3, objective=100.05, gap=0.001, mode="market")
    notes = _notes(tmp_path, a, b)
    assert len(notes) == 1 and "no more than the MIP gap" in notes[0][2] and "market" in notes[0][2]
    assert "transfers" not in notes[0][2]
    d = _run(tmp_path / "d.results", modules=3, objective=100.2, gap=0.001, mode="market")
    assert _notes(tmp_path, a, d) == []


@pytest.mark.parametrize("bad", ["summary.json"])
def test_a_folder_without_summary_is_one_clear_error(tmp_path, bad):
    from planner.common.problems import PlannerError

    a = _run(tmp_path / "a.results", modules=2, objective=100.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlannerError, match="not a results folder"):
        compare([str(a), str(tmp_path / "empty")], str(tmp_path / "c.xlsx"))
    (a / bad).write_text("{not json")
    with pytest.raises(PlannerError, match="cannot be read"):
        compare([str(a), str(a)], str(tmp_path / "c2.xlsx"))
