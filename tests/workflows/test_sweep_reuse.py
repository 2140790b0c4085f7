"""Sweeps and batches reuse the previous point's HiGHS model when only coefficients change (issue 18 item 3).

inputs/tiny.xlsx is solved by hand in docs/tiny.md: 0.075 MUSD with the plant built (an integer module);
a shortage penalty of 200 USD/t, below the import price, leaves everything short: 0.04 MUSD.  Alternating the
penalty makes every point after the first a reused MIP whose previous solve ran the fixed-integer duals LP: a
point that lost integrality or kept the fixings would not give these optima.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.solver import highs
from planner.workflows.batch import run_batch
from planner.workflows.sweep import run_sweep

TINY = Path("inputs/tiny.xlsx")
PEN = "commodities.X.shortage_penalty_usd_per_t"
EXPECT = [0.04, 0.075, 0.04, 0.075]


@pytest.mark.parametrize("reuse", ["on", "off"])
def test_sweep_points_reuse_the_model_and_give_the_cold_optima(tmp_path, monkeypatch, reuse):
    monkeypatch.setenv(highs.REUSE_ENV, reuse)
    _summary, outcomes, _ = run_sweep(str(TINY), [f"{PEN}=200,1000,200,1000"], out=str(tmp_path / "sw"),
                                      progress=False)
    assert [oc.status for oc in outcomes] == ["optimal"] * 4
    assert [oc.objective for oc in outcomes] == pytest.approx(EXPECT, abs=1e-9)
    reused = [oc.times.get("handoff_reused", 0) for oc in outcomes]
    assert reused == ([0, 1, 1, 1] if reuse == "on" else [0, 0, 0, 0])
    summary = pd.read_excel(outcomes[1].out, sheet_name="summary", engine="openpyxl").set_index("key")["value"]
    assert ("handoff" in summary.index) == (reuse == "on")
    assert "time_handoff_reused_s" not in summary.index
    assert highs._REUSE["kept"] is None and not highs.reuse_enabled()   # released after the sweep


def test_batch_items_of_the_same_network_reuse_the_model(tmp_path):
    paths = []
    for name in ("a.xlsx", "b.xlsx"):
        shutil.copy(TINY, tmp_path / name)
        paths.append(str(tmp_path / name))
    outcomes = run_batch(paths, out=str(tmp_path / "res"), progress=False)
    assert [oc.objective for oc in outcomes] == pytest.approx([0.075, 0.075], abs=1e-9)
    assert [oc.times.get("handoff_reused", 0) for oc in outcomes] == [0, 1]


@pytest.mark.slow
def test_sweep_in_worker_processes(tmp_path):
    """With --jobs the workers reuse their own previous model; the results are those of the serial sweep."""
    _summary, outcomes, _ = run_sweep(str(TINY), [f"{PEN}=200,1000,200,1000,200"], out=str(tmp_path / "sw"),
                                      progress=False, jobs=2)
    assert [oc.objective for oc in outcomes] == pytest.approx(EXPECT + [0.04], abs=1e-9)
    # five tasks on at most two worker processes: one of them solved three or more, reusing its model
    assert sum(oc.times.get("handoff_reused", 0) for oc in outcomes) >= 2


@pytest.mark.slow
def test_sweep_on_a_dask_worker_reuses_its_model(tmp_path):
    """A local Dask cluster's worker runs one task at a time: it keeps its model like a pool worker."""
    pytest.importorskip("distributed")
    _summary, outcomes, _ = run_sweep(str(TINY), [f"{PEN}=200,1000,200,1000"], out=str(tmp_path / "sw"),
                                      progress=False, jobs=1, executor="dask")
    assert [oc.objective for oc in outcomes] == pytest.approx(EXPECT, abs=1e-9)
    assert [oc.times.get("handoff_reused", 0) for oc in outcomes] == [0, 1, 1, 1]


def _two_chains(tmp_path) -> str:
    """tiny.xlsx (commodity X, docs/tiny.md: 0.075 MUSD, the plant built for the 2027 ban) beside an independent
    commodity Y: the same demand and the same kind of plant, no ban.  By hand, Y imports 2 x 100 t at 300 USD/t
    (0.06 MUSD; its plant would cost 200 USD/t plus 0.05 MUSD) when shortage costs 1000 USD/t, and goes short at
    200 USD/t (0.04 MUSD) when it costs 200.  Nothing links X and Y: two blocks, and X's is the same at both points."""
    import openpyxl

    wb = openpyxl.load_workbook(TINY)
    for name, key_col in (("suppliers", 2), ("commodities", 1), ("market_prices", 1), ("demand", 2),
                          ("processes", 3), ("stockpiles", 2)):
        ws = wb[name]
        for row in list(ws.iter_rows(min_row=3, values_only=True)):
            if row[key_col - 1] == "X":
                new = list(row)
                new[key_col - 1] = "Y"
                if name == "processes":
                    new[0] = "PLANT_Y"
                ws.append(new)
    path = tmp_path / "two.xlsx"
    wb.save(path)
    return str(path)


def test_a_sweep_point_reuses_the_unchanged_chain_and_says_so(tmp_path):
    book = _two_chains(tmp_path)
    _summary, outcomes, _ = run_sweep(book, ["commodities.Y.shortage_penalty_usd_per_t=1000,200"],
                                      out=str(tmp_path / "sw"), progress=False)
    assert [oc.objective for oc in outcomes] == pytest.approx([0.075 + 0.06, 0.075 + 0.04], abs=1e-9)
    assert outcomes[0].times["mip_blocks"] >= 2 and "mip_blocks_reused" not in outcomes[0].times
    assert outcomes[1].times["mip_blocks_reused"] >= 1
    rows = pd.read_excel(outcomes[1].out, sheet_name="summary", engine="openpyxl").set_index("key")["value"]
    assert rows["blocks_reused"].startswith(f"{outcomes[1].times['mip_blocks_reused']} of ")
    assert "independent_blocks" in rows.index and "time_mip_blocks_s" not in rows.index
