"""Who pays: the cost game over the bloc's members (SPEC §6, ``planner coalition``).

c(S), the cost of a coalition S, is the objective of the model restricted to S
(:func:`planner.input.restrict.restrict`).  A coalition infeasible alone is re-solved with every
security target and unmet demand relaxed at the workbook's largest ``shortage_penalty_usd_per_t``
(100,000 USD/t where none is set) per tonne missed, discounted and probability-weighted like any
shortage; its cost is that relaxed objective and it is marked ``relaxed``.  The relaxation goes through
the model's elastic mode: the elastic slacks of security rows and unmet demand are re-priced at the
penalty (per scenario and year), the others (fiscal budgets, take-or-pay, unabsorbable surplus) are held
at zero; a security row that nothing in S can count towards (stock days with no stockpile in S) is
missed in full at the penalty.

Every c(S) is one solve; they run on the batch executor (:func:`planner.workflows.batch.run_tasks`,
process pool or Dask) from the workbook read and validated once (each task carries it in memory and
restricts it in the worker).  Allocations of c(N): standalone cost and saving, Shapley value (exact
over all 2^n − 1 coalitions up to ``exact_max`` members, else by sampled permutations with a standard
error per member), nucleolus and least core (sequences of LPs, exact mode), and the status quo (each
member's own cost rows of the grand coalition's solution, floor support by burden share).  Each
allocation is checked against the core: e(S) = x(S) − c(S) > 0 means S would save e(S) by leaving.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.problems import PlannerError
from planner.input.restrict import restrict

log = logging.getLogger("planner")

DEFAULT_PENALTY = 100_000.0   # USD/t where the workbook sets no shortage penalty (SPEC §6)
DEFAULT_SAMPLES = 30          # permutations when the bloc is beyond --exact-max and --samples is not given
RELAXABLE = {"max_concern_share", "min_stock_days", "min_domestic_share", "max_shortage_share", "demand (unmet)"}
MUSD = 1e-6
WARM_STARTS = ("none: MIP starts from related plans made no measurable difference (docs/coalition.md), and HiGHS 1.16 "
               "can misreport a started solve's objective")


class MembersError(PlannerError):
    """--members names an unknown member, repeats one, or leaves fewer than two."""


# ------------------------------------------------------------------ the game
def relax_penalty(inp) -> float:
    """The workbook's largest shortage_penalty_usd_per_t (commodities and settings), else 100,000 USD/t."""
    vals = pd.to_numeric(inp.tables["commodities"]["shortage_penalty_usd_per_t"], errors="coerce").dropna().tolist()
    if inp.settings.get("shortage_penalty_usd_per_t") is not None:
        vals.append(float(inp.settings["shortage_penalty_usd_per_t"]))
    return float(max(vals)) if vals else DEFAULT_PENALTY


def grand_members(inp, members=None) -> list[str]:
    """N: the workbook's members, or those listed with --members (in the workbook's order)."""
    known = [str(m) for m in inp.tables["members"]["member"]]
    if members:
        asked = [m.strip() for m in members if m.strip()]
        unknown = [m for m in asked if m not in known]
        if unknown:
            raise MembersError(f"--members: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a member "
                               f"of {inp.path} (members: {', '.join(known)})")
        dup = sorted({m for m in asked if asked.count(m) > 1})
        if dup:
            raise MembersError(f"--members names {', '.join(dup)} twice")
        if len(asked) < 2:
            raise MembersError("--members must name at least two members (a coalition analysis of one member "
                               "has nothing to share)")
        return [m for m in known if m in asked]
    if len(known) < 2:
        raise PlannerError(f"{inp.path}: the bloc has {len(known)} member(s); a coalition analysis needs at least "
                           "two")
    return known


def _relax(ctx, d, penalty: float) -> tuple[float, bool]:
    """Re-price the elastic slacks of a model built with ``elastic=True`` (see the module docstring).
    Returns (constant penalty of targets nothing can count towards, whether the objective was re-priced
    exactly; with risk_aversion > 0 the elastic model's own penalties stay and are swapped afterwards)."""
    pen = penalty * MUSD
    w = dict(zip(d.scen, d.prob))
    extra = []
    for v, sl in ctx.slacks:
        if sl.target in RELAXABLE and sl.year is not None and sl.scenario is not None:
            extra.append((sl.scenario, sl.member, "relaxed_target", float(d.delta[d.tix(sl.year)]) * pen, v))
        else:
            ctx.fix(v, 0.0)
    const = 0.0
    for sl, amount in ctx.structural:
        if sl.year is not None and sl.scenario in w:
            const += w[sl.scenario] * float(d.delta[d.tix(sl.year)]) * pen * float(amount)
    exact = float(d.settings.get("risk_aversion") or 0.0) <= 0
    if exact:
        ctx.costs[:] = [c for c in ctx.costs if c[2] != "elastic_penalty"] + extra
        ctx.set_objective_expected(w)
    else:
        ctx.relaxed_extra = extra
    return const, exact


def _gross_offset(ctx, d, offset: float) -> float:
    """Add the constant ``offset`` (MUSD) to the objective of a built model (risk-neutral objective only) so that
    the relative MIP gap is measured against the coalition's gross cost; returns the offset added."""
    if offset <= 0 or float(d.settings.get("risk_aversion") or 0.0) > 0 or ctx.structural:
        return 0.0
    w = dict(zip(d.scen, d.prob))
    v = ctx.var("coalition_gap_offset", [0])[0]
    ctx.fix(v, 1.0)
    ctx.set_objective_expected(w, extra=[(offset, v)])
    return offset


def solve_coalition(task):
    """Batch task: c(S) for S = task.meta['members'] from the in-memory input ``task.data``
    (an :class:`planner.workflows.run.Outcome`; ``headline`` carries relaxed, relaxed_t, relaxed_what)."""
    from planner.model.build import build
    from planner.model.prepare import prepare
    from planner.solver.highs import solve_ctx, value_only
    from planner.workflows.run import Outcome

    S = list(task.meta["members"])
    penalty = float(task.meta["penalty"])
    want = bool(task.keep)
    inp = restrict(task.data, S)
    d = prepare(inp)
    st = d.settings
    kw = {"time_limit": float(st["time_limit_s"]), "mip_gap": float(st["mip_gap"]),
          "threads": int(st["threads"] or task.meta.get("threads") or 0), "duals": want,
          "mip_abs_gap": task.meta.get("abs_gap")}
    t0 = time.perf_counter()
    ctx = build(d)
    offset = _gross_offset(ctx, d, float(task.meta.get("offset") or 0.0))
    with value_only() if not want else nullcontext():  # only c(S) is read, unless the plan is kept
        res = None if ctx.structural else solve_ctx(ctx, **kw)
    oc = Outcome(input=task.path, status=res.status if res is not None else "infeasible", exit_code=0)
    oc.headline = {"relaxed": False, "relaxed_t": 0.0, "relaxed_what": "", "mip_gap": kw["mip_gap"]}
    if res is not None and res.has_solution:
        oc.objective = res.objective - offset
        oc.gap = res.gap * abs(res.objective) / max(abs(oc.objective), 1e-9) if res.gap == res.gap else res.gap
        if want:
            from planner.report.results import extract
            oc.tables = extract(ctx, res)
        if res.status != "optimal":
            oc.message = f"{task.label}: stopped at the {res.status.replace('_', ' ')} (gap {100 * res.gap:.3g}%)"
        oc.times["solve"] = time.perf_counter() - t0
        return oc
    if oc.status not in ("infeasible", "infeasible_or_unbounded"):
        oc.exit_code = 1
        oc.message = f"{task.label}: the solver stopped with status '{oc.status}' and no solution"
        return oc
    ctx = build(d, elastic=True)
    const, exact = _relax(ctx, d, penalty)
    res = solve_ctx(ctx, **kw)  # its plan is read (what was relaxed): HiGHS's default LP path
    oc.times["solve"] = time.perf_counter() - t0
    if not res.has_solution:
        oc.status, oc.exit_code = "infeasible", 1
        oc.message = (f"{task.label}: infeasible alone even with every security target and unmet demand relaxed "
                      "(budgets, take-or-pay or stockpile rules cannot be met)")
        return oc
    val = res.value
    gave = {}
    for v, sl in ctx.slacks:
        if sl.target in RELAXABLE:
            x = val(v)
            if x > 1e-6:
                gave[sl.target] = gave.get(sl.target, 0.0) + x
    for sl, amount in ctx.structural:
        gave[sl.target] = gave.get(sl.target, 0.0) + float(amount)
    obj = res.objective + const
    if not exact:  # swap the elastic model's own penalty (first stage, in every scenario) for the §6 one
        w = dict(zip(d.scen, d.prob))
        from planner.model.context import ELASTIC_PENALTY
        seen = {}
        for v, sl in ctx.slacks:
            if sl.target in RELAXABLE:
                seen[v if type(v) is int else id(v)] = val(v)
        obj -= ELASTIC_PENALTY * sum(seen.values())
        obj += sum(w[s] * coef * val(v) for s, _m, _c, coef, v in ctx.relaxed_extra)
    oc.status, oc.objective, oc.gap = "relaxed", obj, res.gap
    oc.headline = {"relaxed": True, "relaxed_t": float(sum(gave.values())),
                   "relaxed_what": "; ".join(f"{k} {v:,.1f} t" for k, v in sorted(gave.items(), key=lambda kv: -kv[1]))}
    if want:
        from planner.report.results import extract
        oc.tables = extract(ctx, res)
    return oc


# ------------------------------------------------------------------ allocations
def shapley_exact(n: int, cost: np.ndarray) -> np.ndarray:
    """φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (c(S ∪ {i}) − c(S)); ``cost[mask]`` with cost[0] = 0."""
    masks = np.arange(1 << n)
    size = np.array([int(m).bit_count() for m in masks])
    w = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        b = 1 << i
        m = masks[(masks & b) == 0]
        phi[i] = float(np.sum(w[size[m]] * (cost[m | b] - cost[m])))
    return phi


def permutations(n: int, samples: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(samples)]


def shapley_sampled(n: int, perms, c) -> tuple[np.ndarray, np.ndarray]:
    """Mean marginal cost over the permutations and its standard error (sample std / √k) per member;
    ``c(mask)`` the coalition cost (c(0) = 0)."""
    marg = np.zeros((len(perms), n))
    for k, p in enumerate(perms):
        mask, prev = 0, 0.0
        for i in p:
            mask |= 1 << int(i)
            cur = c(mask)
            marg[k, i] = cur - prev
            prev = cur
    mean = marg.mean(axis=0)
    se = marg.std(axis=0, ddof=1) / math.sqrt(len(perms)) if len(perms) > 1 else np.full(n, np.nan)
    return mean, se


def _incidence(n: int, masks) -> np.ndarray:
    return np.array([[(m >> i) & 1 for i in range(n)] for m in masks], dtype=float)


def nucleolus(n: int, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(nucleolus, a least-core point, least-core ε) of the cost game by a sequence of LPs.

    Stage k: min ε s.t. x(S) − ε ≤ c(S) for the coalitions not yet settled, x(S) = c(S) + ε_j for those
    settled at stage j, Σ x = c(N).  The coalitions whose rows have a non-zero dual are settled at ε_k
    (they are tight in every optimal solution), and so is every coalition whose incidence vector the
    settled ones (with N) span; stop when they span every direction (x is then unique)."""
    from planner.solver.highs import solve_lp

    full = (1 << n) - 1
    free = list(range(1, full))
    fixed: list[tuple[int, float]] = []
    scale = max(1.0, float(np.max(np.abs(cost))))
    c_obj = np.r_[np.zeros(n), 1.0]
    bounds = [(None, None)] * (n + 1)
    first_x, first_eps, x = None, float("nan"), None
    for _ in range(2 * n + 2):
        A_ub = np.c_[_incidence(n, free), -np.ones(len(free))] if free else None
        b_ub = cost[free] if free else None
        eq_rows = [np.r_[np.ones(n), 0.0]]
        eq_rhs = [cost[full]]
        for m, e in fixed:
            eq_rows.append(np.r_[_incidence(n, [m])[0], 0.0])
            eq_rhs.append(cost[m] + e)
        status, sol, eps, duals = solve_lp(c_obj, A_ub, b_ub, np.array(eq_rows), np.array(eq_rhs), bounds)
        if status != "optimal":
            raise PlannerError(f"the nucleolus LP stopped with status '{status}'")
        x = sol[:n]
        if first_x is None:
            first_x, first_eps = x.copy(), eps
        if not free:
            break
        du = np.abs(duals[:len(free)])
        settle = [m for m, dv in zip(free, du) if dv > 1e-9]
        if not settle:  # degenerate: settle the tight ones
            ex = _incidence(n, free) @ x - cost[free]
            settle = [m for m, e in zip(free, ex) if e >= eps - 1e-9 * scale]
        fixed += [(m, eps) for m in settle]
        sset = set(settle)
        free = [m for m in free if m not in sset]
        span = _incidence(n, [full] + [m for m, _ in fixed])
        rank = np.linalg.matrix_rank(span)
        if rank >= n:
            break
        if free:  # coalitions the settled ones determine
            still = []
            for m in free:
                if np.linalg.matrix_rank(np.vstack([span, _incidence(n, [m])])) > rank:
                    still.append(m)
            free = still
    return x, first_x, first_eps


def members_text(names) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# ------------------------------------------------------------------ the run
@dataclass
class CoalitionResult:
    members: list
    mode: str
    tables: dict = field(default_factory=dict)
    out: Path | None = None
    messages: list = field(default_factory=list)
    interrupted: bool = False


def coalition_path(path: str, out: str | None) -> Path:
    if out is None:
        return Path("results") / f"{Path(path).stem}.coalition.xlsx"
    o = Path(out)
    return o if o.suffix.lower() == ".xlsx" else o / f"{Path(path).stem}.coalition.xlsx"


def run_coalition(path: str, out: str | None = None, overrides: dict | None = None, members=None,
                  samples: int | None = None, seed: int = 0, exact_max: int = 10, jobs: int = 1,
                  executor: str = "process", scheduler: str | None = None, force: bool = False,
                  progress: bool = True, write: bool = True) -> CoalitionResult:
    from planner.common.files import free_name
    from planner.input.load import load
    from planner.workflows.batch import INTERRUPTED, Task, one_pool, run_tasks

    if samples is not None and samples < 2:
        raise MembersError("--samples must be at least 2 (the standard error needs two permutations)")
    if exact_max < 1:
        raise MembersError("--exact-max must be at least 1")
    t_start = time.perf_counter()
    base = load(path, overrides)
    N = grand_members(base, members)
    n = len(N)
    if len(N) < len(base.tables["members"]):
        base = restrict(base, N)  # everyone not listed is out of every coalition
    penalty = relax_penalty(base)
    full = (1 << n) - 1
    exact = samples is None and n <= exact_max
    if exact:
        needed = list(range(1, full + 1))
        perms = []
    else:
        k = samples or DEFAULT_SAMPLES
        perms = permutations(n, k, seed)
        need = {full} | {1 << i for i in range(n)}
        for p in perms:
            mask = 0
            for i in p:
                mask |= 1 << int(i)
                need.add(mask)
        needed = sorted(need)
    # largest coalitions first: the longest solves start early and the pool ends evenly
    needed.sort(key=lambda m: (-int(m).bit_count(), m))

    # with as many processes as cores, one HiGHS thread each (two each would only compete for the same cores)
    threads = 1 if jobs > 1 and jobs >= (os.cpu_count() or 1) else 0

    def task(m, offset=0.0, abs_gap=None):
        return Task(path=str(path), label="+".join(N[i] for i in range(n) if (m >> i) & 1), write=False,
                    fn=solve_coalition, data=base, keep=("costs", "fiscal", "offtakes", "stockpiles") if m == full else (),
                    meta={"members": [N[i] for i in range(n) if (m >> i) & 1], "mask": m, "penalty": penalty,
                          "offset": offset, "abs_gap": abs_gap, "threads": threads})

    result = CoalitionResult(members=N, mode="exact" if exact else "sampled")
    # phase 1: the grand coalition (the ordinary solve) and every member alone; phase 2: the rest, each MIP gap
    # measured against the coalition's gross cost, to the grand coalition's precision in MUSD
    with one_pool():  # both phases on the same worker processes
        first = [full] + [1 << i for i in range(n)]
        outcomes = run_tasks([task(m) for m in first], jobs=jobs, executor=executor, scheduler=scheduler,
                             progress=progress, title=f"the bloc and its {n} members alone")
        if not any(oc.exit_code == INTERRUPTED for oc in outcomes):
            done = {oc.meta["mask"]: oc for oc in outcomes}
            neg = {i: max(0.0, -done[1 << i].objective) if done[1 << i].objective == done[1 << i].objective else 0.0
                   for i in range(n)}
            rest = [m for m in needed if m not in done]
            # every c(S) to the precision of c(N) in MUSD: a Shapley value is a weighted mean of differences
            # c(S ∪ {i}) − c(S), each off by at most that much, so the allocations are as exact as c(N) itself
            cN_ = done[full].objective
            abs_gap = float(done[full].headline.get("mip_gap") or 0.0) * abs(cN_) if cN_ == cN_ else None
            outcomes += run_tasks([task(m, 2 * sum(neg[i] for i in range(n) if (m >> i) & 1), abs_gap)
                                   for m in rest],
                                  jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                                  title=f"{len(rest)} coalitions of {n} members")
    if any(oc.exit_code == INTERRUPTED for oc in outcomes):
        result.interrupted = True
        return result
    by_mask = {oc.meta["mask"]: oc for oc in outcomes}
    failed = [oc for oc in outcomes if oc.exit_code]
    if failed:
        first = failed[0].message.splitlines()[0] if failed[0].message else failed[0].status
        raise PlannerError(f"{len(failed)} of {len(outcomes)} coalition solve(s) failed, so the game is incomplete; "
                           f"first: {first}")
    if all(oc.headline.get("relaxed") for oc in outcomes):
        raise PlannerError(f"{path}: every coalition is infeasible alone (the whole bloc included), so every cost "
                           "would be a penalty; run 'planner solve' on it to see what must give")
    cost = {m: float(by_mask[m].objective) for m in by_mask}
    if exact:
        carr = np.zeros(full + 1)
        for m, v in cost.items():
            carr[m] = v
    cN = cost[full]
    alloc = pd.DataFrame({"member": N})
    alloc["standalone_musd"] = [cost[1 << i] for i in range(n)]
    sq = status_quo(by_mask[full].tables, N, base)
    alloc["status_quo_musd"] = [sq.get(m, float("nan")) for m in N]
    if exact:
        alloc["shapley_musd"] = shapley_exact(n, carr)
        alloc["shapley_se_musd"] = 0.0
        nuc, lc, eps = nucleolus(n, carr)
        alloc["nucleolus_musd"] = nuc
        alloc["least_core_musd"] = lc
    else:
        mean, se = shapley_sampled(n, perms, lambda m: cost[m])
        alloc["shapley_musd"] = mean
        alloc["shapley_se_musd"] = se
        eps = float("nan")
    methods = [c[:-5] for c in alloc.columns if c.endswith("_musd") and c not in ("standalone_musd", "shapley_se_musd")]
    for mth in methods:
        alloc[f"saving_{mth}_musd"] = alloc["standalone_musd"] - alloc[f"{mth}_musd"]

    gap_abs = {m: abs(by_mask[m].gap * by_mask[m].objective) if by_mask[m].gap == by_mask[m].gap else 0.0
               for m in by_mask}
    noise = max(gap_abs.values()) if gap_abs else 0.0
    rows = []
    for m in sorted(by_mask, key=lambda m: (int(m).bit_count(), m)):
        oc = by_mask[m]
        r = {"members": ", ".join(N[i] for i in range(n) if (m >> i) & 1), "size": int(m).bit_count(),
             "cost_musd": cost[m], "status": oc.status, "relaxed": bool(oc.headline.get("relaxed")),
             "relaxed_t": oc.headline.get("relaxed_t", 0.0), "what_was_relaxed": oc.headline.get("relaxed_what", ""),
             "mip_gap": oc.gap, "mip_gap_musd": gap_abs[m], "time_s": round(getattr(oc, "elapsed", float("nan")), 3)}
        vec = np.array([(m >> i) & 1 for i in range(n)], dtype=float)
        for mth in methods:
            r[f"excess_{mth}_musd"] = float(vec @ alloc[f"{mth}_musd"].to_numpy()) - cost[m]
        rows.append(r)
    coal = pd.DataFrame(rows)
    core = core_table(coal, methods, cN, eps, noise, exact, len(by_mask), n)
    n_relaxed = int(coal["relaxed"].sum())
    summary = [("method", "exact (all coalitions)" if exact else f"sampled ({len(perms)} permutations, seed {seed})"),
               ("members", ", ".join(N)), ("coalitions_solved", len(by_mask)),
               ("coalitions_possible", full), ("c_N_musd", cN),
               ("sum_standalone_musd", float(alloc["standalone_musd"].sum())),
               ("total_saving_musd", float(alloc["standalone_musd"].sum()) - cN),
               ("status_quo_total_musd", float(alloc["status_quo_musd"].sum())),
               ("shapley_total_musd", float(alloc["shapley_musd"].sum())),
               ("shapley_max_se_musd", float(alloc["shapley_se_musd"].max())),
               ("least_core_epsilon_musd", eps),
               ("coalitions_relaxed", n_relaxed),
               ("relaxation_penalty_usd_per_t", penalty),
               ("largest_mip_gap_musd", noise),
               ("grand_coalition_status", by_mask[full].status),
               ("wall_time_s", round(time.perf_counter() - t_start, 2)),
               ("solve_time_sum_s", round(float(coal["time_s"].sum()), 2)),
               ("jobs", jobs), ("executor", executor),
               ("warm_starts", WARM_STARTS),
               ("input_path", str(Path(base.path).resolve())), ("input_sha256", base.sha256),
               ("timestamp", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")),
               ("money", "MUSD, discounted to base_year, probability-weighted (the objective of each solve)")]
    if not exact:
        summary.append(("nucleolus", "exact mode only (all coalitions); use --exact-max or fewer --members"))
    tables = {"summary": pd.DataFrame(summary, columns=["key", "value"]), "allocation": alloc,
              "coalitions": coal, "core": core}
    if by_mask[full].tables:
        from planner.model.prepare import prepare
        from planner.report.ledger import ledger
        try:
            tables["ledger"] = ledger(by_mask[full].tables, prepare(base))
        except Exception as e:  # noqa: BLE001 - the ledger is a view; the game stands without it
            result.messages.append(f"ledger of the grand coalition not computed: {type(e).__name__}: {e}")
    result.tables = tables
    if n_relaxed:
        result.messages.append(f"{n_relaxed} coalition(s) infeasible alone: costed with targets and unmet demand "
                               f"relaxed at {penalty:,.0f} USD/t (column 'relaxed' of the coalitions sheet)")
    if write:
        from planner.report.xlsio import write_workbook
        target = free_name(coalition_path(path, out), force)
        result.out = write_workbook(target, tables, charts=lambda wb: add_coalition_charts(wb, alloc, methods),
                                    inputs=[path])
    return result


def status_quo(tables: dict, N: list, base) -> dict:
    """Each member's expected own cost in the grand coalition's solution: its cost rows (policy transfers
    left out), plus its burden share of floor support, minus the support its producers receive."""
    costs, fiscal = tables.get("costs"), tables.get("fiscal")
    if costs is None or fiscal is None:
        return {}
    sc = base.tables["scenarios"]
    p = dict(zip(sc["scenario"], sc["probability"])) if len(sc) else {"base": 1.0}
    own = costs[~costs["category"].isin(["floor_support", "tariffs"])]
    out = (own["cost_musd"] * own["scenario"].map(p)).groupby(own["member"]).sum()
    f = fiscal.assign(w=fiscal["scenario"].map(p))
    share = (f["floor_support_share_musd"] * f["w"]).groupby(f["member"]).sum()
    recv = (f["floor_support_received_musd"] * f["w"]).groupby(f["member"]).sum()
    return {m: float(out.get(m, 0.0) + share.get(m, 0.0) - recv.get(m, 0.0)) for m in N}


def core_table(coal: pd.DataFrame, methods: list, cN: float, eps: float, noise: float, exact: bool,
               solved: int, n: int) -> pd.DataFrame:
    tol = 1e-6 * max(1.0, abs(cN))
    proper = coal[coal["size"] < n]  # the grand coalition's excess is 0 for an allocation of c(N)
    rows = []
    scope = "all coalitions" if exact else f"the {solved} coalitions solved"
    for mth in methods:
        col = f"excess_{mth}_musd"
        if not len(proper):
            continue
        i = proper[col].idxmax()
        e = float(proper.at[i, col])
        who = proper.at[i, "members"].split(", ")
        inside = e <= tol
        if inside:
            verdict = (f"in the core: no coalition would save by leaving (checked {scope}; closest: "
                       f"{members_text(who)} at {e:,.1f} MUSD)")
        else:
            verdict = f"{members_text(who)} would save {e:,.1f} MUSD by leaving"
            if e <= noise:
                verdict += f" (within the solves' MIP gap of {noise:,.1f} MUSD)"
        rows.append({"allocation": mth.replace("_", " "), "in_core": inside, "most_blocking": ", ".join(who),
                     "excess_musd": e, "verdict": verdict, "checked": scope})
    if not math.isnan(eps):
        rows.append({"allocation": "least core ε", "in_core": eps <= tol, "most_blocking": "",
                     "excess_musd": eps, "verdict": ("the core is empty: " if eps > tol else "the core is not empty: ")
                     + f"the smallest possible largest excess is {eps:,.1f} MUSD", "checked": scope})
    return pd.DataFrame(rows, columns=["allocation", "in_core", "most_blocking", "excess_musd", "verdict", "checked"])


# ------------------------------------------------------------------ output
def add_coalition_charts(wb, alloc: pd.DataFrame, methods: list) -> None:
    """Native charts: allocation by method per member; saving against standalone by method per member."""
    ws = wb.add_worksheet("charts")
    bold = wb.add_format({"bold": True})
    n = len(alloc)
    blocks = [("Allocation of c(N) by method (MUSD)", ["standalone"] + methods, "_musd"),
              ("Saving against standalone cost by method (MUSD)", methods, "saving_")]
    col = 0
    charts = []
    for title, names, kind in blocks:
        ws.write_string(0, col, title, bold)
        ws.write_string(1, col, "member", bold)
        for i, m in enumerate(alloc["member"]):
            ws.write_string(2 + i, col, str(m))
        for j, mth in enumerate(names, 1):
            c = f"saving_{mth}_musd" if kind == "saving_" else f"{mth}_musd"
            ws.write_string(1, col + j, mth.replace("_", " "), bold)
            for i, v in enumerate(alloc[c].tolist()):
                if not math.isnan(v):
                    ws.write_number(2 + i, col + j, float(v))
        ch = wb.add_chart({"type": "column"})
        for j in range(1, len(names) + 1):
            ch.add_series({"name": ["charts", 1, col + j], "categories": ["charts", 2, col, 1 + n, col],
                           "values": ["charts", 2, col + j, 1 + n, col + j]})
        ch.set_title({"name": title, "name_font": {"size": 11}})
        ch.set_y_axis({"num_format": "#,##0"})
        ch.set_legend({"position": "bottom"})
        ch.set_size({"width": 720, "height": 380})
        charts.append(ch)
        col += len(names) + 2
    for k, ch in enumerate(charts):
        ws.insert_chart(n + 4 + 20 * k, 0, ch)


def print_coalition(result: CoalitionResult) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    a = result.tables["allocation"]
    s = dict(zip(result.tables["summary"]["key"], result.tables["summary"]["value"]))
    t = Table(title=f"Who pays (MUSD): {s['method']}, {s['coalitions_solved']} coalitions solved")
    t.add_column("member")
    t.add_column("standalone", justify="right")
    t.add_column("status quo", justify="right")
    t.add_column("Shapley", justify="right")
    has_nuc = "nucleolus_musd" in a
    if has_nuc:
        t.add_column("nucleolus", justify="right")
    t.add_column("saving (Shapley)", justify="right")
    sampled = result.mode == "sampled"
    for r in a.itertuples():
        sh = f"{r.shapley_musd:,.1f}" + (f" ± {r.shapley_se_musd:,.1f}" if sampled else "")
        row = [r.member, f"{r.standalone_musd:,.1f}", f"{r.status_quo_musd:,.1f}", sh]
        if has_nuc:
            row.append(f"{r.nucleolus_musd:,.1f}")
        row.append(f"{r.saving_shapley_musd:,.1f}")
        t.add_row(*row)
    con.print(t)
    saving = float(s["total_saving_musd"])
    con.print(f"c(N) = {float(s['c_N_musd']):,.1f} MUSD; " + (
        f"the bloc saves {saving:,.1f} MUSD against every member alone" if saving >= 0 else
        f"the bloc costs {-saving:,.1f} MUSD more than its members alone"), soft_wrap=True, markup=False,
        highlight=False)
    for r in result.tables["core"].itertuples():
        con.print(f"{r.allocation}: {r.verdict}", soft_wrap=True, markup=False, highlight=False)
