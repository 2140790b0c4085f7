"""SIGTERM and SIGHUP take the same clean path as Ctrl-C (SIGINT).

Python turns SIGINT into :class:`KeyboardInterrupt`, which every writer already handles: the temporary file
is removed, the previous results stay intact, HiGHS cancels its solve, and the CLI prints one line and exits
130.  By default SIGTERM (``kill``, a batch scheduler, ``systemctl stop``) and SIGHUP (the terminal closed)
end the process at once and leave the temporary file behind.  :func:`install` raises :class:`Terminated` (a
KeyboardInterrupt) for them instead, so they take that path too, exit code 130 included (HiGHS turns any
interruption of its solve into a plain KeyboardInterrupt, so one exit code for every interruption is what can be
kept).
"""
from __future__ import annotations

import signal
import threading

SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum
        self.exit_code = 130


def _raise(signum, frame):
    raise Terminated(signum)


def install() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread only; signals left ignored stay ignored,
    e.g. SIGHUP under ``nohup``)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        try:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            signal.signal(sig, _raise)
        except (OSError, ValueError):  # not settable here
            pass
