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

from array import array
from collections import defaultdict
from dataclasses import dataclass, field

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from planner.model.prepare import ModelData

MUSD = 1e-6  # USD -> MUSD
_INF = float("inf")
_DOMAINS = (  # Pyomo domain -> (lower, upper, integer) of a column in the direct hand-off
    (pyo.NonNegativeReals, (0.0, _INF, False)),
    (pyo.Reals, (-_INF, _INF, False)),
    (pyo.NonNegativeIntegers, (0.0, _INF, True)),
    (pyo.Binary, (0.0, 1.0, True)),
)


def _domain(domain) -> tuple:
    for dom, spec in _DOMAINS:  # Pyomo's global sets are not hashable: compare by identity
        if domain is dom:
            return spec
    raise ValueError(f"domain {domain} is not supported by the direct hand-off")
ELASTIC_PENALTY = 1e3  # MUSD per tonne (or per MUSD) of relaxed target in the elastic re-solve


def key_of(v):
    """A dict key for a variable handle: the column number itself, or a Pyomo VarData's identity
    (VarData is not hashable: ``==`` builds an expression)."""
    return v if type(v) is int else id(v)


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
    colmap: dict = field(default_factory=dict)         # Pyomo hand-off: id(VarData) -> column
    col_blocks: list = field(default_factory=list)     # (name, [VarData] or None, first column, special)
    col_lo: dict = field(default_factory=dict)         # direct: column -> lower bound, where not 0
    col_hi: dict = field(default_factory=dict)         # direct: column -> upper bound (with col_lo)
    col_int: set = field(default_factory=set)          # direct: integer columns
    col_fixed: dict = field(default_factory=dict)      # direct: column -> fixed value
    tri_c: array = field(default_factory=lambda: array("q"))   # direct hand-off: the matrix row by row,
    tri_v: array = field(default_factory=lambda: array("d"))   # columns and coefficients of each row's terms
    row_nnz: array = field(default_factory=lambda: array("q"))  # and each row's number of terms
    row_lo: list = field(default_factory=list)
    row_hi: list = field(default_factory=list)
    row_names: list = field(default_factory=list)      # (component name, first row, count)
    obj_terms: list = field(default_factory=list)

    # ---------------------------------------------------------------- components
    def var(self, name: str, index: list, domain=pyo.NonNegativeReals, bounds=None, special: bool = False) -> dict:
        """Variables over the sparse keys ``index``: a dict key -> handle.

        Direct hand-off (default): the handle is the column number (an ``int``); bounds and
        integrality go into per-column lists, no Pyomo object is made.  Pyomo hand-off: a Pyomo
        Var over 0..n-1 and the handle is its VarData.  Either way the families use the handles
        only through ``add_rows``, ``cost``, ``set_domain`` and ``fix``.

        ``bounds``: None or a function key -> (lb, ub).  ``special``: the block's columns need
        per-variable bounds, domains or fixing at hand-off (else they are read in bulk).
        """
        n = len(index)
        start = self.ncols
        self.ncols += n
        special = special or bounds is not None or domain is not pyo.NonNegativeReals
        if self.direct:
            cols = range(start, start + n)
            lb0, ub0, integer = _domain(domain)
            if bounds is not None:  # as Pyomo: the explicit bounds within the domain's
                for j, k in zip(cols, index):
                    lb, ub = bounds(k)
                    self.col_lo[j] = lb0 if lb is None else max(lb0, lb)
                    self.col_hi[j] = ub0 if ub is None else min(ub0, ub)
            elif lb0 != 0.0 or ub0 != _INF:
                self.col_lo.update(dict.fromkeys(cols, lb0))
                self.col_hi.update(dict.fromkeys(cols, ub0))
            if integer:
                self.col_int.update(cols)
            self.col_blocks.append((name, None, start, special))
            return dict(zip(index, cols))
        if bounds is not None:
            keys = list(index)
            comp = pyo.Var(range(n), domain=domain, bounds=lambda _m, i: bounds(keys[i]), dense=True)
        else:
            comp = pyo.Var(range(n), domain=domain, dense=True)
        setattr(self.m, name, comp)
        datas = list(comp.values())
        self.colmap.update(zip(map(id, datas), range(start, start + n)))
        self.col_blocks.append((name, datas, start, special))
        return dict(zip(index, datas))

    def set_domain(self, v, domain) -> None:
        """Change the domain of one variable made without explicit bounds (e.g. integer modules)."""
        if self.direct:
            lb, ub, integer = _domain(domain)
            if v in self.col_lo or lb != 0.0 or ub != _INF:
                self.col_lo[v], self.col_hi[v] = lb, ub
            (self.col_int.add if integer else self.col_int.discard)(v)
        else:
            v.domain = domain

    def fix(self, v, value: float) -> None:
        """Fix one variable at ``value`` (stress tests, shadow prices of a MIP)."""
        if self.direct:
            self.col_fixed[v] = float(value)
        else:
            v.fix(value)

    def fix_first_stage(self, v, key: tuple, integer: bool = False) -> None:
        """Fix first-stage variable ``v`` at ``fixed[key]`` (0 when the key is absent: stress tests fix a whole
        plan); a value of None leaves it free (progressive hedging re-optimises stockpile capacity this way)."""
        value = self.fixed.get(key, 0.0)
        if value is not None:
            self.fix(v, round(float(value)) if integer else float(value))

    def add_rows(self, name: str, rows: dict) -> dict:
        """rows: key -> (terms, sense, rhs), sense in '<=', '>=', '=='; returns key -> row handle.

        Direct hand-off (default): the rows go straight into coefficient triplets (the matrix
        HiGHS gets), the handle being the row number.  Pyomo hand-off: one Pyomo Constraint
        component, the handle being its ConstraintData.
        """
        keys = [k for k, (terms, _, _) in rows.items() if terms]
        if self.direct:
            C, V, N, lo, hi = self.tri_c, self.tri_v, self.row_nnz, self.row_lo, self.row_hi
            out = {}
            r = len(lo)
            inf = float("inf")
            for k in keys:
                terms, sense, rhs = rows[k]
                cs, vs = zip(*terms)
                V.extend(cs)
                C.extend(vs)
                N.append(len(cs))
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
    def balance_grid(self, m, c) -> list:
        """``grid[ti][si]`` is the term list of ``balance[(m, c, t, s)]`` (cached per (m, c)): families
        that add many terms reach the lists without building a key tuple per term."""
        cache = self.__dict__.setdefault("_grids", {})
        g = cache.get((m, c))
        if g is None:
            bal, scen = self.balance, self.d.scen
            g = cache[(m, c)] = [[bal[(m, c, t, s)] for s in scen] for t in self.d.years]
        return g

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
