"""Decomposition by scenario: progressive hedging with mpi-sppy (issue 5, item 4).

``planner solve FILE --decompose ph`` solves the two-stage problem scenario by
scenario instead of as one extensive form (EF, :mod:`planner.workflows.run`):

1. **Scenario models.** One Pyomo model per scenario, built by planner's own
   families: ``build(prepare(inp, scenario=s), direct=False)`` is scenario s
   alone with probability 1, so its objective is cost_s (with risk aversion
   (1 − λ) cost_s + λ (η + ξ_s / (1 − α))); mpi-sppy weights it by π_s
   (``_mpisppy_probability``).  The first stage (nonanticipative variables) is
   what ``solve_file(fixed=...)`` fixes: modules built, stockpile capacity
   built, offtakes signed, plus the CVaR threshold η when λ > 0 (η is chosen
   before the scenario is known; with it in the first stage
   Σ_s π_s [(1 − λ) cost_s + λ (η + ξ_s / (1 − α))] is the EF objective).
   No family links scenarios other than through these variables and the
   scenario tree (budgets, security targets, take-or-pay and stock rules are
   all per scenario; see docs/decomposition.md), so every valid input
   decomposes exactly.
   **Scenario tree** (SPEC §3 "Information", :func:`ph_tree`): where
   scenarios share operations beyond the first stage (``ModelData.tree``),
   mpi-sppy gets a multi-stage tree: ROOT holds the first stage, then one
   stage per model year while two scenarios still share a node; the node of
   year t holds the operations of year t (the keys of any of its scenarios;
   one a scenario lacks is fixed at 0 there, as in the extensive form).  A
   trivial tree (every scenario its own node from the first year) is the
   plain two-stage model above.
2. **Progressive hedging** (``mpisppy.opt.ph.PH``; serial, or one scenario
   group per MPI rank under ``mpiexec``): iteration 0 solves each scenario on
   its own (wait-and-see); Σ_s π_s of those optima is a valid lower bound
   (the *trivial bound*).  Each later iteration averages the first-stage
   decisions (x̄), moves the prices W_s += ρ (x_s − x̄) and re-solves every
   scenario with W_s·x and the proximal term ρ/2 ‖x − x̄‖² in its objective.
   HiGHS solves no MIQP, so the proximal term is linearised (mpi-sppy's
   outer approximation; exact for binaries).  ρ is cost-proportional and
   scale-aware (:class:`CostRho`), times ``--ph-rho``.  After the last
   iteration the W-weighted scenario problems are solved once more without
   the proximal term: the *Lagrangian bound*, also valid; the reported lower
   bound is the larger of the two.
3. **Evaluation.** The consensus first stage x̄ (integer decisions rounded,
   see :func:`round_plan`) is fixed and the full problem solved by
   :func:`planner.workflows.run.solve_file` — the results workbook is the usual one,
   its objective the exact expected cost of that plan (an upper bound), and
   the summary adds the method, PH iterations, convergence, the lower bound,
   the gap between the two and the time in PH.  If PH stopped before the
   scenarios agreed and the average falls short in some scenario, the agreed
   integer decisions are evaluated with stockpile capacity re-optimised over
   all scenarios (:func:`reoptimised`), then the largest module builds any
   scenario chose (:func:`largest_plan`),
   and the message says what the average lacked; if that cannot be operated
   either, solve_file's elastic explanation says what would have to give.

On mixed-integer models PH is a heuristic: it need not converge, and the
evaluated plan need not be optimal; the gap to the lower bound says how far
from optimal it can be at most.
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from planner.common.problems import PlannerError
from planner.input.load import load
from planner.input.reader import InputData
from planner.input.validate import scenario_names
from planner.model.build import build
from planner.model.context import lin
from planner.model.prepare import _nn, prepare
from planner.solver.highs import PYOMO_SOLVER, pyomo_solver_options
from planner.workflows.run import (
    Outcome,
    explain_infeasible,
    infeasibility_message,
    solve_file,
    solve_model,
    unbounded_hint,
)

log = logging.getLogger("planner")

with contextlib.redirect_stdout(io.StringIO()):  # mpi-sppy prints a banner on import
    import mpisppy.MPI as mpi
    from mpisppy.convergers.converger import Converger
    from mpisppy.extensions.extension import Extension
    from mpisppy.opt.ph import PH
    from mpisppy.utils import sputils
    from mpisppy.utils.prox_approx import ProxApproxManagerContinuous

def rank() -> int:
    """This process's MPI rank (0 without MPI: mpi-sppy's stand-in communicator)."""
    return mpi.COMM_WORLD.Get_rank()


def _info(*args) -> None:
    """Progress at INFO, from rank 0 only (under mpiexec every rank runs the same code)."""
    if rank() == 0:
        log.info(*args)


# --------------------------------------------------------------------------- defaults and limits
DEFAULT_ITERATIONS = 50
DEFAULT_RHO = 1.0
DEFAULT_TOL = 1e-3
PROX_TOL = 1e-3  # mpi-sppy's proximal_linearization_tolerance (its default 1e-1 stalled PH on our LPs)
FIRST_STAGE = ("build", "stock_build", "signed")  # the kinds of solve_file's ``fixed`` keys


@dataclass
class PHResult:
    plan: dict                 # fixed key -> value to fix (integers rounded), what solve_file(fixed=) takes
    xbar: dict                 # fixed key -> consensus value before rounding
    iterations: int
    convergence: float         # disagreement(): largest relative disagreement between scenarios (0: agreed)
    converged: bool
    trivial_bound: float       # MUSD: Σ_s π_s (scenario s solved alone)
    lagrangian_bound: float    # MUSD: with the final W, without proximal term (nan if not computed)
    seconds: float
    n_first_stage: int
    rounded: list = field(default_factory=list)  # keys whose consensus was not integral
    ranks: int = 1             # MPI ranks PH ran on
    largest: dict | None = None  # the largest module builds any scenario chose (largest_plan)
    tree: str = ""             # the scenario tree PH used, in words (tree_summary)
    invalid_bound: float = float("nan")  # a Lagrangian bound dropped by check_bound (above the plan's cost)
    failed: str = ""           # "iteration k: scenarios": the last scenario solves with PH's terms that failed
    n_failed: int = 0          # scenario solves that failed in PH iterations (PH went on with their old values)
    stopped: bool = False      # PH stopped because they kept failing (Convergence)

    @property
    def bound(self) -> float:
        vals = [b for b in (self.trivial_bound, self.lagrangian_bound) if not math.isnan(b)]
        return max(vals) if vals else float("nan")


# --------------------------------------------------------------------------- the scenario tree (SPEC §3)
OPS = (("Q", "production"), ("I", "imports"), ("D", "deliveries"), ("U", "stock_fill"), ("W", "stock_draw"),
       ("X", "exports"), ("V", "disposal"), ("H", "shortage"), ("F", "flows"))
"""The operation variables of :class:`planner.model.context.Ctx` (keys ending in (year, scenario)) that
``ctx.var(..., ops=True)`` aliases per node of the scenario tree in the extensive form, less the stock level L:
L_t = (1 − loss) L_{t−1} + U_t − W_t from the same initial stock in every scenario, and a node's years are
shared by all earlier years' nodes (the tree only splits), so where the fills and draws agree so do the levels
(one nonanticipative variable fewer per stockpile and year, and PH's scenario solves get harder with each)."""


@dataclass
class Node:
    name: str                  # mpi-sppy's name: ROOT_i_j... (ROOT is the first stage)
    year: int                  # the model year whose operations the node holds
    ti: int                    # its index in d.years
    scenarios: list            # the scenarios sharing it, in tree order
    prob: float                # Σ π_s over them
    cond_prob: float           # prob / the parent's prob
    parent: str
    keys: list = field(default_factory=list)  # (field, key without (year, scenario)) in any of its scenarios


@dataclass
class PHTree:
    """The multi-stage scenario tree mpi-sppy gets: ROOT (the first stage: builds, stockpile capacity,
    signings, η), then one stage per model year up to the last year in which two scenarios still share a
    node (``stages`` years); each year node holds that year's operations, shared by its scenarios.  After
    the last shared year every scenario is on its own (its leaf)."""

    order: list                # scenario names in tree order (each node's scenarios contiguous)
    nodes: dict                # name -> Node (year nodes only)
    path: dict                 # scenario -> [node names of years 0 .. stages-1]
    leaves: dict               # scenario -> its leaf's name
    stages: int                # number of year stages (≥ 1)
    width: list                # per year stage: the number of nonanticipative variables of every node

    @property
    def all_nodenames(self) -> list:
        return ["ROOT"] + list(self.nodes) + [self.leaves[s] for s in self.order]

    @property
    def shared_nodes(self) -> int:
        """Year nodes shared by two scenarios or more (where PH enforces non-anticipativity of operations)."""
        return sum(len(n.scenarios) > 1 for n in self.nodes.values())


def ph_tree(d, inp: InputData | None = None) -> PHTree | None:
    """The tree of ``d`` (``prepare(inp)``, ``d.tree``) as mpi-sppy's multi-stage tree, or None where it is
    trivial: every scenario its own node from the first year (foresight beyond the horizon, or data that differ
    in the first year) — the plain two-stage model.  With ``inp`` the nodes' operation keys are filled in
    (:func:`_node_keys`)."""
    rep = d.tree
    if rep is None or d.S < 2 or len(set(rep[0].tolist())) == d.S:
        return None
    scen, nT = list(d.scen), d.nT
    shared = [ti for ti in range(nT) if len(set(rep[ti].tolist())) < d.S]
    stages = max(shared) + 1
    for ti in range(1, stages):  # the groups only split as the years pass (tree.py); a merge is a bug
        for a in range(d.S):
            for b in range(d.S):
                if rep[ti, a] == rep[ti, b] and rep[ti - 1, a] != rep[ti - 1, b]:
                    raise PlannerError(f"the scenario tree joins '{scen[a]}' and '{scen[b]}' again in "
                                       f"{d.years[ti]}: --decompose ph needs a tree")
    order = sorted(range(d.S), key=lambda si: tuple(int(rep[ti, si]) for ti in range(stages)) + (si,))
    prob = dict(zip(scen, map(float, d.prob)))
    nodes, path, leaves = {}, {s: [] for s in scen}, {}
    kids = {"ROOT": 0}
    by_group = {}  # (ti, rep) -> node name
    for si in order:
        s = scen[si]
        parent, pprob = "ROOT", 1.0
        for ti in range(stages):
            g = (ti, int(rep[ti, si]))
            name = by_group.get(g)
            if name is None:
                name = f"{parent}_{kids[parent]}"
                kids[parent] += 1
                kids[name] = 0
                members = [scen[j] for j in order if (ti, int(rep[ti, j])) == g]
                p = sum(prob[x] for x in members)
                nodes[name] = Node(name, d.years[ti], ti, members, p, p / pprob if pprob > 0 else 0.0, parent)
                by_group[g] = name
            path[s].append(name)
            parent, pprob = name, nodes[name].prob
        leaves[s] = f"{parent}_{kids[parent]}"
        kids[parent] += 1
    tr = PHTree(order=[scen[si] for si in order], nodes=nodes, path=path, leaves=leaves, stages=stages,
                width=[0] * stages)
    if inp is not None:
        _node_keys(tr, inp)
    return tr


def _node_keys(tr: PHTree, inp: InputData) -> None:
    """Each year node's operation keys: the union over its scenarios of the keys of that year in each scenario's
    own model (a direct build, as fast as the solve path's; the scenario models PH solves are built the same
    way).  A key some scenario of the node lacks is 0 there, so PH makes it 0 in all of them — as the extensive
    form does (planner.model.context: "the shared decision must work in every scenario of the node")."""
    have = {}
    for s in tr.order:
        ctx = build(prepare(inp, scenario=s), elastic=False, direct=True)
        have[s] = {f: list(getattr(ctx, f)) for f, _ in OPS}
    for n in tr.nodes.values():
        seen = {}
        for s in n.scenarios:
            for f, _ in OPS:
                for k in have[s][f]:
                    if k[-2] == n.year:
                        seen.setdefault((f, k[:-2]), None)
        n.keys = list(seen)
        tr.width[n.ti] = max(tr.width[n.ti], len(n.keys))


def attach_tree(m, ctx, sname: str, tr: PHTree, first_cost, varlist: list) -> None:
    """Scenario ``sname``'s path through the tree as mpi-sppy's ``_mpisppy_node_list``: ROOT with the first
    stage, then per year stage its node with that year's operations in the node's key order.  A key this scenario
    lacks, and the padding that gives every node of a stage the same number of variables (mpi-sppy's rule), are
    variables fixed at 0."""
    from mpisppy.scenario_tree import ScenarioNode

    nodes = [ScenarioNode("ROOT", 1.0, 1, first_cost, varlist, m)]
    missing = sum(tr.width)
    m.ph_zero = pyo.Var(range(missing), bounds=(0.0, 0.0), initialize=0.0, dense=True)
    zeros = iter(m.ph_zero.values())
    for stage, name in enumerate(tr.path[sname]):
        n = tr.nodes[name]
        lst = []
        for f, k in n.keys:
            v = getattr(ctx, f).get(k + (n.year, sname))
            lst.append(v if v is not None else next(zeros))
        lst += [next(zeros) for _ in range(tr.width[stage] - len(lst))]
        nodes.append(ScenarioNode(name, n.cond_prob, stage + 2, 0.0, lst, m, parent_name=n.parent))
    for z in m.ph_zero.values():
        z.fix(0.0)
    m._mpisppy_node_list = nodes


# --------------------------------------------------------------------------- scenario models
def check_decomposable(inp: InputData, path: str) -> None:
    """One-line refusal for inputs the decomposition cannot (or need not) handle."""
    n = len(scenario_names(inp))
    if n < 2:
        raise PlannerError(f"{path}: --decompose ph needs at least two scenarios (sheet 'scenarios' has {n}); "
                           "solve it without --decompose")


def scenario_creator(sname: str, inp: InputData, probs: dict, tree: PHTree | None = None):
    """Scenario ``sname`` alone as a Pyomo model (planner's families), with its probability and root node; with
    ``tree`` (:func:`ph_tree`) its path through the multi-stage scenario tree (:func:`attach_tree`)."""
    d = prepare(inp, scenario=sname)
    ctx = build(d, elastic=False, direct=False)
    if ctx.structural:  # infeasible before solving (e.g. a demand nothing can supply): explained by the caller
        raise ScenarioFailed([sname])
    m = ctx.m
    keys = [("build",) + k for k in ctx.B] + [("stock_build",) + k for k in ctx.K] + [("signed", o) for o in ctx.Z]
    varlist = list(ctx.B.values()) + list(ctx.K.values()) + list(ctx.Z.values())
    if hasattr(m, "cvar_eta"):  # CVaR threshold η: first stage, not a plan decision
        keys.append(("cvar_eta",))
        varlist.append(m.cvar_eta[0])
    m.first_stage_cost = pyo.Expression(expr=lin([(coef, v) for s, _m, _c, coef, v in ctx.costs if s is None]))
    if tree is None:
        sputils.attach_root_node(m, m.first_stage_cost, varlist)
    else:
        attach_tree(m, ctx, sname, tree, m.first_stage_cost, varlist)
    m._mpisppy_probability = probs[sname]
    m._planner_keys = keys
    m._planner_limits = first_stage_limits(d, keys)
    return m


def first_stage_limits(d, keys: list) -> list:
    """The first stage's own constraints as [(keys, limit), ...]: Σ_y B_py ≤ max_modules_p and
    Σ_y K_mcy ≤ max_capacity_t − existing_capacity_t (the only rows with first-stage variables alone)."""
    out = []
    for p in d.processes:
        mm = _nn(p["max_modules"])
        ks = [k for k in keys if k[0] == "build" and k[1] == p["process"]]
        if mm is not None and ks:
            out.append((ks, float(mm)))
    for sp in d.stockpiles:
        mx = _nn(sp["max_capacity_t"])
        ks = [k for k in keys if k[0] == "stock_build" and k[1:3] == (sp["member"], sp["commodity"])]
        if mx is not None and ks:
            out.append((ks, float(mx) - float(sp["existing_capacity_t"] or 0.0)))
    return out


# --------------------------------------------------------------------------- rho and convergence
def _allreduce(ph, arr: np.ndarray, op) -> np.ndarray:
    out = np.zeros_like(arr)
    ph.comms["ROOT"].Allreduce(arr, out, op=op)
    return out


@dataclass
class Layout:
    """Every nonanticipative variable of the tree at one *global position*: the first stage (ROOT) at 0 … n0 − 1,
    then each year node's variables in turn.  A scenario's nonants (mpi-sppy's order: its nodes from ROOT down)
    sit at ``pos[scenario]``; ``prob[i]`` is the probability of position i's node (1 at ROOT), so
    x̄_i = Σ_{s in node} π_s x_si / prob_i.  ``hedged[i]``: the node has two scenarios or more (PH's W and
    proximal term act there; a node with one scenario, or a padding variable, needs neither)."""

    n0: int
    prob: np.ndarray
    hedged: np.ndarray
    pos: dict
    node: np.ndarray           # per position: its year node's number (-1 at ROOT)


def layout(ph, tr: PHTree | None) -> Layout:
    first = next(iter(ph.local_scenarios.values()))
    n0 = first._mpisppy_data.nlens["ROOT"]
    prob, hedged, node, offset = [np.ones(n0)], [np.ones(n0, dtype=bool)], [np.full(n0, -1)], {"ROOT": 0}
    at = n0
    for j, (name, n) in enumerate(tr.nodes.items() if tr is not None else ()):
        w = tr.width[n.ti]
        offset[name] = at
        at += w
        prob.append(np.full(w, n.prob))
        hedged.append(np.full(w, len(n.scenarios) > 1))
        node.append(np.full(w, j))
    pos = {}
    for sname, s in ph.local_scenarios.items():
        pos[sname] = np.array([offset[ndn] + i for ndn, i in s._mpisppy_data.nonant_indices], dtype=int)
    return Layout(n0=n0, prob=np.maximum(np.concatenate(prob), 1e-300), hedged=np.concatenate(hedged), pos=pos,
                  node=np.concatenate(node))


def _scattered(ph):
    """(layout, [(π_s, positions, values)] of the local scenarios)."""
    lay = ph._planner_layout
    out = []
    for sname, s in ph.local_scenarios.items():
        x = np.array([v._value if v._value is not None else 0.0 for v in s._mpisppy_data.nonant_indices.values()])
        out.append((s._mpisppy_probability, lay.pos[sname], x))
    return lay, out


def _nonant_stats(ph):
    """Across all scenarios (all ranks), per global position (:class:`Layout`): x̄ (the node's probability-weighted
    mean), Σ π |x − x̄| / P(node), max x and min x."""
    lay, loc = _scattered(ph)
    N = len(lay.prob)
    acc, hi, lo = np.zeros(N), np.full(N, -np.inf), np.full(N, np.inf)
    for p, pos, x in loc:
        acc[pos] += p * x
        hi[pos] = np.maximum(hi[pos], x)
        lo[pos] = np.minimum(lo[pos], x)
    xbar = _allreduce(ph, acc, mpi.SUM) / lay.prob
    dv = np.zeros(N)
    for p, pos, x in loc:
        dv[pos] += p * np.abs(x - xbar[pos])
    dev = _allreduce(ph, dv, mpi.SUM) / lay.prob
    return xbar, dev, _allreduce(ph, hi, mpi.MAX), _allreduce(ph, lo, mpi.MIN)


def _cost_weights(ph) -> np.ndarray:
    """|c_i|: each nonanticipative variable's objective coefficient (MUSD per module, tonne, contract; the largest
    over the scenarios), those without a cost given the median of the others of their kind (first stage,
    operations)."""
    lay = ph._planner_layout
    c = np.zeros(len(lay.prob))
    for sname, s in ph.local_scenarios.items():
        cc = sputils.nonant_cost_coeffs(s)
        pos = lay.pos[sname]
        c[pos] = np.maximum(c[pos], np.abs(np.array([cc[k] for k in s._mpisppy_data.nonant_indices])))
    c = _allreduce(ph, c, mpi.MAX)
    out = c.copy()
    for part in (slice(0, lay.n0), slice(lay.n0, len(c))):
        cp = c[part]
        pos = cp[cp > 0]
        out[part] = np.where(cp > 0, cp, float(np.median(pos)) if len(pos) else 1.0)
    return out


def disagreement(ph) -> float:
    """The convergence metric: the largest disagreement between scenarios on any nonanticipative decision,
    Σ_s π_s |x_si − x̄_i| / P(node) over the scale of the decision.  A first-stage decision's scale is its own
    size, max(1, |x̄_i|) (relative, absolute below one unit: one module, tonne or contract); 0 when every scenario
    chose the same first stage.  (mpi-sppy's own metric, an unscaled mean over tonnes, modules and contracts
    alike, is off.)  Not weighted by cost: a cheap decision (stockpile capacity) may still be the one a security
    target needs, so every decision must agree.  An operation's scale is the largest operation of its node (in
    tonnes, at least 1): operations that cost nothing to move (a fill and a draw in the same year) may wander by
    a fraction of a tonne between iterations without meaning anything, and the operations are not what PH
    hands on (the plan is evaluated with the operations re-optimised on the tree)."""
    xbar, dev, _, _ = _nonant_stats(ph)
    return _disagreement(xbar, dev, ph._planner_layout)


def _disagreement(xbar, dev, lay: Layout | None = None) -> float:
    if not len(xbar):
        return 0.0
    scale = np.maximum(1.0, np.abs(xbar))
    if lay is not None and (lay.node >= 0).any():
        ops = lay.node >= 0
        big = np.zeros(int(lay.node.max()) + 1)
        np.maximum.at(big, lay.node[ops], np.abs(xbar[ops]))
        scale[ops] = np.maximum(1.0, big[lay.node[ops]])
    return float(np.max(dev / scale))


class CostRho(Extension):
    """ρ per first-stage variable from its cost and from how far the scenarios disagree after iteration 0
    (the SEP rule of Watson & Woodruff 2011): ρ_i = R · |c_i| / max(1, Σ_s π_s |x_si − x̄_i|) for a continuous
    variable, R · |c_i| / (max_s x_si − min_s x_si + 1) for an integer one, with |c_i| from
    :func:`_cost_weights` and R = ``--ph-rho``.  One W step is then about one unit's cost, whatever the unit:
    tonnes of stockpile and modules converge alike.  The same ρ in every scenario (computed from figures over
    all scenarios), as PH requires."""

    def post_iter0(self):
        ph = self.opt
        lay = ph._planner_layout
        c = _cost_weights(ph)
        _xbar, dev, xmax, xmin = _nonant_stats(ph)
        integer = np.zeros(len(lay.prob))
        for sname, s in ph.local_scenarios.items():
            integer[lay.pos[sname]] = [v.is_integer() or v.is_binary()
                                       for v in s._mpisppy_data.nonant_indices.values()]
        integer = _allreduce(ph, integer, mpi.MAX) > 0
        rho = ph.options["planner_rho"] * np.where(integer, c / (xmax - xmin + 1.0), c / np.maximum(1.0, dev))
        # a node of one scenario (or padding): x = x̄ always, nothing to hedge; mpi-sppy needs ρ > 0
        rho = np.where(lay.hedged, rho, 1e-6 * rho)
        for sname, s in ph.local_scenarios.items():
            for r, k in zip(rho[lay.pos[sname]], s._mpisppy_data.nonant_indices):
                s._mpisppy_model.rho[k]._value = float(r)


def cut_at_xbar(ph) -> None:
    """A cut of the linearised proximal term at x̄ itself, for every continuous nonanticipative variable (before
    a solve, x̄ and W updated).  mpi-sppy's own cuts come in pairs mirrored about x̄, so the approximation of
    (x − x̄)² has a kink at x̄ whose subgradient can hold every scenario there while the prices W are not yet
    balanced; with the tangent at x̄ the approximation is flat there, and a scenario stays at x̄ only if x̄ is
    (nearly) its own best choice."""
    if not getattr(ph, "_prox_approx", False):
        return
    for s in ph.local_scenarios.values():
        persistent = s._solver_plugin if sputils.is_persistent(s._solver_plugin) else None
        for mgr in s._mpisppy_data.xsqvar_prox_approx.values():
            if isinstance(mgr, ProxApproxManagerContinuous) and not mgr.xvar.fixed:
                mgr.add_cut(mgr.xbar.value, ph.prox_approx_tol, persistent)


class Convergence(Converger):
    """Stop when the scenarios' disagreement (:func:`disagreement`) is below ``--ph-tol`` in two consecutive
    iterations, the second one *verified*.

    Once is not enough: HiGHS solves no quadratic, so the proximal term is an outer approximation whose cuts
    (mpi-sppy adds one at each solution and one mirrored about x̄) put a kink at x̄.  The kink helps PH agree
    exactly, but it can also hold every scenario at x̄ while the prices W are not yet balanced (seen on a
    one-stockpile case: both scenarios at the average 50 t, the optimum 100 t, 1.5 % above it).  So the first
    time the scenarios agree, the next solve gets a tangent at x̄ (:func:`cut_at_xbar`): the kink is gone, a
    scenario that only sat there moves (and PH goes on), one that is at its best stays (and PH stops)."""

    def __init__(self, ph):
        super().__init__(ph)
        self.ph = ph
        self.below = 0
        self.fails = 0  # iterations running in which a scenario solve failed

    def is_converged(self):
        failed = [k for k, sc in self.ph.local_scenarios.items()
                  if not getattr(sc._mpisppy_data, "solution_available", True)]
        nfail = _allreduce(self.ph, np.array([float(len(failed))]), mpi.SUM)[0]
        if nfail > 0:
            # mpi-sppy goes on with a failed scenario's old values.  HiGHS may fail a scenario solve with the
            # proximal cuts ("infeasible or unbounded") and a later iteration be fine (seen on the generator's tiny
            # network with 3 scenarios on a tree: one scenario in iterations 1-2, then PH reached the optimum);
            # (its old values then stand in; counted in the summary).  Every scenario failing at once, PH has
            # nothing more to say: stop
            self.fails += 1
            self.ph._planner_failed = (self.ph._PHIter - 1, failed)
            self.ph._planner_nfailed = getattr(self.ph, "_planner_nfailed", 0) + int(nfail)
            _info("PH iteration %d: %d scenario solve(s) failed (%s)", self.ph._PHIter - 1, int(nfail),
                  ", ".join(failed) or "on another MPI rank")
            if nfail >= len(self.ph.all_scenario_names):
                self.ph._planner_stopped = True
                _info("PH stops: scenario solves keep failing")
                return True
        else:
            self.fails = 0
        self.conv = disagreement(self.ph)
        _info("PH iteration %d: convergence %.3g (target %.3g), %.1f s", self.ph._PHIter, self.conv,
              self.ph.options["planner_tol"], time.perf_counter() - self.ph.start_time)
        self.below = self.below + 1 if self.conv < self.ph.options["planner_tol"] else 0
        if self.below == 1:
            cut_at_xbar(self.ph)  # verify the agreement without the kink at x̄
        return self.below >= 2


class _LogLines(io.TextIOBase):
    """mpi-sppy's prints go to the planner logger at DEBUG level (the terminal stays quiet)."""

    def write(self, s):
        for line in s.splitlines():
            if line.strip():
                log.debug("mpi-sppy: %s", line.rstrip())
        return len(s)


# --------------------------------------------------------------------------- PH
def ph_options(settings: dict, iterations: int, rho: float, tol: float) -> dict:
    sopts = pyomo_solver_options(settings)
    return {
        "solver_name": PYOMO_SOLVER,
        "PHIterLimit": int(iterations),
        "defaultPHrho": 1.0,         # replaced by CostRho after iteration 0
        "convthresh": 0.0,           # mpi-sppy's unscaled metric off: Convergence decides
        "verbose": False,
        "display_progress": False,
        "display_timing": False,
        "toc": False,
        "linearize_proximal_terms": True,          # HiGHS: no MIQP; outer approximation of (x − x̄)²
        "linearize_binary_proximal_terms": True,   # x² = x for binaries (exact)
        "proximal_linearization_tolerance": PROX_TOL,
        "solver_options_layers": [sputils.solver_options_layer("default", sopts)],
        "time_limit": float(settings["time_limit_s"]),
        "planner_rho": float(rho),
        "planner_tol": float(tol),
    }


def run_ph(inp: InputData, iterations: int = DEFAULT_ITERATIONS, rho: float = DEFAULT_RHO,
           tol: float = DEFAULT_TOL, lagrangian: bool = True) -> PHResult:
    """Progressive hedging on ``inp``'s scenarios; returns the consensus plan and the bounds."""
    t0 = time.perf_counter()
    d = prepare(inp)  # the scenarios and probabilities exactly as the extensive form has them
    names, probs = list(d.scen), dict(zip(d.scen, map(float, d.prob)))
    tree = ph_tree(d, inp)  # None: the plain two-stage model (every scenario its own node from the first year)
    opts = ph_options(inp.settings, iterations, rho, tol)
    if tree is not None:
        names = tree.order  # mpi-sppy assigns scenarios to the leaves in this order
        # a node's variables are aligned by key (attach_tree), not by Pyomo name: "imports[3]" of one scenario
        # model is "imports[2]" of another where their key lists differ
        opts["turn_off_names_check"] = True
    with contextlib.redirect_stdout(_LogLines()), warnings.catch_warnings():
        # mpi-sppy divides by the number of first-stage variables in its own (unused) metric: 0/0 without any
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        ph = PH(opts, names, scenario_creator, scenario_creator_kwargs={"inp": inp, "probs": probs, "tree": tree},
                all_nodenames=tree.all_nodenames if tree is not None else None,
                extensions=CostRho, ph_converger=Convergence)
        ph._planner_layout = layout(ph, tree)
        first = next(iter(ph.local_scenarios.values()))
        if tree is None:
            _info("PH: %d scenarios, %d first-stage variables, %d MPI rank(s)", len(names),
                  len(first._mpisppy_data.nonant_indices), ph.n_proc)
        else:
            _info("PH: %d scenarios, %d first-stage variables; scenario tree of %d year stage(s), %d shared "
                  "node(s), %d nonanticipative operation variables per scenario; %d MPI rank(s)", len(names),
                  ph._planner_layout.n0, tree.stages, tree.shared_nodes, sum(tree.width), ph.n_proc)
        try:
            _conv, _eobj, trivial = ph.ph_main(finalize=False)
        except RuntimeError as e:  # mpi-sppy: "Infeasibility detected" (a scenario without solution, any rank)
            failed = [k for k, s in ph.local_scenarios.items()
                      if not getattr(s._mpisppy_data, "solution_available", True)]
            if failed or ph.n_proc > 1:
                raise ScenarioFailed(failed) from e
            raise
        _info("PH: trivial bound (scenarios alone) %.6g MUSD", trivial)
        its = ph._PHIter
        stopped = getattr(ph, "_planner_stopped", False)
        failed_at = getattr(ph, "_planner_failed", None)
        if stopped:
            lagrangian = False  # the same scenarios would fail again
        xbar, dev, xmax, _xmin = _nonant_stats(ph)  # of the last solves (mpi-sppy's x̄ predates them)
        conv = _disagreement(xbar, dev, ph._planner_layout)
        lag = float("nan")
        if lagrangian and its > 0:
            lag = float(ph.post_solve_bound(solver_options=pyomo_solver_options(inp.settings)))
            # a scenario solve that failed (with the final prices W and no proximal term a scenario can be
            # unbounded: W on an operation without limit, say) leaves mpi-sppy's stale bound of an earlier solve
            failed = np.array([float(not getattr(sc._mpisppy_data, "solution_available", True))
                               for sc in ph.local_scenarios.values()])
            if _allreduce(ph, np.array([failed.max(initial=0.0)]), mpi.MAX)[0] > 0:
                _info("PH: no Lagrangian bound (a scenario could not be solved with the final prices: unbounded or "
                      "out of time); the trivial bound stands")
                lag = float("nan")
            else:
                _info("PH: Lagrangian bound %.6g MUSD", lag)
    keys = first._planner_keys
    n0 = len(keys)  # the first stage: ROOT's variables, the first n0 global positions
    xbar, xmax = xbar[:n0], xmax[:n0]
    integer = [v.is_integer() or v.is_binary() for v in list(first._mpisppy_data.nonant_indices.values())[:n0]]
    plan, rounded = round_plan(keys, xbar, integer, first._planner_limits)
    largest = largest_plan(plan, keys, xmax, integer, first._planner_limits)
    return PHResult(plan=plan, xbar={k: float(x) for k, x in zip(keys, xbar)}, iterations=its, convergence=conv,
                    converged=conv < tol, trivial_bound=float(trivial), lagrangian_bound=lag,
                    seconds=time.perf_counter() - t0, n_first_stage=len(keys), rounded=rounded, ranks=ph.n_proc,
                    largest=largest, tree=tree_summary(tree),
                    failed=("" if failed_at is None else
                            f"iteration {failed_at[0]}: {', '.join(failed_at[1]) or 'a scenario on another MPI rank'}"),
                    n_failed=getattr(ph, "_planner_nfailed", 0), stopped=stopped)


def tree_summary(tree: PHTree | None) -> str:
    """The summary's words for the tree PH used."""
    if tree is None:
        return "two-stage: every scenario its own node from the first year"
    last = max(n.year for n in tree.nodes.values())
    return (f"multi-stage: {tree.shared_nodes} node(s) shared by two scenarios or more over {tree.stages} year "
            f"stage(s) (through {last}); each year's operations agree within its node (SPEC §3 Information)")


class ScenarioFailed(Exception):
    """Scenario subproblems without a solution (infeasible, unbounded or out of time) in PH."""

    def __init__(self, names):
        super().__init__(", ".join(names))
        self.names = names


def round_plan(keys: list, xbar, integer: list, limits: list) -> tuple[dict, list]:
    """The consensus as a ``fixed`` dict: integer decisions rounded to the nearest integer (halves up),
    continuous ones clipped at 0; if rounding up breaks a first-stage limit (``limits``: [(keys, limit)], e.g.
    max_modules), the decisions rounded up the most go back down first.  Returns (plan, keys whose consensus
    was not integral).  (x̄ itself keeps every limit: it is an average of plans that keep them.)"""
    plan, rounded = {}, []
    for k, x, is_int in zip(keys, xbar, integer):
        if k[0] not in FIRST_STAGE:
            continue
        if is_int:
            r = float(math.floor(x + 0.5))  # half up (Python's round() halves to even)
            if abs(r - x) > 1e-6:
                rounded.append(k)
            plan[k] = r
        else:
            plan[k] = max(0.0, float(x))
    xb = dict(zip(keys, xbar))
    for ks, limit in limits:
        excess = sum(plan[k] for k in ks) - limit
        ups = sorted((k for k in ks if plan[k] > xb[k] + 1e-9), key=lambda k: plan[k] - xb[k], reverse=True)
        for k in ups:
            if excess <= 1e-9:
                break
            plan[k] -= 1.0
            excess -= 1.0
    return plan, rounded


def reoptimised(plan: dict) -> dict:
    """``plan`` with every stockpile-capacity decision left free (None): the integer decisions (modules built,
    offtakes signed) as agreed, stockpile capacity re-optimised over all scenarios when the plan is evaluated
    (an LP once the integers are fixed)."""
    return {k: (None if k[0] == "stock_build" else v) for k, v in plan.items()}


def largest_plan(plan: dict, keys: list, xmax, integer: list, limits: list) -> dict | None:
    """``plan`` with every module build at the most any scenario chose, offtakes as agreed and stockpile
    capacity left free (re-optimised at evaluation, see :func:`reoptimised`).

    More processing capacity never makes a scenario's operations infeasible (it only loosens capacity rows; its
    cost is first stage), so when the scenarios agree on the offtakes this plan can be operated wherever each
    scenario's own plan could.  None if the larger builds break a process's max_modules."""
    big = reoptimised(plan)
    for k, x, is_int in zip(keys, xmax, integer):
        if k[0] == "build":
            big[k] = float(math.floor(x + 0.5)) if is_int else max(0.0, float(x))
    for ks, limit in limits:
        if all(k[0] == "build" for k in ks) and sum(big[k] for k in ks) > limit + 1e-6 * max(1.0, abs(limit)):
            return None
    return big


# --------------------------------------------------------------------------- end to end
def solve_file_ph(path: str, out: str | None = None, overrides: dict | None = None, force: bool = False,
                  many: bool = False, write: bool = True, data: InputData | None = None,
                  iterations: int = DEFAULT_ITERATIONS, rho: float = DEFAULT_RHO, tol: float = DEFAULT_TOL,
                  lagrangian: bool = True) -> Outcome:
    """PH, then the consensus plan evaluated exactly by :func:`planner.workflows.run.solve_file` (usual workbook, with
    the decomposition's figures added to its summary)."""
    check_ph_options(iterations, rho, tol)
    inp = data or load(path, overrides)
    check_decomposable(inp, path)
    try:
        ph = run_ph(inp, iterations=iterations, rho=rho, tol=tol, lagrangian=lagrangian)
    except ScenarioFailed as e:
        if not e.names:  # the scenario without solution lives on another MPI rank, which reports it
            return Outcome(input=path, status="no solution", exit_code=1)
        return _scenario_failure(path, inp, e.names)
    if rank() != 0:  # under mpiexec: rank 0 evaluates the plan and writes the workbook, the others are done
        return Outcome(input=path, status=f"ph (MPI rank {rank()})", exit_code=0)
    log.info("PH: %d iteration(s), convergence %.3g%s; lower bound %.6g MUSD; %.1f s", ph.iterations,
             ph.convergence, "" if ph.converged else " (not converged)", ph.bound, ph.seconds)
    if ph.rounded:
        log.info("PH: %d integer decision(s) had no consensus and were rounded (e.g. %s = %.3g)",
                 len(ph.rounded), "/".join(map(str, ph.rounded[0])), ph.xbar[ph.rounded[0]])

    note = ["the scenarios' average first stage" + (", integer decisions rounded" if ph.rounded else "")]

    def evaluate(plan: dict) -> Outcome:
        oc = solve_file(path, out=out, force=force, many=many, fixed=plan, write=write, data=inp,
                        summary_rows=lambda o: summary_rows(check_bound(ph, o.objective), o.objective, iterations,
                                                            rho, tol, note[0]))
        oc.times["ph"] = ph.seconds
        oc.ph = ph
        return oc

    oc = evaluate(ph.plan)
    if oc.relaxed is not None:
        # the average falls short somewhere (a stock-days target, say): keep what PH agreed on where it can
        items = [ln.strip(" -") for ln in oc.message.splitlines()[1:]]
        short = f"{len(oc.relaxed)} shortfall(s), e.g. {items[0]}" if items else "infeasible"
        average_note = note[0]
        tries = []
        rep = reoptimised(ph.plan)
        if rep != ph.plan:
            tries.append((rep, "the integer decisions agreed, stockpile capacity re-optimised over all scenarios"))
        if ph.largest is not None and ph.largest != rep:
            tries.append((ph.largest, ("the largest module builds any scenario chose, offtakes as agreed, "
                                       "stockpile capacity re-optimised over all scenarios")))
        for plan, what in tries:
            log.warning("PH: the scenarios' average plan cannot be operated in every scenario (%s); evaluating %s",
                        short, what)
            note[0] = f"{what} (the average plan could not be operated in every scenario: {short})"
            alt = evaluate(plan)
            if alt.exit_code == 0:
                alt.message = (f"{path}: PH stopped before the scenarios agreed, and their average plan cannot be "
                               f"operated in every scenario ({short}); the results are for {what}, "
                               f"{100 * ph_gap(alt.objective, ph.bound):.3g}% above the lower bound (raise "
                               "--ph-iterations for a plan PH agrees on)")
                oc = alt
                break
        else:
            note[0] = average_note
    if ph.n_failed and not ph.stopped:
        log.warning("PH: %d scenario solve(s) with PH's prices and proximal terms failed (last: %s); PH went on with "
                    "those scenarios' previous values, so its convergence is no proof of agreement (the plan is still "
                    "evaluated exactly)", ph.n_failed, ph.failed)
    if ph.stopped and oc.exit_code == 0:
        earlier = f" ({oc.message.split(': ', 1)[-1]})" if oc.message else ""
        oc.message = (f"{path}: progressive hedging stopped in {ph.failed.split(':')[0]}: HiGHS could not solve "
                      f"scenario(s) {ph.failed.split(': ', 1)[1]} with PH's prices and proximal terms, though "
                      "each solves on its own (numerical trouble with the linearised proximal terms: on a scenario "
                      "tree they cover every shared operation); the results are for the plan PH had then, "
                      f"{100 * ph_gap(oc.objective, ph.bound):.3g}% above the trivial bound. Solve without "
                      f"--decompose for the optimum{earlier}")
        log.warning("%s", oc.message)
    if oc.exit_code == 0:
        oc.gap = ph_gap(oc.objective, ph.bound)
        oc.status = "progressive hedging plan"  # the terminal's title; the summary sheet keeps the solve status
    elif oc.relaxed is not None:  # no plan can be operated in every scenario: solve_file's elastic explanation
        why = oc.message.split(": the model is infeasible", 1)[-1].lstrip(". ,")
        oc.message = (f"{path}: the plan progressive hedging agreed on ({note[0]}) cannot be operated in every "
                      f"scenario{'' if ph.converged else ' (PH stopped before the scenarios agreed: raise --ph-iterations)'}"
                      f"; {why[:1].lower() + why[1:]}")
    return oc


BOUND_TOL = 1e-4  # relative: a lower bound this far above a plan's exact cost is no bound


def check_bound(ph: PHResult, objective: float) -> PHResult:
    """Drop the Lagrangian bound (nan, with a warning) if it is above the exact cost of the evaluated plan by more
    than BOUND_TOL: no lower bound can be, so a scenario solve behind it did not end where the bound assumes
    (a solver tolerance or limit).  The trivial bound stays; the gap is then measured against it."""
    lag = ph.lagrangian_bound
    if not math.isnan(lag) and not math.isnan(objective) and lag > objective + BOUND_TOL * max(1.0, abs(objective)):
        log.warning("PH: the Lagrangian bound (%.6g MUSD) is above the exact cost of the plan (%.6g MUSD), so it is "
                    "not a valid bound; the gap is measured against the trivial bound (%.6g MUSD)", lag, objective,
                    ph.trivial_bound)
        ph.invalid_bound = lag
        ph.lagrangian_bound = float("nan")
    return ph


def ph_gap(objective: float, bound: float) -> float:
    """(evaluated objective − lower bound) / |evaluated objective|: how far from optimal the plan can be."""
    if math.isnan(objective) or math.isnan(bound):
        return float("nan")
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)


def summary_rows(ph: PHResult, objective: float, iterations: int, rho: float, tol: float, plan: str) -> list:
    return [
        ("method", ("ph (progressive hedging, mpi-sppy): the first stage agreed scenario by scenario, then fixed "
                    "and evaluated exactly; objective_musd is that plan's expected cost, mip_gap and "
                    "mip_dual_bound_musd are of this fixed-plan solve")),
        ("ph_lower_bound_musd", ph.bound),
        ("ph_gap", ph_gap(objective, ph.bound)),
        ("ph_trivial_bound_musd", ph.trivial_bound),
        ("ph_lagrangian_bound_musd", ph.lagrangian_bound),
        ("ph_iterations", ph.iterations),
        ("ph_convergence", ph.convergence),
        ("ph_converged", ph.converged),
        ("ph_plan", plan),
        ("ph_rounded_integer_decisions", len(ph.rounded)),
        ("ph_scenario_tree", ph.tree),
        ("ph_failed_solves", f"{ph.n_failed} (last: {ph.failed}){'; PH stopped there' if ph.stopped else ''}"
                             if ph.n_failed else "none"),
        ("ph_settings", (f"iteration limit {iterations}, rho multiplier {rho:g}, tolerance {tol:g}, "
                         f"solver {PYOMO_SOLVER}, {ph.ranks} MPI rank(s)")),
        ("time_ph_s", round(ph.seconds, 4)),
    ]


def check_ph_options(iterations=DEFAULT_ITERATIONS, rho=DEFAULT_RHO, tol=DEFAULT_TOL) -> None:
    """One-line errors for bad PH options (the CLI turns them into usage errors)."""
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 0:
        raise PlannerError(f"--ph-iterations must be a whole number, 0 or more (got {iterations})")
    if not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho > 0):
        raise PlannerError(f"--ph-rho must be a positive number (got {rho})")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise PlannerError(f"--ph-tol must be a positive number (got {tol})")


def _scenario_failure(path: str, inp: InputData, names: list) -> Outcome:
    """A scenario had no solution in PH: say why in the analyst's terms (its own elastic re-solve)."""
    s = names[0]
    d = prepare(inp, scenario=s)
    _ctx, res, _ = solve_model(d)
    oc = Outcome(input=path, status=res.status, exit_code=1)
    if res.status == "infeasible":
        oc.relaxed = explain_infeasible(d)
        oc.message = infeasibility_message(path, oc.relaxed).replace(
            "the model is infeasible", f"scenario '{s}' is infeasible on its own (so the whole problem is)", 1)
    elif res.status == "unbounded":
        oc.message = f"{path}: scenario '{s}' is unbounded (cost can fall without limit). Likely cause: " \
                     f"{unbounded_hint(d)}."
    else:
        oc.message = f"{path}: scenario '{s}' could not be solved in progressive hedging (status '{res.status}'); " \
                     "raise --time-limit or solve without --decompose"
    return oc
