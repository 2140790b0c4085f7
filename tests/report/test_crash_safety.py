"""Crash safety (issue 6, item 4): results files are complete or absent, never half-written or lost.

- ``write_workbook`` writes a hidden temp file in the target folder and renames it into place: a process
  killed (SIGKILL) at any moment leaves the previous results file byte-identical and nothing partial under
  the final name; Ctrl-C (SIGINT) while writing also removes the temp file.
- A target that cannot be written (locked by Excel, read-only file or folder, disk full) keeps the results:
  they are saved next to it as NAME-2.xlsx (or in the current folder, else the temp folder) and the error
  says where; exit 1.
- Existing results are never overwritten silently: every command that writes a workbook picks NAME-2.xlsx
  unless --force (``template`` refuses instead), and the existing file's bytes stay the same.
"""
from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from conftest import run_cli, sigint_default, valid_book, write_book
from planner.report import xlsio
from planner.common.problems import PlannerError
from planner.report.xlsio import WrittenElsewhere, write_workbook

pytestmark = pytest.mark.slow  # long or process-heavy: run in CI, skipped by -m "not slow"

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "inputs" / "tiny.xlsx"


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def is_complete(p: Path, sheet="t", rows=None) -> bool:
    wb = openpyxl.load_workbook(p, read_only=True)
    try:
        n = sum(1 for _ in wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()
    return rows is None or n == rows + 1


def temps(folder: Path, stem: str) -> list[Path]:
    return sorted(folder.glob(f".{stem}.*.tmp.xlsx"))


# ------------------------------------------------------------------ killed while writing
WRITER = textwrap.dedent("""
    import sys
    import numpy as np, pandas as pd
    from planner.report.xlsio import write_workbook
    n = int(sys.argv[2])
    df = pd.DataFrame({"member": np.array(["USA", "EU", "JPN"] * (n // 3 + 1))[:n],
                       "year": np.arange(n) % 30 + 2026, "value_musd": np.arange(n) * 0.37,
                       "flow_t": np.arange(n) * 1.5, "note": ["=cmd|' /C calc'!A0"] * n,
                       "share": np.arange(n) % 100 / 100})
    print("writing", flush=True)
    write_workbook(sys.argv[1], {"t": df, "u": df})
    print("done", flush=True)
""")
ROWS = 60_000


def _start_writer(target: Path, rows=ROWS):
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(rows)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default)


def _wait_for_temp(folder: Path, stem: str, proc, nonempty: bool, timeout=120.0) -> bool:
    """Poll until a temp file of ``stem`` exists (and has bytes if ``nonempty``); False if the writer ended."""
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None:
            return False
        for f in temps(folder, stem):
            try:
                if not nonempty or f.stat().st_size > 0:
                    return True
            except FileNotFoundError:
                pass
        time.sleep(0.005)
    raise AssertionError("no temp file appeared")


@pytest.mark.parametrize("phase", ["building", "zipping"])
def test_sigkill_mid_write_keeps_previous_results(tmp_path, phase):
    target = tmp_path / "run.results.xlsx"
    write_workbook(target, {"t": pd.DataFrame({"previous": [1, 2, 3]})})
    before = digest(target)
    for attempt in range(3):  # the kill must land before the rename; retry if the writer was too quick
        proc = _start_writer(target)
        caught = _wait_for_temp(tmp_path, "run.results", proc, nonempty=(phase == "zipping"))
        if caught:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if caught and proc.returncode == -signal.SIGKILL and digest(target) == before:
            break
        if digest(target) != before:  # the writer finished first: the new file must then be complete
            assert is_complete(target, rows=ROWS)
            write_workbook(target, {"t": pd.DataFrame({"previous": [1, 2, 3]})})
            before = digest(target)
    else:
        pytest.fail("could not kill the writer mid-write in 3 attempts")
    # the previous results are intact; nothing else carries a results name
    assert digest(target) == before
    assert pd.read_excel(target)["previous"].tolist() == [1, 2, 3]
    visible = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert visible == ["run.results.xlsx"]
    # at most the hidden temp file of the killed run stays behind, and it never opens as results
    left = temps(tmp_path, "run.results")
    assert len(left) <= 1


def test_sigkill_without_previous_file_leaves_no_results_file(tmp_path):
    target = tmp_path / "fresh.results.xlsx"
    proc = _start_writer(target)
    caught = _wait_for_temp(tmp_path, "fresh.results", proc, nonempty=True)
    if caught:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    if caught and proc.returncode == -signal.SIGKILL:
        assert not target.exists()
    else:
        assert is_complete(target, rows=ROWS)


def test_ctrl_c_while_writing_removes_the_temp_file(tmp_path):
    target = tmp_path / "int.results.xlsx"
    write_workbook(target, {"t": pd.DataFrame({"previous": [1]})})
    before = digest(target)
    proc = _start_writer(target)
    caught = _wait_for_temp(tmp_path, "int.results", proc, nonempty=False)
    if caught:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if "done" in out:  # finished before the signal landed
        assert is_complete(target, rows=ROWS)
        return
    assert "KeyboardInterrupt" in err
    assert digest(target) == before
    assert temps(tmp_path, "int.results") == []


def test_sigkill_during_solve_leaves_complete_results_or_none(tmp_path):
    inp = Path(write_book(tmp_path / "in.xlsx", valid_book()))
    before = digest(inp)
    out = tmp_path / "out"
    for delay in (1.5, 3.0, 4.5):
        proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "-q", "solve", str(inp), "-o", str(out),
                                 "--force"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        for f in (out.iterdir() if out.exists() else []):
            if not f.name.startswith(".") and not f.name.endswith(".log"):  # the solve's log may be there
                assert f.name == "in.results.xlsx"
                wb = openpyxl.load_workbook(f, read_only=True)
                assert "summary" in wb.sheetnames and "sources" in wb.sheetnames
                wb.close()
    assert digest(inp) == before


# ------------------------------------------------------------------ a target that cannot be written
FRAME = {"t": pd.DataFrame({"member": ["USA", "EU"], "cost_musd": [1.5, 2.5]})}


def _lock(monkeypatch, target: Path):
    """Simulate Windows refusing to replace a file that Excel holds open."""
    real = os.replace

    def replace(src, dst):
        if Path(dst) == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(xlsio.os, "replace", replace)


def test_locked_target_saves_next_to_it_and_says_where(tmp_path, monkeypatch):
    target = tmp_path / "r.xlsx"
    write_workbook(target, {"t": pd.DataFrame({"old": [1]})})
    before = digest(target)
    _lock(monkeypatch, target)
    with pytest.raises(WrittenElsewhere) as e:
        write_workbook(target, FRAME)
    alt = tmp_path / "r-2.xlsx"
    assert e.value.saved_to == alt and isinstance(e.value, PlannerError)
    assert str(alt) in str(e.value) and "permission denied" in str(e.value) and "open in Excel" in str(e.value)
    assert pd.read_excel(alt)["cost_musd"].tolist() == [1.5, 2.5]
    assert digest(target) == before
    assert temps(tmp_path, "r") == []


def test_unwritable_folder_saves_in_the_current_folder(tmp_path, monkeypatch):
    target = tmp_path / "ro" / "r.xlsx"
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    real = xlsio.tempfile.mkstemp

    def mkstemp(*a, dir=None, **kw):
        if dir is not None and Path(dir) == target.parent:
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*a, dir=dir, **kw)

    monkeypatch.setattr(xlsio.tempfile, "mkstemp", mkstemp)
    with pytest.raises(WrittenElsewhere) as e:
        write_workbook(target, FRAME)
    assert e.value.saved_to == here / "r.xlsx"
    assert is_complete(here / "r.xlsx")


def test_disk_full_saves_elsewhere(tmp_path, monkeypatch):
    import xlsxwriter.workbook
    from xlsxwriter.exceptions import FileCreateError

    target = tmp_path / "full" / "r.xlsx"
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    real_close = xlsxwriter.workbook.Workbook.close

    def close(self):
        if Path(self.filename).parent == target.parent:
            raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))
        return real_close(self)

    monkeypatch.setattr(xlsxwriter.workbook.Workbook, "close", close)
    with pytest.raises(WrittenElsewhere, match="No space left on device"):
        write_workbook(target, FRAME)
    assert is_complete(here / "r.xlsx")
    assert list(target.parent.iterdir()) == []  # the temp file was removed


def test_nowhere_writable_is_one_clear_error(tmp_path, monkeypatch):
    def mkstemp(*a, **kw):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(xlsio.tempfile, "mkstemp", mkstemp)
    with pytest.raises(PlannerError, match="nothing was saved") as e:
        write_workbook(tmp_path / "r.xlsx", FRAME)
    assert not isinstance(e.value, WrittenElsewhere)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_for_real(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.chdir(tmp_path)
    ro.chmod(0o555)
    try:
        with pytest.raises(WrittenElsewhere):
            write_workbook(ro / "r.xlsx", FRAME)
        assert is_complete(tmp_path / "r.xlsx")
    finally:
        ro.chmod(0o755)


def test_solve_with_a_locked_target_keeps_the_results(tmp_path, monkeypatch):
    inp = write_book(tmp_path / "in.xlsx", valid_book())
    target = tmp_path / "res.xlsx"
    target.write_bytes(b"old results held open in Excel")
    _lock(monkeypatch, target)
    res = run_cli("solve", inp, "-o", target, "--force")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "unexpected" not in res.output
    alt = tmp_path / "res-2.xlsx"
    assert f"cannot write {target}" in res.output and f"saved to {alt}" in res.output
    assert target.read_bytes() == b"old results held open in Excel"
    wb = openpyxl.load_workbook(alt, read_only=True)
    assert "summary" in wb.sheetnames
    wb.close()


# ------------------------------------------------------------------ no silent overwrite, in every command
def _twice(tmp_path, args, first: Path, second: Path, force_args=("--force",)):
    res = run_cli(*args)
    assert res.exit_code == 0, res.output
    assert first.exists()
    before = digest(first)
    res = run_cli(*args)
    assert res.exit_code == 0, res.output
    assert digest(first) == before, "existing file overwritten without --force"
    assert second.exists(), sorted(p.name for p in first.parent.iterdir())
    res = run_cli(*args, *force_args)
    assert res.exit_code == 0, res.output
    assert not (second.parent / (second.stem.rsplit("-", 1)[0] + "-3.xlsx")).exists()


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    d = tmp_path_factory.mktemp("ver")
    return Path(write_book(d / "in.xlsx", valid_book()))


def test_solve_versions_results(tmp_path, book):
    out = tmp_path / "r.xlsx"
    _twice(tmp_path, ["solve", book, "-o", out], out, tmp_path / "r-2.xlsx")


def test_compare_versions_its_workbook(tmp_path, book):
    r = tmp_path / "r.xlsx"
    assert run_cli("solve", book, "-o", r).exit_code == 0
    out = tmp_path / "cmp.xlsx"
    _twice(tmp_path, ["compare", r, r, "-o", out], out, tmp_path / "cmp-2.xlsx")


def test_stress_versions_its_workbook(tmp_path, book):
    r = tmp_path / "r.xlsx"
    assert run_cli("solve", book, "-o", r).exit_code == 0
    out = tmp_path / "st.xlsx"
    _twice(tmp_path, ["stress", book, "--plan", r, "-o", out], out, tmp_path / "st-2.xlsx")


def test_sweep_versions_its_workbooks(tmp_path, book):
    folder = tmp_path / "sw"
    _twice(tmp_path, ["sweep", book, "--set", "discount_rate=0.03,0.05", "-o", folder],
           folder / "sweep_summary.xlsx", folder / "sweep_summary-2.xlsx")


def test_batch_solve_versions_results(tmp_path, book):
    other = tmp_path / "other.xlsx"
    other.write_bytes(Path(book).read_bytes())
    folder = tmp_path / "batch"
    _twice(tmp_path, ["solve", book, other, "-o", folder], folder / "in.results.xlsx",
           folder / "in.results-2.xlsx")
    assert (folder / "other.results-2.xlsx").exists()


def test_plot_versions_its_pictures(tmp_path, book):
    r = tmp_path / "r.xlsx"
    assert run_cli("solve", book, "-o", r).exit_code == 0
    folder = tmp_path / "png"
    res = run_cli("plot", r, "-o", folder)
    assert res.exit_code == 0, res.output
    first = sorted(folder.glob("*.png"))
    assert first
    before = {p.name: digest(p) for p in first}
    res = run_cli("plot", r, "-o", folder)
    assert res.exit_code == 0, res.output
    assert {p.name: digest(p) for p in first} == before
    assert all((folder / f"{p.stem}-2.png").exists() for p in first)


def test_template_refuses_to_overwrite(tmp_path):
    p = tmp_path / "t.xlsx"
    assert run_cli("template", p).exit_code == 0
    before = digest(p)
    res = run_cli("template", p)
    assert res.exit_code == 1 and "already exists" in res.output
    assert digest(p) == before


def test_no_command_overwrites_its_input(tmp_path, book):
    before = digest(book)
    res = run_cli("solve", book, "-o", book, "--force")
    assert res.exit_code == 1 and "refusing to write results over the input workbook" in res.output
    res = run_cli("solve", book, "-o", book)  # without --force: a versioned name, the input untouched
    assert res.exit_code == 0 and (book.parent / "in-2.xlsx").exists()
    assert digest(book) == before


# ------------------------------------------------------------------ concurrent runs, signals, umask (issue 15 item 4)
RACER = textwrap.dedent("""
    import os, sys, time
    import pandas as pd
    from planner.common.files import free_name
    from planner.report.xlsio import write_workbook
    target, go, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    name = free_name(target)              # every racer sees the same free name ...
    while not os.path.exists(go):         # ... and all write at the same moment
        time.sleep(0.001)
    print(write_workbook(name, {"t": pd.DataFrame({"tag": [tag]})}))
""")


def test_racing_writers_each_get_their_own_file(tmp_path):
    """Four writers that chose the same free name at once: each result lands under its own name (the name is
    claimed with an exclusive hard link), none is lost, none replaces another's."""
    target, go = tmp_path / "same.results.xlsx", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(target), str(go), f"run{i}"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    time.sleep(3)  # all four imported pandas and chose their name
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    written = sorted(Path(o.strip()).name for o, _ in outs)
    assert written == ["same.results-2.xlsx", "same.results-3.xlsx", "same.results-4.xlsx", "same.results.xlsx"]
    tags = sorted(pd.read_excel(tmp_path / n)["tag"].iloc[0] for n in written)
    assert tags == ["run0", "run1", "run2", "run3"]
    assert temps(tmp_path, "same.results") == [] and temps(tmp_path, "same.results-2") == []


def test_four_solves_with_the_same_output_keep_all_results(tmp_path):
    out = tmp_path / "r.xlsx"
    procs = [subprocess.Popen([sys.executable, "-m", "planner.cli", "-q", "solve", str(TINY), "-o", str(out)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx")
    assert names == ["r-2.xlsx", "r-3.xlsx", "r-4.xlsx", "r.xlsx"]
    # each solve's log beside its own workbook, none lost to another
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".log") == ["r-2.log", "r-3.log", "r-4.log",
                                                                                "r.log"]
    for n in names:
        assert "summary" in openpyxl.load_workbook(tmp_path / n, read_only=True).sheetnames


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_while_writing_remove_the_temp_file(tmp_path, sig):
    """SIGTERM/SIGHUP take Ctrl-C's path (planner.common.signals): temp file removed, previous file kept."""
    target = tmp_path / "term.results.xlsx"
    write_workbook(target, {"t": pd.DataFrame({"previous": [1]})})
    before = digest(target)
    code = "from planner.common.signals import install; install()\n" + WRITER
    proc = subprocess.Popen([sys.executable, "-c", code, str(target), str(ROWS)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    caught = _wait_for_temp(tmp_path, "term.results", proc, nonempty=False)
    if caught:
        proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=120)
    if "done" in out:  # finished before the signal landed
        return
    assert "Terminated" in err
    assert digest(target) == before
    assert temps(tmp_path, "term.results") == []


def test_sigterm_during_solve_is_one_line_and_leaves_nothing(tmp_path):
    try:
        sys.path.insert(0, str(ROOT))
        from benchmarks.generate import Size
        from benchmarks.generate import write as write_instance
    except Exception:  # pragma: no cover - the generator is optional
        pytest.skip("benchmarks/generate.py not available")
    # the MIP of test_limits.py's Ctrl-C test: 4-10 s of branch and bound at gap 0
    inp = write_instance(tmp_path / "hard.xlsx", Size(members=6, chains=3, years=10, scenarios=3, projects=24,
                                                      integer_projects=24, offtakes=6, stockpiles=5, mip_gap=0.0))
    out = tmp_path / "out"
    # the plain two-stage model (full foresight, no terminal value) solved whole with HiGHS's defaults keeps this MIP
    # hard (tests/solver/test_limits.py; by blocks planner proves it in < 0.5 s)
    env = {**os.environ, "PLANNER_MIP_TUNING": "off", "PLANNER_MIP_BLOCKS": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "solve", str(inp), "-o", str(out), "--mip-gap", "0",
                             "--time-limit", "300", "--set", "foresight_years=99", "--set", "terminal_stock_value=0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    while True:
        ln = proc.stderr.readline()
        if not ln:
            break
        lines.append(ln)
        if ln.startswith("build:"):
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, e = proc.communicate(timeout=60)
    e = "".join(lines) + e
    if proc.returncode == 0:
        return  # finished first (a fast machine)
    assert proc.returncode == 130, e  # as Ctrl-C
    assert "interrupted: nothing was written for the run in progress" in e and "Traceback" not in e
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.endswith(".log")]


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_workbook(tmp_path / "u.xlsx", FRAME)
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_full_disk_is_one_line_for_every_writer(tmp_path, monkeypatch):
    """atomic_write (template, plot, logs, csv) turns a full disk into one line (DiskFull: an OSError and a
    PlannerError) and leaves no temp file; the results workbook saves elsewhere (test_disk_full_saves_elsewhere)."""
    from planner.common.files import DiskFull, atomic_write
    from planner.input import template

    def full(tmp):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFull, match="No space left on device") as e:
        atomic_write(tmp_path / "x.xlsx", full)
    assert isinstance(e.value, PlannerError) and isinstance(e.value, OSError)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(template, "_write", lambda tmp, *a, **k: full(tmp))
    res = run_cli("template", tmp_path / "t.xlsx")
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1 and "No space left on device" in lines[0], res.output
    assert list(tmp_path.iterdir()) == []
