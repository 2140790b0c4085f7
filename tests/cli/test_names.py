"""Small things (issue 16 item 8): sweep file names keep the whole key; a re-run that writes NAME-2.xlsx
beside an older result says so."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.workflows.sweep import SLUG_MAX, _slug

TINY = Path("inputs/tiny.xlsx")


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in res.output, res.output
    return res


def test_sweep_names_keep_the_whole_key():
    # demand of USA and of EU in one sweep: the names used to keep only 'demand_t' and told them apart by nothing
    a = _slug({"demand.USA/NDFEB/2030.demand_t": "9000"})
    b = _slug({"demand.EU/NDFEB/2030.demand_t": "9000"})
    assert a == "demand.USA-NDFEB-2030.demand_t=9000" and b == "demand.EU-NDFEB-2030.demand_t=9000"
    assert _slug({"commodities.NDPR_OX.floor_price_usd_per_t": "80000", "discount_rate": "0.03"}) == \
        "commodities.NDPR_OX.floor_price_usd_per_t=80000_discount_rate=0.03"


def test_very_long_points_stay_short_and_distinct():
    keys = [f"suppliers.SUPPLIER_WITH_A_VERY_LONG_NAME_{i}/COMMODITY_{i}.tariff_usd_per_t" for i in range(4)]
    p1 = {k: "1000" for k in keys}
    p2 = {**p1, keys[-1]: "2000"}
    s1, s2 = _slug(p1), _slug(p2)
    assert len(s1) <= SLUG_MAX and len(s2) <= SLUG_MAX and s1 != s2
    assert "=1000" in s1 and "=2000" in s2                     # the values survive the shortening


@pytest.mark.slow
def test_rerun_warns_when_it_writes_beside_an_older_result(tmp_path):
    inp = tmp_path / "tiny.xlsx"
    shutil.copy(TINY, inp)
    out = tmp_path / "res"
    first = run("solve", inp, "-o", out / "tiny.xlsx")
    assert first.exit_code == 0 and "warning" not in first.output
    second = run("solve", inp, "-o", out / "tiny.xlsx")
    assert second.exit_code == 0
    assert f"warning: {out / 'tiny.xlsx'} holds an earlier result; this run wrote {out / 'tiny-2.xlsx'}" \
        in second.stderr.replace("\n", " ")
    assert (out / "tiny-2.xlsx").exists()
    forced = run("solve", inp, "-o", out / "tiny.xlsx", "--force")
    assert forced.exit_code == 0 and "warning" not in forced.output


@pytest.mark.slow
def test_batch_rerun_warns_per_input(tmp_path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    shutil.copy(TINY, a)
    shutil.copy(TINY, b)
    out = tmp_path / "res"
    assert run("solve", a, b, "-o", out).exit_code == 0
    res = run("solve", a, b, "-o", out)
    assert res.exit_code == 0
    err = res.stderr.replace("\n", " ")
    assert "a.results-2.xlsx beside it" in err and "b.results-2.xlsx beside it" in err
