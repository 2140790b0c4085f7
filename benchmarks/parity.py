"""HiGHS parity experiments (issue 19, item 2): the same arrays planner hands to HiGHS, varied one way at a time.

    python benchmarks/run.py --worker export instances/XL.xlsx /tmp/XL.npz      # planner's final arrays
    python benchmarks/parity.py /tmp/XL.npz --stats                               # what is in them
    python benchmarks/parity.py /tmp/XL.npz --variants default bounds ipm --repeat 3

Every run is a fresh process (``run.py --worker arrays NPZ VARIANT``); the variants of one repeat run one after
the other and the repeats alternate, so on a shared machine they see about the same load.  Variants:

- ``default``: the arrays as planner passes them;
- ``bounds``: rows with one nonzero become column bounds, empty rows are dropped (what an array-built model
  would not have made rows of in the first place);
- ``shuffle_rows`` / ``shuffle_cols`` / ``sort_rows``: the same model in another row or column order
  (sensitivity of the simplex path to order);
- ``ipm``, ``pdlp``, ``hipo``: HiGHS's other LP solvers (``solver`` option; ``hipo`` needs highspy-extras);
- ``noscale``: ``simplex_scale_strategy`` 0 (HiGHS's scaling off), to see how much its own scaling does.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from variants import SOLVERS, apply, singleton_rows_to_bounds  # noqa: F401  (re-exported)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))



def _csr_rows(n_row, start, index):
    """Row index of every nonzero of a column-wise matrix, and each row's count."""
    rows = index.astype(np.int64)
    return rows, np.bincount(rows, minlength=n_row)


def stats(npz: str) -> dict:
    z = np.load(npz)
    n_col, n_row = int(z["num_col"]), int(z["num_row"])
    start, index, value = z["a_start"], z["a_index"], z["a_value"]
    rows, cnt = _csr_rows(n_row, start, index)
    av = np.abs(value)
    # duplicate rows: same pattern and values (hash of sorted (col, value) per row)
    col_of = np.repeat(np.arange(n_col), np.diff(start))
    order = np.lexsort((col_of, rows))
    h = np.zeros(n_row, dtype=np.uint64)
    contrib = (col_of[order].astype(np.uint64) * np.uint64(1000003)) ^ value[order].view(np.uint64)
    np.bitwise_xor.at(h, rows[order], contrib * np.uint64(0x9E3779B97F4A7C15))
    lo, hi = z["row_lower"], z["row_upper"]
    key = np.stack([h, lo.view(np.uint64), hi.view(np.uint64)], axis=1)
    dup = n_row - len(np.unique(key[cnt > 0], axis=0)) - int((cnt == 0).sum() > 0) * 0
    cost = z["col_cost"]
    nzc = np.abs(cost[cost != 0])
    return {"rows": n_row, "cols": n_col, "nnz": len(value), "empty_rows": int((cnt == 0).sum()),
            "singleton_rows": int((cnt == 1).sum()), "duplicate_rows_approx": int(dup - (cnt == 0).sum()),
            "empty_cols": int((np.diff(start) == 0).sum()), "matrix_abs_range": [float(av.min()), float(av.max())],
            "cost_abs_range": [float(nzc.min()), float(nzc.max())] if len(nzc) else None,
            "free_cols": int((np.isinf(z["col_lower"]) & np.isinf(z["col_upper"])).sum()),
            "bounded_cols": int(np.isfinite(z["col_upper"]).sum()),
            "equality_rows": int((lo == hi).sum()), "integer_cols": int((z["integrality"] != 0).sum())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("npz")
    ap.add_argument("--stats", action="store_true")
    ap.add_argument("--variants", nargs="*", default=[])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float)
    a = ap.parse_args(argv)
    if a.stats:
        print(json.dumps(stats(a.npz), indent=1))
    if a.variants:
        import run
        res = {v: [] for v in a.variants}
        for i in range(a.repeat):
            for v in a.variants:
                try:
                    r = run.run_worker(["arrays", a.npz, v], a.timeout)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:  # a variant HiGHS refuses, or a timeout: say so, go on
                    print(f"{v} {i + 1}/{a.repeat}: failed: {str(exc).strip().splitlines()[-1][:200]}", flush=True)
                    continue
                res[v].append(r)
                print(f"{v} {i + 1}/{a.repeat}: run {r['run']:.2f} s, pass {r['pass_s']:.2f} s, {r['status']}, "
                      f"objective {r['objective']:.10g}, simplex it {r['iterations']}, ipm it {r['ipm_iterations']}, "
                      f"peak {r['peak_rss_kib'] / 1024:.0f} MiB, load {r['load_avg_1min']:.1f}", flush=True)
        res = {v: rs for v, rs in res.items() if rs}
        if a.variants[0] not in res:
            return 1
        base = statistics.median(r["run"] for r in res[a.variants[0]])
        print("\n| variant | HiGHS run s (median) | ÷ " + a.variants[0] + " | runs | objective | iterations |")
        print("|---|---:|---:|---|---:|---:|")
        for v, rs in res.items():
            med = statistics.median(r["run"] for r in rs)
            print(f"| {v} | {med:.2f} | {med / base:.2f} | {', '.join(format(r['run'], '.2f') for r in rs)} | "
                  f"{rs[0]['objective']:.10g} | {rs[0]['iterations'] or rs[0]['ipm_iterations']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
