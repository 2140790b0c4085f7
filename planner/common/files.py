"""Files the planner writes: the next free name and the one atomic-write helper.

Every file is written to a temporary file in its target folder and moved into place with
``os.replace``, so no half-written file ever carries the final name; the file gets the
permissions the user's umask gives a new file (``mkstemp`` alone would leave it 0600).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def free_name(path, force: bool = False, taken=()) -> Path:
    """``path`` itself if it is free (or ``force``) and not in ``taken``; else the same name with
    ``-2``, ``-3`` ... before the suffix (``.xlsx`` when the path has none)."""
    path = Path(path)
    taken = {str(Path(t).resolve()) for t in taken}

    def busy(p: Path) -> bool:
        return str(p.resolve()) in taken or (not force and p.exists())

    if not busy(path):
        return path
    stem, suf = (path.name[: -len(path.suffix)], path.suffix) if path.suffix else (path.name, ".xlsx")
    k = 2
    while busy(path.parent / f"{stem}-{k}{suf}"):
        k += 1
    return path.parent / f"{stem}-{k}{suf}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def new_temp(path: Path) -> str:
    """A new empty temporary file beside ``path`` (``.STEM.*.tmp.SUFFIX``), with umask permissions."""
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    except (AttributeError, OSError):  # not on every platform
        pass
    os.close(fd)
    return tmp


def remove_quietly(path) -> None:
    try:
        os.unlink(path)
    except (OSError, TypeError):
        pass


def atomic_write(path, write) -> Path:
    """``write(tmp)`` fills a temporary file beside ``path``, which then replaces ``path`` in one step.

    On any failure (including Ctrl-C) the temporary file is removed and the exception propagates;
    ``path`` is either the old file or the complete new one, never a partial one.
    """
    path = Path(path)
    tmp = new_temp(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise
    return path
