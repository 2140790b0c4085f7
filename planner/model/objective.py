"""Objective (SPEC §3 "Resource cost", "Objective").

cost_s = Σ first-stage terms (capex and fixed O&M annuities, stockpile capex,
signing) + Σ terms of scenario s (variable, imports, offtakes, transport,
holding, shortage, disposal, − export revenue; in ``market`` mode also
tariffs − floor support), all discounted, in MUSD.

    λ = 0:  min Σ_s π_s cost_s
    λ > 0:  min (1 − λ) Σ_s π_s cost_s + λ (η + Σ_s π_s ξ_s / (1 − α)),
            ξ_s ≥ cost_s − η,  ξ_s ≥ 0,  η free

Elastic-slack penalties (re-solve after infeasibility) are first-stage terms.
"""
from __future__ import annotations

from collections import defaultdict


from planner.model.context import REALS, Ctx, key_of

PROVIDES = ('cvar_rows', 'eta')
READS = ()


def add(ctx: Ctx) -> None:
    d = ctx.d
    lam = float(d.settings["risk_aversion"] or 0.0)
    alpha = float(d.settings["cvar_alpha"])
    if lam <= 0:
        # Σ_s π_s cost_s: first-stage terms once (Σ π_s = 1), scenario terms weighted by π_s;
        # repeated variables are summed at hand-off
        ctx.set_objective_expected(dict(zip(d.scen, d.prob)))
        return
    first = defaultdict(float)
    per_s = [defaultdict(float) for _ in d.scen]
    sidx = {s: i for i, s in enumerate(d.scen)}
    vars_ = {}
    for s, _m, _cat, coef, v in ctx.costs:
        k = key_of(v)
        vars_[k] = v
        if s is None:
            first[k] += coef
        else:
            per_s[sidx[s]][k] += coef
    expected = defaultdict(float, first)
    for si, terms in enumerate(per_s):
        for k, coef in terms.items():
            expected[k] += d.prob[si] * coef
    eta = ctx.var("cvar_eta", [0], domain=REALS, bounds=lambda k: (None, None))[0]
    xi = ctx.var("cvar_xi", list(range(d.S)))
    rows = {}
    for si in range(d.S):
        cost = dict(first)
        for k, c in per_s[si].items():
            cost[k] = cost.get(k, 0.0) + c
        # ξ_s − cost_s + η ≥ 0
        rows[si] = ([(1.0, xi[si]), (1.0, eta)] + [(-c, vars_[k]) for k, c in cost.items() if c],
                    ">=", 0.0)
    ctx.cvar_rows = ctx.add_rows("cvar_excess", rows)
    ctx.eta = eta
    obj = [((1 - lam) * c, vars_[k]) for k, c in expected.items() if c]
    obj.append((lam, eta))
    obj += [(lam * d.prob[si] / (1 - alpha), xi[si]) for si in range(d.S)]
    ctx.set_objective(obj)


def report(ctx: Ctx, sol) -> dict:
    """``costs`` (member x scenario x category): every tagged cost term evaluated; first-stage terms
    count in every scenario."""
    d = ctx.d
    xval = sol.value_of()
    acc = defaultdict(float)
    for s, m, cat, coef, v in ctx.costs:
        val = coef * xval(v)
        if val == 0.0:
            continue
        for sc in (d.scen if s is None else [s]):
            acc[(m or "(bloc)", sc, cat)] += val
    return {"costs": [(m, s, c, v) for (m, s, c), v in sorted(acc.items())]}
