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
    direct: bool = True                                # hand rows straight to HiGHS (else via Pyomo's compiler)
    ncols: int = 0
    colmap: dict = field(default_factory=dict)         # id(VarData) -> column
    col_blocks: list = field(default_factory=list)     # (name, [VarData], first column, special)
    tri_r: list = field(default_factory=list)          # coefficient triplets of the direct hand-off
    tri_c: list = field(default_factory=list)
    tri_v: list = field(default_factory=list)
    row_lo: list = field(default_factory=list)
    row_hi: list = field(default_factory=list)
    row_names: list = field(default_factory=list)      # (component name, first row, count)
    obj_terms: list = field(default_factory=list)

    # ---------------------------------------------------------------- components
    def var(self, name: str, index: list, domain=pyo.NonNegativeReals, bounds=None, special: bool = False) -> dict:
        """A Pyomo Var over 0..n-1 and a dict key -> VarData (sparse keys, no Pyomo tuple sets).

        ``bounds``: None or a function key -> (lb, ub).  ``special``: the block's columns need
        per-variable bounds, domains or fixing at hand-off (else they are read in bulk).
        """
        n = len(index)
        if bounds is not None:
            keys = list(index)
            comp = pyo.Var(range(n), domain=domain, bounds=lambda _m, i: bounds(keys[i]), dense=True)
        else:
            comp = pyo.Var(range(n), domain=domain, dense=True)
        setattr(self.m, name, comp)
        datas = list(comp.values())
        start = self.ncols
        self.ncols += n
        self.colmap.update(zip(map(id, datas), range(start, start + n)))
        special = special or bounds is not None or domain is not pyo.NonNegativeReals
        self.col_blocks.append((name, datas, start, special))
        return dict(zip(index, datas))

    def add_rows(self, name: str, rows: dict) -> dict:
        """rows: key -> (terms, sense, rhs), sense in '<=', '>=', '=='; returns key -> row handle.

        Direct hand-off (default): the rows go straight into coefficient triplets (the matrix
        HiGHS gets), the handle being the row number.  Pyomo hand-off: one Pyomo Constraint
        component, the handle being its ConstraintData.
        """
        keys = [k for k, (terms, _, _) in rows.items() if terms]
        if self.direct:
            R, C, V, lo, hi = self.tri_r, self.tri_c, self.tri_v, self.row_lo, self.row_hi
            colmap = self.colmap
            out = {}
            r = len(lo)
            inf = float("inf")
            for k in keys:
                terms, sense, rhs = rows[k]
                for coef, v in terms:
                    R.append(r)
                    C.append(colmap[id(v)])
                    V.append(coef)
                lo.append(-inf if sense == "<=" else rhs)
                hi.append(inf if sense == ">=" else rhs)
                out[k] = r
                r += 1
            self.row_names.append((name, len(lo) - len(out), len(out)))
            return out

        def rule(_m, i):
            terms, sense, rhs = rows[keys[i]]
            e = lin(terms)
            if sense == "<=":
                return e <= rhs
            if sense == ">=":
                return e >= rhs
            return e == rhs

        c = pyo.Constraint(range(len(keys)), rule=rule)
        setattr(self.m, name, c)
        return dict(zip(keys, c.values()))

    def set_objective(self, terms: list) -> None:
        """Minimise Σ coef · var (direct: a cost vector; Pyomo: an Objective component)."""
        if self.direct:
            self.obj_terms = terms
        else:
            self.m.objective = pyo.Objective(expr=lin(terms), sense=pyo.minimize)

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
