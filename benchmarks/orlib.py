"""OR-Library capacitated facility location (Beasley 1988) as planner workbooks (issue 18).

    python benchmarks/orlib.py capa --capacity 8000 -o /tmp/capa8000.xlsx      # convert only
    python benchmarks/orlib.py cap41 capa:8000 --solve --gap 1e-6               # convert, solve, check
    python benchmarks/orlib.py capb:5000 --solve --plain                        # without planner/model/strengthen

The mapping (exact): each warehouse i is a candidate process ``F<i>`` at its own member ``W<i>``
(no demand) making the one commodity ``G``: one module of ``module_tpa`` = the capacity,
``max_modules`` 1, integer, ``capex_musd_per_module`` = the fixed cost × 10⁻⁶ (costs in USD, so the
planner's MUSD × 10⁶ is the OR-Library cost), lifetime 1 year, no existing capacity.  Each customer j is a
member ``C<j>`` with demand; the route W<i> → C<j> costs allocation cost ÷ demand per tonne (the file
gives the cost of serving the whole demand), ``trade_all_pairs`` FALSE so these are the only routes.
One year, one scenario, discount rate 0, no shortage: the planner's optimum × 10⁶ is the CFLP optimum
with split demand, checked against the published values (``KNOWN``).

``--solve`` goes through the workbook path (read, validate, prepare, build, HiGHS) in this process and
prints the objective, the known optimum, the relative difference, the gap and the times.  ``--plain``
switches off the valid inequalities of planner/model/strengthen.py (PLANNER_STRENGTHEN=off), the
formulation of SPEC §3 as it stands.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("ORLIB_CAP", "/work/shared/benchmarks/orlib-cap"))
YEAR = 2026

# Published optimal values (OR-Library capopt; split demand).  capa/capb/capc: per capacity variant.
KNOWN = {
    "cap41": 1040444.375, "cap42": 1098000.450, "cap43": 1153000.450, "cap44": 1235500.450,
    "cap51": 1025208.225, "cap61": 932615.750, "cap62": 977799.400, "cap63": 1014062.050, "cap64": 1045650.250,
    "cap71": 932615.750, "cap72": 977799.400, "cap73": 1010641.450, "cap74": 1034976.975,
    "cap81": 838499.288, "cap82": 910889.563, "cap83": 975889.563, "cap84": 1069369.525,
    "cap91": 796648.438, "cap92": 855733.500, "cap93": 896617.538, "cap94": 946051.325,
    "cap101": 796648.437, "cap102": 854704.200, "cap103": 893782.112, "cap104": 928941.750,
    "cap111": 826124.713, "cap112": 901377.213, "cap113": 970567.750, "cap114": 1063356.488,
    "cap121": 793439.563, "cap122": 852524.625, "cap123": 895302.325, "cap124": 946051.325,
    "cap131": 793439.563, "cap132": 851495.325, "cap133": 893076.712, "cap134": 928941.750,
    "capa:8000": 19240822.449, "capa:10000": 18438046.543, "capa:12000": 17765201.949, "capa:14000": 17160439.012,
    "capb:5000": 13656379.578, "capb:6000": 13361927.449, "capb:7000": 13198556.434, "capb:8000": 13082516.496,
    "capc:5000": 11646596.974, "capc:5750": 11570340.289, "capc:6500": 11518743.744, "capc:7250": 11505767.394,
}


def parse(path: str | Path, capacity: float | None = None):
    """(capacities, fixed costs, demands, allocation costs [customer][warehouse]) of one instance file.
    capa/capb/capc give the word ``capacity``: ``capacity`` says which variant."""
    toks = Path(path).read_text().split()
    m, n = int(toks[0]), int(toks[1])
    caps, fixed = [], []
    for i in range(m):
        c, f = toks[2 + 2 * i], toks[3 + 2 * i]
        if c == "capacity":
            if capacity is None:
                raise SystemExit(f"{path}: capacities are the word 'capacity': give the variant (e.g. capa:8000)")
            caps.append(float(capacity))
        else:
            caps.append(float(c) if capacity is None else float(capacity))
        fixed.append(float(f))
    pos = 2 + 2 * m
    dem, alloc = [], []
    for _ in range(n):
        dem.append(float(toks[pos]))
        alloc.append([float(x) for x in toks[pos + 1: pos + 1 + m]])
        pos += 1 + m
    if pos != len(toks):
        raise SystemExit(f"{path}: {len(toks) - pos} tokens left over (not an OR-Library cap file?)")
    return caps, fixed, dem, alloc


def tables(caps, fixed, dem, alloc) -> tuple[list, dict]:
    """Settings and sheet rows of the planner workbook (SPEC §2 names)."""
    m = len(caps)
    wn = [f"W{i + 1:03d}" for i in range(m)]
    cn = [f"C{j + 1:04d}" for j in range(len(dem))]
    settings = [("start_year", YEAR), ("end_year", YEAR), ("discount_rate", 0), ("trade_all_pairs", False),
                ("default_route_cost_usd_per_t", 0), ("time_limit_s", 600), ("mip_gap", 1e-6)]
    T = {
        "members": [{"member": w, "name": f"warehouse site {i + 1}"} for i, w in enumerate(wn)]
        + [{"member": c, "name": f"customer {j + 1}"} for j, c in enumerate(cn)],
        "commodities": [{"commodity": "G", "name": "goods"}],
        "demand": [{"member": c, "commodity": "G", "year": YEAR, "demand_t": q} for c, q in zip(cn, dem) if q > 0],
        "processes": [{"process": f"F{i + 1:03d}", "member": w, "output": "G", "existing_tpa": 0,
                       "module_tpa": caps[i], "max_modules": 1, "integer_modules": True,
                       "capex_musd_per_module": fixed[i] * 1e-6, "lifetime_years": 1} for i, w in enumerate(wn)],
        "routes": [{"from": wn[i], "to": c, "commodity": "G", "cost_usd_per_t": row[i] / q}
                   for c, q, row in zip(cn, dem, alloc) if q > 0 for i in range(m)],
    }
    return settings, T


def write(path: str | Path, settings: list, T: dict) -> Path:
    """The workbook, atomically, by benchmarks/generate.py's writer."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate import write_tables

    return write_tables(path, settings, T, author="benchmarks/orlib.py", constant_memory=True)


def convert(name: str, out: str | Path | None = None) -> Path:
    """``name`` as cap41 or capa:8000 -> workbook path (default /tmp/orlib/<name>.xlsx)."""
    stem, _, cap = name.partition(":")
    src = DATA / f"{stem}.txt"
    if not src.exists():
        raise SystemExit(f"{src}: no such instance")
    out = Path(out) if out else Path("/tmp/orlib") / f"{stem}{'_' + cap if cap else ''}.xlsx"
    settings, T = tables(*parse(src, float(cap) if cap else None))
    return write(out, settings, T)


def solve(path: str | Path, gap: float = 1e-6, time_limit: float = 600.0, plain: bool = False,
          threads: int = 0) -> dict:
    """Solve a converted workbook through the planner (workbook path); objective in OR-Library units."""
    if plain:
        os.environ["PLANNER_STRENGTHEN"] = "off"
    from planner.input.load import load
    from planner.model.prepare import prepare
    from planner.workflows.run import solve_model

    t0 = time.perf_counter()
    inp = load(str(path), {"mip_gap": gap, "time_limit_s": time_limit, "threads": threads})
    d = prepare(inp)
    t1 = time.perf_counter()
    _ctx, res, times = solve_model(d)
    return {"status": res.status, "objective": res.objective * 1e6, "bound": res.bound * 1e6, "gap": res.gap,
            "read_s": t1 - t0, "build_s": times.get("build", 0.0), "highs_s": times.get("highs", 0.0),
            "rows": res.n_rows, "cols": res.n_cols}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("instances", nargs="+", help="cap41 ... cap134, or capa:8000, capb:5000, capc:5000 ...")
    ap.add_argument("-o", "--out", help="workbook path (one instance) or folder")
    ap.add_argument("--capacity", type=float, help="capacity variant for capa/capb/capc (or NAME:CAP)")
    ap.add_argument("--solve", action="store_true", help="solve and compare with the published optimum")
    ap.add_argument("--plain", action="store_true", help="without the valid inequalities (strengthen.py)")
    ap.add_argument("--gap", type=float, default=1e-6)
    ap.add_argument("--time-limit", type=float, default=600.0)
    a = ap.parse_args(argv)
    for name in a.instances:
        if a.capacity and ":" not in name:
            name = f"{name}:{a.capacity:g}"
        out = None
        if a.out:
            out = a.out if len(a.instances) == 1 and a.out.endswith(".xlsx") else \
                Path(a.out) / f"{name.replace(':', '_')}.xlsx"
        path = convert(name, out)
        print(f"{name}: {path}", flush=True)
        if a.solve:
            r = solve(path, a.gap, a.time_limit, a.plain)
            known = KNOWN.get(name)
            diff = (r["objective"] - known) / known if known else float("nan")
            print(f"  {r['status']}: objective {r['objective']:,.3f} (known {known or float('nan'):,.3f}, "
                  f"rel. diff {diff:.2e}), gap {r['gap']:.2e}, HiGHS {r['highs_s']:.1f} s, "
                  f"read {r['read_s']:.1f} s, build {r['build_s']:.1f} s, {r['rows']} rows x {r['cols']} cols",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
