"""The measuring stick (issue 5, item 2 and 4): where the time and memory of a solve go.

    python benchmarks/run.py --presets S M L --repeat 3 --write-docs
    python benchmarks/run.py --presets M --scenario-counts 1 4 16 64 --scenario-base M --write-docs
    python benchmarks/run.py --presets tiny --repeat 1 --json /tmp/bench.json      # quick check
    python benchmarks/run.py --profile M                                             # cProfile by phase

For each preset (``benchmarks/generate.py``) the workbook is generated once
(deterministic) and then, every run in a fresh Python process:

1. **planner**: read workbook, validate, prepare, build (Pyomo), hand-off
   (standard-form compile + ``passModel``), HiGHS (the run, plus the LP
   re-solve with integers fixed that gives a MIP its duals), extract results,
   write the results workbook; model size; peak RSS
   (``getrusage(RUSAGE_SELF).ru_maxrss`` of that process) and the peak so far
   after each phase.
2. **reference**: the very arrays planner hands to HiGHS (captured from
   ``planner.solver.highs._solve_arrays`` itself, with the same options) are written to MPS
   once; bare ``highspy`` reads and solves that file in a fresh process
   (time and peak RSS).

The summary per preset is the median over ``--repeat`` runs; the spread
(max − min) / median of the end-to-end time is reported as the noise.
``--write-docs`` rewrites the generated blocks of ``docs/performance.md``
(between ``<!-- bench:NAME -->`` markers; the prose around them is kept).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DOCS = ROOT / "docs" / "performance.md"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))  # measure this checkout's planner, not an installed copy

MiB = 1024.0  # ru_maxrss is in KiB on Linux


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ====================================================================== workers (fresh processes)
def worker_planner(path: str, outdir: str, profile: str | None = None) -> dict:
    """One end-to-end planner solve, phase by phase, in this (fresh) process.

    Phases are timed by wrapping the functions ``planner.workflows.run.solve_file`` calls (wall and CPU time, peak RSS
    after each); with ``profile`` each phase also gets its own cProfile, dumped to ``PROFILE.<phase>.pstats``.
    """
    t_start = time.perf_counter()
    import planner.workflows.run as prun
    from planner.input.reader import read_workbook
    from planner.input.validate import validate
    t_import = time.perf_counter() - t_start

    cpu, peaks, captured, profs = {}, {}, {}, {}
    gc_mode = os.environ.get("BENCH_GC", "default")  # experiment knob, see --gc
    if gc_mode == "off":
        import gc
        gc.disable()

    def timed(label, fn, after=None):
        def wrapper(*a, **k):
            prof = None
            if profile:
                import cProfile
                prof = profs.setdefault(label, cProfile.Profile())
                prof.enable()
            c0 = time.process_time()
            try:
                out = fn(*a, **k)
            finally:
                if prof:
                    prof.disable()
            cpu[label] = cpu.get(label, 0.0) + time.process_time() - c0
            peaks[label] = _peak_kib()
            if after:
                after(out, *a)
            return out
        return wrapper

    def on_solve(res, *a):
        captured["res"] = res

    def on_write_args(fn):
        def inner(path_, sheets, *a, **k):
            captured["rows_written"] = sum(len(df) for df in sheets.values())
            captured["cells_written"] = sum(len(df) * len(df.columns) for df in sheets.values())
            return fn(path_, sheets, *a, **k)
        return inner

    prun.prepare = timed("prepare", prun.prepare)
    prun.build = timed("build", prun.build, _freeze if gc_mode == "freeze" else None)
    solver_fn = "solve_ctx" if hasattr(prun, "solve_ctx") else "solve"  # the name planner.workflows.run calls
    setattr(prun, solver_fn, timed("solve", getattr(prun, solver_fn), on_solve))
    prun.extract = timed("extract", prun.extract)
    writer = "write_results" if hasattr(prun, "write_results") else "write_workbook"  # the name run.py calls
    setattr(prun, writer, timed("write", on_write_args(getattr(prun, writer))))
    read = timed("read", read_workbook)
    check = timed("validate", validate)

    t0 = time.perf_counter()
    inp = read(path)
    t1 = time.perf_counter()
    check(inp)
    t2 = time.perf_counter()
    if inp.problems.errors:
        raise SystemExit(f"{path}: {len(inp.problems.errors)} validation error(s): {inp.problems.errors[0]}")
    oc = prun.solve_file(path, out=str(Path(outdir) / (Path(path).stem + ".results.xlsx")), force=True, data=inp)
    t3 = time.perf_counter()
    for label, prof in profs.items():
        prof.dump_stats(f"{profile}.{label}.pstats")
    res = captured.get("res")
    if res is None or not res.has_solution:
        raise SystemExit(f"{path}: no solution ({oc.status}): {oc.message}")
    ph = dict(oc.times)
    times = {
        "read": t1 - t0,
        "validate": t2 - t1,
        "prepare": ph.get("prepare", 0.0),
        "build": ph.get("build", 0.0),
        "compile": res.times.get("handoff_compile", 0.0),
        "pass": res.times.get("handoff_pass", 0.0),
        "highs": res.times.get("highs", 0.0),
        "highs_fixed_lp": res.times.get("highs_fixed_lp", 0.0),
        "extract": ph.get("results", 0.0),
        "write": ph.get("write", 0.0),
    }
    e2e = t3 - t0
    times["other"] = max(0.0, e2e - sum(times.values()))
    return dict(kind="planner", status=res.status, objective=res.objective, gap=res.gap,
                rows=res.n_rows, cols=res.n_cols, nnz=res.nnz, n_int=res.n_int, times=times, cpu=cpu,
                import_s=t_import, end_to_end=e2e, highs_total=times["highs"] + times["highs_fixed_lp"],
                rows_written=captured.get("rows_written", 0), cells_written=captured.get("cells_written", 0),
                peak_rss_kib=_peak_kib(), peak_after_kib=peaks)


def _freeze(*_):
    """--gc freeze: move everything alive after the build out of the cyclic collector's reach."""
    import gc
    gc.collect()
    gc.freeze()


class _Captured(Exception):
    pass


def worker_export(path: str, mps: str) -> dict:
    """Write the exact model planner hands to HiGHS as MPS (+ the options it sets), without solving.

    Goes through ``planner.workflows.run.solve_model`` (whichever hand-off it uses) with ``highspy.Highs``
    replaced by a subclass that writes the model at ``passModel`` and stops there.
    """
    import highspy

    import planner.workflows.run as prun
    from planner.input.load import load
    from planner.model.prepare import prepare

    options = {}
    real = highspy.Highs

    class CaptureHighs(real):
        def setOptionValue(self, k, v):
            options[k] = v
            return super().setOptionValue(k, v)

        def passModel(self, *a, **k):  # options are set and integrality is in the model by now
            out = super().passModel(*a, **k)
            if str(mps).endswith(".npz"):  # the arrays themselves (array form of passModel), for worker_arrays
                import numpy as np
                np.savez(mps, **{name: np.asarray(v) for name, v in zip(PASS_ARGS, a)})
            else:
                self.writeModel(mps)
            raise _Captured(out)

    t0 = time.perf_counter()
    os.environ["PLANNER_MIP_BLOCKS"] = "off"  # the whole model, not the first of its independent blocks
    d = prepare(load(path))
    highspy.Highs = CaptureHighs
    try:
        prun.solve_model(d)
        raise SystemExit("export: planner did not call Highs.passModel")
    except _Captured:
        pass
    finally:
        highspy.Highs = real
    options.pop("output_flag", None)
    Path(mps).with_suffix(".options.json").write_text(json.dumps(options))
    return dict(kind="export", seconds=time.perf_counter() - t0, mps_bytes=os.path.getsize(mps), options=options)


PASS_ARGS = ("num_col", "num_row", "num_nz", "a_format", "sense", "offset", "col_cost", "col_lower", "col_upper",
             "row_lower", "row_upper", "a_start", "a_index", "a_value", "integrality")


def worker_arrays(npz: str, variant: str = "default") -> dict:
    """The array-built baseline (issue 19): the very arrays planner passed to HiGHS, loaded from a ``.npz`` file
    and handed to a fresh HiGHS with no model layer at all (one array-form ``passModel``, then ``run``), with
    planner's options.  ``variant``: an experiment on the same arrays (see ``benchmarks/parity.py``)."""
    t_start = time.perf_counter()
    import highspy
    import numpy as np
    t_import = time.perf_counter() - t_start
    options = json.loads(Path(npz).with_suffix(".options.json").read_text())
    t0 = time.perf_counter()
    z = dict(np.load(npz))
    args = [z[k] for k in PASS_ARGS]
    args[:6] = [int(x) if i < 5 else float(x) for i, x in enumerate(args[:6])]
    t1 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in options.items():
        h.setOptionValue(k, v)
    if variant != "default":
        import variants
        args = variants.apply(variant, h, args)
    t2 = time.perf_counter()
    h.passModel(*args)
    del args, z
    t3 = time.perf_counter()
    h.run()
    t4 = time.perf_counter()
    info = h.getInfo()
    return dict(kind="arrays", variant=variant, status=h.getModelStatus().name,
                objective=float(info.objective_function_value), iterations=int(info.simplex_iteration_count),
                ipm_iterations=int(info.ipm_iteration_count), import_s=t_import, read=t1 - t0, prep=t2 - t1,
                pass_s=t3 - t2, run=t4 - t3, total=(t1 - t0) + (t4 - t2), peak_rss_kib=_peak_kib())


def worker_highs(mps: str) -> dict:
    """Bare highspy: read the MPS file and run, with planner's options."""
    t_start = time.perf_counter()
    import highspy
    t_import = time.perf_counter() - t_start
    options = json.loads(Path(mps).with_suffix(".options.json").read_text())
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for k, v in options.items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    h.readModel(mps)
    t1 = time.perf_counter()
    h.run()
    t2 = time.perf_counter()
    info = h.getInfo()
    lp = h.getLp()
    return dict(kind="highs", status=h.getModelStatus().name, objective=float(info.objective_function_value),
                rows=lp.num_row_, cols=lp.num_col_, nnz=int(lp.a_matrix_.numNz()) if hasattr(lp.a_matrix_, "numNz")
                else len(lp.a_matrix_.value_), import_s=t_import, read=t1 - t0, run=t2 - t1, total=t2 - t0,
                peak_rss_kib=_peak_kib())


def worker_main(argv) -> int:
    kind = argv[0]
    if kind == "planner":
        out = worker_planner(argv[1], argv[2], argv[3] if len(argv) > 3 else None)
    elif kind == "export":
        out = worker_export(argv[1], argv[2])
    elif kind == "highs":
        out = worker_highs(argv[1])
    elif kind == "arrays":
        out = worker_arrays(argv[1], argv[2] if len(argv) > 2 else "default")
    else:
        raise SystemExit(f"unknown worker {kind}")
    print("BENCH-JSON " + json.dumps(out))
    return 0


# ====================================================================== driver
def run_worker(args: list[str], timeout: float | None = None, env: dict | None = None) -> dict:
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", *args], capture_output=True,
                       text=True, timeout=timeout, cwd=str(ROOT), env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    line = next((ln for ln in p.stdout.splitlines()[::-1] if ln.startswith("BENCH-JSON ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"worker {' '.join(args)} failed (exit {p.returncode}):\n{p.stdout[-2000:]}\n"
                           f"{p.stderr[-4000:]}")
    out = json.loads(line[len("BENCH-JSON "):])
    out["process_wall"] = wall
    out["load_avg_1min"] = load0
    return out


def machine() -> dict:
    cpu = "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = float("nan")
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal"):
                ram = int(ln.split()[1]) / 1024 ** 2
    except OSError:
        pass
    import highspy
    import pyomo
    h = highspy.Highs()
    return dict(cpu=cpu, cores=os.cpu_count(), ram_gib=round(ram, 1), python=platform.python_version(),
                pyomo=pyomo.__version__, highs=f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}",
                platform=platform.platform(), date=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"))


def median(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else float("nan")


def _obj_scale() -> float:
    from planner.solver.highs import OBJ_SCALE
    return OBJ_SCALE


def summarise(name: str, size: dict, runs: list[dict], export: dict | None, refs: list[dict],
              arrs: list[dict] | None = None) -> dict:
    phases = list(runs[0]["times"])
    t = {k: median([r["times"][k] for r in runs]) for k in phases}
    e2e = [r["end_to_end"] for r in runs]
    hs = median([r["highs_total"] for r in runs])
    s = dict(preset=name, size=size, repeat=len(runs), rows=runs[0]["rows"], cols=runs[0]["cols"],
             nnz=runs[0]["nnz"], n_int=runs[0]["n_int"], status=runs[0]["status"], objective=runs[0]["objective"],
             times=t, end_to_end=median(e2e), end_to_end_min=min(e2e), end_to_end_max=max(e2e),
             noise=(max(e2e) - min(e2e)) / median(e2e) if len(e2e) > 1 else float("nan"),
             highs_total=hs, process_wall=median([r["process_wall"] for r in runs]),
             import_s=median([r["import_s"] for r in runs]),
             peak_rss_mib=median([r["peak_rss_kib"] for r in runs]) / MiB,
             peak_after_mib={k: median([r["peak_after_kib"][k] for r in runs]) / MiB for k in runs[0]["peak_after_kib"]},
             cpu={k: median([r["cpu"][k] for r in runs]) for k in runs[0]["cpu"]},
             rows_written=runs[0]["rows_written"], cells_written=runs[0]["cells_written"],
             load_avg=median([r["load_avg_1min"] for r in runs]))
    s["ratio"] = s["end_to_end"] / hs if hs > 0 else float("nan")
    s["overhead"] = s["end_to_end"] - hs
    s["build_nnz_per_s"] = s["nnz"] / t["build"] if t["build"] > 0 else float("nan")
    s["build_nnz_per_cpu_s"] = s["nnz"] / s["cpu"]["build"] if s["cpu"].get("build", 0) > 0 else float("nan")
    s["write_cells_per_cpu_s"] = s["cells_written"] / s["cpu"]["write"] if s["cpu"].get("write", 0) > 0 else float("nan")
    s["handoff_nnz_per_s"] = s["nnz"] / (t["compile"] + t["pass"]) if t["compile"] + t["pass"] > 0 else float("nan")
    s["write_rows_per_s"] = s["rows_written"] / t["write"] if t["write"] > 0 else float("nan")
    s["write_cells_per_s"] = s["cells_written"] / t["write"] if t["write"] > 0 else float("nan")
    if refs:
        s["ref"] = dict(read=median([r["read"] for r in refs]), run=median([r["run"] for r in refs]),
                        total=median([r["total"] for r in refs]), process_wall=median([r["process_wall"] for r in refs]),
                        peak_rss_mib=median([r["peak_rss_kib"] for r in refs]) / MiB, status=refs[0]["status"],
                        objective=refs[0]["objective"], nnz=refs[0]["nnz"],
                        export_s=export["seconds"] if export else float("nan"),
                        mps_mib=export["mps_bytes"] / 2 ** 20 if export else float("nan"))
        s["e2e_vs_ref"] = s["end_to_end"] / s["ref"]["total"] if s["ref"]["total"] > 0 else float("nan")
        s["rss_vs_ref"] = s["peak_rss_mib"] / s["ref"]["peak_rss_mib"] if s["ref"]["peak_rss_mib"] else float("nan")
        o1, o2 = s["objective"], s["ref"]["objective"] / _obj_scale()  # HiGHS sees the objective x OBJ_SCALE
        s["objective_rel_diff"] = abs(o1 - o2) / max(1.0, abs(o1))
    if arrs:
        # planner's runs and the baseline's alternate, so the ratio of medians compares like with like
        s["arr"] = dict(read=median([r["read"] for r in arrs]), pass_s=median([r["pass_s"] for r in arrs]),
                        run=median([r["run"] for r in arrs]), total=median([r["total"] for r in arrs]),
                        peak_rss_mib=median([r["peak_rss_kib"] for r in arrs]) / MiB, status=arrs[0]["status"],
                        iterations=arrs[0].get("iterations"), load_avg=median([r["load_avg_1min"] for r in arrs]))
        a = s["arr"]
        s["e2e_vs_arrays"] = s["end_to_end"] / a["total"] if a["total"] > 0 else float("nan")
        s["rss_vs_arrays"] = s["peak_rss_mib"] / a["peak_rss_mib"] if a["peak_rss_mib"] else float("nan")
        s["highs_vs_arrays"] = t["highs"] / a["run"] if a["run"] > 0 else float("nan")
        # pairwise ratios (run i of planner against run i of the baseline) and their spread
        pr = [r["end_to_end"] / b["total"] for r, b in zip(runs, arrs) if b["total"] > 0]
        s["e2e_vs_arrays_pairs"] = pr
    return s


def bench_instance(name: str, z, workdir: Path, repeat: int, reference: bool, timeout, log,
                   arrays: bool = False) -> dict:
    import generate
    path = workdir / f"{name}.xlsx"
    generate.write(path, z)
    outdir = workdir / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    runs, arrs = [], []
    npz = workdir / f"{name}.npz"
    if arrays:  # planner's own final arrays, for the array-built baseline run beside each planner run
        run_worker(["export", str(path), str(npz)], timeout)
    for i in range(repeat):
        r = run_worker(["planner", str(path), str(outdir)], timeout)
        log(f"  {name} run {i + 1}/{repeat}: {r['nnz']:,} nnz, end-to-end {r['end_to_end']:.2f} s, HiGHS "
            f"{r['highs_total']:.2f} s, build {r['times']['build']:.2f} s, write {r['times']['write']:.2f} s, "
            f"peak {r['peak_rss_kib'] / MiB:.0f} MiB (load {r['load_avg_1min']:.1f})")
        runs.append(r)
        if arrays:  # interleaved with planner's runs: both see the same load on a shared machine
            a = run_worker(["arrays", str(npz)], timeout)
            log(f"  {name} array baseline {i + 1}/{repeat}: load {a['read']:.2f} s, passModel {a['pass_s']:.2f} s, "
                f"run {a['run']:.2f} s, peak {a['peak_rss_kib'] / MiB:.0f} MiB ({a['status']}, load "
                f"{a['load_avg_1min']:.1f})")
            arrs.append(a)
    if arrays and not os.environ.get("BENCH_KEEP_MPS"):
        npz.unlink(missing_ok=True)
    export, refs = None, []
    if reference:
        mps = workdir / f"{name}.mps"
        export = run_worker(["export", str(path), str(mps)], timeout)
        for i in range(repeat):
            r = run_worker(["highs", str(mps)], timeout)
            log(f"  {name} bare highspy {i + 1}/{repeat}: read {r['read']:.2f} s, run {r['run']:.2f} s, "
                f"peak {r['peak_rss_kib'] / MiB:.0f} MiB ({r['status']})")
            refs.append(r)
        if not os.environ.get("BENCH_KEEP_MPS"):
            mps.unlink(missing_ok=True)
    s = summarise(name, dataclasses.asdict(z), runs, export, refs, arrs)
    s["runs"] = runs
    s["refs"] = refs
    s["arrays_runs"] = arrs
    return s


def fit_exponent(xs, ys) -> float:
    """Least-squares slope of log y against log x."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    den = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else float("nan")


def exponents(summ: list[dict]) -> dict:
    xs = [s["nnz"] for s in summ]
    out = {"end_to_end": fit_exponent(xs, [s["end_to_end"] for s in summ]),
           "highs": fit_exponent(xs, [s["highs_total"] for s in summ]),
           "overhead": fit_exponent(xs, [s["overhead"] for s in summ]),
           "peak_rss": fit_exponent(xs, [s["peak_rss_mib"] for s in summ])}
    for k in ("build", "compile", "write", "extract"):
        out[k] = fit_exponent(xs, [s["times"][k] for s in summ])
    return out


# ====================================================================== markdown
def _f(x, nd=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:,.{nd}f}"


def _k(x):
    if x is None or x != x:
        return "–"
    return f"{x / 1e3:,.0f} k" if x < 1e6 else f"{x / 1e6:,.2f} M"


def md_presets(summ: list[dict], mach: dict, argv: str) -> str:
    L = []
    L.append(f"Measured {mach['date']} on {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']} GiB RAM "
             f"({mach['platform']}); Python {mach['python']}, Pyomo {mach['pyomo']}, HiGHS {mach['highs']}. "
             f"Median of " + ", ".join(f"{s['repeat']} ({s['preset']})" for s in summ) + " run(s), each in a fresh "
             f"process. Command: `{argv}`.")
    L.append("")
    L.append("**Model and headline figures**")
    L.append("")
    L.append("| preset | rows | columns | nonzeros | integer | end-to-end s | HiGHS s | end-to-end ÷ HiGHS | "
             "bare highspy s (read + run) | end-to-end ÷ bare | peak RSS MiB | bare highspy peak MiB | RSS ÷ bare | "
             "noise (spread ÷ median) | load avg |")
    L.append("|---|" + "---:|" * 14)
    for s in summ:
        ref = s.get("ref", {})
        L.append(f"| {s['preset']} | {s['rows']:,} | {s['cols']:,} | {s['nnz']:,} | {s['n_int']} | "
                 f"{_f(s['end_to_end'])} | {_f(s['highs_total'])} | {_f(s['ratio'])} | "
                 f"{_f(ref.get('total'))} ({_f(ref.get('read'))} + {_f(ref.get('run'))}) | {_f(s.get('e2e_vs_ref'))} | "
                 f"{_f(s['peak_rss_mib'], 0)} | {_f(ref.get('peak_rss_mib'), 0)} | {_f(s.get('rss_vs_ref'))} | "
                 f"{_f(100 * s['noise'], 0)} % | {_f(s['load_avg'], 1)} |")
    L.append("")
    L.append("**Wall time by phase, seconds** (HiGHS = its own run; *fixed LP* = the re-solve with integers fixed "
             "that gives a MIP its duals; *other* = the rest of `solve_file`: headline figures, summary table, "
             "file naming)")
    L.append("")
    ph = ["read", "validate", "prepare", "build", "compile", "pass", "highs", "highs_fixed_lp", "extract", "write",
          "other"]
    L.append("| preset | " + " | ".join(p.replace("highs_fixed_lp", "fixed LP").replace("compile", "hand-off: compile")
                                        .replace("pass", "hand-off: passModel").replace("highs", "HiGHS")
                                        for p in ph) + " | end-to-end | + interpreter & imports |")
    L.append("|---|" + "---:|" * (len(ph) + 2))
    for s in summ:
        L.append(f"| {s['preset']} | " + " | ".join(_f(s["times"][p]) for p in ph)
                 + f" | {_f(s['end_to_end'])} | {_f(s['process_wall'] - s['end_to_end'])} |")
    L.append("")
    L.append("**CPU seconds by phase** (process time, all threads; less sensitive than wall time to other load "
             "on the machine; *solve* = hand-off + HiGHS + fixed LP)")
    L.append("")
    cp = ["read", "validate", "prepare", "build", "solve", "extract", "write"]
    L.append("| preset | " + " | ".join(cp) + " |")
    L.append("|---|" + "---:|" * len(cp))
    for s in summ:
        L.append(f"| {s['preset']} | " + " | ".join(_f(s["cpu"].get(p)) for p in cp) + " |")
    L.append("")
    L.append("**Rates and memory**")
    L.append("")
    L.append("| preset | build nonzeros/s (per CPU-s) | hand-off nonzeros/s | result rows (cells) written | rows/s written | "
             "cells/s written (per CPU-s) | overhead s (end-to-end − HiGHS) | peak MiB after read / build / "
             "hand-off+HiGHS / extract / write | MPS file MiB | objective match |")
    L.append("|---|" + "---:|" * 9)
    for s in summ:
        pk = s["peak_after_mib"]
        ref = s.get("ref", {})
        L.append(f"| {s['preset']} | {_k(s['build_nnz_per_s'])} ({_k(s.get('build_nnz_per_cpu_s', float('nan')))}) | "
                 f"{_k(s['handoff_nnz_per_s'])} | {s['rows_written']:,} ({s['cells_written']:,}) | "
                 f"{_k(s['write_rows_per_s'])} | {_k(s['write_cells_per_s'])} "
                 f"({_k(s.get('write_cells_per_cpu_s', float('nan')))}) | "
                 f"{_f(s['overhead'])} | {_f(pk['read'], 0)} / {_f(pk['build'], 0)} / {_f(pk['solve'], 0)} / "
                 f"{_f(pk['extract'], 0)} / "
                 f"{_f(pk['write'], 0)} | {_f(ref.get('mps_mib'), 1)} | "
                 f"{'rel. diff ' + format(s['objective_rel_diff'], '.1e') if 'objective_rel_diff' in s else '–'} |")
    with_arr = [s for s in summ if s.get("arr")]
    if with_arr:
        L.append("")
        L.append("**Against the array-built baseline** (planner's own final arrays, loaded from a `.npz` file and "
                 "handed to a fresh HiGHS in one `passModel`, no model layer: what an array-built implementation "
                 "of the same model costs at best; its runs alternate with planner's, so both see the same load; "
                 "*HiGHS ÷ baseline run*: the same arrays, planner's HiGHS call against the bare one)")
        L.append("")
        L.append("| preset | planner end-to-end s | baseline s (load + passModel + run) | end-to-end ÷ baseline "
                 "(per pair) | planner HiGHS s (+ fixed LP) | HiGHS ÷ baseline run | planner peak MiB | "
                 "baseline peak MiB | RSS ÷ baseline | load avg |")
        L.append("|---|" + "---:|" * 9)
        for s in with_arr:
            a = s["arr"]
            pairs = ", ".join(f"{x:.2f}" for x in s.get("e2e_vs_arrays_pairs", []))
            L.append(f"| {s['preset']} | {_f(s['end_to_end'])} | {_f(a['total'])} ({_f(a['read'])} + "
                     f"{_f(a['pass_s'])} + {_f(a['run'])}) | {_f(s['e2e_vs_arrays'])} ({pairs}) | "
                     f"{_f(s['times']['highs'])} (+ {_f(s['times']['highs_fixed_lp'])}) | "
                     f"{_f(s['highs_vs_arrays'])} | {_f(s['peak_rss_mib'], 0)} | {_f(a['peak_rss_mib'], 0)} | "
                     f"{_f(s['rss_vs_arrays'])} | {_f(s['load_avg'], 1)} |")
    with_nnz = [s for s in summ if s["nnz"] > 0]
    if len(with_nnz) >= 2:
        ex = exponents(with_nnz)
        L.append("")
        L.append(f"**Fitted exponent** (time ∝ nonzeros^k, least squares over "
                 f"{' → '.join(s['preset'] for s in with_nnz)}): "
                 + ", ".join(f"{k.replace('_', '-')} {v:.2f}" for k, v in ex.items()) + ".")
    return "\n".join(L)


def md_scenarios(summ: list[dict], base: str, mach: dict, argv: str) -> str:
    L = [f"Measured {mach['date']} on the same machine; network of preset {base} with the scenario count varied "
         f"(same seed: identical members, chains, plants, routes); one fresh process per count. "
         f"Command: `{argv}`.", ""]
    L.append("| scenarios | rows | columns | nonzeros | build s | hand-off s | HiGHS s (MIP + fixed LP) | extract s | "
             "write s | end-to-end s | end-to-end ÷ HiGHS | peak RSS MiB | load avg |")
    L.append("|---:|" + "---:|" * 12)
    for s in summ:
        t = s["times"]
        L.append(f"| {s['size']['scenarios']} | {s['rows']:,} | {s['cols']:,} | {s['nnz']:,} | {_f(t['build'])} | "
                 f"{_f(t['compile'] + t['pass'])} | {_f(s['highs_total'])} ({_f(t['highs'])} + "
                 f"{_f(t['highs_fixed_lp'])}) | {_f(t['extract'])} | {_f(t['write'])} | "
                 f"{_f(s['end_to_end'])} | {_f(s['ratio'])} | {_f(s['peak_rss_mib'], 0)} | {_f(s['load_avg'], 1)} |")
    if len(summ) >= 2:
        xs = [s["size"]["scenarios"] for s in summ]
        L.append("")
        L.append("Fitted exponent against the scenario count: " + ", ".join(
            f"{k} {fit_exponent(xs, ys):.2f}" for k, ys in (
                ("end-to-end", [s["end_to_end"] for s in summ]), ("HiGHS", [s["highs_total"] for s in summ]),
                ("build", [s["times"]["build"] for s in summ]), ("write", [s["times"]["write"] for s in summ]),
                ("nonzeros", [s["nnz"] for s in summ]))) + ".")
    return "\n".join(L)


def md_before_after(before: dict, after: dict) -> str:
    """Issue 19's table: the same presets measured before and after, each against its array-built baseline
    (planner's final arrays to a fresh HiGHS) measured in the same run."""
    L = [f"Before: {before['machine']['date']}, `{before['command']}`; after: {after['machine']['date']}, "
         f"`{after['command']}`. Build in CPU seconds (the machine was shared: wall times of one run vary by "
         "tens of per cent, CPU time of the Python phases much less); *÷ baseline*: planner's end-to-end wall "
         "time over the array-built baseline's (load + passModel + HiGHS run), runs interleaved.", "",
         "| preset | nonzeros | build CPU s before → after | build nonzeros per CPU-s before → after | "
         "hand-off s before → after | end-to-end ÷ baseline before → after | HiGHS ÷ baseline run (same arrays) "
         "before → after | peak RSS MiB before → after | RSS ÷ baseline before → after | load avg before / after |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    aft = {s["preset"]: s for s in after["presets"]}
    for b in before["presets"]:
        a = aft.get(b["preset"])
        if a is None or not b.get("arr") or not a.get("arr"):
            continue
        L.append(f"| {b['preset']} | {b['nnz']:,} | {_f(b['cpu']['build'])} → {_f(a['cpu']['build'])} | "
                 f"{_k(b['build_nnz_per_cpu_s'])} → {_k(a['build_nnz_per_cpu_s'])} | "
                 f"{_f(b['times']['compile'] + b['times']['pass'])} → {_f(a['times']['compile'] + a['times']['pass'])} | "
                 f"{_f(b['e2e_vs_arrays'])} → {_f(a['e2e_vs_arrays'])} | "
                 f"{_f(b['highs_vs_arrays'])} → {_f(a['highs_vs_arrays'])} | "
                 f"{_f(b['peak_rss_mib'], 0)} → {_f(a['peak_rss_mib'], 0)} | {_f(b['rss_vs_arrays'])} → "
                 f"{_f(a['rss_vs_arrays'])} | {_f(b['load_avg'], 1)} / {_f(a['load_avg'], 1)} |")
    return "\n".join(L)


DOC_TEMPLATE = """# Performance

<!-- bench:presets -->
<!-- /bench:presets -->

<!-- bench:scenarios -->
<!-- /bench:scenarios -->
"""


def replace_block(text: str, name: str, body: str) -> str:
    pat = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.S)
    if not pat.search(text):
        text = text.rstrip("\n") + f"\n\n<!-- bench:{name} -->\n<!-- /bench:{name} -->\n"
    return pat.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


# ====================================================================== profile
PHASES = ("read", "validate", "prepare", "build", "solve", "extract", "write")


def profile(name: str, z, workdir: Path, top: int, log) -> str:
    """cProfile each phase of one end-to-end run of preset ``name``; markdown tables of the hot spots."""
    import pstats

    import generate
    path = workdir / f"{name}.xlsx"
    generate.write(path, z)
    base = workdir / f"profile-{name}"
    r = run_worker(["planner", str(path), str(workdir / "out"), str(base)])
    stats = {}
    for ph in PHASES:
        f = Path(f"{base}.{ph}.pstats")
        if f.exists():
            stats[ph] = pstats.Stats(str(f)).stats
    own = {ph: sum(v[2] for v in st.values()) for ph, st in stats.items()}
    total = sum(own.values())

    def short(key):
        fn, ln, func = key
        fn = re.sub(r".*site-packages/", "", fn).replace(str(ROOT) + "/", "")
        return f"{fn}:{ln}({func})" if fn != "~" else func

    L = [f"cProfile of preset {name} ({r['nnz']:,} nonzeros), one profiler per phase; profiled wall "
         f"{r['end_to_end']:.1f} s (profiling inflates Python-heavy phases). Share = own time ÷ all profiled "
         f"time ({total:.1f} s). HiGHS itself shows as `acquire` (highspy waits for its solver thread) or `run`.",
         "", "| phase | profiled s | share |", "|---|---:|---:|"]
    for ph in stats:
        L.append(f"| {ph} | {own[ph]:.1f} | {100 * own[ph] / total:.1f} % |")
    L += ["", f"**Top {top} functions by own time, all phases**", "",
          "| # | phase | function | own s | share | cumulative s | calls |", "|---:|---|---|---:|---:|---:|---:|"]
    allrows = [(ph, k, v) for ph, st in stats.items() for k, v in st.items()]
    allrows.sort(key=lambda x: x[2][2], reverse=True)
    for i, (ph, k, v) in enumerate(allrows[:top], 1):
        L.append(f"| {i} | {ph} | `{short(k)}` | {v[2]:.2f} | {100 * v[2] / total:.1f} % | {v[3]:.2f} | {v[1]:,} |")
    for ph, st in stats.items():
        if own[ph] < 0.02 * total:
            continue
        L += ["", f"**{ph}**: top functions by own time (share of the phase); then the largest cumulative "
                  "entries of planner's own code", "", "| function | own s | share of phase | cumulative s | calls |",
              "|---|---:|---:|---:|---:|"]
        rows = sorted(st.items(), key=lambda kv: kv[1][2], reverse=True)[:8]
        for k, v in rows:
            L.append(f"| `{short(k)}` | {v[2]:.2f} | {100 * v[2] / own[ph]:.1f} % | {v[3]:.2f} | {v[1]:,} |")
        mine = sorted(((k, v) for k, v in st.items() if k[0].startswith(str(ROOT / "planner"))),
                      key=lambda kv: kv[1][3], reverse=True)[:6]
        for k, v in mine:
            L.append(f"| cum: `{short(k)}` | {v[2]:.2f} | {100 * v[2] / own[ph]:.1f} % | {v[3]:.2f} | {v[1]:,} |")
    return "\n".join(L)


# ====================================================================== main
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker_main(argv[1:])
    import generate
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presets", nargs="*", default=["S", "M"], help="presets to run (" + ", ".join(generate.PRESETS) + ")")
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs per preset (median reported)")
    ap.add_argument("--repeat-for", nargs="*", default=[], metavar="PRESET=N",
                    help="override --repeat for some presets, e.g. L=1")
    ap.add_argument("--no-reference", action="store_true", help="skip the MPS + bare highspy reference")
    ap.add_argument("--no-arrays", action="store_true",
                    help="skip the array-built baseline (planner's final arrays to a fresh HiGHS, no model layer)")
    ap.add_argument("--scenario-counts", nargs="*", type=int, default=[], help="scenario counts for the scaling table")
    ap.add_argument("--scenario-base", default="M", help="preset whose network the scenario table uses")
    ap.add_argument("--scenario-repeat", type=int, default=1)
    ap.add_argument("--workdir", default=str(HERE / "instances"), help="where workbooks, results and MPS go")
    ap.add_argument("--json", help="write every measurement to this JSON file")
    ap.add_argument("--write-docs", action="store_true", help="rewrite the generated blocks of docs/performance.md")
    ap.add_argument("--docs", default=str(DOCS), help="the markdown file --write-docs updates")
    ap.add_argument("--timeout", type=float, help="seconds per worker process")
    ap.add_argument("--profile", metavar="PRESET", help="cProfile one end-to-end run of PRESET and print the top "
                                                         "functions (no other measurement)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--from-json", metavar="FILE", help="no measuring: render the tables of an earlier --json "
                                                        "report (with --write-docs: into the docs)")
    ap.add_argument("--before-after", nargs=2, metavar=("BEFORE", "AFTER"),
                    help="no measuring: the before/after table of two --json reports (with --write-docs: into "
                         "the docs' arrays block)")
    ap.add_argument("--handoff", choices=("default", "direct", "pyomo"), default="default",
                    help="experiment: planner's hand-off path (sets PLANNER_HANDOFF for the runs)")
    ap.add_argument("--gc", choices=("default", "off", "freeze"), default="default",
                    help="experiment: planner as is (default), Python's cyclic GC off for the whole run, or "
                         "gc.freeze() right after the build")
    a = ap.parse_args(argv)
    workdir = Path(a.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    os.environ["BENCH_GC"] = a.gc
    if a.handoff != "default":
        os.environ["PLANNER_HANDOFF"] = a.handoff
    cmd = "python benchmarks/run.py " + " ".join(argv)

    if a.profile:
        text = profile(a.profile, generate.PRESETS[a.profile], workdir, a.top, log)
        mach = machine()
        text = (f"Profiled {mach['date']} on {mach['cpu']}, {mach['cores']} cores; load average "
                f"{os.getloadavg()[0]:.1f}. Command: `{cmd}`.\n\n" + text)
        print(text)
        if a.write_docs:
            doc = Path(a.docs)
            doc.write_text(replace_block(doc.read_text() if doc.exists() else DOC_TEMPLATE, "profile", text))
            log(f"updated {doc}")
        return 0

    if a.before_after:
        reps = []
        for f in a.before_after:
            rep = json.loads(Path(f).read_text())
            for s in rep["presets"]:
                s.update(summarise(s["preset"], s["size"], s["runs"], None, s["refs"], s.get("arrays_runs")))
            reps.append(rep)
        text = md_before_after(*reps)
        print(text)
        if a.write_docs:
            doc = Path(a.docs)
            doc.write_text(replace_block(doc.read_text() if doc.exists() else DOC_TEMPLATE, "arrays", text))
            log(f"updated {doc}")
        return 0

    if a.from_json:
        rep = json.loads(Path(a.from_json).read_text())
        mach, cmd0 = rep["machine"], rep["command"]
        for s in rep["presets"] + rep["scenarios"]:  # derived figures added since the file was written
            s.update({k: v for k, v in summarise(s["preset"], s["size"], s["runs"], None, s["refs"],
                                                 s.get("arrays_runs")).items()
                      if k not in s and k != "ref"})
        blocks = {}
        if rep["presets"]:
            blocks["presets"] = md_presets(rep["presets"], mach, cmd0)
        if rep["scenarios"]:
            base = rep["scenarios"][0]["preset"].split("-s")[0]
            blocks["scenarios"] = md_scenarios(rep["scenarios"], base, mach, cmd0)
        print("\n\n".join(blocks.values()))
        if a.write_docs:
            doc = Path(a.docs)
            text = doc.read_text() if doc.exists() else DOC_TEMPLATE
            for k, v in blocks.items():
                text = replace_block(text, k, v)
            doc.write_text(text)
            log(f"updated {doc}")
        return 0

    unknown = [p for p in a.presets if p not in generate.PRESETS]
    if unknown or a.scenario_base not in generate.PRESETS:
        ap.error(f"unknown preset(s) {unknown or a.scenario_base}; known: {', '.join(generate.PRESETS)}")
    mach = machine()
    log(f"machine: {mach}")
    rep = {}
    for item in a.repeat_for:
        k, _, v = item.partition("=")
        if k not in generate.PRESETS or not v.isdigit() or int(v) < 1:
            ap.error(f"--repeat-for expects PRESET=N (got '{item}')")
        rep[k] = int(v)
    summ, scen = [], []
    for name in a.presets:
        log(f"preset {name}: {generate.PRESETS[name]}")
        summ.append(bench_instance(name, generate.PRESETS[name], workdir, rep.get(name, a.repeat),
                                   not a.no_reference, a.timeout, log, arrays=not a.no_arrays))
    for n in a.scenario_counts:
        z = dataclasses.replace(generate.PRESETS[a.scenario_base], scenarios=n)
        tag = f"{a.scenario_base}-s{n}"
        log(f"scenarios {n} on {a.scenario_base}")
        scen.append(bench_instance(tag, z, workdir, a.scenario_repeat, False, a.timeout, log))

    report = dict(machine=mach, command=cmd, presets=summ, scenarios=scen)
    if summ:
        print(md_presets(summ, mach, cmd))
    if scen:
        print()
        print(md_scenarios(scen, a.scenario_base, mach, cmd))
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1, default=float))
    if a.write_docs:
        doc = Path(a.docs)
        text = doc.read_text() if doc.exists() else DOC_TEMPLATE
        if summ:
            text = replace_block(text, "presets", md_presets(summ, mach, cmd))
        if scen:
            text = replace_block(text, "scenarios", md_scenarios(scen, a.scenario_base, mach, cmd))
        doc.write_text(text)
        log(f"updated {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
