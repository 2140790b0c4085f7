"""An unbounded model names the settings that can cause it before any commodity (issue 15 item 2)."""
from modelkit import solve_book


def book(**settings):
    return {"settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, **settings},
            "members": [{"member": "A"}, {"member": "B"}], "commodities": [{"commodity": "X"}],
            "suppliers": [{"supplier": "S", "commodity": "X", "max_tpa": 10}],
            "market_prices": [{"commodity": "X", "year": 2026, "price_usd_per_t": 10}],
            "demand": [{"member": "A", "commodity": "X", "year": 2026, "demand_t": 1}]}


def test_a_negative_default_route_cost_is_named_first(tmp_path):
    # shipping X back and forth between A and B at -5 USD/t earns money without limit (validation warns;
    # the solve says unbounded and names the setting before anything else)
    oc = solve_book(tmp_path, book(default_route_cost_usd_per_t=-5))
    assert oc.status == "unbounded" and oc.exit_code == 1
    cause = oc.message.split("Likely cause: ")[1]
    assert cause.startswith("settings default_route_cost_usd_per_t is -5")


def test_setting_causes_lists_the_settings():
    from planner.input.load import load
    from planner.model.prepare import prepare
    from planner.workflows.run import setting_causes

    d = prepare(load("inputs/tiny.xlsx", {"default_route_cost_usd_per_t": "-1"}))
    assert any("default_route_cost_usd_per_t" in c for c in setting_causes(d))
    assert setting_causes(prepare(load("inputs/tiny.xlsx"))) == []
