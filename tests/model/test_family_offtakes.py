"""Offtake contracts (SPEC §3 "Supply limits", resource cost): optima worked out by hand.

Every case: one member A, one commodity ox, discount_rate 0 unless stated, money in MUSD
(1 t at 1 USD/t = 1e-6 MUSD).
"""
import pytest

from modelkit import cost, solve_book


def book(years=(2026, 2026), r=0, market=None, demand=100, suppliers=None, offtakes=(), **extra):
    y0, y1 = years
    sheets = {
        "settings": {"start_year": y0, "end_year": y1, "discount_rate": r},
        "members": [{"member": "A"}],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": y, "price_usd_per_t": p}
                          for y, p in (market or {y0: 1000}).items()],
        "demand": [{"member": "A", "commodity": "ox", "year": y0, "demand_t": demand}],
        "suppliers": suppliers if suppliers is not None else [{"supplier": "CHN", "commodity": "ox"}],
        "offtakes": [dict({"seller": "AUS", "member": "A", "commodity": "ox", "max_tpa": 100}, **o)
                     for o in offtakes],
    }
    sheets.update(extra)
    return sheets


def table(oc, name, **eq):
    df = oc.tables[name]
    for k, v in eq.items():
        df = df[df[k] == v]
    return df


def test_price_is_max_of_floor_and_market_both_sides(tmp_path):
    # 2026: market 1000 < floor 1100 -> the contract price is the floor, 1100;
    # 2027: market 1400 > floor 1100 -> the contract price is the market, 1400.
    # CHN sells at market x 1.2 = 1200 / 1680, dearer in both years, so the offtake (no take-or-pay)
    # is signed and delivers the whole demand of 100 t in each year.
    b = book(years=(2026, 2027), market={2026: 1000, 2027: 1400},
             suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 1.2}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 1100}])
    oc = solve_book(tmp_path, b)
    assert oc.status == "optimal"
    off = oc.tables["offtakes"].set_index("year")
    assert off.loc[2026, "price_usd_per_t"] == pytest.approx(1100)
    assert off.loc[2027, "price_usd_per_t"] == pytest.approx(1400)
    assert list(off["delivered_t"]) == pytest.approx([100, 100])
    # 100 x 1100 + 100 x 1400 = 250,000 USD = 0.25 MUSD (imports would cost 0.12 + 0.168 = 0.288)
    assert oc.objective == pytest.approx(0.25, abs=1e-9)
    assert cost(oc, "offtakes") == pytest.approx(0.25, abs=1e-9)
    assert cost(oc, "imports") == pytest.approx(0.0, abs=1e-9)


# A signing cost of 0.001 MUSD makes "not signed" the only optimum when the contract is not worth it.
@pytest.mark.parametrize("floor, signed, objective", [
    # floor 800 < market 1000: price 1000 < CHN 1200 -> signed, 100 x 1000 + signing = 0.100 + 0.001
    (800, True, 0.101),
    # floor 1100 > market 1000: price 1100 < 1200 -> signed, 100 x 1100 + signing = 0.110 + 0.001
    (1100, True, 0.111),
    # floor 1300: price 1300 > CHN 1200 -> not signed, import 100 x 1200 = 0.12
    (1300, False, 0.120),
])
def test_floor_decides_whether_to_sign(tmp_path, floor, signed, objective):
    b = book(suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 1.2}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": floor, "signing_cost_musd": 0.001}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(objective, abs=1e-9)
    inv = oc.tables["investments"]
    assert (list(inv["item"]) == ["O1"]) is signed
    off = oc.tables["offtakes"].iloc[0]
    assert off["price_usd_per_t"] == pytest.approx(max(floor, 1000))
    assert off["delivered_t"] == pytest.approx(100 if signed else 0)


def test_deliveries_only_in_contract_years(tmp_path):
    # 2026-2028, demand 100 t/yr, market 1000, CHN at price_factor 1.5 = 1500.  The contract runs
    # 2027-2027 at floor 500: price max(500, 1000) = 1000 < 1500 -> it delivers 100 t in 2027 only.
    b = book(years=(2026, 2028),
             suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 1.5}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 500, "start_year": 2027, "end_year": 2027}])
    oc = solve_book(tmp_path, b)
    off = oc.tables["offtakes"]
    assert list(off["year"]) == [2027]
    assert list(off["delivered_t"]) == pytest.approx([100])
    sup = oc.tables["supply"].set_index("year")
    assert list(sup["offtake_t"]) == pytest.approx([0, 100, 0])
    assert list(sup["imports_other_t"]) == pytest.approx([100, 0, 100])
    # 2026: 100 x 1500 + 2027: 100 x 1000 + 2028: 100 x 1500 = 400,000 USD = 0.40 MUSD
    assert oc.objective == pytest.approx(0.40, abs=1e-9)


@pytest.mark.parametrize("start, signing_musd", [
    # contract starts 2027: signing 0.01 MUSD paid in 2027, delta = 1/1.1
    (2027, 0.01 / 1.1),
    # contract "starts" 2024, before the model: paid in max(2024, 2026) = 2026, delta = 1
    (2024, 0.01),
])
def test_signing_cost_paid_in_first_contract_year_and_discounted(tmp_path, start, signing_musd):
    # r = 0.1, base_year = start_year = 2026; market 1000 flat; CHN at price_factor 1.5 = 1500;
    # demand 100 t/yr 2026-2028.  Contract: floor 500 -> price max(500, 1000) = 1000, saving
    # 500 x 100 = 0.05 MUSD per contract year, far more than the signing cost -> signed.
    b = book(years=(2026, 2028), r=0.1,
             suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 1.5}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 500, "start_year": start, "end_year": 2028,
                        "signing_cost_musd": 0.01}])
    oc = solve_book(tmp_path, b)
    d = {2026: 1.0, 2027: 1 / 1.1, 2028: 1 / 1.21}
    years = range(max(start, 2026), 2029)
    # contract years cost 100 x 1000 = 0.1 MUSD each, the others 100 x 1500 = 0.15, all discounted
    expected = sum((0.10 if y in years else 0.15) * d[y] for y in d) + signing_musd
    assert oc.objective == pytest.approx(expected, abs=1e-9)
    assert cost(oc, "signing") == pytest.approx(signing_musd, abs=1e-9)
    inv = oc.tables["investments"]
    assert list(inv["build_year"]) == [max(start, 2026)]
    assert float(inv["cost_musd"].iloc[0]) == pytest.approx(signing_musd, abs=1e-9)


def test_take_or_pay_signed_despite_loss_and_volume_disposed(tmp_path):
    # Two scenarios, 0.5 each.  boom: demand 100, market 1000, CHN at 2.5 x 1000 = 2500.
    # slump: demand x 0 = 0, market x 0.5 = 500 (CHN 1250, not needed).
    # Contract: 100 t/yr, min_take_share 1 (take-or-pay), floor 700; disposal costs 50 USD/t.
    #   signed:   boom  100 x max(700, 1000) = 0.100
    #             slump 100 x max(700, 500) = 0.070 + disposal 100 x 50 = 0.005 -> 0.075 (a loss vs 0)
    #             expected 0.5 x 0.100 + 0.5 x 0.075 = 0.0875
    #   unsigned: boom  100 x 2500 = 0.25, slump 0 -> expected 0.125  => sign.
    # (Were take-or-pay ignored, slump would cost 0 and the optimum would be 0.05.)
    b = book(suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 2.5}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 700, "min_take_share": 1}],
             commodities=[{"commodity": "ox", "disposal_cost_usd_per_t": 50}],
             scenarios=[{"scenario": "boom", "probability": 0.5}, {"scenario": "slump", "probability": 0.5}],
             scenario_prices=[{"scenario": "slump", "commodity": "ox", "multiplier": 0.5}],
             scenario_demand=[{"scenario": "slump", "commodity": "ox", "multiplier": 0}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.0875, abs=1e-9)
    assert cost(oc, scenario="boom") == pytest.approx(0.100, abs=1e-9)
    assert cost(oc, scenario="slump") == pytest.approx(0.075, abs=1e-9)
    off = table(oc, "offtakes", scenario="slump")
    assert bool(off["signed"].iloc[0]) and float(off["delivered_t"].iloc[0]) == pytest.approx(100)
    assert float(off["price_usd_per_t"].iloc[0]) == pytest.approx(700)
    sup = table(oc, "supply", scenario="slump")
    assert float(sup["disposal_t"].iloc[0]) == pytest.approx(100)


def test_take_or_pay_volume_is_stocked_when_that_is_cheaper(tmp_path):
    # As above but with a free stockpile (capacity 200, holding 1 USD/t/yr, no end-stock rule since
    # initial stock is 0) instead of disposal at 50: in slump the 100 t are stocked at 1 USD/t.
    #   slump: 100 x 700 + 100 x 1 = 70,100 USD = 0.0701;  boom 0.100
    #   expected 0.5 x 0.100 + 0.5 x 0.0701 = 0.08505
    b = book(suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 2.5}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 700, "min_take_share": 1}],
             commodities=[{"commodity": "ox", "disposal_cost_usd_per_t": 50}],
             stockpiles=[{"member": "A", "commodity": "ox", "existing_capacity_t": 200,
                          "holding_cost_usd_per_t_yr": 1}],
             scenarios=[{"scenario": "boom", "probability": 0.5}, {"scenario": "slump", "probability": 0.5}],
             scenario_prices=[{"scenario": "slump", "commodity": "ox", "multiplier": 0.5}],
             scenario_demand=[{"scenario": "slump", "commodity": "ox", "multiplier": 0}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.08505, abs=1e-9)
    st = table(oc, "stockpiles", scenario="slump")
    assert float(st["level_t"].iloc[0]) == pytest.approx(100)
    sup = table(oc, "supply", scenario="slump")
    assert float(sup["disposal_t"].iloc[0]) == pytest.approx(0)


def test_seller_disruption_limits_deliveries_and_take_or_pay(tmp_path):
    # 2026-2027; market 1000; CHN at price_factor 2 = 2000 (unlimited); disposal 100 USD/t.
    # Contract O1 from AUS: 100 t/yr, min_take_share 0.8, floor 500 -> price max(500, 1000) = 1000.
    # Scenarios 0.5/0.5: base (demand 100/yr); cut: demand x 0.3 = 30 t/yr,
    #   AUS available_share 0.5 in 2026 and 0 (ban) in 2027.
    # base: D = 100 each year at 1000 -> 0.2 (signing saves 2 x 100 x 1000 = 0.2 vs imports)
    # cut 2026: D <= 0.5 x 100 = 50 and D >= min(0.8, 0.5) x 100 = 50 -> D = 50 (not 80, not 0.8 x 0.5 x 100 = 40):
    #   30 used, 20 disposed: 50 x 1000 + 20 x 100 = 52,000 USD = 0.052
    # cut 2027: banned, D = 0 and no take-or-pay; import 30 x 2000 = 0.06
    # cut total 0.112; unsigned cut would cost 2 x 30 x 2000 = 0.12 -> signed in any case.
    # expected 0.5 x 0.2 + 0.5 x 0.112 = 0.156
    b = book(years=(2026, 2027),
             suppliers=[{"supplier": "CHN", "commodity": "ox", "price_factor": 2}],
             offtakes=[{"offtake": "O1", "floor_price_usd_per_t": 500, "min_take_share": 0.8}],
             commodities=[{"commodity": "ox", "disposal_cost_usd_per_t": 100}],
             scenarios=[{"scenario": "base", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
             scenario_demand=[{"scenario": "cut", "commodity": "ox", "multiplier": 0.3}],
             disruptions=[{"scenario": "cut", "supplier": "AUS", "from_year": 2026, "to_year": 2026,
                           "available_share": 0.5},
                          {"scenario": "cut", "supplier": "AUS", "commodity": "ox", "from_year": 2027,
                           "to_year": 2027, "available_share": 0}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.156, abs=1e-9)
    off = table(oc, "offtakes", scenario="cut").set_index("year")
    assert off.loc[2026, "delivered_t"] == pytest.approx(50)
    assert off.loc[2027, "delivered_t"] == pytest.approx(0)
    sup = table(oc, "supply", scenario="cut").set_index("year")
    assert sup.loc[2026, "disposal_t"] == pytest.approx(20)
    assert sup.loc[2027, "imports_other_t"] == pytest.approx(30)
    assert cost(oc, scenario="cut") == pytest.approx(0.112, abs=1e-9)
    assert cost(oc, scenario="base") == pytest.approx(0.2, abs=1e-9)
