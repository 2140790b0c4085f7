"""A process-wide on/off state that a ``with`` block turns on (sweeps and batches: keep the previous solve's model,
the workbook read before).  Used by planner.solver.highs (reuse) and planner.input.reader (kept reads)."""
from __future__ import annotations

from contextlib import contextmanager


class Switch:
    """Off at first.  ``with switch.within():`` turns it on for the block and back as it was after; ``set(on)``
    for the rest of the process (a batch's worker process).  ``release`` runs whenever it goes off (drop what was
    kept while it was on)."""

    def __init__(self, release):
        self.on = False
        self._release = release

    def set(self, on: bool) -> None:
        self.on = bool(on)
        if not self.on:
            self._release()

    @contextmanager
    def within(self):
        prev, self.on = self.on, True
        try:
            yield self
        finally:
            if not prev:
                self.set(False)
