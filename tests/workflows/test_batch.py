"""Batch solves (issue 4.4): parallel processes, Dask, failing inputs, Ctrl-C, names never overwritten;
and the cell overrides (sheet.key.column) shared by batch, sweep and stress."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelkit import write_book
from planner.workflows import batch
from planner.input.load import load_input
from planner.input.overrides import apply_cells
from planner.workflows.batch import Task, reserve_names, run_batch, run_tasks
from planner.cli import main
from planner.common.problems import InputError

TINY = Path("inputs/tiny.xlsx")


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def infeasible_book(path):
    """No shortage allowed, the only supplier banned in 2027 and nothing to build: infeasible."""
    return write_book(path, {
        "settings": {"start_year": 2026, "end_year": 2027, "discount_rate": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "X"}],
        "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 300}],
        "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "X", "country_of_concern": True}],
        "scenarios": [{"scenario": "ban", "probability": 1}],
        "disruptions": [{"scenario": "ban", "supplier": "CHN", "from_year": 2027, "to_year": 2027,
                         "available_share": 0}],
    })


def sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


@pytest.fixture
def inputs(tmp_path):
    good = tmp_path / "good.xlsx"
    shutil.copy(TINY, good)
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    inf = infeasible_book(tmp_path / "infeasible.xlsx")
    return good, bad, inf


def test_parallel_batch_one_failing_input_never_stops_the_others(inputs, tmp_path):
    good, bad, inf = inputs
    out = tmp_path / "res"
    res = run("solve", good, bad, inf, "-o", out, "--jobs", "2")
    assert res.exit_code == 1
    # the final table lists every input with its status
    for name, status in (("good.xlsx", "optimal"), ("bad.xlsx", "invalid"), ("infeasible.xlsx", "infeasible")):
        assert name in res.output and status in res.output
    assert "2 failed" in res.output
    assert "not an .xlsx workbook" in res.output            # the invalid input's message
    assert "the model is infeasible" in res.output          # the elastic explanation comes back from the worker
    assert (out / "good.results.xlsx").exists()
    assert not (out / "bad.results.xlsx").exists() and not (out / "infeasible.results.xlsx").exists()
    assert not list(out.glob(".*tmp*"))                     # no half-written file left behind


def test_table_names_inputs_by_the_shortest_distinct_part_of_their_paths():
    from planner.workflows.batch import short_labels

    assert short_labels(["/long/tmp/x/good.xlsx", "/long/tmp/x/bad.xlsx"]) == ["good.xlsx", "bad.xlsx"]
    assert short_labels(["/r/a/tiny.xlsx", "/r/b/tiny.xlsx", "/r/c.xlsx"]) == ["a/tiny.xlsx", "b/tiny.xlsx",
                                                                             "r/c.xlsx"]
    assert short_labels(["in.xlsx", "in.xlsx"]) == ["in.xlsx", "in.xlsx"]   # the same file twice stays itself
    assert short_labels([]) == []


def test_names_are_reserved_never_overwritten(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(TINY, a / "tiny.xlsx")
    shutil.copy(TINY, b / "tiny.xlsx")
    out = tmp_path / "res"
    out.mkdir()
    (out / "tiny.results.xlsx").write_text("earlier results")
    ocs = run_batch([str(a / "tiny.xlsx"), str(b / "tiny.xlsx")], out=str(out), progress=False)
    assert [oc.status for oc in ocs] == ["optimal", "optimal"]
    assert sorted(p.name for p in out.iterdir()) == ["tiny.results-2.log", "tiny.results-2.xlsx",  # log: issue 16
                                                     "tiny.results-3.log", "tiny.results-3.xlsx",
                                                     "tiny.results.xlsx"]
    assert (out / "tiny.results.xlsx").read_text() == "earlier results"
    # --force: the existing name is reused, but two inputs of one batch still never share a file
    names = reserve_names([out / "tiny.results.xlsx", out / "tiny.results.xlsx"], force=True)
    assert [p.name for p in names] == ["tiny.results.xlsx", "tiny.results-2.xlsx"]
    assert ocs[0].objective == pytest.approx(0.075) and ocs[0].headline["modules_built"] == 1
    assert ocs[0].tables == {}                              # tables dropped unless asked for


def test_ctrl_c_keeps_finished_results_and_says_what_did_not_run(inputs, tmp_path, monkeypatch):
    good, bad, _ = inputs
    calls = []
    real = batch.run_task

    def flaky(task):
        calls.append(task.path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(batch, "run_task", flaky)
    g2 = tmp_path / "g2.xlsx"
    shutil.copy(TINY, g2)
    out = tmp_path / "res"
    res = run("solve", good, g2, bad, "-o", out, "--jobs", "1")
    assert res.exit_code == 130
    assert "interrupted" in res.output and "not run" in res.output
    assert (out / "good.results.xlsx").exists()             # the finished one is kept
    assert not (out / "g2.results.xlsx").exists()
    assert "did not run to the end: " in res.output and "bad.xlsx" in res.output


def test_ctrl_c_in_a_process_pool(inputs, tmp_path, monkeypatch):
    good, bad, _ = inputs

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "wait", interrupt)
    tasks = [Task(str(good), out=str(tmp_path / "a.xlsx")), Task(str(bad), out=str(tmp_path / "b.xlsx"))]
    ocs = run_tasks(tasks, jobs=2, progress=False)
    assert len(ocs) == 2
    assert {oc.status for oc in ocs} <= {"not run", "interrupted", "optimal", "invalid"}
    assert all(oc.exit_code in (0, 1, 130) for oc in ocs)


def test_dask_local_cluster(inputs, tmp_path):
    distributed = pytest.importorskip("distributed")
    good, bad, _ = inputs
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        res = run("solve", good, bad, "-o", tmp_path / "res", "--executor", "dask", "--scheduler",
                  cl.scheduler_address)
    assert res.exit_code == 1
    assert "optimal" in res.output and "invalid" in res.output
    assert (tmp_path / "res" / "good.results.xlsx").exists()


def test_usage_errors():
    assert run("solve", TINY, "--scheduler", "tcp://x:1").exit_code == 2
    assert run("solve", TINY, "--jobs", "0").exit_code == 2


# ---------------------------------------------------------------- cell overrides
def test_cell_override_changes_memory_not_the_file(tmp_path):
    before = sha(TINY)
    data = load_input(str(TINY), {"commodities.X.shortage_penalty_usd_per_t": "200", "discount_rate": "0.1"})
    assert data.tables["commodities"]["shortage_penalty_usd_per_t"].iloc[0] == 200
    assert data.settings["discount_rate"] == pytest.approx(0.1)
    assert sha(TINY) == before
    # settings.KEY is a setting too; a multi-column key joins its parts with '/'
    data = load_input(str(TINY), {"settings.mip_gap": "0.01", "suppliers.CHN/X.tariff_usd_per_t": "5"})
    assert data.settings["mip_gap"] == pytest.approx(0.01)
    assert data.tables["suppliers"]["tariff_usd_per_t"].iloc[0] == 5
    # a sheet without a key: the Excel row number (row 3 = first data row after the notes row)
    data = load_input(str(TINY), {"disruptions.3.available_share": "1", "disruptions.3.from_year": "2026"})
    assert data.tables["disruptions"]["available_share"].iloc[0] == 1
    assert data.tables["disruptions"]["from_year"].iloc[0] == 2026


@pytest.mark.parametrize("key,value,expect", [
    ("commodities.Y.shortage_penalty_usd_per_t", "1", "no row 'Y' in sheet 'commodities' (rows: X)"),
    ("commodities.X.nonsense", "1", "has no column 'nonsense'"),
    ("commodities.X.commodity", "Y", "key column"),
    ("nosheet.X.a", "1", "unknown sheet 'nosheet'"),
    ("commodities.X.shortage_penalty_usd_per_t", "abc", "expected a number"),
    ("commodities.X.shortage_penalty_usd_per_t", "-5", "must be >= 0"),
    ("suppliers.CHN.tariff_usd_per_t", "1", "named by supplier/commodity"),
    ("disruptions.ban.available_share", "1", "Excel row number"),
])
def test_cell_override_problems(key, value, expect):
    with pytest.raises(InputError) as e:
        load_input(str(TINY), {key: value})
    text = "\n".join(map(str, e.value.problems))
    assert expect in text and "--set" in text


def test_blank_cell_override_takes_the_default():
    from planner.input.reader import read_workbook

    data = read_workbook(str(TINY))
    apply_cells(data, {"commodities.X.shortage_penalty_usd_per_t": ""})
    assert data.tables["commodities"]["shortage_penalty_usd_per_t"].iloc[0] is None
    assert not data.problems.errors


def test_solve_single_input_with_a_cell_override(tmp_path):
    res = run("solve", TINY, "--set", "commodities.X.shortage_penalty_usd_per_t=200", "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 0 and "0.040" in res.output
    res = run("solve", TINY, "--set", "commodities.Y.shortage_penalty_usd_per_t=200", "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 1 and "no row 'Y'" in res.output


def _worker_pid(task):
    """A batch task that reports the process it ran in."""
    import os

    from planner.workflows.run import Outcome

    oc = Outcome(input=task.path, status="optimal", exit_code=0)
    oc.objective = float(os.getpid())
    return oc


def test_one_pool_runs_both_phases_on_the_same_workers():
    """Inside ``one_pool`` two run_tasks calls (a coalition analysis's two phases) use the same two worker processes;
    outside it each call starts its own, and the kept pool is gone after the block."""
    from planner.workflows import batch
    from planner.workflows.batch import Task, one_pool, run_tasks

    def pids():
        tasks = [Task("x", fn=_worker_pid) for _ in range(6)]
        return {int(oc.objective) for oc in run_tasks(tasks, jobs=2, progress=False)}

    with one_pool():
        first, second = pids(), pids()
    assert len(first | second) <= 2  # the same two workers (either may have run all of one call's tasks)
    assert batch._KEPT["pool"] is None and not batch._KEPT["on"]
    assert pids().isdisjoint(first | second)  # a new pool, new workers
