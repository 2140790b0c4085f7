"""Hand-computed optima for the investment family (SPEC §3 "Capacity", "Builds", capex annuity).

Every case: one member A, one commodity ``ox`` with demand, an outside supplier
W selling ox at the market price (the alternative to building), and one process
``plant`` at A making ox from nothing.  Money: 1 t x 1 USD/t = 1e-6 MUSD.
"""
import pytest

from modelkit import cost, solve_book


def book(years=(2026, 2026), r=0.0, demand=100.0, price=1000.0, plant=None, **settings):
    proc = {"process": "plant", "member": "A", "output": "ox", "variable_cost_usd_per_t": 200}
    proc.update(plant or {})
    return {
        "settings": {"start_year": years[0], "end_year": years[1], "discount_rate": r, "mip_gap": 0, **settings},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": years[0], "price_usd_per_t": price}],
        "demand": [{"member": "A", "commodity": "ox", "year": years[0], "demand_t": demand}],
        "suppliers": [{"supplier": "W", "commodity": "ox"}],
        "processes": [proc],
    }


def builds(oc):
    inv = oc.tables["investments"]
    inv = inv[inv["kind"] == "process modules"]
    return {int(y): float(q) for y, q in zip(inv["build_year"], inv["quantity"])}


def supply(oc, year, col, member="A", commodity="ox", scenario="base"):
    s = oc.tables["supply"]
    row = s[(s["member"] == member) & (s["commodity"] == commodity) & (s["year"] == year) & (s["scenario"] == scenario)]
    return float(row[col].sum())


def test_lead_time_module_operates_from_build_plus_lead(tmp_path):
    # 2026-2028, demand 100 t/yr, import 1000 USD/t, module 100 t, capex 0.03 MUSD, life 10, lead 1, r = 0.
    # Annuity 0.03/10 = 0.003 MUSD per operating year.
    # Build 2026 -> operates 2027, 2028: capex 2 x 0.003 = 0.006; produce 2 x 100 t x 200 = 0.04;
    #   import 2026 100 t x 1000 = 0.1  -> 0.146
    # Build 2027 -> operates 2028 only: 0.003 + 0.02 + 0.2 = 0.223; no build: 0.3.
    oc = solve_book(tmp_path, book((2026, 2028), plant={
        "module_tpa": 100, "capex_musd_per_module": 0.03, "lifetime_years": 10, "lead_time_years": 1}))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.146, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(1)}
    inv = oc.tables["investments"]
    assert int(inv["online_year"].iloc[0]) == 2027
    # nothing can be produced in the build year itself: 2026 is all imports
    assert supply(oc, 2026, "production_t") == pytest.approx(0)
    assert supply(oc, 2026, "imports_other_t") == pytest.approx(100)
    assert supply(oc, 2027, "production_t") == pytest.approx(100)
    assert cost(oc, "capex") == pytest.approx(0.006, abs=1e-9)


def test_lifetime_capacity_ends_and_annuity_only_in_horizon(tmp_path):
    # 2026-2028, lead 0, life 2, capex 0.06 -> annuity 0.03/yr; saving per operating year 100 x (1000-200) = 0.08.
    # Module from 2026 operates 2026, 2027 only (capacity ends in 2028), so 2028 needs a second module.
    # Built in 2028 it operates 2028 (and 2029, outside the horizon): pays one annuity 0.03, not 0.06.
    # Cost: capex 0.03 x 2 + 0.03 x 1 = 0.09; production 3 x 100 x 200 = 0.06 -> 0.15.
    # (If capacity never ended: one module, 0.03 x 2 + 0.06 = 0.12; if the full life were paid: 0.18.)
    oc = solve_book(tmp_path, book((2026, 2028), plant={
        "module_tpa": 100, "capex_musd_per_module": 0.06, "lifetime_years": 2}))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.15, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(1), 2028: pytest.approx(1)}
    assert cost(oc, "capex") == pytest.approx(0.09, abs=1e-9)
    cap = oc.tables["capacity"]
    assert list(cap.sort_values("year")["new_tpa"]) == pytest.approx([100, 100, 100])


def test_existing_until(tmp_path):
    # existing 100 t/yr until 2026; 2026-2027, demand 100/yr.
    # 2026: produce 100 x 200 = 0.02; 2027: import 100 x 1000 = 0.1 -> 0.12
    oc = solve_book(tmp_path, book((2026, 2027), plant={"existing_tpa": 100, "existing_until": 2026}))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.12, abs=1e-9)
    assert supply(oc, 2026, "production_t") == pytest.approx(100)
    assert supply(oc, 2027, "production_t") == pytest.approx(0)
    assert supply(oc, 2027, "imports_other_t") == pytest.approx(100)


def test_availability_below_one(tmp_path):
    # existing 100, availability 0.8 -> produce 80 x 200 = 0.016; import 20 x 1000 = 0.02 -> 0.036
    oc = solve_book(tmp_path, book(plant={"existing_tpa": 100, "availability": 0.8}))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.036, abs=1e-9)
    assert supply(oc, 2026, "production_t") == pytest.approx(80)
    assert supply(oc, 2026, "imports_other_t") == pytest.approx(20)


def test_availability_applies_to_modules(tmp_path):
    # module 100 t, availability 0.5, capex 0.01 life 1; demand 100.
    # 2 modules (100 t usable): 0.02 + 100 x 200 = 0.04; 1 module: 0.01 + 50 x 200 + 50 x 1000 = 0.07 -> 2
    oc = solve_book(tmp_path, book(plant={"module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1,
                                          "availability": 0.5}))
    assert oc.objective == pytest.approx(0.04, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(2)}
    cap = oc.tables["capacity"]
    assert float(cap["available_tpa"].iloc[0]) == pytest.approx(100)


def test_max_modules_binding(tmp_path):
    # module 50 t, capex 0.01, life 1 -> 0.01/yr; each module saves 50 x 800 = 0.04 > 0.01, so 2 wanted.
    # max_modules 1: capex 0.01 + produce 50 x 200 = 0.01 + import 50 x 1000 = 0.05 -> 0.07
    # (unlimited: 2 x 0.01 + 100 x 200 = 0.04)
    plant = {"module_tpa": 50, "capex_musd_per_module": 0.01, "lifetime_years": 1}
    oc = solve_book(tmp_path, book(plant={**plant, "max_modules": 1}))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.07, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(1)}
    free = solve_book(tmp_path, book(plant=plant))
    assert free.objective == pytest.approx(0.04, abs=1e-9)
    assert builds(free) == {2026: pytest.approx(2)}


def test_max_modules_over_whole_horizon(tmp_path):
    # 2026-2027, demand 100/yr, module 100 t, capex 0.02, life 1 (0.02/yr), max_modules 1 over the horizon:
    # one module (either year): 0.02 + 100 x 200 = 0.02 + other year import 0.1 -> 0.14 (not 2 x 0.04 = 0.08)
    oc = solve_book(tmp_path, book((2026, 2027), plant={
        "module_tpa": 100, "capex_musd_per_module": 0.02, "lifetime_years": 1, "max_modules": 1}))
    assert oc.objective == pytest.approx(0.14, abs=1e-9)
    assert sum(builds(oc).values()) == pytest.approx(1)


def test_integer_vs_continuous_modules(tmp_path):
    # demand 40 t, module 100 t, capex 0.01, life 1 (0.01/yr); import 40 x 1000 = 0.04.
    # integer: one whole module: 0.01 + 40 x 200 = 0.008 -> 0.018 (< 0.04)
    # continuous: 0.4 module: 0.004 + 0.008 -> 0.012
    plant = {"module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1}
    oi = solve_book(tmp_path, book(demand=40, plant={**plant, "integer_modules": True}))
    assert oi.objective == pytest.approx(0.018, abs=1e-9)
    assert builds(oi) == {2026: pytest.approx(1)}
    assert oi.tables["capacity"]["new_tpa"].iloc[0] == pytest.approx(100)
    oc = solve_book(tmp_path, book(demand=40, plant={**plant, "integer_modules": False}))
    assert oc.objective == pytest.approx(0.012, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(0.4)}
    assert oc.tables["capacity"]["new_tpa"].iloc[0] == pytest.approx(40)


def test_integer_module_not_worth_it_for_small_demand(tmp_path):
    # demand 10: whole module 0.01 + 10 x 200 = 0.012 > import 10 x 1000 = 0.01 -> no build, 0.01
    # continuous: 0.1 module 0.001 + 0.002 = 0.003
    plant = {"module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1}
    oi = solve_book(tmp_path, book(demand=10, plant=plant))
    assert oi.objective == pytest.approx(0.01, abs=1e-9)
    assert builds(oi) == {}
    oc = solve_book(tmp_path, book(demand=10, plant={**plant, "integer_modules": "FALSE"}))
    assert oc.objective == pytest.approx(0.003, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(0.1)}


def test_first_build_year(tmp_path):
    # 2026-2028, lead 0, life 10, capex 0.1 -> 0.01/yr, first_build_year 2027.
    # build 2027 (operates 2027, 2028): capex 0.02 + produce 2 x 100 x 200 = 0.04 + import 2026 0.1 -> 0.16
    # (allowed in 2026 it would be 0.03 + 0.06 = 0.09)
    plant = {"module_tpa": 100, "capex_musd_per_module": 0.1, "lifetime_years": 10}
    oc = solve_book(tmp_path, book((2026, 2028), plant={**plant, "first_build_year": 2027}))
    assert oc.objective == pytest.approx(0.16, abs=1e-9)
    assert builds(oc) == {2027: pytest.approx(1)}
    early = solve_book(tmp_path, book((2026, 2028), plant=plant))
    assert early.objective == pytest.approx(0.09, abs=1e-9)
    assert builds(early) == {2026: pytest.approx(1)}


def test_first_build_year_before_start_is_clipped(tmp_path):
    # first_build_year 2020 < start 2026: builds from 2026; 1 year, life 1, capex 0.01:
    # 0.01 + 100 x 200 = 0.03
    oc = solve_book(tmp_path, book(plant={"module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1,
                                          "first_build_year": 2020}))
    assert oc.objective == pytest.approx(0.03, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(1)}


def test_fixed_om_paid_only_in_operating_years(tmp_path):
    # 2026-2027, lead 1, life 2, capex 0.02 (0.01/yr), fixed O&M 0.05 per module-year.
    # build 2026 -> operates 2027 (2028 outside): capex 0.01 + fixed O&M 0.05 + produce 100 x 200 = 0.02
    #   + import 2026 100 x 1000 = 0.1 -> 0.18 (< no build 0.2)
    # (were O&M paid from the build year: 0.1 + 0.01 + 0.02 + 0.1 = 0.23 > 0.2, no build)
    oc = solve_book(tmp_path, book((2026, 2027), plant={
        "module_tpa": 100, "capex_musd_per_module": 0.02, "lifetime_years": 2, "lead_time_years": 1,
        "fixed_om_musd_per_module_yr": 0.05}))
    assert oc.objective == pytest.approx(0.18, abs=1e-9)
    assert builds(oc) == {2026: pytest.approx(1)}
    assert cost(oc, "fixed_om") == pytest.approx(0.05, abs=1e-9)
    assert cost(oc, "capex") == pytest.approx(0.01, abs=1e-9)
    assert cost(oc, "variable") == pytest.approx(0.02, abs=1e-9)
    assert cost(oc, "imports") == pytest.approx(0.1, abs=1e-9)


def test_fixed_om_makes_building_unattractive(tmp_path):
    # 1 year, capex 0.01 life 1, fixed O&M 0.08: build = 0.01 + 0.08 + 0.02 = 0.11 > import 0.1 -> no build
    oc = solve_book(tmp_path, book(plant={"module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1,
                                          "fixed_om_musd_per_module_yr": 0.08}))
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert builds(oc) == {}


def test_discounted_annuity_with_positive_rate(tmp_path):
    # r = 0.1, 2026-2028, base_year 2026 (δ = 1, 1/1.1, 1/1.21), demand 1000 t/yr, import 1000 USD/t (1 MUSD/yr),
    # variable cost 100 USD/t (0.1 MUSD/yr), module 1000 t, capex 1 MUSD, life 5, lead 1.
    # AF = 0.1 / (1 - 1.1^-5) = 0.1 / 0.3790787 = 0.2637975
    # build 2026 -> operates 2027, 2028: Σδ = 0.9090909 + 0.8264463 = 1.7355372
    #   capex 0.2637975 x 1.7355372 = 0.4578306; production 0.1 x 1.7355372 = 0.1735537; import 2026: 1.0
    #   total 1.6313843
    # (build 2027: 0.2180 + 1.9091 + 0.0826 = 2.2097; none: 2.7355)
    af = 0.1 / (1 - 1.1 ** -5)
    assert af == pytest.approx(0.2637975, abs=1e-7)
    disc = 1 / 1.1 + 1 / 1.21
    oc = solve_book(tmp_path, book((2026, 2028), r=0.1, demand=1000, plant={
        "variable_cost_usd_per_t": 100, "module_tpa": 1000, "capex_musd_per_module": 1, "lifetime_years": 5,
        "lead_time_years": 1}))
    assert oc.status == "optimal"
    assert cost(oc, "capex") == pytest.approx(af * disc, rel=1e-7)
    assert cost(oc, "capex") == pytest.approx(0.4578306, abs=1e-6)
    assert cost(oc, "variable") == pytest.approx(0.1735537, abs=1e-6)
    assert cost(oc, "imports") == pytest.approx(1.0, abs=1e-9)
    assert oc.objective == pytest.approx(1.6313843, abs=1e-6)
    assert builds(oc) == {2026: pytest.approx(1)}


def test_base_year_before_start_discounts_everything(tmp_path):
    # r = 0.1, base_year 2025, one year 2026: δ = 1/1.1. Module 100 t, capex 0.01, life 1:
    # AF(0.1, 1) = 0.1 / (1 - 1/1.1) = 1.1 -> capex 0.01 x 1.1 x δ = 0.01; production 100 x 200 x δ = 0.0181818
    # total 0.0281818 (< import 0.1 x δ = 0.0909)
    oc = solve_book(tmp_path, book(r=0.1, base_year=2025, plant={
        "module_tpa": 100, "capex_musd_per_module": 0.01, "lifetime_years": 1}))
    assert cost(oc, "capex") == pytest.approx(0.01, abs=1e-9)
    assert oc.objective == pytest.approx(0.01 + 0.02 / 1.1, abs=1e-9)
