"""`planner solve` end to end (SPEC §4, §5): options, results file, status handling.

Everything runs in-process through click's CliRunner.  Money in MUSD (1 t at 1 USD/t = 1e-6 MUSD).
"""
import hashlib

import openpyxl
import pytest
from click.testing import CliRunner

from modelkit import write_book
from planner.cli import main
from planner.workflows.run import solve_file

SHEETS = ["summary", "investments", "capacity", "offtakes", "stockpiles", "supply", "trade", "security",
          "fiscal", "costs", "prices", "sources"]


def book(years=(2026, 2026), **extra):
    """A needs 100 t/yr of ox; CHN sells it without limit at 1000 USD/t."""
    y0, y1 = years
    sheets = {
        "settings": {"start_year": y0, "end_year": y1, "discount_rate": 0},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": y0, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": y0, "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "ox"}],
    }
    sheets.update(extra)
    return sheets


def run(*args):
    res = CliRunner().invoke(main, ["solve", *[str(a) for a in args]])
    assert "Traceback" not in res.output
    assert not isinstance(res.exception, Exception) or isinstance(res.exception, SystemExit), res.exception
    return res


def summary(path) -> dict:
    ws = openpyxl.load_workbook(path, read_only=True)["summary"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("key", "value")
    keys = [r[0] for r in rows[1:]]
    assert len(keys) == len(set(keys)), "summary keys must be unique"
    return {r[0]: r[1] for r in rows[1:]}


# ------------------------------------------------------------------ results file and options

def test_solve_writes_results_workbook(tmp_path):
    inp = write_book(tmp_path / "in.xlsx", book())
    out = tmp_path / "out.xlsx"
    res = run(inp, "-o", out)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    for s in SHEETS:
        assert s in wb.sheetnames
    sm = summary(out)
    assert sm["status"] == "optimal"
    # 100 t x 1000 USD/t = 0.1 MUSD
    assert sm["objective_musd"] == pytest.approx(0.1, abs=1e-9)
    assert sm["input_sha256"] == hashlib.sha256(inp.read_bytes()).hexdigest()
    for k in ("pyomo_version", "highs_version"):
        assert sm[k] and str(sm[k]).count(".") >= 1
    # the rest of SPEC §4's summary: cost by category, fiscal figures, solve time, gap, input, versions, time
    assert sm["expected_imports_musd"] == pytest.approx(0.1, abs=1e-9)
    assert sm["expected_floor_support_musd"] == pytest.approx(0.0, abs=1e-12)
    assert sm["expected_tariff_revenue_musd"] == pytest.approx(0.0, abs=1e-12)
    for k in ("solve_time_s", "mip_gap", "input_path", "planner_version", "timestamp"):
        assert k in sm
    assert sm["input_path"] == str(inp.resolve())
    # the input is untouched and the file written is exactly the one asked for
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xlsx", "out.log", "out.xlsx"]  # the log: issue 16


def test_existing_results_not_overwritten_unless_force(tmp_path):
    inp = write_book(tmp_path / "in.xlsx", book())
    out = tmp_path / "r.xlsx"
    assert run(inp, "-o", out).exit_code == 0
    first = out.read_bytes()
    res = run(inp, "-o", out)
    assert res.exit_code == 0
    assert (tmp_path / "r-2.xlsx").exists()
    assert out.read_bytes() == first
    assert "r-2.xlsx" in res.output
    res = run(inp, "-o", out, "--set", "discount_rate=0.5")
    assert (tmp_path / "r-3.xlsx").exists()
    res = run(inp, "-o", out, "--force", "--set", "objective=market")
    assert res.exit_code == 0
    assert not (tmp_path / "r-4.xlsx").exists()
    assert summary(out)["setting_objective"] == "market"  # overwritten in place


def test_scenario_option_solves_one_scenario_with_probability_one(tmp_path):
    # low 0.7 at 1000, high 0.3 at 2 x 1000: all scenarios 0.7 x 0.1 + 0.3 x 0.2 = 0.13; high alone 0.2
    b = book(scenarios=[{"scenario": "low", "probability": 0.7}, {"scenario": "high", "probability": 0.3}],
             scenario_prices=[{"scenario": "high", "commodity": "ox", "multiplier": 2}])
    inp = write_book(tmp_path / "in.xlsx", b)
    assert run(inp, "-o", tmp_path / "all.xlsx").exit_code == 0
    assert summary(tmp_path / "all.xlsx")["objective_musd"] == pytest.approx(0.13, abs=1e-9)
    res = run(inp, "-o", tmp_path / "high.xlsx", "--scenario", "high")
    assert res.exit_code == 0, res.output
    sm = summary(tmp_path / "high.xlsx")
    assert sm["objective_musd"] == pytest.approx(0.2, abs=1e-9)
    assert sm["scenarios"] == "high (1)"
    ws = openpyxl.load_workbook(tmp_path / "high.xlsx", read_only=True)["supply"]
    rows = list(ws.iter_rows(values_only=True))
    col = rows[0].index("scenario")
    assert {r[col] for r in rows[1:]} == {"high"}
    res = run(inp, "-o", tmp_path / "x.xlsx", "--scenario", "nosuch")
    assert res.exit_code == 1 and "nosuch" in res.output
    assert not (tmp_path / "x.xlsx").exists()


def test_set_overrides_a_setting(tmp_path):
    # 2026-2027, 100 t/yr at 1000: r = 0 -> 0.2; r = 0.1 -> 0.1 + 0.1 / 1.1 = 0.190909...
    inp = write_book(tmp_path / "in.xlsx", book(years=(2026, 2027)))
    assert run(inp, "-o", tmp_path / "a.xlsx").exit_code == 0
    assert summary(tmp_path / "a.xlsx")["objective_musd"] == pytest.approx(0.2, abs=1e-9)
    res = run(inp, "-o", tmp_path / "b.xlsx", "--set", "discount_rate=0.1")
    assert res.exit_code == 0, res.output
    sm = summary(tmp_path / "b.xlsx")
    assert sm["objective_musd"] == pytest.approx(0.1 + 0.1 / 1.1, abs=1e-9)
    assert sm["setting_discount_rate"] == pytest.approx(0.1)


@pytest.mark.parametrize("arg, words", [
    ("discount_rate=abc", ["discount_rate", "abc"]),
    ("discount_rate=-2", ["discount_rate"]),       # must be > -1
    ("no_such_key=1", ["no_such_key", "unknown"]),
])
def test_bad_set_is_a_clear_error(tmp_path, arg, words):
    inp = write_book(tmp_path / "in.xlsx", book())
    res = run(inp, "-o", tmp_path / "o.xlsx", "--set", arg)
    assert res.exit_code == 1, res.output
    for w in words:
        assert w in res.output
    assert not (tmp_path / "o.xlsx").exists()


def test_set_without_equals_is_a_usage_error(tmp_path):
    inp = write_book(tmp_path / "in.xlsx", book())
    res = run(inp, "--set", "discount_rate")
    assert res.exit_code == 2 and "KEY=VALUE" in res.output


def test_time_limit_and_mip_gap_accepted(tmp_path):
    inp = write_book(tmp_path / "in.xlsx", book())
    res = run(inp, "-o", tmp_path / "o.xlsx", "--time-limit", "30", "--mip-gap", "0.01")
    assert res.exit_code == 0, res.output
    sm = summary(tmp_path / "o.xlsx")
    assert sm["setting_time_limit_s"] == pytest.approx(30)
    assert sm["setting_mip_gap"] == pytest.approx(0.01)
    # out of range: time_limit_s must be > 0
    res = run(inp, "-o", tmp_path / "p.xlsx", "--time-limit", "0")
    assert res.exit_code == 1 and "time_limit_s" in res.output
    # not a number: click's usage error
    assert run(inp, "--time-limit", "soon").exit_code == 2


# ------------------------------------------------------------------ status handling

def test_infeasible_demand_names_what_must_give(tmp_path):
    # A needs 100 t, CHN sells at most 60, no shortage penalty: 100 - 60 = 40 t unmet.
    inp = write_book(tmp_path / "inf.xlsx", book(suppliers=[{"supplier": "CHN", "commodity": "ox", "max_tpa": 60}]))
    res = run(inp, "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1
    assert "infeasible" in res.output
    line = next(ln for ln in res.output.splitlines() if "demand" in ln and "short by" in ln)
    for w in ("member A", "commodity ox", "year 2026", "scenario base", "40.0 t"):
        assert w in line, line
    assert not (tmp_path / "o.xlsx").exists()
    # the same through the API: Outcome.relaxed lists what had to give
    oc = solve_file(str(inp), write=False)
    assert oc.exit_code == 1 and oc.status == "infeasible"
    rel = oc.relaxed
    assert len(rel) == 1
    r = rel.iloc[0]
    assert (r["target"], r["member"], r["commodity"], r["year"], r["scenario"]) == \
        ("demand (unmet)", "A", "ox", 2026, "base")
    assert r["shortfall"] == pytest.approx(40, abs=1e-6)


def test_infeasible_security_target_names_the_target(tmp_path):
    # min_domestic_share 0.5 of 100 t = 50 t own output, but the mine makes at most 30: 50 - 30 = 20 t short.
    b = book(processes=[{"process": "mine", "member": "A", "output": "ox", "existing_tpa": 30}],
             security=[{"commodity": "ox", "member": "A", "min_domestic_share": 0.5}])
    inp = write_book(tmp_path / "inf.xlsx", b)
    res = run(inp, "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1
    line = next(ln for ln in res.output.splitlines() if "min_domestic_share" in ln)
    for w in ("member A", "commodity ox", "year 2026", "scenario base", "20.0 t"):
        assert w in line, line
    assert "demand" not in line


def test_infeasible_budget_and_demand_listed_together(tmp_path):
    # ox: floor 1200, market 1000 -> 200 USD/t support on A's mine output; min_domestic_share 0.5 of
    # 100 t forces Q >= 50 -> support >= 50 x 200 = 10,000 USD = 0.010 MUSD > budget 0.004:
    # the budget must give 0.010 - 0.004 = 0.006 MUSD (cheaper in the elastic re-solve than 1 t of the
    # security target).  nd: 10 t demanded, nothing can supply it -> 10 t unmet.
    b = book(members=[{"member": "A", "fiscal_budget_musd": 0.004}],
             commodities=[{"commodity": "ox", "floor_price_usd_per_t": 1200}, {"commodity": "nd"}],
             demand=[{"member": "A", "commodity": "ox", "year": 2026, "demand_t": 100},
                     {"member": "A", "commodity": "nd", "year": 2026, "demand_t": 10}],
             processes=[{"process": "mine", "member": "A", "output": "ox", "existing_tpa": 100,
                         "variable_cost_usd_per_t": 900}],
             security=[{"commodity": "ox", "member": "A", "min_domestic_share": 0.5}])
    inp = write_book(tmp_path / "inf.xlsx", b)
    res = run(inp, "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1
    lines = res.output.splitlines()
    dem = next(ln for ln in lines if "demand" in ln and "short by" in ln)
    assert "commodity nd, year 2026, scenario base): short by 10.0 t" in dem, dem
    bud = next(ln for ln in lines if "fiscal budget" in ln)
    assert "(member A, scenario base): short by 0.006 MUSD" in bud, bud
    assert "nan" not in res.output and "None" not in res.output


def test_unbounded_is_reported(tmp_path):
    # Ore bought without limit at 100 USD/t, refined 1:1 in modules of 100 t costing 1000 USD each
    # (10 USD/t; continuous, unlimited) and exported at 1 x 1000 USD/t: 890 USD/t profit, no limit.
    b = book(commodities=[{"commodity": "ox", "export_price_factor": 1}, {"commodity": "ore"}],
             market_prices=[{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000},
                            {"commodity": "ore", "year": 2026, "price_usd_per_t": 100}],
             suppliers=[{"supplier": "CHN", "commodity": "ore"}, {"supplier": "CHN", "commodity": "ox"}],
             processes=[{"process": "ref", "member": "A", "output": "ox", "input": "ore", "module_tpa": 100,
                         "capex_musd_per_module": 0.001, "lifetime_years": 1, "integer_modules": False}])
    inp = write_book(tmp_path / "unb.xlsx", b)
    res = run(inp, "-o", tmp_path / "o.xlsx")
    assert res.exit_code == 1
    assert "unbounded" in res.output
    assert not (tmp_path / "o.xlsx").exists()


def test_the_terminal_shows_planner_lines_only_no_highs_banner(tmp_path):
    # HiGHS 1.16 prints "Running HiGHS ... Copyright" on stdout when highspy registers its callbacks in the
    # constructor; planner switches the log off first (solver.new_highs).  A real process: the banner is written
    # by C++ straight to file descriptor 1, which CliRunner would not see.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-m", "planner.cli", "solve", str(root / "inputs" / "tiny.xlsx"), "-o",
                        str(tmp_path / "t.xlsx")], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "HiGHS: optimal" in p.stderr          # planner's own line about the solve
    for stream in (p.stdout, p.stderr):
        assert "Running HiGHS" not in stream and "Copyright" not in stream, stream
