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
import threading
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

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
    """Run HiGHS; in the main thread Ctrl-C cancels the solve cleanly (status 'interrupted')."""
    if threading.current_thread() is threading.main_thread() and hasattr(h, "startSolve"):
        h.HandleKeyboardInterrupt = True
        h.solve()
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
    n_rows = len(ctx.row_lo)
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
    nnz = np.frombuffer(ctx.row_nnz, dtype=np.int64) if n_rows else np.zeros(0, np.int64)
    A = csc_from_triplets(np.repeat(np.arange(n_rows, dtype=np.int64), nnz),
                          np.frombuffer(ctx.tri_c, dtype=np.int64) if len(ctx.tri_c) else np.zeros(0, np.int64),
                          np.frombuffer(ctx.tri_v, dtype=float) if len(ctx.tri_v) else np.zeros(0),
                          n_rows, n_cols)
    ctx.tri_c = ctx.tri_v = ctx.row_nnz = None  # HiGHS gets its own copy; the model may be large
    cost = np.zeros(n_cols)
    if ctx.obj_terms:
        coefs, cols = zip(*ctx.obj_terms)
        np.add.at(cost, np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float))
        del coefs, cols
    row_lo, row_hi = np.asarray(ctx.row_lo, dtype=float), np.asarray(ctx.row_hi, dtype=float)
    ctx.obj_terms = ctx.row_lo = ctx.row_hi = None  # as the triplets: compiled once, then HiGHS's copy is the one
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


def solve_ctx(ctx, start=None, **kw) -> SolveResult:
    """Solve a built model (direct hand-off, or Pyomo's compiler when the model was built that way).
    ``start``: a plan (planner.model.warmstart) whose integer decisions HiGHS gets as a MIP start."""
    t0 = time.perf_counter()
    if start is not None:
        from planner.model.warmstart import start_columns  # model knowledge: which columns a plan names
        kw["start"] = start_columns(ctx, start)
    arrays = list(compile_direct(ctx) if ctx.direct else compile_pyomo(ctx.m))  # emptied by _solve_arrays
    return _solve_arrays(arrays, time.perf_counter() - t0, **kw)


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


def _solve_arrays(arrays, compile_seconds: float, time_limit: float = 600.0, mip_gap: float = 1e-5,
                  threads: int = 0, duals: bool = True, log_to_console: bool = False, progress=None,
                  log_lines=None, start=None) -> SolveResult:
    """``progress``, ``log_lines``: optional callables for the live line and the solve's log (:func:`_hooks`).
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
    h = new_highs(bool(log_to_console))
    if progress is not None or log_lines is not None:
        _hooks(h, progress, log_lines, bool(log_to_console))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_abs_gap", 1e-12)
    if threads:
        h.setOptionValue("threads", int(threads))
    is_mip = bool(integer.any())
    # the array form of passModel: one copy into HiGHS (a HighsLp object costs a copy per field, ~4x slower)
    status = h.passModel(int(n_cols), int(n_rows), int(A.nnz), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), float(offset) * OBJ_SCALE,
                np.ascontiguousarray(cost, dtype=float) * OBJ_SCALE,
                np.ascontiguousarray(lower, dtype=float), np.ascontiguousarray(upper, dtype=float),
                np.ascontiguousarray(row_lo, dtype=float), np.ascontiguousarray(row_hi, dtype=float),
                A.indptr.astype(np.int32, copy=False), A.indices.astype(np.int32, copy=False),
                A.data.astype(float, copy=False),
                # integrality for every column (an empty array is read out of bounds by HiGHS 1.15)
                integer.astype(np.int32) * int(highspy.HighsVarType.kInteger))
    if status == highspy.HighsStatus.kError:  # a planner bug (inconsistent arrays), not an input problem
        raise RuntimeError("HiGHS refused the model arrays (passModel returned an error)")
    del A, cost, lower, upper, row_lo, row_hi  # HiGHS holds its own copy: no second matrix during the solve
    times["handoff_pass"] = time.perf_counter() - t1
    if start is not None and integer.any() and len(start[0]):
        idx, vals = start
        h.setSolution(int(len(idx)), np.ascontiguousarray(idx, dtype=np.int32),
                      np.ascontiguousarray(vals, dtype=float))  # a warning status = rejected start: harmless
        log.debug("MIP start: %d integer columns from the previous plan", len(idx))

    t2 = time.perf_counter()
    if progress is not None:
        progress({"phase": "HiGHS MIP" if integer.any() else "HiGHS LP"})
    _run(h)
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
            idx = np.flatnonzero(integer).astype(np.int32)
            vals = np.round(res.x[idx])
            h.changeColsIntegrality(len(idx), idx,
                                    np.array([highspy.HighsVarType.kContinuous] * len(idx)))
            h.changeColsBounds(len(idx), idx, vals, vals)
            h.setOptionValue("presolve", "on")
            h.run()
            times["highs_fixed_lp"] = time.perf_counter() - t4
            sol2 = h.getSolution()
            if _STATUS.get(h.getModelStatus().name) == "optimal" and sol2.dual_valid:
                res.row_dual = np.asarray(sol2.row_dual, dtype=float) / OBJ_SCALE
    times["total_solver"] = time.perf_counter() - t0
    log.info("HiGHS: %s, %d rows x %d cols, %d nonzeros, %d integer; objective %.6g MUSD, gap %.3g%%",
             status, n_rows, n_cols, res.nnz, res.n_int, res.objective, 100 * (res.gap or 0))
    return res


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
    h.passModel(int(n), int(A.shape[0]), int(csc.nnz), int(highspy.MatrixFormat.kColwise),
                int(highspy.ObjSense.kMinimize), 0.0, c, lower, upper, row_lo, row_hi,
                csc.indptr.astype(np.int32), csc.indices.astype(np.int32), csc.data, np.zeros(n, dtype=np.int32))
    h.run()
    status = _STATUS.get(h.getModelStatus().name, h.getModelStatus().name)
    if status != "optimal":
        return status, None, float("nan"), None
    sol = h.getSolution()
    return status, np.asarray(sol.col_value, dtype=float), float(h.getInfo().objective_function_value), \
        np.asarray(sol.row_dual, dtype=float)
