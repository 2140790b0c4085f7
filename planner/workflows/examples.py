"""The example workbooks shipped inside the package (``planner/data/``, built by ``inputs/build_example.py``).

``planner solve`` with no path solves :func:`shipped` ``("bloc_example.xlsx")`` from any folder;
``planner example DIR`` copies every shipped workbook out for editing (:func:`copy_examples`).
"""
from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from planner.common.files import atomic_write
from planner.common.problems import PlannerError

EXAMPLES = ("bloc_example.xlsx", "tiny.xlsx")
DEFAULT = "bloc_example.xlsx"


def shipped(name: str = DEFAULT) -> Path:
    """Path of a shipped workbook inside the installed package."""
    path = Path(str(resources.files("planner") / "data" / name))
    if not path.is_file():
        raise PlannerError(f"{path}: the shipped example is missing from this installation (reinstall the "
                           "package, or rebuild it with python inputs/build_example.py in a checkout)")
    return path


def copy_examples(folder, force: bool = False) -> list[Path]:
    """Copy every shipped workbook into ``folder`` (created if missing); refuse, writing nothing, if one of
    them exists there already unless ``force``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise PlannerError(f"{folder}: is a file; planner example copies the workbooks into a folder")
    sources = [shipped(n) for n in EXAMPLES]
    targets = [folder / n for n in EXAMPLES]
    there = [str(t) for t in targets if t.exists()]
    if there and not force:
        raise PlannerError(f"{', '.join(there)} already exist{'s' if len(there) == 1 else ''}; "
                           "use --force to overwrite, or name another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for src, dst in zip(sources, targets):
            atomic_write(dst, lambda tmp, src=src: shutil.copyfile(src, tmp))
    except OSError as e:
        raise PlannerError(f"{folder}: could not copy the examples ({e.strerror or e})") from None
    return targets
