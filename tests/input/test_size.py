"""Resource guards before the solver (issue 15 item 5): a model too large for the machine is refused before it is
built, naming what makes it large; --force-size overrides; the estimate is close to the built model."""
from __future__ import annotations

import time

import pytest
from conftest import run_cli, valid_book, write_book

from planner.input import size
from planner.input.load import load


@pytest.mark.slow
def test_201_members_and_175_years_are_refused_before_building(tmp_path, monkeypatch):
    monkeypatch.delenv(size.FORCE_ENV, raising=False)
    book = valid_book()
    book["settings"][1]["value"] = 2025 + 174  # 175 years
    book["members"] += [{"member": f"M{i:03d}", "name": "x", "burden_share": 1} for i in range(199)]
    p = write_book(tmp_path / "huge.xlsx", book)
    t = time.perf_counter()
    res = run_cli("solve", p, "-o", tmp_path / "out")
    took = time.perf_counter() - t
    assert res.exit_code == 1, res.output
    line = [ln for ln in res.output.splitlines() if "would need about" in ln]
    assert len(line) == 1 and "Traceback" not in res.output
    assert "trade: 40,201 member pairs (sheet members, 201 rows" in line[0] and "years 175" in line[0]
    assert "--force-size runs it anyway" in line[0]
    assert took < 30, took  # refused before the build (which ran to a MemoryError after 5.4 GB)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_force_size_runs_it_anyway(tmp_path, monkeypatch):
    monkeypatch.delenv(size.FORCE_ENV, raising=False)
    monkeypatch.setattr(size, "machine_memory", lambda: 2**20)  # a 1 MB machine: everything is too large
    p = write_book(tmp_path / "b.xlsx", valid_book())
    res = run_cli("solve", p, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "would need about" in res.output
    res = run_cli("solve", p, "-o", tmp_path / "out", "--force-size")
    assert res.exit_code == 0, res.output
    monkeypatch.delenv(size.FORCE_ENV, raising=False)


def test_estimate_is_near_the_built_model():
    """Estimated nonzeros against the model built from the shipped example (measured 1.00x; presets 1.0-1.2x)."""
    from planner.model.build import build
    from planner.model.prepare import prepare
    from planner.solver.highs import compile_direct

    data = load("inputs/bloc_example.xlsx")
    A = compile_direct(build(prepare(data)))[0]
    est = size.estimate(data)
    assert 0.8 <= est["nonzeros"] / A.nnz <= 1.6


def test_one_scenario_is_smaller():
    data = load("inputs/bloc_example.xlsx")
    n = max(1, len(data.tables["scenarios"]))
    assert size.estimate(data, "base")["columns"] * n == pytest.approx(size.estimate(data)["columns"], rel=0.2)
