"""A solve on the default path imports neither Pyomo nor SciPy (issue 19 item 3: together about 0.8 s of every
command's start): Pyomo serves the cross-check hand-off and decomposition only, SciPy the gain-cycle check of
validation when the commodity graph has a cycle."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import sys
from planner.workflows.run import solve_file
oc = solve_file("inputs/bloc_example.xlsx", out=sys.argv[1], force=True)  # by blocks, with duals
assert oc.status == "optimal", oc.status
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"pyomo", "scipy"})
print("HEAVY", ",".join(heavy))
"""


def test_a_solve_imports_neither_pyomo_nor_scipy(tmp_path):
    p = subprocess.run([sys.executable, "-c", CODE, str(tmp_path / "r.xlsx")], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    line = [x for x in p.stdout.splitlines() if x.startswith("HEAVY")]
    assert line == ["HEAVY "], (line, p.stdout[-500:])
