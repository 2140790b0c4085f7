"""The results workbook format, declared once (as :mod:`planner.input.schema` declares the inputs).

Every results sheet of SPEC §4 is one :class:`ResultSheet` with its :class:`ResultColumn` s: name,
unit, kind and a plain-language description.  The extraction builds its tables in this column
order (tests check every table against it), the writer and the workflows (stress, sweep,
compare, plot) name columns through it, and ``docs/results-format.md`` is generated from it
(``python -m planner.report.schema``).

Kinds: ``key`` (identifies the row), ``t`` (tonnes), ``musd`` (MUSD, discounted to base_year),
``usd_per_t`` (a price or shadow price), ``share`` (0-1), ``count``, ``flag`` (TRUE/FALSE),
``text``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KINDS = ("key", "t", "musd", "usd_per_t", "share", "count", "flag", "text", "year")


@dataclass(frozen=True)
class ResultColumn:
    name: str
    kind: str
    description: str
    unit: str = ""

    def __post_init__(self):
        assert self.kind in KINDS, self.kind


@dataclass(frozen=True)
class ResultSheet:
    name: str
    description: str
    columns: tuple[ResultColumn, ...]
    extra: ResultColumn | None = None  # a family of further columns (name pattern with {x})
    keys: tuple[str, ...] = ()         # the columns that identify a row (compare aligns tables on them)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ResultColumn:
        for c in self.columns:
            if c.name == name:
                return c
        if self.extra is not None:
            pre, _, post = self.extra.name.partition("{x}")
            if name.startswith(pre) and name.endswith(post):
                return self.extra
        raise KeyError(f"{self.name}: no column {name}")


def K(name, description, kind="key", unit=""):
    return ResultColumn(name, kind, description, unit)


def T(name, description):
    return ResultColumn(name, "t", description, "t")


def M(name, description):
    return ResultColumn(name, "musd", description, "MUSD")


def P(name, description):
    return ResultColumn(name, "usd_per_t", description, "USD/t")


MEMBER = K("member", "bloc member")
COMMODITY = K("commodity", "commodity")
YEAR = ResultColumn("year", "year", "model year")
SCENARIO = K("scenario", "scenario")

RESULT_SHEETS = (
    ResultSheet("summary", "Status, objective, cost split, risk figures, gap, times, input hash and versions.", (
        K("key", "figure"), ResultColumn("value", "text", "its value")), keys=("key",)),
    ResultSheet("investments", "First-stage decisions: modules built, stockpile capacity built, offtakes signed.", (
        K("kind", "process modules, stockpile capacity or offtake signed"),
        K("item", "process, member/commodity stockpile or offtake"), MEMBER, COMMODITY,
        ResultColumn("build_year", "year", "year the decision is made (signing: contract start)"),
        ResultColumn("online_year", "year", "first year it operates (build year + lead time)"),
        ResultColumn("quantity", "count", "modules, tonnes of capacity or 1 contract"),
        ResultColumn("unit", "text", "unit of quantity"),
        T("capacity_added_t", "capacity added (t/yr for modules and contracts, t for stockpiles)"),
        M("cost_musd", "discounted first-stage cost of the decision (capex annuities, fixed O&M, signing)")), keys=("kind", "item", "build_year")),
    ResultSheet("capacity", "Process capacity and production per year and scenario.", (
        K("process", "process"), MEMBER, K("output", "main output commodity"), YEAR, SCENARIO,
        T("existing_tpa", "existing capacity operating that year (t/yr)"),
        T("new_tpa", "capacity of modules built and operating (t/yr)"),
        T("capacity_tpa", "existing + new (t/yr)"),
        T("available_tpa", "capacity x availability (t/yr)"),
        T("production_t", "main output produced"),
        ResultColumn("utilisation_share", "share", "production / available capacity")), keys=("process", "year", "scenario")),
    ResultSheet("offtakes", "Offtake contracts: deliveries and prices per contract year and scenario.", (
        K("offtake", "contract"), K("seller", "seller"), MEMBER, COMMODITY,
        ResultColumn("signed", "flag", "signed in the plan"), YEAR, SCENARIO,
        T("delivered_t", "tonnes delivered"),
        P("price_usd_per_t", "contract price max(floor, market)"),
        M("cost_musd", "discounted payment")), keys=("offtake", "year", "scenario")),
    ResultSheet("stockpiles", "Stockpile capacity, level, fill and draw per year and scenario.", (
        MEMBER, COMMODITY, YEAR, SCENARIO,
        T("capacity_t", "capacity operating that year"), T("level_t", "end-of-year level"),
        T("fill_t", "tonnes put into stock"), T("draw_t", "tonnes drawn"),
        M("holding_cost_musd", "discounted holding cost"),
        M("terminal_value_musd", "credit for stock left at end_year at replacement cost (negative = credit)")), keys=("member", "commodity", "year", "scenario")),
    ResultSheet("supply", "Every term of the commodity balance per member, commodity, year and scenario.", (
        MEMBER, COMMODITY, YEAR, SCENARIO, T("demand_t", "demand"),
        T("production_t", "bloc output at the member (main output and coproducts)"),
        T("imports_concern_t", "imports from countries of concern"),
        T("imports_other_t", "other imports"),
        T("offtake_t", "offtake deliveries"), T("offtake_concern_t", "offtake deliveries from countries of concern"),
        T("trade_in_t", "received from other members"), T("stock_draw_t", "drawn from stock"),
        T("shortage_t", "demand not met"), T("input_use_t", "used as input by processes"),
        T("trade_out_t", "shipped to other members"), T("stock_fill_t", "put into stock"),
        T("exports_t", "sold outside the bloc"), T("disposal_t", "discarded")),
        extra=T("imports_from_{x}_t", "imports from supplier {x} (detail of the two import columns)"), keys=("member", "commodity", "year", "scenario")),
    ResultSheet("trade", "Flows between members.", (
        K("from", "shipping member"), K("to", "receiving member"), COMMODITY, YEAR, SCENARIO,
        T("flow_t", "tonnes shipped"), M("cost_musd", "discounted transport cost")), keys=("from", "to", "commodity", "year", "scenario")),
    ResultSheet("security", "Every security constraint: limit, achieved value and shadow price.", (
        ResultColumn("security_row", "count", "row of the security sheet"),
        K("target", "max_concern_share, min_stock_days, min_domestic_share or max_shortage_share"),
        MEMBER, COMMODITY, YEAR, SCENARIO,
        ResultColumn("limit", "text", "the target as written (share, or days)"),
        ResultColumn("achieved", "text", "achieved share of consumption (never above 100 %) or days of cover; "
                                         "blank where consumption is 0"),
        T("value_t", "the constrained quantity (concern imports incl. what went into stock, stock, own output, "
                     "shortage)"),
        T("limit_t", "the limit in tonnes"), T("consumption_t", "demand + input use"),
        T("beyond_consumption_t", "concern imports beyond consumption (into stock or on to other members)"),
        ResultColumn("binding", "flag", "the constraint holds with equality"),
        P("shadow_price_usd_per_t", "cost of tightening the target by one tonne, in the scenario's own terms "
                                    "(node of the scenario tree)")), keys=("target", "member", "commodity", "year", "scenario")),
    ResultSheet("fiscal", "Floor support, tariff revenue and budgets per member and scenario.", (
        MEMBER, SCENARIO, ResultColumn("burden_share", "share", "normalised burden share"),
        M("floor_support_share_musd", "member's share of the bloc's floor support"),
        M("floor_support_received_musd", "floor support received by the member's producers"),
        M("tariff_revenue_musd", "tariff revenue collected on the member's imports"),
        M("fiscal_budget_musd", "budget (blank = none)"),
        M("budget_slack_musd", "budget minus the member's share of support")), keys=("member", "scenario")),
    ResultSheet("ledger", "Per-member fiscal ledger (member x scenario; '(expected)' rows probability-weighted).", (
        MEMBER, SCENARIO, ResultColumn("burden_share", "share", "normalised burden share"),
        M("floor_support_paid_musd", "the member's burden share of the bloc's floor support"),
        M("floor_support_received_musd", "support its own producers receive (not part of the position)"),
        M("offtake_premium_musd", "offtake payments above market price"),
        M("tariff_revenue_musd", "tariffs collected on its imports"),
        M("stockpile_capex_musd", "its stockpiles' capacity annuities"),
        M("stockpile_holding_musd", "its stockpiles' holding cost"),
        M("net_fiscal_position_musd", "tariff revenue - support paid - offtake premium - stockpile capex - holding"),
        ResultColumn("worst_scenario", "flag", "the member's scenario with the lowest net position")), keys=("member", "scenario")),
    ResultSheet("costs", "Cost per member, scenario and category (they add up to the objective).", (
        MEMBER, SCENARIO, K("category", "cost category"), M("cost_musd", "discounted cost")), keys=("member", "scenario", "category")),
    ResultSheet("prices", "Marginal cost of supply (dual of the balance) per member, commodity, year, scenario.", (
        MEMBER, COMMODITY, YEAR, SCENARIO,
        P("marginal_cost_usd_per_t", "cost of one more tonne of demand in this scenario (its node of the "
                                     "scenario tree), in the scenario's own terms, undiscounted"),
        P("expected_marginal_cost_usd_per_t", "probability-weighted mean of marginal_cost over scenarios"),
        ResultColumn("risk_weight", "share", "weight of the scenario in the objective / its probability "
                                             "(1 when risk-neutral; CVaR raises the costly scenarios)")), keys=("member", "commodity", "year", "scenario")),
    ResultSheet("scenario_tree", "Which scenarios share their operations in each year (SPEC §3 Information).", (
        SCENARIO, YEAR, K("node", "node of the tree (year/first scenario of the node)"),
        ResultColumn("scenarios", "text", "the scenarios that share this node")), keys=("scenario", "year")),
)
RESULT_SHEET = {s.name: s for s in RESULT_SHEETS}
DOCS_PATH = Path("docs") / "results-format.md"


def keys(sheet: str) -> list[str]:
    return list(RESULT_SHEET[sheet].keys)


def columns(sheet: str) -> list[str]:
    return RESULT_SHEET[sheet].names


def render() -> str:
    lines = ["# Results workbook format", "",
             "Generated from `planner/report/schema.py` by `python -m planner.report.schema`; do not edit by hand.",
             "Money is in MUSD discounted to base_year; per-scenario figures are per scenario.", ""]
    for s in RESULT_SHEETS:
        lines += [f"## {s.name}", "", s.description, "", "| column | unit | meaning |", "|---|---|---|"]
        cols = list(s.columns) + ([s.extra] if s.extra else [])
        for c in cols:
            lines.append(f"| `{c.name}` | {c.unit or c.kind} | {c.description} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - a developer's command
    DOCS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCS_PATH}")


if __name__ == "__main__":
    main()


class _Columns:
    """``COL.shortage_t`` is the string ``"shortage_t"``, checked against the declaration: the workflows and
    charts name results columns through it, so a renamed or misspelt column fails loudly where it is used
    (tests/report/test_results_schema.py runs every use), never as a silently empty chart or table."""

    def __init__(self):
        self._names = {c.name for s in RESULT_SHEETS for c in s.columns}

    def __getattr__(self, name: str) -> str:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"no results column {name!r} is declared in planner/report/schema.py")
        return name


COL = _Columns()
