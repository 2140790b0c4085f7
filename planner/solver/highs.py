"""The only module that talks to HiGHS.

Hand-off (measured fastest on this machine, see docs/performance.md): by
default the families' rows arrive as coefficient arrays (``compile_direct``:
variables are column numbers, the column-wise matrix is sorted and summed with
numpy) and go to HiGHS in one array-form ``passModel`` call, integrality
included.  ``PLANNER_HANDOFF=pyomo`` builds a real Pyomo model instead and
uses Pyomo's ``LinearStandardFormCompiler(mixed_form=True)``; the two are
cross-checked in tests/solver/test_handoff.py.  Values come back as one array (no
per-variable ``load_vars``).  Progressive hedging (``--decompose ph``) goes
through mpi-sppy and Pyomo's HiGHS plugin; its solver name and options are
defined here too (``PYOMO_SOLVER``, ``pyomo_solver_options``).

For a MIP, shadow prices come from the LP with every integer column fixed at
its optimum (bounds changed in place, integrality dropped, warm re-solve).

Money and tolerances (SPEC §3): the model's costs are in MUSD, so a difference of 0.01 USD/t at a
weight (probability x discount factor) of 0.05 is a cost coefficient of 5e-10, under HiGHS's
optimality tolerances (1e-7).  HiGHS therefore sees the objective multiplied by ``OBJ_SCALE`` = 1e4
(units of 100 USD): that difference becomes 5e-6, fifty times the tolerance, while the largest cost
coefficients (capex of a module, ~1e3 MUSD, elastic penalties 1e3 MUSD/t) stay near 1e7, where
double precision still resolves the tolerance.  The objective, bound and duals are divided back on
the way out, so everything above this module sees MUSD and shadow prices unchanged.
"""
from __future__ import annotations

import functools
import gc
import logging
import os
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from planner.common.memory import release_freed_memory
from planner.common.switch import Switch

log = logging.getLogger("planner")

OBJ_SCALE = 1e4  # the objective HiGHS sees is MUSD x OBJ_SCALE (see the module docstring)

_STATUS = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kInterrupt": "interrupted",
    "kSolutionLimit": "solution_limit",
    "kObjectiveBound": "objective_bound",
    "kObjectiveTarget": "objective_target",
}


@dataclass
class SolveResult:
    status: str
    has_solution: bool
    objective: float = float("nan")
    gap: float = 0.0
    bound: float = float("nan")
    is_mip: bool = False
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    col_of: dict | None = field(default_factory=dict)  # id(VarData) -> column; None: handles are columns
    row_of: dict = field(default_factory=dict)   # id(ConstraintData) -> row
    n_rows: int = 0
    n_cols: int = 0
    nnz: int = 0
    n_int: int = 0
    times: dict = field(default_factory=dict)
    highs_version: str = ""
    message: str = ""
    fixed_values: dict = field(default_factory=dict)  # id(var) -> value for vars fixed in the model

    def value(self, var) -> float:
        if type(var) is int:  # direct hand-off: the handle is the column
            return self._x[var] if self.x is not None else 0.0
        j = self.col_of.get(id(var)) if self.col_of else None
        if j is not None and self.x is not None:
            return float(self.x[j])
        if var.fixed:
            return float(var.value)
        return 0.0

    def value_of(self):
        """A fast ``value``: for the direct hand-off's column-number handles, indexing a list."""
        if self.x is not None and self.col_of is None:  # direct hand-off: every handle is a column number
            return self._x.__getitem__
        return self.value

    @property
    def _x(self) -> list:
        """The solution as a Python list (fast scalar access), made once."""
        xl = self.__dict__.get("_xl")
        if xl is None:
            xl = self.__dict__["_xl"] = self.x.tolist()
        return xl

    def dual(self, con) -> float:
        i = con if isinstance(con, (int, np.integer)) else self.row_of.get(id(con))
        if i is None or self.row_dual is None:
            return float("nan")
        return float(self.row_dual[i])


def _run(h) -> None:
    """Run HiGHS; in the main thread Ctrl-C cancels the solve cleanly (status 'interrupted').  HiGHS runs in
    highspy's solve thread and its interrupt checks call into Python only once Ctrl-C has come: subscribed from the
    start (highspy's ``HandleKeyboardInterrupt``), they ran every few simplex iterations, which cost 6 % of the time
    of preset XL's LP solved whole."""
    if threading.current_thread() is threading.main_thread() and hasattr(h, "startSolve"):
        # highspy's own lock says when the run is over (Thread.join interrupted by Ctrl-C can leave the thread
        # looking stopped in Python 3.11 while HiGHS still runs)
        h.startSolve()
        try:
            while not h.wait(0.1)[0]:
                pass
        except KeyboardInterrupt:
            h.HandleUserInterrupt = True  # the interrupt checks from now on: HiGHS stops at its next one
            h.cancelSolve()
            while True:
                try:
                    if h.wait(0.1)[0]:
                        break
                except KeyboardInterrupt:  # pressed again: HiGHS is stopping already
                    pass
    else:
        h.run()


@functools.lru_cache(maxsize=None)
def _quiet_class(base: type) -> type:
    class QuietHighs(base):
        """``base`` (highspy's Highs) with HiGHS's log switched off before highspy registers its callbacks:
        highspy 1.16 does that in the constructor, and HiGHS then prints its banner on stdout before any option
        could be set."""

        def enableCallbacks(self):
            if not getattr(self, "_planner_quiet", False):
                self._planner_quiet = True
                self.setOptionValue("output_flag", False)
            super().enableCallbacks()

    return QuietHighs


def new_highs(output: bool = False):
    """A HiGHS instance that prints nothing unless ``output`` (HiGHS's own log, --debug level)."""
    h = _quiet_class(highspy.Highs)()  # looked up at call time: benchmarks/run.py substitutes highspy.Highs
    if output:
        h.setOptionValue("output_flag", True)
    return h


@functools.cache
def highs_version() -> str:
    h = new_highs()
    try:
        return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except Exception:  # pragma: no cover - older highspy
        return getattr(highspy, "__version__", "unknown")


def compile_pyomo(model):
    """Pyomo model -> arrays via LinearStandardFormCompiler(mixed_form=True)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        from pyomo.repn.plugins.standard_form import (
            LinearStandardFormCompiler,  # imports SciPy: Pyomo path only
        )
        info = LinearStandardFormCompiler().write(model, mixed_form=True)
    finally:
        if enabled:
            gc.enable()
    A = info.A.tocsc()
    n_rows, n_cols = A.shape
    cols = info.columns
    lower = np.empty(n_cols)
    upper = np.empty(n_cols)
    integer = np.zeros(n_cols, dtype=bool)
    for j, v in enumerate(cols):
        lb, ub = v.bounds
        lower[j] = -np.inf if lb is None else lb
        upper[j] = np.inf if ub is None else ub
        integer[j] = v.is_integer() or v.is_binary()
    bt = np.array([r.bound_type for r in info.rows], dtype=int) if n_rows else np.zeros(0, dtype=int)
    rhs = np.asarray(info.rhs, dtype=float)
    row_lo = np.where(bt <= 0, rhs, -np.inf)
    row_hi = np.where(bt >= 0, rhs, np.inf)
    if info.c.shape[0]:
        cost = np.asarray(info.c.toarray()[0], dtype=float)
        offset = float(np.asarray(info.c_offset).ravel()[0])
    else:
        cost, offset = np.zeros(n_cols), 0.0
    col_of = {id(v): j for j, v in enumerate(cols)}
    row_of = {}
    for i, r in enumerate(info.rows):
        row_of.setdefault(id(r.constraint), i)
    return A, cost, offset, lower, upper, integer, row_lo, row_hi, col_of, row_of


def compile_direct(ctx):
    """The rows the families collected (coefficient triplets) -> arrays, no Pyomo expressions.

    Columns are numbers; bounds, integrality and fixings come from the few columns
    that have them (the sink's ``col_lo/col_hi/col_int/col_fixed``).  The column-wise matrix is
    built with numpy (sort by column then row, duplicates summed), and the triplets are
    released afterwards: HiGHS holds its own copy.
    """
    ctx = getattr(ctx, "sink", ctx)  # a model context, or its DirectSink
    n_cols = ctx.ncols
    n_rows = ctx.n_rows
    lower = np.zeros(n_cols)
    upper = np.full(n_cols, np.inf)
    if ctx.col_lo:
        j = np.fromiter(ctx.col_lo.keys(), dtype=np.int64, count=len(ctx.col_lo))
        lower[j] = np.fromiter(ctx.col_lo.values(), dtype=float, count=len(j))
        upper[j] = np.fromiter((ctx.col_hi[k] for k in ctx.col_lo), dtype=float, count=len(j))
    for j, v in ctx.col_fixed.items():
        lower[j] = upper[j] = v
    integer = np.zeros(n_cols, dtype=bool)
    if ctx.col_int:
        integer[np.fromiter(ctx.col_int, dtype=np.int64, count=len(ctx.col_int))] = True
    r, c, v, row_lo, row_hi = ctx.triplets(release=True)  # HiGHS gets its own copy; the model may be large
    A = csc_from_triplets(r, c, v, n_rows, n_cols)
    del r, c, v
    cost = np.zeros(n_cols)
    if ctx.obj_arrays is not None:
        np.add.at(cost, *ctx.obj_arrays)
    elif ctx.obj_terms:
        coefs, cols = zip(*ctx.obj_terms)
        np.add.at(cost, np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float))
        del coefs, cols
    # as the triplets: compiled once, then HiGHS's copy is the one
    ctx.obj_terms = ctx.obj_arrays = None
    return (A, cost, 0.0, lower, upper, integer, row_lo, row_hi, None, {})


@dataclass
class Csc:
    """A compressed-sparse-column matrix: what ``passModel`` takes (and scipy's attribute names)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple

    @property
    def nnz(self) -> int:
        return len(self.data)


def csc_from_triplets(r: np.ndarray, c: np.ndarray, v: np.ndarray, n_rows: int, n_cols: int) -> Csc:
    """Column-wise matrix from (row, column, value) triplets, rows sorted within each column and
    duplicate entries summed (what scipy's ``csc_matrix(...).sum_duplicates()`` gives)."""
    key = c * max(n_rows, 1) + r
    order = np.argsort(key, kind="stable")
    key = key[order]
    v = v[order]
    if len(key) > 1 and (key[1:] == key[:-1]).any():
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        v = np.add.reduceat(v, first)
        key = key[first]
    cols = key // max(n_rows, 1)
    rows = key - cols * max(n_rows, 1)
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
    return Csc(indptr, rows.astype(np.int32), np.ascontiguousarray(v, dtype=float), (n_rows, n_cols))


def fixed_lp_blocks(A: Csc, lower, upper, row_lo, row_hi, x, integer):
    """The LP of a solved MIP with every integer column fixed at its (rounded) value, split into the blocks
    that share no free column (with the first stage fixed, one block per chain of operations that nothing
    couples: typically a supply chain's scenarios, or each scenario of it beyond the tree's shared nodes).

    Returns a list of (rows, cols, Csc, col_lo, col_hi, row_lo, row_hi) per block with a free column, the
    fixed columns' contribution moved into the row bounds; rows without a free column belong to no block
    (their duals are 0, as HiGHS's presolve would remove them).  None when the LP is one block."""
    fixed = integer | (lower == upper)
    blocks = split_blocks(A, fixed)
    if blocks is None:
        return None
    xf = np.where(integer, np.round(x), np.where(lower == upper, lower, 0.0))
    act = fixed_activity(A, np.where(fixed, xf, 0.0))
    lo, hi = row_lo - act, row_hi - act
    return merge_small([(R, C, M, lower[C], upper[C], lo[R], hi[R]) for R, C, M in blocks])


def fixed_activity(A: Csc, xf: np.ndarray) -> np.ndarray:
    """A @ xf for a column-wise matrix: each row's activity from the columns' values in ``xf`` (0 elsewhere)."""
    col_of_nz = np.repeat(np.arange(A.shape[1], dtype=np.int64), np.diff(A.indptr))
    return np.bincount(A.indices, weights=A.data * xf[col_of_nz], minlength=A.shape[0])


def components(n: int, u: np.ndarray, v: np.ndarray, rounds: int = 64) -> np.ndarray:
    """Connected components of the undirected graph on nodes 0..n-1 with edges (u[i], v[i]): each node's label is
    the smallest node of its component.  Union-find by whole arrays: every round hooks the root of each edge's
    larger end under the smaller end's root (``parent`` only ever decreases, so there is no cycle), then follows
    the parents to their roots.  Graphs that need more than ``rounds`` rounds go to SciPy, which gives the same
    labels.  (SciPy is not imported otherwise: with Pyomo loaded, importing it costs ≈ 0.5 s per process.)"""
    parent = np.arange(n, dtype=np.int64)
    for _ in range(rounds):
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        if not apart.any():
            return parent
        pu, pv = pu[apart], pv[apart]
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:  # every node straight to its root
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    _k, lab = connected_components(g, directed=False)
    first = np.full(int(lab.max()) + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, lab, np.arange(n, dtype=np.int64))
    return first[lab]


def split_blocks(A: Csc, fixed: np.ndarray):
    """The blocks of rows and non-fixed columns that share no column (connected components): [(rows, cols,
    Csc of the block)], one per component holding a row with a non-fixed column; None when there is one."""
    n_rows, n_cols = A.shape
    col_of_nz = np.repeat(np.arange(n_cols, dtype=np.int64), np.diff(A.indptr))
    keep = ~fixed[col_of_nz]
    r, c, v = A.indices[keep].astype(np.int64), col_of_nz[keep], A.data[keep]
    label = components(n_rows + n_cols, r, n_rows + c)
    used = np.unique(label[r])
    if len(used) < 2:
        return None
    # block number per label (only labels holding a row with a free column); local positions by stable sort
    block = np.full(len(label), -1, dtype=np.int64)
    block[used] = np.arange(len(used))
    rb = block[label[:n_rows]]
    cb = np.where(fixed, -1, block[label[n_rows:]])
    rows_order = np.flatnonzero(rb >= 0)
    rows_order = rows_order[np.argsort(rb[rows_order], kind="stable")]
    cols_order = np.flatnonzero(cb >= 0)
    cols_order = cols_order[np.argsort(cb[cols_order], kind="stable")]
    r_start = np.searchsorted(rb[rows_order], np.arange(len(used) + 1))
    c_start = np.searchsorted(cb[cols_order], np.arange(len(used) + 1))
    local_r = np.empty(n_rows, dtype=np.int64)
    local_r[rows_order] = np.arange(len(rows_order)) - r_start[rb[rows_order]]
    local_c = np.empty(n_cols, dtype=np.int64)
    local_c[cols_order] = np.arange(len(cols_order)) - c_start[cb[cols_order]]
    order = np.argsort(cb[c], kind="stable")
    z_start = np.searchsorted(cb[c][order], np.arange(len(used) + 1))
    out = []
    for b in range(len(used)):
        R = rows_order[r_start[b]:r_start[b + 1]]
        C = cols_order[c_start[b]:c_start[b + 1]]
        z = order[z_start[b]:z_start[b + 1]]
        out.append((R, C, csc_from_triplets(local_r[r[z]], local_c[c[z]], v[z], len(R), len(C))))
    return out


class _Running:
    """The HiGHS objects that worker threads are running: Ctrl-C in the main thread cancels them (each run then
    stops at HiGHS's next interrupt check, in milliseconds), so the process does not wait at exit for block solves
    that go on to their time limit.  A block that has not started yet when the interrupt comes does not start.
    The interrupt checks call into Python only once Ctrl-C has come (as in :func:`_run`): subscribed from the start
    (highspy's ``HandleUserInterrupt``), they ran every few simplex iterations, which made the LP blocks of preset
    XL 13 % slower and, with the threads' own heaps, its peak memory 160 MiB larger."""

    def __init__(self):
        self.lock = threading.Lock()
        self.live: set = set()
        self.stopped = False

    def run(self, h) -> bool:
        """Run ``h`` (False: interrupted before it started)."""
        with self.lock:
            if self.stopped:
                return False
            self.live.add(h)
        try:
            h.run()
        finally:
            with self.lock:
                self.live.discard(h)
        return True

    def cancel(self) -> None:
        with self.lock:
            self.stopped = True
            for h in self.live:
                h.HandleUserInterrupt = True  # the interrupt checks from now on
                h.cancelSolve()


SMALL_BLOCK_ROWS = 2000  # blocks below this many rows (and without integer columns) are solved together


def merge_small(blocks, can_merge=None):
    """The small blocks among [(rows, cols, Csc, ...)] that ``can_merge(cols)`` allows (LP blocks: no integer
    column) joined into one block-diagonal block, placed last; the others unchanged.  A restricted coalition or a
    fixed-integer LP falls into hundreds of blocks of a few dozen rows (one per scenario and year of a chain that no
    investment links): solving them as one LP gives the same optimum, primal and duals (the blocks share nothing),
    without a HiGHS object, a hand-off and a thread hand-over each."""
    small = [i for i, b in enumerate(blocks) if len(b[0]) < SMALL_BLOCK_ROWS and (can_merge is None or can_merge(b[1]))]
    if len(small) < 2:
        return blocks
    part = [blocks[i] for i in small]
    n_r = np.cumsum([0] + [len(b[0]) for b in part])
    n_z = np.cumsum([0] + [b[2].nnz for b in part])
    M = Csc(np.concatenate([b[2].indptr[:-1] + z for b, z in zip(part, n_z)] + [n_z[-1:]]).astype(np.int64),
            np.concatenate([b[2].indices.astype(np.int64) + r for b, r in zip(part, n_r)]).astype(np.int32),
            np.concatenate([b[2].data for b in part]), (int(n_r[-1]), int(sum(len(b[1]) for b in part))))
    joined = (np.concatenate([b[0] for b in part]), np.concatenate([b[1] for b in part]), M) + tuple(
        np.concatenate([b[k] for b in part]) for k in range(3, len(part[0])))
    keep = set(small)
    return [b for i, b in enumerate(blocks) if i not in keep] + [joined]


def pass_arrays(h, M: Csc, cost_scaled, lower, upper, row_lo, row_hi, integer=None, offset_scaled: float = 0.0):
    """The array form of ``passModel`` (one copy into HiGHS; a HighsLp object costs a copy per field, ~4x slower):
    min cost_scaled · x + offset_scaled, row_lo <= M x <= row_hi, lower <= x <= upper, ``integer`` columns (None:
    an LP; integrality is given for every column either way: an empty array is read out of bounds by HiGHS 1.15)."""
    n_rows, n_cols = M.shape
    kinds = np.zeros(n_cols, dtype=np.int32) if integer is None else \
        np.asarray(integer).astype(np.int32) * int(highspy.HighsVarType.kInteger)
    return h.passModel(int(n_cols), int(n_rows), int(M.nnz), int(highspy.MatrixFormat.kColwise),
                       int(highspy.ObjSense.kMinimize), float(offset_scaled),
                       np.ascontiguousarray(cost_scaled, dtype=float), np.ascontiguousarray(lower, dtype=float),
                       np.ascontiguousarray(upper, dtype=float), np.ascontiguousarray(row_lo, dtype=float),
                       np.ascontiguousarray(row_hi, dtype=float), M.indptr.astype(np.int32, copy=False),
                       M.indices.astype(np.int32, copy=False), M.data.astype(float, copy=False), kinds)


def _in_threads(one, blocks, threads: int, done=None) -> dict | None:
    """``one(block, running)`` for every block, largest first, ``threads`` at a time (0: every core; HiGHS releases
    the GIL while it runs): {block number: result}, or None as soon as a block gives None (the blocks not started
    do not start).  ``done(count)`` after each block.  Ctrl-C cancels the HiGHS runs in progress (``running``),
    so the process does not wait for them to reach their time limit."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    workers = max(1, min(int(threads) or os.cpu_count() or 1, len(blocks)))
    running = _Running()
    ex = ThreadPoolExecutor(workers)
    try:
        futs = {ex.submit(one, blocks[b], running): b
                for b in sorted(range(len(blocks)), key=lambda b: -blocks[b][2].nnz)}
        results = {}
        for f in as_completed(futs):
            r = f.result()
            if r is None:
                running.cancel()
                return None
            results[futs[f]] = r
            if done is not None:
                done(len(results))
        return results
    except KeyboardInterrupt:
        running.cancel()
        raise
    finally:
        ex.shutdown(wait=False, cancel_futures=True)


def _run_for_duals(h, running) -> np.ndarray | None:
    """Run the LP in ``h`` (through ``running``: Ctrl-C cancels it) and return its row duals, or None when it was
    interrupted or is not optimal with valid duals."""
    if not running.run(h):
        return None
    sol = h.getSolution()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
        return None
    return np.asarray(sol.row_dual, dtype=float)


def block_duals(blocks, cost, n_rows: int, time_limit: float, threads: int = 0):
    """Row duals (in HiGHS's scaled objective units) of the fixed-integer LP solved block by block, in
    parallel threads (HiGHS releases the GIL while it runs); None when a block does not solve to optimality."""

    def one(blk, running):
        R, C, M, clo, chi, rlo, rhi = blk
        memo = reuse_enabled()  # a sweep or batch: blocks kept from the solve before
        key = block_digest("fixed LP", M.indptr, M.indices, M.data, cost[C], clo, chi, rlo, rhi) if memo else None
        hit = _memo_get(key) if memo else None
        if hit is not None:  # the same block as in the previous solve (a sweep point that changed another chain)
            return hit
        h = new_highs()
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("threads", 1)
        pass_arrays(h, M, cost[C] * OBJ_SCALE, clo, chi, rlo, rhi)
        # the same rows and columns as a block of the previous solve, other values: start from its optimal basis
        where = block_digest("fixed LP basis", R, C) if memo else None
        basis = _memo_get(where) if memo else None
        if basis is not None:
            h.setBasis(basis)
        y = _run_for_duals(h, running)
        if y is None:
            return None
        if memo:
            _memo_put(key, y)
            _memo_put(where, h.getBasis())
        return y

    results = _in_threads(one, blocks, threads)
    if results is None:
        return None
    dual = np.zeros(n_rows)
    for b, y in results.items():
        dual[blocks[b][0]] = y
    return dual



# HiGHS options for every MIP (issue 18): the sub-MIP heuristics (RINS, RENS and the root reduced-cost sub-MIP)
# off, and no restart of the root after reduced-cost fixing.  On the example the sub-MIPs took three quarters of
# the solve, looking for incumbents that branching and the other heuristics (rounding, shifting, feasibility
# jump, ZI rounding) find anyway once the root LP is this close to the optimum, and a restart repeats presolve,
# the root LP and the cut loop for little gain: docs/performance.md "Proving optimality" has the measurements.
# PLANNER_MIP_TUNING=off gives HiGHS's defaults back.
MIP_TUNING = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
              "mip_heuristic_run_root_reduced_cost": False, "mip_allow_restart": False}


def mip_heuristic_options() -> dict:
    """HiGHS options set for every MIP solve (:data:`MIP_TUNING`), none with PLANNER_MIP_TUNING=off."""
    if os.environ.get("PLANNER_MIP_TUNING", "on").lower() in ("off", "0", "false", "no"):
        return {}
    return {k: v for k, v in MIP_TUNING.items() if k in _known_options()}


@functools.cache
def _known_options() -> frozenset:
    """The option names this HiGHS has (an unknown name would only log an error; older HiGHS lack some)."""
    h = new_highs()
    return frozenset(k for k in (*MIP_TUNING, "mip_heuristic_run_feasibility_jump")
                     if h.getOptionValue(k)[0] == highspy.HighsStatus.kOk)


def _cheapest_feasible(candidates, M: Csc, cs, lo, hi, rlo, rhi, is_int, tol: float = 1e-6):
    """The cheapest (cs · x) of the candidate solutions that meet the bounds, the rows and integrality to ``tol``
    (relative to the size of each value), or None."""
    best, best_cost = None, np.inf
    for x in candidates:
        if x is None or len(x) != M.shape[1]:
            continue
        act = fixed_activity(M, x)
        tr = tol * np.maximum(1.0, np.abs(act))
        tc = tol * np.maximum(1.0, np.abs(x))
        if (x < lo - tc).any() or (x > hi + tc).any() or (act < rlo - tr).any() or (act > rhi + tr).any() or \
                (np.abs(x[is_int] - np.round(x[is_int])) > tol).any():
            continue
        cost = float(cs @ x)
        if cost < best_cost:
            best, best_cost = x, cost
    return best


def _mip_by_blocks() -> bool:
    """PLANNER_MIP_BLOCKS=off: a MIP that falls apart into independent blocks is still solved whole."""
    return os.environ.get("PLANNER_MIP_BLOCKS", "on").lower() not in ("off", "0", "false", "no")


def mip_blocks(A: Csc, lower, upper, integer):
    """The blocks of a model that share no column (columns fixed by their bounds left out): [(rows, cols, Csc)],
    or None when the model is one block (``integer`` is not needed to split: a MIP and its LP split alike)."""
    return split_blocks(A, lower == upper)


def lp_first() -> bool:
    """PLANNER_LP_FIRST=off: a MIP block goes straight to HiGHS's branch and bound (no relaxation first)."""
    return os.environ.get("PLANNER_LP_FIRST", "on").lower() not in ("off", "0", "false", "no")


# HiGHS options of the LP relaxation of a MIP block (and the fixed LP re-solved in the same object) in solves whose
# plan nobody reads, only the optimum's value (a coalition's c(S), :func:`value_only`): no presolve and devex
# pricing.  On the LP relaxations of the example's coalitions (147 LPs of 1,000-5,000 rows) they took 2.9-3.3 s
# against 4.0-4.6 s with HiGHS's defaults, on the example's own 5 relaxations 0.26-0.29 s against 0.37-0.42 s, on
# preset L's 5 (29-93 k rows) 4.2 s against 5.1 s.  They are not used where a plan is reported: where the model
# has several optimal plans (the example has), another LP path can return another of them, and the results
# workbook of the same input would change between versions for no reason an analyst could see
# (docs/performance.md, "HiGHS's LP options for the relaxations").  PLANNER_RELAXATION_TUNING=off: never.
RELAXATION_TUNING = {"presolve": "off", "simplex_dual_edge_weight_strategy": 1}
_VALUE_ONLY = Switch(lambda: None)


def value_only():
    """``with value_only():`` the solves inside are read for their optimum's value only (not their plan, duals
    or reports): the relaxations may use :data:`RELAXATION_TUNING`."""
    return _VALUE_ONLY.within()


def relaxation_options() -> dict:
    """:data:`RELAXATION_TUNING` inside :func:`value_only` (unless PLANNER_RELAXATION_TUNING=off), else none."""
    if not _VALUE_ONLY.on or os.environ.get("PLANNER_RELAXATION_TUNING", "on").lower() in ("off", "0", "false", "no"):
        return {}
    return RELAXATION_TUNING


@dataclass
class _Fixed:
    """The fixed-integer LP of a block: its solution, objective (scaled), row duals and the seconds it took."""

    x: np.ndarray
    obj: float
    y: np.ndarray
    seconds: float


@dataclass
class _Relaxed:
    """A MIP block's LP relaxation, kept in its HiGHS object ``h``: the fixed-integer LP (integers fixed, valid
    inequalities free) starts from its optimal basis.  ``proven``: the rounded relaxation's fixed LP is within the
    gap of the relaxation's bound, so it is the block's answer (``x``, ``obj``, ``bound``, duals ``y``);
    otherwise ``start`` is that rounded plan when its LP was feasible (a MIP start), else None."""

    h: object
    M: Csc
    is_int: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    cut: np.ndarray
    basis: object = None
    proven: bool = False
    x: np.ndarray | None = None
    obj: float = float("nan")
    bound: float = float("nan")
    y: np.ndarray | None = None
    start: np.ndarray | None = None
    fixed_s: float = 0.0

    def fix(self, values: np.ndarray, running, deadline: float) -> _Fixed | None:
        """The block's LP with its integer columns fixed at ``values`` (rounded, inside their bounds) and its valid
        inequalities free (implied once the integers are fixed: every point of this LP is a point of the MIP),
        solved from the basis the object holds.  Row duals of rows with no continuous column are 0, as in the
        fixed-integer LP by blocks (:func:`fixed_lp_blocks`).  None when it is not optimal."""
        t = time.perf_counter()
        h = self.h
        idx = np.flatnonzero(self.is_int).astype(np.int32)
        v = np.clip(np.round(values), np.ceil(self.lo[idx] - 1e-9), np.floor(self.hi[idx] + 1e-9))
        h.changeColsBounds(len(idx), idx, v, v)
        cr = np.flatnonzero(self.cut).astype(np.int32)
        if len(cr):
            h.changeRowsBounds(len(cr), cr, np.full(len(cr), -np.inf), np.full(len(cr), np.inf))
        h.setOptionValue("time_limit", max(1e-3, deadline - time.perf_counter()))
        y = _run_for_duals(h, running)
        if y is None:
            return None
        M = self.M
        cont = np.repeat(~self.is_int, np.diff(M.indptr))
        y[np.bincount(M.indices[cont], minlength=M.shape[0]) == 0] = 0.0
        return _Fixed(np.asarray(h.getSolution().col_value, dtype=float), float(h.getInfo().objective_function_value),
                      y, time.perf_counter() - t)


def _relaxation_first(M: Csc, cs, lo, hi, rlo, rhi, is_int, cut, mip_gap: float, abs_gap: float, running,
                      deadline: float, basis=None, log_lines=None, console: bool = False) -> _Relaxed | None:
    """A MIP block's LP relaxation, then its integers rounded to the nearest and fixed in the same HiGHS object (a
    warm LP).  When that fixed LP's objective is within ``mip_gap`` (relative) or ``abs_gap`` of the relaxation's
    (a lower bound of the MIP), it is the block's optimum to the settings' gap, proven, and its duals are the
    fixed-integer LP's: no branch and bound and no cold duals LP.  On the presets and the example most relaxations
    are integral (docs/model.md, "The LP relaxation first").  ``basis``: the relaxation's basis in the previous
    solve of the same rows and columns (a sweep).  The lines to ``log_lines`` name the block by its rows (blocks
    run two at a time and their logs interleave).  None when interrupted or when the relaxation is infeasible (the
    MIP is too: the whole model then says so in the analyst's terms)."""
    h = new_highs(console)
    if log_lines is not None:
        _hooks(h, None, log_lines, console)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(1e-3, deadline - time.perf_counter()))
    for k, v in relaxation_options().items():
        h.setOptionValue(k, v)
    pass_arrays(h, M, cs, lo, hi, rlo, rhi)
    if basis is not None:
        h.setBasis(basis)
    if not running.run(h):
        return None
    st = h.getModelStatus()
    rel = _Relaxed(h, M, is_int, lo, hi, cut)
    if st == highspy.HighsModelStatus.kInfeasible:
        return None
    if st != highspy.HighsModelStatus.kOptimal:
        return rel  # unbounded, time limit: branch and bound says what it is
    bound = float(h.getInfo().objective_function_value)
    x0 = np.asarray(h.getSolution().col_value, dtype=float)
    rel.basis = h.getBasis()
    frac = int((np.abs(x0[is_int] - np.round(x0[is_int])) > 1e-6).sum())
    fixed = rel.fix(x0[is_int], running, deadline)
    if fixed is None:
        if log_lines is not None:
            log_lines(f"LP relaxation first ({M.shape[0]} rows): {frac} integer columns fractional; rounded, no "
                      "feasible plan: branch and bound follows\n")
        return rel
    rel.fixed_s = fixed.seconds
    gap = fixed.obj - bound
    if gap <= max(mip_gap * abs(fixed.obj), abs_gap):
        rel.proven = True
        rel.x, rel.obj, rel.bound, rel.y = fixed.x, fixed.obj, min(bound, fixed.obj), fixed.y
        if log_lines is not None:
            log_lines(f"LP relaxation first ({M.shape[0]} rows): {frac} integer columns fractional; the rounded "
                      f"plan is within {max(gap, 0.0) / max(abs(fixed.obj), 1e-12):.3g} of the relaxation's bound: "
                      "optimal to the gap, no branch and bound\n")
        return rel
    rel.start = fixed.x
    if log_lines is not None:
        log_lines(f"LP relaxation first ({M.shape[0]} rows): {frac} integer columns fractional; the rounded plan is "
                  f"{gap / max(abs(fixed.obj), 1e-12):.3g} above the bound: branch and bound follows, started "
                  "from it\n")
    return rel


def _solve_mip_blocks(A, cost, offset, lower, upper, integer, row_lo, row_hi, col_of, row_of, times, time_limit,
                      mip_gap, threads, duals, progress, start, mip_abs_gap, cut_rows, log_lines=None,
                      console: bool = False):
    """A MIP (or an LP) whose rows and free columns fall apart into independent blocks (the supply chains of a
    bloc that nothing but fixed columns couples) solved block by block, two at a time: HiGHS's branch and bound
    does not split them, and proving the gap on each small MIP is far cheaper than on their sum (an LP's
    blocks simply run in parallel; its duals are the blocks' duals).  The answer is the
    same model's: the blocks share no free column, so the optimum is the sum of the blocks' optima.

    Each block gets the relative gap ``mip_gap``; the result is kept only when the gap of the sum meets the
    settings as well (it does when no block's objective is negative), every block is optimal, and the rows
    with no free column hold at the fixed values.  Otherwise None: the caller solves the model whole (which
    also explains infeasibility, unboundedness and time limits as usual).  ``progress`` gets the phase and the
    count of blocks done."""
    t1 = time.perf_counter()
    blocks = mip_blocks(A, lower, upper, integer)
    if blocks is None:
        return None
    blocks = merge_small(blocks, lambda C: not integer[C].any())  # small LP blocks: one LP
    n_rows, n_cols = A.shape
    fixed = lower == upper
    xf = np.where(fixed, lower, 0.0)
    act = fixed_activity(A, xf)
    in_block = np.zeros(n_rows, dtype=bool)
    seen = np.zeros(n_cols, dtype=bool)
    for R, C, _M in blocks:
        in_block[R] = True
        seen[C] = True
    tol = 1e-6 * np.maximum(1.0, np.abs(act))
    lone = ~in_block
    if ((act[lone] < row_lo[lone] - tol[lone]) | (act[lone] > row_hi[lone] + tol[lone])).any():
        return None  # a row of fixed columns only is violated: infeasible, as the whole model will say
    x = xf.copy()
    orphan = np.flatnonzero(~seen & ~fixed)  # free columns in no row: at the bound their cost prefers
    if len(orphan):
        val = np.where(cost[orphan] >= 0, lower[orphan], upper[orphan])
        val = np.where(np.isfinite(val), val, np.where(np.isfinite(lower[orphan]), lower[orphan], 0.0))
        if ((cost[orphan] < 0) & ~np.isfinite(upper[orphan])).any() or \
                ((cost[orphan] > 0) & ~np.isfinite(lower[orphan])).any():
            return None  # unbounded
        x[orphan] = np.where(integer[orphan], np.where(cost[orphan] >= 0, np.ceil(val - 1e-9), np.floor(val + 1e-9)),
                             val)  # an integer column: the nearest integer inside its bounds
    start_at = {}
    if start is not None and len(start[0]):
        start_at = dict(zip(np.asarray(start[0]).tolist(), np.asarray(start[1], dtype=float).tolist()))
    deadline = time.perf_counter() + float(time_limit)
    lp = not integer.any()
    if progress is not None:
        progress({"phase": f"HiGHS {'LP' if lp else 'MIP'} ({len(blocks)} independent blocks)"})

    cut = np.zeros(n_rows, dtype=bool)
    if cut_rows is not None:
        cut[cut_rows] = True
    first = lp_first()

    def one(blk, running):
        R, C, M = blk
        is_int = integer[C]
        mip = bool(is_int.any())
        cs, rlo, rhi = cost[C] * OBJ_SCALE, row_lo[R] - act[R], row_hi[R] - act[R]
        abs_gap = max(float(mip_abs_gap or 0.0) * OBJ_SCALE / len(blocks), 1e-12)
        memo = reuse_enabled()  # a sweep or batch: blocks kept from the solve before
        key = block_digest("block", M.indptr, M.indices, M.data, cs, lower[C], upper[C], rlo, rhi, is_int,
                           float(mip_gap), float(mip_abs_gap or 0.0) / len(blocks),
                           sorted(mip_heuristic_options().items()) if mip else (), bool(duals), first,
                           cut[R]) if memo else None
        hit = _memo_get(key) if memo else None
        head = f"--- block of {len(R)} rows, {len(C)} columns, {int(is_int.sum())} integer"
        if hit is not None:  # the same arrays as a block of the previous solve: HiGHS would return the same
            if log_lines is not None:
                log_lines(f"{head}: the same as a block of the previous solve, its solution reused ---\n")
            reused[0] += 1
            return hit
        if log_lines is not None:  # each block's HiGHS log to the solve's log, headed by the block's size
            log_lines(f"{head} ---\n")
        # a block with the same rows and columns in the previous solve (a sweep point, a batch item): its solution
        where = block_digest("block solution", R, C) if memo and mip else None
        rel = None
        if mip and first:  # the LP relaxation first: often integral here, and its basis starts the duals' LP
            where_rel = block_digest("block relaxation basis", R, C) if memo else None
            rel = _relaxation_first(M, cs, lower[C], upper[C], rlo, rhi, is_int, cut[R], float(mip_gap), abs_gap,
                                    running, deadline, _memo_get(where_rel) if memo else None, log_lines, console)
            if rel is None:
                return None  # interrupted, or the relaxation is infeasible (so is the MIP): the whole model explains
            if memo and rel.basis is not None:
                _memo_put(where_rel, rel.basis)
            if rel.proven:
                out = rel.x, rel.obj, rel.bound, rel.y if duals else None, False, rel.fixed_s
                if memo:
                    _memo_put(key, out)
                    _memo_put(where, out[0])
                return out
        h = new_highs(console)
        if log_lines is not None:
            _hooks(h, None, log_lines, console)
        h.setOptionValue("time_limit", max(1e-3, deadline - time.perf_counter()))
        h.setOptionValue("threads", 1)
        # the start: the cheapest feasible of that previous solution and the rounded relaxation's plan, else the
        # plan's integers
        before = _cheapest_feasible([_memo_get(where) if where is not None else None,
                                     rel.start if rel is not None else None], M, cs, lower[C], upper[C], rlo, rhi,
                                    is_int) if mip else None
        if mip:
            h.setOptionValue("mip_rel_gap", float(mip_gap))
            h.setOptionValue("mip_abs_gap", abs_gap)
            for k, v in mip_heuristic_options().items():
                h.setOptionValue(k, v)
            if before is not None and mip_heuristic_options() and \
                    "mip_heuristic_run_feasibility_jump" in _known_options():
                # feasibility jump looks for a first incumbent, which the start is (on the example's coalitions it
                # took a tenth of branch and bound's time)
                h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        pass_arrays(h, M, cs, lower[C], upper[C], rlo, rhi, is_int)
        started = False
        if before is not None:
            h.setSolution(len(C), np.arange(len(C), dtype=np.int32), before)
            started = True
        elif start_at and mip:
            loc = [(j, start_at[int(g)]) for j, g in enumerate(C) if is_int[j] and int(g) in start_at]
            if loc:
                idx, vals = zip(*loc)
                h.setSolution(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(vals, dtype=float))
                started = True
        if not running.run(h):
            return None
        if started and not _objective_matches(h, cs, 0.0):
            # HiGHS 1.16 can take a MIP start's objective for the incumbent's (see _objective_matches): the
            # block again without the start
            log.warning("HiGHS reported an objective that its solution does not have, after a MIP start; the block "
                        "is solved again without the start")
            h.clearSolver()
            if not running.run(h):
                return None
        if mip and not _objective_matches(h, cs, 0.0):
            return None  # still inconsistent: the whole model is solved instead
        info = h.getInfo()
        st = h.getModelStatus()
        # optimal, or (a MIP) stopped at the time limit with an incumbent: the block's plan and its bound count
        stopped = st == highspy.HighsModelStatus.kTimeLimit and mip
        if (st != highspy.HighsModelStatus.kOptimal and not stopped) or info.primal_solution_status != 2:
            return None
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if mip else obj
        sol = h.getSolution()
        xb = np.asarray(sol.col_value, dtype=float)
        y, fixed_s = None, 0.0
        if not mip:  # an LP block (of an LP, or of a MIP): its duals are the LP's
            y = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
            if lp and duals and y is None:
                return None
        elif duals and rel is not None and not stopped:  # the fixed-integer LP from the relaxation's basis
            del h, sol
            fixed = rel.fix(xb[is_int], running, deadline)
            if fixed is not None:  # else no duals from this block: the fixed LP by blocks, after, gives them
                y, fixed_s = fixed.y, fixed.seconds
        out = xb, obj, bound, y, stopped, fixed_s
        if memo and not stopped:
            _memo_put(key, out)
        if where is not None:
            _memo_put(where, out[0])
        return out

    t2 = time.perf_counter()
    reused = [0]

    def done(k):  # the live line counts the blocks done
        if progress is not None and len(blocks) > 1:
            progress({"phase": f"HiGHS {'LP' if lp else 'MIP'}: {k} of {len(blocks)} independent blocks done"})

    results = _in_threads(one, blocks, threads, done)
    if results is None:
        log.info("MIP by blocks: a block did not solve to optimality; the model is solved whole")
        return None
    obj = bound = 0.0
    row_dual = np.zeros(n_rows) if lp and duals else None
    in_block = not lp and duals and all(r[3] is not None for r in results.values())  # duals from the blocks
    if in_block:
        row_dual = np.zeros(n_rows)
    for b, (xb, ob, bb, yb, _st, _fs) in results.items():
        x[blocks[b][1]] = xb
        obj += ob
        bound += bb
        if row_dual is not None:
            row_dual[blocks[b][0]] = yb
    const = float(cost @ np.where(seen, 0.0, x)) * OBJ_SCALE + float(offset) * OBJ_SCALE
    obj += const
    bound += const
    gap = abs(obj - bound) / max(abs(obj), 1e-12)
    # a block stopped at the time limit: the plan so far, marked as the whole model's would be (no time is left
    # to solve it whole); otherwise the summed gap must meet the settings
    timed_out = any(r[4] for r in results.values())
    if not timed_out and gap > float(mip_gap) + 1e-12 and \
            abs(obj - bound) > float(mip_abs_gap or 0.0) * OBJ_SCALE + 1e-9:
        log.info("MIP by blocks: the blocks' gaps add up to %.3g of the total; the model is solved whole", gap)
        return None
    times["highs"] = time.perf_counter() - t2
    if in_block:  # the fixed-integer LPs ran inside the blocks' threads: their summed seconds, the rest is the MIP's
        fixed_s = sum(r[5] for r in results.values())
        times["highs_fixed_lp"] = fixed_s
        times["highs"] = max(0.0, times["highs"] - fixed_s)
        times["fixed_lp_blocks"] = len(blocks)
    times["handoff_pass"] = t2 - t1
    times["mip_blocks"] = len(blocks)
    if reused[0]:
        times["mip_blocks_reused"] = reused[0]
    res = SolveResult(status="time_limit" if timed_out else "optimal", has_solution=True, is_mip=not lp,
                      col_of=col_of, row_of=row_of,
                      n_rows=n_rows, n_cols=n_cols, nnz=int(A.nnz), n_int=int(integer.sum()), times=times,
                      highs_version=highs_version())
    res.x = x
    res.objective = obj / OBJ_SCALE
    res.bound = bound / OBJ_SCALE
    res.gap = 0.0 if lp else gap
    if lp or in_block:
        res.row_dual = row_dual / OBJ_SCALE if row_dual is not None else None
    elif duals:
        t4 = time.perf_counter()
        if progress is not None:
            progress({"phase": "HiGHS duals (LP, integers fixed)"})
        lo2, hi2 = row_lo, row_hi
        if cut_rows is not None:
            lo2, hi2 = row_lo.copy(), row_hi.copy()
            lo2[cut_rows], hi2[cut_rows] = -np.inf, np.inf
        fl = fixed_lp_blocks(A, lower, upper, lo2, hi2, x, integer)
        y = block_duals(fl, cost, n_rows, max(1e-3, deadline - time.perf_counter()), threads) if fl else None
        if y is not None:
            times["fixed_lp_blocks"] = len(fl)
        if y is None:  # one block once the integers are fixed (rare here): the whole LP
            lo3, hi3 = lower.copy(), upper.copy()
            lo3[integer] = hi3[integer] = np.round(x[integer])
            y = _lp_duals(A, cost, lo3, hi3, lo2, hi2, max(1e-3, deadline - time.perf_counter()))
        if y is not None:
            res.row_dual = y / OBJ_SCALE
        times["highs_fixed_lp"] = time.perf_counter() - t4
    times["total_solver"] = time.perf_counter() - t1 + times.get("handoff_compile", 0.0)
    log.info("HiGHS by %d blocks: %s, %d rows x %d cols, %d nonzeros, %d integer; objective %.6g MUSD, "
             "gap %.3g%%", len(blocks), res.status, n_rows, n_cols, res.nnz, res.n_int, res.objective, 100 * gap)
    return res


def _objective_matches(h, cost_scaled: np.ndarray, offset_scaled: float) -> bool:
    """HiGHS's objective is that of the solution it returns (cost · x + offset, to 1e-9 relative).  HiGHS 1.16,
    given a MIP start and with presolve on, can report the start's objective without the continuous columns'
    costs (min 7a + 10b + 4c + 12y, a + 8b + c + y >= 19, a, b, c integer in [0, 5], y in [0, 3], started at
    a, b, c = 0, 2, 2: it returns a, b, c, y = 0, 2, 2, 1, which costs 40, as 'optimal' with objective and bound
    28, while the optimum is b = 3 at 30; tests/solver/test_mip_start_guard.py).  To 1e-7 of the objective plus
    1e-9 of the terms' absolute sizes (HiGHS's objective is computed from the same solution: a defect is off by
    whole cost terms).  True without a solution."""
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return True
    x = np.asarray(h.getSolution().col_value, dtype=float)
    obj = float(info.objective_function_value)
    true = float(cost_scaled @ x) + float(offset_scaled)
    # rounding can only reach a tiny share of the terms' sizes (costs and revenues may cancel to near 0)
    size = float(np.abs(cost_scaled) @ np.abs(x)) + abs(float(offset_scaled))
    return abs(obj - true) <= 1e-9 * size + 1e-7 * max(1.0, abs(obj), abs(true))


def _lp_duals(A, cost, lower, upper, row_lo, row_hi, time_limit):
    """Row duals (HiGHS's scaled units) of the LP min cost.x, row_lo <= Ax <= row_hi, lower <= x <= upper."""
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit))
    pass_arrays(h, A, cost * OBJ_SCALE, lower, upper, row_lo, row_hi)
    h.run()
    sol = h.getSolution()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
        return None
    return np.asarray(sol.row_dual, dtype=float)


def _duals_by_block() -> bool:
    """PLANNER_FIXED_LP=whole: the fixed-integer LP in one piece (as before issue 18's blocks; for comparisons)."""
    return os.environ.get("PLANNER_FIXED_LP", "blocks").lower() != "whole"


def solve_ctx(ctx, start=None, **kw) -> SolveResult:
    """Solve a built model (direct hand-off, or Pyomo's compiler when the model was built that way).
    ``start``: a plan (planner.model.warmstart) whose integer decisions HiGHS gets as a MIP start."""
    t0 = time.perf_counter()
    if start is not None:
        from planner.model.warmstart import start_columns  # model knowledge: which columns a plan names
        kw["start"] = start_columns(ctx, start)
    arrays = list(compile_direct(ctx) if ctx.direct else compile_pyomo(ctx.m))  # emptied by _solve_arrays
    kw.setdefault("cut_rows", valid_inequality_rows(ctx, arrays[9]))
    res = _solve_arrays(arrays, time.perf_counter() - t0, **kw)
    if res.nnz >= TRIM_MIN_NNZ:
        release_freed_memory()  # HiGHS's freed pages back to the system before the results tables are made
    return res


TRIM_MIN_NNZ = 500_000  # models at least this large hand the memory HiGHS freed back to the system after the solve


def valid_inequality_rows(ctx, row_of: dict) -> np.ndarray | None:
    """Rows of the valid inequalities (planner.model.strengthen): with the integers fixed they are implied by
    the other rows, so the LP for shadow prices leaves them out; kept, they would make that LP degenerate
    and could take a price's share (a demand-sized capacity link binding with the demand itself)."""
    from planner.model.strengthen import ROWS

    if ctx.direct:
        spans = [(r0, n) for name, r0, n in getattr(ctx.sink, "row_names", ()) if name in ROWS]
        rows = [np.arange(r0, r0 + n) for r0, n in spans]
    else:
        rows = [np.array([row_of[id(c)] for c in comp.values() if id(c) in row_of], dtype=np.int64)
                for comp in (getattr(ctx.m, name, None) for name in ROWS) if comp is not None]
    rows = [r for r in rows if len(r)]
    return np.concatenate(rows).astype(np.int64) if rows else None


# Progressive hedging (planner/workflows/decomp.py) cannot use the arrays above: mpi-sppy solves Pyomo models through a Pyomo
# solver plugin.  Its HiGHS settings live here with the others.
PYOMO_SOLVER = "highs"  # Pyomo's HiGHS interface (pyomo.contrib.solver); "appsi_highs" is as fast but prints
#                         HiGHS's banner on the terminal


def pyomo_solver_options(settings: dict) -> dict:
    """HiGHS options (HiGHS's own names) for every scenario solve of progressive hedging, from the settings."""
    opts = {"mip_rel_gap": float(settings["mip_gap"]), "time_limit": float(settings["time_limit_s"]),
            "output_flag": False}  # HiGHS's own log off (it writes to the terminal directly)
    if int(settings["threads"] or 0):
        opts["threads"] = int(settings["threads"])
    opts.update(mip_heuristic_options())
    return opts


def _hooks(h, progress, log_lines, console: bool) -> None:
    """Optional callbacks (planner.report.progress): HiGHS's log text to ``log_lines(str)`` (the log stays off
    the console unless ``console``), and during a MIP ``progress(dict)`` with the incumbent, bound (MUSD),
    gap and nodes at each line of HiGHS's MIP log and each improved solution.  An error in a callback never
    reaches HiGHS."""
    h.setOptionValue("output_flag", True)  # the callbacks fire only with HiGHS's log on ...
    if not console:
        h.setOptionValue("log_to_console", False)  # ... which goes to them alone

    def guard(fn):
        def call(e):
            try:
                fn(e)
            except Exception:  # pragma: no cover - a display problem must not stop the solve
                pass
        return call

    if log_lines is not None:
        h.cbLogging.subscribe(guard(lambda e: log_lines(e.message)))
    if progress is not None:
        def mip(e):
            o = e.data_out
            progress({"incumbent": o.mip_primal_bound / OBJ_SCALE, "bound": o.mip_dual_bound / OBJ_SCALE,
                      "gap": o.mip_gap, "nodes": int(o.mip_node_count), "time": o.running_time})
        h.cbMipLogging.subscribe(guard(mip))
        h.cbMipImprovingSolution.subscribe(guard(mip))


def _solve_arrays(arrays, compile_seconds: float, **kw) -> SolveResult:
    """Solve the model's arrays (:func:`_solve_model_arrays`); afterwards, while reuse is on, the blocks it solved are
    kept for the next solve (a block with the same arrays is then not solved again)."""
    try:
        return _solve_model_arrays(arrays, compile_seconds, **kw)
    finally:
        _memo_turn()


def _solve_model_arrays(arrays, compile_seconds: float, time_limit: float = 600.0, mip_gap: float = 1e-5,
                        threads: int = 0, duals: bool = True, log_to_console: bool = False, progress=None,
                        log_lines=None, start=None, mip_abs_gap: float | None = None, cut_rows=None) -> SolveResult:
    """``progress``, ``log_lines``: optional callables for the live line and the solve's log (:func:`_hooks`).
    ``mip_abs_gap`` (MUSD): a MIP also stops when incumbent − bound is at most this (besides ``mip_gap``).
    ``cut_rows``: rows of valid inequalities, left out of the fixed-integer LP for a MIP's duals (dual 0).
    ``start``: (columns, values) of integer columns, a partial MIP start that HiGHS completes with an LP
    (``setSolution``); one that does not fit is dropped by HiGHS.  ``duals`` False: no fixed-integer LP."""
    A, cost, offset, lower, upper, integer, row_lo, row_hi, col_of, row_of = arrays
    if isinstance(arrays, list):  # the caller's list: emptied, so the matrix can go once HiGHS has its copy
        arrays.clear()
    del arrays
    n_rows, n_cols = A.shape
    nnz = int(A.nnz)
    times = {"handoff_compile": compile_seconds}
    t0 = time.perf_counter() - compile_seconds
    t1 = time.perf_counter()
    # independent supply chains: one small MIP (or LP) each (issue 18); an LP in a sweep or batch keeps the
    # previous solve's basis instead (planner.workflows.batch: model reuse), which gains more
    if _mip_by_blocks() and (integer.any() or not reuse_enabled()):
        res = _solve_mip_blocks(A, cost, offset, lower, upper, integer, row_lo, row_hi, col_of, row_of, times,
                                time_limit, mip_gap, threads, duals, progress, start, mip_abs_gap, cut_rows,
                                log_lines, bool(log_to_console))
        if res is not None:
            return res
        time_limit = max(1e-3, float(time_limit) - (time.perf_counter() - t1))  # the whole model gets what is left
        t1 = time.perf_counter()
    kept = _reuse(A, cost, offset, lower, upper, integer, row_lo, row_hi, threads, log_to_console, time_limit,
                  mip_gap, progress, log_lines, times) if reuse_enabled() else None  # issue 18: sweeps, batches
    if kept is not None:  # a kept HiGHS object's callbacks reach this solve's log and live line through its relay
        progress, log_lines = kept.relay.mip, kept.relay.log
    is_mip = bool(integer.any())
    cost_scaled = np.asarray(cost, dtype=float) * OBJ_SCALE  # HiGHS's objective; a MIP's is checked against it
    h = kept.h if kept is not None else None
    if h is None:  # nothing to reuse: a new HiGHS object and the whole model
        h = new_highs(bool(log_to_console))
        if progress is not None or log_lines is not None:
            _hooks(h, progress, log_lines, bool(log_to_console))
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        h.setOptionValue("mip_abs_gap", 1e-12)
        if threads:
            h.setOptionValue("threads", int(threads))
        if is_mip:
            for k, v in mip_heuristic_options().items():
                h.setOptionValue(k, v)
        status = pass_arrays(h, A, cost_scaled, lower, upper, row_lo, row_hi, integer, float(offset) * OBJ_SCALE)
        if status == highspy.HighsStatus.kError:  # a planner bug (inconsistent arrays), not an input problem
            raise RuntimeError("HiGHS refused the model arrays (passModel returned an error)")
        if kept is not None:
            kept.adopt(h, A)
    # HiGHS holds its own copy: no second matrix during the solve (a MIP with duals keeps it for the fixed LP's blocks)
    fixed_lp = (A, cost, lower, upper, row_lo, row_hi) if is_mip and duals and _duals_by_block() else None
    del A, cost, lower, upper, row_lo, row_hi
    times["handoff_pass"] = time.perf_counter() - t1
    started = False
    if start is not None and integer.any() and len(start[0]):
        idx, vals = start
        h.setSolution(int(len(idx)), np.ascontiguousarray(idx, dtype=np.int32),
                      np.ascontiguousarray(vals, dtype=float))  # a warning status = rejected start: harmless
        log.debug("MIP start: %d integer columns from the previous plan", len(idx))
        started = True

    if is_mip:
        h.setOptionValue("mip_abs_gap", max(float(mip_abs_gap or 0.0) * OBJ_SCALE, 1e-12))
    t2 = time.perf_counter()
    if progress is not None:
        progress({"phase": "HiGHS MIP" if integer.any() else "HiGHS LP"})
    _run(h)
    if is_mip and started and not _objective_matches(h, cost_scaled, float(offset) * OBJ_SCALE):
        log.warning("HiGHS reported an objective that its solution does not have, after a MIP start; the model is "
                    "solved again without the start")
        h.clearSolver()
        _run(h)
    if is_mip and not _objective_matches(h, cost_scaled, float(offset) * OBJ_SCALE):
        from planner.common.problems import PlannerError

        raise PlannerError("HiGHS reported an objective that its own solution does not have (a solver defect), so "
                           "the result cannot be trusted; try another --mip-gap or PLANNER_MIP_TUNING=off")
    del cost_scaled
    times["highs"] = time.perf_counter() - t2
    status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name)
    if status == "interrupted":
        raise KeyboardInterrupt("solve interrupted")
    if status == "infeasible_or_unbounded":
        # HiGHS's presolve cannot tell; run once more without it to say which
        h.setOptionValue("presolve", "off")
        t3 = time.perf_counter()
        h.run()
        times["highs"] += time.perf_counter() - t3
        status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name)
    hinfo = h.getInfo()
    has_sol = hinfo.primal_solution_status == 2 and status not in ("infeasible", "unbounded")
    res = SolveResult(status=status, has_solution=has_sol, is_mip=is_mip, col_of=col_of, row_of=row_of,
                      n_rows=n_rows, n_cols=n_cols, nnz=nnz, n_int=int(integer.sum()), times=times,
                      highs_version=highs_version())
    if has_sol:
        sol = h.getSolution()
        res.x = np.asarray(sol.col_value, dtype=float)
        res.objective = float(hinfo.objective_function_value) / OBJ_SCALE
        if is_mip:
            res.gap = float(hinfo.mip_gap) if np.isfinite(hinfo.mip_gap) else float("nan")
            res.bound = float(hinfo.mip_dual_bound) / OBJ_SCALE
        else:
            res.gap = 0.0
            res.bound = res.objective
        if not is_mip and sol.dual_valid:
            res.row_dual = np.asarray(sol.row_dual, dtype=float) / OBJ_SCALE
        elif is_mip and duals:
            t4 = time.perf_counter()
            if progress is not None:
                progress({"phase": "HiGHS duals (LP, integers fixed)"})
            if fixed_lp is not None:  # the LP falls apart into independent blocks once the integers are fixed
                A, cost, lower, upper, row_lo, row_hi = fixed_lp
                if cut_rows is not None:  # implied once the integers are fixed: free rows, in no block
                    row_lo, row_hi = row_lo.copy(), row_hi.copy()
                    row_lo[cut_rows], row_hi[cut_rows] = -np.inf, np.inf
                fixed_lp = None
                blocks = fixed_lp_blocks(A, lower, upper, row_lo, row_hi, res.x, integer)
                del A, lower, upper, row_lo, row_hi
                if blocks is not None:
                    y = block_duals(blocks, cost, n_rows, time_limit, threads)
                    if y is not None:
                        res.row_dual = y / OBJ_SCALE
                        times["fixed_lp_blocks"] = len(blocks)
                    else:
                        log.info("fixed-integer LP by blocks: a block did not solve to optimality; the whole LP "
                                 "instead")
                del blocks, cost
            if res.row_dual is None:
                idx = np.flatnonzero(integer).astype(np.int32)
                vals = np.round(res.x[idx])
                h.changeColsIntegrality(len(idx), idx,
                                        np.array([highspy.HighsVarType.kContinuous] * len(idx)))
                h.changeColsBounds(len(idx), idx, vals, vals)
                if cut_rows is not None:  # the valid inequalities: implied with the integers fixed
                    cr = np.ascontiguousarray(cut_rows, dtype=np.int32)
                    h.changeRowsBounds(len(cr), cr, np.full(len(cr), -np.inf), np.full(len(cr), np.inf))
                h.setOptionValue("presolve", "on")
                h.run()
                sol2 = h.getSolution()
                if _STATUS.get(h.getModelStatus().name) == "optimal" and sol2.dual_valid:
                    res.row_dual = np.asarray(sol2.row_dual, dtype=float) / OBJ_SCALE
            times["highs_fixed_lp"] = time.perf_counter() - t4
    _keep(kept)  # for the next solve of the same process (issue 18; only inside reusing())
    times["total_solver"] = time.perf_counter() - t0
    log.info("HiGHS: %s, %d rows x %d cols, %d nonzeros, %d integer; objective %.6g MUSD, gap %.3g%%",
             status, n_rows, n_cols, res.nnz, res.n_int, res.objective, 100 * (res.gap or 0))
    return res


# ------------------------------------------------------------------ reuse of the previous model (issue 18)
# A sweep point or batch item often differs from the solve before it only in coefficients (a price, a bound, a
# yield): the same rows, columns, sparsity pattern and integrality.  Inside ``reusing()`` (sweeps and batches;
# PLANNER_REUSE=off switches it off) the HiGHS object of the last solve is kept with its model, and the next solve
# with the same structure changes only what differs (changeColsCost, changeColsBounds, changeRowsBounds,
# changeCoeff) instead of passing the whole model again: an LP then starts from the previous optimal basis (HiGHS
# skips presolve when it has a valid basis: a warm simplex), a MIP saves the hand-off.  Bounds and costs are
# compared with what the HiGHS object holds now, and integrality is set again, so whatever the previous solve's
# fixed-integer LP changed (integers relaxed and fixed at their values) is undone.  Options go back to those of the
# first solve (the duals LP and the infeasible-or-unbounded retry change presolve); the time limit counts from
# now (HiGHS 1.x measures it over every run of one object).  Anything else differs -> the normal path.
REUSE_ENV = "PLANNER_REUSE"
REUSE_MAX_NNZ = 4_000_000  # a larger model is not kept: HiGHS's copy would stay in memory during the next build
REUSE_MAX_COEFF_SHARE = 0.1  # more matrix values changed than this share of the nonzeros: pass the model again
_REUSE: dict = {"kept": None}
# Blocks solved by the previous solve of this process (while reuse is on): digest of a block's data and settings ->
# its solution.  A sweep point usually changes one supply chain; the other chains' blocks are then the same arrays to
# the bit, and HiGHS would return what it returned before.  Only the last solve's blocks are kept (memory: one
# solution).  ``_MEMO["now"]`` collects the running solve's blocks; :func:`_memo_turn` makes them the kept ones.
_MEMO: dict = {"prev": {}, "now": {}}


def block_digest(*parts) -> bytes:
    """A digest of a block's arrays and settings (numbers, strings, arrays): equal digests = the same block."""
    import hashlib

    d = hashlib.blake2b(digest_size=20)
    for p in parts:
        if isinstance(p, np.ndarray):
            d.update(str(p.dtype).encode())
            d.update(np.asarray(p.shape, dtype=np.int64).tobytes())
            d.update(np.ascontiguousarray(p).tobytes())
        else:
            d.update(repr(p).encode())
        d.update(b"|")
    return d.digest()


def _memo_get(key: bytes):
    """The kept solution of an identical block (None: not kept, or reuse is off); kept for the next solve too."""
    if not reuse_enabled():
        return None
    hit = _MEMO["prev"].get(key)
    if hit is not None:
        _MEMO["now"][key] = hit
    return hit


def _memo_put(key: bytes, value) -> None:
    if reuse_enabled():
        _MEMO["now"][key] = value


def _memo_turn() -> None:
    """The running solve is over: its blocks become the kept ones (the older ones go)."""
    _MEMO["prev"], _MEMO["now"] = (_MEMO["now"], {}) if reuse_enabled() else ({}, {})


def reuse_enabled() -> bool:
    """A solve may reuse the previous solve's HiGHS model: inside :func:`reusing` or after ``set_reuse(True)``,
    unless the environment says PLANNER_REUSE=off."""
    from os import environ

    return _SWITCH.on and environ.get(REUSE_ENV, "on").strip().lower() not in ("off", "0", "no", "false")


def release_model() -> None:
    """Drop the kept HiGHS model and the kept blocks' solutions (their memory) now."""
    _REUSE["kept"] = None
    _MEMO["prev"], _MEMO["now"] = {}, {}


_SWITCH = Switch(release_model)


def set_reuse(on: bool) -> None:
    """Switch reuse on for the rest of this process (a batch's worker process), or off (the kept model released)."""
    _SWITCH.set(on)


def reusing():
    """``with reusing(): ...``: the solves in the block may reuse the model of the solve before (sweeps, batches);
    on leaving the block the kept model is released (unless reuse was on before)."""
    return _SWITCH.within()


class _Relay:
    """The callbacks of a kept HiGHS object, subscribed once: they pass HiGHS's log and MIP progress on to the solve
    that runs now (each sweep point has its own log and live line).  MIP progress times count from this run."""

    def __init__(self, progress=None, log_lines=None):
        self.bind(progress, log_lines)

    def bind(self, progress, log_lines, t0: float = 0.0) -> None:
        self.progress, self.log_lines, self.t0 = progress, log_lines, t0

    def log(self, text) -> None:
        if self.log_lines is not None:
            self.log_lines(text)

    def mip(self, d: dict) -> None:
        if self.progress is not None:
            if self.t0 and "time" in d:
                d = {**d, "time": d["time"] - self.t0}
            self.progress(d)


@dataclass
class _Kept:
    key: tuple         # (rows, columns, threads, HiGHS log on the console)
    pattern: bytes     # digest of the sparsity pattern (indptr, indices) and integrality
    relay: _Relay
    h: object = None   # the HiGHS object, holding the model of the last solve
    data: np.ndarray | None = None  # the matrix values HiGHS holds (the CSC order of ``pattern``)
    offset: float = 0.0
    options: object = None  # HiGHS's options as the first solve set them up
    lp: bool = True         # no integer column
    basis: object = None    # an LP's optimal basis carried over to a new object (same rows and columns)

    def adopt(self, h, A) -> None:
        """The cold path's HiGHS object, its model just passed (and the previous LP's basis given to it)."""
        self.h = h
        self.data = np.array(A.data, dtype=float)
        self.options = h.getOptions()
        if self.basis is not None:
            h.setBasis(self.basis)
            self.basis = None


def _pattern(A, integer) -> bytes:
    import hashlib

    d = hashlib.blake2b(digest_size=20)
    d.update(np.asarray(A.shape, dtype=np.int64).tobytes())
    d.update(np.ascontiguousarray(A.indptr, dtype=np.int64).tobytes())
    d.update(np.ascontiguousarray(A.indices, dtype=np.int32).tobytes())
    d.update(np.packbits(np.asarray(integer, dtype=bool)).tobytes())
    return d.digest()


def _reuse(A, cost, offset, lower, upper, integer, row_lo, row_hi, threads, console, time_limit, mip_gap,
           progress, log_lines, times) -> _Kept | None:
    """The kept model brought up to date for these arrays (``.h`` set; ``times["handoff_reused"]`` = 1), or a
    fresh :class:`_Kept` whose ``.h`` the cold path fills (``adopt``; an LP with the same rows and columns as the
    one before but another sparsity pattern gets its optimal basis: ``times["basis_reused"]`` = 1); None: the model
    is too large to keep."""
    k, _REUSE["kept"] = _REUSE["kept"], None  # taken: a failure below leaves nothing stale behind
    n_rows, n_cols = A.shape
    if int(A.nnz) > REUSE_MAX_NNZ:
        return None
    key = (int(n_rows), int(n_cols), int(threads or 0), bool(console))  # the pattern has the nonzeros
    pattern = _pattern(A, integer)
    lp = not np.any(integer)
    changes = None
    if k is not None and k.key == key and k.pattern == pattern:
        try:
            changes = _apply_changes(k, A, cost, offset, lower, upper, integer, row_lo, row_hi)
        except _Refused:
            log.debug("model reuse: HiGHS refused a change; the whole model is passed to a new object")
            k = None
    if changes is None:
        basis = None
        if k is not None:
            log.debug("model reuse: the structure changed (sparsity pattern, shape or integrality) or too many matrix "
                      "values did; the whole model is passed")
            if k.key == key and k.lp and lp:  # the same rows and columns (a coefficient became zero or nonzero):
                b = k.h.getBasis()           # the LP still starts from the previous optimal basis
                if b.valid:
                    basis = b
                    times["basis_reused"] = 1.0
        return _Kept(key, pattern, _Relay(progress, log_lines), offset=float(offset) * OBJ_SCALE, lp=lp,
                     basis=basis)
    h = k.h
    if h.passOptions(k.options) == highspy.HighsStatus.kError:
        return _Kept(key, pattern, _Relay(progress, log_lines), offset=float(offset) * OBJ_SCALE, lp=lp)
    h.setOptionValue("time_limit", h.getRunTime() + float(time_limit))  # HiGHS 1.x: the run time of the object
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    k.relay.bind(progress, log_lines, h.getRunTime())
    times["handoff_reused"] = 1.0
    k.lp = lp
    log.debug("model reuse: %d cost(s), %d column bound(s), %d row bound(s), %d matrix value(s) changed", *changes)
    return k


class _Refused(Exception):
    """HiGHS refused a change to the kept model: the model is passed whole instead."""


def _ok(status) -> None:
    if status == highspy.HighsStatus.kError:
        raise _Refused


def _apply_changes(k: _Kept, A, cost, offset, lower, upper, integer, row_lo, row_hi):
    """Change in ``k.h`` what differs from these arrays; returns the counts (costs, column bounds, row bounds, matrix
    values) or None (too many matrix values changed: better passed whole).  Raises :class:`_Refused` when HiGHS
    refuses a change (the object is then half changed: dropped)."""
    h = k.h
    n_rows, n_cols = A.shape
    data = np.asarray(A.data, dtype=float)
    coeff = np.flatnonzero(data != k.data)
    if len(coeff) > REUSE_MAX_COEFF_SHARE * len(data):
        return None
    cols = np.arange(n_cols, dtype=np.int32)
    _st, _n, c_now, lo_now, hi_now, _nz = h.getCols(int(n_cols), cols)
    c = np.ascontiguousarray(cost, dtype=float) * OBJ_SCALE
    j = np.flatnonzero(c != c_now).astype(np.int32)
    if len(j):
        _ok(h.changeColsCost(len(j), j, np.ascontiguousarray(c[j])))
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    jb = np.flatnonzero((lo != lo_now) | (hi != hi_now)).astype(np.int32)  # the fixed LP's fixings included
    if len(jb):
        _ok(h.changeColsBounds(len(jb), jb, np.ascontiguousarray(lo[jb]), np.ascontiguousarray(hi[jb])))
    ib = np.zeros(0, dtype=np.int32)
    if n_rows:
        _st, _n, rlo_now, rhi_now, _nz = h.getRows(int(n_rows), np.arange(n_rows, dtype=np.int32))
        rlo = np.asarray(row_lo, dtype=float)
        rhi = np.asarray(row_hi, dtype=float)
        ib = np.flatnonzero((rlo != rlo_now) | (rhi != rhi_now)).astype(np.int32)
        if len(ib):
            _ok(h.changeRowsBounds(len(ib), ib, np.ascontiguousarray(rlo[ib]), np.ascontiguousarray(rhi[ib])))
    ji = np.flatnonzero(integer).astype(np.int32)
    if len(ji):  # integer again (the previous solve's fixed-integer LP may have made them continuous)
        _ok(h.changeColsIntegrality(len(ji), ji, np.full(len(ji), int(highspy.HighsVarType.kInteger),
                                                         dtype=np.uint8)))
    if len(coeff):
        col = np.searchsorted(A.indptr, coeff, side="right") - 1
        for r, cj, v in zip(np.asarray(A.indices)[coeff].tolist(), col.tolist(), data[coeff].tolist()):
            _ok(h.changeCoeff(int(r), int(cj), float(v)))
        k.data[coeff] = data[coeff]
    off = float(offset) * OBJ_SCALE
    if off != k.offset:
        _ok(h.changeObjectiveOffset(off))
        k.offset = off
    return len(j), len(jb), len(ib), len(coeff)


def _keep(kept: _Kept | None) -> None:
    """Keep the model just solved for the next solve of this process (while reuse is on)."""
    if kept is not None and kept.h is not None and kept.data is not None and _SWITCH.on:
        _REUSE["kept"] = kept


def solve_lp(c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=None):
    """A small dense LP: min c·x s.t. A_ub x ≤ b_ub, A_eq x = b_eq, bounds (lo, hi) per column (None = free;
    default x ≥ 0).  Returns (status, x, objective, row duals of the A_ub rows then the A_eq rows).
    Used by the coalition analysis (nucleolus, least core); status as :class:`SolveResult` says it."""
    c = np.asarray(c, dtype=float)
    n = len(c)
    blocks, lo, hi = [], [], []
    for A, b, eq in ((A_ub, b_ub, False), (A_eq, b_eq, True)):
        if A is None or not len(A):
            continue
        A = np.atleast_2d(np.asarray(A, dtype=float))
        b = np.asarray(b, dtype=float)
        blocks.append(A)
        lo.append(b if eq else np.full(len(b), -np.inf))
        hi.append(b)
    A = np.vstack(blocks) if blocks else np.zeros((0, n))
    row_lo = np.concatenate(lo) if lo else np.zeros(0)
    row_hi = np.concatenate(hi) if hi else np.zeros(0)
    if bounds is None:
        lower, upper = np.zeros(n), np.full(n, np.inf)
    else:
        lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds], dtype=float)
        upper = np.array([np.inf if b[1] is None else b[1] for b in bounds], dtype=float)
    r, j = np.nonzero(A)
    csc = csc_from_triplets(r.astype(np.int64), j.astype(np.int64), A[r, j], A.shape[0], n)
    h = new_highs()
    pass_arrays(h, csc, c, lower, upper, row_lo, row_hi)
    h.run()
    status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name)
    if status != "optimal":
        return status, None, float("nan"), None
    sol = h.getSolution()
    return status, np.asarray(sol.col_value, dtype=float), float(h.getInfo().objective_function_value), \
        np.asarray(sol.row_dual, dtype=float)
