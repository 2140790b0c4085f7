"""The scenario tree (SPEC §3 "Information", non-anticipativity).

The *data* of scenario s in year t are its market and supplier prices (multipliers included), its
demand and the available shares of every seller.  For two scenarios s, s' let d(s, s') be the first
year in which their data differ.  In every year t < d(s, s') − foresight_years the operations of year
t take the same value in s and s'.  "Agree on the data of every year up to t + foresight_years" is an
equivalence relation that only splits as t grows, so the scenarios form a tree: one *node* per year
and group of scenarios that cannot yet be told apart.

Explicit tree (scenarios sheet ``parent`` and ``branch_year``): a scenario shares every operation of
the years before its branch_year with its parent (and so with the parent's trunk); the data do not
shape the tree and ``foresight_years`` does not apply.

The tree is an array ``rep[ti, si]``: the index of the scenario whose columns scenario ``si`` uses in
year ``ti`` (the first scenario, in sheet order, of its node).  Aliasing the columns this way states
non-anticipativity with fewer columns, not more rows.
"""
from __future__ import annotations

import numpy as np


def derived(data: list[np.ndarray], n_scen: int, n_years: int, foresight: int) -> np.ndarray:
    """``rep`` of the tree derived from the data: ``data`` is a list of (S, nT) arrays."""
    S, nT = n_scen, n_years
    rep = np.tile(np.arange(S), (nT, 1))
    if S == 1:
        return rep
    # differ[s, s', t]: the data of s and s' differ in year t
    if data:
        stack = np.stack([np.asarray(a, dtype=float) for a in data], axis=-1)  # (S, nT, K)
        differ = np.zeros((S, S, nT), dtype=bool)
        for a in range(S):
            diff = ~np.isclose(stack[a][None, :, :], stack, rtol=1e-12, atol=0.0)  # (S, nT, K)
            differ[a] = diff.any(axis=-1)
    else:
        differ = np.zeros((S, S, nT), dtype=bool)
    # first year of difference as an index (nT = never)
    first = np.where(differ.any(axis=-1), differ.argmax(axis=-1), 10 ** 9)
    for ti in range(nT):
        for si in range(S):
            # the earliest scenario that cannot yet be told apart from si in year ti
            same = np.flatnonzero(ti < first[si] - foresight)
            rep[ti, si] = same[0] if len(same) else si
    return rep


def explicit(parent: list[int | None], branch: list[int | None], years: list[int]) -> np.ndarray:
    """``rep`` of the analyst's tree: ``parent[s]`` index or None (root), ``branch[s]`` its branch year."""
    S, nT = len(parent), len(years)
    rep = np.tile(np.arange(S), (nT, 1))
    for ti, t in enumerate(years):
        for si in range(S):
            a = si
            seen = 0
            while parent[a] is not None and branch[a] is not None and t < branch[a] and seen <= S:
                a = parent[a]
                seen += 1
            rep[ti, si] = a
    # the representative is the first scenario (in sheet order) of the node
    for ti in range(nT):
        first = {}
        for si in range(S):
            first.setdefault(rep[ti, si], si)
        rep[ti] = [first[rep[ti, si]] for si in range(S)]
    return rep


def nodes(rep: np.ndarray, years: list[int], scen: list[str]) -> list[tuple[str, int, str, str]]:
    """Rows (scenario, year, node, scenarios sharing it) of the ``scenario_tree`` sheet.

    A node is named ``YEAR/first scenario of the node`` (e.g. ``2027/base``)."""
    rows = []
    for ti, t in enumerate(years):
        groups = {}
        for si, r in enumerate(rep[ti]):
            groups.setdefault(int(r), []).append(scen[si])
        for si, s in enumerate(scen):
            r = int(rep[ti, si])
            rows.append((s, t, f"{t}/{scen[r]}", ", ".join(groups[r])))
    return rows


def n_nodes(rep: np.ndarray) -> int:
    return int(sum(len(set(row.tolist())) for row in rep))
