"""Investment: lumpy process modules (SPEC §3 "Capacity", "Builds").

Variables: B_py ≥ 0 modules of process p built in year y (integer when
``integer_modules``), for y in max(first_build_year, start_year) … end_year − lead_p.

    Σ_y B_py ≤ max_modules_p
    cap_pt = existing_pt + module_tpa_p · Σ_{y: y+lead ≤ t < y+lead+life} B_py
    existing_pt = existing_tpa_p if t ≤ existing_until_p (blank = whole horizon), else 0

Costs (first stage, in every cost_s, MUSD, discounted to base_year): a module
built in y pays, for every year t it operates within the horizon
(y+lead … y+lead+life−1), δ_t · (capex_p · AF(r, life_p) + fixed_om_p) with
AF = r / (1 − (1+r)^-life), or 1/life when r = 0.

Contributes ``ctx.cap[(p, t)] = (existing_pt, [(module_tpa, B_py), ...])`` for
the production family.
"""
from __future__ import annotations


from planner.model.context import NON_NEGATIVE_INTEGERS, TOL, Ctx, key_of
from planner.model.prepare import _nn, annuity_factor

PROVIDES = ('procs', 'cap', 'B')
READS = ()


def operating_years(d, y: int, lead: int, life: int) -> range:
    """Positions t of the horizon in which an item built in year y operates."""
    return d.year_range(y + lead, y + lead + life - 1)


def add(ctx: Ctx) -> None:
    d = ctx.d
    y0, y1 = d.years[0], d.years[-1]
    ctx.cap = {}
    ctx.procs = {p["process"]: p for p in d.processes}
    index, integer, maxrows = [], [], {}
    for p in d.processes:
        name = p["process"]
        until = _nn(p["existing_until"])
        ex = float(p["existing_tpa"] or 0.0)
        for t in d.years:
            if ex > 0 and (until is None or t <= until):
                ctx.cap[(name, t)] = [ex, []]
        mt = _nn(p["module_tpa"])
        if not mt or mt <= 0:
            continue
        lead, life = int(p["lead_time_years"]), int(p["lifetime_years"])
        first = max(int(p["first_build_year"]), y0)
        for y in range(first, y1 - lead + 1):
            index.append((name, y))
            if p["integer_modules"]:
                integer.append((name, y))
    B = ctx.var("build", index, special=True)
    for k in integer:
        ctx.set_domain(B[k], NON_NEGATIVE_INTEGERS)
    ctx.B = B
    for name, y in index:
        p = ctx.procs[name]
        lead, life = int(p["lead_time_years"]), int(p["lifetime_years"])
        mt = float(p["module_tpa"])
        af = annuity_factor(d.r, life)
        ops = operating_years(d, y, lead, life)
        disc = sum(d.delta[t] for t in ops)
        ctx.cost(None, p["member"], "capex", disc * float(p["capex_musd_per_module"]) * af, B[name, y])
        ctx.cost(None, p["member"], "fixed_om", disc * float(p["fixed_om_musd_per_module_yr"] or 0.0), B[name, y])
        for t in ops:
            ctx.cap.setdefault((name, d.years[t]), [0.0, []])[1].append((mt, B[name, y]))
        mm = _nn(p["max_modules"])
        if mm is not None:
            maxrows.setdefault(name, ([], "<=", float(mm)))[0].append((1.0, B[name, y]))
    ctx.add_rows("max_modules", maxrows)
    if ctx.fixed is not None:
        for k in index:
            ctx.fix_first_stage(B[k], ("build",) + k)


def report(ctx: Ctx, sol) -> dict:
    """``investments`` rows of process modules built (with the first-stage cost of each)."""
    xval = sol.value_of()
    first_cost = ctx.first_stage_cost()
    rows = []
    for (p, y), v in ctx.B.items():
        b = xval(v)
        if b > TOL:
            proc = ctx.procs[p]
            lead = int(proc["lead_time_years"])
            rows.append(("process modules", p, proc["member"], proc["output"], y, y + lead, b, "modules",
                         b * float(proc["module_tpa"]), b * first_cost[key_of(v)].get("capex", 0.0)))
    return {"investments": rows}
