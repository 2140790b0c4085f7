"""Assemble the model from its families, in the order their registers need."""
from __future__ import annotations

import gc
import logging
import time

import pyomo.environ as pyo

from planner.model import (
    balance,
    fiscal,
    investment,
    objective,
    offtakes,
    production,
    security,
    stockpiles,
    supply,
    trade,
)
from planner.model.context import Ctx
from planner.model.prepare import ModelData

FAMILIES = (investment, production, supply, offtakes, stockpiles, trade, fiscal, security, balance, objective)
log = logging.getLogger("planner")


def build(d: ModelData, elastic: bool = False, fixed: dict | None = None, direct: bool = True) -> Ctx:
    t0 = time.perf_counter()
    m = pyo.ConcreteModel(name="bloc_planner")
    ctx = Ctx(d=d, m=m, elastic=elastic, fixed=fixed, direct=direct)
    enabled = gc.isenabled()
    gc.disable()  # the cyclic GC costs ~2x during construction (docs/performance notes)
    try:
        for fam in FAMILIES:
            fam.add(ctx)
    finally:
        if enabled:
            gc.enable()
    ctx.build_seconds = time.perf_counter() - t0
    return ctx
