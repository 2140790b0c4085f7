"""The input workbook format, declared once.

Every sheet of SPEC §2 is one :class:`Sheet` with its :class:`Column` s.  This
single declaration drives reading (types, defaults), validation (required,
ranges, references, keys), the empty template (headers, unit notes, drop-down
lists) and the generated reference page ``docs/workbook-format.md``.  Adding a
column means adding one ``Column(...)`` line here.

Defaults: a plain value, ``None`` (blank), or :class:`FromSetting` (the value
of a settings key, e.g. ``start_year``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# column types
KEY = "key"        # identifier (string, stripped; numbers read as text)
TEXT = "text"      # free text
INT = "int"        # whole number
YEAR = "year"      # whole number; a date typed into the cell reads as its year
FLOAT = "float"    # number
BOOL = "bool"      # TRUE/FALSE, yes/no, 1/0
CHOICE = "choice"  # one of `choices`

INF = float("inf")


@dataclass(frozen=True)
class FromSetting:
    """Default taken from a settings key."""

    key: str

    def __str__(self) -> str:  # used in docs and the template notes
        return f"settings {self.key}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    default: Any = None
    unit: str = ""
    description: str = ""
    min: float | None = None           # inclusive lower bound
    max: float | None = None           # inclusive upper bound
    min_exclusive: float | None = None  # strict lower bound
    max_exclusive: float | None = None  # strict upper bound
    ref: tuple[str, str] | None = None  # (sheet, column) the value must exist in
    choices: tuple[str, ...] = ()
    ref_extra: tuple[tuple[str, str], ...] = ()  # further places a value may be found
    target: bool = False               # a security target kind (a row of sheet security must fill one)

    @property
    def range_text(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.min_exclusive is not None:
            parts.append(f"> {self.min_exclusive:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        if self.max_exclusive is not None:
            parts.append(f"< {self.max_exclusive:g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    required: bool = False
    description: str = ""
    kind: str = "table"  # "table", "settings" (key/value) or "free" (copied through)
    year_range: tuple[str, str] | None = None  # (first, last) year columns of a row's period
    implicit_keys: tuple[str, ...] = ()  # keys that exist when the sheet is empty (scenario 'base')

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _share(name, desc, default=None, required=False, unit="share 0-1", target=False):
    return Column(name, FLOAT, required=required, default=default, unit=unit,
                  description=desc, min=0, max=1, target=target)


def _money(name, desc, unit, default=None, required=False, negative=False):
    return Column(name, FLOAT, required=required, default=default, unit=unit,
                  description=desc, min=None if negative else 0)


START = FromSetting("start_year")
END = FromSetting("end_year")
MEMBER_REF = ("members", "member")
COMMODITY_REF = ("commodities", "commodity")
SCENARIO_REF = ("scenarios", "scenario")

# ---------------------------------------------------------------- settings
SETTINGS = (
    Column("start_year", YEAR, required=True, unit="year", description="first model year",
           min=1900, max=2200),
    Column("end_year", YEAR, required=True, unit="year", description="last model year (>= start_year)",
           min=1900, max=2200),
    Column("discount_rate", FLOAT, default=0.05, unit="per year",
           description="real discount rate, for discounting and capex annuities", min_exclusive=-1),
    Column("base_year", YEAR, default=START, unit="year",
           description="year to which costs are discounted", min=1900, max=2200),
    Column("objective", CHOICE, default="resource", choices=("resource", "market"),
           description="resource: bloc resource cost; market: also counts policy transfers "
                       "(tariffs paid by importers, floor support received by bloc producers)"),
    _money("shortage_penalty_usd_per_t", "default shortage penalty for commodities; blank = shortage not allowed",
           "USD/t"),
    Column("anti_circumvention", BOOL, default=True,
           description="imports from a country of concern must be used by the member that imports them"),
    Column("trade_all_pairs", BOOL, default=True,
           description="every member may ship to every other at default_route_cost_usd_per_t unless routes says otherwise"),
    _money("default_route_cost_usd_per_t", "cost of shipping between members when routes gives none", "USD/t",
           default=0.0, negative=True),
    Column("end_stock_at_least_initial", BOOL, default=True,
           description="stockpiles must end the horizon at least as full as they started"),
    Column("time_limit_s", FLOAT, default=600.0, unit="s", description="solver time limit", min_exclusive=0),
    Column("mip_gap", FLOAT, default=1e-5, unit="share",
           description="relative MIP gap (the only stopping gap)", min=0),
    Column("threads", INT, default=0, description="solver threads; 0 = solver default", min=0),
    Column("risk_aversion", FLOAT, default=0.0, unit="share 0-1",
           description="lambda: objective = (1 - lambda) expected cost + lambda CVaR", min=0, max=1),
    Column("cvar_alpha", FLOAT, default=0.9, unit="share",
           description="confidence level of the CVaR", min=0, max_exclusive=1),
    Column("foresight_years", INT, default=0, unit="years",
           description="how many years before two scenarios' data first differ their operations may differ "
                       "(derived scenario tree); beyond the horizon = full foresight (plain two-stage model)", min=0),
    Column("terminal_stock_value", FLOAT, default=1.0, unit="share 0-1",
           description="share of its replacement cost at which stock left at end_year is credited; 0 = worthless",
           min=0, max=1),
)

SHEETS: tuple[Sheet, ...] = (
    Sheet("settings", (
        Column("key", KEY, required=True, description="setting name (see the list of settings)"),
        Column("value", TEXT, description="setting value"),
    ), key=("key",), required=True, kind="settings",
        description="Model horizon, discounting, objective mode and solver options (two columns: key, value)."),
    Sheet("members", (
        Column("member", KEY, required=True, description="member code, e.g. USA, EU, JPN"),
        Column("name", TEXT, description="full name"),
        Column("burden_share", FLOAT, unit="weight", min=0,
               description="share of common fiscal costs (normalised over members; all blank = equal shares)"),
        _money("fiscal_budget_musd", "cap on the member's discounted share of floor support in every scenario; blank = none",
               "MUSD"),
    ), key=("member",), required=True, description="Bloc members: countries or groups with demand, plants and stockpiles."),
    Sheet("suppliers", (
        Column("supplier", KEY, required=True, description="outside source, e.g. CHN, ROW"),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF, description="commodity sold"),
        _money("max_tpa", "most the bloc can buy per year; blank = unlimited", "t/yr"),
        Column("price_factor", FLOAT, default=1.0, unit="x market price", min=0,
               description="multiplies the commodity's market price"),
        Column("country_of_concern", BOOL, default=False, description="counts towards max_concern_share"),
        _money("tariff_usd_per_t", "import tariff", "USD/t", default=0.0, negative=True),
        Column("border_adjusted", BOOL, default=False,
               description="tariff raised so that the import price is at least the commodity's floor price"),
    ), key=("supplier", "commodity"), description="Sources outside the bloc, one row per commodity they sell."),
    Sheet("commodities", (
        Column("commodity", KEY, required=True, description="commodity code"),
        Column("name", TEXT, description="full name"),
        Column("stage", TEXT, description="free text: ore, oxide, metal, component ..."),
        _money("shortage_penalty_usd_per_t", "cost of unmet demand; blank = settings default", "USD/t"),
        _money("floor_price_usd_per_t", "price guaranteed to bloc producers; blank = no floor", "USD/t"),
        Column("export_price_factor", FLOAT, unit="x market price", min=0,
               description="bloc output may be sold outside the bloc at market price x factor; blank = no exports"),
        _money("disposal_cost_usd_per_t", "surplus may be discarded at this cost; blank = no disposal", "USD/t",
               negative=True),
    ), key=("commodity",), required=True, description="Traded materials at each stage of the chain."),
    Sheet("market_prices", (
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        Column("year", YEAR, required=True, unit="year"),
        _money("price_usd_per_t", "reference-scenario market price", "USD/t", required=True),
    ), key=("commodity", "year"),
        description="Reference market prices; missing years in between are interpolated, outside the range held flat."),
    Sheet("demand", (
        Column("member", KEY, required=True, ref=MEMBER_REF),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        Column("year", YEAR, required=True, unit="year"),
        _money("demand_t", "demand in the reference scenario", "t", required=True),
    ), key=("member", "commodity", "year"), required=True,
        description="Demand per member, commodity and year (same interpolation rule as prices)."),
    Sheet("processes", (
        Column("process", KEY, required=True, description="plant or plant type"),
        Column("member", KEY, required=True, ref=MEMBER_REF),
        Column("output", KEY, required=True, ref=COMMODITY_REF, description="main output commodity"),
        Column("input", KEY, ref=COMMODITY_REF, description="input commodity; blank = none (a mine)"),
        Column("input_per_output", FLOAT, default=1.0, unit="t/t", min=0, description="t of input per t of output"),
        Column("existing_tpa", FLOAT, default=0.0, unit="t/yr", min=0, description="existing capacity"),
        Column("existing_until", YEAR, unit="year",
               description="last year existing capacity operates; blank = whole horizon"),
        _money("variable_cost_usd_per_t", "operating cost excluding input purchase", "USD/t", default=0.0,
               negative=True),
        _share("availability", "maximum utilisation", default=1.0),
        Column("module_tpa", FLOAT, unit="t/yr", min=0,
               description="capacity of one expansion module; blank/0 = no expansion"),
        Column("max_modules", FLOAT, unit="modules", min=0,
               description="modules built over the whole horizon; blank = unlimited"),
        Column("integer_modules", BOOL, default=True, description="modules are whole units"),
        _money("capex_musd_per_module", "investment per module (required when module_tpa > 0)", "MUSD"),
        _money("fixed_om_musd_per_module_yr", "fixed O&M per module in the years it operates", "MUSD/yr", default=0.0),
        Column("lead_time_years", INT, default=0, unit="years", min=0,
               description="a module built in year y operates from y + lead"),
        Column("first_build_year", YEAR, default=START, unit="year", description="first year a module may be built"),
        Column("lifetime_years", INT, default=25, unit="years", min=1, description="operating life of a module"),
    ), key=("process",), description="Plants at members converting an optional input into one output."),
    Sheet("coproducts", (
        Column("process", KEY, required=True, ref=("processes", "process")),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        _money("t_per_t_output", "t of coproduct per t of main output", "t/t", required=True),
    ), key=("process", "commodity"), description="Further outputs made in fixed proportion to a process's main output."),
    Sheet("stockpiles", (
        Column("member", KEY, required=True, ref=MEMBER_REF),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        _money("existing_capacity_t", "storage capacity today", "t", default=0.0),
        _money("initial_stock_t", "stock at the start (<= existing capacity)", "t", default=0.0),
        _money("capex_usd_per_t", "cost of new capacity; blank = no expansion", "USD/t"),
        _money("max_capacity_t", "total capacity limit, existing included; blank = none", "t"),
        Column("lead_time_years", INT, default=0, unit="years", min=0),
        Column("lifetime_years", INT, default=30, unit="years", min=1),
        _money("holding_cost_usd_per_t_yr", "on the end-of-year level", "USD/t/yr", default=0.0),
        _share("loss_rate", "share of the stock lost per year", default=0.0),
    ), key=("member", "commodity"), description="Strategic storage of a commodity at a member."),
    Sheet("offtakes", (
        Column("offtake", KEY, required=True, description="contract name"),
        Column("seller", KEY, required=True, description="who delivers (a supplier or any named seller)"),
        Column("member", KEY, required=True, ref=MEMBER_REF, description="buyer"),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        _money("max_tpa", "contract volume per year", "t/yr", required=True),
        _share("min_take_share", "take-or-pay share of max_tpa once signed", default=0.0),
        _money("floor_price_usd_per_t", "price paid is max(floor, market)", "USD/t", required=True),
        Column("start_year", YEAR, default=START, unit="year"),
        Column("end_year", YEAR, default=END, unit="year"),
        _money("signing_cost_musd", "paid in start_year", "MUSD", default=0.0),
        Column("country_of_concern", BOOL, default=False, description="counts towards max_concern_share"),
    ), key=("offtake",), year_range=("start_year", "end_year"), description="Contract options the bloc may sign."),
    Sheet("routes", (
        Column("from", KEY, required=True, ref=MEMBER_REF),
        Column("to", KEY, required=True, ref=MEMBER_REF),
        Column("commodity", KEY, ref=COMMODITY_REF, description="blank = all commodities"),
        _money("cost_usd_per_t", "shipping cost; blank = settings default_route_cost_usd_per_t", "USD/t",
               default=FromSetting("default_route_cost_usd_per_t"), negative=True),
        Column("allowed", BOOL, default=True, description="FALSE removes the route"),
    ), key=("from", "to", "commodity"), description="Directed shipping routes between members."),
    Sheet("security", (
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        Column("member", KEY, ref=MEMBER_REF, description="blank = whole bloc"),
        Column("from_year", YEAR, default=START, unit="year"),
        Column("to_year", YEAR, default=END, unit="year"),
        _share("max_concern_share", "imports and offtakes from countries of concern / consumption", target=True),
        Column("min_stock_days", FLOAT, unit="days", min=0, target=True,
               description="end-of-year stock >= days/365 x consumption, in years the commodity is not disrupted"),
        _share("min_domestic_share", "own output / consumption", target=True),
        _share("max_shortage_share", "shortage / demand", target=True),
    ), year_range=("from_year", "to_year"), description="Supply-security targets (several may cover one item)."),
    Sheet("scenarios", (
        Column("scenario", KEY, required=True),
        Column("probability", FLOAT, required=True, min=0, max=1, unit="share",
               description="probabilities must sum to 1"),
        Column("description", TEXT),
        Column("parent", KEY, ref=SCENARIO_REF,
               description="explicit scenario tree: the scenario this one shares its operations with before "
                           "branch_year (every scenario but one root names a parent, or none does)"),
        Column("branch_year", YEAR, unit="year",
                description="first year in which this scenario's operations may differ from its parent's"),
    ), key=("scenario",), implicit_keys=("base",), description="Possible futures; default one scenario 'base' with probability 1."),
    Sheet("scenario_prices", (
        Column("scenario", KEY, required=True, ref=SCENARIO_REF),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        Column("supplier", KEY, ref=("suppliers", "supplier"),
               description="blank = the commodity's market price; a supplier = that supplier's price alone"),
        Column("from_year", YEAR, default=START, unit="year"),
        Column("to_year", YEAR, default=END, unit="year"),
        Column("multiplier", FLOAT, required=True, min=0, unit="x", description="overlapping rows multiply"),
    ), year_range=("from_year", "to_year"), description="Price multipliers per scenario."),
    Sheet("scenario_demand", (
        Column("scenario", KEY, required=True, ref=SCENARIO_REF),
        Column("commodity", KEY, required=True, ref=COMMODITY_REF),
        Column("member", KEY, ref=MEMBER_REF, description="blank = all members"),
        Column("from_year", YEAR, default=START, unit="year"),
        Column("to_year", YEAR, default=END, unit="year"),
        Column("multiplier", FLOAT, required=True, min=0, unit="x", description="overlapping rows multiply"),
    ), year_range=("from_year", "to_year"), description="Demand multipliers per scenario."),
    Sheet("disruptions", (
        Column("scenario", KEY, required=True, ref=SCENARIO_REF),
        Column("supplier", KEY, required=True, ref=("suppliers", "supplier"), ref_extra=(("offtakes", "seller"),),
               description="a supplier or an offtake seller"),
        Column("commodity", KEY, ref=COMMODITY_REF, description="blank = all"),
        Column("from_year", YEAR, required=True, unit="year"),
        Column("to_year", YEAR, required=True, unit="year"),
        _share("available_share", "share of normal supply still available (0 = full ban)", required=True),
    ), year_range=("from_year", "to_year"), description="Supply cuts per scenario; overlapping rows: the smallest share holds."),
    Sheet("sources", (
        Column("item", TEXT), Column("value", TEXT), Column("unit", TEXT), Column("source", TEXT),
        Column("status", TEXT, description="primary, secondary, assumption, unverified"),
    ), kind="free", description="Free form: where each figure came from. Copied to the results."),
)

SHEET_BY_NAME = {s.name: s for s in SHEETS}
SETTING_BY_NAME = {c.name: c for c in SETTINGS}
