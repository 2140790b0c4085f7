"""The README's worked session, run as written in an empty folder outside the repository (issue 16)."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def session_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"A worked session on the example.*?```bash\n(.*?)```", text, re.DOTALL)
    assert m, "README.md has no worked session"
    lines = [line.split("#", 1)[0].strip() for line in m.group(1).splitlines()]
    return [line for line in lines if line]


def test_session_is_planner_commands_only():
    cmds = session_commands()
    assert cmds and all(c.startswith("planner ") for c in cmds)
    assert cmds[0].startswith("planner example")


@pytest.mark.slow
def test_readme_worked_session_end_to_end(tmp_path):
    assert ROOT not in tmp_path.resolve().parents
    planner = Path(sys.executable).with_name("planner")
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("PYTHONPATH", None)
    outputs = []
    for cmd in session_commands():
        argv = [str(planner), *shlex.split(cmd)[1:]]
        res = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                             check=False)
        outputs.append(res.stdout + res.stderr)
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
        assert "Traceback" not in res.stderr, res.stderr
    for name in ("bloc_example.xlsx", "tiny.xlsx", "results/bloc_example.results.xlsx", "results/ban.xlsx",
                 "results/risk.xlsx", "results/cmp.xlsx"):
        assert (tmp_path / name).is_file(), name
    info = outputs[1]
    assert "8 member(s), 13 commodities, 4 scenario(s)" in info and "scenario tree" in info
    # the comparison prints the objective of both runs whole
    assert re.search(r"objective_musd\s+│\s+[\d,]+\.\d{3}\s+│\s+[\d,]+\.\d{3}", outputs[-1]), outputs[-1]
