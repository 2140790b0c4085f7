"""Production and conversion (SPEC §3 "Capacity", "Balance").

Variables: Q_pts ≥ 0 output of process p in year t, scenario s, created only
where capacity can exist (existing capacity or a module that can operate).

    Q_pts ≤ availability_p · (existing_pt + module_tpa_p · Σ_{operating y} B_py)

Balance contributions at member m_p: + Q_pts for the main output c_p;
+ y_pc · Q_pts for each coproduct c (ratio t_per_t_output);
− a_p · Q_pts of the input i_p (input_per_output).
Cost: δ_t · variable_cost_p · Q_pts (input purchases are paid where the input
is bought).

Registers for other families (as arrays, :meth:`Ctx.term_arrays`): ``output_m[(m,c,t,s)]``
(y_pc · Q terms: own output), ``input_use[(m,c,t,s)]`` (a_p · Q terms).
"""
from __future__ import annotations

import numpy as np

from planner.model.context import MUSD, TOL, Ctx, tidy

PROVIDES = ('Q', 'output_m', 'input_use', 'capacity_rows')
READS = ('procs', 'cap')


def add(ctx: Ctx) -> None:
    """Columns, capacity rows, balance terms, costs and the output and input registers as arrays over
    (process, year) × scenario."""
    d = ctx.d
    keys = sorted(ctx.cap, key=lambda k: (k[0], k[1]))
    scen = d.scen
    S = d.S
    Q = ctx.var_ops_rows("production", [(p,) for (p, _t) in keys], [d.tix(t) for (_p, t) in keys])
    ctx.Q = Q
    if not keys:
        ctx.capacity_rows = ctx.add_rows("capacity", {})
        return
    cols = ctx.cols_of(Q)  # (p, t) then scenario
    K = len(keys)
    # balance terms (member, commodity, year, coefficient) per (p, t), for all its scenarios
    bm, bc, bt, bk, bv, bin_ = [], [], [], [], [], []  # bin_: the input (else an output)
    # capacity rows: Q − Σ avail · module_tpa · B ≤ avail · existing
    mk, mcol, mv = [], [], []
    hi, vcost, members = [], [], []
    for i, (p, t) in enumerate(keys):
        proc = ctx.procs[p]
        m, out, inp = proc["member"], proc["output"], proc["input"]
        a = float(proc["input_per_output"] if proc["input_per_output"] is not None else 1.0)
        avail = float(proc["availability"])
        ex, mods = ctx.cap[(p, t)]
        ti = d.tix(t)
        vc = float(proc["variable_cost_usd_per_t"] or 0.0)
        mi = ctx.member_index(m)
        outs = [(out, 1.0)] + d.coproducts.get(p, [])
        for c, y in outs:
            bm.append(mi)
            bc.append(ctx.commodity_index(c))
            bt.append(ti)
            bk.append(i)
            bv.append(y)
            bin_.append(False)
        if inp is not None:
            bm.append(mi)
            bc.append(ctx.commodity_index(inp))
            bt.append(ti)
            bk.append(i)
            bv.append(-a)
            bin_.append(True)
        for mt, b in mods:
            mk.append(i)
            mcol.append(b)
            mv.append(-avail * mt)
        hi.append(avail * ex)
        vcost.append(d.delta[ti] * vc * MUSD)
        members.append(m)
    si = np.arange(S)
    bk = np.asarray(bk, dtype=np.int64)
    n = len(bk)
    em, ec, et, es = np.repeat(bm, S), np.repeat(bc, S), np.repeat(bt, S), np.tile(si, n)
    ecols = cols.reshape(K, S)[np.repeat(bk, S), es]
    ev = np.repeat(np.asarray(bv, dtype=float), S)
    ctx.balance_add(em, ec, et, es, ecols, ev)
    # the registers the security, export and floor rows read: y_pc · Q (own output), a_p · Q (input use)
    u = np.repeat(np.asarray(bin_, dtype=bool), S)
    o, u = np.flatnonzero(~u), np.flatnonzero(u)
    ctx.terms_add(ctx.output_m, em[o], ec[o], et[o], es[o], ecols[o], ev[o])
    ctx.terms_add(ctx.input_use, em[u], ec[u], et[u], es[u], ecols[u], -ev[u])
    # variable cost per (p, t, s), as ctx.cost (zero terms left out)
    vcost = np.repeat(np.asarray(vcost, dtype=float), S)
    keep = np.flatnonzero(vcost != 0.0)
    mem = np.array(members, dtype=object)
    ctx.add_cost_arrays(keep % S, (mem, keep // S), "variable", vcost[keep], cols[keep])
    # capacity rows (p, t, s): Q, then the module terms of (p, t)
    mk = np.asarray(mk, dtype=np.int64)
    nm = len(mk)
    mrow = (np.repeat(mk, S) * S + np.tile(si, nm))
    mcols = np.repeat(ctx.sink.columns(mcol), S) if nm else np.zeros(0, np.int64)
    ctx.capacity_rows = ctx.sink.add_rows_arrays(
        "capacity", [(p, t, s) for (p, t) in keys for s in scen], np.concatenate([np.arange(K * S), mrow]),
        np.concatenate([cols, mcols]), np.concatenate([np.ones(K * S), np.repeat(np.asarray(mv, dtype=float), S)]),
        np.full(K * S, -np.inf), np.repeat(np.asarray(hi, dtype=float), S))


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
