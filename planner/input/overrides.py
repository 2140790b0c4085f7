"""Overrides applied in memory before validation: ``--set KEY=VALUE`` (a setting) and
``--set sheet.rowkey.column=VALUE`` (one cell of an input table). The input file itself is never modified.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from planner.common.problems import ProblemList
from planner.common.suggest import did_you_mean
from planner.input.reader import (
    CellError,
    InputData,
    check_range,
    coerce,
    parse_settings,
    read_workbook,
    resolve_setting_defaults,
)
from planner.input.schema import SETTING_BY_NAME, SHEET_BY_NAME, FromSetting


def split_overrides(overrides: dict | None) -> tuple[dict, dict]:
    """(settings overrides, cell overrides): a key with a dot (other than ``settings.KEY``) names a cell."""
    settings, cells = {}, {}
    for k, v in (overrides or {}).items():
        if k.startswith("settings."):
            settings[k[len("settings."):]] = v
        elif "." in k:
            cells[k] = v
        else:
            settings[k] = v
    return settings, cells


def parse_cell_key(key: str):
    """``sheet.rowkey.column`` -> (Sheet, rowkey text, column name); raises ValueError with what is wrong."""
    parts = key.split(".")
    if len(parts) < 3:
        raise ValueError(f"'{key}': a table cell is written sheet.key.column "
                         "(e.g. commodities.NDPR_OX.floor_price_usd_per_t)")
    sheet_name, column, rowkey = parts[0], parts[-1], ".".join(parts[1:-1])
    sheet = SHEET_BY_NAME.get(sheet_name)
    if sheet is None or sheet.kind != "table":
        tables = [s.name for s in SHEET_BY_NAME.values() if s.kind == "table"]
        raise ValueError(f"'{key}': unknown sheet '{sheet_name}'{did_you_mean(sheet_name, tables)} "
                         f"(tables: {', '.join(tables)})")
    if column not in sheet.names:
        raise ValueError(f"'{key}': sheet '{sheet.name}' has no column '{column}'"
                         f"{did_you_mean(column, sheet.names)} (columns: {', '.join(sheet.names)})")
    if column in sheet.key:
        raise ValueError(f"'{key}': '{column}' is a key column of sheet '{sheet.name}'; only values can be set")
    return sheet, rowkey, column


def match_rows(df: pd.DataFrame, sheet, rowkey: str, key: str) -> np.ndarray:
    """Positions of the rows that ``rowkey`` names (the row's key, parts joined with '/'; or the Excel row
    number for sheets without a key)."""
    if not sheet.key:
        try:
            row = int(rowkey)
        except ValueError:
            raise ValueError(f"'{key}': sheet '{sheet.name}' has no key column; name the row by its Excel row "
                             f"number (e.g. {sheet.name}.5.{key.split('.')[-1]})") from None
        hit = np.flatnonzero(df["_row"].to_numpy() == row)
        if not len(hit):
            raise ValueError(f"'{key}': sheet '{sheet.name}' has no data in row {row}")
        return hit
    parts = [rowkey] if len(sheet.key) == 1 else rowkey.split("/")
    if len(parts) != len(sheet.key):
        raise ValueError(f"'{key}': rows of sheet '{sheet.name}' are named by {'/'.join(sheet.key)} "
                         f"(got '{rowkey}')")
    mask = np.ones(len(df), dtype=bool)
    for col, want in zip(sheet.key, parts):
        vals = df[col].to_numpy(dtype=object)
        mask &= np.array([_key_text(v) == want.strip() for v in vals], dtype=bool)
    hit = np.flatnonzero(mask)
    if not len(hit):
        every = row_keys(df, sheet)
        known = every[:12]
        more = ", ..." if len(every) > 12 else ""
        raise ValueError(f"'{key}': no row '{rowkey}' in sheet '{sheet.name}'{did_you_mean(rowkey, every)}"
                         + (f" (rows: {', '.join(known)}{more})" if known else " (the sheet is empty)"))
    return hit


def _key_text(v) -> str:
    """A key cell as --set names it: text as is, a year (key parts like market_prices.X/2030) as 2030."""
    if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        return str(int(v))
    return str(v)


def row_keys(df: pd.DataFrame, sheet) -> list[str]:
    """How ``--set`` names each row of a table: its key parts joined with '/' (Excel row numbers for sheets
    without a key)."""
    if not sheet.key:
        return [str(int(r)) for r in df["_row"]]
    cols = [df[c].to_numpy(dtype=object) for c in sheet.key]
    return ["/".join(_key_text(v) for v in parts) for parts in zip(*cols)]


def unknown_setting(k: str) -> str:
    """The message for a ``--set`` key that is neither a setting nor a table cell."""
    return (f"--set {k}: unknown setting{did_you_mean(k, SETTING_BY_NAME)} (known: {', '.join(SETTING_BY_NAME)}; "
            "a table cell is sheet.key.column)")


def apply_cells(data, cells: dict) -> None:
    """Set table cells of an :class:`InputData` in memory, typed and range-checked like the sheet.

    ``cells`` maps ``sheet.rowkey.column`` to a value as typed on the command line ('' = blank, which
    takes the column's default). Problems are added to ``data.problems`` (located at the cell changed).
    """
    for key, raw in cells.items():
        try:
            sheet, rowkey, column = parse_cell_key(key)
            df = data.tables[sheet.name]
            pos = match_rows(df, sheet, rowkey, key)
        except ValueError as e:
            data.problems.error(f"--set {e}")
            continue
        col = sheet.column(column)
        rows = df["_row"].to_numpy()[pos]
        if raw is None or str(raw).strip() == "":
            if col.required:
                data.problems.error(f"--set {key}: a required value cannot be blank", sheet=sheet.name,
                                    row=int(rows[0]), column=column)
                continue
            x = data.settings.get(col.default.key) if isinstance(col.default, FromSetting) else col.default
        else:
            try:
                x = coerce(raw, col)
            except CellError as e:
                data.problems.error(f"--set {key}: {e}", sheet=sheet.name, row=int(rows[0]), column=column,
                                    value=raw)
                continue
            bad = check_range(x, col)
            if bad:
                data.problems.error(f"--set {key}: {bad}", sheet=sheet.name, row=int(rows[0]), column=column,
                                    value=raw)
        values = df[column].to_numpy(dtype=object).copy()
        values[pos] = x
        df[column] = pd.Series(values, index=df.index, dtype=object)
        mask = data.setting_defaults.get((sheet.name, column))
        if mask is not None:
            mask[pos] = False  # an explicit value no longer follows the setting


def check_override_keys(path: str, keys) -> list[str]:
    """Problems with override *keys* (unknown setting, cell that names no row), without solving."""
    settings, cells = split_overrides({k: "" for k in keys})
    msgs = [unknown_setting(k) for k in settings if k not in SETTING_BY_NAME]
    if cells:
        data = read_workbook(path)
        for k in cells:
            try:
                sheet, rowkey, _ = parse_cell_key(k)
                match_rows(data.tables[sheet.name], sheet, rowkey, k)
            except ValueError as e:
                msgs.append(f"--set {e}")
    return msgs


def apply_overrides(data: InputData, overrides: dict) -> None:
    """``--set KEY=VALUE``: typed and range-checked like the sheet; defaults that follow a setting follow it."""
    unknown = [k for k in overrides if k not in SETTING_BY_NAME]
    for k in unknown:
        data.problems.error(unknown_setting(k))
    given = {k: v for k, v in overrides.items() if k in SETTING_BY_NAME}
    if not given:
        return
    probs = ProblemList(data.path)
    merged = dict(data.settings_raw)
    merged.update(given)
    new = parse_settings(merged, probs, where="cli")
    for p in probs.errors:
        if any(f"'{k}'" in p.message for k in given):
            data.problems.error("--set: " + p.message, **({"value": p.value} if p.has_value else {}))
    data.settings.update(new)
    data.settings_raw = merged
    resolve_setting_defaults(data)
