"""Saving a matplotlib figure as a PNG: the next free name (``NAME-2.png``) unless ``force``, written
atomically; a file system error is one line (used by the results charts and the design charts)."""
from __future__ import annotations

from pathlib import Path

from planner.common.files import atomic_write, free_name
from planner.common.problems import PlannerError


def free_png(path: Path, force: bool) -> Path:
    return free_name(path, force)


def save_png(fig, target: Path, force: bool) -> Path:
    try:
        return atomic_write(free_png(target, force), lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    except OSError as e:  # full disk, a folder that cannot be written: one line, not a traceback
        raise PlannerError(f"cannot write {target}: {e.strerror or e}") from None
