"""Warm starts, --no-duals and the solver-tolerance marks of compare and sweep (issue 18)."""
import math

import pandas as pd
import pytest
from cflp_case import cflp
from modelkit import solve_book, write_book

from planner.input.load import load
from planner.model.build import build
from planner.model.prepare import prepare
from planner.model.warmstart import plan_from_investments, plan_of, start_columns
from planner.solver.highs import solve_ctx
from planner.workflows import batch
from planner.workflows.batch import PREVIOUS, Task
from planner.workflows.compare import headline_frame
from planner.workflows.sweep import (
    TOLERANCE_NOTE,
    add_tolerance_columns,
    within_tolerance,
)


def _ctx(tmp_path):
    p = write_book(tmp_path / "c.xlsx", cflp())
    return build(prepare(load(str(p), {}))), p


def test_plan_of_a_solve_and_of_its_investments_table_agree(tmp_path):
    oc = solve_book(tmp_path, cflp(), plain=False)
    ctx, _ = _ctx(tmp_path)
    res = solve_ctx(ctx)
    assert plan_of(ctx, res) == {("build", "PW1", 2026): 1.0} == plan_from_investments(oc.tables["investments"])


@pytest.mark.parametrize("plan", [{("build", "PW1", 2026): 1.0},        # the optimum (hand-computed: 6.5)
                                  {("build", "PW2", 2026): 1.0},        # feasible, worse (7.0)
                                  {}])                                  # no module: infeasible, dropped
def test_a_start_never_changes_the_answer(tmp_path, plan):
    ctx, _ = _ctx(tmp_path)
    res = solve_ctx(ctx, start=plan or {("build", "PW1", 2026): 0.0})
    assert res.status == "optimal" and res.objective == pytest.approx(6.5, abs=1e-9)


def test_start_columns_name_integer_columns_and_refuse_another_network(tmp_path):
    ctx, _ = _ctx(tmp_path)
    idx, vals = start_columns(ctx, {("build", "PW2", 2026): 1.0, ("stock_build", "W1", "G", 2026): 5.0})
    assert sorted(zip(idx.tolist(), vals.tolist())) == sorted([(ctx.B[("PW1", 2026)], 0.0),
                                                               (ctx.B[("PW2", 2026)], 1.0)])
    assert start_columns(ctx, {("build", "ELSEWHERE", 2026): 1.0}) is None
    assert start_columns(ctx, None) is None


def test_serial_tasks_pass_the_previous_plan(monkeypatch):
    seen = []

    class Oc:
        def __init__(self, plan):
            self.plan = plan

    def fake(task):
        seen.append(task.start)
        return Oc({("build", task.path, 2026): 1.0})

    class Bar:
        def update(self, **kw):
            pass

        def done(self, oc):
            pass

    monkeypatch.setattr(batch, "run_task", fake)
    tasks = [Task(path="a"), Task(path="b", start=PREVIOUS), Task(path="c", start={("signed", "x"): 1.0})]
    batch._run_serial(tasks, [None] * 3, Bar())
    assert seen == [None, {("build", "a", 2026): 1.0}, {("signed", "x"): 1.0}]


def test_no_duals_leaves_prices_blank_and_says_so(tmp_path):
    oc = solve_book(tmp_path, cflp(), plain=False, duals=False, keep=True)
    assert oc.objective == pytest.approx(6.5, abs=1e-9)
    prices = oc.tables["prices"]
    assert len(prices) and prices["marginal_cost_usd_per_t"].isna().all()
    assert any(k == "duals" and "--no-duals" in v for k, v in oc.summary_extra)
    with_duals = solve_book(tmp_path, cflp(), plain=False)
    assert with_duals.tables["prices"]["marginal_cost_usd_per_t"].notna().all()


# ------------------------------------------------------------------ solver tolerance
def test_within_tolerance():
    assert within_tolerance(0.5, 0.3, 0.3)
    assert not within_tolerance(0.7, 0.3, 0.3)
    assert not within_tolerance(0.0, 0.3, 0.3)       # no difference: nothing to mark
    assert not within_tolerance(float("nan"), 1, 1)
    assert within_tolerance(-0.1, float("nan"), 0.2)  # a missing gap counts as 0


def test_sweep_marks_changes_within_the_combined_gaps():
    df = pd.DataFrame({"point": [1, 2, 3], "objective_musd": [100.0, 100.4, 103.0],
                       "mip_gap_musd": [0.25, 0.25, 0.1], "expected_cost_musd": [100.0, 100.4, 103.0]})
    add_tolerance_columns(df)
    assert math.isnan(df["objective_change_musd"][0])
    assert df["objective_change_musd"][1:].tolist() == pytest.approx([0.4, 2.6])
    assert df["change_note"][1].startswith(TOLERANCE_NOTE) and df["change_note"][2] == ""
    assert list(df.columns).index("change_note") == list(df.columns).index("expected_cost_musd") + 2


def test_compare_marks_money_differences_within_the_combined_gaps():
    def book(obj, gap_musd):
        return {"summary": pd.DataFrame({"key": ["objective_musd", "mip_gap_musd", "modules_built"],
                                         "value": [obj, gap_musd, 3]})}

    head = headline_frame([book(100.0, 0.2), book(100.3, 0.2), book(101.0, 0.2)], ["A", "B", "C"], 1e-6, 0.0)
    row = head[head["figure"] == "objective_musd"].iloc[0]
    assert row["note B−A"].startswith(TOLERANCE_NOTE)
    assert row["note C−A"] == ""
    assert row["Δ B−A"] == pytest.approx(0.3)  # the number stays; the note says what it is
    assert head[head["figure"] == "modules_built"].iloc[0]["note B−A"] == ""


@pytest.mark.parametrize("cmd", ["solve", "sweep", "stress"])
def test_no_duals_option_is_documented(cmd):
    from conftest import run_cli

    res = run_cli(cmd, "--help")
    assert res.exit_code == 0 and "--no-duals" in res.output


def test_cli_solve_no_duals(tmp_path):
    from conftest import run_cli

    p = write_book(tmp_path / "c.xlsx", cflp())
    res = run_cli("solve", p, "-o", tmp_path / "r.xlsx", "--no-duals")
    assert res.exit_code == 0, res.output
    s = pd.read_excel(tmp_path / "r.xlsx", sheet_name="summary", engine="openpyxl")
    row = dict(zip(s["key"], s["value"]))
    assert "--no-duals" in row["duals"] and row["objective_musd"] == pytest.approx(6.5, abs=1e-9)


def test_compare_terminal_shows_tolerance_marks(capsys):
    from planner.workflows.compare import print_compare

    def book(obj):
        return {"summary": pd.DataFrame({"key": ["objective_musd", "mip_gap_musd"], "value": [obj, 0.2]})}

    head = headline_frame([book(100.0), book(100.3)], ["A", "B"], 1e-6, 0.0)
    print_compare(head, [], [], ["A", "B"], 1e-6)
    out = capsys.readouterr().out
    assert "≈+0.3" in out and TOLERANCE_NOTE in out
