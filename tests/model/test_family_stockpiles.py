"""Hand-computed optima for the stockpile family (SPEC §3 "Stock").

One member A, commodity ``ox`` with demand 100 t/yr, bought only from CHN at
1000 USD/t (no other source, no shortage unless said).  Scenario ``ban``
stops CHN (available_share 0) in the last year; only the stockpile can cover it.
Operations are per scenario (two-stage model): the ban scenario fills ahead.
Money: 1 t x 1 USD/t = 1e-6 MUSD; r = 0 unless said.
"""
import pytest

from modelkit import cost, solve_book


def book(years=(2026, 2027), stockpile=None, ban_year=None, commodity=None, **settings):
    b = {
        "settings": {"start_year": years[0], "end_year": years[1], "discount_rate": 0, "mip_gap": 0, **settings},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox", **(commodity or {})}],
        "market_prices": [{"commodity": "ox", "year": years[0], "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": years[0], "demand_t": 100}],
        "suppliers": [{"supplier": "CHN", "commodity": "ox", "country_of_concern": True}],
        "stockpiles": [{"member": "A", "commodity": "ox", **(stockpile or {})}],
    }
    if ban_year is not None:
        b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "ban", "probability": 0.5}]
        b["disruptions"] = [{"scenario": "ban", "supplier": "CHN", "from_year": ban_year, "to_year": ban_year,
                             "available_share": 0}]
    return b


def stock(oc, year, col, scenario="base"):
    s = oc.tables["stockpiles"]
    return float(s.loc[(s["year"] == year) & (s["scenario"] == scenario), col].sum())


def supply(oc, year, col, scenario="base"):
    s = oc.tables["supply"]
    return float(s.loc[(s["member"] == "A") & (s["commodity"] == "ox") & (s["year"] == year)
                       & (s["scenario"] == scenario), col].sum())


def test_stockpile_covers_export_ban(tmp_path):
    # existing capacity 100, empty; holding 10 USD/t/yr on the end-of-year level; CHN banned in 2027 in "ban".
    # base: buy 100 each year -> 0.2
    # ban: 2026 buy 200 (100 used, 100 stocked: holding 100 x 10 = 1000), 2027 draw 100 -> 0.201
    # expected 0.5 x 0.2 + 0.5 x 0.201 = 0.2005
    oc = solve_book(tmp_path, book(stockpile={"existing_capacity_t": 100, "holding_cost_usd_per_t_yr": 10},
                                   ban_year=2027))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.2005, abs=1e-9)
    assert cost(oc, scenario="ban") == pytest.approx(0.201, abs=1e-9)
    assert cost(oc, "holding", "ban") == pytest.approx(0.001, abs=1e-9)
    assert stock(oc, 2026, "fill_t", "ban") == pytest.approx(100)
    assert stock(oc, 2026, "level_t", "ban") == pytest.approx(100)
    assert stock(oc, 2027, "draw_t", "ban") == pytest.approx(100)
    assert supply(oc, 2027, "imports_concern_t", "ban") == pytest.approx(0)
    assert supply(oc, 2026, "imports_concern_t", "ban") == pytest.approx(200)
    assert stock(oc, 2026, "level_t", "base") == pytest.approx(0)


def test_ban_without_stockpile_capacity_is_infeasible(tmp_path):
    # capacity 50 < the 100 t needed in the ban year, no shortage allowed: 50 t unmet
    oc = solve_book(tmp_path, book(stockpile={"existing_capacity_t": 50}, ban_year=2027))
    assert oc.status == "infeasible" and oc.exit_code == 1
    rel = oc.relaxed
    assert float(rel.loc[rel["target"].str.contains("unmet"), "shortfall"].sum()) == pytest.approx(50)


def test_loss_rate(tmp_path):
    # loss 20 %/yr on the previous level: L27 = 0.8 L26 + U - W; the ban needs W27 = 100 with L27 = 0
    # -> L26 = 100 / 0.8 = 125. ban: 2026 buy 225 (225 000) + holding 125 x 10 = 1250 -> 0.22625
    # base 0.2; expected 0.5 x 0.2 + 0.5 x 0.22625 = 0.213125
    oc = solve_book(tmp_path, book(stockpile={"existing_capacity_t": 200, "holding_cost_usd_per_t_yr": 10,
                                              "loss_rate": 0.2}, ban_year=2027))
    assert oc.objective == pytest.approx(0.213125, abs=1e-9)
    assert stock(oc, 2026, "level_t", "ban") == pytest.approx(125)
    assert stock(oc, 2027, "draw_t", "ban") == pytest.approx(100)
    assert supply(oc, 2026, "imports_concern_t", "ban") == pytest.approx(225)


def test_loss_rate_applies_to_initial_stock(tmp_path):
    # one year, initial 100, loss 0.1, end_stock_at_least_initial FALSE: L = 0.9 x 100 - W >= 0 -> draw 90,
    # buy 10 -> 0.01
    oc = solve_book(tmp_path, book((2026, 2026), stockpile={"existing_capacity_t": 100, "initial_stock_t": 100,
                                                             "loss_rate": 0.1}, end_stock_at_least_initial=False))
    assert oc.objective == pytest.approx(0.01, abs=1e-9)
    assert stock(oc, 2026, "draw_t") == pytest.approx(90)


def test_loss_rate_with_end_stock_rule(tmp_path):
    # one year, initial 100 in a 100 t store, loss 0.1, end stock >= initial: L = 0.9 x 100 + U - W >= 100
    # -> refill the 10 t lost: buy 100 + 10 = 110 -> 0.11
    oc = solve_book(tmp_path, book((2026, 2026), stockpile={"existing_capacity_t": 100, "initial_stock_t": 100,
                                                             "loss_rate": 0.1}))
    assert oc.objective == pytest.approx(0.11, abs=1e-9)
    assert stock(oc, 2026, "fill_t") - stock(oc, 2026, "draw_t") == pytest.approx(10)
    assert stock(oc, 2026, "level_t") == pytest.approx(100)


def test_capacity_build_with_lead_time_and_annuity(tmp_path):
    # 2026-2028, ban in 2028; no existing capacity; capex 100 USD/t, life 10 (annuity 10 USD/t/yr), lead 1.
    # The stock must be held at the end of 2027, so capacity must operate in 2027: built in 2026
    # (operates 2027, 2028 -> 2 x 10 = 20 USD/t; one built in 2027 would operate only from 2028).
    # K = 100: 100 x 20 = 2000 USD = 0.002 (first stage, in every scenario)
    # base: 3 x 100 x 1000 = 0.3; ban: 2027 buy 200, 2028 draw 100 -> 0.3; expected 0.302
    oc = solve_book(tmp_path, book((2026, 2028), stockpile={"capex_usd_per_t": 100, "lifetime_years": 10,
                                                             "lead_time_years": 1}, ban_year=2028))
    assert oc.objective == pytest.approx(0.302, abs=1e-9)
    inv = oc.tables["investments"]
    inv = inv[inv["kind"] == "stockpile capacity"]
    assert list(inv["build_year"]) == [2026]
    assert list(inv["online_year"]) == [2027]
    assert float(inv["quantity"].iloc[0]) == pytest.approx(100)
    assert float(inv["cost_musd"].iloc[0]) == pytest.approx(0.002, abs=1e-9)
    assert cost(oc, "stock_capex", "base") == pytest.approx(0.002, abs=1e-9)
    assert stock(oc, 2026, "capacity_t", "ban") == pytest.approx(0)
    assert stock(oc, 2027, "capacity_t", "ban") == pytest.approx(100)
    assert stock(oc, 2027, "level_t", "ban") == pytest.approx(100)


def test_capacity_lifetime_annuity_only_in_horizon(tmp_path):
    # 2026-2028, ban in 2028, lead 0, life 1 (annuity factor 1/1: 100 USD/t for its single operating year).
    # The 100 t must be held at the end of 2027: capacity built in 2027 (operates 2027 only; a 2026 build
    # would be gone by then). 100 t x 100 = 10 000 USD = 0.01 -> expected 0.3 + 0.01 = 0.31
    oc = solve_book(tmp_path, book((2026, 2028), stockpile={"capex_usd_per_t": 100, "lifetime_years": 1},
                                   ban_year=2028))
    assert oc.objective == pytest.approx(0.31, abs=1e-9)
    inv = oc.tables["investments"]
    assert list(inv["build_year"]) == [2027]


def test_max_capacity_binding(tmp_path):
    # existing 20, max_capacity_t 60 (total) -> at most 40 built; capex 100, life 10, lead 0: a 2026 build
    # operates 2026, 2027 -> 20 USD/t: 40 x 20 = 800 USD. ox shortage penalty 5000.
    # Each tonne of capacity saves 0.5 x (5000 - 1000) = 2000 > 20 -> build the max.
    # base: 0.2. ban: 2026 buy 100 + 60 (160 000), 2027 draw 60, short 40 x 5000 (200 000) -> 0.36
    # expected 0.0008 + 0.5 x 0.2 + 0.5 x 0.36 = 0.2808
    oc = solve_book(tmp_path, book(stockpile={"existing_capacity_t": 20, "capex_usd_per_t": 100,
                                              "lifetime_years": 10, "max_capacity_t": 60},
                                   ban_year=2027, commodity={"shortage_penalty_usd_per_t": 5000}))
    assert oc.objective == pytest.approx(0.2808, abs=1e-9)
    inv = oc.tables["investments"]
    assert float(inv["quantity"].sum()) == pytest.approx(40)
    assert list(inv["build_year"]) == [2026]
    assert supply(oc, 2027, "shortage_t", "ban") == pytest.approx(40)
    assert stock(oc, 2027, "draw_t", "ban") == pytest.approx(60)


def test_end_stock_at_least_initial_true_vs_false(tmp_path):
    # initial 100 t in a 100 t store, holding 10 USD/t/yr, 2026-2027, demand 100/yr, no disruption.
    # FALSE: draw the 100 t in 2026 (level 0, no holding), buy 100 in 2027 -> 0.1
    # TRUE: the store must end at 100. Best: draw 100 in 2026 (level 0), in 2027 buy 200 and refill
    #   (level 100, holding 1000): 200 000 + 1000 -> 0.201 (keeping it full both years: 0.202)
    sp = {"existing_capacity_t": 100, "initial_stock_t": 100, "holding_cost_usd_per_t_yr": 10}
    off = solve_book(tmp_path, book(stockpile=sp, end_stock_at_least_initial=False))
    assert off.objective == pytest.approx(0.1, abs=1e-9)
    assert stock(off, 2026, "draw_t") == pytest.approx(100)
    assert stock(off, 2027, "level_t") == pytest.approx(0)
    on = solve_book(tmp_path, book(stockpile=sp, end_stock_at_least_initial=True))
    assert on.objective == pytest.approx(0.201, abs=1e-9)
    assert stock(on, 2026, "draw_t") == pytest.approx(100)
    assert stock(on, 2027, "fill_t") == pytest.approx(100)
    assert stock(on, 2027, "level_t") == pytest.approx(100)
    assert cost(on, "holding") == pytest.approx(0.001, abs=1e-9)


def test_stock_capex_annuity_discounted(tmp_path):
    # r = 0.1, 2026-2027, base_year 2026, ban in 2027, capex 100 USD/t, life 2, lead 0.
    # AF = 0.1 / (1 - 1.1^-2) = 0.5761905; a 2026 build operates 2026, 2027: Σδ = 1 + 1/1.1 = 1.9090909
    # -> 100 x 0.5761905 x 1.9090909 = 110 USD/t; K = 100 -> 11 000 USD = 0.011
    # base: 100 000 + 100 000 / 1.1 = 190 909.09; ban: 2026 buy 200 = 200 000
    # expected 0.011 + 0.5 x 0.19090909 + 0.5 x 0.2 = 0.20645455
    af = 0.1 / (1 - 1.1 ** -2)
    assert af == pytest.approx(0.5761905, abs=1e-7)
    oc = solve_book(tmp_path, book(stockpile={"capex_usd_per_t": 100, "lifetime_years": 2}, ban_year=2027,
                                   discount_rate=0.1))
    assert cost(oc, "stock_capex", "base") == pytest.approx(100 * 100 * af * (1 + 1 / 1.1) * 1e-6, rel=1e-9)
    assert cost(oc, "stock_capex", "base") == pytest.approx(0.011, abs=1e-9)
    assert oc.objective == pytest.approx(0.011 + 0.5 * (0.1 + 0.1 / 1.1) + 0.5 * 0.2, abs=1e-9)
