"""Security targets and anti-circumvention (SPEC §3 "Security"): optima worked out by hand.

discount_rate 0, one year unless stated; money in MUSD (1 t at 1 USD/t = 1e-6 MUSD).
Shadow prices in the results' ``security`` sheet are USD per tonne of the row's left-hand side,
undiscounted, per scenario.
"""
import pytest

from modelkit import solve_book

CHN = {"supplier": "CHN", "commodity": "ox", "country_of_concern": True}          # 1000 USD/t
ROW = {"supplier": "ROW", "commodity": "ox", "price_factor": 1.5}                 # 1500 USD/t


def book(members=("A",), years=(2026, 2026), demand=None, suppliers=(CHN, ROW), security=(), **extra):
    y0, y1 = years
    sheets = {
        "settings": {"start_year": y0, "end_year": y1, "discount_rate": 0},
        "members": [{"member": m} for m in members],
        "commodities": [{"commodity": "ox"}],
        "market_prices": [{"commodity": "ox", "year": y0, "price_usd_per_t": 1000}],
        "demand": [{"member": m, "commodity": c, "year": y0, "demand_t": q}
                   for (m, c), q in (demand or {("A", "ox"): 100}).items()],
        "suppliers": list(suppliers),
        "security": list(security),
    }
    sheets.update(extra)
    return sheets


def sec(oc, **eq):
    df = oc.tables["security"]
    for k, v in eq.items():
        df = df[df[k] == v]
    return df


def test_max_concern_share_member_row_and_shadow_price(tmp_path):
    # A needs 100 t; CHN (concern) 1000, ROW 1500.  Row: A, max_concern_share 0.6 -> CHN <= 60 t.
    # cost 60 x 1000 + 40 x 1500 = 60,000 + 60,000 = 0.12 MUSD (unconstrained it would be 0.10)
    oc = solve_book(tmp_path, book(security=[{"commodity": "ox", "member": "A", "max_concern_share": 0.6}]))
    assert oc.objective == pytest.approx(0.12, abs=1e-9)
    sup = oc.tables["supply"].iloc[0]
    assert sup["imports_concern_t"] == pytest.approx(60)
    assert sup["imports_other_t"] == pytest.approx(40)
    row = sec(oc).iloc[0]
    assert row["target"] == "max_concern_share" and row["member"] == "A"
    assert row["limit"] == pytest.approx(0.6)
    assert row["achieved"] == pytest.approx(0.6)
    assert bool(row["binding"])
    # one more tonne allowed from CHN replaces a tonne from ROW: 1500 - 1000 = 500 USD/t
    assert row["shadow_price_usd_per_t"] == pytest.approx(500, rel=1e-6)


def test_max_concern_share_consumption_includes_input_use(tmp_path):
    # Ore: CHN (concern) 100 USD/t, ROW 150.  A demands 20 t ore and runs a refinery (existing 100 t/yr,
    # 2 t ore per t ox, no variable cost) for its 100 t ox demand; ox import costs 5000 so the refinery
    # runs flat out: Q = 100, ore input 200.  Consumption = 20 + 2 x 100 = 220 t, so with
    # max_concern_share 0.5, CHN ore <= 110 and ROW supplies 110:
    #   ore 110 x 100 + 110 x 150 = 27,500 USD = 0.0275 MUSD   (ox: 0)
    # (were input use left out: CHN <= 10, ore 10 x 100 + 210 x 150 = 0.0325)
    b = book(demand={("A", "ox"): 100, ("A", "ore"): 20},
             commodities=[{"commodity": "ox"}, {"commodity": "ore"}],
             market_prices=[{"commodity": "ox", "year": 2026, "price_usd_per_t": 5000},
                            {"commodity": "ore", "year": 2026, "price_usd_per_t": 100}],
             suppliers=[{"supplier": "ROW", "commodity": "ox"},
                        {"supplier": "CHN", "commodity": "ore", "country_of_concern": True},
                        {"supplier": "ROW", "commodity": "ore", "price_factor": 1.5}],
             processes=[{"process": "ref", "member": "A", "output": "ox", "input": "ore", "input_per_output": 2,
                         "existing_tpa": 100}],
             security=[{"commodity": "ore", "member": "A", "max_concern_share": 0.5}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.0275, abs=1e-9)
    row = sec(oc).iloc[0]
    assert row["consumption_t"] == pytest.approx(220)
    assert row["value_t"] == pytest.approx(110)
    # one more tonne from CHN instead of ROW: 150 - 100 = 50 USD/t
    assert row["shadow_price_usd_per_t"] == pytest.approx(50, rel=1e-6)


def test_max_concern_share_bloc_row_with_member_row(tmp_path):
    # A and B each need 100 t ox; B also runs a magnet plant (existing 50, 1 t ox per t mag) for its
    # 50 t mag demand (mag import at 1,000,000 x 1 is prohibitive; no variable cost) -> ox input 50.
    # Bloc consumption of ox = 100 + 100 + 50 = 250; bloc row 0.4 -> concern <= 100 t;
    # member row A 0.1 -> A's concern <= 10; B takes the rest (B's own consumption 150 covers it, so
    # anti-circumvention holds).  Ox: 100 t CHN x 1000 + 150 t ROW x 1500 = 0.1 + 0.225 = 0.325 MUSD
    # (were input use left out: bloc consumption 200 -> concern <= 80 -> 0.08 + 0.255 = 0.335)
    b = book(members=("A", "B"), demand={("A", "ox"): 100, ("B", "ox"): 100, ("B", "mag"): 50},
             commodities=[{"commodity": "ox"}, {"commodity": "mag"}],
             market_prices=[{"commodity": "ox", "year": 2026, "price_usd_per_t": 1000},
                            {"commodity": "mag", "year": 2026, "price_usd_per_t": 1e6}],
             suppliers=[CHN, ROW, {"supplier": "ROW", "commodity": "mag"}],
             processes=[{"process": "mag_B", "member": "B", "output": "mag", "input": "ox", "existing_tpa": 50}],
             security=[{"commodity": "ox", "max_concern_share": 0.4},
                       {"commodity": "ox", "member": "A", "max_concern_share": 0.1}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.325, abs=1e-9)
    sup = oc.tables["supply"].set_index(["member", "commodity"])
    # 100 concern tonnes in all, at most 10 of them at A (how they split is a tie)
    assert sup.loc[("A", "ox"), "imports_concern_t"] + sup.loc[("B", "ox"), "imports_concern_t"] == pytest.approx(100)
    assert sup.loc[("A", "ox"), "imports_concern_t"] <= 10 + 1e-6
    bloc = sec(oc, member="(bloc)").iloc[0]
    assert bloc["consumption_t"] == pytest.approx(250)
    assert bloc["achieved"] == pytest.approx(0.4)
    # bloc row: one more concern tonne (to B) replaces a ROW tonne: 500 USD/t
    assert bloc["shadow_price_usd_per_t"] == pytest.approx(500, rel=1e-6)


UNSIGNED = {"offtake": "O1", "seller": "AUS", "member": "A", "commodity": "ox", "max_tpa": 100,
            "floor_price_usd_per_t": 1e5}  # far too dear to sign


@pytest.mark.parametrize("disruption, offtakes", [
    # CHN, a supplier of ox, at 50% in (cut, 2027): CHN still offers 500 t >= what is needed
    ({"supplier": "CHN", "commodity": "ox", "available_share": 0.5}, []),
    # the seller of an (unsigned) ox offtake banned in (cut, 2027): ox counts as disrupted all the same
    ({"supplier": "AUS", "available_share": 0}, [UNSIGNED]),
])
def test_min_stock_days_lifted_in_disrupted_year(tmp_path, disruption, offtakes):
    # A needs 365 t/yr in 2026-2027 (1 day = 1 t).  Stockpile A/ox: 1000 t existing, empty, holding
    # 10 USD/t/yr.  Row: min_stock_days 100 -> end-of-year stock >= 100 t.
    # CHN (1000 USD/t, max 1000 t/yr).  Scenarios 0.5/0.5: base; cut = a disruption of ox in 2027, so
    # ox is disrupted in (cut, 2027) and the rule is lifted there.
    # base: buy 465 + 365 = 830 t = 0.830; hold 100 t in both years: 2 x 100 x 10 = 0.002 -> 0.832
    # cut:  buy 465 + 265 = 730 t = 0.730; hold 100 t in 2026 only: 0.001 -> 0.731
    # expected 0.5 x 0.832 + 0.5 x 0.731 = 0.7815
    b = book(demand={("A", "ox"): 365}, years=(2026, 2027),
             suppliers=[{"supplier": "CHN", "commodity": "ox", "max_tpa": 1000}],
             stockpiles=[{"member": "A", "commodity": "ox", "existing_capacity_t": 1000,
                          "holding_cost_usd_per_t_yr": 10}],
             scenarios=[{"scenario": "base", "probability": 0.5}, {"scenario": "cut", "probability": 0.5}],
             disruptions=[dict({"scenario": "cut", "from_year": 2027, "to_year": 2027}, **disruption)],
             offtakes=offtakes,
             security=[{"commodity": "ox", "member": "A", "min_stock_days": 100}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.7815, abs=1e-9)
    st = oc.tables["stockpiles"].set_index(["year", "scenario"])
    assert st.loc[(2026, "cut"), "level_t"] == pytest.approx(100)
    assert st.loc[(2027, "cut"), "level_t"] == pytest.approx(0)
    assert st.loc[(2027, "base"), "level_t"] == pytest.approx(100)
    s = sec(oc).set_index(["year", "scenario"])
    assert sorted(s.index) == [(2026, "base"), (2026, "cut"), (2027, "base")]  # no row in (2027, cut)
    assert s.loc[(2027, "base"), "achieved"] == pytest.approx(100)
    # (2027, base): one tonne less stock = one tonne less bought (1000) and held (10): 1010 USD/t
    assert s.loc[(2027, "base"), "shadow_price_usd_per_t"] == pytest.approx(1010, rel=1e-6)
    # (2026, *): one tonne less held in 2026 and bought in 2027 instead (base) or drawn less (cut): 10 USD/t
    assert s.loc[(2026, "base"), "shadow_price_usd_per_t"] == pytest.approx(10, rel=1e-6)
    assert s.loc[(2026, "cut"), "shadow_price_usd_per_t"] == pytest.approx(10, rel=1e-6)


def test_min_domestic_share_only_in_its_year_range(tmp_path):
    # 2026-2028, A needs 100 t/yr; own mine 100 t/yr at 1500 USD/t; CHN at 1000.
    # Row min_domestic_share 0.3 from 2027 to 2027: only 2027 needs Q >= 30.
    # 2026: 0.1; 2027: 30 x 1500 + 70 x 1000 = 0.115; 2028: 0.1 -> 0.315 MUSD
    b = book(years=(2026, 2028), suppliers=[CHN],
             processes=[{"process": "mine", "member": "A", "output": "ox", "existing_tpa": 100,
                         "variable_cost_usd_per_t": 1500}],
             security=[{"commodity": "ox", "member": "A", "from_year": 2027, "to_year": 2027,
                        "min_domestic_share": 0.3}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.315, abs=1e-9)
    cap = oc.tables["capacity"].set_index("year")
    assert list(cap["production_t"]) == pytest.approx([0, 30, 0])
    s = sec(oc)
    assert list(s["year"]) == [2027]
    assert float(s["achieved"].iloc[0]) == pytest.approx(0.3)
    # one tonne less own output = one tonne more from CHN: 1500 - 1000 = 500 USD/t
    assert float(s["shadow_price_usd_per_t"].iloc[0]) == pytest.approx(500, rel=1e-6)


def test_max_shortage_share_member_row(tmp_path):
    # Shortage penalty 800 USD/t < CHN 1000, so shortage is the cheap option and the row caps it.
    # A needs 100 t; max_shortage_share 0.25 -> H <= 25:
    #   25 x 800 + 75 x 1000 = 20,000 + 75,000 = 0.095 MUSD (unconstrained: 100 x 800 = 0.08)
    b = book(suppliers=[CHN],
             settings={"start_year": 2026, "end_year": 2026, "discount_rate": 0, "shortage_penalty_usd_per_t": 800},
             security=[{"commodity": "ox", "member": "A", "max_shortage_share": 0.25}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.095, abs=1e-9)
    assert float(oc.tables["supply"]["shortage_t"].iloc[0]) == pytest.approx(25)
    row = sec(oc).iloc[0]
    assert row["achieved"] == pytest.approx(0.25) and row["limit"] == pytest.approx(0.25)
    # one more tonne short replaces a 1000 USD/t import by an 800 penalty: 200 USD/t
    assert row["shadow_price_usd_per_t"] == pytest.approx(200, rel=1e-6)


def test_max_shortage_share_bloc_row_with_member_row(tmp_path):
    # A needs 100, B 300; penalty 800 < CHN 1000.  Member row A 0.1 -> H_A <= 10; bloc row 0.25 ->
    # H_A + H_B <= 0.25 x 400 = 100.  Total shortage 100 (how it splits is a tie):
    #   100 x 800 + 300 x 1000 = 0.08 + 0.30 = 0.38 MUSD
    b = book(members=("A", "B"), demand={("A", "ox"): 100, ("B", "ox"): 300}, suppliers=[CHN],
             settings={"start_year": 2026, "end_year": 2026, "discount_rate": 0, "shortage_penalty_usd_per_t": 800},
             security=[{"commodity": "ox", "member": "A", "max_shortage_share": 0.1},
                       {"commodity": "ox", "max_shortage_share": 0.25}])
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(0.38, abs=1e-9)
    sup = oc.tables["supply"].set_index("member")
    assert sup["shortage_t"].sum() == pytest.approx(100)
    assert sup.loc["A", "shortage_t"] <= 10 + 1e-6
    bloc = sec(oc, member="(bloc)").iloc[0]
    assert bloc["achieved"] == pytest.approx(0.25)
    assert bloc["shadow_price_usd_per_t"] == pytest.approx(200, rel=1e-6)


@pytest.mark.parametrize("via", ["imports", "offtake"])
@pytest.mark.parametrize("anti, objective, flow", [
    # FALSE: A takes 200 t from the country of concern (1000 USD/t) and ships 100 to B (route 10 USD/t):
    #   200 x 1000 + 100 x 10 = 201,000 USD = 0.201 MUSD
    ("FALSE", 0.201, 100),
    # TRUE: A's concern supply <= its own use (100); B must buy ROW at 1500:
    #   100 x 1000 + 100 x 1500 = 0.25 MUSD, no trade
    ("TRUE", 0.25, 0),
])
def test_anti_circumvention(tmp_path, anti, objective, flow, via):
    # B's member row forbids concern supply (max_concern_share 0); A has no limit.  The concern supply
    # is either CHN imports or an offtake from CHN marked country_of_concern (200 t/yr, floor 1000 ->
    # price max(1000, 1000) = 1000, no take-or-pay).
    if via == "imports":
        extra = {}
        col = "imports_concern_t"
    else:
        extra = {"suppliers": [ROW],
                 "offtakes": [{"offtake": "O1", "seller": "CHN", "member": "A", "commodity": "ox", "max_tpa": 200,
                               "floor_price_usd_per_t": 1000, "country_of_concern": True}]}
        col = "offtake_concern_t"
    b = book(members=("A", "B"), demand={("A", "ox"): 100, ("B", "ox"): 100},
             settings={"start_year": 2026, "end_year": 2026, "discount_rate": 0, "anti_circumvention": anti,
                       "default_route_cost_usd_per_t": 10},
             security=[{"commodity": "ox", "member": "B", "max_concern_share": 0}], **extra)
    oc = solve_book(tmp_path, b)
    assert oc.objective == pytest.approx(objective, abs=1e-9)
    tr = oc.tables["trade"]
    assert float(tr["flow_t"].sum()) == pytest.approx(flow, abs=1e-6)
    sup = oc.tables["supply"].set_index("member")
    assert sup.loc["A", col] == pytest.approx(100 + flow)
    assert sup.loc["B", col] == pytest.approx(0)
