"""Many solves at once: parallel processes or a Dask cluster, a progress bar, a status table.

``run_batch(paths, ...)`` (used by ``planner solve A.xlsx B.xlsx --jobs N``)
and :func:`run_tasks` (used by sweeps and stress tests) run each solve as a
:class:`Task` and return one :class:`planner.workflows.run.Outcome` per task, in task
order, whatever happens:

- one failing input (invalid workbook, infeasible model, solver trouble, even a
  bug) never stops the others: its outcome carries the status and message;
- ``jobs > 1`` runs the tasks in a ``concurrent.futures.ProcessPoolExecutor``
  (forkserver on Linux, spawn elsewhere); ``executor="dask"`` sends them to a
  Dask distributed scheduler (``scheduler`` address, or a local cluster of
  ``jobs`` single-threaded worker processes when none is given). Dask workers
  must see the input and results folders under the same paths (one machine or
  a shared drive): each task reads its input and writes its own results file;
- results file names are reserved up front (``NAME-2.xlsx`` when NAME exists or
  another task of the batch has it, unless ``force``), so parallel solves never
  write over each other or over earlier results;
- Ctrl-C keeps every finished results file (each is written atomically) and
  marks the tasks that were running or waiting as ``interrupted`` / ``not run``
  (exit code 130).

Overrides: ``KEY=VALUE`` keys are settings; ``sheet.row.column`` keys change one
cell of an input table in memory before validation (see :mod:`planner.input.overrides`):
the input file itself is never modified.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from planner.common.files import free_name
from planner.common.problems import InputError, PlannerError
from planner.input.load import load_input

log = logging.getLogger("planner")

INTERRUPTED = 130
NOT_RUN = "not run"
PREVIOUS = "previous"  # Task.start: the plan of the solve before (warm start; issue 18)


# ------------------------------------------------------------------ tasks
@dataclass
class Task:
    """One solve. ``out`` is the exact results file (reserved by :func:`reserve_names`) or None (no file)."""

    path: str
    label: str = ""
    out: str | None = None
    overrides: dict = field(default_factory=dict)
    scenario: str | None = None
    fixed: dict | None = None
    force: bool = False
    write: bool = True
    keep: tuple = ()            # results tables to send back with the outcome (others are dropped)
    meta: dict = field(default_factory=dict)  # the caller's data, returned on the outcome
    fn: object = None           # run fn(task) -> Outcome instead of solving ``path`` (module-level: picklable)
    data: object = None         # in-memory input (an InputData read and validated once) for ``fn``
    start: object = None        # MIP start: a plan dict (planner.model.warmstart), or PREVIOUS
    duals: bool = True          # False: no fixed-integer LP (prices and shadow prices blank)

    def __post_init__(self):
        self.label = self.label or str(self.path)


@contextlib.contextmanager
def _quiet():
    lg = logging.getLogger("planner")
    old = lg.level
    lg.setLevel(logging.ERROR)  # the progress bar and the final table report; messages come back on outcomes
    try:
        yield
    finally:
        lg.setLevel(old)


class _Done(Exception):
    """A task's own function returned its outcome."""


def run_task(task: Task):
    """Run one task; never raises for a failing input (the outcome says what went wrong)."""
    from planner.workflows.run import Outcome, solve_file

    t0 = time.perf_counter()
    try:
        with _quiet():
            if task.fn is not None:
                oc = task.fn(task)
                raise _Done
            data = load_input(task.path, task.overrides)
            oc = solve_file(task.path, out=task.out, scenario=task.scenario, force=task.force, fixed=task.fixed,
                            write=task.write and task.out is not None, data=data,
                            start=task.start if isinstance(task.start, dict) else None, duals=task.duals)
    except _Done:
        pass
    except InputError as e:
        errs = [p for p in e.problems if p.severity == "error"]
        oc = Outcome(input=task.path, status="invalid", exit_code=1, message="\n".join(map(str, errs)))
    except PlannerError as e:
        msg = str(e)
        oc = Outcome(input=task.path, status="error", exit_code=1,
                     message=msg if msg.startswith(str(task.path)) else f"{task.path}: {msg}")
    except Exception as e:  # a bug or a broken file: reported on this task, the batch goes on
        oc = Outcome(input=task.path, status="error", exit_code=1,
                     message=f"{task.path}: unexpected {type(e).__name__}: {e}")
    if oc.tables and "investments" in oc.tables:  # the plan, a MIP start for a solve that follows (warm starts)
        from planner.model.warmstart import plan_from_investments
        oc.plan = plan_from_investments(oc.tables["investments"])
    oc.tables = {k: v for k, v in (oc.tables or {}).items() if k in task.keep}
    oc.label = task.label
    oc.meta = dict(task.meta)
    oc.elapsed = time.perf_counter() - t0
    return oc


def _missing(task: Task, status: str, message: str):
    from planner.workflows.run import Outcome

    oc = Outcome(input=task.path, status=status, exit_code=INTERRUPTED if status in (NOT_RUN, "interrupted") else 1,
                 message=message)
    oc.label, oc.meta, oc.elapsed = task.label, dict(task.meta), float("nan")
    return oc


def reserve_names(targets: list[Path | None], force: bool) -> list[Path | None]:
    """Distinct results file names: NAME, else NAME-2, NAME-3 ... (an existing file is kept unless ``force``;
    two tasks of one batch never share a name, even with ``force``)."""
    taken: list[Path] = []
    out = []
    for p in targets:
        if p is None:
            out.append(None)
            continue
        cand = free_name(p, force, taken)
        taken.append(cand)
        out.append(cand)
    return out


# ------------------------------------------------------------------ running
def run_tasks(tasks: list[Task], jobs: int = 1, executor: str = "process", scheduler: str | None = None,
              progress: bool = True, title: str = "solving") -> list:
    """Run every task; one outcome per task in task order (failed, interrupted and not-run ones included)."""
    if not tasks:
        return []
    executor = (executor or "process").lower()
    if executor not in ("process", "dask"):
        raise PlannerError(f"unknown executor '{executor}' (process or dask)")
    if executor == "process" and scheduler:
        raise PlannerError("--scheduler needs --executor dask")
    results: list = [None] * len(tasks)
    with _Progress(len(tasks), title, enabled=progress) as bar:
        try:
            if executor == "dask":
                _run_dask(tasks, results, jobs, scheduler, bar)
            elif jobs <= 1 or len(tasks) == 1:
                _run_serial(tasks, results, bar)
            else:
                _run_pool(tasks, results, jobs, bar)
        except KeyboardInterrupt:
            bar.note("interrupted")
    return results


def _remove_partial(tasks, results):
    """Temporary files of results a stopped worker was writing (write_workbook's .NAME.*.tmp.xlsx)."""
    for t, oc in zip(tasks, results):
        if t.out and oc is not None and oc.exit_code == INTERRUPTED:
            out = Path(t.out)
            for tmp in out.parent.glob(f".{out.stem}*.tmp.xlsx") if out.parent.is_dir() else []:
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _fill_missing(tasks, results, running=()):
    for i, t in enumerate(tasks):
        if results[i] is None:
            if i in running:
                results[i] = _missing(t, "interrupted", f"{t.label}: interrupted before it finished; nothing was "
                                                        "written for it")
            else:
                results[i] = _missing(t, NOT_RUN, f"{t.label}: not run (interrupted before it started)")


def _resolve_start(t: Task, plan: dict | None) -> Task:
    """A task whose start is PREVIOUS gets ``plan`` (the last plan solved) as its MIP start."""
    if isinstance(t.start, str):
        return replace(t, start=plan or None)
    return t


def _run_serial(tasks, results, bar):
    from planner.input.reader import keeping_reads
    from planner.solver.highs import reusing

    i = 0
    plan = None
    try:
        # a solve whose model differs from the one before only in coefficients reuses it, the blocks it shares with
        # it are not solved again, and a workbook read before is not parsed again (issue 18)
        with reusing(), keeping_reads():
            for i, t in enumerate(tasks):
                bar.update(running=1)
                results[i] = run_task(_resolve_start(t, plan))
                plan = getattr(results[i], "plan", None) or plan
                bar.done(results[i])
    except KeyboardInterrupt:
        _fill_missing(tasks, results, running={i})
        raise


def run_task_reusing(task: Task):
    """:func:`run_task` in a worker process of the pool: the worker's solves reuse the HiGHS model of the solve
    before when only coefficients changed (issue 18; PLANNER_REUSE=off switches it off)."""
    from planner.input.reader import keep_reads
    from planner.solver.highs import set_reuse

    set_reuse(True)
    keep_reads(True)
    return run_task(task)


def run_task_dask(task: Task):
    """:func:`run_task` on a Dask worker: with reuse (:func:`run_task_reusing`) when the worker is a process of its
    own that runs one task at a time (a local cluster's workers are).  The kept model and blocks belong to the
    process: workers running as threads of one process (``processes=False``) or with several threads each would
    share them between concurrent solves, so they run without."""
    try:
        from distributed import get_worker

        single = get_worker().state.nthreads == 1 and mp.parent_process() is not None
    except Exception:  # noqa: BLE001 - not on a worker, or another distributed version: no reuse
        single = False
    return run_task_reusing(task) if single else run_task(task)


def _mp_context():
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # what every solve imports: paid once in the server, not once per worker (Pyomo and SciPy are not on the
        # default path: the Pyomo hand-off and decomposition import them where they need them)
        ctx.set_forkserver_preload(["planner.workflows.run", "planner.workflows.batch", "planner.report.charts",
                                    "planner.workflows.coalition", "highspy", "openpyxl", "xlsxwriter"])
        return ctx
    return mp.get_context("spawn")


_KEPT: dict = {"on": False, "pool": None, "jobs": 0}  # the pool of :func:`one_pool`


@contextlib.contextmanager
def one_pool():
    """``with one_pool():`` the :func:`run_tasks` calls inside run on one process pool, its workers started once
    (a coalition analysis and a design run their tasks in two phases: a second pool would start and warm up its
    workers again); the pool is shut down when the block ends."""
    prev = _KEPT["on"]
    _KEPT["on"] = True
    try:
        yield
    finally:
        _KEPT["on"] = prev
        if not prev and _KEPT["pool"] is not None:
            _KEPT["pool"].shutdown(wait=True)
            _KEPT["pool"] = None


def _pool(jobs: int, n: int):
    """(executor, whether this call owns it): the kept pool inside :func:`one_pool`, else a new one."""
    if not _KEPT["on"]:
        return ProcessPoolExecutor(max_workers=min(jobs, n), mp_context=_mp_context()), True
    ex = _KEPT["pool"]
    if ex is None or _KEPT["jobs"] != jobs or getattr(ex, "_broken", False):
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)
        ex = _KEPT["pool"] = ProcessPoolExecutor(max_workers=jobs, mp_context=_mp_context())
        _KEPT["jobs"] = jobs
    return ex, False


def _run_pool(tasks, results, jobs, bar):
    ex, own = _pool(jobs, len(tasks))
    futs = {}
    try:
        plan = None
        if any(isinstance(t.start, str) for t in tasks[1:]):  # warm starts: the first task's plan for the others
            f0 = ex.submit(run_task_reusing, _resolve_start(tasks[0], None))
            bar.update(running=1)
            results[0] = f0.result()
            bar.done(results[0])
            plan = getattr(results[0], "plan", None)
        futs = {ex.submit(run_task_reusing, _resolve_start(t, plan)): i for i, t in enumerate(tasks)
                if results[i] is None}
        pending = set(futs)
        while pending:
            bar.update(running=sum(1 for f in pending if f.running()))
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for f in done:
                i = futs[f]
                try:
                    results[i] = f.result()
                except Exception as e:  # a worker died (out of memory, killed): this task only
                    results[i] = _missing(tasks[i], "error", f"{tasks[i].label}: the worker process failed "
                                                             f"({type(e).__name__}: {e})")
                    results[i].exit_code = 1
                bar.done(results[i])
        if own:
            ex.shutdown(wait=True)
    except KeyboardInterrupt:
        if not own:
            _KEPT["pool"] = None  # stopped below: the next run_tasks starts another
        running = {futs[f] for f in futs if f.running() and not f.done()}
        for f, i in futs.items():
            if f.done() and results[i] is None and not f.cancelled():
                with contextlib.suppress(BaseException):
                    results[i] = f.result(timeout=0)
        procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown() forgets them
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # a queued task would otherwise still start and run to the end
            with contextlib.suppress(Exception):
                p.terminate()
        for p in procs:
            with contextlib.suppress(Exception):
                p.join(timeout=3)
                if p.is_alive():
                    p.kill()
        for f, i in futs.items():  # finished just before the workers stopped
            if results[i] is None and f.done() and not f.cancelled():
                with contextlib.suppress(BaseException):
                    results[i] = f.result(timeout=0)
        _fill_missing(tasks, results, running)
        _remove_partial(tasks, results)
        raise


def _run_dask(tasks, results, jobs, scheduler, bar):
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:
        raise PlannerError("--executor dask needs dask.distributed: pip install 'bloc-planner[dask]'") from e
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
    except OSError as e:
        if cluster is not None:
            cluster.close()
        raise PlannerError(f"cannot reach the Dask scheduler {scheduler}: {e}") from e
    futs = []
    interrupted = False
    running: set = set()
    try:
        slots = max(1, sum(client.nthreads().values()))
        # workers may run in another folder: send absolute paths (they must see the same files)
        remote = [replace(_resolve_start(t, None), path=os.path.abspath(t.path),
                          out=os.path.abspath(t.out) if t.out else None) for t in tasks]
        futs = [client.submit(run_task_dask, t, pure=False, key=f"planner-{i}-{os.getpid()}-{time.time_ns()}")
                for i, t in enumerate(remote)]
        pending = set(range(len(futs)))
        while pending:
            finished = [i for i in pending if futs[i].done()]
            for i in finished:
                pending.discard(i)
                try:
                    oc = futs[i].result()
                    oc.input = tasks[i].path
                    if oc.out is not None and tasks[i].out and str(oc.out) == remote[i].out:
                        oc.out = Path(tasks[i].out)
                    oc.message = (oc.message or "").replace(remote[i].path, tasks[i].path)
                    results[i] = oc
                except Exception as e:
                    results[i] = _missing(tasks[i], "error", f"{tasks[i].label}: the Dask worker failed "
                                                             f"({type(e).__name__}: {e})")
                    results[i].exit_code = 1
                bar.done(results[i])
            bar.update(running=min(slots, len(pending)))
            if pending and not finished:
                time.sleep(0.2)
    except KeyboardInterrupt:
        interrupted = True
        pending = [i for i, f in enumerate(futs) if results[i] is None]
        with contextlib.suppress(Exception):
            client.cancel([f for f in futs if not f.done()])
        with contextlib.suppress(Exception):
            running = set(pending[: max(1, sum(client.nthreads().values()))])
        _fill_missing(tasks, results, running)
        if scheduler:  # a worker of a shared cluster cannot be stopped mid-solve
            for i in running:
                results[i].message += "; a Dask worker that had started it may still finish and write its results"
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        if interrupted and cluster is not None:
            _remove_partial(tasks, results)


class _Progress:
    """A rich progress bar: done / total, ok, failed, running, elapsed (on stderr)."""

    def __init__(self, total, title, enabled=True):
        self.total, self.title, self.enabled = total, title, enabled
        self.ok = self.failed = self.running = 0
        self.t0 = time.perf_counter()

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.p = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TextColumn("[green]ok {task.fields[ok]}[/] [red]failed {task.fields[failed]}[/] "
                                         "running {task.fields[running]}"),
                              TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                              console=Console(stderr=True), transient=False)
            self.p.__enter__()
            self.id = self.p.add_task(self.title, total=self.total, ok=0, failed=0, running=0)
        return self

    def update(self, running=None):
        if running is not None:
            self.running = running
        if self.enabled:
            self.p.update(self.id, ok=self.ok, failed=self.failed, running=self.running)

    def done(self, oc):
        if oc.exit_code:
            self.failed += 1
        else:
            self.ok += 1
        self.running = max(0, self.running - 1)
        if self.enabled:
            self.p.update(self.id, advance=1, ok=self.ok, failed=self.failed, running=self.running)

    def note(self, text):
        if self.enabled:
            self.p.update(self.id, description=f"{self.title} ({text})")

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)
        return False


# ------------------------------------------------------------------ planner solve A B ... --jobs N
def run_batch(paths, out=None, overrides=None, scenario=None, force=False, jobs=1, executor="process",
              scheduler=None, progress=True, duals=True) -> list:
    """Solve every input; results to ``out`` (a folder; default results/); one outcome per input.
    Each solve starts from the plan solved before it (a MIP start, used when it is the same network)."""
    from planner.workflows.run import results_path

    if out is not None and str(out).lower().endswith(".xlsx"):
        if len(paths) > 1:
            raise PlannerError("with several inputs, -o must be a folder")
        targets = [Path(out)]
    else:
        targets = [results_path(p, out, many=True) for p in paths]
    targets = reserve_names(targets, force)
    tasks = [Task(path=str(p), label=str(p), out=str(t), overrides=dict(overrides or {}), scenario=scenario,
                  force=force, start=PREVIOUS, duals=duals) for p, t in zip(paths, targets)]
    return run_tasks(tasks, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                     title=f"solving {len(tasks)} input(s)")


def short_labels(labels: list[str]) -> list[str]:
    """The inputs as the table shows them: the shortest trailing part of each path that still tells them apart
    (``good.xlsx``; ``a/tiny.xlsx`` and ``b/tiny.xlsx`` when two files share a name)."""
    parts = [Path(x).parts or (x,) for x in labels]
    for k in range(1, max((len(p) for p in parts), default=1) + 1):
        cut = [str(Path(*p[-k:])) for p in parts]
        if len(set(cut)) == len(set(labels)):
            return cut
    return list(labels)


def status_table(outcomes, title="batch") -> None:
    """The final report on the terminal (stdout): one row per input (named by :func:`short_labels`) with its
    status, objective and results file; the full message of every failed input under the table, numbered
    as the table refers to it; then the one-line summary. Table, messages and summary share one stream, and
    the table turns vertical when it does not fit the terminal (numbers are never split or cut)."""
    from rich.text import Text

    from planner.workflows.terminal import Col, console, print_messages, print_table

    con = console()
    cols = [Col("input"), Col("status"), Col("objective (MUSD)", "right"), Col("gap", "right"),
            Col("time (s)", "right"), Col("results / problem", wrap=True)]
    labels = short_labels([str(getattr(oc, "label", oc.input)) for oc in outcomes])
    rows, messages = [], []
    folders = {str(Path(oc.out).parent) for oc in outcomes if oc.out and not oc.exit_code}
    common = folders.pop() if len(folders) == 1 else None   # one folder: named once, under the table
    for oc, label in zip(outcomes, labels):
        colour = "green" if not oc.exit_code else ("yellow" if oc.exit_code == INTERRUPTED else "red")
        el = getattr(oc, "elapsed", float("nan"))
        if oc.message and oc.exit_code != INTERRUPTED:
            msg = oc.message[len(str(oc.input)) + 2:] if oc.message.startswith(f"{oc.input}: ") else oc.message
            messages.append((label, msg))
        if oc.out and not oc.exit_code:
            where = (Path(oc.out).name if common else str(oc.out)) + (
                f" (note {len(messages)} below)" if oc.message else "")
        elif oc.message and oc.exit_code != INTERRUPTED:
            where = f"see problem {len(messages)} below"
        else:
            where = str(oc.out or "")
        rows.append([label, Text(oc.status, style=colour),
                     f"{oc.objective:,.3f}" if oc.objective == oc.objective else "",
                     f"{100 * oc.gap:.3g}%" if oc.gap == oc.gap else "",
                     f"{el:.1f}" if el == el else "", where])
    print_table(con, title, cols, rows, key=0)
    if common:
        con.print(Text(f"results in {common}{os.sep}"), soft_wrap=True)
    print_messages(con, messages, "messages")
    n_bad = sum(1 for oc in outcomes if oc.exit_code and oc.exit_code != INTERRUPTED)
    skipped = [getattr(oc, "label", oc.input) for oc in outcomes if oc.exit_code == INTERRUPTED]
    con.print(f"{len(outcomes) - n_bad - len(skipped)} done, {n_bad} failed"
              + (" (messages above)" if n_bad else "")
              + (f", {len(skipped)} did not run to the end: {', '.join(skipped)}" if skipped else ""),
              soft_wrap=True)
