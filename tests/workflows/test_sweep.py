"""planner sweep (issue 4.1): grids of settings and table cells, summary workbook with native charts."""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.common.problems import PlannerError
from planner.workflows.sweep import parse_grid, parse_values

TINY = Path("inputs/tiny.xlsx")
PEN = "commodities.X.shortage_penalty_usd_per_t"


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def test_parse_values():
    assert parse_values("k", "1,2,3") == ["1", "2", "3"]
    assert parse_values("k", "80000:140000:20000") == ["80000", "100000", "120000", "140000"]
    assert parse_values("k", "0:0.1:0.05") == ["0.0", "0.05", "0.1"]
    assert parse_values("k", "0:0.25:0.1") == ["0.0", "0.1", "0.2"]          # stop not reached: not included
    assert parse_values("k", "resource,market") == ["resource", "market"]
    assert parse_values("k", "5:1:-2") == ["5", "3", "1"]
    for bad in ("1:5:0", "5:1:1", "a:b:c", "1,,2"):
        with pytest.raises(PlannerError):
            parse_values("k", bad)
    keys, pts = parse_grid(["a=1,2", "b=x,y,z"])
    assert keys == ["a", "b"] and len(pts) == 6 and pts[0] == {"a": "1", "b": "x"} and pts[-1] == {"a": "2", "b": "z"}


def test_sweep_grid_of_a_cell_and_a_setting(tmp_path):
    inp = tmp_path / "tiny.xlsx"
    shutil.copy(TINY, inp)
    before = hashlib.sha256(inp.read_bytes()).hexdigest()
    out = tmp_path / "sw"
    res = run("sweep", inp, "--set", f"{PEN}=200,1000", "--set", "discount_rate=0:0.1:0.1", "-o", out)
    assert res.exit_code == 0, res.output
    assert hashlib.sha256(inp.read_bytes()).hexdigest() == before          # the input is never modified
    files = sorted(p.name for p in out.glob("tiny.p*.results.xlsx"))
    assert len(files) == 4 and files[0].startswith(
        "tiny.p01_commodities.X.shortage_penalty_usd_per_t=200_discount_rate=0")  # the whole key (issue 16)
    pts = pd.read_excel(out / "sweep_summary.xlsx", sheet_name="points")
    assert list(pts[PEN]) == [200, 200, 1000, 1000] and list(pts["discount_rate"]) == [0, 0.1, 0, 0.1]
    # docs/tiny.md: a shortage penalty below the import price -> everything short (0.04); 1000 -> the plant (0.075)
    assert pts["objective_musd"].iloc[0] == pytest.approx(0.04)
    assert pts["objective_musd"].iloc[2] == pytest.approx(0.075)
    assert pts["expected_shortage_t"].iloc[0] == pytest.approx(200)
    assert pts["built_X_tpa"].iloc[2] == pytest.approx(100) and pts["built_X_tpa"].iloc[0] == 0
    for col in ("status", "expected_cost_musd", "expected_floor_support_musd", "worst_dependence_share",
                "expected_capex_musd", "results"):
        assert col in pts.columns
    assert all(Path(p).exists() for p in pts["results"])
    with zipfile.ZipFile(out / "sweep_summary.xlsx") as z:                 # native Excel charts
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 2
        assert b"scatter" in z.read(charts[0]).lower()
    # again into the same folder: nothing is overwritten
    res = run("sweep", inp, "--set", f"{PEN}=200", "--set", "discount_rate=0.0", "-o", out)
    assert res.exit_code == 0
    assert (out / "sweep_summary-2.xlsx").exists()
    assert (out / "tiny.p01_commodities.X.shortage_penalty_usd_per_t=200_discount_rate=0.0.results-2.xlsx").exists()


def test_a_failing_point_does_not_stop_the_sweep(tmp_path):
    out = tmp_path / "sw"
    res = run("sweep", TINY, "--set", "discount_rate=-2,0", "-o", out)
    assert res.exit_code == 1
    assert "must be > -1" in res.output
    pts = pd.read_excel(out / "sweep_summary.xlsx", sheet_name="points")
    assert list(pts["status"]) == ["invalid", "optimal"]
    assert pts["objective_musd"].iloc[1] == pytest.approx(0.075)


@pytest.mark.parametrize("opt,expect", [
    ("nonsense=1,2", "unknown setting"),
    ("commodities.NOPE.floor_price_usd_per_t=1,2", "no row 'NOPE'"),
    ("discount_rate", "expects KEY=V1,V2"),
])
def test_bad_keys_are_reported_before_solving(tmp_path, opt, expect):
    res = run("sweep", TINY, "--set", opt, "-o", tmp_path / "sw")
    assert res.exit_code == 1 and expect in res.output
    assert not (tmp_path / "sw").exists()
