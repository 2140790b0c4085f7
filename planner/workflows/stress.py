"""Stress tests: hold an earlier plan's investments fixed and re-solve operations scenario by scenario.

``planner stress PATH --plan RESULTS [-o OUT.xlsx]``

1. The plan is the ``investments`` sheet of a results workbook: process
   modules (item = process, build_year, quantity), stockpile capacity (member,
   commodity, build_year, quantity in t) and offtakes signed (item = offtake).
2. For every scenario of PATH (which may hold other scenarios than the plan
   was made for):
   - *plan*: every first-stage decision fixed to the plan (what the plan does
     not build is not built, what it does not sign is not signed); only
     operations adapt, and they follow SPEC §3 "Information": one solve of all
     of PATH's scenarios together, so operations are shared while scenarios
     cannot yet be told apart (PATH's scenario tree), and each scenario's
     cost, shortage and cost split are read from that solve.  With
     ``--scenario`` (a subset), each named scenario is solved alone instead
     (operations then know that scenario's future: say so when comparing);
   - *optimum*: PATH's own optimum for that scenario (nothing fixed), i.e. what
     perfect foresight of that scenario would have built.
   regret = plan cost − optimum cost (MUSD, discounted). Because the optimum is
   a MIP solved to the relative mip_gap, a regret within that gap of zero is
   zero.
3. Plan items PATH does not know (a process, stockpile or offtake missing from
   PATH, a build year outside PATH's build years) are reported and left out,
   never a crash.

Writes ``summary``, ``scenarios`` (cost, regret, shortage per scenario),
``shortage`` (per scenario and commodity), ``costs`` (per scenario and
category), ``plan`` (each plan item: applied or why not), ``investments_optimum``
(what each scenario's optimum builds) and, where the plan cannot run a
scenario at all, ``infeasible`` (what would have to give).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from planner.common.problems import PlannerError
from planner.input.load import load_input
from planner.input.reader import check_results_file
from planner.report.schema import COL
from planner.workflows.batch import Task, run_tasks

KINDS = ("process modules", "stockpile capacity", "offtake signed")


def read_plan(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise PlannerError(f"--plan {path}: file not found")
    check_results_file(path, "--plan ")
    try:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    except Exception as e:
        raise PlannerError(f"--plan {path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})") from e
    inv = sheets.get("investments")
    if inv is None:
        hint = " (it looks like an input workbook: solve it first and pass the results)" if "settings" in sheets else ""
        raise PlannerError(f"--plan {path}: not a results workbook (no investments sheet){hint}")
    need = {"kind", "item", "build_year", "quantity"}
    if len(inv.columns) and not need <= set(inv.columns):
        raise PlannerError(f"--plan {path}: the investments sheet lacks column(s) "
                           f"{', '.join(sorted(need - set(inv.columns)))}")
    if not len(inv.columns):
        inv = pd.DataFrame(columns=sorted(need | {"member", "commodity"}))
    return inv


MAX_QUANTITY = 1e15  # as planner.input.validate.TOO_LARGE: no plan builds this many modules or tonnes


def _int(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return int(round(x)) if math.isfinite(x) and abs(x - round(x)) < 1e-6 else None


def plan_to_fixed(inv: pd.DataFrame, data) -> tuple[dict, pd.DataFrame]:
    """Fixed first-stage values for PATH from a plan; and one report row per plan item (applied or why not)."""
    from planner.model.prepare import _nn

    st = data.settings
    y0, y1 = int(st["start_year"]), int(st["end_year"])
    T = data.tables
    procs = {r["process"]: r for r in T["processes"].to_dict("records")}
    stocks = {(r["member"], r["commodity"]): r for r in T["stockpiles"].to_dict("records")}
    offs = {r["offtake"]: r for r in T["offtakes"].to_dict("records")}
    fixed: dict = {}
    report = []
    for r in inv.to_dict("records"):
        kind = str(r.get("kind", "")).strip()
        item = "" if r.get("item") is None or r.get("item") != r.get("item") else str(r.get("item"))
        year = _int(r.get("build_year"))
        q = r.get("quantity")
        q = float(q) if isinstance(q, (int, float)) and q == q else float("nan")
        status, why, key = "applied", "", None
        if kind == "process modules":
            p = procs.get(item)
            if p is None:
                status, why = "ignored", f"no process '{item}' in the input"
            elif not (_nn(p["module_tpa"]) or 0) > 0:
                status, why = "ignored", f"process '{item}' has no expansion modules (module_tpa) in the input"
            else:
                lead = int(p["lead_time_years"] or 0)
                first = max(int(p["first_build_year"] or y0), y0)
                if year is None or not first <= year <= y1 - lead:
                    status, why = "ignored", (f"build year {r.get('build_year')} outside the input's build years "
                                              f"{first}-{y1 - lead} for '{item}'")
                else:
                    key = ("build", item, year)
                    if p["integer_modules"] and math.isfinite(q) and abs(q - round(q)) > 1e-6:
                        why = f"{q:g} modules rounded to {round(q)} (integer modules in the input)"
                    if p["integer_modules"] and math.isfinite(q):
                        q = float(round(q))
                    mm = _nn(p["max_modules"])
                    total = q + sum(v for k, v in fixed.items() if k[:2] == ("build", item))
                    if mm is not None and total > float(mm) + 1e-9:
                        why = (why + "; " if why else "") + f"the plan builds {total:g} modules, the input allows " \
                                                            f"{float(mm):g} (max_modules): the plan cannot run"
        elif kind == "stockpile capacity":
            m = r.get("member")
            c = r.get("commodity")
            if (m is None or m != m or c is None or c != c) and "/" in item:
                m, c = item.split("/", 1)
            sp = stocks.get((str(m), str(c)))
            if sp is None:
                status, why = "ignored", f"no stockpile {m}/{c} in the input"
            elif _nn(sp["capex_usd_per_t"]) is None:
                status, why = "ignored", f"stockpile {m}/{c} cannot be expanded in the input (no capex_usd_per_t)"
            else:
                lead = int(sp["lead_time_years"] or 0)
                if year is None or not y0 <= year <= y1 - lead:
                    status, why = "ignored", (f"build year {r.get('build_year')} outside the input's build years "
                                              f"{y0}-{y1 - lead} for stockpile {m}/{c}")
                else:
                    key = ("stock_build", str(m), str(c), year)
        elif kind == "offtake signed":
            o = offs.get(item)
            if o is None:
                status, why = "ignored", f"no offtake '{item}' in the input"
            elif not (max(int(o["start_year"] or y0), y0) <= min(int(o["end_year"] or y1), y1)):
                status, why = "ignored", f"offtake '{item}' has no contract year inside the input's horizon"
            else:
                key, q = ("signed", item), 1.0
        else:
            status, why = "ignored", f"unknown kind '{kind}' (expected {', '.join(KINDS)})"
        if key is not None:
            if not (math.isfinite(q) and 0 <= q < MAX_QUANTITY):  # text, 1e300: the solver reads 1e20 as infinite
                status, why, key = "ignored", (f"quantity '{r.get('quantity')}' is not a number from 0 to "
                                               f"{MAX_QUANTITY:.0e}"), None
            else:
                fixed[key] = fixed.get(key, 0.0) + q if key[0] != "signed" else 1.0
        report.append({"kind": kind, "item": item, "member": r.get("member"), "commodity": r.get("commodity"),
                       "build_year": r.get("build_year"), "quantity": r.get("quantity"), "status": status,
                       "note": why})
    return fixed, pd.DataFrame(report, columns=["kind", "item", "member", "commodity", "build_year", "quantity",
                                                "status", "note"])


def scenario_list(data) -> list[tuple[str, float]]:
    sc = data.tables["scenarios"]
    if not len(sc):
        return [("base", 1.0)]
    return [(str(s), float(p)) for s, p in zip(sc["scenario"], sc["probability"])]


def run_stress(path: str, plan: str, out: str | None = None, overrides: dict | None = None,
               scenarios: list[str] | None = None, force: bool = False, jobs: int = 1, executor: str = "process",
               scheduler: str | None = None, progress: bool = True, duals: bool = True):
    """Run the stress test; returns (path written, scenarios DataFrame, plan report, outcomes).
    Each scenario's optimum starts from the plan (a MIP start); ``duals`` False: no fixed-integer LPs."""
    from planner.common.files import free_name
    from planner.report.xlsio import write_workbook

    inv = read_plan(plan)
    data = load_input(path, overrides)  # raises InputError for an invalid PATH (exit 1, every problem listed)
    fixed, report = plan_to_fixed(inv, data)
    scen = scenario_list(data)
    if scenarios:
        unknown = [s for s in scenarios if s not in dict(scen)]
        if unknown:
            from planner.common.suggest import did_you_mean

            hints = "".join(did_you_mean(u, dict(scen)) for u in unknown)
            raise PlannerError(f"--scenario {', '.join(unknown)}: not in {path}{hints} "
                               f"(has {', '.join(s for s, _ in scen)})")
        scen = [(s, p) for s, p in scen if s in scenarios]
    keep = ("costs", "supply", "investments")
    tasks = []
    joint = not scenarios  # all of PATH's scenarios: the plan runs through them together (the scenario tree)
    if joint:
        tasks.append(Task(path=str(path), label="plan: every scenario", out=None, write=False,
                          overrides=dict(overrides or {}), scenario=None, fixed=dict(fixed), keep=keep,
                          meta={"scenario": None, "run": "plan"}, duals=duals))
    for s, _ in scen:
        if not joint:
            tasks.append(Task(path=str(path), label=f"{s}: plan", out=None, write=False,
                              overrides=dict(overrides or {}), scenario=s, fixed=dict(fixed), keep=keep,
                              meta={"scenario": s, "run": "plan"}, duals=duals))
        tasks.append(Task(path=str(path), label=f"{s}: optimum", out=None, write=False,
                          overrides=dict(overrides or {}), scenario=s, keep=keep,
                          meta={"scenario": s, "run": "optimum"}, start=dict(fixed), duals=duals))
    outcomes = run_tasks(tasks, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                         title=f"stress test: {len(scen)} scenario(s) x (plan, optimum)")
    by = {(oc.meta["scenario"], oc.meta["run"]): oc for oc in outcomes}
    if joint and by[(None, "plan")].exit_code:
        # the plan cannot run every scenario together: say which scenario(s) it cannot run by solving each
        # alone (then operations know that scenario's future; the note says so)
        joint = False
        more = [Task(path=str(path), label=f"{s}: plan", out=None, write=False, overrides=dict(overrides or {}),
                     scenario=s, fixed=dict(fixed), keep=keep, meta={"scenario": s, "run": "plan"}, duals=duals)
                for s, _ in scen]
        outcomes += run_tasks(more, jobs=jobs, executor=executor, scheduler=scheduler, progress=progress,
                              title=f"stress test: the plan in each of {len(scen)} scenario(s) alone")
        by.update({(oc.meta["scenario"], oc.meta["run"]): oc for oc in outcomes[-len(more):]})
    elif joint:
        whole = by[(None, "plan")]
        for s, _ in scen:
            by[(s, "plan")] = _one_scenario(whole, s)
    rows, short, costs, opt_inv, infeas = [], [], [], [], []
    for s, p in scen:
        a, b = by[(s, "plan")], by[(s, "optimum")]
        ca = _cost(a)
        cb = _cost(b)
        regret = ca - cb
        rows.append({"scenario": s, "probability": p, "plan_status": a.status, "plan_cost_musd": ca,
                     "optimum_status": b.status, "optimum_cost_musd": cb, "optimum_mip_gap": b.gap,
                     "regret_musd": regret, "regret_share": regret / abs(cb) if cb == cb and cb else float("nan"),
                     "plan_shortage_t": a.headline.get("expected_shortage_t", float("nan")),
                     "optimum_shortage_t": b.headline.get("expected_shortage_t", float("nan")),
                     "plan_floor_support_musd": a.headline.get("expected_floor_support_musd", float("nan")),
                     "plan_worst_dependence_share": a.headline.get("worst_dependence_share", float("nan")),
                     "plan_worst_dependence_at": a.headline.get("worst_dependence_at", ""),
                     "message": "\n".join(x for x in (a.message, b.message) if x)[:2000]})
        sa, sb = _shortage(a), _shortage(b)
        for c in sorted(set(sa) | set(sb)):
            short.append({"scenario": s, "commodity": c, "plan_shortage_t": sa.get(c, float("nan") if a.exit_code
                                                                                 else 0.0),
                          "optimum_shortage_t": sb.get(c, float("nan") if b.exit_code else 0.0)})
        ka, kb = _costs(a), _costs(b)
        for cat in sorted(set(ka) | set(kb)):
            x = ka.get(cat, float("nan") if a.exit_code else 0.0)
            y = kb.get(cat, float("nan") if b.exit_code else 0.0)
            costs.append({"scenario": s, "category": cat, "plan_musd": x, "optimum_musd": y,
                          "difference_musd": x - y})
        oi = (b.tables or {}).get("investments")
        if oi is not None and len(oi):
            opt_inv.append(oi.assign(scenario=s)[["scenario"] + list(oi.columns)])
        if a.relaxed is not None and len(a.relaxed):
            infeas.append(a.relaxed.assign(run="plan", scenario_solved=s))
        if b.relaxed is not None and len(b.relaxed):
            infeas.append(b.relaxed.assign(run="optimum", scenario_solved=s))
    table = pd.DataFrame(rows)
    ok = table["plan_cost_musd"].notna().all() and len(table)
    psum = table["probability"].sum()
    exp_plan = float((table["probability"] * table["plan_cost_musd"]).sum()) if ok else float("nan")
    exp_opt = float((table["probability"] * table["optimum_cost_musd"]).sum()) \
        if table["optimum_cost_musd"].notna().all() else float("nan")
    n_ign = int((report["status"] != "applied").sum()) if len(report) else 0
    summary = pd.DataFrame([
        ("input", str(Path(path).resolve())), ("input_sha256", data.sha256), ("plan", str(Path(plan).resolve())),
        ("plan_items", len(report)), ("plan_items_ignored", n_ign),
        ("scenarios", ", ".join(f"{s} ({p:g})" for s, p in scen)),
        ("expected_plan_cost_musd", exp_plan if abs(psum - 1) < 1e-6 else float("nan")),
        ("expected_optimum_cost_musd", exp_opt if abs(psum - 1) < 1e-6 else float("nan")),
        ("expected_regret_musd", exp_plan - exp_opt if abs(psum - 1) < 1e-6 else float("nan")),
        ("max_regret_musd", float(table["regret_musd"].max()) if len(table) else float("nan")),
        ("max_regret_scenario", str(table.loc[table["regret_musd"].idxmax(), "scenario"])
         if len(table) and table["regret_musd"].notna().any() else ""),
        ("note", ("plan = the plan's investments fixed, operations re-solved for every scenario together, shared "
                  "while the scenarios cannot yet be told apart (SPEC §3 Information); " if joint else
                  "plan = the plan's investments fixed, operations re-solved for the scenario alone; ") + "optimum = the "
                 "input's own optimum for that scenario alone (perfect foresight); regret = plan - optimum. Money "
                 "in MUSD discounted to base_year. The expected figures weight scenarios by the input's "
                 "probabilities; expected_optimum is the wait-and-see value, so expected_regret is the plan's "
                 "expected cost of not knowing the future."),
    ], columns=["key", "value"])
    sheets = {"summary": summary, "scenarios": table,
              "shortage": pd.DataFrame(short, columns=["scenario", "commodity", "plan_shortage_t",
                                                       "optimum_shortage_t"]),
              "costs": pd.DataFrame(costs, columns=["scenario", "category", "plan_musd", "optimum_musd",
                                                    "difference_musd"]),
              "plan": report,
              "investments_optimum": pd.concat(opt_inv, ignore_index=True) if opt_inv else pd.DataFrame(
                  {"scenario": [], "note": []})}
    if infeas:
        sheets["infeasible"] = pd.concat(infeas, ignore_index=True)
    target = Path(out) if out else Path("results") / f"{Path(path).stem}.stress.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise PlannerError(f"-o must name an .xlsx file (got {target})")
    written = write_workbook(free_name(target, force), sheets, inputs=[path, plan])
    return written, table, report, outcomes, summary


def _one_scenario(oc, s: str):
    """The part of a joint plan solve that concerns scenario ``s``: an outcome-like view whose cost,
    headline figures and tables are those of ``s`` (so the per-scenario table reads it as it reads a
    single-scenario solve)."""
    from dataclasses import replace

    from planner.report.results import dependence

    tables = {k: (v[v["scenario"] == s].reset_index(drop=True) if "scenario" in v.columns else v)
              for k, v in (oc.tables or {}).items()}
    h = dict(oc.headline or {})
    if not oc.exit_code:
        sup = tables.get("supply")
        c = tables.get("costs")
        fis = tables.get("fiscal")
        h["expected_cost_musd"] = float(c[COL.cost_musd].sum()) if c is not None and len(c) else 0.0
        h["expected_shortage_t"] = float(sup[COL.shortage_t].sum()) if sup is not None and len(sup) else 0.0
        h["expected_floor_support_musd"] = float(fis[COL.floor_support_share_musd].sum()) \
            if fis is not None and len(fis) else 0.0
        h.update(dependence(sup))  # the same rule as the results' headline, on this scenario's rows
    relaxed = oc.relaxed
    if relaxed is not None and len(relaxed) and "scenario" in relaxed.columns:
        relaxed = relaxed[relaxed["scenario"].isin([s]) | relaxed["scenario"].isna()]
    part = replace(oc, tables=tables, headline=h, relaxed=relaxed)
    part.label, part.elapsed = f"{s}: plan", getattr(oc, "elapsed", float("nan"))
    part.meta = {"scenario": s, "run": "plan"}
    return part


def _cost(oc) -> float:
    if oc.exit_code:
        return float("nan")
    return float(oc.headline.get("expected_cost_musd", oc.objective))


def _shortage(oc) -> dict:
    sup = (oc.tables or {}).get("supply")
    if sup is None or not len(sup):
        return {}
    return {c: float(v) for c, v in sup.groupby("commodity")[COL.shortage_t].sum().items()}


def _costs(oc) -> dict:
    c = (oc.tables or {}).get("costs")
    if c is None or not len(c):
        return {}
    return {k: float(v) for k, v in c.groupby("category")[COL.cost_musd].sum().items()}


def print_stress(table: pd.DataFrame, report: pd.DataFrame, summary: pd.DataFrame, messages=()) -> None:
    """The stress table on the terminal (stdout; vertical when it does not fit, numbers never cut), the
    full message of every failed solve under it, then the expected figures: all on one stream."""
    from rich.text import Text

    from planner.workflows.terminal import Col, console, print_messages, print_table

    con = console()
    ign = report[report["status"] != "applied"] if len(report) else report
    for r in ign.itertuples():
        con.print(Text("plan item ignored", style="yellow") + Text(f": {r.kind} {r.item} {r.build_year}: {r.note}"))
    for r in report[(report["status"] == "applied") & (report["note"] != "")].itertuples() if len(report) else []:
        con.print(Text("plan item", style="yellow") + Text(f": {r.kind} {r.item} {r.build_year}: {r.note}"))
    cols = [Col("scenario"), Col("prob.", "right"), Col("plan"), Col("plan cost", "right"),
            Col("optimum cost", "right"), Col("regret", "right"), Col("regret %", "right"),
            Col("plan shortage (t)", "right")]

    def f(x, fmt="{:,.3f}"):
        return fmt.format(x) if x == x else ""

    rows = []
    for r in table.itertuples():
        colour = "green" if r.plan_status == "optimal" else "red"
        rows.append([str(r.scenario), f"{r.probability:g}", Text(str(r.plan_status), style=colour),
                     f(r.plan_cost_musd), f(r.optimum_cost_musd), f(r.regret_musd), f(100 * r.regret_share, "{:+.2f}%"),
                     f(r.plan_shortage_t, "{:,.1f}")])
    print_table(con, "stress test: the plan against each scenario (MUSD, discounted)", cols, rows)
    print_messages(con, [(f"[{label}]", msg) for label, msg in messages], "messages")
    kv = dict(zip(summary["key"], summary["value"]))
    if kv.get("expected_regret_musd") == kv.get("expected_regret_musd"):
        con.print(f"expected cost of the plan {kv['expected_plan_cost_musd']:,.3f} MUSD; with perfect foresight "
                  f"{kv['expected_optimum_cost_musd']:,.3f}; expected regret {kv['expected_regret_musd']:,.3f} MUSD",
                  soft_wrap=True)
