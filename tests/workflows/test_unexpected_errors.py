"""Issue 15 item 6: no "unexpected" errors. A non-UTF-8 file name, a plan with text or 1e300 in a quantity, a
300-character scenario name, a failing chart: each is one clear line (or handled), and the results of a
finished solve are never lost to a reporting error."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.workflows.run import solve_file

pytestmark = pytest.mark.slow  # solves and subprocesses (~20 s)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output and "unexpected" not in res.output, res.output
    return res


def test_non_utf8_file_name_is_refused_before_the_solve(tmp_path):
    raw = os.fsencode(tmp_path) + b"/caf\xe9.xlsx"
    try:
        with open(raw, "wb") as f:
            f.write(TINY.read_bytes())
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    # a real process (click's test runner encodes its output strictly, a terminal does not)
    for cmd in ([b"validate", raw], [b"solve", raw, b"-o", os.fsencode(tmp_path / "out")]):
        p = subprocess.run([sys.executable.encode(), b"-m", b"planner.cli", *cmd], cwd=ROOT, capture_output=True, check=False)
        err = p.stderr.decode("utf-8", "replace") + p.stdout.decode("utf-8", "replace")
        assert p.returncode == 1, err
        assert "the file name is not valid UTF-8" in err and "HiGHS" not in err
        assert "Traceback" not in err and "unexpected" not in err
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    d = tmp_path_factory.mktemp("plan")
    return solve_file(str(TINY), out=str(d / "build.results.xlsx")).out


@pytest.mark.parametrize("quantity", ["lots", 1e300, float("inf"), -1])
def test_stress_plan_with_a_bad_quantity_ignores_the_item_in_words(plan, tmp_path, quantity):
    bad = tmp_path / "bad.results.xlsx"
    wb = openpyxl.load_workbook(plan)
    ws = wb["investments"]
    head = [c.value for c in ws[1]]
    ws.cell(2, head.index("quantity") + 1, quantity)
    wb.save(bad)
    out = tmp_path / "stress.xlsx"
    res = run("stress", TINY, "--plan", bad, "-o", out)
    assert res.exit_code == 0, res.output
    rep = pd.read_excel(out, sheet_name="plan")
    assert rep["status"].iloc[0] == "ignored" and "is not a number from 0 to 1e+15" in rep["note"].iloc[0]


def test_plot_with_a_300_character_scenario_name(tmp_path):
    long = "s" * 300
    src = tmp_path / "long.xlsx"
    wb = openpyxl.load_workbook(TINY)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value == "base":
                    c.value = long
    wb.save(src)
    res = run("solve", src, "-o", tmp_path / "r.xlsx")
    assert res.exit_code == 0, res.output
    res = run("plot", tmp_path / "r.xlsx", "-o", tmp_path / "plots")
    assert res.exit_code == 0, res.output
    names = [p.name for p in (tmp_path / "plots").iterdir()]
    assert names and all(len(n) <= 80 for n in names), names


def test_a_failing_chart_never_loses_the_results(tmp_path, monkeypatch, caplog):
    from planner.report import charts

    def broken(*a, **k):
        raise ValueError("a chart bug")

    monkeypatch.setattr(charts, "add_charts", broken)
    oc = solve_file(str(TINY), out=str(tmp_path / "r.xlsx"))
    assert oc.exit_code == 0 and oc.out.exists()
    assert "summary" in openpyxl.load_workbook(oc.out, read_only=True).sheetnames
    assert "the charts and front sheet could not be written (ValueError: a chart bug)" in caplog.text
