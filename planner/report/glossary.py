"""What every results column means: the ``glossary`` sheet, and the labels of the front sheet.

:func:`describe` reads the results schema (planner/report/schema.py, which declares every results
sheet's columns with unit and description); :data:`COLUMNS` (per sheet) and :data:`COMMON` (columns
several sheets share) describe what the schema does not declare (the sources and glossary sheets), and
were the glossary's source before the schema existed.

:data:`FIGURES` labels the summary's keys for the front sheet: plain words, unit and number format.
"""
from __future__ import annotations

import re

import pandas as pd

MONEY = "#,##0.0"
TONNES = "#,##0"
COUNT = "#,##0"
SHARE = "0.0%"
PRICE = "#,##0"

# columns found in several sheets (same meaning everywhere)
COMMON = {
    "member": ("", "bloc member (country) the row belongs to; (bloc) for bloc-wide items"),
    "commodity": ("", "commodity (mineral product) as named in the input's commodities sheet"),
    "year": ("year", "calendar year of the row"),
    "scenario": ("", "scenario of the row (its own probability in the summary's scenarios row)"),
    "cost_musd": ("MUSD", "cost of the row in million USD, discounted to base_year"),
    "process": ("", "refining or processing route, as named in the input's processes sheet"),
}

# sheet -> column -> (unit, description)
COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "summary": {
        "key": ("", "name of the figure or setting (the front sheet explains the key figures in words)"),
        "value": ("", ("its value; units are in the key's suffix (_musd: million USD, _t: tonnes, _s: seconds, "
                      "_share: share 0-1)")),
    },
    "investments": {
        "kind": ("", "process modules, stockpile capacity or offtake signed"),
        "item": ("", "the process, member/commodity stockpile or offtake contract invested in"),
        "build_year": ("year", "year the investment is decided and paid from"),
        "online_year": ("year", "first year the capacity operates (build_year + lead time)"),
        "quantity": ("unit column", "modules built, tonnes of stock capacity, or 1 for a signed contract"),
        "unit": ("", "unit of quantity"),
        "capacity_added_t": ("t/yr or t", ("capacity the investment adds: tonnes a year for modules and "
                                          "offtakes, tonnes of storage for stockpiles")),
        "cost_musd": ("MUSD", ("first-stage cost of the investment over the horizon (capex annuities, fixed O&M, "
                              "signing cost), discounted")),
    },
    "capacity": {
        "output": ("", "commodity the process produces"),
        "existing_tpa": ("t/yr", "capacity already in place"),
        "new_tpa": ("t/yr", "capacity added by modules built in this plan and operating this year"),
        "capacity_tpa": ("t/yr", "existing plus new capacity"),
        "available_tpa": ("t/yr", "capacity times availability: the most that can be produced"),
        "production_t": ("t", "output produced in the year and scenario"),
        "utilisation_share": ("share", "production divided by available capacity"),
    },
    "offtakes": {
        "offtake": ("", "offtake contract, as named in the input's offtakes sheet"),
        "seller": ("", "seller of the contract"),
        "signed": ("TRUE/FALSE", "whether the plan signs the contract"),
        "delivered_t": ("t", "tonnes delivered under the contract"),
        "price_usd_per_t": ("USD/t", "price paid: the higher of the contract floor and the market price"),
        "cost_musd": ("MUSD", "delivered tonnes times price, discounted"),
    },
    "stockpiles": {
        "capacity_t": ("t", "storage capacity in place in the year"),
        "level_t": ("t", "stock held at the end of the year"),
        "fill_t": ("t", "tonnes put into stock in the year"),
        "draw_t": ("t", "tonnes drawn from stock in the year"),
        "holding_cost_musd": ("MUSD", "cost of holding the stock, discounted"),
    },
    "supply": {
        "demand_t": ("t", "final demand of the member for the commodity"),
        "production_t": ("t", "bloc output at the member (including co-products)"),
        "imports_concern_t": ("t", "imports from suppliers marked country_of_concern"),
        "imports_other_t": ("t", "imports from other outside suppliers"),
        "offtake_t": ("t", "deliveries under offtakes from sellers not of concern"),
        "offtake_concern_t": ("t", "deliveries under offtakes from sellers of concern"),
        "trade_in_t": ("t", "tonnes received from other members"),
        "stock_draw_t": ("t", "tonnes drawn from the member's stockpile"),
        "shortage_t": ("t", "demand left unmet (penalised at shortage_penalty_usd_per_t)"),
        "input_use_t": ("t", "tonnes used as input by the member's processes"),
        "trade_out_t": ("t", "tonnes sent to other members"),
        "stock_fill_t": ("t", "tonnes put into the member's stockpile"),
        "exports_t": ("t", "tonnes sold outside the bloc"),
        "disposal_t": ("t", "surplus discarded at the disposal cost"),
    },
    "trade": {
        "from": ("", "sending member"),
        "to": ("", "receiving member"),
        "flow_t": ("t", "tonnes moved along the route"),
        "cost_musd": ("MUSD", "route cost of the flow, discounted"),
    },
    "security": {
        "security_row": ("row", "row of the input's security sheet the target comes from"),
        "target": ("", ("kind of target: max_concern_share, min_stock_days, min_domestic_share or "
                       "max_shortage_share")),
        "limit": ("share or days", "the target's limit as given in the input"),
        "achieved": ("share or days", "what the plan achieves (blank where consumption is zero)"),
        "value_t": ("t", "the target's left-hand side in tonnes (concern imports, stock, own output or shortage)"),
        "limit_t": ("t", "the limit in tonnes for this year and scenario"),
        "consumption_t": ("t", "demand plus input use the target is measured against"),
        "binding": ("TRUE/FALSE", "whether the target holds with equality (it constrains the plan)"),
        "shadow_price_usd_per_t": ("USD/t", ("price of security: what one more tonne of slack in the target would "
                                            "save, undiscounted, in the scenario")),
    },
    "fiscal": {
        "burden_share": ("share", "member's share of common fiscal costs (normalised burden_share)"),
        "floor_support_share_musd": ("MUSD", ("member's share of the floor support paid to bloc producers, "
                                             "discounted")),
        "floor_support_received_musd": ("MUSD", "floor support received by producers at the member, discounted"),
        "tariff_revenue_musd": ("MUSD", "tariffs collected on the member's imports, discounted"),
        "fiscal_budget_musd": ("MUSD", "member's budget for floor support (blank: none)"),
        "budget_slack_musd": ("MUSD", "budget minus the member's share of support (>= 0 within budget)"),
    },
    "costs": {
        "category": ("", ("cost category (capex, fixed_om, variable, imports, offtakes, transport, holding, "
                         "shortage, signing, disposal, export_revenue, ...)")),
        "cost_musd": ("MUSD", ("cost of the category for the member in the scenario, discounted; negative for "
                              "revenue")),
    },
    "ledger": {
        "scenario": ("", "scenario of the row; (expected) rows give the probability-weighted figures"),
        "burden_share": ("share", "member's share of common fiscal costs (normalised burden_share)"),
        "floor_support_paid_musd": ("MUSD", "member's burden share of the bloc's floor support, discounted"),
        "floor_support_received_musd": ("MUSD", ("support the member's own producers receive (goes to producers, "
                                                "not the treasury: not part of the position)")),
        "offtake_premium_musd": ("MUSD", ("offtake payments above the market price on the contracts the member "
                                         "buys, discounted")),
        "tariff_revenue_musd": ("MUSD", "tariffs collected on the member's imports, discounted"),
        "stockpile_capex_musd": ("MUSD", "capacity annuities of the member's stockpiles, discounted"),
        "stockpile_holding_musd": ("MUSD", "holding cost of the member's stockpiles, discounted"),
        "net_fiscal_position_musd": ("MUSD", ("tariff revenue - floor support paid - offtake premium - stockpile "
                                             "capex - holding (negative: a net outlay)")),
        "worst_scenario": ("TRUE/FALSE", "TRUE on the member's scenario with the lowest net position"),
    },
    "prices": {
        "marginal_cost_usd_per_t": ("USD/t", ("shadow price of the balance: what one more tonne of demand would "
                                             "cost, undiscounted, in the scenario")),
    },
    "sources": {
        "item": ("", "input item the source documents"),
        "value": ("", "its value in the input"),
        "unit": ("", "unit of the value"),
        "source": ("", "where the figure comes from"),
        "status": ("", "how firm the figure is"),
    },
    "glossary": {
        "sheet": ("", "results sheet"),
        "column": ("", "column of that sheet"),
        "unit": ("", "unit of the column's values"),
        "description": ("", "what the column means"),
    },
}

SHEETS = {
    "summary": "every headline figure, setting and run detail as key/value rows",
    "investments": "what the plan builds and signs (first stage, one plan for all scenarios)",
    "capacity": "capacity and production by process, year and scenario",
    "offtakes": "offtake contracts: signed or not, deliveries and prices",
    "stockpiles": "stockpile capacity, level, fills and draws",
    "supply": "every term of each member's balance by commodity, year and scenario",
    "trade": "flows between members",
    "security": "security targets: limit, achieved, binding, price of security",
    "fiscal": "floor support, tariff revenue and budgets by member and scenario",
    "costs": "cost by member, scenario and category (adds up to the objective)",
    "ledger": "each member's fiscal ledger: support paid, premiums, tariffs, net position",
    "prices": "marginal supply cost (shadow prices of the balances)",
    "sources": "the sources sheet of the input workbook",
    "charts": "charts of the results",
    "chart_data": "the numbers behind the charts",
    "glossary": "what every column means, with units",
}

_PATTERNS = [
    (re.compile(r"^imports_from_(.+)_t$"), "t", ("imports bought from supplier {0} (detail of the two import "
                                               "columns, for checking its max_tpa)")),
]


_KIND_UNIT = {"t": "t", "musd": "MUSD", "usd_per_t": "USD/t", "share": "share (0-1)", "count": "count",
              "flag": "TRUE/FALSE", "year": "year"}


def describe(sheet: str, column: str) -> tuple[str, str]:
    """(unit, description) of a results column; ("", "") when it is not known."""
    col = str(column)
    from planner.report.schema import RESULT_SHEET

    rs = RESULT_SHEET.get(sheet)
    if rs is not None:
        try:
            c = rs.column(col)
        except KeyError:
            c = None
        if c is not None:
            text = c.description
            if "{x}" in c.name:
                pre, _, post = c.name.partition("{x}")
                text = text.replace("{x}", col[len(pre):len(col) - len(post)])
            return c.unit or _KIND_UNIT.get(c.kind, ""), text
    hit = COLUMNS.get(sheet, {}).get(col) or COMMON.get(col)
    if hit:
        return hit
    for pat, unit, text in _PATTERNS:
        m = pat.match(col)
        if m:
            return unit, text.format(*m.groups())
    return "", ""


def glossary_frame(sheets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per column of every table sheet (in sheet order), and the glossary's own columns."""
    rows = []
    for name, df in sheets.items():
        for c in df.columns:
            unit, text = describe(name, c)
            rows.append((name, str(c), unit, text))
    for c in ("sheet", "column", "unit", "description"):
        rows.append(("glossary", c, *describe("glossary", c)))
    return pd.DataFrame(rows, columns=["sheet", "column", "unit", "description"])


# ---------------------------------------------------------------- the summary's figures, in words
# key -> (label, unit, number format)
FIGURES = {
    "status": ("Solver status", "", None),
    "objective_musd": ("Objective (what the plan minimises)", "MUSD", MONEY),
    "mip_gap": ("Distance from the proven optimum (MIP gap)", "%", "0.00%"),
    "mip_dual_bound_musd": ("Best bound on the objective", "MUSD", MONEY),
    "expected_cost_musd": ("Expected total cost", "MUSD", MONEY),
    "mip_gap_musd": ("Distance from the proven optimum (MIP gap)", "MUSD", MONEY),
    "var_musd": ("Value at risk of the scenario cost (VaR at cvar_alpha)", "MUSD", MONEY),
    "cvar_musd": ("Conditional value at risk (mean of the costliest 1 - cvar_alpha)", "MUSD", MONEY),
    "cvar_alpha": ("Confidence level of VaR and CVaR", "0-1", "0.00"),
    "scenario_tree_nodes": ("Nodes of the scenario tree (years x groups that cannot yet be told apart)", "nodes",
                            COUNT),
    "scenario_tree": ("Scenario tree from", "", None),
    "max_concern_beyond_consumption_t": (("Most bought from countries of concern beyond consumption (stocked or "
                                         "passed on), one commodity-year-scenario"), "t", TONNES),
    "max_concern_beyond_consumption_at": ("  ... where (commodity, year, scenario)", "", None),
    "expected_floor_support_musd": ("Expected floor support paid to bloc producers", "MUSD", MONEY),
    "expected_tariff_revenue_musd": ("Expected tariff revenue", "MUSD", MONEY),
    "expected_shortage_t": ("Expected unmet demand", "t", TONNES),
    "modules_built": ("Process modules built", "modules", COUNT),
    "offtakes_signed": ("Offtake contracts signed", "contracts", COUNT),
    "worst_dependence_share": ("Worst dependence on countries of concern", "% of consumption", SHARE),
    "worst_dependence_at": ("  ... where (commodity, year, scenario)", "", None),
    "floor_note": ("What floor prices do in this objective", "", None),
    "objective_mode": ("Objective mode", "", None),
    "risk_aversion": ("Risk aversion (weight on CVaR)", "0-1", "0.00"),
    "scenarios": ("Scenarios (probability)", "", None),
    "scenario_only": ("Solved for one scenario only", "", None),
    "years": ("Years", "", None),
    "base_year": ("Money discounted to", "year", "0"),
    "discount_rate": ("Discount rate", "% a year", "0.0%"),
    "solve_time_s": ("Solver time", "s", "#,##0.0"),
    "independent_blocks": ("Independent parts solved apart (supply chains that share no decision)", "", None),
    "blocks_reused": ("Parts unchanged since the previous solve of the sweep or batch, not solved again", "", None),
    "input_path": ("Input workbook", "", None),
    "input_sha256": ("Input fingerprint (SHA-256)", "", None),
    "planner_version": ("Planner version", "", None),
    "highs_version": ("HiGHS version", "", None),
    "timestamp": ("Solved at (UTC)", "", None),
    "money": ("Money", "", None),
    "shadow_prices": ("Shadow prices", "", None),
}


def figure(key: str) -> tuple[str, str, str | None]:
    """(label, unit, number format) of a summary key."""
    if key in FIGURES:
        return FIGURES[key]
    m = re.match(r"^expected_(.+)_musd$", key)
    if m:
        return f"Expected cost: {m.group(1).replace('_', ' ')}", "MUSD", MONEY
    m = re.match(r"^cost_(.+)_musd$", key)
    if m:
        return f"Cost in scenario {m.group(1)}", "MUSD", MONEY
    m = re.match(r"^time_(.+)_s$", key)
    if m:
        return f"Time: {m.group(1).replace('_', ' ')}", "s", "#,##0.00"
    m = re.match(r"^setting_(.+)$", key)
    if m:
        return f"Setting {m.group(1)}", "", None
    return key.replace("_", " "), "", None
