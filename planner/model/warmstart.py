"""MIP starts (issue 18): a previous plan's first-stage decisions as a starting point for the next solve.

A *plan* is the dict the stress tests fix (``planner.workflows.stress.plan_to_fixed``):
``("build", process, year)`` -> modules, ``("signed", offtake)`` -> 1, ``("stock_build", member,
commodity, year)`` -> tonnes.  :func:`plan_from_investments` reads it from a results ``investments``
table; :func:`start_columns` turns it into (columns, values) of the integer columns of a built model
(absent keys are 0; a plan naming a decision the model lacks is another network's: no start), which
HiGHS completes by solving the LP of the rest (``highs.setSolution`` with a
partial solution).  A start that does not fit (another network, a plan that breaks a new limit) costs
HiGHS one LP and is dropped: it can make a solve faster, never change its answer.
"""
from __future__ import annotations

import math

import numpy as np

from planner.model.context import Ctx


def plan_from_investments(inv) -> dict:
    """A results ``investments`` table (DataFrame or None) -> plan dict (rows it cannot read are skipped)."""
    plan: dict = {}
    if inv is None or not len(inv):
        return plan
    for r in inv.to_dict("records"):
        kind = str(r.get("kind", ""))
        try:
            year = int(r.get("build_year"))
        except (TypeError, ValueError):
            year = None
        q = r.get("quantity")
        if not isinstance(q, (int, float)) or not math.isfinite(q):
            continue
        if kind == "process modules" and year is not None:
            key = ("build", str(r.get("item")), year)
        elif kind == "offtake signed":
            key, q = ("signed", str(r.get("item"))), 1.0
        elif kind == "stockpile capacity" and year is not None:
            key = ("stock_build", str(r.get("member")), str(r.get("commodity")), year)
        else:
            continue
        plan[key] = plan.get(key, 0.0) + float(q)
    return plan


def start_columns(ctx: Ctx, plan: dict | None):
    """(columns int32, values) of every integer first-stage column of ``ctx`` from ``plan``, or None when the
    model has no such column or no plan is given (direct hand-off only: handles are column numbers)."""
    if not plan or not ctx.direct:
        return None
    for k in plan:  # a plan of another network (a decision this model does not have): no start
        if (k[0] == "build" and k[1:] not in ctx.B) or (k[0] == "signed" and k[1] not in ctx.Z):
            return None
    cols, vals = [], []
    integer = ctx.sink.col_int
    for (p, y), v in ctx.B.items():
        if v in integer:
            cols.append(v)
            vals.append(float(round(plan.get(("build", p, y), 0.0))))
    for o, v in ctx.Z.items():
        if v in integer:
            cols.append(v)
            vals.append(1.0 if plan.get(("signed", o), 0.0) > 0.5 else 0.0)
    if not cols:
        return None
    return np.asarray(cols, dtype=np.int32), np.asarray(vals, dtype=float)


def plan_of(ctx: Ctx, res) -> dict:
    """The plan of a solved model (first-stage values above 1e-9)."""
    if res is None or not getattr(res, "has_solution", False):
        return {}
    xval = res.value_of()
    out = {}
    for (p, y), v in ctx.B.items():
        x = xval(v)
        if x > 1e-9:
            out[("build", p, y)] = x
    for o, v in ctx.Z.items():
        if xval(v) > 0.5:
            out[("signed", o)] = 1.0
    for (m, c, y), v in ctx.K.items():
        x = xval(v)
        if x > 1e-9:
            out[("stock_build", m, c, y)] = x
    return out
