"""Hand-computed optima for the supply family: imports, price factors, caps, scenario prices,
disruptions, exports, shortage, tariffs (SPEC §3 "Supply limits", "Shortage and exports", "Fiscal").

One member A, commodity ``ox`` at market price 1000 USD/t, r = 0 unless said.
Money: 1 t x 1 USD/t = 1e-6 MUSD.
"""
import pytest

from modelkit import cost, solve_book


def book(suppliers, years=(2026, 2026), demand=100.0, commodity=None, **settings):
    return {
        "settings": {"start_year": years[0], "end_year": years[1], "discount_rate": 0, "mip_gap": 0, **settings},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox", **(commodity or {})}],
        "market_prices": [{"commodity": "ox", "year": years[0], "price_usd_per_t": 1000}],
        "demand": [{"member": "A", "commodity": "ox", "year": years[0], "demand_t": demand}],
        "suppliers": [{"commodity": "ox", **x} for x in suppliers],
    }


def supply(oc, col, year=2026, scenario="base", member="A", commodity="ox"):
    s = oc.tables["supply"]
    row = s[(s["member"] == member) & (s["commodity"] == commodity) & (s["year"] == year) & (s["scenario"] == scenario)]
    return float(row[col].sum())


def fiscal(oc, col, member="A", scenario="base"):
    f = oc.tables["fiscal"]
    return float(f.loc[(f["member"] == member) & (f["scenario"] == scenario), col].sum())


def test_price_factor_and_supplier_cap(tmp_path):
    # W1 at 1.2 x 1000 = 1200 (unlimited), W2 at 0.9 x 1000 = 900 capped at 60 t/yr; demand 100.
    # 60 x 900 = 54 000 + 40 x 1200 = 48 000 -> 102 000 USD = 0.102
    oc = solve_book(tmp_path, book([{"supplier": "W1", "price_factor": 1.2},
                                    {"supplier": "W2", "price_factor": 0.9, "max_tpa": 60}]))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.102, abs=1e-9)
    assert supply(oc, "imports_other_t") == pytest.approx(100)
    # without the cap all 100 t from W2: 0.09
    free = solve_book(tmp_path, book([{"supplier": "W1", "price_factor": 1.2},
                                      {"supplier": "W2", "price_factor": 0.9}]))
    assert free.objective == pytest.approx(0.09, abs=1e-9)


def test_supplier_cap_is_shared_by_members(tmp_path):
    # max_tpa caps the sum over members: A and B each demand 100; W (900/t) max 150, V (1100/t) unlimited.
    # 150 x 900 = 135 000 + 50 x 1100 = 55 000 -> 0.19
    b = book([{"supplier": "W", "price_factor": 0.9, "max_tpa": 150}, {"supplier": "V", "price_factor": 1.1}])
    b["members"].append({"member": "B"})
    b["demand"].append({"member": "B", "commodity": "ox", "year": 2026, "demand_t": 100})
    b["routes"] = [{"from": "A", "to": "B", "allowed": False}, {"from": "B", "to": "A", "allowed": False}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.19, abs=1e-9)


def test_scenario_prices_market_wide_vs_supplier_specific(tmp_path):
    # W1 factor 1 (1000), W2 factor 1.1 (1100); demand 100; scenarios base 0.5, s2 0.25, s3 0.25.
    # base: W1 1000 -> 0.1
    # s2: market x2 (blank supplier: moves both) and W2's own x0.5:
    #     W1 = 2000, W2 = 1000 x 2 x 1.1 x 0.5 = 1100 -> buy W2: 0.11
    # s3: two overlapping W1-only rows x0.5 and x1.6 multiply to x0.8: W1 = 800, W2 = 1100 -> 0.08
    # expected = 0.5 x 0.1 + 0.25 x 0.11 + 0.25 x 0.08 = 0.0975
    b = book([{"supplier": "W1"}, {"supplier": "W2", "price_factor": 1.1}])
    b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "s2", "probability": 0.25},
                      {"scenario": "s3", "probability": 0.25}]
    b["scenario_prices"] = [
        {"scenario": "s2", "commodity": "ox", "multiplier": 2},
        {"scenario": "s2", "commodity": "ox", "supplier": "W2", "multiplier": 0.5},
        {"scenario": "s3", "commodity": "ox", "supplier": "W1", "multiplier": 0.5},
        {"scenario": "s3", "commodity": "ox", "supplier": "W1", "multiplier": 1.6},
    ]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.0975, abs=1e-9)
    assert cost(oc, "imports", "base") == pytest.approx(0.1, abs=1e-9)
    assert cost(oc, "imports", "s2") == pytest.approx(0.11, abs=1e-9)
    assert cost(oc, "imports", "s3") == pytest.approx(0.08, abs=1e-9)


def test_scenario_price_year_range(tmp_path):
    # 2026-2027, one scenario; market x3 only in 2027: 2026 100 x 1000 + 2027 100 x 3000 = 0.4
    b = book([{"supplier": "W"}], years=(2026, 2027))
    b["scenario_prices"] = [{"scenario": "base", "commodity": "ox", "from_year": 2027, "to_year": 2027,
                             "multiplier": 3}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.4, abs=1e-9)


def test_market_price_interpolated_between_years(tmp_path):
    # prices 1000 in 2026 and 2000 in 2028 -> 1500 in 2027 (linear); held flat after: 2029 = 2000.
    # 100 t/yr: 100 000 + 150 000 + 200 000 + 200 000 = 650 000 -> 0.65
    b = book([{"supplier": "W"}], years=(2026, 2029))
    b["market_prices"].append({"commodity": "ox", "year": 2028, "price_usd_per_t": 2000})
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.65, abs=1e-9)


def test_scenario_demand_moves_shortage_bound(tmp_path):
    # W 1000/t max 60, penalty 2000; scenario high (0.5) demand x1.5 = 150 (both shortage and its bound).
    # base: 60 000 + 40 x 2000 = 140 000; high: 60 000 + 90 x 2000 = 240 000 -> expected 0.19
    b = book([{"supplier": "W", "max_tpa": 60}], commodity={"shortage_penalty_usd_per_t": 2000})
    b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "high", "probability": 0.5}]
    b["scenario_demand"] = [{"scenario": "high", "commodity": "ox", "multiplier": 1.5}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.19, abs=1e-9)
    assert supply(oc, "shortage_t", scenario="high") == pytest.approx(90)


def test_disruption_overlapping_rows_smallest_share_and_partial_share(tmp_path):
    # CHN 1000/t max 100 t/yr; ROW 1.5 x 1000 = 1500 unlimited; demand 100/yr, 2026-2027.
    # scenario cut: rows CHN (all commodities) 2026-27 share 0.6 and CHN/ox 2027 share 0.3 -> the smaller holds:
    #   2026 CHN <= 0.6 x 100 = 60: 60 x 1000 + 40 x 1500 = 120 000
    #   2027 CHN <= min(0.6, 0.3) x 100 = 30: 30 x 1000 + 70 x 1500 = 135 000 -> cut 0.255
    # base: 2 x 100 x 1000 = 0.2; expected 0.5 x 0.2 + 0.5 x 0.255 = 0.2275
    b = book([{"supplier": "CHN", "max_tpa": 100, "country_of_concern": True},
              {"supplier": "ROW", "price_factor": 1.5}], years=(2026, 2027))
    b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}]
    b["disruptions"] = [
        {"scenario": "cut", "supplier": "CHN", "from_year": 2026, "to_year": 2027, "available_share": 0.6},
        {"scenario": "cut", "supplier": "CHN", "commodity": "ox", "from_year": 2027, "to_year": 2027,
         "available_share": 0.3},
    ]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.2275, abs=1e-9)
    assert cost(oc, scenario="cut") == pytest.approx(0.255, abs=1e-9)
    assert supply(oc, "imports_concern_t", 2026, "cut") == pytest.approx(60)
    assert supply(oc, "imports_concern_t", 2027, "cut") == pytest.approx(30)
    assert supply(oc, "imports_other_t", 2027, "cut") == pytest.approx(70)
    assert supply(oc, "imports_concern_t", 2027, "base") == pytest.approx(100)


def test_disruption_of_other_commodity_does_not_hit(tmp_path):
    # a ban on CHN's "dy" leaves CHN's ox alone: 100 x 1000 = 0.1
    b = book([{"supplier": "CHN"}, {"supplier": "ROW", "price_factor": 1.5}])
    b["commodities"].append({"commodity": "dy"})
    b["disruptions"] = [{"scenario": "base", "supplier": "CHN", "commodity": "dy", "from_year": 2026,
                         "to_year": 2026, "available_share": 0}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.1, abs=1e-9)


def export_book():
    # mine at A: 500 t/yr at 300 USD/t; W sells ox at 0.5 x market; exports at 0.8 x market.
    b = book([{"supplier": "W", "price_factor": 0.5}], commodity={"export_price_factor": 0.8})
    b["processes"] = [{"process": "mine", "member": "A", "output": "ox", "existing_tpa": 500,
                       "variable_cost_usd_per_t": 300}]
    return b


def test_exports_limited_to_bloc_output(tmp_path):
    # export price 0.8 x 1000 = 800 > production 300 and > import 500, but only bloc output may leave:
    # produce 500 (150 000), export all 500 (revenue 400 000), import 100 for demand at 500 (50 000)
    # -> 150 000 + 50 000 - 400 000 = -200 000 USD = -0.2
    # (without the limit: import without bound at 500 and export at 800 -> unbounded)
    oc = solve_book(tmp_path, export_book())
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(-0.2, abs=1e-9)
    assert supply(oc, "exports_t") == pytest.approx(500)
    assert supply(oc, "production_t") == pytest.approx(500)
    assert supply(oc, "imports_other_t") == pytest.approx(100)
    assert cost(oc, "export_revenue") == pytest.approx(-0.4, abs=1e-9)


def test_exports_follow_market_price_not_supplier_multiplier(tmp_path):
    # base (0.5): -0.2 as above.
    # up (0.25): market x1.5 -> export 1200, W 750: produce 500 (150 000), export 500 (600 000),
    #   import 100 x 750 (75 000) -> -375 000
    # wdear (0.25): W's own x2 -> W 1000, export still 800 (the supplier multiplier does not move the market):
    #   keep 100 for demand (saves 1000 > 800), export 400 (320 000), produce 500 (150 000) -> -170 000
    # expected = 0.5 x -0.2 + 0.25 x -0.375 + 0.25 x -0.17 = -0.23625
    b = export_book()
    b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "up", "probability": 0.25},
                      {"scenario": "wdear", "probability": 0.25}]
    b["scenario_prices"] = [{"scenario": "up", "commodity": "ox", "multiplier": 1.5},
                            {"scenario": "wdear", "commodity": "ox", "supplier": "W", "multiplier": 2}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(-0.23625, abs=1e-9)
    assert cost(oc, scenario="up") == pytest.approx(-0.375, abs=1e-9)
    assert cost(oc, scenario="wdear") == pytest.approx(-0.17, abs=1e-9)
    assert supply(oc, "exports_t", scenario="wdear") == pytest.approx(400)
    assert supply(oc, "imports_other_t", scenario="wdear") == pytest.approx(0)


def test_no_export_factor_no_exports(tmp_path):
    # without export_price_factor: produce 100 for demand only at 300 -> 0.03
    b = export_book()
    b["commodities"] = [{"commodity": "ox"}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.03, abs=1e-9)
    assert supply(oc, "exports_t") == pytest.approx(0)


def test_disposal_of_surplus_mine_output_not_used(tmp_path):
    # a disposal cost alone never makes the model dispose: demand 100 met by the mine at 300 -> 0.03
    b = export_book()
    b["commodities"] = [{"commodity": "ox", "disposal_cost_usd_per_t": 5}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.03, abs=1e-9)
    assert supply(oc, "disposal_t") == pytest.approx(0)


def test_shortage_commodity_penalty(tmp_path):
    # W 1000/t capped at 60; ox penalty 2000/t: 60 x 1000 = 60 000 + 40 x 2000 = 80 000 -> 0.14
    oc = solve_book(tmp_path, book([{"supplier": "W", "max_tpa": 60}],
                                   commodity={"shortage_penalty_usd_per_t": 2000}))
    assert oc.objective == pytest.approx(0.14, abs=1e-9)
    assert supply(oc, "shortage_t") == pytest.approx(40)
    assert cost(oc, "shortage") == pytest.approx(0.08, abs=1e-9)


def test_shortage_cheaper_than_import_is_chosen(tmp_path):
    # penalty 600 < price 1000: all 100 t short -> 0.06
    oc = solve_book(tmp_path, book([{"supplier": "W"}], commodity={"shortage_penalty_usd_per_t": 600}))
    assert oc.objective == pytest.approx(0.06, abs=1e-9)
    assert supply(oc, "shortage_t") == pytest.approx(100)


def test_shortage_settings_default_and_bounded_by_demand(tmp_path):
    # settings default penalty 500 for ox (no own penalty); mag has its own 1e5 (commodity beats settings).
    # process mag at A uses 1 t ox per t mag; demand ox 100, mag 100; W sells ox at 1000.
    # mag: produce 100 (vs 1e5/t short). ox balance: I + H = 100 (demand) + 100 (input), H <= demand 100:
    # H = 100 x 500 = 50 000, I = 100 x 1000 = 100 000 -> 0.15
    # (unbounded H would give 200 x 500 = 0.1; mag at the default 500 would be short instead: 0.1)
    b = book([{"supplier": "W"}], shortage_penalty_usd_per_t=500)
    b["commodities"].append({"commodity": "mag", "shortage_penalty_usd_per_t": 1e5})
    b["demand"].append({"member": "A", "commodity": "mag", "year": 2026, "demand_t": 100})
    b["processes"] = [{"process": "mp", "member": "A", "output": "mag", "input": "ox", "existing_tpa": 1000}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.15, abs=1e-9)
    assert supply(oc, "shortage_t") == pytest.approx(100)
    assert supply(oc, "imports_other_t") == pytest.approx(100)
    assert supply(oc, "shortage_t", commodity="mag") == pytest.approx(0)
    assert supply(oc, "production_t", commodity="mag") == pytest.approx(100)


def test_no_penalty_no_shortage_infeasible(tmp_path):
    # W capped at 60, demand 100, no penalty anywhere: infeasible, 40 t unmet
    oc = solve_book(tmp_path, book([{"supplier": "W", "max_tpa": 60}]))
    assert oc.status == "infeasible" and oc.exit_code == 1
    rel = oc.relaxed
    assert float(rel.loc[rel["target"].str.contains("unmet"), "shortfall"].sum()) == pytest.approx(40)


def tariff_book(**settings):
    # W 1000/t with tariff 200; V 1.1 x 1000 = 1100, no tariff
    return book([{"supplier": "W", "tariff_usd_per_t": 200}, {"supplier": "V", "price_factor": 1.1}], **settings)


def test_tariff_changes_nothing_in_resource_mode_but_is_reported(tmp_path):
    # resource mode: buy W at 1000 (the tariff is a transfer inside the bloc): 0.1
    # reported tariff revenue 100 x 200 = 20 000 USD = 0.02 MUSD, credited to A
    oc = solve_book(tmp_path, tariff_book())
    assert oc.objective == pytest.approx(0.1, abs=1e-9)
    assert fiscal(oc, "tariff_revenue_musd") == pytest.approx(0.02, abs=1e-9)
    assert oc.headline["expected_tariff_revenue_musd"] == pytest.approx(0.02, abs=1e-9)
    assert cost(oc, "tariffs") == pytest.approx(0)


def test_tariff_counts_in_market_mode(tmp_path):
    # market mode: W costs 1000 + 200 = 1200 > V 1100 -> buy V: 0.11, no tariff revenue
    oc = solve_book(tmp_path, tariff_book(objective="market"))
    assert oc.objective == pytest.approx(0.11, abs=1e-9)
    assert fiscal(oc, "tariff_revenue_musd") == pytest.approx(0)


def test_border_adjusted_tariff(tmp_path):
    # ox floor 1500. W: price 1000, tariff 200, border_adjusted -> T = max(200, 1500 - 1000) = 500, max 50 t
    # V: price 1.2 x 1000 = 1200, tariff 800, border_adjusted -> T = max(800, 1500 - 1200) = 800
    # resource mode: 50 x 1000 + 50 x 1200 = 110 000 -> 0.11
    # tariff revenue 50 x 500 + 50 x 800 = 65 000 -> 0.065 (not adjusted it would be 50 x 200 + 50 x 800 = 0.05)
    sup = [{"supplier": "W", "tariff_usd_per_t": 200, "border_adjusted": True, "max_tpa": 50},
           {"supplier": "V", "price_factor": 1.2, "tariff_usd_per_t": 800, "border_adjusted": True}]
    oc = solve_book(tmp_path, book(sup, commodity={"floor_price_usd_per_t": 1500}))
    assert oc.objective == pytest.approx(0.11, abs=1e-9)
    assert fiscal(oc, "tariff_revenue_musd") == pytest.approx(0.065, abs=1e-9)


def test_border_adjusted_tariff_uses_supplier_scenario_price(tmp_path):
    # floor 1500; W border_adjusted, tariff 0; scenario dump: W's own multiplier 0.5 -> W = 500, T = 1000.
    # market mode: W costs 500 + 1000 = 1500 in dump and 1000 + 500 = 1500 in base; V 1.6 x 1000 = 1600.
    # -> always W at 1500 (cost incl. tariff): 0.15 in both scenarios; reported tariff revenue
    #    base 100 x 500 = 0.05, dump 100 x 1000 = 0.1
    sup = [{"supplier": "W", "border_adjusted": True}, {"supplier": "V", "price_factor": 1.6}]
    b = book(sup, commodity={"floor_price_usd_per_t": 1500}, objective="market")
    b["scenarios"] = [{"scenario": "base", "probability": 0.5}, {"scenario": "dump", "probability": 0.5}]
    b["scenario_prices"] = [{"scenario": "dump", "commodity": "ox", "supplier": "W", "multiplier": 0.5}]
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.15, abs=1e-9)
    assert fiscal(oc, "tariff_revenue_musd", scenario="base") == pytest.approx(0.05, abs=1e-9)
    assert fiscal(oc, "tariff_revenue_musd", scenario="dump") == pytest.approx(0.1, abs=1e-9)
