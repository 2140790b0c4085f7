"""A sweep or batch parses its workbook once (planner.input.reader.keeping_reads, issue 18): later reads get their
own copy of the same data, and a workbook saved again during the run is read anew."""
from __future__ import annotations

import os

import planner.input.reader as R
from conftest import valid_book, write_book


def _count(monkeypatch):
    calls = []
    real = R._read_workbook
    monkeypatch.setattr(R, "_read_workbook", lambda p: calls.append(p) or real(p))
    return calls


def test_read_once_each_caller_gets_its_own_copy(tmp_path, monkeypatch):
    path = write_book(tmp_path / "in.xlsx", valid_book())
    calls = _count(monkeypatch)
    with R.keeping_reads():
        a = R.read_workbook(path)
        a.tables["members"].loc[:, "burden_share"] = 99.0  # what --set does to its own copy
        a.settings["mip_gap"] = 0.5
        b = R.read_workbook(path)
    assert len(calls) == 1
    assert b.sha256 == a.sha256 and b.settings["mip_gap"] != 0.5
    assert (b.tables["members"]["burden_share"] != 99.0).any()


def test_a_workbook_saved_again_is_read_again(tmp_path, monkeypatch):
    path = write_book(tmp_path / "in.xlsx", valid_book())
    calls = _count(monkeypatch)
    with R.keeping_reads():
        a = R.read_workbook(path)
        write_book(tmp_path / "in.xlsx", valid_book())  # the same content saved again
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # saved a second later
        b = R.read_workbook(path)
    assert len(calls) == 2 and b is not a


def test_nothing_is_kept_outside(tmp_path, monkeypatch):
    path = write_book(tmp_path / "in.xlsx", valid_book())
    calls = _count(monkeypatch)
    R.read_workbook(path)
    R.read_workbook(path)
    with R.keeping_reads():
        pass
    assert len(calls) == 2 and R._READS["kept"] is None
