"""Named override files: ``--overrides FILE.yaml`` on solve, sweep and stress.

A YAML mapping of the keys ``--set`` takes, so a scenario of settings can be saved and shared::

    # low_floor.yaml
    discount_rate: 0.03
    commodities.NDPR_OX.floor_price_usd_per_t: 80000
    # nested mappings are joined with dots: this is commodities.DYTB_OX.shortage_penalty_usd_per_t
    commodities:
      DYTB_OX:
        shortage_penalty_usd_per_t: 1500000
    # rows keyed by several columns join the key parts with '/'
    suppliers.CHN/NDPR_OX.tariff_usd_per_t: 5000

Values are scalars (numbers, text, true/false; an empty value or ``null`` is a blank cell, which takes the
default). ``--set`` on the command line wins over the file. The keys are checked like ``--set`` keys
(unknown ones are errors with a did-you-mean suggestion).
"""
from __future__ import annotations

from pathlib import Path

from planner.common.problems import PlannerError

MAX_BYTES = 1 << 20  # an override file is a few lines; a megabyte is not one


def _scalar(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float, str)):
        return v
    return None


def _flatten(prefix: str, node, out: dict, where: str) -> None:
    for k, v in node.items():
        if not isinstance(k, (str, int, float)) or isinstance(k, bool):
            raise PlannerError(f"{where}: key {k!r} under '{prefix or '(top)'}' is not a name")
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            if not v:
                raise PlannerError(f"{where}: '{key}' is an empty mapping (give it a value)")
            _flatten(key, v, out, where)
            continue
        x = _scalar(v)
        if x is None:
            raise PlannerError(f"{where}: '{key}' must be one value (a number, text or true/false), not a "
                               f"{'list' if isinstance(v, list) else type(v).__name__}; to sweep several values "
                               "use planner sweep --set KEY=V1,V2")
        if key in out:
            raise PlannerError(f"{where}: '{key}' is given twice")
        out[key] = x


def read_override_file(path) -> dict:
    """FILE.yaml -> {key: value} (nested mappings joined with '.'); PlannerError with the file and line."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise PlannerError(f"{path}: override file not found" if not path.exists() else f"{path}: is not a file")
    if path.stat().st_size > MAX_BYTES:
        raise PlannerError(f"{path}: too large for an override file ({path.stat().st_size:,} bytes)")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise PlannerError(f"{path}: cannot be read as UTF-8 text ({e})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise PlannerError(f"{path}: {where}not valid YAML ({problem})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise PlannerError(f"{path}: an override file is a mapping of KEY: VALUE lines (got a "
                           f"{'list' if isinstance(doc, list) else type(doc).__name__})")
    out: dict = {}
    _flatten("", doc, out, str(path))
    return out


def merge_overrides(files, sets: dict) -> dict:
    """The overrides of the files (in order, a later file winning) with ``sets`` (``--set``) on top."""
    out: dict = {}
    for f in files or ():
        out.update(read_override_file(f))
    out.update(sets or {})
    return out
