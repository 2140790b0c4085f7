"""Variants of one model's arrays for the HiGHS parity experiments (benchmarks/parity.py): the same
model with single-entry rows as bounds, rows or columns in another order, or another LP solver.
Used by the array worker of benchmarks/run.py and by parity.py (no import circle between them)."""
from __future__ import annotations

import numpy as np

SOLVERS = {"ipm": "ipm", "pdlp": "pdlp", "hipo": "hipo", "simplex": "simplex"}


def _permute(args, prow=None, pcol=None):
    """The model with rows (prow[i] = old row of new row i) and/or columns permuted."""
    (n_col, n_row, nnz, fmt, sense, off, cost, clo, chi, rlo, rhi, start, index, value, integ) = args
    col_of = np.repeat(np.arange(n_col), np.diff(start))
    r = index.astype(np.int64)
    c = col_of
    if prow is not None:
        inv = np.empty(n_row, dtype=np.int64)
        inv[prow] = np.arange(n_row)
        r = inv[r]
        rlo, rhi = rlo[prow], rhi[prow]
    if pcol is not None:
        inv = np.empty(n_col, dtype=np.int64)
        inv[pcol] = np.arange(n_col)
        c = inv[c]
        cost, clo, chi, integ = cost[pcol], clo[pcol], chi[pcol], integ[pcol]
    o = np.lexsort((r, c))
    start = np.r_[0, np.cumsum(np.bincount(c, minlength=n_col))].astype(np.int32)
    return [n_col, n_row, nnz, fmt, sense, off, cost, clo, chi, rlo, rhi, start, r[o].astype(np.int32), value[o],
            integ]


def singleton_rows_to_bounds(args):
    """Rows with one nonzero a·x in [l, u] -> bounds of x; empty rows dropped (their bounds must hold: 0 in
    [l, u], which planner's rows satisfy since it never makes a row without terms)."""
    (n_col, n_row, _nnz, fmt, sense, off, cost, clo, chi, rlo, rhi, start, index, value, integ) = args
    col_of = np.repeat(np.arange(n_col), np.diff(start))
    r = index.astype(np.int64)
    cnt = np.bincount(r, minlength=n_row)
    single = cnt[r] == 1
    clo, chi = clo.copy(), chi.copy()
    for j, a, lo, hi in zip(col_of[single], value[single], rlo[r[single]], rhi[r[single]]):
        lb, ub = (lo / a, hi / a) if a > 0 else (hi / a, lo / a)
        clo[j] = max(clo[j], lb)
        chi[j] = min(chi[j], ub)
    keep = cnt > 1
    newrow = np.cumsum(keep) - 1
    m = keep[r]
    r2, c2, v2 = newrow[r[m]], col_of[m], value[m]
    start2 = np.r_[0, np.cumsum(np.bincount(c2, minlength=n_col))].astype(np.int32)
    return [n_col, int(keep.sum()), int(m.sum()), fmt, sense, off, cost, clo, chi, rlo[keep], rhi[keep], start2,
            r2.astype(np.int32), v2, integ]


def apply(variant: str, h, args):
    """Change ``args`` (the positional arguments of the array form of passModel) or ``h``'s options."""
    rng = np.random.default_rng(0)
    if variant in SOLVERS:
        import highspy
        if h.setOptionValue("solver", SOLVERS[variant]) != highspy.HighsStatus.kOk:
            raise SystemExit(f"HiGHS does not take solver={SOLVERS[variant]} (hipo: highspy-extras of the same "
                             "version as highspy)")
        if variant == "pdlp":  # first-order: can take very long at the default tolerances
            h.setOptionValue("time_limit", 300.0)
        return args
    if variant == "noscale":
        h.setOptionValue("simplex_scale_strategy", 0)
        return args
    if variant == "bounds":
        return singleton_rows_to_bounds(args)
    if variant == "shuffle_rows":
        return _permute(args, prow=rng.permutation(int(args[1])))
    if variant == "shuffle_cols":
        return _permute(args, pcol=rng.permutation(int(args[0])))
    raise SystemExit(f"unknown variant {variant}")
