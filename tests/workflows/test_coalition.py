"""planner coalition (SPEC §6): the cost game, its allocations and the core check.

The hand-computed cases are one-year, one-scenario LPs with discount rate 0, no stockpile value at the end
(terminal_stock_value 0) and one commodity OX (market price 1000 USD/t, bought from ROW without limit):
c(S) is then cheapest production + transport + imports, worked out below in MUSD.
"""
from __future__ import annotations

import math

import numpy as np
import openpyxl
import pytest
from conftest import run_cli, write_book

from planner.workflows.coalition import (
    members_text,
    nucleolus,
    permutations,
    run_coalition,
    shapley_exact,
    shapley_sampled,
)

SETTINGS = [{"key": "start_year", "value": 2025}, {"key": "end_year", "value": 2025},
            {"key": "discount_rate", "value": 0}, {"key": "default_route_cost_usd_per_t", "value": 100},
            {"key": "terminal_stock_value", "value": 0}]


def book(members, demand, mine_tpa=None, extra=None):
    """members: names; demand: member -> t of OX in 2025; mine_tpa: capacity of a mine at the first member
    (variable cost 400 USD/t)."""
    b = {
        "settings": [dict(r) for r in SETTINGS],
        "members": [{"member": m} for m in members],
        "commodities": [{"commodity": "OX"}, {"commodity": "X2"}],
        "market_prices": [{"commodity": "OX", "year": 2025, "price_usd_per_t": 1000},
                          {"commodity": "X2", "year": 2025, "price_usd_per_t": 1000}],
        "demand": [{"member": m, "commodity": "OX", "year": 2025, "demand_t": t} for m, t in demand.items()],
        "suppliers": [{"supplier": "ROW", "commodity": "OX"}, {"supplier": "ROW", "commodity": "X2"}],
    }
    if mine_tpa:
        b["processes"] = [{"process": "mine", "member": members[0], "output": "OX", "existing_tpa": mine_tpa,
                           "variable_cost_usd_per_t": 400}]
    for k, v in (extra or {}).items():
        b[k] = v
    return b


def run(tmp_path, b, **kw):
    p = write_book(tmp_path / "game.xlsx", b)
    return run_coalition(p, out=str(tmp_path / "game.coalition.xlsx"), progress=False, **kw)


def alloc(res, col):
    a = res.tables["allocation"]
    return dict(zip(a["member"], a[col]))


def costs(res):
    c = res.tables["coalitions"]
    return dict(zip(c["members"], c["cost_musd"]))


# ------------------------------------------------------------------ pure functions (no solves)
def test_shapley_exact_three_players_by_formula():
    # c(A)=4, c(B)=20, c(C)=10, c(AB)=16.5, c(AC)=9, c(BC)=30, c(ABC)=26.5 (the 3-member case below);
    # φ_A = c(A)/3 + (c(AB)-c(B))/6 + (c(AC)-c(C))/6 + (c(N)-c(BC))/3 = -7/12, φ_B = 215/12, φ_C = 110/12
    c = np.zeros(8)
    c[1], c[2], c[4], c[3], c[5], c[6], c[7] = 4, 20, 10, 16.5, 9, 30, 26.5
    assert shapley_exact(3, c) == pytest.approx([-7 / 12, 215 / 12, 110 / 12])


def test_nucleolus_two_players_splits_the_saving_equally():
    # c(A)=4, c(B)=20, c(AB)=14: saving 10, each keeps half: x = (4-5, 20-5); least core ε = -5
    c = np.array([0, 4, 20, 14.0])
    nuc, lc, eps = nucleolus(2, c)
    assert nuc == pytest.approx([-1, 15])
    assert eps == pytest.approx(-5)
    assert lc.sum() == pytest.approx(14)


def test_nucleolus_glove_game_like_core_point():
    # symmetric 3-player cost game c(i)=10, c(ij)=15, c(N)=18: nucleolus (6, 6, 6) by symmetry;
    # excesses: singletons 6-10=-4, pairs 12-15=-3 -> least core ε = -3
    c = np.array([0, 10, 10, 15, 10, 15, 15, 18.0])
    nuc, _, eps = nucleolus(3, c)
    assert nuc == pytest.approx([6, 6, 6])
    assert eps == pytest.approx(-3)


def test_sampled_shapley_converges_to_exact_on_five_members():
    # a 5-player game with interaction (c(S) = 10|S| - |S|^2/2 + 3 * [member 0 in S] * |S|): the sampled
    # mean approaches the exact value, and its standard error shrinks like 1/sqrt(samples)
    n = 5

    def c(m):
        k = m.bit_count()
        return 10 * k - k * k / 2 + 3 * (m & 1) * k

    carr = np.array([c(m) for m in range(1 << n)], dtype=float)
    exact = shapley_exact(n, carr)
    errs, ses = [], []
    for k in (20, 2000):
        mean, se = shapley_sampled(n, permutations(n, k, seed=3), c)
        assert mean.sum() == pytest.approx(carr[-1])  # every permutation's marginals sum to c(N)
        assert np.all(np.abs(mean - exact) <= 4 * se + 1e-9)
        errs.append(np.abs(mean - exact).max())
        ses.append(se.max())
    assert errs[1] < errs[0]
    assert ses[1] < ses[0] / 5  # sqrt(100) = 10 in theory


def test_members_text():
    assert members_text(["USA"]) == "USA"
    assert members_text(["USA", "JPN"]) == "USA and JPN"
    assert members_text(["USA", "JPN", "EU"]) == "USA, JPN and EU"


# ------------------------------------------------------------------ hand-computed games (solves)
def test_two_members_by_hand(tmp_path):
    # A: demand 10,000 t and a mine of 30,000 t/yr at 400 USD/t; B: demand 20,000 t, nothing else.
    # c(A) = 10,000 x 400 = 4 MUSD; c(B) = 20,000 x 1000 (imports) = 20 MUSD;
    # c(AB) = 30,000 x 400 + 20,000 x 100 (route A->B) = 12 + 2 = 14 MUSD.
    # Shapley: φ_A = (c(A) + c(AB) - c(B)) / 2 = -1, φ_B = (c(B) + c(AB) - c(A)) / 2 = 15;
    # nucleolus of a 2-player game: the saving 10 split equally -> the same (-1, 15).
    res = run(tmp_path, book(["A", "B"], {"A": 10_000, "B": 20_000}, mine_tpa=30_000))
    assert costs(res) == pytest.approx({"A": 4, "B": 20, "A, B": 14}, abs=1e-6)
    assert alloc(res, "standalone_musd") == pytest.approx({"A": 4, "B": 20})
    assert alloc(res, "shapley_musd") == pytest.approx({"A": -1, "B": 15}, abs=1e-6)
    assert alloc(res, "nucleolus_musd") == pytest.approx({"A": -1, "B": 15}, abs=1e-6)
    assert alloc(res, "saving_shapley_musd") == pytest.approx({"A": 5, "B": 5}, abs=1e-6)
    sq = alloc(res, "status_quo_musd")
    assert sum(sq.values()) == pytest.approx(14, abs=1e-6)  # status quo: own cost rows of the grand solution
    core = res.tables["core"].set_index("allocation")
    assert bool(core.at["shapley", "in_core"])
    # status quo: A produces for B (12 MUSD) and B pays only transport: A would leave and save 8
    assert "A would save" in core.at["status quo", "verdict"]
    wb = openpyxl.load_workbook(res.out, read_only=True)
    assert {"summary", "allocation", "coalitions", "core", "charts"} <= set(wb.sheetnames)
    wb.close()


@pytest.mark.slow
def test_three_members_by_hand(tmp_path):
    # mine at A: 25,000 t/yr at 400 USD/t; demand A 10,000, B 20,000, C 10,000 t; route 100 USD/t; imports 1000.
    # Shipping a tonne from A saves 1000 - 400 - 100 = 500 USD, so A ships all its surplus:
    # c(A)=4, c(B)=20, c(C)=10; c(AB) = 25k x 400 + 15k x 100 + 5k x 1000 = 10 + 1.5 + 5 = 16.5;
    # c(AC) = 20k x 400 + 10k x 100 = 9; c(BC) = 30 (imports); c(ABC) = 10 + 1.5 + 15k x 1000 = 26.5.
    # Shapley (3-player formula, see test_shapley_exact_three_players_by_formula): (-7/12, 215/12, 110/12).
    res = run(tmp_path, book(["A", "B", "C"], {"A": 10_000, "B": 20_000, "C": 10_000}, mine_tpa=25_000))
    assert costs(res) == pytest.approx({"A": 4, "B": 20, "C": 10, "A, B": 16.5, "A, C": 9, "B, C": 30,
                                        "A, B, C": 26.5}, abs=1e-6)
    sh = alloc(res, "shapley_musd")
    assert [sh[m] for m in "ABC"] == pytest.approx([-7 / 12, 215 / 12, 110 / 12], abs=1e-6)
    for col in ("shapley_musd", "nucleolus_musd", "least_core_musd", "status_quo_musd"):  # efficiency
        assert sum(alloc(res, col).values()) == pytest.approx(26.5, abs=1e-6)


@pytest.mark.slow
def test_symmetry_and_dummy(tmp_path):
    # B and C are identical (10,000 t each, nothing else): identical shares under Shapley and nucleolus.
    # D buys 5,000 t of X2, which nobody else makes or needs: c(S + D) = c(S) + 5, so D is a dummy and
    # gets its standalone cost 5 under every allocation.
    b = book(["A", "B", "C", "D"], {"A": 10_000, "B": 10_000, "C": 10_000}, mine_tpa=25_000)
    b["demand"].append({"member": "D", "commodity": "X2", "year": 2025, "demand_t": 5_000})
    res = run(tmp_path, b, jobs=2)
    for col in ("shapley_musd", "nucleolus_musd"):
        x = alloc(res, col)
        assert x["B"] == pytest.approx(x["C"], abs=1e-6)
        assert x["D"] == pytest.approx(5.0, abs=1e-6)
        assert sum(x.values()) == pytest.approx(costs(res)["A, B, C, D"], abs=1e-6)


def test_export_revenue_and_gross_gap_offset(tmp_path):
    # A: a mine of 30,000 t/yr at 400 USD/t, no demand; OX may be exported at 0.9 x 1000; route 50 USD/t.
    # c(A) = 30,000 x (400 - 900) = -15 MUSD (negative: export revenue); c(B) = 20,000 x 1000 = 20;
    # c(AB) = 12 (mine) + 20,000 x 50 (to B) - 10,000 x 900 (exported) = 4 (shipping to B saves 1000 - 50 > 900).
    # Shapley: A (-15 + 4 - 20)/2 = -15.5, B (20 + 4 + 15)/2 = 19.5. AB is solved with its MIP gap measured
    # against its gross cost (a constant 2 x 15 added to the objective and taken off again).
    b = book(["A", "B"], {"B": 20_000}, mine_tpa=30_000)
    b["commodities"][0]["export_price_factor"] = 0.9
    b["settings"][3]["value"] = 50
    res = run(tmp_path, b)
    assert costs(res) == pytest.approx({"A": -15, "B": 20, "A, B": 4}, abs=1e-6)
    assert alloc(res, "shapley_musd") == pytest.approx({"A": -15.5, "B": 19.5}, abs=1e-6)


def test_infeasible_alone_is_relaxed_at_the_penalty(tmp_path):
    # A and B each need 10,000 t; only B has a stockpile (5,000 t held all year: end stock >= initial);
    # a bloc-wide row asks for 36.5 stock days = 10% of consumption.
    # c(B) = 10 MUSD (imports; 1,000 t of stock needed, 5,000 held). c(A): nothing in {A} can hold stock,
    # so A alone is infeasible and misses 1,000 t, relaxed at 100,000 USD/t (no penalty in the workbook):
    # 100 + 10 = 110 MUSD, marked. c(AB) = 20 (B's stock covers 2,000 t). Shapley: A (110 + 20 - 10)/2 = 60,
    # B (10 + 20 - 110)/2 = -40.
    b = book(["A", "B"], {"A": 10_000, "B": 10_000}, extra={
        "stockpiles": [{"member": "B", "commodity": "OX", "existing_capacity_t": 5000, "initial_stock_t": 5000}],
        "security": [{"commodity": "OX", "min_stock_days": 36.5}]})
    res = run(tmp_path, b)
    c = res.tables["coalitions"].set_index("members")
    assert c.at["A", "cost_musd"] == pytest.approx(110, abs=1e-6)
    assert bool(c.at["A", "relaxed"]) and c.at["A", "status"] == "relaxed"
    assert c.at["A", "relaxed_t"] == pytest.approx(1000)
    assert not c.at["B", "relaxed"] and c.at["B", "cost_musd"] == pytest.approx(10, abs=1e-6)
    assert alloc(res, "shapley_musd") == pytest.approx({"A": 60, "B": -40}, abs=1e-6)
    assert any("relaxed" in m for m in res.messages)


@pytest.mark.slow
def test_ledger_sheet_in_grand_coalition(tmp_path):
    res = run(tmp_path, book(["A", "B"], {"A": 10_000, "B": 20_000}, mine_tpa=30_000))
    led = res.tables["ledger"]
    assert set(led["member"]) == {"A", "B"}
    assert (led.groupby("member")["worst_scenario"].sum() == 1).all()


# ------------------------------------------------------------------ bad input: one line, no traceback
def test_members_unknown_is_a_usage_error(tmp_path):
    p = write_book(tmp_path / "g.xlsx", book(["A", "B"], {"A": 10, "B": 10}))
    r = run_cli("coalition", p, "--members", "A,ZZZ", "-o", tmp_path / "o.xlsx")
    assert r.exit_code == 2
    assert "ZZZ is not a member" in r.output and "Traceback" not in r.output


def test_members_single_is_a_usage_error(tmp_path):
    p = write_book(tmp_path / "g.xlsx", book(["A", "B"], {"A": 10, "B": 10}))
    r = run_cli("coalition", p, "--members", "A", "-o", tmp_path / "o.xlsx")
    assert r.exit_code == 2 and "at least two" in r.output and "Traceback" not in r.output


def test_single_member_bloc(tmp_path):
    p = write_book(tmp_path / "g.xlsx", book(["A"], {"A": 10}))
    r = run_cli("coalition", p, "-o", tmp_path / "o.xlsx")
    assert r.exit_code == 1 and "needs at least two" in r.output and "Traceback" not in r.output
    assert len([x for x in r.output.splitlines() if x.strip()]) == 1


def test_every_coalition_infeasible(tmp_path):
    # OX demand with no supplier and no plant: every coalition is infeasible alone
    b = book(["A", "B"], {"A": 10, "B": 10})
    b["suppliers"] = [{"supplier": "ROW", "commodity": "X2"}]
    p = write_book(tmp_path / "g.xlsx", b)
    r = run_cli("coalition", p, "-o", tmp_path / "o.xlsx")
    assert r.exit_code == 1 and "every coalition is infeasible" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o.xlsx").exists()


@pytest.mark.slow
def test_cli_writes_workbook_and_table(tmp_path):
    p = write_book(tmp_path / "g.xlsx", book(["A", "B"], {"A": 10_000, "B": 20_000}, mine_tpa=30_000))
    out = tmp_path / "o.xlsx"
    r = run_cli("coalition", p, "-o", out)
    assert r.exit_code == 0, r.output
    assert out.exists() and "Shapley" in r.output and "c(N) = 14.0 MUSD" in r.output


@pytest.mark.slow
def test_sampled_mode_end_to_end_five_members(tmp_path):
    # 5 members, sampled with many orders: every coalition gets solved once (reuse), the sampled Shapley
    # value sums to c(N) exactly and lies within 4 standard errors of the exact one
    dem = {"A": 10_000, "B": 20_000, "C": 10_000, "D": 5_000, "E": 15_000}
    b = book(list(dem), dem, mine_tpa=40_000)
    exact = run(tmp_path, b, jobs=2)
    sampled = run_coalition(str(tmp_path / "game.xlsx"), out=str(tmp_path / "s.xlsx"), progress=False,
                            samples=200, seed=1, jobs=2)
    assert sampled.mode == "sampled" and len(sampled.tables["coalitions"]) <= 31
    ex, sm, se = alloc(exact, "shapley_musd"), alloc(sampled, "shapley_musd"), alloc(sampled, "shapley_se_musd")
    assert sum(sm.values()) == pytest.approx(costs(exact)["A, B, C, D, E"], abs=1e-6)
    for m in dem:
        assert abs(sm[m] - ex[m]) <= 4 * se[m] + 1e-6
    assert not math.isnan(max(se.values()))


def test_ledger_by_hand_in_results(tmp_path):
    # A's mine (30,000 t at 400 USD/t) covers A (10,000 t) and 20,000 t of B's 25,000 t; B imports 5,000 t from
    # ROW with a 10 USD/t tariff. OX has a floor of 1200 against a market price of 1000: support
    # 200 x 30,000 = 6 MUSD, borne 1:3 by A and B (burden shares) -> A pays 1.5, B 4.5; A's producers receive 6.
    # Tariff revenue B = 5,000 x 10 = 0.05 MUSD. Net fiscal position: A -1.5, B 0.05 - 4.5 = -4.45.
    from planner.workflows.run import solve_file

    b = book(["A", "B"], {"A": 10_000, "B": 25_000}, mine_tpa=30_000)
    b["members"] = [{"member": "A", "burden_share": 1}, {"member": "B", "burden_share": 3}]
    b["commodities"][0]["floor_price_usd_per_t"] = 1200
    b["suppliers"][0]["tariff_usd_per_t"] = 10
    oc = solve_file(write_book(tmp_path / "l.xlsx", b), write=False)
    led = oc.tables["ledger"]
    row = led[led["scenario"] == "base"].set_index("member")
    assert row.at["A", "floor_support_paid_musd"] == pytest.approx(1.5)
    assert row.at["A", "floor_support_received_musd"] == pytest.approx(6.0)
    assert row.at["B", "floor_support_paid_musd"] == pytest.approx(4.5)
    assert row.at["B", "tariff_revenue_musd"] == pytest.approx(0.05)
    assert row["net_fiscal_position_musd"].to_dict() == pytest.approx({"A": -1.5, "B": -4.45})
    assert bool(row.at["A", "worst_scenario"]) and bool(row.at["B", "worst_scenario"])
    exp = led[led["scenario"] == "(expected)"].set_index("member")
    assert exp.at["B", "net_fiscal_position_musd"] == pytest.approx(-4.45)


@pytest.mark.slow
def test_compare_two_coalition_workbooks(tmp_path):
    a = run(tmp_path, book(["A", "B"], {"A": 10_000, "B": 20_000}, mine_tpa=30_000))
    (tmp_path / "b").mkdir()
    b = run(tmp_path / "b", book(["A", "B"], {"A": 10_000, "B": 20_000}, mine_tpa=20_000))
    out = tmp_path / "cmp.xlsx"
    r = run_cli("compare", a.out, b.out, "-o", out)
    assert r.exit_code == 0, r.output
    assert "c_N_musd" in r.output and "Traceback" not in r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"allocation", "coalitions", "core"} <= set(wb.sheetnames)
    wb.close()


def test_coalitions_solved_to_the_grand_coalitions_precision(tmp_path, monkeypatch):
    # Every c(S) beyond the first phase (the bloc and each member alone) is solved with an absolute MIP gap of
    # mip_gap x |c(N)| MUSD (issue 13): here mip_gap 1e-5 (the default) and c(ABC) = 26.5 (see the three-member
    # case above), so 2.65e-4 MUSD for AB, AC and BC, and none for the first phase.
    import planner.solver.highs as H

    seen = {}
    real = H._solve_arrays

    def spy(arrays, compile_seconds, **kw):
        seen.setdefault("calls", []).append(kw.get("mip_abs_gap"))
        return real(arrays, compile_seconds, **kw)

    monkeypatch.setattr(H, "_solve_arrays", spy)
    res = run(tmp_path, book(["A", "B", "C"], {"A": 10_000, "B": 20_000, "C": 10_000}, mine_tpa=25_000))
    assert costs(res)["A, B, C"] == pytest.approx(26.5, abs=1e-6)
    gaps = seen["calls"]
    assert len(gaps) == 7
    assert gaps[:4] == [None] * 4
    assert gaps[4:] == pytest.approx([26.5e-5] * 3)
