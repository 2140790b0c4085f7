"""Material from nothing: net-gain cycles in the process graph (issue 15 item 1).

A process turns ``input_per_output`` t of its input into 1 t of its output plus ``t_per_t_output`` t of
each coproduct.  Processes without an input (mines), or with no input per output, are sources and are left
out.  The others make material from nothing if some non-negative mix of them, run with no outside supply,
uses no more of any commodity than it makes and makes more of at least one: in the model that material is
free, and a bloc can look self-sufficient under a ban at zero cost.  This is a small linear programme

    max  sum_c (A x)_c   s.t.  A x >= 0,  0 <= x <= 1,

with ``A[c, p]`` the net tonnes of commodity ``c`` per tonne of process ``p``'s output; a positive optimum is
such a mix.  It catches every case, including those a search for cycles with a yield product above 1 misses
(a process whose coproducts make its own input; two outputs of one process each converted back into its input
at 1:1).  A cycle that loses material, or exactly conserves it, is fine.  The processes named are a minimal
set: each one dropped ends the gain.
"""
from __future__ import annotations

import math

import numpy as np

TOL = 1e-7  # net tonnes per tonne of process output below which a mix counts as balanced


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def process_matrix(processes: list[dict], coproducts: list[dict]):
    """(commodities, process rows, A) over the processes that consume an input."""
    procs = [p for p in processes if p.get("process") is not None and p.get("input") is not None
             and p.get("output") is not None and p["input"] != p["output"]
             and _num(p.get("input_per_output")) and p["input_per_output"] > 0]
    cos = {}
    for r in coproducts:
        if _num(r.get("t_per_t_output")) and r["t_per_t_output"] > 0 and r.get("commodity") is not None:
            cos.setdefault(r["process"], []).append((r["commodity"], r["t_per_t_output"]))
    comms = sorted({c for p in procs for c in (p["input"], p["output"])}
                   | {c for p in procs for c, _ in cos.get(p["process"], [])}, key=str)
    at = {c: i for i, c in enumerate(comms)}
    A = np.zeros((len(comms), len(procs)))
    for j, p in enumerate(procs):
        A[at[p["output"]], j] += 1.0
        A[at[p["input"]], j] -= float(p["input_per_output"])
        for c, t in cos.get(p["process"], []):
            if c != p["output"]:
                A[at[c], j] += float(t)
    return comms, procs, A


def _gain(A: np.ndarray, allowed: np.ndarray):
    """(net gain, x) of the best mix of the allowed processes."""
    from scipy.optimize import linprog

    n = A.shape[1]
    bounds = [(0, 1 if allowed[j] else 0) for j in range(n)]
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        return 0.0, np.zeros(n)
    return -float(res.fun), np.asarray(res.x)


def _has_cycle(procs: list[dict], coproducts: list[dict]) -> bool:
    """Whether the commodity graph (an edge from a process's input to its output and to each coproduct) has a
    directed cycle.  Without one there is no gain: in a mix with A x >= 0, take a running process whose input c
    comes first in a topological order; c is used, so a running process makes it, and that process's input
    comes before c: a contradiction, so x = 0.  (Sources, the processes without an input, are not in A.)
    Ordinary supply chains are acyclic, and this check spares them the LP (and SciPy's import)."""
    names = {p["process"] for p in procs}
    succ: dict = {}
    for p in procs:
        succ.setdefault(p["input"], set()).add(p["output"])
    for r in coproducts:
        if r.get("process") in names and r.get("commodity") is not None:
            inp = next(p["input"] for p in procs if p["process"] == r["process"])
            succ.setdefault(inp, set()).add(r["commodity"])
    indeg: dict = {}
    for a, bs in succ.items():
        indeg.setdefault(a, 0)
        for b in bs:
            indeg[b] = indeg.get(b, 0) + 1
    ready = [c for c, k in indeg.items() if k == 0]
    seen = 0
    while ready:  # Kahn's algorithm: every node leaves the queue exactly when the graph has no cycle
        c = ready.pop()
        seen += 1
        for b in succ.get(c, ()):
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    return seen < len(indeg)


def gain_cycles(processes: list[dict], coproducts: list[dict], max_found: int = 5) -> list[dict]:
    """Each net-gain set found: {'processes': [rows], 'net': {commodity: t per t}}; at most ``max_found``
    (after one is found its processes are left out and the search repeats)."""
    comms, procs, A = process_matrix(processes, coproducts)
    if not procs:
        return []
    # no gain without a commodity that one process makes and one uses: a quick exit for ordinary chains
    used = {p["input"] for p in procs}
    made = {p["output"] for p in procs} | {r["commodity"] for r in coproducts
                                            if r.get("process") in {p["process"] for p in procs}}
    if not used & made or not _has_cycle(procs, coproducts):
        return []
    allowed = np.ones(len(procs), dtype=bool)
    found = []
    while len(found) < max_found:
        g, x = _gain(A, allowed)
        if g <= TOL:
            break
        keep = allowed & (x > 1e-9)
        for j in np.flatnonzero(keep)[:40]:  # prune to a minimal set
            keep[j] = False
            if _gain(A, keep)[0] <= TOL:
                keep[j] = True
        g, x = _gain(A, keep)
        x = x / max(x.max(), 1e-300)
        net = A @ x
        found.append({"processes": [procs[j] for j in np.flatnonzero(keep)],
                      "net": {comms[i]: float(net[i]) for i in np.flatnonzero(net > TOL)}})
        allowed &= ~keep
    return found
