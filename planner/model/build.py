"""Assemble the model from its families, in the order their registers need.

Each family module declares ``PROVIDES`` (the :class:`Ctx` fields it fills) and ``READS`` (the
fields of other families it uses); :func:`check_order` verifies, once at import, that every
family comes after the families it reads from, so the order of ``FAMILIES`` is a checked fact,
not an implied one.
"""
from __future__ import annotations

import gc
import logging
import time


from planner.model import (
    balance,
    fiscal,
    investment,
    objective,
    offtakes,
    production,
    security,
    stockpiles,
    strengthen,
    supply,
    trade,
)
from planner.model.context import Ctx, DirectSink, PyomoSink
from planner.model.prepare import ModelData

FAMILIES = (investment, production, supply, offtakes, stockpiles, trade, fiscal, security, strengthen, balance,
            objective)
SHARED = {"balance", "costs", "slacks", "structural"}  # registers every family may add to
log = logging.getLogger("planner")


def check_order(families=FAMILIES) -> None:
    """Raise if a family reads a field that no earlier family provides."""
    provided = set(SHARED)
    for fam in families:
        missing = set(fam.READS) - provided
        if missing:
            raise RuntimeError(f"model family {fam.__name__} reads {sorted(missing)} before any family provides it")
        provided |= set(fam.PROVIDES)


check_order()


def build(d: ModelData, elastic: bool = False, fixed: dict | None = None, direct: bool = True) -> Ctx:
    t0 = time.perf_counter()
    if direct:
        sink = DirectSink()
    else:  # Pyomo only for the cross-check hand-off (PLANNER_HANDOFF=pyomo) and decomposition
        import pyomo.environ as pyo

        sink = PyomoSink(model=pyo.ConcreteModel(name="bloc_planner"))
    ctx = Ctx(d=d, sink=sink, elastic=elastic, fixed=fixed)
    enabled = gc.isenabled()
    gc.disable()  # the cyclic GC costs ~2x during construction (docs/performance.md)
    try:
        for fam in FAMILIES:
            fam.add(ctx)
    finally:
        if enabled:
            gc.enable()
    ctx.build_seconds = time.perf_counter() - t0
    return ctx
