"""Feedback during a solve, and the solve's log file.

- :class:`LiveLine`: one status line on the terminal (stderr), redrawn in place with a carriage return
  twice a second: the phase, the time since the solve started, and during a MIP HiGHS's incumbent, bound
  and gap (from HiGHS's callbacks, planner.solver.highs).  Only on a terminal: ``planner solve`` turns it on
  when stderr is a TTY (not with -q, not in batch workers).  Log messages printed meanwhile clear the line
  first, so nothing is overwritten.
- :class:`SolveLog`: everything a solve says: the planner's log records (at INFO and above, whatever the
  terminal's level) and HiGHS's own log, in order, written beside the results as ``NAME.results.log``
  (planner.report.formats.log_path).  With ``--verbose`` HiGHS's log is streamed to stderr as well.

Both reach the solve through context variables (``live``, ``current_log``), so the functions between the
command line and HiGHS need no extra arguments: :func:`phase` names the phase from anywhere,
:func:`highs_hooks` gives planner.solver.highs its two callables.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import shutil
import sys
import threading
import time
from typing import Self

live: contextvars.ContextVar = contextvars.ContextVar("planner_live_line", default=None)
current_log: contextvars.ContextVar = contextvars.ContextVar("planner_solve_log", default=None)
verbose: contextvars.ContextVar = contextvars.ContextVar("planner_verbose", default=False)

_CLEAR = "\r\x1b[K"


def _money(x) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.1f}"


class LiveLine:
    """A status line on ``stream`` (a terminal), redrawn by a helper thread every ``every`` seconds."""

    def __init__(self, stream=None, every: float = 0.5, label: str = ""):
        self.stream = stream or sys.stderr
        self.every = every
        self.label = label
        self.t0 = time.perf_counter()
        self.phase_name = "starting"
        self.mip: dict | None = None
        self.lock = threading.RLock()
        self.shown = False
        self._stop = threading.Event()
        self._thread = None

    # ---- what the solve reports
    def phase(self, name: str) -> None:
        with self.lock:
            changed = name != self.phase_name
            self.phase_name = name
            if name != "HiGHS MIP":
                self.mip = None
            if changed and self._thread is not None:  # a new phase shows at once
                self.draw()

    def update(self, info: dict) -> None:
        """From HiGHS's callbacks: phase, or MIP incumbent/bound/gap/nodes."""
        with self.lock:
            if "phase" in info:
                self.phase(info["phase"])
            if "gap" in info:
                self.mip = dict(info)

    # ---- drawing
    def text(self) -> str:
        with self.lock:
            parts = [f"{self.label}{self.phase_name}", f"{time.perf_counter() - self.t0:,.1f} s"]
            if self.mip:
                m = self.mip
                gap = m.get("gap")
                parts += [f"incumbent {_money(m.get('incumbent'))}", f"bound {_money(m.get('bound'))} MUSD",
                          "gap " + (f"{100 * gap:.2f}%" if gap is not None and math.isfinite(gap) and gap < 1e6 else "-"),
                          f"nodes {m.get('nodes', 0):,}"]
        width = shutil.get_terminal_size((80, 24)).columns - 1
        out = parts[0]
        for p in parts[1:]:  # whole parts only: a number is never cut
            if len(out) + 3 + len(p) > width:
                break
            out += " | " + p
        return out[:width]

    def draw(self) -> None:
        with self.lock:
            try:
                self.stream.write(_CLEAR + self.text())
                self.stream.flush()
                self.shown = True
            except (OSError, ValueError):
                pass

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                try:
                    self.stream.write(_CLEAR)
                    self.stream.flush()
                except (OSError, ValueError):
                    pass
                self.shown = False

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self.draw()

    def start(self) -> LiveLine:
        self.draw()
        self._thread = threading.Thread(target=self._tick, name="planner-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.clear()


class _ClearFirst(logging.Filter):
    """On the terminal's log handlers: clear the live line before a message is printed (it is redrawn at
    the next tick)."""

    def __init__(self, line: LiveLine):
        super().__init__()
        self.line = line

    def filter(self, record) -> bool:
        self.line.clear()
        return True


@contextlib.contextmanager
def session(enabled: bool, verbose_log: bool = False, label: str = ""):
    """``planner solve``: a live line on stderr while the block runs (when ``enabled``), and HiGHS's log
    streamed to stderr with ``verbose_log``."""
    tokens = [verbose.set(bool(verbose_log))]
    line = None
    handlers = []
    if enabled:
        line = LiveLine(label=label).start()
        tokens.append(live.set(line))
        flt = _ClearFirst(line)
        handlers = [h for h in logging.getLogger().handlers + logging.getLogger("planner").handlers]
        for h in handlers:
            h.addFilter(flt)
    try:
        yield line
    finally:
        if line is not None:
            line.stop()
            for h in handlers:
                h.removeFilter(flt)
        for t in reversed(tokens):
            t.var.reset(t)


def phase(name: str) -> None:
    """Name the phase the solve is in (shown on the live line, if any)."""
    line = live.get()
    if line is not None:
        line.phase(name)


def write_err(text: str, line: LiveLine | None = None) -> None:
    """Text on stderr, above the live line (``line``; default: the current one)."""
    line = line or live.get()
    if line is not None:
        line.clear()
    sys.stderr.write(text)
    sys.stderr.flush()


# ------------------------------------------------------------------ the solve's log
class _Capture(logging.Filter):
    """On the 'planner' logger while solves are logged: hands every record of a logging thread to its
    SolveLog, and lets through to the terminal only what the logger's own level would have let through."""

    def __init__(self, threshold: int):
        super().__init__()
        self.threshold = threshold
        self.logs: dict[int, SolveLog] = {}

    def filter(self, record) -> bool:
        s = self.logs.get(record.thread)
        if s is not None:
            s.record(record)
        return record.levelno >= self.threshold


_capture_lock = threading.Lock()
_capture: list = []  # [filter, old level] while any SolveLog is open


class SolveLog:
    """The text of one solve's log (planner records and HiGHS's log), in order."""

    def __init__(self, title: str = ""):
        self.parts: list[str] = []
        self.lock = threading.Lock()
        self.thread = threading.get_ident()
        if title:
            self.parts.append(title.rstrip("\n") + "\n")

    def record(self, rec: logging.LogRecord) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(rec.created))
        self._add(f"{stamp} {rec.levelname.lower():7s} {rec.getMessage()}\n", own_line=True)

    def highs(self, text: str) -> None:
        """A piece of HiGHS's log (from its logging callback)."""
        self._add(text, own_line=False)
        if self._verbose:
            write_err(text, self._line)

    _verbose = False
    _line = None

    def _add(self, text: str, own_line: bool) -> None:
        with self.lock:
            if own_line and self.parts and not self.parts[-1].endswith("\n"):
                self.parts.append("\n")
            self.parts.append(text)

    def text(self) -> str:
        with self.lock:
            s = "".join(self.parts)
        return s if s.endswith("\n") else s + "\n"

    # ---- capturing the planner's records of this thread
    def __enter__(self) -> Self:
        # HiGHS calls back from its own thread, where the context variables are unset
        self._verbose, self._line = verbose.get(), live.get()
        lg = logging.getLogger("planner")
        with _capture_lock:
            if not _capture:
                flt = _Capture(lg.getEffectiveLevel())
                _capture[:] = [flt, lg.level]
                lg.addFilter(flt)
                lg.setLevel(min(lg.getEffectiveLevel(), logging.INFO))
            _capture[0].logs[self.thread] = self
        self._token = current_log.set(self)
        return self

    def __exit__(self, *exc) -> None:
        current_log.reset(self._token)
        lg = logging.getLogger("planner")
        with _capture_lock:
            if _capture:
                flt, old = _capture
                flt.logs.pop(self.thread, None)
                if not flt.logs:
                    lg.removeFilter(flt)
                    lg.setLevel(old)
                    _capture.clear()


def highs_hooks() -> dict:
    """The keyword arguments planner.solver.highs takes for the current solve: ``progress`` (live line) and
    ``log_lines`` (the solve's log), each only when there is somewhere to send it."""
    kw = {}
    line = live.get()
    if line is not None:
        kw["progress"] = line.update
    s = current_log.get()
    if s is not None:
        kw["log_lines"] = s.highs
    elif verbose.get():
        kw["log_lines"] = lambda text, _line=line: write_err(text, _line)
    return kw


def logged(fn):
    """Decorator of planner.workflows.run.solve_file: the call runs inside a :class:`SolveLog` (unless one is
    open already), which :func:`write_solve_log` writes beside the results."""
    import functools

    @functools.wraps(fn)
    def wrapper(path, *args, **kwargs):
        if current_log.get() is not None:
            return fn(path, *args, **kwargs)
        from planner.common.version import __version__

        stamp = time.strftime("%Y-%m-%d %H:%M:%S %z")
        with SolveLog(f"planner {__version__}: solve of {path}, started {stamp}"):
            return fn(path, *args, **kwargs)

    return wrapper


def write_solve_log(results) -> None:
    """Write the current solve's log beside ``results`` (NAME.results.log); a failure to write it is a
    warning, never a lost result."""
    s = current_log.get()
    if s is None or results is None:
        return
    from planner.report.formats import log_path, write_log

    target = log_path(results)
    try:
        write_log(target, s.text())
    except OSError as e:
        logging.getLogger("planner").warning("warning: could not write the log %s: %s", target, e)
