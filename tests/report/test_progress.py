"""Feedback during a solve (issue 16 item 2): the live line, HiGHS's callbacks, --verbose and the .log file.

The tiny case's optimum, 0.075 MUSD, is solved by hand in docs/tiny.md.  The knapsack below needs HiGHS's
branch and bound (its LP relaxation is fractional), so the MIP callbacks fire; its optimum is not checked
here, only that the callbacks report what HiGHS reports at the end.
"""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from planner.report import progress
from planner.report.progress import LiveLine, SolveLog, session
from planner.solver.highs import _solve_arrays, csc_from_triplets
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def _knapsack(n=40, seed=1):
    rng = np.random.default_rng(seed)
    w = rng.integers(20, 60, n).astype(float)
    v = w + rng.integers(1, 10, n)
    r = np.r_[np.zeros(n), np.ones(n)].astype(np.int64)
    c = np.r_[np.arange(n), np.arange(n)].astype(np.int64)
    A = csc_from_triplets(r, c, np.r_[w, rng.integers(20, 60, n).astype(float)], 2, n)
    return (A, -v / 1e4, 0.0, np.zeros(n), np.ones(n), np.ones(n, bool), np.full(2, -np.inf),
            np.array([w.sum() / 2, 700.0]), None, {})


def test_highs_callbacks_report_phases_mip_progress_and_log(capfd):
    events, text = [], []
    res = _solve_arrays(_knapsack(), 0.0, mip_gap=0.0, progress=events.append, log_lines=text.append)
    assert res.status == "optimal"
    phases = [e["phase"] for e in events if "phase" in e]
    assert phases == ["HiGHS MIP", "HiGHS duals (LP, integers fixed)"]
    mips = [e for e in events if "gap" in e]
    assert mips, events
    # the last improving solution is the optimum HiGHS reports, in MUSD (HiGHS's objective scale undone)
    assert min(e["incumbent"] for e in mips) == pytest.approx(res.objective, rel=1e-9)
    log = "".join(text)
    assert "MIP" in log and "Presolving model" in log
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the log went to the callback only, never to the terminal


def test_without_hooks_nothing_is_subscribed(capfd):
    res = _solve_arrays(_knapsack(), 0.0, mip_gap=0.0)
    assert res.status == "optimal"
    assert capfd.readouterr() == ("", "")


def test_live_line_text_never_cuts_a_number(monkeypatch):
    line = LiveLine(stream=io.StringIO())
    line.phase("HiGHS MIP")
    line.update({"incumbent": 242789.0634, "bound": 242698.5, "gap": 0.000373, "nodes": 12345})
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda default=None: os.terminal_size((200, 24)))
    full = line.text()
    assert full.startswith("HiGHS MIP | ") and "incumbent 242,789.1" in full and "bound 242,698.5 MUSD" in full
    assert "gap 0.04%" in full and "nodes 12,345" in full
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda default=None: os.terminal_size((48, 24)))
    short = line.text()
    assert len(short) <= 47 and full.startswith(short)  # whole parts only
    assert short.endswith(("s", "242,789.1"))
    line.phase("writing the results")
    assert "incumbent" not in line.text()  # MIP figures only while the MIP runs


def test_live_line_draws_in_place_and_clears_for_log_messages(caplog):
    buf = io.StringIO()
    line = LiveLine(stream=buf, every=0.01).start()
    line.phase("building the model")
    import time
    time.sleep(0.05)
    line.stop()
    s = buf.getvalue()
    assert s.startswith("\r\x1b[K") and "building the model" in s and s.endswith("\r\x1b[K")


def test_session_off_the_terminal_shows_nothing(capfd):
    with session(enabled=False):
        assert progress.live.get() is None
        progress.phase("anything")  # no line: nothing happens
    assert capfd.readouterr() == ("", "")


def test_every_solve_writes_its_log_even_when_the_terminal_is_quiet(tmp_path, capfd):
    lg = logging.getLogger("planner")
    old = lg.level
    lg.setLevel(logging.ERROR)  # as batch workers and -q do
    try:
        oc = solve_file(str(TINY), out=str(tmp_path / "r.xlsx"))
    finally:
        lg.setLevel(old)
    assert lg.level == old and not lg.filters  # the capture is gone again
    log = (tmp_path / "r.log").read_text(encoding="utf-8")
    assert oc.objective == pytest.approx(0.075)
    assert log.startswith("planner ") and f"solve of {TINY}" in log
    for needle in ("info    read", "info    build", "MIP has", "Presolving model", "HiGHS: optimal",
                   "info    write"):
        assert needle in log, needle
    assert log.index("info    build") < log.index("MIP has") < log.index("HiGHS: optimal")
    out, err = capfd.readouterr()
    assert "MIP has" not in out + err and "info" not in err  # the terminal stayed quiet
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_solve_log_keeps_only_its_own_threads_records():
    import threading

    lg = logging.getLogger("planner")
    with SolveLog("t") as s:
        lg.info("mine")
        t = threading.Thread(target=lambda: lg.info("other thread"))
        t.start()
        t.join()
        s.highs("HiGHS piece without newline")
        lg.warning("after")
    text = s.text()
    assert "mine" in text and "other thread" not in text
    assert "HiGHS piece without newline\n" in text and text.rstrip().endswith("after")


def _run_cli(args, **kw):
    return subprocess.run([sys.executable, "-m", "planner.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False, **kw)


@pytest.mark.slow  # two solves in fresh processes
def test_verbose_streams_the_highs_log_to_stderr(tmp_path):
    res = _run_cli(["solve", str(TINY), "-o", str(tmp_path), "--verbose"])
    assert res.returncode == 0, res.stderr
    assert "Presolving model" in res.stderr and "Presolving" not in res.stdout
    assert "\x1b[K" not in res.stderr  # not a terminal: no live line
    quiet = _run_cli(["solve", str(TINY), "-o", str(tmp_path)])
    assert "Presolving" not in quiet.stderr + quiet.stdout
    assert (tmp_path / "tiny.results.log").exists() and (tmp_path / "tiny.results-2.log").exists()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_live_line_on_a_terminal(tmp_path):
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "solve", str(TINY), "-o", str(tmp_path)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        out, _ = proc.communicate(timeout=300)
    finally:
        os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "\r\x1b[K" in err and "reading the input" in err
    assert "\x1b[K" not in out  # the table on stdout is untouched
