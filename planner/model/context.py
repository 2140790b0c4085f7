"""Shared state of one model build.

Families add their own variables and rows and *contribute* terms to shared registers:

- ``balance[(m, c, t, s)]``: supply-minus-use terms of the commodity balance
  (SPEC §3 "Balance"); demand is its right-hand side.  It and the registers the security rows read
  (``output_m``, ``input_use``, ``concern_in``) are :class:`KeyedTerms`: families add terms as arrays
  (:meth:`Ctx.terms_add`) and readers take them as arrays (:meth:`Ctx.term_arrays`); a term list per key is
  made only for a reader that asks by key.
- ``costs``: tagged cost terms (scenario or None for first stage, member,
  category, coefficient in MUSD per unit, variable).  The objective is built
  from them and the results' cost tables evaluate the same terms, so every
  reported number is traceable to one term.  Families may add them as arrays
  (:meth:`Ctx.add_cost_arrays`, :class:`CostTerms`): they become tuples only
  when something reads them so (the reports, after the solve).

Operations variables over (key head, year) × every scenario, or over explicit (head, year, scenario) entries, can
be made by array arithmetic (:meth:`Ctx.var_ops_rows`, :meth:`Ctx.var_ops_sparse`): their columns are an array,
their key dict is made only when read by key (:class:`OpsVars`, :class:`SparseOpsVars`; :func:`nonzero_items`
reads only the keys of nonzero values).

Declared state: every attribute a family provides for later families (or for its own
report) is a field of :class:`Ctx`, listed under the family that provides it; each family
module says what it ``PROVIDES`` and ``READS``, and :mod:`planner.model.build` checks that
the order of ``FAMILIES`` gives every family what it reads.

Where the rows go is a :class:`RowSink`: :class:`DirectSink` (default) turns them into
coefficient arrays for HiGHS (variables are column numbers); :class:`PyomoSink` makes Pyomo
components (kept to cross-check the fast path and for progressive hedging).  Families see
only ``var``, ``add_rows``, ``cost``, ``set_domain``, ``fix`` and ``set_objective``.

Information (SPEC §3): ``var(..., ops=True)`` declares operations, whose keys end in
(year, scenario); scenarios that share a node of the scenario tree (``ModelData.tree``) in
that year share one column.  A key that exists in some scenarios of a node but not in
others (e.g. imports from a seller available in one and banned in another, under an
explicit tree) is fixed at 0: the shared decision must work in every scenario of the node.
"""
from __future__ import annotations

from array import array
from collections import Counter, UserList, defaultdict
from collections.abc import Mapping, Sequence
from itertools import repeat
from dataclasses import dataclass, field

import numpy as np

from planner.model.prepare import ModelData

MUSD = 1e-6  # USD -> MUSD
_INF = float("inf")
# Domains of columns, named as Pyomo names its sets.  The direct hand-off (the default) never imports Pyomo (0.3 s
# of every start); the Pyomo sink turns a name into Pyomo's set.  Pyomo's own sets are accepted too.
NON_NEGATIVE_REALS = "NonNegativeReals"
REALS = "Reals"
NON_NEGATIVE_INTEGERS = "NonNegativeIntegers"
BINARY = "Binary"
_DOMAINS = {  # domain -> (lower, upper, integer) of a column in the direct hand-off
    NON_NEGATIVE_REALS: (0.0, _INF, False),
    REALS: (-_INF, _INF, False),
    NON_NEGATIVE_INTEGERS: (0.0, _INF, True),
    BINARY: (0.0, 1.0, True),
}
ELASTIC_PENALTY = 1e3  # MUSD per tonne (or per MUSD) of relaxed target in the elastic re-solve


def domain_name(domain) -> str:
    """The name of a domain given as a name or as one of Pyomo's global sets (its ``name``)."""
    name = domain if isinstance(domain, str) else getattr(domain, "name", str(domain))
    if name not in _DOMAINS:
        raise ValueError(f"domain {domain} is not supported by the direct hand-off")
    return name


def _domain(domain) -> tuple:
    return _DOMAINS[domain_name(domain)]


def _pyomo_domain(domain):
    import pyomo.environ as pyo

    return getattr(pyo, domain_name(domain))


def key_of(v):
    """A dict key for a variable handle: the column number itself, or a Pyomo VarData's identity
    (VarData is not hashable: ``==`` builds an expression)."""
    return v if type(v) is int else id(v)


def lin(terms, constant=0.0):
    """A linear expression from [(coef, var), ...]."""
    from pyomo.core.expr.numeric_expr import LinearExpression

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


# ---------------------------------------------------------------------------------------- row sinks
class LazyKeys(Sequence):
    """The keys of ``n`` rows, made by ``make()`` only when something reads them."""

    def __init__(self, n: int, make):
        self.n, self._make, self._keys = n, make, None

    def _all(self) -> list:
        if self._keys is None:
            self._keys = self._make()
            self._make = None
        return self._keys

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        return self._all()[i]

    def __iter__(self):
        return iter(self._all())


class RowsOf(Mapping):
    """key -> row number (the first row ``r0``, then in key order) of rows whose keys are :class:`LazyKeys`: the
    dict is made on the first read."""

    def __init__(self, keys: LazyKeys, r0: int):
        self._keys, self._r0, self._d = keys, r0, None

    def _dict(self) -> dict:
        if self._d is None:
            self._d = dict(zip(self._keys, range(self._r0, self._r0 + len(self._keys))))
        return self._d

    def __getitem__(self, k):
        return self._dict()[k]

    def __iter__(self):
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._keys)


class RowSink:
    """Where columns and rows go.  ``ncols`` counts columns; handles are what ``new_columns`` returns."""

    ncols: int = 0

    def new_columns(self, name: str, index: list, domain, bounds, special: bool) -> list:
        raise NotImplementedError

    def set_domain(self, v, domain) -> None:
        raise NotImplementedError

    def fix(self, v, value: float) -> None:
        raise NotImplementedError

    def add_rows(self, name: str, keys: list, rows: dict) -> dict:
        raise NotImplementedError

    def set_objective(self, terms: list) -> None:
        raise NotImplementedError

    def handles(self, cols) -> list:
        """Variable handles of column numbers ``cols``."""
        raise NotImplementedError

    def columns(self, handles) -> np.ndarray:
        """Column numbers of variable handles."""
        raise NotImplementedError

    def add_rows_arrays(self, name: str, keys: list, row, cols, coefs, lo, hi) -> dict:
        """Rows given as arrays: term i is coefs[i] · column cols[i] in row row[i] (0 … len(keys) − 1, in any
        order); lo ≤ row ≤ hi.  Generic form: per-row term lists for :meth:`add_rows` (the Pyomo sink)."""
        order = np.argsort(row, kind="stable")
        ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(keys)), out=ptr[1:])
        hs = self.handles(np.asarray(cols)[order])
        cs = np.asarray(coefs, dtype=float)[order].tolist()
        rows = {}
        for i, k in enumerate(keys):
            a, b = int(ptr[i]), int(ptr[i + 1])
            lb, ub = float(lo[i]), float(hi[i])
            sense, rhs = ("==", lb) if lb == ub else ("<=", ub) if lb == -_INF else (">=", lb)
            rows[k] = (list(zip(cs[a:b], hs[a:b])), sense, rhs)
        return self.add_rows(name, keys, rows)

    def add_rows_chunks(self, name: str, keys, parts: list, lo, hi) -> dict:
        """:meth:`add_rows_arrays` with the terms in several chunks (row, cols, coefs)."""
        cat = lambda i, dt: np.concatenate([p[i] for p in parts]).astype(dt) if parts else np.zeros(0, dt)
        return self.add_rows_arrays(name, list(keys), cat(0, np.int64), cat(1, np.int64), cat(2, float), lo, hi)


@dataclass
class DirectSink(RowSink):
    """Rows straight into coefficient arrays (the matrix HiGHS gets); handles are column / row numbers."""

    ncols: int = 0
    col_blocks: list = field(default_factory=list)     # (name, None, first column, special)
    col_lo: dict = field(default_factory=dict)         # column -> lower bound, where not 0
    col_hi: dict = field(default_factory=dict)         # column -> upper bound (with col_lo)
    col_int: set = field(default_factory=set)          # integer columns
    col_fixed: dict = field(default_factory=dict)      # column -> fixed value
    # the matrix as triplets, one chunk per call: row numbers, columns and coefficients (a row's terms in the order
    # given; the hand-off sorts them by column), and the row bounds
    tri_r: list = field(default_factory=list)
    tri_c: list = field(default_factory=list)
    tri_v: list = field(default_factory=list)
    lo_parts: list = field(default_factory=list)
    hi_parts: list = field(default_factory=list)
    n_rows: int = 0
    nnz: int = 0
    row_names: list = field(default_factory=list)      # (component name, first row, count)
    obj_terms: list = field(default_factory=list)
    obj_arrays: tuple | None = None                    # (columns, coefficients) of the objective, or obj_terms

    def new_columns(self, name, index, domain, bounds, special):
        n = len(index)
        start = self.ncols
        self.ncols += n
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
        return list(cols)

    def set_domain(self, v, domain):
        lb, ub, integer = _domain(domain)
        if v in self.col_lo or lb != 0.0 or ub != _INF:
            self.col_lo[v], self.col_hi[v] = lb, ub
        (self.col_int.add if integer else self.col_int.discard)(v)

    def fix(self, v, value):
        self.col_fixed[v] = float(value)

    def add_rows(self, name, keys, rows):
        C, V, N, lo, hi = array("q"), array("d"), array("q"), [], []
        inf = _INF
        for k in keys:
            terms, sense, rhs = rows[k]
            cs, vs = zip(*terms)
            V.extend(cs)
            C.extend(vs)
            N.append(len(cs))
            lo.append(-inf if sense == "<=" else rhs)
            hi.append(inf if sense == ">=" else rhs)
        r0 = self.n_rows
        n = len(lo)
        if n:
            self._append(np.repeat(np.arange(n, dtype=np.int64), np.frombuffer(N, dtype=np.int64)),
                         np.frombuffer(C, dtype=np.int64).copy(), np.frombuffer(V, dtype=float).copy(),
                         np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
        self.row_names.append((name, r0, n))
        return dict(zip(keys, range(r0, r0 + n)))

    def _append(self, row, cols, coefs, lo, hi, rows: int | None = None) -> None:
        """Rows numbered 0 … len(lo) − 1 in ``row`` appended after the rows so far (``rows``: their number, when
        the bounds come in another chunk; the caller then sets ``n_rows``)."""
        n = len(lo) if rows is None else rows
        small = np.int32 if self.n_rows + n < 2**31 else np.int64
        self.tri_r.append((np.asarray(row, dtype=np.int64) + self.n_rows).astype(small))
        self.tri_c.append(np.asarray(cols, dtype=np.int64))
        self.tri_v.append(np.broadcast_to(np.asarray(coefs, dtype=float), (len(self.tri_c[-1]),)))
        self.lo_parts.append(lo)
        self.hi_parts.append(hi)
        if rows is None:
            self.n_rows += n
        self.nnz += len(self.tri_c[-1])

    def triplets(self, release: bool = False) -> tuple:
        """(rows, columns, coefficients, row lower bounds, row upper bounds) of every row so far, as arrays (rows in
        the order the terms were given).  ``release``: the chunks are let go as they are joined (the hand-off)."""
        out = []
        for name in ("tri_r", "tri_c", "tri_v", "lo_parts", "hi_parts"):
            parts = getattr(self, name)
            dt = np.int64 if name in ("tri_r", "tri_c") else float
            out.append(np.concatenate(parts).astype(dt, copy=False) if parts else np.zeros(0, dt))
            if release:
                parts.clear()
        return tuple(out)

    def set_objective(self, terms):
        self.obj_terms, self.obj_arrays = terms, None

    def set_objective_arrays(self, cols: np.ndarray, coefs: np.ndarray) -> None:
        """The objective Σ coefs[k] · column cols[k] (repeated columns summed at hand-off)."""
        self.obj_terms, self.obj_arrays = [], (cols, coefs)

    def handles(self, cols):
        return np.asarray(cols, dtype=np.int64).tolist()

    def columns(self, handles):
        return np.fromiter(handles, dtype=np.int64, count=len(handles))

    def add_rows_arrays(self, name, keys, row, cols, coefs, lo, hi):
        """The array form of :meth:`add_rows`: the terms appended in bulk, as given (no sort)."""
        return self.add_rows_chunks(name, keys, [(row, cols, coefs)], lo, hi)

    def add_rows_chunks(self, name, keys, parts, lo, hi):
        """The terms in several chunks (row, cols, coefs), appended as they are; ``keys`` may be
        :class:`LazyKeys` (then so is the map returned)."""
        n = len(keys)
        r0 = self.n_rows
        lo, hi = np.asarray(lo, dtype=float).copy(), np.asarray(hi, dtype=float).copy()
        for i, (row, cols, coefs) in enumerate(parts):
            self._append(row, cols, coefs, lo if i == 0 else lo[:0], hi if i == 0 else hi[:0], rows=n)
        if not parts:
            self._append(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), lo, hi)
        self.n_rows = r0 + n
        self.row_names.append((name, r0, n))
        if isinstance(keys, LazyKeys):
            return RowsOf(keys, r0)
        return dict(zip(keys, range(r0, r0 + n)))


@dataclass
class PyomoSink(RowSink):
    """Rows as Pyomo components of ``model`` (compiled by Pyomo's standard-form compiler at hand-off)."""

    model: object = None  # a pyomo.environ.ConcreteModel
    ncols: int = 0
    colmap: dict = field(default_factory=dict)         # id(VarData) -> column
    col_blocks: list = field(default_factory=list)     # (name, [VarData], first column, special)

    def new_columns(self, name, index, domain, bounds, special):
        import pyomo.environ as pyo

        n = len(index)
        start = self.ncols
        self.ncols += n
        domain = _pyomo_domain(domain)
        if bounds is not None:
            keys = list(index)
            comp = pyo.Var(range(n), domain=domain, bounds=lambda _m, i: bounds(keys[i]), dense=True)
        else:
            comp = pyo.Var(range(n), domain=domain, dense=True)
        setattr(self.model, name, comp)
        datas = list(comp.values())
        self.colmap.update(zip(map(id, datas), range(start, start + n)))
        self.col_blocks.append((name, datas, start, special))
        return datas

    def set_domain(self, v, domain):
        v.domain = _pyomo_domain(domain)

    def fix(self, v, value):
        v.fix(value)

    def add_rows(self, name, keys, rows):
        def rule(_m, i):
            terms, sense, rhs = rows[keys[i]]
            e = lin(terms)
            if sense == "<=":
                return e <= rhs
            if sense == ">=":
                return e >= rhs
            return e == rhs

        import pyomo.environ as pyo

        c = pyo.Constraint(range(len(keys)), rule=rule)
        setattr(self.model, name, c)
        return dict(zip(keys, c.values()))

    def set_objective(self, terms):
        import pyomo.environ as pyo

        self.model.objective = pyo.Objective(expr=lin(terms), sense=pyo.minimize)

    def handles(self, cols):
        allv = self.__dict__.get("_all")
        if allv is None or len(allv) < self.ncols:
            allv = self.__dict__["_all"] = [v for _n, datas, _s, _sp in self.col_blocks for v in datas]
        return [allv[j] for j in np.asarray(cols, dtype=np.int64).tolist()]

    def columns(self, handles):
        cm = self.colmap
        return np.fromiter((cm[id(v)] for v in handles), dtype=np.int64, count=len(handles))


# ---------------------------------------------------------------------------------------- the context
@dataclass
class _CostChunk:
    """Cost terms given as arrays (:meth:`CostTerms.add_arrays`)."""

    scen_idx: np.ndarray   # scenario index per term, -1: first stage (scenario None)
    names: np.ndarray      # members (object array; None: the bloc) ...
    codes: np.ndarray      # ... and each term's position in it
    category: object       # one category for every term, or an object array of them
    coefs: np.ndarray
    cols: np.ndarray       # column numbers

    def members(self) -> list:
        return self.names[self.codes].tolist()


class CostTerms(UserList):
    """:attr:`Ctx.costs`: the tagged cost terms (scenario or None, member, category, coef, variable) in the order the
    families added them.  Families add tuples (``append``, ``extend``) or arrays (:meth:`add_arrays`, the direct
    sink only); the objective reads the arrays as they are (:meth:`objective_arrays`), and anything else that reads
    the list (the reports, after the solve) first turns the arrays into tuples, in their place.  At preset XL the
    tuples were 50 MiB that stayed in memory while HiGHS ran."""

    def __init__(self, initlist=None):  # noqa: D107 - UserList's
        self._list = list(initlist) if initlist is not None else []
        self._parts: list = []  # after _list, in order: lists of tuples and _CostChunk
        self.scen: list = []    # scenario names (the chunks' indexes)
        self.handles = None     # column numbers -> variable handles (the sink's)

    @property
    def data(self) -> list:
        if self._parts:
            self._materialize()
        return self._list

    @data.setter
    def data(self, value) -> None:
        self._list, self._parts = list(value), []

    def __iter__(self):  # UserList has none: Sequence's would read ``data`` once per term (1.7 M times at XL)
        return iter(self.data)

    def append(self, item) -> None:
        if not self._parts:
            self._list.append(item)
        elif isinstance(self._parts[-1], list):
            self._parts[-1].append(item)
        else:
            self._parts.append([item])

    def extend(self, other) -> None:
        if not self._parts:
            self._list.extend(other)
        else:
            self._parts.append(list(other))

    def add_arrays(self, scen_idx, members, category, coefs, cols) -> None:
        """Terms coefs[k] · column cols[k] of scenario ``self.scen[scen_idx[k]]`` (-1: first stage), member
        members[k], category ``category`` (one, or one per term).  ``members``: one per term, or (names, codes)
        with the k-th term's member names[codes[k]] (lighter: the indexes are kept as int32)."""
        if not len(coefs):
            return
        names, codes = members if isinstance(members, tuple) else (members, np.arange(len(coefs)))
        cols = np.asarray(cols, dtype=np.int64)
        small = np.int32 if len(cols) and int(cols.max()) < 2**31 else np.int64
        self._parts.append(_CostChunk(np.asarray(scen_idx, dtype=np.int32), np.asarray(names, dtype=object),
                                      np.asarray(codes, dtype=np.int32), category, np.asarray(coefs, dtype=float),
                                      cols.astype(small)))

    def _materialize(self) -> None:
        scen = np.array(list(self.scen) + [None], dtype=object)
        for part in self._parts:
            if isinstance(part, list):
                self._list.extend(part)
                continue
            cat = repeat(part.category) if isinstance(part.category, str) else np.asarray(part.category).tolist()
            self._list.extend(zip(scen[part.scen_idx].tolist(), part.members(), cat, part.coefs.tolist(),
                                  self.handles(part.cols)))
        self._parts = []

    def objective_arrays(self, weight: dict) -> tuple[np.ndarray, np.ndarray]:
        """(columns, coefficients) of Σ coef · var over the terms in order, a scenario's terms weighted by
        ``weight[scenario]``, first-stage terms once (direct sink: handles are column numbers).  The same
        products, in the same order, as the tuples would give."""
        cols, coefs = [], []
        w = np.array([weight[s] for s in self.scen] + [1.0], dtype=float)
        for part in [self._list] + self._parts:
            if isinstance(part, list):
                cols.append(np.fromiter((t[4] for t in part), dtype=np.int64, count=len(part)))
                coefs.append(np.fromiter((t[3] if t[0] is None else weight[t[0]] * t[3] for t in part), dtype=float,
                                         count=len(part)))
            else:
                cols.append(part.cols.astype(np.int64))
                coefs.append(np.where(part.scen_idx < 0, part.coefs, w[part.scen_idx] * part.coefs))
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(cols), np.concatenate(coefs)


class OpsVars(Mapping):
    """Operations variables over rows (a key head, a year) × every scenario, made by :meth:`Ctx.var_ops_rows`:
    key head + (year, scenario) -> column number.  The columns are kept as an array in key order (``cols``); the
    dict itself is made only when something reads the variables by key (a report, after the solve), so the build
    makes no key tuple per column."""

    def __init__(self, heads: list, years: list, t_idx: np.ndarray, scen: list, cols: np.ndarray):
        self.heads, self.years, self.t_idx, self.scen, self.cols = heads, years, t_idx, scen, cols
        self._d = None

    def _dict(self) -> dict:
        if self._d is None:
            years, scen = self.years, self.scen
            keys = [h + (years[t], s) for h, t in zip(self.heads, self.t_idx.tolist()) for s in scen]
            self._d = dict(zip(keys, self.cols.tolist()))
        return self._d

    def __getitem__(self, k):
        return self._dict()[k]

    def __contains__(self, k) -> bool:
        return k in self._dict()

    def __iter__(self):
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self.cols)

    def get(self, k, default=None):
        return self._dict().get(k, default)

    def nonzero(self, x: np.ndarray) -> list:
        """(key, value) of the variables whose value in the solution ``x`` is not 0, in key order: only those
        keys are made."""
        vals = np.asarray(x, dtype=float)[self.cols]
        idx = np.flatnonzero(vals)
        S = len(self.scen)
        heads, years, scen, t_idx = self.heads, self.years, self.scen, self.t_idx
        rows, sc = idx // S, idx % S
        return [(heads[r] + (years[t_idx[r]], scen[s]), v) for r, s, v in zip(rows.tolist(), sc.tolist(),
                                                                              vals[idx].tolist())]

    def keys(self):
        return self._dict().keys()

    def values(self):
        return self._dict().values()

    def items(self):
        return self._dict().items()


def nonzero_items(var, sol) -> list:
    """(key, value) of the variables of ``var`` (key -> handle) whose value in ``sol`` is not 0, in key order."""
    if isinstance(var, OpsVars) and sol.x is not None and sol.col_of is None:  # direct hand-off: columns
        return var.nonzero(sol.x)
    xval = sol.value_of()
    return [(k, val) for k, v in var.items() if (val := xval(v))]


class SparseOpsVars(OpsVars):
    """Operations variables over explicit entries (key head heads[h_idx[k]], year index t_idx[k], scenario index
    s_idx[k]), made by :meth:`Ctx.var_ops_sparse`: the columns are an array in entry order, the key dict is made
    only when read by key."""

    def __init__(self, heads: list, h_idx, years: list, t_idx, scen: list, s_idx, cols: np.ndarray):
        self.heads, self.years, self.scen, self.cols = heads, years, scen, cols
        self.h_idx, self.t_idx, self.s_idx = h_idx, t_idx, s_idx
        self._d = None

    def _dict(self) -> dict:
        if self._d is None:
            heads, years, scen = self.heads, self.years, self.scen
            keys = [heads[h] + (years[t], scen[s]) for h, t, s in zip(self.h_idx.tolist(), self.t_idx.tolist(),
                                                                     self.s_idx.tolist())]
            self._d = dict(zip(keys, self.cols.tolist()))
        return self._d

    def nonzero(self, x: np.ndarray) -> list:
        vals = np.asarray(x, dtype=float)[self.cols]
        idx = np.flatnonzero(vals)
        heads, years, scen = self.heads, self.years, self.scen
        return [(heads[h] + (years[t], scen[s]), v) for h, t, s, v in zip(
            self.h_idx[idx].tolist(), self.t_idx[idx].tolist(), self.s_idx[idx].tolist(), vals[idx].tolist())]


class KeyedTerms(defaultdict):
    """``(m, c, t, s) -> [(coef, var), ...]``: a register of terms per (member, commodity, year, scenario): the
    balance rows' terms (SPEC §3 "Balance"), and the production and import registers the security rows read.

    Families add terms one by one (``reg[k].append(term)``) or as arrays (:meth:`Ctx.terms_add`, kept in
    ``chunks``).  Reading it by key (``get``, iterating, ``in``, ``len``) first turns the chunks into term
    lists, so a reader sees every term; appending does not.  Readers that can take arrays read
    :meth:`Ctx.term_arrays` instead, which turns nothing into lists."""

    def __init__(self):
        super().__init__(list)
        self.chunks = []
        self.owner = None
        self.consumed = False

    def consume(self) -> None:
        """The rows are made: the array chunks are let go (reading the terms after this is an error)."""
        self.consumed = bool(self.chunks)
        self.chunks = []

    def _flush(self):
        if self.consumed:
            raise RuntimeError("the terms were read after the rows (e.g. the balance rows) were made from them")
        if self.chunks:
            self.owner._flush_terms(self)

    def get(self, k, default=None):
        self._flush()
        return super().get(k, default)

    def __iter__(self):
        self._flush()
        return super().__iter__()

    def __contains__(self, k):
        self._flush()
        return super().__contains__(k)

    def __len__(self):
        self._flush()
        return super().__len__()

    def items(self):
        self._flush()
        return super().items()

    def keys(self):
        self._flush()
        return super().keys()

    def values(self):
        self._flush()
        return super().values()


@dataclass
class Ctx:
    d: ModelData
    sink: RowSink
    elastic: bool = False
    fixed: dict | None = None  # first-stage values to fix (stress tests, shadow prices)
    # shared registers
    balance: dict = field(default_factory=lambda: KeyedTerms())  # (m,c,t,s) -> [(coef, var)], and array chunks
    costs: CostTerms = field(default_factory=CostTerms)  # (s or None, member, category, coef MUSD/unit, var)
    slacks: list = field(default_factory=list)         # (var, Slack)
    structural: list = field(default_factory=list)     # infeasibilities found before solving (Slack, amount)
    build_seconds: float = 0.0
    # investment provides
    procs: dict = field(default_factory=dict)          # process -> row
    cap: dict = field(default_factory=dict)            # (p, t) -> [existing_pt, [(module_tpa, B_py), ...]]
    B: dict = field(default_factory=dict)              # (p, y) -> modules built
    # production provides
    Q: dict = field(default_factory=dict)              # (p, t, s) -> output
    output_m: dict = field(default_factory=lambda: KeyedTerms())   # (m,c,t,s) -> [(y_pc, Q)]
    input_use: dict = field(default_factory=lambda: KeyedTerms())  # (m,c,t,s) -> [(a_p, Q)]
    capacity_rows: dict = field(default_factory=dict)
    # supply provides
    I: dict = field(default_factory=dict)              # (m, x, c, t, s) -> imports
    X: dict = field(default_factory=dict)              # (m, c, t, s) -> exports
    V: dict = field(default_factory=dict)              # (m, c, t, s) -> disposal
    H: dict = field(default_factory=dict)              # (m, c, t, s) -> shortage
    concern_in: dict = field(default_factory=lambda: KeyedTerms())  # (m,c,t,s) -> concern import terms
    tariff_terms: list = field(default_factory=list)   # (m, t, s, T USD/t, I)
    # offtakes provides
    Z: dict = field(default_factory=dict)              # offtake -> signed
    D: dict = field(default_factory=dict)              # (o, t, s) -> deliveries
    # stockpiles provides
    K: dict = field(default_factory=dict)              # (m, c, y) -> capacity built
    L: dict = field(default_factory=dict)              # (m, c, t, s) -> level
    U: dict = field(default_factory=dict)              # (m, c, t, s) -> fill
    W: dict = field(default_factory=dict)              # (m, c, t, s) -> draw
    # trade provides
    F: dict = field(default_factory=dict)              # (m, n, c, t, s) -> flow
    # fiscal provides
    support_terms: list = field(default_factory=list)  # (t, s, producing member, USD/t coef, var)
    budget_rows: dict = field(default_factory=dict)
    # security provides
    security_rows: list = field(default_factory=list)  # (key, description dict, row handle)
    # balance provides
    balance_rows: dict = field(default_factory=dict)   # (m, c, t, s) -> row handle
    # objective provides
    cvar_rows: dict = field(default_factory=dict)      # scenario index -> row handle (λ > 0)
    eta: object = None                                 # VaR variable η (λ > 0)

    def __post_init__(self):
        for reg in (self.balance, self.output_m, self.input_use, self.concern_in):
            reg.owner = self
        self.costs.scen, self.costs.handles = list(self.d.scen), self.sink.handles
        tree = getattr(self.d, "tree", None)
        self._rep = None
        if tree is not None and self.d.S > 1 and (tree != np.arange(self.d.S)[None, :]).any():
            scen, years = self.d.scen, self.d.years
            self._rep = {(t, s): scen[tree[ti, si]] for ti, t in enumerate(years) for si, s in enumerate(scen)}
            self._rep_idx = np.asarray(tree, dtype=np.int64)  # (year, scenario) -> the node's scenario
            size = defaultdict(int)
            for ti, t in enumerate(years):
                for si in range(self.d.S):
                    size[(t, scen[tree[ti, si]])] += 1
            self._node_size = dict(size)

    # ---------------------------------------------------------------- state and hand-off
    @property
    def direct(self) -> bool:
        return isinstance(self.sink, DirectSink)

    @property
    def m(self):
        """The Pyomo model (Pyomo sink only)."""
        return self.sink.model

    @property
    def ncols(self) -> int:
        return self.sink.ncols

    # ---------------------------------------------------------------- components
    def var(self, name: str, index: list, domain=NON_NEGATIVE_REALS, bounds=None, special: bool = False,
            ops: bool = False) -> dict:
        """Variables over the sparse keys ``index``: a dict key -> handle (a column number, or a
        Pyomo VarData with the Pyomo sink).  ``bounds``: None or a function key -> (lb, ub).
        ``special``: the block's columns need per-variable bounds, domains or fixing at hand-off.
        ``ops``: operations, keys ending in (year, scenario), aliased per node of the scenario tree.
        """
        special = special or bounds is not None or domain_name(domain) != NON_NEGATIVE_REALS
        if not ops or self._rep is None:
            return dict(zip(index, self.sink.new_columns(name, index, domain, bounds, special)))
        rep = self._rep
        canon = [k[:-1] + (rep[k[-2:]],) for k in index]
        count = Counter(canon)  # in first-seen order
        uniq = list(count)
        size = self._node_size
        partial = {c for c in uniq if count[c] < size[(c[-2], c[-1])]}
        if bounds is not None or partial:
            lo, hi = {}, {}
            for k, c in zip(index, canon):
                lb, ub = bounds(k) if bounds is not None else (None, None)
                lb = 0.0 if lb is None else lb
                ub = _INF if ub is None else ub
                lo[c] = max(lo.get(c, -_INF), lb)
                hi[c] = min(hi.get(c, _INF), ub)
            for c in partial:  # missing in some scenario of its node, where it is 0: 0 in all of them
                hi[c] = min(hi[c], 0.0)
                lo[c] = min(lo[c], 0.0)

            def node_bounds(c):
                return lo[c], hi[c]

            special = True
        else:
            node_bounds = None
        handles = dict(zip(uniq, self.sink.new_columns(name, uniq, domain, node_bounds, special)))
        return dict(zip(index, map(handles.__getitem__, canon)))

    def var_ops_rows(self, name: str, heads: list, t_idx) -> dict:
        """Operations variables (non-negative, no bounds) keyed head + (year, scenario) for every row (heads[i],
        year index t_idx[i]) and every scenario, in that order: ``var(name, keys, ops=True)`` for those keys, with
        the same columns in the same order, made by array arithmetic (the direct sink; :class:`OpsVars`).  Every
        scenario of a node has the key, so none is fixed at 0."""
        d = self.d
        t_idx = np.asarray(t_idx, dtype=np.int64)
        S, n_rows = d.S, len(heads)
        if not self.direct:
            years, scen = d.years, d.scen
            return self.var(name, [h + (years[t], s) for h, t in zip(heads, t_idx.tolist()) for s in scen], ops=True)
        # the entries row by row, every scenario; each row its own head (rows are distinct (head, year) pairs)
        v = self.var_ops_sparse(name, heads, np.repeat(np.arange(n_rows, dtype=np.int64), S), np.repeat(t_idx, S),
                                np.tile(np.arange(S, dtype=np.int64), n_rows))
        return OpsVars(heads, d.years, t_idx, d.scen, v.cols)

    def var_ops_sparse(self, name: str, heads: list, h_idx, t_idx, s_idx, lo=None, hi=None) -> dict:
        """Operations variables (non-negative) for the entries k: key heads[h_idx[k]] + (year t_idx[k], scenario
        s_idx[k]), with bounds lo[k] ≤ · ≤ hi[k] where given: ``var(name, keys, bounds, ops=True)`` for those keys,
        with the same columns in the same order and the same bounds, made by array arithmetic (the direct sink;
        :class:`SparseOpsVars`).  Under a scenario tree, entries of one node share its column, bounded by the
        tightest of their bounds; a node some of whose scenarios lack the entry is fixed at 0."""
        d = self.d
        h_idx, t_idx, s_idx = (np.asarray(a, dtype=np.int64) for a in (h_idx, t_idx, s_idx))
        n = len(h_idx)
        if lo is not None or hi is not None:
            lo = np.zeros(n) if lo is None else np.maximum(0.0, np.asarray(lo, dtype=float))
            hi = np.full(n, _INF) if hi is None else np.asarray(hi, dtype=float)
        if not self.direct:
            years, scen = d.years, d.scen
            keys = [heads[h] + (years[t], scen[s]) for h, t, s in zip(h_idx.tolist(), t_idx.tolist(),
                                                                     s_idx.tolist())]
            bounds = None if lo is None else dict(zip(keys, zip(lo.tolist(), hi.tolist()))).__getitem__
            return self.var(name, keys, bounds=bounds, ops=True)
        start = self.sink.ncols
        nT, S = d.nT, d.S
        if self._rep is None:
            node_lo, node_hi, special = lo, hi, lo is not None
            cols = np.arange(start, start + n, dtype=np.int64)
            m = n
        else:
            rep = self._rep_idx[t_idx, s_idx]
            code = (h_idx * nT + t_idx) * S + rep
            _u, first, inv = np.unique(code, return_index=True, return_inverse=True)
            inv = inv.ravel()
            m = len(first)
            order = np.empty(m, dtype=np.int64)  # node (sorted code) -> its rank in first-seen order
            order[np.argsort(first, kind="stable")] = np.arange(m, dtype=np.int64)
            cols = start + order[inv]
            size = np.zeros((nT, S), dtype=np.int64)  # scenarios per node (year, node's scenario)
            np.add.at(size, (np.repeat(np.arange(nT), S), self._rep_idx.ravel()), 1)
            count = np.bincount(inv, minlength=m)
            ucode = code[first]
            partial = count < size[ucode // S % nT, ucode % S]
            special = lo is not None or bool(partial.any())
            node_lo = node_hi = None
            if special:
                node_lo = np.full(m, -_INF)
                node_hi = np.full(m, _INF)
                np.maximum.at(node_lo, inv, 0.0 if lo is None else lo)
                np.minimum.at(node_hi, inv, _INF if hi is None else hi)
                node_hi[partial] = np.minimum(node_hi[partial], 0.0)
                node_lo[partial] = np.minimum(node_lo[partial], 0.0)
                # in first-seen order, as the columns
                rank = np.argsort(order, kind="stable")
                node_lo, node_hi = node_lo[rank], node_hi[rank]
        self.sink.new_columns(name, range(m), NON_NEGATIVE_REALS, None, special)
        if node_lo is not None:
            cr = range(start, start + m)
            self.sink.col_lo.update(zip(cr, np.maximum(0.0, node_lo).tolist()))
            self.sink.col_hi.update(zip(cr, node_hi.tolist()))
        return SparseOpsVars(heads, h_idx, d.years, t_idx, d.scen, s_idx, cols)

    def set_domain(self, v, domain) -> None:
        """Change the domain of one variable made without explicit bounds (e.g. integer modules)."""
        self.sink.set_domain(v, domain)

    def fix(self, v, value: float) -> None:
        """Fix one variable at ``value`` (stress tests, shadow prices of a MIP)."""
        self.sink.fix(v, value)

    def fix_first_stage(self, v, key: tuple, integer: bool = False) -> None:
        """Fix first-stage variable ``v`` at ``fixed[key]`` (0 when the key is absent: stress tests fix a whole
        plan); a value of None leaves it free (progressive hedging re-optimises stockpile capacity this way)."""
        value = self.fixed.get(key, 0.0)
        if value is not None:
            self.fix(v, round(float(value)) if integer else float(value))

    def add_rows(self, name: str, rows: dict) -> dict:
        """rows: key -> (terms, sense, rhs), sense in '<=', '>=', '=='; returns key -> row handle
        (rows without terms are skipped)."""
        keys = [k for k, (terms, _, _) in rows.items() if terms]
        return self.sink.add_rows(name, keys, rows)

    def set_objective(self, terms: list) -> None:
        """Minimise Σ coef · var."""
        self.sink.set_objective(terms)

    def set_objective_expected(self, weight: dict, extra=()) -> None:
        """Minimise the expected cost: Σ over :attr:`costs` of coef · var, a scenario's terms weighted by
        ``weight[scenario]``, first-stage terms (scenario None) once; plus the (coef, var) terms ``extra``.  The
        direct sink takes it as two arrays rather than a list of one (coef, var) tuple per cost term (48 MiB at
        preset XL)."""
        costs = self.costs
        if hasattr(self.sink, "set_objective_arrays"):
            cols, coefs = costs.objective_arrays(weight)
            if extra:
                cols = np.concatenate([cols, np.fromiter((v for _c, v in extra), dtype=np.int64, count=len(extra))])
                coefs = np.concatenate([coefs, np.fromiter((c for c, _v in extra), dtype=float, count=len(extra))])
            self.sink.set_objective_arrays(cols, coefs)
        else:
            self.sink.set_objective([(coef if s is None else weight[s] * coef, v) for s, _m, _c, coef, v in costs]
                                    + list(extra))

    # ---------------------------------------------------------------- registers
    def balance_add(self, mi, ci, ti, si, cols, coefs) -> None:
        """Balance terms as arrays: coefs[k] · column cols[k] in the balance row of member
        ``self.member_names[mi[k]]``, commodity ``self.commodity_names[ci[k]]`` (indexes from
        :meth:`member_index`, :meth:`commodity_index`), year index ti[k], scenario index si[k]."""
        self.terms_add(self.balance, mi, ci, ti, si, cols, coefs)

    def terms_add(self, reg: KeyedTerms, mi, ci, ti, si, cols, coefs) -> None:
        """Terms as arrays into the register ``reg`` (as :meth:`balance_add`)."""
        n = len(cols)
        as_i = lambda a: np.broadcast_to(np.asarray(a, dtype=np.int64), (n,))
        reg.chunks.append((as_i(mi), as_i(ci), as_i(ti), as_i(si), np.asarray(cols, dtype=np.int64),
                           np.broadcast_to(np.asarray(coefs, dtype=float), (n,))))

    def term_arrays(self, reg: KeyedTerms):
        """Every term of the register ``reg`` as arrays (mi, ci, ti, si, cols, coefs), turning nothing into lists:
        the array chunks in the order they were added, then the terms appended one by one (in key order).  The
        chunks are merged into one on the first read, so later reads cost nothing; the arrays are shared with the
        register: do not change them in place."""
        if len(reg.chunks) > 1:
            reg.chunks = [tuple(np.concatenate([c[i] for c in reg.chunks]) for i in range(6))]
        ch = self.term_chunks(reg)
        if not ch:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z, z, z, np.zeros(0)
        if len(ch) == 1:
            return ch[0]
        return tuple(np.concatenate([c[i] for c in ch]) for i in range(6))

    def term_chunks(self, reg: KeyedTerms) -> list:
        """The register's terms as a list of array chunks (mi, ci, ti, si, cols, coefs), not joined: the chunks as
        added, then one of the terms appended one by one."""
        ch = list(reg.chunks)
        lm, lc, lt, ls, lh, lv = [], [], [], [], [], []
        midx, cidx = self.member_index, self.commodity_index
        tix = self.d.tix
        sidx = self.__dict__.get("_sidx")
        if sidx is None:
            sidx = self.__dict__["_sidx"] = {s: i for i, s in enumerate(self.d.scen)}
        for (m, c, t, s), terms in dict.items(reg):
            if not terms:
                continue
            n = len(terms)
            lm += [midx(m)] * n
            lc += [cidx(c)] * n
            lt += [tix(t)] * n
            ls += [sidx[s]] * n
            lv += [coef for coef, _h in terms]
            lh += [h for _c, h in terms]
        if lh:
            ch.append(tuple(np.asarray(a, dtype=np.int64) for a in (lm, lc, lt, ls)) + (self.sink.columns(lh),
                                                                                         np.asarray(lv, dtype=float)))
        return ch

    def member_index(self, m) -> int:
        ids = self.__dict__.setdefault("_mid", {})
        i = ids.get(m)
        if i is None:
            i = ids[m] = len(ids)
            self.__dict__.setdefault("member_names", []).append(m)
        return i

    def commodity_index(self, c) -> int:
        ids = self.__dict__.setdefault("_cid", {})
        i = ids.get(c)
        if i is None:
            i = ids[c] = len(ids)
            self.__dict__.setdefault("commodity_names", []).append(c)
        return i

    def _flush_terms(self, bal: KeyedTerms) -> None:
        """A register's array chunks -> term lists, chunk by chunk (each let go when done, so the lists and a whole
        second copy of the terms do not coexist), grouped by key; each key's terms keep their order."""
        chunks = bal.chunks
        bal.chunks = []
        chunks.reverse()
        while chunks:
            self._group_terms(chunks.pop(), bal)

    def _group_terms(self, arrays, out) -> None:
        """Terms given as arrays (mi, ci, ti, si, cols, coefs) -> ``out[(m, c, t, s)]`` lists (extended), each key's
        terms in their order."""
        mi, ci, ti, si, cols, coefs = arrays
        if not len(cols):
            return
        mn, cn = self.__dict__.get("member_names", []), self.__dict__.get("commodity_names", [])
        years, scen = self.d.years, self.d.scen
        nC, nT, S = len(cn), len(years), len(scen)
        flat = ((mi * nC + ci) * nT + ti) * S + si
        order = np.argsort(flat, kind="stable")
        f = flat[order]
        starts = np.flatnonzero(np.r_[True, f[1:] != f[:-1]])
        ends = np.r_[starts[1:], len(f)]
        terms = list(zip(coefs[order].tolist(), self.sink.handles(cols[order])))
        u = f[starts]
        del mi, ci, ti, si, cols, coefs, flat, order, f
        for m, c, t, s, a, b in zip((u // (S * nT * nC)).tolist(), (u // (S * nT) % nC).tolist(),
                                    (u // S % nT).tolist(), (u % S).tolist(), starts.tolist(), ends.tolist()):
            out[(mn[m], cn[c], years[t], scen[s])].extend(terms[a:b])

    def terms_by_key(self, reg: KeyedTerms, commodities) -> dict:
        """``(m, c, t, s) -> [(coef, var), ...]`` of the register's terms of the given commodities only (the
        register itself is left as it is)."""
        arrays = self.term_arrays(reg)
        ids = [self._cid[c] for c in commodities if c in self.__dict__.get("_cid", {})]
        keep = np.flatnonzero(np.isin(arrays[1], ids))
        out = defaultdict(list)
        self._group_terms(tuple(a[keep] for a in arrays), out)
        return out

    def var_entries(self, var) -> tuple:
        """Operations variables (keys: head + (year, scenario)) as arrays in key order: (heads, h_idx, t_idx,
        s_idx, cols), the k-th key heads[h_idx[k]] + (years[t_idx[k]], scen[s_idx[k]]) with column cols[k]."""
        if isinstance(var, SparseOpsVars):
            return var.heads, var.h_idx, var.t_idx, var.s_idx, var.cols
        if isinstance(var, OpsVars):
            S, n = len(var.scen), len(var.heads)
            return (var.heads, np.repeat(np.arange(n, dtype=np.int64), S), np.repeat(var.t_idx, S),
                    np.tile(np.arange(S, dtype=np.int64), n), var.cols)
        sidx = {s: i for i, s in enumerate(self.d.scen)}
        tix = self.d.tix
        keys = list(var)
        heads, h_idx, hid = [], [], {}
        for k in keys:
            h = k[:-2]
            i = hid.get(h)
            if i is None:
                i = hid[h] = len(heads)
                heads.append(h)
            h_idx.append(i)
        return (heads, np.asarray(h_idx, dtype=np.int64), np.array([tix(k[-2]) for k in keys], dtype=np.int64),
                np.array([sidx[k[-1]] for k in keys], dtype=np.int64), self.cols_of(var))

    def var_arrays(self, var) -> tuple:
        """Variables keyed (m, c, t, s) as arrays (mi, ci, ti, si, cols), in key order (indexes as
        :meth:`balance_add`'s)."""
        heads, h_idx, t_idx, s_idx, cols = self.var_entries(var)
        hm = np.array([self.member_index(h[0]) for h in heads], dtype=np.int64)
        hc = np.array([self.commodity_index(h[1]) for h in heads], dtype=np.int64)
        return hm[h_idx], hc[h_idx], t_idx, s_idx, cols

    def cols_of(self, var: dict) -> np.ndarray:
        """Column numbers of a block's handles, in the block's key order."""
        if isinstance(var, OpsVars):
            return var.cols
        return self.sink.columns(list(var.values()))

    def add_cost_arrays(self, scen_idx, members, category, coefs, cols) -> None:
        """Cost terms as arrays (:meth:`CostTerms.add_arrays`; scenario indexes into ``d.scen``, -1 first stage;
        ``cols`` column numbers, turned into the sink's handles when the terms are read as tuples)."""
        self.costs.add_arrays(scen_idx, members, category, coefs, cols)

    def cost(self, s, member, category, coef, var):
        if coef != 0.0:
            self.costs.append((s, member, category, coef, var))

    def first_stage_cost(self) -> dict:
        """key_of(variable) -> {category: MUSD per unit} of its first-stage cost terms (made once)."""
        out = self.__dict__.get("_first_cost")
        if out is None:
            out = defaultdict(lambda: defaultdict(float))
            for s, _m, cat, coef, var in self.costs:
                if s is None:
                    out[key_of(var)][cat] += coef
            self.__dict__["_first_cost"] = out
        return out

    def cost_by_var(self, category: str) -> dict:
        """(scenario, key_of(variable)) -> MUSD per unit of the scenario cost terms of ``category``."""
        out = defaultdict(float)
        for s, _m, cat, coef, var in self.costs:
            if cat == category:
                out[(s, key_of(var))] += coef
        return out

    def slack_vars(self, name: str, infos: dict, unit_penalty: float = ELASTIC_PENALTY, ops: bool = False):
        """Elastic slack variables (one per key of ``infos``), each penalised and described by its Slack.
        ``ops``: keys end in (year, scenario) and follow the scenario tree like operations."""
        v = self.var(f"elastic_{name}", list(infos), ops=ops)
        seen = set()
        for k, info in infos.items():
            self.slacks.append((v[k], info))
            kk = key_of(v[k])
            if kk in seen:  # an aliased slack is penalised once per node, as any first-stage-like term
                continue
            seen.add(kk)
            self.costs.append((None, info.member, "elastic_penalty", unit_penalty, v[k]))
        return v


# ---------------------------------------------------------------------------------------- reporting helpers
TOL = 1e-7


def tidy(x: float) -> float:
    """0 for solver noise below TOL, else x."""
    return 0.0 if abs(x) < TOL else x


def column_values(ctx: Ctx, sol, cols) -> np.ndarray:
    """The solution's values of the sink's columns ``cols`` (0 without a solution)."""
    cols = np.asarray(cols, dtype=np.int64)
    if sol.x is not None and sol.col_of is None:  # direct hand-off: handles are columns
        return np.asarray(sol.x, dtype=float)[cols]
    xval = sol.value_of()
    return np.fromiter((xval(v) for v in ctx.sink.handles(cols)), dtype=float, count=len(cols))


def scenario_weights(ctx: Ctx, sol) -> np.ndarray:
    """Weight w_s of each scenario's cost in the objective: π_s when risk-neutral; under CVaR
    (1 − λ) π_s + μ_s, μ_s the dual of the scenario's CVaR excess row (Σ_s w_s = 1)."""
    d = ctx.d
    w = np.asarray(d.prob, dtype=float).copy()
    lam = float(d.settings.get("risk_aversion") or 0.0)
    if lam > 0 and ctx.cvar_rows:
        mu = np.array([abs(sol.dual(ctx.cvar_rows[si])) if si in ctx.cvar_rows else 0.0 for si in range(d.S)])
        if np.isfinite(mu).all():
            w = (1.0 - lam) * w + mu
    return w


def node_prices(ctx: Ctx, sol, rows: dict, weights: np.ndarray) -> dict:
    """Shadow prices in USD per unit, undiscounted, in each scenario's own terms, from the duals of
    ``rows`` (key ending in (year, scenario) -> row).  Rows of scenarios that share a node of the
    scenario tree share the price of the node: Σ duals / (Σ w_s · δ_t) over the node (the duals of
    identical rows of one node split arbitrarily; their sum does not)."""
    d = ctx.d
    sidx = {s: i for i, s in enumerate(d.scen)}
    tree = d.tree
    num, den = defaultdict(float), defaultdict(float)
    node = {}
    for k, row in rows.items():
        t, s = k[-2], k[-1]
        ti, si = d.tix(t), sidx[s]
        rep = int(tree[ti, si]) if tree is not None else si
        nk = k[:-1] + (rep,)
        node[k] = nk
        du = sol.dual(row)
        num[nk] += du if du == du else float("nan")
        den[nk] += weights[si] * d.delta[ti]
    return {k: (num[nk] / (den[nk] * MUSD) if den[nk] > 0 else float("nan")) for k, nk in node.items()}
