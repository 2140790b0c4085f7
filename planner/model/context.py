"""Shared state of one model build.

Families add their own variables and constraints and *contribute* terms to
two shared registers:

- ``balance[(m, c, t, s)]``: supply-minus-use terms of the commodity balance
  (SPEC §3 "Balance"); demand is its right-hand side.
- ``costs``: tagged cost terms (scenario or None for first stage, member,
  category, coefficient in MUSD per unit, variable).  The objective is built
  from them and the results' cost tables evaluate the same terms, so every
  reported number is traceable to one term.

Rows are collected as sparse dicts and turned into one Pyomo component per
family and row kind (``add_rows``), never as dense products filtered by rules.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .prepare import ModelData

MUSD = 1e-6  # USD -> MUSD
ELASTIC_PENALTY = 1e3  # MUSD per tonne (or per MUSD) of relaxed target in the elastic re-solve


def lin(terms, constant=0.0):
    """A linear expression from [(coef, var), ...]."""
    if not terms:
        return constant
    coefs, vars_ = zip(*terms)
    return LinearExpression(constant=constant, linear_coefs=list(coefs), linear_vars=list(vars_))


@dataclass
class Slack:
    """One relaxable target in the elastic re-solve, described in the analyst's terms."""

    target: str
    unit: str
    member: str | None = None
    commodity: str | None = None
    year: int | None = None
    scenario: str | None = None
    detail: str = ""


@dataclass
class Ctx:
    d: ModelData
    m: pyo.ConcreteModel
    elastic: bool = False
    fixed: dict | None = None  # first-stage values to fix (stress tests, shadow prices)
    balance: dict = field(default_factory=lambda: defaultdict(list))
    costs: list = field(default_factory=list)          # (s or None, member, category, coef, var)
    slacks: list = field(default_factory=list)         # (var, Slack)
    security_rows: list = field(default_factory=list)  # dicts describing each security constraint
    structural: list = field(default_factory=list)     # infeasibilities found before solving (Slack, amount)
    _n: int = 0

    # ---------------------------------------------------------------- components
    def var(self, name: str, index: list, domain=pyo.NonNegativeReals, bounds=None):
        v = pyo.Var(index, domain=domain, bounds=bounds, dense=True) if index else pyo.Var([], domain=domain)
        setattr(self.m, name, v)
        return v

    def add_rows(self, name: str, rows: dict):
        """rows: key -> (terms, sense, rhs) with sense in '<=', '>=', '=='; returns the component."""
        keys = [k for k, (terms, _, _) in rows.items() if terms]

        def rule(_m, *k):
            key = k if len(k) != 1 else k[0]
            terms, sense, rhs = rows[key]
            e = lin(terms)
            if sense == "<=":
                return e <= rhs
            if sense == ">=":
                return e >= rhs
            return e == rhs

        c = pyo.Constraint(keys, rule=rule) if keys else pyo.Constraint([], rule=rule)
        setattr(self.m, name, c)
        return c

    # ---------------------------------------------------------------- registers
    def cost(self, s, member, category, coef, var):
        if coef != 0.0:
            self.costs.append((s, member, category, coef, var))

    def slack_vars(self, name: str, infos: dict, unit_penalty: float = ELASTIC_PENALTY):
        """Elastic slack variables (one per key of ``infos``), each penalised and described by its Slack."""
        v = self.var(f"elastic_{name}", list(infos))
        for k, info in infos.items():
            self.slacks.append((v[k], info))
            self.costs.append((None, info.member, "elastic_penalty", unit_penalty, v[k]))
        return v

    def s_index(self):
        return range(self.d.S)
