"""Long fuzz run (issue 6): thousands of mutated workbooks through ``planner validate`` (and some ``solve``).

    python tests/fuzz_long.py                       # 10,000 validate cases + 300 solve cases
    python tests/fuzz_long.py -n 2000 --solve 50    # smaller
    python tests/fuzz_long.py --seed 7 --report fuzz.txt

Same mutation engine and oracles as ``tests/input/test_fuzz.py`` (see its module
docstring), but every failure is recorded and the run goes on; at the end a
table counts the cases per base and outcome (exit 0 / exit 1 / failure) and
each distinct failure is printed once with the mutations that caused it.
Exit status 1 if any case failed.  Runs in one process (about 0.1-0.4 s per
validate case, 1-3 s per solve case on one core).
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "input"))
os.chdir(HERE.parent)

from hypothesis import HealthCheck, given, settings  # noqa: E402

import test_fuzz as fz  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--cases", type=int, default=10_000, help="validate cases (default 10000)")
    ap.add_argument("--solve", type=int, default=300, help="solve cases on small generated books (default 300)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    ap.add_argument("--report", type=Path, help="also write the report to this file")
    ap.add_argument("--keep", type=Path, help="copy the workbook of every failing case into this folder")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    logging.basicConfig(handlers=[logging.NullHandler()])  # the CLI's own logging stays quiet
    work = Path(tempfile.mkdtemp(prefix="fuzz_long."))
    counts = collections.Counter()
    failures: dict[str, list] = {}
    t0 = time.time()
    state = {"i": 0}

    def record(kind, case, path, exc):
        text = str(exc)
        first = text.split("\n")[0]
        first = first[first.rfind("]: ") + 3:] if first.startswith(("validate [", "solve [")) else first
        detail = [ln for ln in text.split("\n")[1:] if "unexpected" in ln or "Error" in ln][:1]
        key = kind + ": " + first[:120] + (" | " + detail[0][-160:] if detail else "")
        failures.setdefault(key, []).append(case.describe() + "\n      " + text[-700:].replace("\n", "\n      "))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, args.keep / f"{kind}-{len(failures)}-{len(failures[key])}.xlsx")

    def progress(kind, total):
        state["i"] += 1
        if state["i"] % 250 == 0:
            el = time.time() - t0
            print(f"  {kind}: {state['i']}/{total} cases, {sum(v for k, v in counts.items() if k[0] == 'fail')} "
                  f"failing, {el:.0f} s", flush=True)

    common = dict(deadline=None, database=None, derandomize=False, suppress_health_check=list(HealthCheck))

    @settings(max_examples=max(args.cases, 1), **common)
    @given(case=fz.cases())
    def validate_cases(case):
        d = Path(tempfile.mkdtemp(dir=work))
        path = fz.write_grid(d / "in.xlsx", case.grid)
        try:
            code, _ = fz.check_validate(case, path)
            counts[("validate", case.base, f"exit {code}")] += 1
        except fz.FuzzFailure as e:
            counts[("fail", case.base, "validate")] += 1
            record("validate", case, path, e)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        progress("validate", args.cases)

    @settings(max_examples=max(args.solve, 1), **common)
    @given(case=fz.cases(bases=("small",), max_mutations=2, kinds=fz.SOLVE_KINDS))
    def solve_cases(case):
        d = Path(tempfile.mkdtemp(dir=work))
        path = fz.write_grid(d / "in.xlsx", case.grid)
        try:
            code, errors = fz.check_validate(case, path)
            sc = fz.check_solve(case, path, d / "out", code, errors, time_limit=20)
            counts[("solve", case.base, f"validate {code}, solve {sc}")] += 1
        except fz.FuzzFailure as e:
            counts[("fail", case.base, "solve")] += 1
            record("solve", case, path, e)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        progress("solve", args.solve)

    print(f"fuzz_long: seed {seed}, {args.cases} validate cases, {args.solve} solve cases", flush=True)
    random.seed(seed)
    from hypothesis import seed as hseed
    if args.cases:
        hseed(seed)(validate_cases)()
    state["i"] = 0
    if args.solve:
        hseed(seed + 1)(solve_cases)()
    shutil.rmtree(work, ignore_errors=True)

    lines = [f"fuzz_long: seed {seed}; {time.time() - t0:.0f} s", "", "cases by kind, base and outcome:"]
    for k in sorted(counts):
        lines.append(f"  {' / '.join(k):55s} {counts[k]:6d}")
    total = sum(counts.values())
    n_fail = sum(v for k, v in counts.items() if k[0] == "fail")
    lines.append(f"  {'total':55s} {total:6d}")
    lines.append(f"failing cases: {n_fail} ({len(failures)} distinct)")
    for key, descs in failures.items():
        lines.append(f"- {key}  [{len(descs)} case(s)]")
        for dsc in descs[:2]:
            lines.append(f"    e.g. {dsc[:1200]}")
    text = "\n".join(lines)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
