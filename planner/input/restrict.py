"""The input restricted to a coalition of members (SPEC §6 "c(S)").

``restrict(data, members)`` returns a copy of a read and validated :class:`InputData` in which the members
outside the coalition S are gone with everything they own or buy:

- ``members``: only S (their ``fiscal_budget_musd`` with them); burden shares are renormalised over S by
  the model (it divides by their sum); when every member of S has a zero share the shares of S become
  equal (blank), since "renormalised" has no other meaning there;
- ``demand`` and ``scenario_demand`` rows of members outside S;
- ``processes`` at members outside S, and the ``coproducts`` rows of those processes;
- ``stockpiles`` of members outside S;
- ``offtakes`` bought by members outside S (the sellers stay: they are outside the bloc anyway);
- ``routes`` from or to a member outside S;
- ``security`` rows naming a member outside S; bloc-wide rows (member blank) stay and then sum over S.

Suppliers, offtake sellers, commodities, prices, scenarios, disruptions and settings are kept as they are.
The copy is not validated again: a bloc-wide ``min_stock_days`` row with no stockpile left in S is what the
coalition analysis reports as infeasible alone (and then costs relaxed), not an input error.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from planner.input.reader import InputData

# sheet -> member columns whose value must be in S (a blank member column means "whole bloc" and stays)
MEMBER_COLUMNS = {
    "members": ["member"],
    "demand": ["member"],
    "scenario_demand": ["member"],
    "processes": ["member"],
    "stockpiles": ["member"],
    "offtakes": ["member"],
    "routes": ["from", "to"],
    "security": ["member"],
}


def _blank(s: pd.Series) -> pd.Series:
    return s.isna() | (s.astype(str).str.strip() == "")


def keep_masks(data: InputData, members) -> dict[str, pd.Series]:
    """Sheet -> boolean mask of the rows the coalition keeps (only sheets that lose rows)."""
    S = set(members)
    T = data.tables
    masks = {}
    for sheet, cols in MEMBER_COLUMNS.items():
        df = T.get(sheet)
        if df is None or not len(df):
            continue
        keep = pd.Series(True, index=df.index)
        for c in cols:
            col = df[c]
            inside = col.isin(S)
            # members, demand, processes, stockpiles, offtakes and routes always name a member;
            # scenario_demand and security rows with a blank member apply to everyone in the coalition
            keep &= inside | (_blank(col) if sheet in ("scenario_demand", "security") else False)
        masks[sheet] = keep
    procs = T.get("processes")
    cop = T.get("coproducts")
    if cop is not None and len(cop) and procs is not None:
        kept = set(procs.loc[masks.get("processes", pd.Series(True, index=procs.index)), "process"])
        masks["coproducts"] = cop["process"].isin(kept)
    return masks


def restrict(data: InputData, members) -> InputData:
    """A copy of ``data`` for the coalition ``members`` (see the module docstring); ``data`` is not changed."""
    S = list(members)
    known = set(data.tables["members"]["member"])
    unknown = [m for m in S if m not in known]
    if unknown:
        raise ValueError(f"not a member of the bloc: {', '.join(map(str, unknown))}")
    masks = keep_masks(data, S)
    tables = {}
    for name, df in data.tables.items():
        m = masks.get(name)
        tables[name] = df.copy() if m is None else df.loc[m].reset_index(drop=True)
    mem = tables["members"]
    shares = pd.to_numeric(mem["burden_share"], errors="coerce")
    if len(mem) and shares.notna().all() and float(shares.sum()) <= 0:
        mem["burden_share"] = pd.Series([None] * len(mem), dtype=object)  # all zero in S: equal shares
    defaults = {}
    for (sheet, col), mask in data.setting_defaults.items():  # keep the masks aligned with the kept rows
        m = masks.get(sheet)
        defaults[(sheet, col)] = mask if m is None else mask[m.to_numpy()]
    return dataclasses.replace(data, tables=tables, settings=dict(data.settings), setting_defaults=defaults)
