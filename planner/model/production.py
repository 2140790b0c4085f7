"""Production and conversion (SPEC §3 "Capacity", "Balance").

Variables: Q_pts ≥ 0 output of process p in year t, scenario s, created only
where capacity can exist (existing capacity or a module that can operate).

    Q_pts ≤ availability_p · (existing_pt + module_tpa_p · Σ_{operating y} B_py)

Balance contributions at member m_p: + Q_pts for the main output c_p;
+ y_pc · Q_pts for each coproduct c (ratio t_per_t_output);
− a_p · Q_pts of the input i_p (input_per_output).
Cost: δ_t · variable_cost_p · Q_pts (input purchases are paid where the input
is bought).

Registers for other families: ``output[(c,t,s)]`` and ``output_m[(m,c,t,s)]``
(y_pc · Q terms: bloc/own output), ``input_use[(m,c,t,s)]`` (a_p · Q terms).
"""
from __future__ import annotations

from collections import defaultdict

from planner.model.context import MUSD, TOL, Ctx, tidy

PROVIDES = ('Q', 'output', 'output_m', 'input_use', 'capacity_rows')
READS = ('procs', 'cap')


def add(ctx: Ctx) -> None:
    d = ctx.d
    ctx.output = defaultdict(list)
    ctx.output_m = defaultdict(list)
    ctx.input_use = defaultdict(list)
    keys = sorted(ctx.cap, key=lambda k: (k[0], k[1]))
    Q = ctx.var("production", [(p, t, s) for (p, t) in keys for s in d.scen], ops=True)
    ctx.Q = Q
    caprows = {}
    for (p, t) in keys:
        proc = ctx.procs[p]
        m, out, inp = proc["member"], proc["output"], proc["input"]
        a = float(proc["input_per_output"] if proc["input_per_output"] is not None else 1.0)
        avail = float(proc["availability"])
        ex, mods = ctx.cap[(p, t)]
        ti = d.tix(t)
        vc = float(proc["variable_cost_usd_per_t"] or 0.0)
        outs = [(out, 1.0)] + d.coproducts.get(p, [])
        for si, s in enumerate(d.scen):
            q = Q[p, t, s]
            caprows[(p, t, s)] = ([(1.0, q)] + [(-avail * mt, b) for mt, b in mods], "<=", avail * ex)
            for c, y in outs:
                ctx.balance[(m, c, t, s)].append((y, q))
                ctx.output[(c, t, s)].append((y, q))
                ctx.output_m[(m, c, t, s)].append((y, q))
            if inp is not None:
                ctx.balance[(m, inp, t, s)].append((-a, q))
                ctx.input_use[(m, inp, t, s)].append((a, q))
            ctx.cost(s, m, "variable", d.delta[ti] * vc * MUSD, q)
    ctx.capacity_rows = ctx.add_rows("capacity", caprows)


def report(ctx: Ctx, sol) -> dict:
    """``capacity``: existing and new capacity, production and utilisation per process, year, scenario."""
    d = ctx.d
    xval = sol.value_of()
    rows = []
    for (p, t), (ex, mods) in sorted(ctx.cap.items()):
        proc = ctx.procs[p]
        new = sum(mt * xval(b) for mt, b in mods)
        av = float(proc["availability"])
        capt = ex + new
        for s in d.scen:
            v = ctx.Q.get((p, t, s))
            q = xval(v) if v is not None else 0.0
            rows.append((p, proc["member"], proc["output"], t, s, ex, tidy(new), tidy(capt), capt * av, tidy(q),
                         q / (capt * av) if capt > TOL and av > 0 else 0.0))
    return {"capacity": rows}
