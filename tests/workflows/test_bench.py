"""The benchmark generator and runner (issue 5): well-formed, not timed.

No threshold on any time here: the machine is shared and noisy. The test
checks that the generator writes a workbook ``planner validate`` accepts and
that ``benchmarks/run.py`` on the tiny preset produces positive, consistent
numbers.
"""
from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import validate_file

pytestmark = pytest.mark.slow  # long or process-heavy: run in CI, skipped by -m "not slow"

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, file: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


def _generate_module():
    return _load("bench_generate", "generate.py")


def test_generator_writes_a_valid_deterministic_workbook(tmp_path):
    gen = _generate_module()
    z = gen.PRESETS["tiny"]
    a = gen.write(tmp_path / "a.xlsx", z)
    b = gen.write(tmp_path / "b.xlsx", z)
    assert a.read_bytes() == b.read_bytes(), "same size and seed must give the same bytes"
    code, out = validate_file(a)
    assert code == 0, out
    assert "warning" not in out.lower(), out
    # another seed and an odd scenario count (probabilities that are not powers of two) still validate
    c = gen.write(tmp_path / "c.xlsx", replace(z, seed=7, scenarios=3, routes=1))
    assert c.read_bytes() != a.read_bytes()
    code, out = validate_file(c)
    assert code == 0, out
    # the model planner builds from it (stopped at the hand-off to HiGHS) has integer columns
    size = gen.model_size(a)
    assert size["rows"] > 0 and size["cols"] > 0 and size["nnz"] > 0 and size["integer"] >= 1


def test_generator_sizes_scale_with_the_parameters():
    gen = _generate_module()
    _, small = gen.make_tables(gen.PRESETS["tiny"])
    _, big = gen.make_tables(gen.PRESETS["S"])
    for sheet in ("demand", "processes", "routes", "scenarios", "stockpiles", "offtakes"):
        assert len(big[sheet]) > len(small[sheet]), sheet
    z = gen.PRESETS["S"]
    assert sum(1 for p in big["processes"] if p.get("module_tpa")) == z.projects
    assert sum(1 for p in big["processes"] if p.get("integer_modules")) == z.integer_projects
    assert len(big["scenarios"]) == z.scenarios
    assert abs(sum(s["probability"] for s in big["scenarios"]) - 1.0) < 1e-9


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_run_tiny_preset_reports_well_formed_numbers(tmp_path):
    out = tmp_path / "bench.json"
    docs = tmp_path / "performance.md"
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--presets", "tiny", "--repeat", "1",
                        "--workdir", str(tmp_path / "w"), "--json", str(out), "--write-docs", "--docs", str(docs)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    rep = json.loads(out.read_text())
    assert rep["machine"]["cores"] >= 1 and rep["machine"]["ram_gib"] > 0
    (s,) = rep["presets"]
    assert s["preset"] == "tiny" and s["status"] == "optimal"
    assert s["rows"] > 0 and s["cols"] > 0 and s["nnz"] > 0 and s["n_int"] > 0
    for k in ("read", "validate", "build", "compile", "highs", "extract", "write"):
        assert _positive(s["times"][k]), k
    assert all(v >= 0 for v in s["times"].values())
    assert _positive(s["end_to_end"]) and _positive(s["highs_total"])
    assert s["end_to_end"] >= sum(v for k, v in s["times"].items() if k != "other") - 1e-6
    assert s["ratio"] >= 1.0
    assert s["process_wall"] >= s["end_to_end"]
    assert _positive(s["peak_rss_mib"]) and _positive(s["build_nnz_per_s"]) and _positive(s["write_rows_per_s"])
    assert s["rows_written"] > 0
    # the bare highspy reference solved the same model
    ref = s["ref"]
    assert ref["nnz"] == s["nnz"]
    assert _positive(ref["total"]) and _positive(ref["peak_rss_mib"]) and ref["status"] == "kOptimal"
    assert s["objective_rel_diff"] < 1e-6
    assert s["peak_rss_mib"] > ref["peak_rss_mib"]
    text = docs.read_text()
    assert "<!-- bench:presets -->" in text and "| tiny |" in text
    assert "AMD" in text or "Intel" in text or "cores" in text


def test_decomposition_benchmark_reports_well_formed_numbers(tmp_path):
    # benchmarks/decomp.py: the extensive form and progressive hedging on the tiny network, 2 scenarios
    out, docs = tmp_path / "decomp.json", tmp_path / "decomposition.md"
    docs.write_text("# x\n<!-- decomp:table -->\nold\n<!-- /decomp:table -->\nafter\n")
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "decomp.py"), "--preset", "tiny",
                        "--scenario-counts", "2", "--ph-iterations", "5", "--json", str(out), "--write-docs",
                        "--docs", str(docs)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    rep = json.loads(out.read_text())
    (run,) = rep["runs"]
    ef, ph = run["ef"], run["ph"]
    assert run["scenarios"] == 2 and ef["status"] == "optimal" and ph["exit_code"] == 0, ph
    assert _positive(ef["wall_s"]) and _positive(ph["wall_s"]) and _positive(ph["ph_s"])
    assert 0 <= ph["iterations"] <= 5 and ph["first_stage"] > 0
    # the bound is below the extensive form's optimum (up to its MIP gap), the evaluated plan above it
    assert ph["bound"] <= ef["objective"] * (1 + 1e-6) + 1e-9
    assert ph["objective"] >= ef["objective"] * (1 - run["size"]["mip_gap"]) - 1e-9
    text = docs.read_text()
    assert "old" not in text and text.endswith("after\n") and "| 2 |" in text


def test_fit_exponent_and_doc_blocks():
    bench_run = _load("bench_run", "run.py")
    assert bench_run.fit_exponent([1e4, 1e5, 1e6], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert bench_run.fit_exponent([1e4, 1e5], [1.0, 100.0]) == pytest.approx(2.0)
    text = "# P\n\nprose\n\n<!-- bench:presets -->\nold\n<!-- /bench:presets -->\n\nmore prose\n"
    new = bench_run.replace_block(text, "presets", "NEW TABLE")
    assert "old" not in new and "NEW TABLE" in new and "prose" in new and "more prose" in new
    added = bench_run.replace_block(new, "scenarios", "SCEN")
    assert "<!-- bench:scenarios -->\nSCEN\n<!-- /bench:scenarios -->" in added and "NEW TABLE" in added
