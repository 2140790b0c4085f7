"""Issue 18 measurements: a tighter MIP, warm starts, the duals LP (docs/performance.md "Proving optimality").

    python benchmarks/issue18.py example            # the example at 1e-5, plain vs strengthened, both trees
    python benchmarks/issue18.py orlib [--plain]    # capa 8000, capb 5000, capc 5000 at gap 1e-6, 600 s each
    python benchmarks/issue18.py sweep              # a 5-point sweep of the example vs one solve (in one process, and
                                                    # as whole commands: planner sweep vs planner solve)
    python benchmarks/issue18.py duals [--preset L] # the fixed-integer duals LP against the MIP
    python benchmarks/issue18.py all --json benchmarks/results/issue18.json

Every figure is measured in a fresh Python process (``python -c``), one after the other, with wall time
and CPU time (user + system of that process and its threads: on a shared, loaded machine the CPU time is
the steadier figure) and the 1-minute load average when it started.  ``plain`` = PLANNER_STRENGTHEN=off
PLANNER_MIP_TUNING=off PLANNER_MIP_BLOCKS=off (SPEC §3 without planner/model/strengthen.py, HiGHS's options at their defaults, the model solved whole, as before).  Nothing here is a timed test.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = str(ROOT / "inputs" / "bloc_example.xlsx")
HARD = {"foresight_years": 99, "terminal_stock_value": 0}

_SOLVE = r"""
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
from planner.input.load import load
from planner.model.prepare import prepare
from planner.workflows.run import solve_model
t0 = time.perf_counter()
d = prepare(load({path!r}, {ov!r}), scenario={scenario!r})
ctx, res, times = solve_model(d, duals={duals!r})
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({{"status": res.status, "objective": res.objective, "gap": res.gap,
      "bound": res.bound, "highs_s": times.get("highs", 0.0), "fixed_lp_s": times.get("highs_fixed_lp", 0.0),
      "wall_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime, "rows": res.n_rows,
      "cols": res.n_cols, "ints": res.n_int}}))
"""

_SWEEP = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
import planner.workflows.batch as batch
from planner.workflows.sweep import run_sweep
if not {warm!r}:
    batch._resolve_start = lambda t, plan: __import__("dataclasses").replace(t, start=None)
t0 = time.perf_counter()
summary, outcomes, _ = run_sweep({path!r}, [{key!r}], out={out!r}, overrides={ov!r}, force=True, progress=False,
                                 duals={duals!r}, scenario={scenario!r})
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({{"wall_s": time.perf_counter() - t0, "cpu_s": ru.ru_utime + ru.ru_stime,
      "status": [o.status for o in outcomes], "objective": [o.objective for o in outcomes],
      "highs_s": [o.times.get("highs", 0.0) for o in outcomes],
      "fixed_lp_s": [o.times.get("highs_fixed_lp", 0.0) for o in outcomes],
      "blocks_reused": [o.times.get("mip_blocks_reused", 0) for o in outcomes]}}))
"""


_SOLVE_FILE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from planner.workflows.run import solve_file
t0 = time.perf_counter()
oc = solve_file({path!r}, out={out!r}, overrides={ov!r}, scenario={scenario!r}, force=True, duals={duals!r})
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({{"status": oc.status, "objective": oc.objective, "wall_s": time.perf_counter() - t0,
      "cpu_s": ru.ru_utime + ru.ru_stime, "highs_s": oc.times.get("highs", 0.0)}}))
"""


def _load() -> float:
    return os.getloadavg()[0]


def run(code: str, env: dict | None = None, label: str = "") -> dict:
    load = _load()
    e = dict(os.environ, **(env or {}))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, cwd=str(ROOT),
                       check=False)
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
    if not line:
        raise SystemExit(f"{label}: failed\n{p.stderr[-3000:]}")
    r = json.loads(line[-1][7:])
    r.update(label=label, load_at_start=round(load, 2), elapsed_s=time.perf_counter() - t0)
    print(json.dumps(r), flush=True)
    return r


def solve(path, ov, plain=False, duals=False, label="", scenario=None, env_extra=None):
    # plain: SPEC §3 as before issue 18 (no valid inequalities, HiGHS's MIP options at their defaults)
    env = {"PLANNER_STRENGTHEN": "off", "PLANNER_MIP_TUNING": "off", "PLANNER_MIP_BLOCKS": "off"} if plain else {"PLANNER_STRENGTHEN": "on"}
    env.update(env_extra or {})
    return run(_SOLVE.format(root=str(ROOT), path=str(path), ov=ov, duals=duals, scenario=scenario), env, label)


def bench_example(gap=1e-5, limit=900.0) -> list:
    out = []
    for tree, extra in (("default tree", {}), ("foresight beyond horizon, terminal 0", HARD)):
        ov = {"mip_gap": gap, "time_limit_s": limit, **extra}
        for plain in (True, False):
            out.append(solve(EXAMPLE, ov, plain=plain, label=f"example {tree}, {'plain' if plain else 'strong'}"))
    return out


def bench_orlib(plain=False, limit=600.0, names=("capa:8000", "capb:5000", "capc:5000"), both=False) -> list:
    sys.path.insert(0, str(HERE))
    from orlib import KNOWN, convert

    out = []
    for name in names:
        path = convert(name)
        for pl in ((True, False) if both else (plain,)):
            out.append(_orlib_one(name, path, pl, limit, KNOWN))
    return out


def _orlib_one(name, path, plain, limit, known) -> dict:
    r = solve(path, {"mip_gap": 1e-6, "time_limit_s": limit}, plain=plain,
              label=f"{name} {'plain' if plain else 'strong'}")
    r["objective_orlib"] = r["objective"] * 1e6
    r["known"] = known[name]
    r["rel_diff"] = (r["objective_orlib"] - known[name]) / known[name]
    print(json.dumps({"label": r["label"], "rel_diff": r["rel_diff"]}), flush=True)
    return r


def bench_sweep(gap=1e-5, cold=False, scenario=None, limit=3600.0) -> list:
    """A floor-price sweep of the example (5 points) against one solve of its first point, both with duals.
    ``scenario``: the example's scenario alone (a cheaper model when the machine is loaded)."""
    key = "commodities.NDPR_OX.floor_price_usd_per_t=80000:120000:10000"
    ov = {"mip_gap": gap, "time_limit_s": limit, "commodities.NDPR_OX.floor_price_usd_per_t": 80000}
    one = solve(EXAMPLE, ov, duals=True, scenario=scenario, label=f"example one solve (with duals) {scenario or ''}")
    # the same solve as a sweep point does it: read to results workbook written (what `planner solve` does)
    one_w = run(_SOLVE_FILE.format(root=str(ROOT), path=EXAMPLE, out="/tmp/issue18_one.xlsx", ov=ov, duals=True,
                                   scenario=scenario), label=f"example one solve, workbook written {scenario or ''}")
    ov = {"mip_gap": gap, "time_limit_s": limit}
    out = [one, one_w]
    for warm in (True, False) if cold else (True,):
        code = _SWEEP.format(root=str(ROOT), path=EXAMPLE, key=key, out=f"/tmp/issue18_sweep_{int(warm)}",
                             ov=ov, duals=True, warm=warm, scenario=scenario)
        r = run(code, label=f"5-point sweep, {'warm' if warm else 'cold'} starts")
        r["ratio_to_one_solve_wall"] = r["wall_s"] / one["wall_s"]
        r["ratio_to_one_solve_cpu"] = r["cpu_s"] / one["cpu_s"]
        r["ratio_to_one_solve_written_wall"] = r["wall_s"] / one_w["wall_s"]
        r["ratio_to_one_solve_written_cpu"] = r["cpu_s"] / one_w["cpu_s"]
        print(json.dumps({k: v for k, v in r.items() if k.startswith("ratio")}), flush=True)
        out.append(r)
    return out


def bench_sweep_cli(repeat: int = 5, gap: float = 1e-5) -> list:
    """What an analyst waits for: ``planner sweep`` (5 points) against ``planner solve`` of the example, each the
    whole command (interpreter start and imports included), run in turn A B A B ... and the ratio taken pair by
    pair (pairs keep it meaningful when the machine's speed drifts); medians over ``repeat`` pairs."""
    import statistics
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="issue18cli"))
    exe = [sys.executable, "-m", "planner.cli"]
    key = "commodities.NDPR_OX.floor_price_usd_per_t=80000:120000:10000"
    one = [*exe, "solve", EXAMPLE, "-o", str(tmp / "one.xlsx"), "--force", "--mip-gap", str(gap)]
    sweep = [*exe, "sweep", EXAMPLE, "--set", key, "-o", str(tmp / "sweep"), "--force", "--mip-gap", str(gap)]

    def timed(cmd):
        t0 = time.perf_counter()
        ru0 = os.times()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), check=False)
        ru1 = os.times()
        if p.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed\n{p.stderr[-2000:]}")
        return time.perf_counter() - t0, (ru1.children_user - ru0.children_user) + (ru1.children_system -
                                                                                 ru0.children_system)

    timed(one)  # warm-up: file caches, bytecode
    load = _load()
    pairs = []
    for _ in range(repeat):
        a, b = timed(sweep), timed(one)
        pairs.append((a, b))
    r = {"label": "CLI: planner sweep (5 points) vs planner solve, whole commands", "repeat": repeat,
         "load_at_start": round(load, 2),
         "sweep_wall_s": statistics.median(a[0] for a, _ in pairs),
         "solve_wall_s": statistics.median(b[0] for _, b in pairs),
         "sweep_cpu_s": statistics.median(a[1] for a, _ in pairs),
         "solve_cpu_s": statistics.median(b[1] for _, b in pairs),
         "ratio_wall": statistics.median(a[0] / b[0] for a, b in pairs),
         "ratio_cpu": statistics.median(a[1] / b[1] for a, b in pairs),
         "ratio_wall_min_max": [min(a[0] / b[0] for a, b in pairs), max(a[0] / b[0] for a, b in pairs)]}
    print(json.dumps(r), flush=True)
    return [r]


def bench_duals(preset="L") -> list:
    sys.path.insert(0, str(HERE))
    from generate import PRESETS, write

    path = HERE / "instances" / f"{preset}.xlsx"
    if not path.exists():
        write(path, PRESETS[preset])
    out = []
    # branch and bound only (as before the relaxation first), then the default: one after the other
    for first in ("off", "on"):
        r = solve(path, {}, duals=True, label=f"{preset} with duals, relaxation first {first}",
                  env_extra={"PLANNER_LP_FIRST": first})
        r["fixed_lp_share_of_mip"] = r["fixed_lp_s"] / r["highs_s"] if r["highs_s"] else float("nan")
        print(json.dumps({"label": r["label"], "highs_s": r["highs_s"], "fixed_lp_s": r["fixed_lp_s"],
                          "share": r["fixed_lp_share_of_mip"], "objective": r["objective"]}), flush=True)
        out.append(r)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["example", "orlib", "sweep", "duals", "all"])
    ap.add_argument("--plain", action="store_true", help="orlib: without the valid inequalities")
    ap.add_argument("--both", action="store_true", help="orlib: plain and strengthened, one after the other")
    ap.add_argument("--instances", nargs="+", default=["capa:8000", "capb:5000", "capc:5000"],
                    help="orlib: instances (cap41 ... cap134, capa:8000 ...)")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--preset", default="L")
    ap.add_argument("--cold", action="store_true", help="sweep: also without warm starts")
    ap.add_argument("--scenario", help="sweep: this scenario of the example alone")
    ap.add_argument("--json", help="append the records to this JSON file")
    a = ap.parse_args(argv)
    rec = []
    if a.what in ("example", "all"):
        rec += bench_example()
    if a.what in ("orlib", "all"):
        rec += bench_orlib(plain=a.plain, limit=a.time_limit, names=a.instances, both=a.both)
    if a.what in ("sweep", "all"):
        rec += bench_sweep(cold=a.cold, scenario=a.scenario)
        rec += bench_sweep_cli()
    if a.what in ("duals", "all"):
        rec += bench_duals(a.preset)
    if a.json:
        p = Path(a.json)
        old = json.loads(p.read_text()) if p.exists() else []
        p.write_text(json.dumps(old + rec, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
