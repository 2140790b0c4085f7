"""Objective (SPEC §3 "Objective"): expected cost, CVaR, and the prices sheet, by hand.

Money in MUSD (1 t at 1 USD/t = 1e-6 MUSD).  A module built in 2026 with lifetime 1 and r = 0 pays its
whole capex as the 2026 annuity (annuity factor 1/1).
"""
import pytest

from modelkit import cost, solve_book


def book(p_high, capex=0.085, module=100, settings=None, **extra):
    """A needs 100 t ox in 2026; CHN sells at the market price: 1000 in 'low', x 2 = 2000 in 'high'.
    A can build integer modules of a mine (variable cost 500 USD/t, lifetime 1, lead 0)."""
    sheets = {
        "settings": dict({"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0},
                         **(settings or {})),
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": 2026, "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "ox"}],
        "processes": [{"process": "mine", "member": "A", "output": "ox", "module_tpa": module,
                       "capex_musd_per_module": capex, "lifetime_years": 1, "variable_cost_usd_per_t": 500}],
        "scenarios": [{"scenario": "low", "probability": 1 - p_high}, {"scenario": "high", "probability": p_high}],
        "scenario_prices": [{"scenario": "high", "commodity": "ox", "multiplier": 2}],
    }
    sheets.update(extra)
    return sheets


def built(oc) -> float:
    inv = oc.tables["investments"]
    return float(inv.loc[inv["kind"] == "process modules", "quantity"].sum())


# Per-scenario costs of the two plans:
#   no build: low 100 x 1000 = 0.100, high 100 x 2000 = 0.200
#   build 1:  capex 0.085 + 100 x 500 = 0.135 in both scenarios
@pytest.mark.parametrize("p_high, objective, modules", [
    # E[no build] = 0.7 x 0.1 + 0.3 x 0.2 = 0.13 < 0.135 -> import
    (0.3, 0.130, 0),
    # E[no build] = 0.5 x 0.1 + 0.5 x 0.2 = 0.15 > 0.135 -> build
    (0.5, 0.135, 1),
])
def test_expected_cost_weights_scenarios_by_probability(tmp_path, p_high, objective, modules):
    oc = solve_book(tmp_path, book(p_high))
    assert oc.objective == pytest.approx(objective, abs=1e-9)
    assert built(oc) == pytest.approx(modules)
    assert oc.headline["expected_cost_musd"] == pytest.approx(objective, abs=1e-9)
    if modules:
        # capex is first stage: in every scenario's cost
        assert cost(oc, "capex", "low") == pytest.approx(0.085, abs=1e-9)
        assert cost(oc, "capex", "high") == pytest.approx(0.085, abs=1e-9)
        assert cost(oc, scenario="high") == pytest.approx(0.135, abs=1e-9)
    else:
        assert cost(oc, scenario="low") == pytest.approx(0.100, abs=1e-9)
        assert cost(oc, scenario="high") == pytest.approx(0.200, abs=1e-9)


# p_high 0.3, cvar_alpha 0.5.  CVaR_0.5 of the no-build plan = mean of the worst half of the
# distribution: 0.3 of it at 0.2 and 0.2 of it at 0.1 -> (0.3 x 0.2 + 0.2 x 0.1) / 0.5 = 0.16
# (= eta + sum pi xi / (1 - alpha) with eta = 0.1: 0.1 + 0.3 x 0.1 / 0.5).  Build: CVaR 0.135.
@pytest.mark.parametrize("lam, objective, modules", [
    # risk-neutral: min(0.13, 0.135) = 0.13, no build
    (0.0, 0.130, 0),
    # lambda 0.1: no build 0.9 x 0.13 + 0.1 x 0.16 = 0.133 < 0.135 -> still no build
    (0.1, 0.133, 0),
    # lambda 0.5: no build 0.5 x 0.13 + 0.5 x 0.16 = 0.145 > 0.135 -> build
    (0.5, 0.135, 1),
])
def test_cvar_changes_the_plan(tmp_path, lam, objective, modules):
    oc = solve_book(tmp_path, book(0.3, settings={"risk_aversion": lam, "cvar_alpha": 0.5}))
    assert oc.objective == pytest.approx(objective, abs=1e-9)
    assert built(oc) == pytest.approx(modules)
    # the expected cost reported is the plain probability-weighted cost of the chosen plan
    assert oc.headline["expected_cost_musd"] == pytest.approx(0.135 if modules else 0.13, abs=1e-9)


def test_prices_are_undiscounted_per_scenario_marginal_costs(tmp_path):
    # LP: no modules; existing mine 60 t/yr at 700 USD/t, so the 100th tonne of ox is imported:
    #   marginal cost = CHN price: 1000 in low, 2000 in high, in both years.
    # ore: A needs 10 t; its own ore mine (100 t/yr at 300) is not full -> marginal 300 (CHN ore at 400).
    # r = 0.1 and p = 0.3 / 0.7: the sheet must undo both (USD/t per scenario, undiscounted).
    b = book(0.7, settings={"end_year": 2027, "discount_rate": 0.1},
             commodities=[{"commodity": "ox"}, {"commodity": "ore"}],
             market_prices=[{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000},
                            {"commodity": "ore", "year": 2026, "price_usd_per_t": 400}],
             demand=[{"member": "A", "commodity": "ox", "year": 2026, "demand_t": 100},
                     {"member": "A", "commodity": "ore", "year": 2026, "demand_t": 10}],
             suppliers=[{"supplier": "CHN", "commodity": "ox"}, {"supplier": "CHN", "commodity": "ore"}],
             processes=[{"process": "mine", "member": "A", "output": "ox", "existing_tpa": 60,
                         "variable_cost_usd_per_t": 700},
                        {"process": "ore_mine", "member": "A", "output": "ore", "existing_tpa": 100,
                         "variable_cost_usd_per_t": 300}])
    oc = solve_book(tmp_path, b)
    # objective: ox 60 x 700 + 40 x (0.3 x 1000 + 0.7 x 2000) = 42,000 + 68,000 = 110,000 per year;
    # ore 10 x 300 = 3,000 per year -> 113,000 x (1 + 1/1.1) USD = 0.113 x 1.909091 = 0.2157273 MUSD
    assert oc.objective == pytest.approx(0.113 * (1 + 1 / 1.1), abs=1e-9)
    pr = oc.tables["prices"].set_index(["commodity", "year", "scenario"])["marginal_cost_usd_per_t"]
    for y in (2026, 2027):
        assert pr[("ox", y, "low")] == pytest.approx(1000, rel=1e-6)
        assert pr[("ox", y, "high")] == pytest.approx(2000, rel=1e-6)
        assert pr[("ore", y, "low")] == pytest.approx(300, rel=1e-6)
        assert pr[("ore", y, "high")] == pytest.approx(300, rel=1e-6)


def test_mip_prices_come_from_the_lp_with_integers_fixed(tmp_path):
    # p_high 0.5; module 150 t at capex 0.06: build 1 -> 0.06 + 100 x 500 = 0.11 < E[import] 0.15.
    # (The LP relaxation would build 2/3 of a module: 0.04 + 0.05 = 0.09, so 0.11 proves integrality.)
    # With the module fixed at 1 the mine has 50 t spare, so one more tonne costs its variable cost:
    # 500 USD/t in both scenarios (the relaxation would instead price the capacity it lacks).
    oc = solve_book(tmp_path, book(0.5, capex=0.06, module=150))
    assert oc.objective == pytest.approx(0.11, abs=1e-9)
    assert built(oc) == pytest.approx(1)
    pr = oc.tables["prices"].set_index("scenario")["marginal_cost_usd_per_t"]
    assert pr["low"] == pytest.approx(500, rel=1e-6)
    assert pr["high"] == pytest.approx(500, rel=1e-6)
