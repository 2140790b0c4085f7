"""Results as CSV or Parquet folders (issue 16 item 6): written atomically, read back by compare; the glossary.

The tiny case's optimum, 0.075 MUSD, is solved by hand in docs/tiny.md (plant built in 2026, no stockpile:
capex 0.025 + imports 0.03 + variable 0.02 MUSD).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.common.problems import PlannerError
from planner.report import formats
from planner.report.formats import read_folder, write_folder
from planner.report.glossary import describe, glossary_frame
from planner.workflows.compare import compare
from planner.workflows.run import solve_file

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory):
    out = tmp_path_factory.mktemp("csv")
    oc = solve_file(str(TINY), out=str(out), fmt="csv")
    return oc


def test_csv_folder_holds_every_table_and_the_summary(tiny_csv):
    oc = tiny_csv
    folder = Path(oc.out)
    assert folder.name == "tiny.results" and folder.is_dir()
    names = {p.name for p in folder.iterdir()}
    assert {"summary.json", "glossary.csv", "sources.csv", "solve.log"} <= names
    for t in oc.tables:
        assert f"{t}.csv" in names
    assert _hidden(folder.parent) == []  # no temporary folder left
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["objective_musd"] == pytest.approx(0.075, abs=1e-9)  # docs/tiny.md
    assert list(summary)[:2] == ["status", "objective_musd"]  # the summary's order is kept
    # the numbers read back exactly as computed (full precision)
    back = pd.read_csv(folder / "supply.csv", keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(back, oc.tables["supply"].reset_index(drop=True), check_dtype=False)
    assert "planner" in (folder / "solve.log").read_text()


def test_results_folder_is_not_overwritten_without_force(tmp_path, tiny_csv):
    first = solve_file(str(TINY), out=str(tmp_path), fmt="csv")
    second = solve_file(str(TINY), out=str(tmp_path), fmt="csv")
    assert Path(first.out).name == "tiny.results" and Path(second.out).name == "tiny.results-2"
    (Path(first.out) / "marker.txt").write_text("old")
    third = solve_file(str(TINY), out=str(tmp_path), fmt="csv", force=True)
    assert Path(third.out) == Path(first.out) and not (Path(first.out) / "marker.txt").exists()
    assert _hidden(tmp_path) == []


def test_a_failing_write_leaves_the_old_folder_and_no_temporary_one(tmp_path, monkeypatch):
    target = tmp_path / "r.results"
    write_folder(target, {"summary": pd.DataFrame({"key": ["status"], "value": ["optimal"]}),
                          "costs": pd.DataFrame({"cost_musd": [1.0]})}, "csv")
    calls = []

    def boom(self, *a, **k):
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        write_folder(target, {"summary": pd.DataFrame({"key": ["status"], "value": ["new"]}),
                              "costs": pd.DataFrame({"cost_musd": [2.0]})}, "csv")
    assert calls and _hidden(tmp_path) == []
    assert json.loads((target / "summary.json").read_text())["status"] == "optimal"


def test_a_member_named_NA_stays_a_name_and_mixed_columns_survive(tmp_path):
    df = pd.DataFrame({"member": ["NA", "USA", None], "year": [2026, 2027, 2028],
                       "value_t": [1.5, np.nan, 1e-7], "note": ["x", 3, None]})
    sheets = {"summary": pd.DataFrame({"key": ["status", "objective_musd", "gap"],
                                       "value": pd.Series(["optimal", 1.25, float("nan")], dtype=object)}),
              "supply": df}
    for fmt in ("csv", "parquet"):
        if fmt == "parquet":
            pytest.importorskip("pyarrow")
        folder = write_folder(tmp_path / f"r-{fmt}.results", sheets, fmt)
        book = read_folder(folder)
        assert book["supply"]["member"].tolist()[:2] == ["NA", "USA"]
        assert pd.isna(book["supply"]["member"].iloc[2])
        assert book["supply"]["value_t"].iloc[2] == 1e-7
        s = dict(zip(book["summary"]["key"], book["summary"]["value"]))
        assert s["status"] == "optimal" and s["objective_musd"] == 1.25 and s["gap"] is None  # NaN -> null


@pytest.mark.slow  # three solves and a comparison
def test_parquet_round_trip_and_compare_reads_folders_and_workbooks(tmp_path, tiny_csv):
    pytest.importorskip("pyarrow")
    pq = solve_file(str(TINY), out=str(tmp_path), fmt="parquet")
    xl = solve_file(str(TINY), out=str(tmp_path))
    assert (Path(pq.out) / "supply.parquet").exists()
    _written, head, infos, notes, _labels, _names = compare([tiny_csv.out, pq.out, xl.out], str(tmp_path / "c.xlsx"))
    # the same solve in three formats: no table shows a difference, the objectives agree
    assert all(i["shown"] == 0 for i in infos), infos
    obj = head[head["figure"] == "objective_musd"].iloc[0]
    assert obj["Δ B−A"] == 0 and obj["Δ C−A"] == 0
    assert not [n for n in notes if n[1] == "table missing"]


def test_parquet_without_pyarrow_is_one_clear_line(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pyarrow(name, *a, **k):
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(PlannerError, match=r"pip install 'bloc-planner\[parquet\]'"):
        formats.require_parquet()
    res = CliRunner().invoke(main, ["solve", str(TINY), "-o", str(tmp_path), "--format", "parquet"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "needs pyarrow" in res.output and not list(tmp_path.iterdir())


def test_cli_format_usage_errors(tmp_path):
    r = CliRunner()
    res = r.invoke(main, ["solve", str(TINY), "-o", str(tmp_path / "x.xlsx"), "--format", "csv"])
    assert res.exit_code == 2 and "give -o a folder" in res.output
    res = r.invoke(main, ["solve", str(TINY), str(TINY), "-o", str(tmp_path), "--format", "csv"])
    assert res.exit_code == 2 and "one input" in res.output
    res = r.invoke(main, ["solve", "--help"])
    assert "--format [xlsx|csv|parquet]" in res.output and "--verbose" in res.output


def test_every_results_column_has_a_glossary_entry(tiny_csv):
    g = pd.read_csv(Path(tiny_csv.out) / "glossary.csv", keep_default_na=False)
    assert set(g.columns) == {"sheet", "column", "unit", "description"}
    missing = g[g["description"] == ""]
    assert missing.empty, missing.to_string()
    # the per-supplier import columns are described from their name
    from planner.report.schema import RESULT_SHEET

    unit, text = describe("supply", "imports_from_CHN_t")
    assert unit == "t" and "CHN" in text and "{x}" not in text
    # the schema is the source: every column it declares is described as it says
    for name, sheet in RESULT_SHEET.items():
        for c in sheet.columns:
            assert describe(name, c.name)[1] == c.description
    assert describe("sources", "source")[1]  # sheets outside the schema: the glossary's own table
    assert describe("nowhere", "mystery") == ("", "")
    fr = glossary_frame({"t": pd.DataFrame({"member": [], "cost_musd": []})})
    assert fr["column"].tolist() == ["member", "cost_musd", "sheet", "column", "unit", "description"]
