"""Extensive form against progressive hedging as the scenario count grows (issue 5, item 4).

    python benchmarks/decomp.py --preset S --scenario-counts 4 16 64
    python benchmarks/decomp.py --preset S --scenario-counts 4 16 --lp --ph-iterations 100
    python benchmarks/decomp.py --preset tiny --scenario-counts 2 4 --json /tmp/decomp.json   # quick check
    python benchmarks/decomp.py --from-json benchmarks/results/decomp_lp.json benchmarks/results/decomp_mip.json \
        --write-docs                                   # re-render the tables into docs/decomposition.md

For each scenario count the network of ``--preset`` (benchmarks/generate.py;
the network does not depend on the scenario count) is written once, then
solved twice, each in a fresh Python process with a time limit:

- **EF**: ``planner.workflows.run.solve_file`` (one model of all scenarios, direct
  hand-off to HiGHS), no workbook written;
- **PH**: ``planner.workflows.decomp.solve_file_ph`` (progressive hedging with
  mpi-sppy, serial, then the agreed first stage fixed and evaluated by
  ``solve_file``), no workbook written.

Reported per run: wall time of the call (read, build, solve, results; for PH
also the scenario models, the PH iterations, the bound and the evaluation),
objective, for PH its lower bound, the gap (evaluated objective − bound) /
objective, iterations, convergence, the time in PH proper and which plan was
evaluated (the scenarios' average, or when that cannot be operated in every
scenario the agreed integer decisions with stockpile capacity re-optimised,
or the largest module builds; see docs/decomposition.md); for the EF the
MIP gap HiGHS reports.  ``--lp`` turns the preset's integer projects and
offtakes off (a pure LP, PH's home ground).  A markdown table goes to stdout,
everything to the JSON file.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))  # measure this checkout's planner, not an installed copy


# ====================================================================== worker (fresh process)
def worker(method: str, path: str, iterations: int, rho: float, tol: float) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING)
    from planner.workflows.run import solve_file
    t0 = time.perf_counter()
    if method == "ef":
        oc = solve_file(path, write=False)
    else:
        from planner.workflows.decomp import solve_file_ph
        oc = solve_file_ph(path, write=False, iterations=iterations, rho=rho, tol=tol)
    wall = time.perf_counter() - t0
    out = {"method": method, "wall_s": wall, "exit_code": oc.exit_code, "status": oc.status,
           "objective": oc.objective, "gap": oc.gap, "times": oc.times, "message": oc.message[:500]}
    ph = getattr(oc, "ph", None)
    if ph is not None:
        out.update(bound=ph.bound, trivial_bound=ph.trivial_bound, lagrangian_bound=ph.lagrangian_bound,
                   iterations=ph.iterations, convergence=ph.convergence, converged=ph.converged,
                   ph_s=ph.seconds, first_stage=ph.n_first_stage, rounded=len(ph.rounded),
                   plan=dict(oc.summary_extra).get("ph_plan", ""))
    return out


def run_worker(method: str, path: Path, a) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, str(path), "--ph-iterations", str(a.ph_iterations),
           "--ph-rho", str(a.ph_rho), "--ph-tol", str(a.ph_tol)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": "0"})
    except subprocess.TimeoutExpired:
        return {"method": method, "status": f"timeout ({a.timeout:g} s)", "wall_s": time.perf_counter() - t0}
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode or not lines:
        return {"method": method, "status": "crashed", "wall_s": time.perf_counter() - t0,
                "message": (p.stderr or p.stdout)[-800:]}
    return json.loads(lines[-1])


# ====================================================================== report
def _f(x, fmt="{:,.1f}") -> str:
    return "–" if x is None or x != x else fmt.format(x)


def plan_kind(ph: dict) -> str:
    """Which plan PH's objective is for: the scenarios' average, or a fallback (planner.workflows.decomp.solve_file_ph)."""
    text = ph.get("plan") or ph.get("message", "")
    if "largest module builds" in text:
        return "largest builds"
    if "stockpile capacity re-optimised" in text or "average plan cannot be operated" in text:
        return "stock re-optimised"
    return "average" if ph.get("exit_code") == 0 else "–"


def markdown(rows: list[dict], head: dict) -> str:
    L = [f"Measured {head['date']} on {head['machine']} (Python {head['python']}, mpi-sppy {head['mpisppy']}, "
         f"HiGHS through Pyomo's `{head['solver']}` for PH); network of preset {head['preset']}"
         f"{' with integer projects and offtakes off (LP)' if head['lp'] else ''}; PH serial, iteration limit "
         f"{head['ph_iterations']}, rho × {head['ph_rho']:g}, tolerance {head['ph_tol']:g}. "
         f"Command: `{head['command']}`.", "",
         "| scenarios | EF wall s | EF objective (MUSD) | EF gap | PH wall s | of which PH s | PH iterations "
         "| PH convergence | plan evaluated | PH objective (MUSD) | PH lower bound | PH gap | PH − EF |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in rows:
        ef, ph = r["ef"], r["ph"]
        ok_ef, ok_ph = ef.get("exit_code") == 0, ph.get("exit_code") == 0
        diff = (ph["objective"] - ef["objective"]) / abs(ef["objective"]) if ok_ef and ok_ph else None
        L.append(" | ".join([
            f"| {r['scenarios']}",
            _f(ef.get("wall_s")),
            _f(ef.get("objective"), "{:,.3f}") if ok_ef else ef.get("status", "?"),
            _f(ef.get("gap"), "{:.2%}") if ok_ef else "–",
            _f(ph.get("wall_s")),
            _f(ph.get("ph_s")),
            str(ph.get("iterations", "–")) + ("" if ph.get("converged", True) else " (limit)"),
            _f(ph.get("convergence"), "{:.2g}"),
            plan_kind(ph),
            _f(ph.get("objective"), "{:,.3f}") if ok_ph else
            ("plan infeasible" if "cannot be operated" in ph.get("message", "") else ph.get("status", "?")),
            _f(ph.get("bound"), "{:,.3f}"),
            _f(ph.get("gap"), "{:.4%}") if ok_ph else "–",
            _f(diff, "{:+.4%}") + " |",
        ]))
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="S", help="network (benchmarks/generate.py preset) [S]")
    ap.add_argument("--scenario-counts", nargs="+", type=int, default=[4, 16, 64])
    ap.add_argument("--lp", action="store_true", help="no integer projects, no offtakes: a pure LP")
    ap.add_argument("--ph-iterations", type=int, default=50)
    ap.add_argument("--ph-rho", type=float, default=1.0)
    ap.add_argument("--ph-tol", type=float, default=1e-3)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per solve (each in its own process)")
    ap.add_argument("--json", default=str(HERE / "results" / "decomp.json"), help="JSON output file")
    ap.add_argument("--from-json", nargs="+", metavar="FILE",
                    help="no measuring: render the tables of earlier --json reports (with --write-docs: into the docs)")
    ap.add_argument("--write-docs", action="store_true",
                    help="replace the block between <!-- decomp:table --> markers of --docs")
    ap.add_argument("--docs", default=str(ROOT / "docs" / "decomposition.md"), help="the markdown file --write-docs updates")
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker[0], a.worker[1], a.ph_iterations, a.ph_rho, a.ph_tol), default=float))
        return 0

    if a.from_json:
        mds = []
        for f in a.from_json:
            rep = json.loads(Path(f).read_text())
            mds.append(markdown(rep["runs"], rep["head"]))
        md = "\n\n".join(mds)
        print(md)
        if a.write_docs:
            write_docs(md, Path(a.docs))
        return 0

    import generate
    if a.preset not in generate.PRESETS:
        ap.error(f"unknown preset {a.preset}; known: {', '.join(generate.PRESETS)}")
    from importlib.metadata import version

    from planner.solver.highs import PYOMO_SOLVER
    head = {"date": _dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(), "mpisppy": version("mpi-sppy"),
            "solver": PYOMO_SOLVER, "preset": a.preset, "lp": a.lp, "ph_iterations": a.ph_iterations,
            "ph_rho": a.ph_rho, "ph_tol": a.ph_tol,
            "command": "python benchmarks/decomp.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.scenario_counts:
            z = replace(generate.PRESETS[a.preset], scenarios=n)
            if a.lp:
                z = replace(z, integer_projects=0, offtakes=0)
            path = generate.write(Path(tmp) / f"{a.preset}-s{n}.xlsx", z)
            print(f"[{time.strftime('%H:%M:%S')}] {a.preset} with {n} scenarios: EF", file=sys.stderr, flush=True)
            ef = run_worker("ef", path, a)
            print(f"[{time.strftime('%H:%M:%S')}]   EF {ef.get('wall_s', 0):.1f} s; PH", file=sys.stderr, flush=True)
            ph = run_worker("ph", path, a)
            print(f"[{time.strftime('%H:%M:%S')}]   PH {ph.get('wall_s', 0):.1f} s", file=sys.stderr, flush=True)
            rows.append({"scenarios": n, "size": asdict(z), "ef": ef, "ph": ph})
    md = markdown(rows, head)
    print(md)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps({"head": head, "runs": rows}, indent=1, default=float))
    print(f"\nwrote {a.json}", file=sys.stderr)
    if a.write_docs:
        write_docs(md, Path(a.docs))
    return 0


def write_docs(md: str, docs: Path) -> None:
    """Replace the generated block of ``docs`` (docs/decomposition.md) (between the decomp:table markers)."""
    text = docs.read_text()
    start, end = "<!-- decomp:table -->", "<!-- /decomp:table -->"
    i, j = text.index(start) + len(start), text.index(end)
    docs.write_text(text[:i] + "\n" + md + "\n" + text[j:])
    print(f"updated {docs}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
