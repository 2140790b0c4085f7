"""HiGHS's LP options on the LP relaxations of MIP blocks (docs/performance.md, "HiGHS's LP options for the
relaxations").

    python benchmarks/relaxations.py                         # the example's coalitions and the example itself
    python benchmarks/relaxations.py --coalitions 30 --workbook benchmarks/instances/L.xlsx

The relaxations that planner solves first (planner.solver.highs._relaxation_first) are captured: those of
``--coalitions`` coalitions of 4–6 members of the example (random, seeded), and those of one solve of each
``--workbook``.  Each set is then solved again alone, in this process, with each variant of options, twice in
turn; the summed HiGHS run time of each variant and the largest relative difference of the objectives from
HiGHS's defaults are printed.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

VARIANTS = {
    "defaults": {},
    "no presolve, devex": {"presolve": "off", "simplex_dual_edge_weight_strategy": 1},
    "devex": {"simplex_dual_edge_weight_strategy": 1},
    "no presolve": {"presolve": "off"},
}


def capture(run) -> list:
    """The relaxations' arrays while ``run()`` solves (the relaxation options off, as an ordinary solve)."""
    import planner.solver.highs as H

    got = []
    real = H._relaxation_first

    def spy(M, cs, lo, hi, rlo, rhi, is_int, cut, *a, **k):
        got.append((H.Csc(M.indptr.copy(), M.indices.copy(), M.data.copy(), M.shape), *(np.array(x) for x in
                                                                                         (cs, lo, hi, rlo, rhi))))
        return real(M, cs, lo, hi, rlo, rhi, is_int, cut, *a, **k)

    H._relaxation_first = spy
    try:
        run()
    finally:
        H._relaxation_first = real
    return got


def coalition_relaxations(example: str, n: int, seed: int) -> list:
    from planner.input.load import load
    from planner.workflows.batch import Task
    from planner.workflows.coalition import grand_members, relax_penalty, solve_coalition

    base = load(example)
    N = grand_members(base)
    pen = relax_penalty(base)
    rnd = random.Random(seed)
    masks = rnd.sample([m for m in range(1, 1 << len(N)) if 4 <= m.bit_count() <= 6], n)

    def run():
        for m in masks:
            solve_coalition(Task(path=example, label=str(m), write=False, fn=solve_coalition, data=base, keep=(),
                                 meta={"members": [N[i] for i in range(len(N)) if (m >> i) & 1], "mask": m,
                                       "penalty": pen, "offset": 0.0, "abs_gap": None, "threads": 1}))

    return capture(run)


def workbook_relaxations(path: str) -> list:
    from planner.input.load import load
    from planner.model.prepare import prepare
    from planner.workflows.run import solve_model

    d = prepare(load(path))
    return capture(lambda: solve_model(d))


def timed(lps: list, options: dict) -> tuple[float, np.ndarray]:
    import planner.solver.highs as H

    total, objs = 0.0, []
    for M, cs, lo, hi, rlo, rhi in lps:
        h = H.new_highs(False)
        h.setOptionValue("threads", 1)
        for k, v in options.items():
            h.setOptionValue(k, v)
        H.pass_arrays(h, M, cs, lo, hi, rlo, rhi)
        t = time.perf_counter()
        h.run()
        total += time.perf_counter() - t
        objs.append(h.getInfo().objective_function_value)
    return total, np.array(objs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--example", default=str(HERE.parent / "inputs" / "bloc_example.xlsx"))
    ap.add_argument("--coalitions", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--workbook", nargs="*", default=[str(HERE.parent / "inputs" / "bloc_example.xlsx")])
    a = ap.parse_args(argv)
    sets = []
    if a.coalitions:
        sets.append((f"{a.coalitions} coalitions of the example", coalition_relaxations(a.example, a.coalitions,
                                                                                        a.seed)))
    sets += [(Path(w).name, workbook_relaxations(w)) for w in a.workbook]
    for name, lps in sets:
        rows = [M.shape[0] for M, *_ in lps]
        print(f"{name}: {len(lps)} relaxations, {min(rows):,}–{max(rows):,} rows")
        ref = None
        for _round in range(2):
            for v, opts in VARIANTS.items():
                t, objs = timed(lps, opts)
                ref = objs if ref is None else ref
                diff = float(np.max(np.abs(objs - ref) / np.maximum(1.0, np.abs(ref)))) if len(objs) else 0.0
                print(f"  {v:22s} {t:7.2f} s   objectives within {diff:.1e} of the defaults'", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
