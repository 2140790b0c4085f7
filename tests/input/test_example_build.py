"""The shipped workbooks (issue 16 item 1): built by inputs/build_example.py through the template writer,
shipped inside the package (planner/data/) byte for byte equal to inputs/ and to a fresh build."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import openpyxl
import pytest
from conftest import validate_file

from planner.input.reader import read_workbook
from planner.input.schema import SETTINGS, SHEETS
from planner.input.template import write_filled
from planner.workflows.examples import EXAMPLES, shipped

ROOT = Path(__file__).resolve().parents[2]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_example", ROOT / "inputs" / "build_example.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("built")
    _build_module().build_all(folder)
    return folder


@pytest.mark.parametrize("name", EXAMPLES)
def test_packaged_copies_equal_the_build_and_inputs(built, name):
    fresh = (built / name).read_bytes()
    assert (ROOT / "inputs" / name).read_bytes() == fresh, f"inputs/{name} is stale: python inputs/build_example.py"
    assert (ROOT / "planner" / "data" / name).read_bytes() == fresh, \
        f"planner/data/{name} is stale: python inputs/build_example.py"
    # the installed package ships the same bytes (an editable install points at planner/data itself)
    assert shipped(name).read_bytes() == fresh, f"the installed planner/data/{name} is stale: reinstall"


@pytest.mark.parametrize("name", EXAMPLES)
def test_shipped_workbook_has_the_template_style(name):
    wb = openpyxl.load_workbook(shipped(name))
    assert wb.sheetnames[0] == "README"
    assert wb.sheetnames[1:] == [s.name for s in SHEETS]          # every sheet, in the template's order
    for s in SHEETS:
        ws = wb[s.name]
        assert ws.freeze_panes == "A3", s.name                      # headers frozen
        assert str(ws.cell(2, 1).value).startswith("#"), s.name     # the units/notes row
    # drop-downs: a reference list on demand.member, TRUE/FALSE on suppliers.country_of_concern
    demand = wb["demand"].data_validations.dataValidation
    assert any("members!$A$3" in (dv.formula1 or "") for dv in demand)
    assert any('"TRUE,FALSE"' == dv.formula1 for dv in wb["suppliers"].data_validations.dataValidation)
    # settings: every key listed with a note, values only where the example gives one
    keys = [r[0] for r in wb["settings"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert keys == [d.name for d in SETTINGS]
    assert "built by inputs/build_example.py" in " ".join(
        str(r[0]) for r in wb["README"].iter_rows(max_row=8, values_only=True) if r[0]).lower()


@pytest.mark.slow
def test_shipped_example_validates_and_holds_the_data():
    code, out = validate_file(shipped("bloc_example.xlsx"))
    assert code == 0, out
    data = read_workbook(shipped("bloc_example.xlsx"))
    assert len(data.tables["members"]) == 8 and len(data.tables["commodities"]) == 13
    assert list(data.tables["scenarios"]["scenario"]) == ["base", "price_collapse", "export_ban", "hre_controls"]
    assert data.settings["default_route_cost_usd_per_t"] == 50
    assert data.settings["anti_circumvention"] is True
    code, out = validate_file(shipped("tiny.xlsx"))
    assert code == 0, out


def test_write_filled_is_deterministic_and_rejects_unknown_names(tmp_path):
    tables = {"settings": {"start_year": 2026, "end_year": 2027},
              "members": [{"member": "A", "burden_share": 1}, ("B", "Member B")],
              "commodities": [{"commodity": "1"}]}
    a = write_filled(tmp_path / "a.xlsx", tables)
    b = write_filled(tmp_path / "b.xlsx", tables)
    assert a.read_bytes() == b.read_bytes()
    data = read_workbook(a)
    assert list(data.tables["members"]["member"]) == ["A", "B"]
    assert list(data.tables["members"]["name"].fillna("")) == ["", "Member B"]
    assert list(data.tables["commodities"]["commodity"]) == ["1"]          # a key stays text
    with pytest.raises(ValueError, match="unknown sheet"):
        write_filled(tmp_path / "c.xlsx", {"member": []})
    with pytest.raises(ValueError, match="unknown column"):
        write_filled(tmp_path / "c.xlsx", {"members": [{"membr": "A"}]})
    with pytest.raises(ValueError, match="unknown key"):
        write_filled(tmp_path / "c.xlsx", {"settings": {"start_yr": 2026}})
    assert not (tmp_path / "c.xlsx").exists()
