"""Read a workbook, apply overrides, validate: the one entry point of the input layer."""
from __future__ import annotations

from planner.common.problems import InputError
from planner.input.overrides import apply_cells, apply_overrides, split_overrides
from planner.input.reader import InputData, read_workbook
from planner.input.validate import validate


def load(path, overrides: dict | None = None) -> InputData:
    """Read, apply overrides, validate; raise InputError listing every problem if there is any error.

    ``overrides``: settings keys (``--set KEY=V``) and input cells (``--set sheet.key.column=V``,
    see :func:`planner.input.overrides.apply_cells`), applied in memory; the file is never modified.
    """
    data = read_workbook(path)
    settings, cells = split_overrides(overrides)
    if settings:
        apply_overrides(data, settings)
    if cells:
        apply_cells(data, cells)
    validate(data)
    if data.problems.errors:
        raise InputError(data.problems.items)
    return data


def load_input(path: str, overrides: dict | None = None):
    """Read, apply settings and cell overrides, validate (see :func:`load`)."""
    return load(path, overrides)
