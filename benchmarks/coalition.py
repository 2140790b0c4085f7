"""Coalition analysis at scale (issue 13, item 6; SPEC §6).

    python benchmarks/coalition.py                        # both parts, 2 jobs, JSON to benchmarks/results/
    python benchmarks/coalition.py --part exact           # the example's 255 coalitions vs one solve
    python benchmarks/coalition.py --part cli --repeat 3          # the same as whole commands, 3 rounds
    python benchmarks/coalition.py --part sampled --members 20 --samples 10 20 40

Part ``exact``: one solve of the shipped example (``solve_file``, read to results workbook written, in this
process, after a warm-up solve so imports are paid) against ``run_coalition`` in exact mode (all 2^8 − 1
= 255 coalitions, nucleolus and least core, workbook written) on ``--jobs`` processes; the ratio of
their wall times.

Part ``sampled``: a generated instance (benchmarks/generate.py, ``--members`` members, one supply chain,
few years and scenarios so that one solve is quick) analysed by sampled Shapley with each of
``--samples`` permutation counts: solves needed (distinct coalitions; reused across permutations), wall
time, the largest standard error, and the number of permutations (hence solves) that a target standard
error would take, k = (σ_max / target)² with σ_max the largest per-member standard deviation of the
marginal costs (s.e. · √k).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def part_exact(jobs: int, example: str) -> dict:
    from planner.workflows.coalition import run_coalition
    from planner.workflows.run import solve_file

    tmp = Path(tempfile.mkdtemp(prefix="coalbench"))
    solve_file(example, out=str(tmp / "warm.xlsx"), force=True)  # imports, caches

    def one_solve():
        t = time.perf_counter()
        oc = solve_file(example, out=str(tmp / "one.xlsx"), force=True)
        return time.perf_counter() - t, oc

    before = [one_solve()[0] for _ in range(2)]
    t = time.perf_counter()
    res = run_coalition(example, out=str(tmp / "coal.xlsx"), jobs=jobs, force=True, progress=False)
    wall = time.perf_counter() - t
    after = [one_solve() for _ in range(2)]
    oc = after[-1][1]
    times = sorted(before + [a for a, _ in after])
    one = (times[1] + times[2]) / 2  # median of four, before and after (the load may change during the run)
    s = dict(zip(res.tables["summary"]["key"], res.tables["summary"]["value"]))
    coal = res.tables["coalitions"]
    by_size = coal.groupby("size")["time_s"].agg(["count", "mean", "max"]).round(3)
    return {"one_solve_s": round(one, 2), "one_solve_times_s": [round(x, 2) for x in times],
            "one_solve_objective": oc.objective, "jobs": jobs,
            "coalitions": len(coal), "coalition_wall_s": round(wall, 2), "ratio": round(wall / one, 1),
            "sum_of_coalition_times_s": round(float(coal["time_s"].sum()), 1),
            "relaxed": int(coal["relaxed"].sum()), "c_N_musd": float(s["c_N_musd"]),
            "time_by_size": {int(k): v for k, v in by_size.to_dict("index").items()},
            "allocation": res.tables["allocation"].round(1).to_dict("records"),
            "core": res.tables["core"][["allocation", "in_core", "excess_musd", "verdict"]].to_dict("records")}


def part_cli(jobs: int, example: str, solves: int = 4, repeat: int = 1) -> dict:
    """What an analyst waits for: ``planner coalition -j JOBS`` against ``planner solve`` of the example, each the
    whole command (interpreter start and imports included): the median of ``solves`` solves, half before and half
    after the coalition command (the machine's speed may drift), against one coalition run; ``repeat`` such
    rounds, their median ratio reported (the ratio of one round moves by a few per cent with the machine)."""
    import statistics

    rounds = [_cli_round(jobs, example, solves) for _ in range(repeat)]
    out = dict(rounds[len(rounds) // 2] if len(rounds) % 2 else rounds[0])
    out["rounds"] = rounds
    out["ratio_median"] = round(statistics.median(r["ratio"] for r in rounds), 1)
    out["ratio_range"] = [min(r["ratio"] for r in rounds), max(r["ratio"] for r in rounds)]
    return out


def _cli_round(jobs: int, example: str, solves: int) -> dict:
    """One round of :func:`part_cli`."""
    import statistics
    import subprocess

    tmp = Path(tempfile.mkdtemp(prefix="coalcli"))
    exe = [sys.executable, "-m", "planner.cli"]
    one = [*exe, "solve", example, "-o", str(tmp / "one.xlsx"), "--force"]
    coal = [*exe, "coalition", example, "-j", str(jobs), "-o", str(tmp / "coal.xlsx"), "--force"]

    def timed(cmd):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(HERE.parent), check=False)
        if p.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed\n{p.stderr[-2000:]}")
        return time.perf_counter() - t0

    timed(one)  # warm-up: file caches, bytecode
    before = [timed(one) for _ in range(solves // 2)]
    wall = timed(coal)
    after = [timed(one) for _ in range(solves - solves // 2)]
    one_s = statistics.median(before + after)
    return {"solve_wall_s": round(one_s, 2), "solve_times_s": [round(x, 2) for x in before + after],
            "coalition_wall_s": round(wall, 2), "ratio": round(wall / one_s, 1), "jobs": jobs}


def part_sampled(jobs: int, members: int, samples: list[int], seed: int, target_se: float) -> dict:
    import generate

    from planner.workflows.coalition import run_coalition

    tmp = Path(tempfile.mkdtemp(prefix="coalbench"))
    z = generate.Size(members=members, chains=1, years=4, scenarios=2, projects=4, integer_projects=1,
                      offtakes=2, stockpiles=4, routes=None, mip_gap=0.001, seed=seed)
    path = generate.write(tmp / f"gen{members}.xlsx", z)
    rows = []
    for k in samples:
        t = time.perf_counter()
        res = run_coalition(str(path), out=str(tmp / f"s{k}.xlsx"), samples=k, seed=seed, jobs=jobs, force=True,
                            progress=False)
        wall = time.perf_counter() - t
        a = res.tables["allocation"]
        se = a["shapley_se_musd"]
        sigma = float((se * math.sqrt(k)).max())
        need_k = math.ceil((sigma / target_se) ** 2) if target_se > 0 else None
        s = dict(zip(res.tables["summary"]["key"], res.tables["summary"]["value"]))
        rows.append({"samples": k, "solves": int(s["coalitions_solved"]), "upper_bound": k * (members - 2) + members + 1,
                     "wall_s": round(wall, 1), "max_se_musd": round(float(se.max()), 3),
                     "mean_se_musd": round(float(se.mean()), 3), "sigma_max_musd": round(sigma, 3),
                     "c_N_musd": round(float(s["c_N_musd"]), 3),
                     f"permutations_for_se_{target_se:g}": need_k})
    return {"members": members, "size": {k: v for k, v in vars(z).items()}, "runs": rows, "target_se": target_se}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["exact", "sampled", "cli", "both"], default="both",
                    help="cli: planner coalition against planner solve as whole commands")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--example", default=str(HERE.parent / "inputs" / "bloc_example.xlsx"))
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--samples", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-se", type=float, default=1.0, help="MUSD: report the permutations it would take")
    ap.add_argument("--repeat", type=int, default=1, help="cli: rounds (the median ratio is reported)")
    ap.add_argument("--json", default=str(HERE / "results" / "coalition.json"),
                    help="results file; the parts run replace theirs, the others are kept")
    a = ap.parse_args(argv)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_average_at_start": os.getloadavg()}}
    if a.part in ("exact", "both"):
        out["exact"] = part_exact(a.jobs, a.example)
        e = out["exact"]
        print(f"exact: {e['coalitions']} coalitions in {e['coalition_wall_s']} s on {a.jobs} jobs; one solve "
              f"{e['one_solve_s']} s; ratio {e['ratio']}x", flush=True)
    if a.part == "cli":
        out["cli"] = part_cli(a.jobs, a.example, repeat=a.repeat)
        c = out["cli"]
        for r in c["rounds"]:
            print(f"whole commands: planner coalition -j {a.jobs} {r['coalition_wall_s']} s; planner solve "
                  f"{r['solve_wall_s']} s (median of {len(r['solve_times_s'])}); ratio {r['ratio']}x", flush=True)
        print(f"median ratio of {len(c['rounds'])} rounds: {c['ratio_median']}x (range {c['ratio_range'][0]}–"
              f"{c['ratio_range'][1]})", flush=True)
    if a.part in ("sampled", "both"):
        out["sampled"] = part_sampled(a.jobs, a.members, a.samples, a.seed, a.target_se)
        print(f"sampled, {a.members} members:")
        print("| permutations | solves | ≤ k(n−2)+n+1 | wall s | max s.e. MUSD | σ_max MUSD | permutations for "
              f"s.e. {a.target_se:g} |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in out["sampled"]["runs"]:
            print(f"| {r['samples']} | {r['solves']} | {r['upper_bound']} | {r['wall_s']} | {r['max_se_musd']} | "
                  f"{r['sigma_max_musd']} | {r[f'permutations_for_se_{a.target_se:g}']} |")
    out["machine"]["load_average_at_end"] = os.getloadavg()
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    old = {}
    if Path(a.json).exists():
        try:
            old = json.loads(Path(a.json).read_text())
        except ValueError:
            old = {}
    for part in ("exact", "cli", "sampled"):  # the parts run replace theirs; each part keeps its machine's record
        if part in out:
            out[part]["machine"] = out["machine"]
    merged = {**{k: v for k, v in old.items() if k not in ("machine", "note") and k.removesuffix("_run") not in out},
              **out}
    Path(a.json).write_text(json.dumps(merged, indent=1, default=str))
    print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
