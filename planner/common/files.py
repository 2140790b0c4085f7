"""Files the planner writes: the next free name and the one atomic-write helper.

Every file is written to a temporary file in its target folder and moved into place in one step,
so no half-written file ever carries the final name; the file gets the permissions the user's
umask gives a new file (``mkstemp`` alone would leave it 0600).

A name that :func:`free_name` chose because it was free is claimed atomically when the file is
committed (:func:`commit`): the complete temporary file is hard-linked to the name, which fails if
another process took the name meanwhile; then the next free name is tried.  So several runs
started together with the same ``-o`` each get their own file, and none replaces another's.
Without hard links (some network or FAT file systems) the name is claimed by an exclusive create.
With ``force`` (or a name not chosen by :func:`free_name`) the file replaces what is there.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from planner.common.problems import PlannerError

_FRESH: dict[str, Path] = {}  # name free_name chose as free -> the name asked for; commit() never replaces it


def free_name(path, force: bool = False, taken=()) -> Path:
    """``path`` itself if it is free (or ``force``) and not in ``taken``; else the same name with
    ``-2``, ``-3`` ... before the suffix (``.xlsx`` when the path has none)."""
    path = Path(path)
    taken = {str(Path(t).resolve()) for t in taken}

    def busy(p: Path) -> bool:
        return str(p.resolve()) in taken or (not force and p.exists())

    if not busy(path):
        if not force:
            _FRESH[_key(path)] = path
        return path
    stem, suf = (path.name[: -len(path.suffix)], path.suffix) if path.suffix else (path.name, ".xlsx")
    k = 2
    while busy(path.parent / f"{stem}-{k}{suf}"):
        k += 1
    _FRESH[_key(path.parent / f"{stem}-{k}{suf}")] = path
    return path.parent / f"{stem}-{k}{suf}"


def _key(path) -> str:
    return os.path.abspath(path)


def commit(tmp, path) -> Path:
    """Move the complete file ``tmp`` to ``path`` in one step and return the name it got.

    A name chosen free by :func:`free_name` is claimed exclusively: if another process created it
    meanwhile, the next free name is taken (and returned); any other name is replaced.
    """
    path = Path(path)
    while _key(path) in _FRESH:
        try:
            os.link(tmp, path)
        except FileExistsError:
            path = free_name(_FRESH.pop(_key(path)))  # taken meanwhile: the next free name
            continue
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK,
                               errno.ENOSYS):
                raise
            try:  # no hard links here: claim the name by an exclusive create, then replace it
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                path = free_name(_FRESH.pop(_key(path)))
                continue
            os.replace(tmp, path)
            _FRESH.pop(_key(path), None)
            return path
        _FRESH.pop(_key(path), None)
        remove_quietly(tmp)
        return path
    os.replace(tmp, path)
    return path


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
    ``path`` is either the old file or the complete new one, never a partial one.  Returns the
    name written: a name chosen by :func:`free_name` that another process took meanwhile moves on
    to the next free one (:func:`commit`).
    """
    path = Path(path)
    tmp = new_temp(path)
    try:
        write(tmp)
        path = commit(tmp, path)
    except OSError as e:
        remove_quietly(tmp)
        if e.errno in FULL:
            raise DiskFull(e.errno, f"cannot write {path}: {e.strerror or 'the disk is full'} (nothing was written; "
                                    "an earlier file of that name is unchanged)") from None
        raise
    except BaseException:
        remove_quietly(tmp)
        raise
    return path


FULL = tuple(getattr(errno, n) for n in ("ENOSPC", "EDQUOT") if hasattr(errno, n))


class DiskFull(OSError, PlannerError):
    """A full disk or quota while writing: an OSError (callers that catch those still do) and a PlannerError
    (the CLI prints it as one line)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()
