"""Progressive hedging with mpi-sppy (planner/workflows/decomp.py, issue 5 item 4) against the extensive form (EF).

Instances (each solves in well under a second as an EF):
- ``lp3``: the generator's tiny network (benchmarks/generate.py) with 3 scenarios, no integer projects and no
  offtakes: a pure LP whose scenarios disagree at iteration 0 (each alone builds differently);
- ``mip3``: the same network with its integer project and binary offtake, mip_gap 0;
- ``inputs/tiny.xlsx`` (docs/tiny.md, solved by hand): one integer module, 2 scenarios; alone, ``base`` would
  not build it and ``ban`` would; the EF optimum builds it (0.075 MUSD); variants without a shortage option
  (ban then needs a stockpile) and with a dear plant;
- a one-member book with an offtake that ``base`` alone signs and ``low`` cannot take (take-or-pay).

Tolerances: an LP's EF and mpi-sppy's own EF of the same scenario models are both solved by HiGHS to its
optimality tolerances (~1e-7 relative), MIPs with mip_gap 0, hence 1e-6 relative.  The PH objective is the exact
cost of the plan PH agreed on (solve_file with that first stage fixed), so it can only be ≥ the optimum; PH
stops when no first-stage decision differs between scenarios by more than 0.1 % (relative, or absolute below
one unit).  On ``lp3`` the plan it then evaluates is required within 1e-5 of the lower bound PH proves itself
(measured: ~1e-9) — since bound ≤ EF ≤ PH objective, that bounds the distance to the EF objective too.  On the
MIP cases PH must find the EF optimum itself (1e-6, or exactly where the optimum is known by hand).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import run_cli
from modelkit import write_book

from planner.input.load import load
from planner.model.prepare import prepare
from planner.solver.highs import PYOMO_SOLVER
from planner.workflows.decomp import (
    largest_plan,
    reoptimised,
    round_plan,
    scenario_creator,
    solve_file_ph,
)
from planner.workflows.run import solve_file

pytestmark = pytest.mark.slow  # long or process-heavy: run in CI, skipped by -m "not slow"

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "inputs" / "tiny.xlsx")
NO_SHORTAGE = {"commodities.X.shortage_penalty_usd_per_t": ""}  # tiny: demand must be met


def _generate():
    if "bench_generate" in sys.modules:
        return sys.modules["bench_generate"]
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_generate"] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    g = _generate()
    d = tmp_path_factory.mktemp("decomp")
    tiny = g.PRESETS["tiny"]
    return {
        "lp3": str(g.write(d / "lp3.xlsx", replace(tiny, scenarios=3, integer_projects=0, offtakes=0))),
        "mip3": str(g.write(d / "mip3.xlsx", replace(tiny, scenarios=3, mip_gap=0.0))),
    }


def _operations_only(tmp_path, **sheets) -> str:
    """A book with no first-stage decision: member A buys 10 t of X from CHN in 2026 (300 USD/t)."""
    book = {"settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0},
            "members": [{"member": "A"}],
            "commodities": [{"commodity": "X", "shortage_penalty_usd_per_t": 1000}],
            "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 300}],
            "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 10}],
            "suppliers": [{"supplier": "CHN", "commodity": "X"}], **sheets}
    return str(write_book(tmp_path / "ops.xlsx", book))


def _offtake_book(tmp_path) -> str:
    """Offtake o1 (20 t, take-or-pay 100 %) beats importing at 600 USD/t when A needs 30 t (base), but cannot be
    taken when A needs 3 t (low: no disposal, export or stock): alone, base signs and low cannot."""
    return _operations_only(
        tmp_path, demand=[{"member": "A", "commodity": "X", "year": 2026, "demand_t": 30}],
        suppliers=[{"supplier": "CHN", "commodity": "X", "price_factor": 2}],
        offtakes=[{"offtake": "o1", "seller": "AUS", "member": "A", "commodity": "X", "max_tpa": 20,
                   "min_take_share": 1, "floor_price_usd_per_t": 100, "start_year": 2026, "end_year": 2026}],
        scenarios=[{"scenario": "base", "probability": 0.5}, {"scenario": "low", "probability": 0.5}],
        scenario_demand=[{"scenario": "low", "commodity": "X", "multiplier": 0.1}])


def _ef_mpisppy(path, overrides=None) -> float:
    """mpi-sppy's own extensive form, built from planner's scenario creator."""
    with contextlib.redirect_stdout(io.StringIO()):
        from mpisppy.opt.ef import ExtensiveForm

        inp = load(path, overrides)
        d = prepare(inp)
        names, probs = list(d.scen), dict(zip(d.scen, map(float, d.prob)))
        ef = ExtensiveForm({"solver": PYOMO_SOLVER}, names, scenario_creator,
                           scenario_creator_kwargs={"inp": inp, "probs": probs})
        ef.solve_extensive_form(solver_options={"mip_rel_gap": 0.0})
        return float(ef.get_objective_value())


# ------------------------------------------------------------------ (b) the scenario models are the EF's pieces
@pytest.mark.parametrize("case, overrides", [
    ("lp3", None),
    ("mip3", None),
    ("tiny", None),
    ("tiny", {"scenarios.base.probability": 0.8, "scenarios.ban.probability": 0.2}),  # weights π_s, not 1/S
    ("lp3", {"risk_aversion": 0.5}),   # CVaR: η is first stage, ξ_s per scenario (scenario costs differ here)
])
def test_mpisppy_extensive_form_of_the_scenario_models_equals_planner_ef(books, case, overrides):
    path = TINY if case == "tiny" else books[case]
    ref = solve_file(path, overrides=overrides, write=False)
    assert ref.status == "optimal"
    assert _ef_mpisppy(path, overrides) == pytest.approx(ref.objective, rel=1e-6)


def test_every_scenario_model_has_the_same_first_stage(books):
    inp = load(books["mip3"])
    names = prepare(inp).scen
    models = [scenario_creator(s, inp, {s: 1.0 / len(names) for s in names}) for s in names]
    keys = models[0]._planner_keys
    kinds = {k[0] for k in keys}
    assert {"build", "stock_build", "signed"} <= kinds
    for m in models:
        assert m._planner_keys == keys
        assert [v.name for v in m._mpisppy_node_list[0].nonant_vardata_list] == \
            [v.name for v in models[0]._mpisppy_node_list[0].nonant_vardata_list]


# ------------------------------------------------------------------ (a), (d) LP: PH reaches the EF objective
def test_ph_on_an_lp_matches_the_extensive_form(books):
    path = books["lp3"]
    ef = solve_file(path, write=False)
    oc = solve_file_ph(path, write=False)
    ph = oc.ph
    assert oc.exit_code == 0, oc.message
    assert ph.converged and ph.iterations >= 2
    assert ph.trivial_bound < ef.objective - 1e-4   # the scenarios alone disagree: PH had work to do
    # the Lagrangian bound is solved to HiGHS's tolerances too: on the scenario tree it is tight, so it may
    # exceed the EF by solver noise (measured 2e-9 relative)
    assert ph.bound <= ef.objective * (1 + 1e-6) and ef.objective <= oc.objective * (1 + 1e-9)
    assert oc.gap <= 1e-5
    assert oc.objective == pytest.approx(ef.objective, rel=1e-5)


# ------------------------------------------------------------------ (c), (d) MIP cases PH gets right
def test_ph_finds_the_mip_optimum_of_tiny():
    # Easy for PH: one integer decision, two scenarios; alone base saves 0.015 MUSD by not building, ban 0.055 by
    # building; a few price (W) updates of about one module's cost make base follow, and then all agree.
    ef = solve_file(TINY, write=False)
    oc = solve_file_ph(TINY, write=False)
    ph = oc.ph
    assert oc.exit_code == 0, oc.message
    assert ph.trivial_bound == pytest.approx(0.5 * 0.060 + 0.5 * 0.075)   # docs/tiny.md: each scenario alone
    assert ph.converged and ph.convergence == 0 and ph.iterations >= 2
    assert ph.plan[("build", "PLANT", 2026)] == 1.0 and not ph.rounded
    assert oc.objective == pytest.approx(ef.objective, abs=1e-12) == pytest.approx(0.075)
    assert ph.bound <= ef.objective + 1e-12


def test_ph_finds_the_mip_optimum_with_integer_and_binary_decisions(books):
    ef = solve_file(books["mip3"], write=False)
    oc = solve_file_ph(books["mip3"], write=False)
    assert oc.exit_code == 0, oc.message
    assert oc.ph.converged
    assert oc.ph.bound <= ef.objective * (1 + 1e-9)
    assert oc.objective == pytest.approx(ef.objective, rel=1e-6)


def test_bounds_bracket_the_optimum_when_ph_stops_early():
    # tiny with demand to be met and the plant too dear: ban needs 100 t of stockpile capacity, base none; after
    # 4 iterations the agreed capacity is not yet exact (102.4 t where 100 t do), so bound < EF < PH objective,
    # strictly.  (After 5 it is 94.3 t, short in ban: the fallback re-optimises it and lands on the EF.)
    ov = {**NO_SHORTAGE, "processes.PLANT.capex_musd_per_module": "10"}
    ef = solve_file(TINY, overrides=ov, write=False)
    oc = solve_file_ph(TINY, overrides=ov, write=False, iterations=4)
    assert oc.exit_code == 0, oc.message
    assert not oc.ph.converged
    assert oc.ph.bound < ef.objective < oc.objective
    assert oc.gap == pytest.approx((oc.objective - oc.ph.bound) / oc.objective)


def test_ph_is_risk_averse_like_the_extensive_form():
    ov = {"risk_aversion": 0.9, "cvar_alpha": 0.5}
    ef = solve_file(TINY, overrides=ov, write=False)
    oc = solve_file_ph(TINY, overrides=ov, write=False)
    assert oc.exit_code == 0 and oc.ph.converged
    assert oc.objective == pytest.approx(ef.objective, rel=1e-9)
    assert oc.ph.bound <= ef.objective + 1e-12


# ------------------------------------------------------------------ infeasibility in the analyst's terms
def test_average_plan_short_in_a_scenario_falls_back_to_reoptimised_stockpile_capacity():
    # no PH iteration: the average of the scenarios' own plans has 50 t of stockpile where ban needs 100 t
    ov = {**NO_SHORTAGE, "processes.PLANT.capex_musd_per_module": "10"}
    ef = solve_file(TINY, overrides=ov, write=False)
    oc = solve_file_ph(TINY, overrides=ov, write=False, iterations=0)
    assert oc.exit_code == 0, oc.message
    assert oc.ph.plan[("stock_build", "A", "X", 2026)] == pytest.approx(50)
    for w in ("average plan cannot be operated", "scenario ban", "short by 50.0 t",
              "stockpile capacity re-optimised", "--ph-iterations"):
        assert w in oc.message, oc.message
    # the integer decision (no plant) is what the EF does too, so re-optimising the capacity finds the optimum
    assert oc.objective == pytest.approx(ef.objective)
    assert dict(oc.summary_extra)["ph_plan"].startswith("the integer decisions agreed")


def test_plan_infeasible_in_a_scenario_is_explained(tmp_path):
    path = _offtake_book(tmp_path)
    oc = solve_file_ph(path, write=False, iterations=0)   # signed = average 0.5, rounded up
    assert oc.exit_code == 1
    first = oc.message.splitlines()[0]
    assert "cannot be operated in every scenario" in first and "--ph-iterations" in first
    item = next(ln for ln in oc.message.splitlines() if "take-or-pay" in ln)
    for w in ("offtake o1", "member A", "commodity X", "year 2026", "scenario low", "17.0 t"):
        assert w in item, item
    # with iterations, PH agrees not to sign: the EF's optimum (a binary decision: the MIP case is easy, one
    # contract and a price on signing that grows until base gives up 0.006 MUSD of savings)
    ef = solve_file(path, write=False)
    oc = solve_file_ph(path, write=False)
    assert oc.exit_code == 0 and oc.ph.converged
    assert oc.ph.plan == {("signed", "o1"): 0.0}
    assert oc.objective == pytest.approx(ef.objective, rel=1e-9)


def test_scenario_infeasible_on_its_own_is_explained():
    ov = {**NO_SHORTAGE, "processes.PLANT.max_modules": "0", "stockpiles.A/X.max_capacity_t": "0"}
    oc = solve_file_ph(TINY, overrides=ov, write=False)
    assert oc.exit_code == 1 and oc.status == "infeasible"
    assert "scenario 'ban' is infeasible on its own" in oc.message
    assert "scenario ban" in oc.message and "100.0 t" in oc.message


# ------------------------------------------------------------------ rounding of the consensus
def test_round_plan_rounds_halves_up_and_keeps_max_modules():
    keys = [("build", "P", 2026), ("build", "P", 2027), ("stock_build", "A", "X", 2026), ("signed", "o1"),
            ("cvar_eta",)]
    limits = [([("build", "P", 2026), ("build", "P", 2027)], 1.0)]   # max_modules of P
    plan, rounded = round_plan(keys, [0.5, 0.6, -1e-9, 0.5, 3.0], [True, True, False, True, False], limits)
    # 0.5 and 0.6 round to 1 + 1 > max_modules 1: the one rounded up the most (0.5 -> 1) goes back down
    assert plan == {("build", "P", 2026): 0.0, ("build", "P", 2027): 1.0, ("stock_build", "A", "X", 2026): 0.0,
                    ("signed", "o1"): 1.0}
    assert rounded == [("build", "P", 2026), ("build", "P", 2027), ("signed", "o1")]
    # stockpile capacity left free (re-optimised at evaluation), integers as agreed
    assert reoptimised(plan) == {**plan, ("stock_build", "A", "X", 2026): None}
    # the largest module builds any scenario chose, if they keep max_modules; offtakes stay as agreed
    big = largest_plan(plan, keys, [1.0, 0.0, 80.0, 1.0, 9.0], [True, True, False, True, False], limits)
    assert big == {**plan, ("build", "P", 2026): 1.0, ("build", "P", 2027): 0.0, ("stock_build", "A", "X", 2026): None}
    assert largest_plan(plan, keys, [1.0, 1.0, 80.0, 1.0, 9.0], [True, True, False, True, False], limits) is None


# ------------------------------------------------------------------ (e), (f) command line
def _summary(path) -> dict:
    return dict(pd.read_excel(path, sheet_name="summary").values)


def test_cli_writes_the_usual_workbook_with_the_method(tmp_path):
    out, ref = tmp_path / "ph.xlsx", tmp_path / "ef.xlsx"
    res = run_cli("solve", TINY, "--decompose", "ph", "--ph-iterations", "20", "--ph-rho", "1", "--ph-tol", "1e-3",
                  "-o", out)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "progressive hedging" in res.output
    assert run_cli("solve", TINY, "-o", ref).exit_code == 0
    assert openpyxl.load_workbook(out).sheetnames == openpyxl.load_workbook(ref).sheetnames
    sm, sr = _summary(out), _summary(ref)
    assert str(sm["method"]).startswith("ph")
    assert "method" not in sr
    assert sm["objective_musd"] == pytest.approx(sr["objective_musd"]) == pytest.approx(0.075)
    assert 1 <= sm["ph_iterations"] <= 20
    assert sm["ph_lower_bound_musd"] <= sm["objective_musd"]
    assert sm["ph_gap"] == pytest.approx((sm["objective_musd"] - sm["ph_lower_bound_musd"]) / sm["objective_musd"])
    assert sm["time_ph_s"] > 0
    inv = pd.read_excel(out, sheet_name="investments")
    assert len(inv) and len(inv) == len(pd.read_excel(ref, sheet_name="investments"))


def test_help_states_the_defaults_planner_uses():
    from planner.workflows.decomp import DEFAULT_ITERATIONS, DEFAULT_RHO, DEFAULT_TOL

    res = run_cli("solve", "--help")
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for opt in ("--decompose [ef|ph]", "--ph-iterations N", "--ph-rho R", "--ph-tol T", "docs/decomposition.md"):
        assert opt in text, opt
    for value in (DEFAULT_ITERATIONS, DEFAULT_RHO, DEFAULT_TOL):
        assert f"[default: {value:g}]" in text, value


@pytest.mark.parametrize("args, words", [
    (["--decompose", "ph", "--ph-iterations", "-1"], ["--ph-iterations"]),
    (["--decompose", "ph", "--ph-iterations", "many"], ["--ph-iterations"]),
    (["--decompose", "ph", "--ph-rho", "0"], ["--ph-rho", "positive"]),
    (["--decompose", "ph", "--ph-rho", "nan"], ["--ph-rho", "positive"]),
    (["--decompose", "ph", "--ph-tol", "-0.1"], ["--ph-tol", "positive"]),
    (["--ph-rho", "2"], ["--ph-rho", "--decompose ph"]),
    (["--decompose", "xx"], ["--decompose"]),
    (["--decompose", "ph", "--scenario", "base"], ["--scenario"]),
    (["--decompose", "ph", "--jobs", "2"], ["--jobs"]),
])
def test_bad_options_are_one_line_usage_errors(tmp_path, args, words):
    res = run_cli("solve", TINY, "-o", tmp_path / "o.xlsx", *args)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    errors = [ln for ln in res.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, res.output
    for w in words:
        assert w in errors[0], errors[0]
    assert not (tmp_path / "o.xlsx").exists()


def test_single_scenario_input_is_refused_in_one_line(tmp_path):
    res = run_cli("solve", _operations_only(tmp_path), "--decompose", "ph", "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "at least two scenarios" in lines[0] and "'scenarios'" in lines[0]
    assert not (tmp_path / "o.xlsx").exists()


def test_no_first_stage_decision_leaves_independent_scenarios(tmp_path):
    path = _operations_only(
        tmp_path, scenarios=[{"scenario": "a", "probability": 0.25}, {"scenario": "b", "probability": 0.75}],
        scenario_prices=[{"scenario": "b", "commodity": "X", "multiplier": 2}])
    oc = solve_file_ph(path, write=False)
    assert oc.exit_code == 0, oc.message
    assert oc.ph.n_first_stage == 0 and oc.ph.converged
    # 10 t at 300 USD/t in a, at 600 in b: 0.25 * 0.003 + 0.75 * 0.006 MUSD
    assert oc.objective == pytest.approx(0.00525) == pytest.approx(oc.ph.bound)


def test_infeasible_plan_through_the_cli_exits_1_with_the_explanation(tmp_path):
    res = run_cli("solve", _offtake_book(tmp_path), "--decompose", "ph", "--ph-iterations", "0",
                  "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert "cannot be operated in every scenario" in res.output and "scenario low" in res.output
    assert not (tmp_path / "o.xlsx").exists()
