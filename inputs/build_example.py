"""Build the shipped input workbooks from the data below.

    python inputs/build_example.py

writes, next to this file and into ``planner/data/`` (the copies shipped inside
the package, which ``planner solve`` and ``planner example`` use):

* ``bloc_example.xlsx`` -- an illustrative critical-minerals bloc (8 members,
  13 commodities in 5 supply chains, 2026-2040, 4 scenarios);
* ``tiny.xlsx`` -- a hand-solvable case, worked out in ``docs/tiny.md``.

Sheet and column names follow SPEC section 2 exactly. The workbooks are written
by the template writer (``planner.input.template.write_filled``): a README
sheet, row 1 = column names, row 2 = the units/notes row (starting with
``#``), drop-down lists and frozen headers, then the data rows. The output is
byte-for-byte deterministic, so a re-run produces no diff (a test checks that
the committed copies equal what this script makes).

Where each figure comes from: ``/work/shared/data/domain_figures.md`` (cited
below as "DF <section>") and the labels in it: [P] primary, [S] secondary,
[T] tertiary. The comment next to a figure names its source; the workbook's
``sources`` sheet (built from SOURCES at the end of the data) repeats them
with a status of primary / secondary / assumption / unverified. Anything not
in the domain file is an *assumption* made for this example and must not be
read as a fact about the named company or country.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:      # run as a script from a checkout: import the planner beside it
    sys.path.insert(0, str(HERE.parent))

# ---------------------------------------------------------------------------
# Column order of the tuple rows below (a subset of each sheet's columns in
# planner/input/schema.py, checked when the workbook is written). The units and
# notes row, the README sheet and the drop-downs come from the template writer.
# ---------------------------------------------------------------------------
LAYOUT: dict[str, list[str]] = {
    "settings": ["key", "value"],
    "members": [
        "member", "name", "burden_share",
        "fiscal_budget_musd",
    ],
    "suppliers": [
        "supplier", "commodity",
        "max_tpa", "price_factor",
        "country_of_concern", "tariff_usd_per_t",
        "border_adjusted",
    ],
    "commodities": [
        "commodity", "name", "stage",
        "shortage_penalty_usd_per_t",
        "floor_price_usd_per_t",
        "export_price_factor",
        "disposal_cost_usd_per_t",
    ],
    "market_prices": ["commodity", "year", "price_usd_per_t"],
    "demand": ["member", "commodity", "year", "demand_t"],
    "processes": [
        "process", "member", "output",
        "input", "input_per_output",
        "existing_tpa", "existing_until",
        "variable_cost_usd_per_t", "availability",
        "module_tpa", "max_modules",
        "integer_modules", "capex_musd_per_module",
        "fixed_om_musd_per_module_yr", "lead_time_years",
        "first_build_year", "lifetime_years",
    ],
    "coproducts": ["process", "commodity", "t_per_t_output"],
    "stockpiles": [
        "member", "commodity", "existing_capacity_t",
        "initial_stock_t", "capex_usd_per_t",
        "max_capacity_t", "lead_time_years",
        "lifetime_years", "holding_cost_usd_per_t_yr",
        "loss_rate",
    ],
    "offtakes": [
        "offtake", "seller", "member", "commodity",
        "max_tpa", "min_take_share",
        "floor_price_usd_per_t", "start_year", "end_year",
        "signing_cost_musd", "country_of_concern",
    ],
    "routes": [
        "from", "to", "commodity",
        "cost_usd_per_t", "allowed",
    ],
    "security": [
        "commodity", "member", "from_year",
        "to_year", "max_concern_share", "min_stock_days",
        "min_domestic_share", "max_shortage_share",
    ],
    "scenarios": ["scenario", "probability", "description", "parent", "branch_year"],
    "scenario_prices": [
        "scenario", "commodity",
        "supplier", "from_year", "to_year",
        "multiplier",
    ],
    "scenario_demand": [
        "scenario", "commodity", "member",
        "from_year", "to_year", "multiplier",
    ],
    "disruptions": [
        "scenario", "supplier",
        "commodity", "from_year", "to_year",
        "available_share",
    ],
    "sources": [
        "item", "value", "unit", "source",
        "status",
    ],
}

# ---------------------------------------------------------------------------
# Writing: rows are collected per sheet and written by the template writer
# (planner.input.template.write_filled), so the shipped workbooks have the
# template's README sheet, units row, drop-down lists and frozen headers.
# ---------------------------------------------------------------------------
def sheet_rows(sheet: str, rows: list) -> list:
    """Rows as dicts: a dict row is kept (its keys must be columns of the sheet), a tuple row is read in
    LAYOUT's column order. None is a blank cell."""
    names = LAYOUT[sheet]
    out = []
    for row in rows:
        if isinstance(row, dict):
            unknown = set(row) - set(names)
            if unknown:
                raise KeyError(f"{sheet}: unknown columns {sorted(unknown)}")
            out.append(dict(row))
        else:
            if len(row) > len(names):
                raise ValueError(f"{sheet}: row too long: {row!r}")
            out.append(dict(zip(names, row)))
    return out


def write_book(path: Path, sheets: dict, intro: tuple, title: str) -> None:
    """Write ``sheets`` ({sheet: rows}; settings as (key, value) pairs) in the template's style, replacing
    ``path``. The bytes depend on the data only, so a re-run produces no diff."""
    from planner.input.template import write_filled

    tables = {name: (dict(rows) if name == "settings" else sheet_rows(name, rows)) for name, rows in sheets.items()}
    write_filled(path, tables, force=True, intro=intro, title=title)


# ===========================================================================
# EXAMPLE BLOC
# ===========================================================================
# Conversion rates (assumption, round early-2026 levels): used to turn the
# A$, EUR and C$ capex figures of DF section 4 into USD.
USD_PER_EUR = 1.08   # assumption
USD_PER_AUD = 0.65   # assumption
USD_PER_CAD = 0.73   # assumption
FOM_SHARE = 0.035    # fixed O&M = 3.5% of capex per module-year (assumption, 3-4% typical)

START, END = 2026, 2040

SETTINGS = [
    ("start_year", START),
    ("end_year", END),
    # 5% real: between the revised OMB A-94 (~2% real, value unverified), the
    # UK Green Book 3.5% (unverified) and the legacy A-94 7% (unverified). DF 6.
    ("discount_rate", 0.05),
    ("base_year", START),
    ("objective", "resource"),
    ("anti_circumvention", True),
    ("trade_all_pairs", True),
    ("default_route_cost_usd_per_t", 50),   # assumption: intra-bloc freight, USD/t
    ("end_stock_at_least_initial", True),
    ("time_limit_s", 600),
    # mip_gap: the default (1e-5), so differences between runs are not solver noise (issue 18)
    ("threads", 0),
    ("risk_aversion", 0),
    ("cvar_alpha", 0.9),
]

# Burden shares: approximate 2024 nominal GDP in USD trillion (general
# knowledge, unverified) used as weights. Fiscal budgets (MUSD, discounted,
# cap on the member's share of floor support) are assumptions scaled on the
# programmes in DF 3c: US OBBBA +$2B NDS / DoD loans; Australia's A$1.2B
# Strategic Reserve (~US$0.8B); Japan a nominal cap.
MEMBERS = [
    # member, name, burden_share, fiscal_budget_musd
    ("USA", "United States", 29.2, 3000),
    ("EU", "European Union", 19.4, None),
    ("JPN", "Japan", 4.0, 500),
    ("KOR", "Republic of Korea", 1.9, None),
    ("AUS", "Australia", 1.8, 800),
    ("CAN", "Canada", 2.2, None),
    ("GBR", "United Kingdom", 3.6, None),
    ("MEX", "Mexico", 1.9, None),
]

# Commodities: 13 in five chains.
#   REE:      REE_CONC -> NDPR_OX (+ DYTB_OX, LACE_OX coproducts) -> NDFEB
#   lithium:  SPOD -> LI_CHEM
#   cobalt:   CO_INT -> CO_REF
#   graphite: GRAPH_FLAKE -> ANODE
#   gallium:  GA_LP -> GA_HP
# Shortage penalties (value of lost supply) are ~5x the 2026 price for the
# commodities with final demand (assumption); they keep every scenario
# feasible. Intermediates have no demand and need no penalty.
COMMODITIES = [
    dict(commodity="REE_CONC", name="Rare-earth concentrate (t REO contained)", stage="concentrate"),
    dict(commodity="NDPR_OX", name="NdPr oxide", stage="separated oxide",
         floor_price_usd_per_t=110_000,   # MP/DoD NdPr floor $110/kg (DF 3b/3c [S])
         export_price_factor=0.95),       # assumption: sold abroad at a 5% discount
    dict(commodity="DYTB_OX", name="Dy/Tb oxide (heavy REE, ~78/22 Dy/Tb)", stage="separated oxide",
         shortage_penalty_usd_per_t=2_000_000, export_price_factor=0.95),
    dict(commodity="LACE_OX", name="La/Ce oxide (light REE by-product)", stage="separated oxide",
         shortage_penalty_usd_per_t=5_000,
         export_price_factor=0.8,         # assumption: oversupplied world market
         disposal_cost_usd_per_t=200),    # assumption: surplus La/Ce is discarded in practice
    dict(commodity="NDFEB", name="Sintered NdFeB magnets", stage="component",
         shortage_penalty_usd_per_t=275_000, export_price_factor=0.9),
    dict(commodity="SPOD", name="Spodumene concentrate SC6 (6% Li2O)", stage="concentrate",
         export_price_factor=0.95),       # assumption: Australian spodumene sells to converters abroad
    dict(commodity="LI_CHEM", name="Battery-grade lithium chemical (t LCE)", stage="refined chemical",
         shortage_penalty_usd_per_t=60_000),
    dict(commodity="CO_INT", name="Cobalt hydroxide / intermediate (t Co contained)", stage="intermediate"),
    dict(commodity="CO_REF", name="Refined cobalt, sulfate or metal (t Co)", stage="refined chemical/metal",
         shortage_penalty_usd_per_t=175_000),
    dict(commodity="GRAPH_FLAKE", name="Natural graphite flake concentrate", stage="concentrate"),
    dict(commodity="ANODE", name="Natural-graphite active anode material", stage="component material",
         shortage_penalty_usd_per_t=25_000),
    dict(commodity="GA_LP", name="Primary (low-purity) gallium", stage="primary metal"),
    dict(commodity="GA_HP", name="High-purity gallium (6N+)", stage="refined metal",
         shortage_penalty_usd_per_t=2_500_000),
]

# Market prices, USD/t, reference scenario; 2026 anchored on DF 3a/3b, later
# years are assumptions (mild real increase). Interpolated in between.
MARKET_PRICES = {
    # commodity: {year: price}
    "REE_CONC": {2026: 6_000, 2030: 6_500, 2040: 7_000},           # assumption (unverified; no series in DF)
    "NDPR_OX": {2026: 75_000, 2030: 80_000, 2040: 85_000},         # SMM/Argus 2025 ~$83-85/kg, USGS Nd oxide 2024 $56/kg (DF 3a/3b)
    "DYTB_OX": {2026: 420_000, 2030: 450_000, 2040: 480_000},      # 0.78 x Dy $260/kg (USGS 2024) + 0.22 x Tb ~$1,000/kg (Argus Apr 2025)
    "LACE_OX": {2026: 1_500, 2040: 1_500},                         # assumption (unverified)
    "NDFEB": {2026: 55_000, 2030: 60_000, 2040: 65_000},           # assumption (unverified; no magnet price in DF)
    "SPOD": {2026: 1_000, 2030: 1_300, 2040: 1_300},               # USGS: SC6 $1,250 -> $730/t in 2024 (DF 3b [P]); later assumption
    "LI_CHEM": {2026: 12_000, 2030: 15_000, 2040: 16_000},         # USGS Li2CO3 2024 $14,000 avg, $9,400 Nov 2024 (DF 3a/3b); later assumption
    "CO_INT": {2026: 24_500, 2030: 26_600, 2040: 28_000},          # assumption: 70% payable on CO_REF
    "CO_REF": {2026: 35_000, 2030: 38_000, 2040: 40_000},          # USGS 2024 US spot $17/lb ~ $37,500/t; 2025 metal $24-33k/t (DF 3a/3b)
    "GRAPH_FLAKE": {2026: 600, 2030: 700, 2040: 800},              # assumption (USGS graphite price not retrieved, DF 3a)
    "ANODE": {2026: 5_000, 2030: 5_500, 2040: 6_000},              # assumption (unverified)
    "GA_LP": {2026: 220_000, 2030: 250_000, 2040: 250_000},        # USGS low-purity Ga 2024e $220/kg (DF 3a [P])
    "GA_HP": {2026: 500_000, 2030: 550_000, 2040: 550_000},        # USGS high-purity Ga 2024e $500/kg (DF 3a [P])
}

# Suppliers outside the bloc. CHN = country of concern; ROW = everyone else
# outside the bloc (Chile/Argentina Li, DRC/Indonesia Co, Lynas Malaysia and
# others for REE, Mozambique/Madagascar/Brazil graphite ...). ROW caps and
# premiums are assumptions (DF 3b suggests 0-30% ex-China premium for NdPr,
# 1.3-1.5x ex-China cost). CHN rows that get a partial available_share in a
# scenario carry a finite max_tpa (required by the SPEC).
SUPPLIERS = [
    # supplier, commodity, max_tpa, price_factor, concern, tariff, border_adjusted
    ("CHN", "NDPR_OX", None, 1.0, True, 0, True),         # border-adjusted to the $110/kg floor (Agreement on Trade in CM, DF 3c)
    ("ROW", "NDPR_OX", 6_000, 1.15, False, 0, False),     # Lynas Malaysia & others; cap & premium assumption
    ("CHN", "DYTB_OX", 2_000, 1.0, True, 0, False),       # finite: partial share in hre_controls; cap assumption
    ("ROW", "DYTB_OX", 200, 1.3, False, 0, False),        # assumption
    ("CHN", "LACE_OX", None, 1.0, True, 0, False),
    ("CHN", "NDFEB", 150_000, 1.0, True, 6_000, False),   # finite: partial share in hre_controls; tariff ~10% (assumption, Sec. 232 context)
    ("ROW", "NDFEB", 8_000, 1.3, False, 0, False),        # assumption
    ("ROW", "REE_CONC", 40_000, 1.0, False, 0, False),    # monazite/bastnaesite from Brazil, Africa...; assumption
    ("ROW", "SPOD", None, 1.0, False, 0, False),          # Brazil, Zimbabwe ...; assumption
    ("CHN", "LI_CHEM", None, 1.0, True, 0, False),        # China ~70% of Li chemicals (DF 1b [T])
    ("ROW", "LI_CHEM", 300_000, 1.1, False, 0, False),    # Chile/Argentina; cap & premium assumption
    ("ROW", "CO_INT", 100_000, 1.0, False, 0, False),     # DRC/Indonesia; finite for the DRC quota share (DF 5)
    ("CHN", "CO_REF", None, 1.0, True, 0, False),         # China ~70-80% of refined Co (DF 1b [T])
    ("ROW", "CO_REF", 25_000, 1.1, False, 0, False),      # assumption
    ("CHN", "GRAPH_FLAKE", None, 1.0, True, 0, False),
    ("ROW", "GRAPH_FLAKE", 600_000, 1.0, False, 0, False),  # Mozambique, Madagascar, Brazil, India (DF 1a); cap assumption
    ("CHN", "ANODE", None, 1.0, True, 0, False),          # China >90% of anode (DF 1b [S])
    ("ROW", "ANODE", 60_000, 1.25, False, 0, False),      # assumption
    ("CHN", "GA_LP", None, 1.0, True, 0, False),          # China 750 of 760 t primary Ga (DF 1a [P])
    ("ROW", "GA_LP", 8, 1.2, False, 0, False),            # Russia 6 t etc. (DF 1a [P]); premium assumption
    ("CHN", "GA_HP", None, 1.0, True, 0, False),
    ("ROW", "GA_HP", 20, 1.3, False, 0, False),           # assumption
]

# Demand, t/yr, 2026 and 2040 (linear in between). Only EU magnets (~22 kt
# -> ~60 kt, Neo Performance via kmiconsultants [T]) and EU gallium (~50 t,
# dnews.gr [T]) have a source; all other splits are assumptions that share
# out IEA global demand (DF 2: Li x5, graphite x2, Co/REE +50-60% to 2040,
# STEPS) by an assumed EV/wind/electronics manufacturing share.
DEMAND = {
    # commodity: {member: (2026, 2040)}
    "NDFEB": {"EU": (22_000, 60_000), "USA": (15_000, 40_000), "JPN": (12_000, 24_000),
              "KOR": (6_000, 15_000), "GBR": (3_000, 8_000), "MEX": (3_000, 9_000),
              "CAN": (1_500, 4_000), "AUS": (500, 1_500)},
    "DYTB_OX": {"JPN": (250, 400), "EU": (120, 250), "USA": (80, 200), "KOR": (60, 120)},
    "LACE_OX": {"USA": (5_000, 6_000), "JPN": (4_000, 5_000), "EU": (4_000, 5_000)},
    "LI_CHEM": {"KOR": (120_000, 360_000), "USA": (80_000, 300_000), "EU": (70_000, 250_000),
                "JPN": (60_000, 150_000), "CAN": (10_000, 60_000), "GBR": (10_000, 50_000),
                "MEX": (5_000, 30_000), "AUS": (2_000, 10_000)},
    "CO_REF": {"EU": (15_000, 25_000), "JPN": (15_000, 22_000), "KOR": (15_000, 25_000),
               "USA": (10_000, 18_000), "GBR": (2_000, 3_500), "CAN": (1_000, 2_500),
               "MEX": (500, 1_500), "AUS": (500, 1_000)},
    "ANODE": {"KOR": (150_000, 330_000), "USA": (80_000, 220_000), "EU": (80_000, 200_000),
              "JPN": (60_000, 120_000), "CAN": (10_000, 40_000), "GBR": (10_000, 30_000),
              "MEX": (5_000, 20_000), "AUS": (1_000, 5_000)},
    "GA_HP": {"JPN": (60, 90), "EU": (50, 70), "USA": (20, 35), "KOR": (20, 35),
              "GBR": (3, 5), "CAN": (2, 4)},
}


def proc(process, member, output, input=None, input_per_output=None, existing_tpa=None,
         existing_until=None, variable_cost_usd_per_t=None, availability=None, module_tpa=None,
         max_modules=None, capex_musd_per_module=None, lead_time_years=None,
         first_build_year=None, lifetime_years=None, integer_modules=None):
    """One processes row; candidate rows (module_tpa set) get integer
    modules, a 25-year life and fixed O&M = FOM_SHARE x capex."""
    row = dict(process=process, member=member, output=output, input=input,
               input_per_output=input_per_output, existing_tpa=existing_tpa,
               existing_until=existing_until, variable_cost_usd_per_t=variable_cost_usd_per_t,
               availability=availability)
    if module_tpa:
        row.update(module_tpa=module_tpa, max_modules=max_modules,
                   integer_modules=True if integer_modules is None else integer_modules,
                   capex_musd_per_module=round(capex_musd_per_module, 1),
                   fixed_om_musd_per_module_yr=round(FOM_SHARE * capex_musd_per_module, 2),
                   lead_time_years=lead_time_years,
                   first_build_year=first_build_year or START,
                   lifetime_years=lifetime_years or 25)
    return row


# Ratios (assumptions unless noted):
REO_PER_NDPR = 6.5   # t REO per t NdPr: NdPr ~18-20% of basket (DF 1a, unverified) at ~80-85% recovery
NDPR_PER_MAGNET = 0.3  # t NdPr oxide per t NdFeB (assumption; magnets take one input here, Dy/Tb omitted)
SC6_PER_LCE = 8.0    # t SC6 per t LCE: 6% Li2O = 0.148 t LCE/t, ~85% recovery (assumption)
CO_INT_PER_CO = 1.03  # t Co in intermediate per t refined Co (97% recovery, assumption)
FLAKE_PER_ANODE = 2.2  # t flake per t anode material (~45% spheronisation yield, assumption)
GA_LP_PER_HP = 1.05  # t primary Ga per t high-purity Ga (assumption)
SEP_COST = 25_000    # USD/t NdPr separation opex ex-China (assumption, 1.3-1.5x China per DF 3b)
MAGNET_COST = 30_000  # USD/t magnet conversion opex ex-China excl. NdPr, incl. ~1% Dy/Tb content (~$4-5k/t) that the single-input magnet omits (assumption)
LI_CONV_COST = 4_500  # USD/t LCE conversion opex (assumption)

PROCESSES = [
    # ---- rare earths ------------------------------------------------------
    # Mountain Pass: 45,000 t REO in concentrate (MP release Jan 2025 [S]).
    # 30,550 t of it (= 4,700 t NdPr x 6.5) feeds MP's own Stage II
    # separation, which this example represents only through the DoD-MP
    # offtake below; netted out here so the ore is not counted twice.
    proc("USA_MP_MINE", "USA", "REE_CONC", existing_tpa=45_000 - 4_700 * REO_PER_NDPR,
         variable_cost_usd_per_t=2_500),                                        # opex assumption
    proc("USA_MP_SEP", "USA", "NDPR_OX", "REE_CONC", REO_PER_NDPR,
         existing_tpa=1_300, variable_cost_usd_per_t=SEP_COST),                 # ~1,300 t NdPr 2024 (MP release [S])
    proc("USA_EF_WHITEMESA", "USA", "NDPR_OX", "REE_CONC", REO_PER_NDPR,
         existing_tpa=900, variable_cost_usd_per_t=SEP_COST),                   # Phase 1 850-1,000 t (mining.com [S])
    proc("USA_EF_PHASE2", "USA", "NDPR_OX", "REE_CONC", REO_PER_NDPR,
         variable_cost_usd_per_t=SEP_COST, module_tpa=6_000, max_modules=1,
         capex_musd_per_module=410, lead_time_years=3),                         # >6,000 t, $410M, permits 2027 -> Q1 2029 (BFS Jan 2026 [S])
    proc("AUS_ILUKA_ENEABBA", "AUS", "NDPR_OX", None, None,                     # integrated: own monazite feed, no input
         variable_cost_usd_per_t=30_000, module_tpa=4_000, max_modules=1,       # NdPr capacity not retrieved: 4,000 t assumption
         capex_musd_per_module=1_750 * USD_PER_AUD, lead_time_years=1),         # A$1.7-1.8B, commissioning 2027 (nsenergybusiness [S])
    proc("EU_SOLVAY_LAROCHELLE", "EU", "NDPR_OX", "REE_CONC", REO_PER_NDPR,
         existing_tpa=300, variable_cost_usd_per_t=SEP_COST,                    # "several hundred t" 2025 ([S])
         module_tpa=2_100, max_modules=2,                                       # target ~4,500 t/yr by 2030 ([S])
         capex_musd_per_module=50 * USD_PER_EUR, lead_time_years=2),            # EUR100M full scale ([S]) / 2 modules
    # ---- magnets (input NdPr oxide only; Dy/Tb in magnets not modelled) ----
    proc("USA_MP_INDEPENDENCE", "USA", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         existing_tpa=1_000, variable_cost_usd_per_t=MAGNET_COST),              # ~1,000 t/yr (MP release [S])
    proc("USA_MP_10X", "USA", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         variable_cost_usd_per_t=MAGNET_COST, module_tpa=7_000, max_modules=1,
         capex_musd_per_module=1_000, lead_time_years=2),                       # +7,000 t, $1B financing, commissioning 2028 (projectblue [S])
    proc("USA_VULCAN", "USA", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         variable_cost_usd_per_t=MAGNET_COST, module_tpa=5_000, max_modules=2,
         capex_musd_per_module=1_220 / 2, lead_time_years=3),                   # 10,000 t, $1.22B (PR Newswire [P]); lead assumption
    proc("EU_NEO_NARVA", "EU", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         existing_tpa=2_000, variable_cost_usd_per_t=MAGNET_COST,               # 2,000 t phase 1, opened Sep 2025 ([S])
         module_tpa=1_500, max_modules=2,                                       # expandable to 5,000 t ([S])
         capex_musd_per_module=(250 - 75) / 2 * USD_PER_EUR, lead_time_years=1),  # to ~EUR250M total from EUR75M; "triple from 2027"
    proc("JPN_MAGNETS", "JPN", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         existing_tpa=6_000, existing_until=2035,                               # unverified: Japanese sintered makers; part retires 2035 (assumption)
         variable_cost_usd_per_t=MAGNET_COST, module_tpa=2_000, max_modules=3,
         capex_musd_per_module=160, lead_time_years=2),                         # $80M/kt, mid of $40-120M/kt rule of thumb (DF 4)
    proc("KOR_MAGNETS", "KOR", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         variable_cost_usd_per_t=MAGNET_COST, module_tpa=2_000, max_modules=3,
         capex_musd_per_module=160, lead_time_years=3),                         # rule of thumb (DF 4); assumption
    proc("MEX_MAGNETS", "MEX", "NDFEB", "NDPR_OX", NDPR_PER_MAGNET,
         variable_cost_usd_per_t=MAGNET_COST, module_tpa=2_000, max_modules=2,
         capex_musd_per_module=150, lead_time_years=3, first_build_year=2027),  # US-Mexico action plan context (DF 3c); assumption
    # ---- lithium ----------------------------------------------------------
    # Mines are existing capacity only: the bloc question is the midstream.
    proc("AUS_SPOD_MINES", "AUS", "SPOD", existing_tpa=3_000_000,               # 88,000 t Li (USGS [P]) ~ 3.2 Mt SC6
         variable_cost_usd_per_t=600, availability=0.9),                        # opex, availability assumptions
    proc("CAN_SPOD_MINES", "CAN", "SPOD", existing_tpa=150_000,                 # 4,300 t Li (USGS [P]) ~ 0.155 Mt SC6
         variable_cost_usd_per_t=700, availability=0.9),
    proc("AUS_KEMERTON", "AUS", "LI_CHEM", "SPOD", SC6_PER_LCE,
         existing_tpa=22_000, variable_cost_usd_per_t=LI_CONV_COST,             # train 1: 25 kt LiOH x 0.88 LCE (train 2 in care & maintenance) ([S])
         module_tpa=22_000, max_modules=1, capex_musd_per_module=50,            # train 2 restart: $50M assumption
         lead_time_years=1),
    proc("USA_TESLA_ROBSTOWN", "USA", "LI_CHEM", "SPOD", SC6_PER_LCE,
         existing_tpa=50_000, variable_cost_usd_per_t=LI_CONV_COST),            # ~50 kt LCE (Fastmarkets est. [S])
    proc("KOR_LI_REFINING", "KOR", "LI_CHEM", "SPOD", SC6_PER_LCE,
         existing_tpa=38_000, variable_cost_usd_per_t=LI_CONV_COST,             # unverified: ~43 kt LiOH Gwangyang
         module_tpa=25_000, max_modules=2, capex_musd_per_module=25 * 15,       # $15k/t (DF 4 rule of thumb $8-30k)
         lead_time_years=2),
    proc("USA_ALB_SC", "USA", "LI_CHEM", "SPOD", SC6_PER_LCE,
         variable_cost_usd_per_t=LI_CONV_COST, module_tpa=50_000, max_modules=2,
         capex_musd_per_module=1_300 / 2, lead_time_years=3),                   # ~100 kt LCE, $1.3B (CNBC [S])
    proc("CAN_LI_REFINERY", "CAN", "LI_CHEM", "SPOD", SC6_PER_LCE,
         variable_cost_usd_per_t=LI_CONV_COST, module_tpa=25_000, max_modules=2,
         capex_musd_per_module=25 * 20, lead_time_years=3, first_build_year=2027),  # $20k/t (Kemerton benchmark, DF 4)
    proc("EU_LI_REFINERY", "EU", "LI_CHEM", "SPOD", SC6_PER_LCE,
         variable_cost_usd_per_t=LI_CONV_COST, module_tpa=20_000, max_modules=2,
         capex_musd_per_module=20 * 20, lead_time_years=3, first_build_year=2027),  # $20k/t (DF 4)
    # ---- cobalt -----------------------------------------------------------
    proc("CAN_CO_MINES", "CAN", "CO_INT", existing_tpa=4_500,                   # USGS 2024e (DF 1a [P])
         variable_cost_usd_per_t=15_000),                                       # by-product opex assumption
    proc("AUS_CO_MINES", "AUS", "CO_INT", existing_tpa=3_600,                   # USGS 2024e (DF 1a [P])
         variable_cost_usd_per_t=15_000),
    proc("EU_KOKKOLA", "EU", "CO_REF", "CO_INT", CO_INT_PER_CO,
         existing_tpa=15_000, variable_cost_usd_per_t=3_000),                   # unverified: Kokkola (Finland) refinery
    proc("JPN_CO_REFINING", "JPN", "CO_REF", "CO_INT", CO_INT_PER_CO,
         existing_tpa=4_000, variable_cost_usd_per_t=3_000),                    # unverified
    proc("CAN_ELECTRA", "CAN", "CO_REF", "CO_INT", CO_INT_PER_CO,
         variable_cost_usd_per_t=3_500, module_tpa=6_500, max_modules=1,        # ~6,500 t/yr unverified (DF 4)
         capex_musd_per_module=(360 - 280) * USD_PER_CAD, lead_time_years=2),   # C$360M when complete - C$280M spent ([S])
    proc("USA_CO_REFINERY", "USA", "CO_REF", "CO_INT", CO_INT_PER_CO,
         variable_cost_usd_per_t=3_500, module_tpa=5_000, max_modules=2,
         capex_musd_per_module=150, lead_time_years=3),                         # $30k per t/yr (assumption)
    # ---- graphite ---------------------------------------------------------
    proc("USA_SYRAH_VIDALIA", "USA", "ANODE", "GRAPH_FLAKE", FLAKE_PER_ANODE,
         existing_tpa=11_250, variable_cost_usd_per_t=2_500,                    # 11,250 t/yr AAM ([S]); opex assumption
         module_tpa=11_250, max_modules=3, capex_musd_per_module=176,           # $176M per 11.25 kt; 45 kt DFS ([S])
         lead_time_years=2),                                                    # FID 2022 -> AAM 2024
    proc("KOR_ANODE", "KOR", "ANODE", "GRAPH_FLAKE", FLAKE_PER_ANODE,
         existing_tpa=70_000, variable_cost_usd_per_t=2_500,                    # unverified: Korean natural-graphite anode
         module_tpa=25_000, max_modules=2, capex_musd_per_module=25 * 14,       # $14k/t (assumption near $16k/t rule)
         lead_time_years=2),
    proc("CAN_ANODE", "CAN", "ANODE", "GRAPH_FLAKE", FLAKE_PER_ANODE,
         variable_cost_usd_per_t=2_500, module_tpa=25_000, max_modules=2,
         capex_musd_per_module=25 * 16, lead_time_years=3, first_build_year=2027),  # $16k/t (DF 4)
    proc("EU_ANODE", "EU", "ANODE", "GRAPH_FLAKE", FLAKE_PER_ANODE,
         variable_cost_usd_per_t=2_500, module_tpa=25_000, max_modules=2,
         capex_musd_per_module=25 * 16, lead_time_years=3, first_build_year=2027),  # $16k/t (DF 4)
    # ---- gallium ----------------------------------------------------------
    proc("JPN_GA_PRIMARY", "JPN", "GA_LP", existing_tpa=3,                      # USGS 2024e (DF 1a [P])
         variable_cost_usd_per_t=100_000),
    proc("KOR_GA_PRIMARY", "KOR", "GA_LP", existing_tpa=3,                      # USGS 2024e (DF 1a [P])
         variable_cost_usd_per_t=100_000),
    proc("EU_METLEN_GA", "EU", "GA_LP", variable_cost_usd_per_t=80_000,
         module_tpa=50, max_modules=1,                                          # 50 t/yr, start 2027, full 2028 ([S])
         capex_musd_per_module=100 * USD_PER_EUR, lead_time_years=2),           # Ga-only share EUR100M of EUR295.5M: assumption
    proc("CAN_RIO_GA", "CAN", "GA_LP", variable_cost_usd_per_t=80_000,
         module_tpa=40, max_modules=1, capex_musd_per_module=90,                # under study; size & cost unverified/assumption
         lead_time_years=3, first_build_year=2028),
    proc("JPN_GA_REFINING", "JPN", "GA_HP", "GA_LP", GA_LP_PER_HP,
         existing_tpa=100, variable_cost_usd_per_t=30_000,                      # world 340 t/yr primary HP capacity, no split (USGS [P]); JPN share assumption
         module_tpa=50, max_modules=2, capex_musd_per_module=25, lead_time_years=2),
    proc("CAN_GA_REFINING", "CAN", "GA_HP", "GA_LP", GA_LP_PER_HP,
         existing_tpa=40, variable_cost_usd_per_t=30_000),                      # assumption (Canada listed as producer, USGS [P])
    proc("USA_GA_REFINING", "USA", "GA_HP", "GA_LP", GA_LP_PER_HP,
         existing_tpa=20, variable_cost_usd_per_t=30_000),                      # assumption (US listed as producer, USGS [P])
]

COPRODUCTS = [
    # process, commodity, t per t of main output (NdPr)
    ("USA_MP_SEP", "DYTB_OX", 0.01),            # Dy only 0.1-0.3% of Mountain Pass basket (DF 1a, unverified)
    ("USA_MP_SEP", "LACE_OX", 3.0),             # La+Ce ~75-80% of bastnaesite REO (assumption)
    ("USA_EF_WHITEMESA", "LACE_OX", 2.5),       # assumption (Phase 1 separates no heavies)
    ("USA_EF_PHASE2", "DYTB_OX", 0.051),        # 240 t Dy + 66 t Tb per >6,000 t NdPr (BFS [S])
    ("USA_EF_PHASE2", "LACE_OX", 2.5),          # assumption
    ("AUS_ILUKA_ENEABBA", "DYTB_OX", 0.1),      # heavy-rich monazite/xenotime feed: assumption
    ("AUS_ILUKA_ENEABBA", "LACE_OX", 2.0),      # assumption
    ("EU_SOLVAY_LAROCHELLE", "DYTB_OX", 0.03),  # assumption
    ("EU_SOLVAY_LAROCHELLE", "LACE_OX", 3.0),   # assumption
]

# Stockpiles. capex ~2% of the 2026 value per t of capacity (3% for bulky
# anode), holding cost 1.5% of value/yr (3% for anode) for storage,
# insurance and handling -- DF 6 suggests 0.5-2% (high-value) and 2-5%
# (bulky); the cost of capital is already in the discounting. Capacities
# allow well over 60 days of consumption (JOGMEC / Project Vault, DF 3c).
STOCKPILES = [
    # member, commodity, existing_cap, initial, capex/t, max_cap, lead, life, holding/t/yr, loss
    ("USA", "NDPR_OX", 0, 0, 1_500, 5_000, 0, 30, 1_125, 0),
    ("JPN", "NDPR_OX", 500, 300, 1_500, 3_000, 0, 30, 1_125, 0),   # JOGMEC volumes secret: assumption
    ("USA", "DYTB_OX", 0, 0, 8_400, 300, 0, 30, 6_300, 0),
    ("JPN", "DYTB_OX", 50, 50, 8_400, 300, 0, 30, 6_300, 0),
    ("USA", "NDFEB", 0, 0, 1_200, 10_000, 0, 30, 900, 0),
    ("EU", "NDFEB", 0, 0, 1_200, 15_000, 0, 30, 900, 0),
    ("USA", "GA_HP", 0, 0, 10_000, 200, 0, 30, 7_500, 0),
    ("JPN", "GA_HP", 10, 10, 10_000, 200, 0, 30, 7_500, 0),
    ("EU", "GA_HP", 0, 0, 10_000, 100, 0, 30, 7_500, 0),
    ("USA", "CO_REF", 300, 300, 700, 10_000, 0, 30, 525, 0),      # NDS cobalt holding: assumption
    ("KOR", "CO_REF", 0, 0, 700, 5_000, 0, 30, 525, 0),
    ("KOR", "ANODE", 0, 0, 150, 100_000, 0, 30, 150, 0.005),     # bulky, small handling loss: assumption
    ("USA", "ANODE", 0, 0, 150, 50_000, 0, 30, 150, 0.005),
]

OFFTAKES = [
    # DoD-MP: $110/kg NdPr floor, 10 years from Q4 2025 (DF 3c [S]). Volume
    # = MP's Stage II output above the 1,300 t in processes (6,000 - 1,300,
    # the 6,000 t target is an assumption); its ore is netted out of
    # USA_MP_MINE. Take 80% (assumption; DoD guarantees 100% of 10X magnets).
    dict(offtake="DOD_MP_NDPR", seller="MP-Materials", member="USA", commodity="NDPR_OX",
         max_tpa=4_700, min_take_share=0.8, floor_price_usd_per_t=110_000,
         start_year=2026, end_year=2035, signing_cost_musd=1, country_of_concern=False),
    # Lynas Malaysia heavy-REE circuit, offtakes "on a floor-price basis"
    # (DF 4 [S]); volume, floor and buyer are assumptions.
    dict(offtake="LYNAS_HRE_JPN", seller="Lynas-MY", member="JPN", commodity="DYTB_OX",
         max_tpa=100, min_take_share=0.5, floor_price_usd_per_t=450_000,
         start_year=2027, end_year=2036, signing_cost_musd=1, country_of_concern=False),
    # Australian Critical Minerals Strategic Reserve: national offtakes at
    # set prices, focus Sb/Ga/REE, operational H2 2026 (DF 3c [S]). Seller,
    # volume and price are assumptions (an alumina-refinery Ga project; the
    # set price $250/kg sits between USGS 2024 $220/kg and 2021-23 $254-394/kg).
    dict(offtake="AUS_RESERVE_GA", seller="AUS-alumina-Ga", member="AUS", commodity="GA_LP",
         max_tpa=50, min_take_share=0.5, floor_price_usd_per_t=250_000,
         start_year=2028, end_year=2040, signing_cost_musd=2, country_of_concern=False),
]

ROUTES = [
    # from, to, commodity (None = all), cost USD/t, allowed -- all assumptions
    ("AUS", "EU", None, 120, True),
    ("AUS", "USA", None, 100, True),
    ("AUS", "KOR", "SPOD", 30, True),    # bulk spodumene freight
    ("AUS", "JPN", "SPOD", 30, True),
    ("CAN", "USA", None, 20, True),      # overland
    ("MEX", "USA", None, 20, True),
    ("USA", "MEX", None, 20, True),
]

SECURITY = [
    # Bloc-wide caps on China's share from 2030 (cf. EU CRMA "no third
    # country > 65%", DF 2; the levels are assumptions). Magnets 80%: a
    # tighter cap cannot be met even with every candidate plant built.
    dict(commodity="NDFEB", from_year=2030, max_concern_share=0.8),
    dict(commodity="NDPR_OX", from_year=2030, max_concern_share=0.5),
    # Lithium chemicals: 60% from 2032 (assumption, cf. US FEOC rules).
    dict(commodity="LI_CHEM", from_year=2032, max_concern_share=0.6),
    # Graphite anode: China > 90% (DF 1b); cap at 80% from 2032 (assumption).
    dict(commodity="ANODE", from_year=2032, max_concern_share=0.8),
    # 60-day stocks (JOGMEC, Project Vault; DF 3c) at JPN and USA.
    dict(commodity="GA_HP", member="JPN", min_stock_days=60),
    dict(commodity="GA_HP", member="USA", min_stock_days=60),
    dict(commodity="DYTB_OX", member="JPN", min_stock_days=60),
    dict(commodity="DYTB_OX", member="USA", min_stock_days=60),
    # EU CRMA: 40% of needs processed in the EU by 2030 (DF 2) -- on NdPr.
    dict(commodity="NDPR_OX", member="EU", from_year=2030, min_domestic_share=0.4),
    # Defence gallium: at most half of US demand may go unmet (assumption).
    dict(commodity="GA_HP", member="USA", max_shortage_share=0.5),
]

# What the bloc can know when (SPEC §3 "Information"; docs/example.md): an explicit tree, because the data
# alone would reveal the futures too early.  export_ban and hre_controls carry the DRC cobalt quota of
# 2026-2027 (announced in 2025, DF 5), so the derived tree would tell both from base in 2026 and let the
# bloc stock up for a 2028 ban it cannot foresee: China's controls came with days' or weeks' notice
# (Dec 2024 Ga/Ge ban on the US, Apr 2025 heavy-REE licensing, Oct 2025 controls; DF 5).  So each
# scenario branches from base in the year its own event starts: the oversupply is visible in 2026
# prices, the heavy-REE licensing in 2027, the broad ban in 2028.  Before that the shared operations
# must work in every scenario of the node (with the announced cobalt quota where it applies).
SCENARIOS = [
    ("base", 0.40, "Reference prices and demand; no new disruption", None, None),
    ("price_collapse", 0.25, "Chinese oversupply 2026-2030: NdPr -35% world-wide, CHN magnets/Li/anode "
                             "dumped at -20 to -30%; faster magnet uptake (+20%)", "base", 2026),
    ("export_ban", 0.15, "China bans REE, magnet, gallium and graphite exports to the bloc 2028-2030; "
                         "DRC cobalt quota 2026-2027; ex-China prices spike", "base", 2028),
    ("hre_controls", 0.20, "Heavy-REE licensing 2027-2028: CHN Dy/Tb at 25%, magnets at 30% in 2027; "
                           "ex-China Dy/Tb x3; DRC cobalt quota 2026-2027", "base", 2027),
]

SCENARIO_PRICES = [
    # scenario, commodity, supplier (None = market), from, to, multiplier -- assumptions
    ("price_collapse", "NDPR_OX", None, 2026, 2030, 0.65),    # moves floor support too
    ("price_collapse", "NDFEB", "CHN", 2026, 2030, 0.7),
    ("price_collapse", "LI_CHEM", "CHN", 2026, 2030, 0.7),
    ("price_collapse", "ANODE", "CHN", 2026, 2030, 0.8),
    ("export_ban", "DYTB_OX", "ROW", 2028, 2030, 3.0),        # 2-4x heavy-REE premium (DF 3b)
    ("export_ban", "NDFEB", "ROW", 2028, 2030, 1.5),
    ("export_ban", "GA_HP", None, 2028, 2030, 2.0),
    ("hre_controls", "DYTB_OX", "ROW", 2027, 2028, 3.0),      # Europe Dy ~3x within a month, Apr-May 2025 (DF 5 [S])
]

SCENARIO_DEMAND = [
    # scenario, commodity, member (None = all), from, to, multiplier -- assumption
    ("price_collapse", "NDFEB", None, 2026, 2040, 1.2),
]

DISRUPTIONS = [
    # scenario, supplier, commodity, from, to, available_share
    # Broad ban (cf. Oct 2025 REE/graphite controls, Dec 2024 Ga/Ge ban on
    # the US; DF 5). Length 3 years is an assumption.
    *[("export_ban", "CHN", c, 2028, 2030, 0.0)
      for c in ("NDPR_OX", "DYTB_OX", "LACE_OX", "NDFEB", "GA_LP", "GA_HP", "ANODE", "GRAPH_FLAKE")],
    # DRC cobalt quota 96,600 t/yr vs ~220 kt mined = 0.45 (DF 5 [S]).
    ("export_ban", "ROW", "CO_INT", 2026, 2027, 0.45),
    ("hre_controls", "ROW", "CO_INT", 2026, 2027, 0.45),
    # Heavy-REE licensing (Apr 2025 measures, DF 5): 2-6 months of near-zero
    # flow -> 25% of the annual cap over two years; magnets hit in 2027.
    ("hre_controls", "CHN", "DYTB_OX", 2027, 2028, 0.25),
    ("hre_controls", "CHN", "NDFEB", 2027, 2027, 0.3),
]

# One row per figure used (mirrors the comments above).
P, S, A, U = "primary", "secondary", "assumption", "unverified"
SOURCES = [
    # item, value, unit, source, status
    ("discount_rate", 0.05, "real/yr", "Between revised OMB A-94 (~2% real, value unverified), UK Green Book 3.5% (unverified) and legacy A-94 7%; DF 6", A),
    ("USD per EUR", USD_PER_EUR, "USD/EUR", "round early-2026 rate", A),
    ("USD per AUD", USD_PER_AUD, "USD/AUD", "round early-2026 rate", A),
    ("USD per CAD", USD_PER_CAD, "USD/CAD", "round early-2026 rate", A),
    ("fixed O&M of candidate modules", FOM_SHARE, "share of capex/yr", "typical 3-4% of capex", A),
    ("candidate lifetime", 25, "years", "typical plant life", A),
    ("burden_share weights", "GDP 2024", "USD trillion", "approximate 2024 nominal GDP (general knowledge)", U),
    ("USA fiscal_budget_musd", 3000, "MUSD", "scaled on OBBBA +$2B NDS and +$0.5B DoD loans (CRS R47833, rawmaterials.net)", A),
    ("AUS fiscal_budget_musd", 800, "MUSD", "A$1.2B Critical Minerals Strategic Reserve (mining-technology.com, projectblue 1397)", A),
    ("JPN fiscal_budget_musd", 500, "MUSD", "nominal cap", A),
    ("NdPr floor price", 110_000, "USD/t", "MP/DoD 10-year NdPr floor $110/kg, Jul 2025 (projectblue.com 1257; fas.org)", S),
    ("NdPr oxide price 2026", 75_000, "USD/t", "SMM Aug-Dec 2025 ~$83/kg; Argus Europe $82.5-85/kg Sep 2025; USGS Nd oxide 2024 $56/kg (MCS 2025)", S),
    ("NdPr oxide price 2030/2040", "80,000/85,000", "USD/t", "trend", A),
    ("Dy oxide price 2024", 260_000, "USD/t", "USGS MCS 2025 rare earths, salient statistics", P),
    ("Tb oxide price Apr 2025", 1_000_000, "USD/t", "Argus Europe $930-1,000/kg early Apr 2025 (gmteight.com)", S),
    ("Dy/Tb oxide price 2026", 420_000, "USD/t", "0.78 x Dy + 0.22 x Tb (Energy Fuels BFS Dy:Tb 240:66)", A),
    ("La/Ce oxide price", 1_500, "USD/t", "no source retrieved", A),
    ("REE concentrate price", "6,000-7,000", "USD/t REO", "no source retrieved", A),
    ("NdFeB magnet price", "55,000-65,000", "USD/t", "no source retrieved", A),
    ("Spodumene SC6 price 2024", "1,250 -> 730", "USD/t", "USGS MCS 2025 lithium (China spot Jan -> Nov 2024)", P),
    ("Spodumene price 2026/2030", "1,000/1,300", "USD/t", "between the 2024 range and a recovery", A),
    ("Li carbonate price 2024", "14,000 avg; 9,400 Nov", "USD/t", "USGS MCS 2025 lithium", P),
    ("Li chemical price 2026/2030/2040", "12,000/15,000/16,000", "USD/t LCE", "futures ~74,000 CNY/t Sep 2025 (Trading Economics); IEA 2035 Li deficit", A),
    ("Cobalt price 2024", 37_500, "USD/t", "USGS MCS 2025 cobalt, US spot $17/lb", P),
    ("Cobalt metal 2025", "23,985-32,795", "USD/t", "metals-wire, Reuters via netzwerkafrika", S),
    ("Cobalt price 2026/2030/2040", "35,000/38,000/40,000", "USD/t", "near USGS 2024 spot", A),
    ("Cobalt intermediate payable", 0.7, "share of refined price", "typical hydroxide payable", A),
    ("Graphite flake price", "600-800", "USD/t", "USGS graphite price not retrieved", U),
    ("Anode material price", "5,000-6,000", "USD/t", "no source retrieved", U),
    ("Ga low-purity price 2024e", 220_000, "USD/t", "USGS MCS 2025 gallium", P),
    ("Ga high-purity price 2024e", 500_000, "USD/t", "USGS MCS 2025 gallium", P),
    ("Shortage penalties", "~5 x price", "USD/t", "value of lost supply", A),
    ("La/Ce disposal cost", 200, "USD/t", "surplus La/Ce is stockpiled or discarded", A),
    ("Export price factors", "0.8-0.95", "x market", "discount on bloc sales abroad", A),
    ("World REE mine production 2024e", 390_000, "t REO", "USGS MCS 2025 rare earths p.145", P),
    ("Mountain Pass concentrate", 45_000, "t REO/yr", "MP release Jan 2025 (marketscreener)", S),
    ("MP NdPr oxide 2024", 1_300, "t/yr", "MP release Jan 2025 (marketscreener)", S),
    ("MP Stage II NdPr target", 6_000, "t/yr", "general knowledge", U),
    ("USA_MP_MINE existing_tpa", 45_000 - 4_700 * REO_PER_NDPR, "t REO/yr", "45,000 less the ore behind the DoD-MP offtake (4,700 t NdPr x 6.5)", A),
    ("t REO per t NdPr", REO_PER_NDPR, "t/t", "NdPr ~18-20% of basket (DF 1a, unverified) and ~80-85% recovery", A),
    ("MP Dy/Tb per NdPr", 0.01, "t/t", "Dy 0.1-0.3% of Mountain Pass basket (DF 1a)", U),
    ("La/Ce per NdPr", "2.0-3.0", "t/t", "La+Ce ~75-80% of light-REE ores", A),
    ("Energy Fuels Phase 1", 900, "t NdPr/yr", "850-1,000 t, completed Q1 2024 (mining.com)", S),
    ("Energy Fuels Phase 2 capacity", 6_000, "t NdPr/yr", "BFS Jan 2026 (northernminer.com)", S),
    ("Energy Fuels Phase 2 capex", 410, "MUSD", "BFS Jan 2026 (northernminer.com)", S),
    ("Energy Fuels Phase 2 Dy+Tb", 0.051, "t/t NdPr", "240 t Dy + 66 t Tb per 6,000 t NdPr (northernminer; ouzhyi)", S),
    ("Energy Fuels Phase 2 lead time", 3, "years", "permits mid-2027 -> commissioning Q1 2029", S),
    ("Iluka Eneabba capex", "1,700-1,800", "MAUD", "after FEED Dec 2023 (nsenergybusiness; miningmagazine)", S),
    ("Iluka Eneabba NdPr capacity", 4_000, "t/yr", "not retrieved", A),
    ("Iluka Eneabba Dy/Tb per NdPr", 0.1, "t/t", "heavy-rich monazite/xenotime feed", A),
    ("Iluka Eneabba lead time", 1, "years", "commissioning 2027", S),
    ("Solvay La Rochelle 2025", 300, "t/yr", "'several hundred t' (24brussels; specchemonline)", S),
    ("Solvay La Rochelle target", 4_500, "t/yr", "~30% of EU magnet-REE demand by 2030", S),
    ("Solvay La Rochelle capex", 100, "MEUR", "full scale, conditional on offtakes (automotiveworld)", S),
    ("Separation opex ex-China", SEP_COST, "USD/t NdPr", "1.3-1.5x China premium (DF 3b suggestion)", A),
    ("MP Independence magnets", 1_000, "t/yr", "MP release Jan 2025", S),
    ("MP 10X magnets", 7_000, "t/yr", "total MP ~10,000 t/yr, commissioning 2028 (projectblue)", S),
    ("MP 10X capex", 1_000, "MUSD", "$1.0B JPMorgan/Goldman commitment taken as plant cost", A),
    ("Vulcan Elements magnets", 10_000, "t/yr", "PR Newswire 3 Nov 2025", P),
    ("Vulcan Elements capex", 1_220, "MUSD", "$620M + $50M + $550M (PR Newswire 3 Nov 2025)", P),
    ("Vulcan lead time", 3, "years", "site undisclosed", A),
    ("Neo Narva magnets", 2_000, "t/yr", "opened 19 Sep 2025 (automotiveworld; investinestonia)", S),
    ("Neo Narva expansion", "5,000 t, ~EUR250M total", "t/yr, MEUR", "global-recycling.info; triple capacity from 2027", S),
    ("Japan magnet capacity", 6_000, "t/yr", "general knowledge", U),
    ("Magnet capex rule of thumb", "40-120", "MUSD per kt/yr", "DF 4 rules of thumb (Neo, Vulcan)", S),
    ("Magnet conversion opex", MAGNET_COST, "USD/t", "ex-China conversion incl. alloying, energy, labour and ~1% Dy/Tb content", A),
    ("t NdPr per t magnet", NDPR_PER_MAGNET, "t/t", "magnets use one input here; Dy/Tb content omitted", A),
    ("EU magnet demand", "22,000 -> 60,000", "t/yr", "Neo Performance via kmiconsultants, earths-book", U),
    ("EU gallium demand", 50, "t/yr", "Metlen via dnews.gr", U),
    ("Other member demand splits", "see demand sheet", "t/yr", "IEA global demand (DF 2) split by assumed manufacturing shares", A),
    ("Australia lithium mine output 2024e", 88_000, "t Li", "USGS MCS 2025 lithium", P),
    ("Canada lithium mine output 2024e", 4_300, "t Li", "USGS MCS 2025 lithium", P),
    ("t SC6 per t LCE", SC6_PER_LCE, "t/t", "6% Li2O = 0.148 t LCE per t, ~85% recovery", A),
    ("Spodumene mine opex", "600-700", "USD/t SC6", "cash-cost level", A),
    ("Kemerton trains 1-2", 50_000, "t LiOH/yr", "train 2 in care and maintenance (australianmining; ABC)", S),
    ("Kemerton train 2 restart capex", 50, "MUSD", "", A),
    ("Tesla Robstown", 50_000, "t LCE/yr", "Fastmarkets estimate for ~50 GWh/yr", S),
    ("Korea LiOH capacity", 38_000, "t LCE/yr", "~43 kt LiOH Gwangyang (general knowledge)", U),
    ("Albemarle South Carolina", "100,000 t LCE, $1.3B", "t/yr, MUSD", "CNBC; Fastmarkets", S),
    ("LiOH capex rule of thumb", "8-30 k", "USD per t/yr", "DF 4 (Kemerton, Albemarle, Tesla)", S),
    ("Li conversion opex", LI_CONV_COST, "USD/t LCE", "", A),
    ("Canada cobalt mine output 2024e", 4_500, "t Co", "USGS MCS 2025 cobalt p.63", P),
    ("Australia cobalt mine output 2024e", 3_600, "t Co", "USGS MCS 2025 cobalt p.63", P),
    ("Kokkola refined cobalt", 15_000, "t Co/yr", "general knowledge", U),
    ("Japan refined cobalt", 4_000, "t Co/yr", "general knowledge", U),
    ("Electra refinery capacity", 6_500, "t Co/yr", "commonly quoted (DF 4)", U),
    ("Electra remaining capex", "C$360M - C$280M", "MCAD", "baytoday.ca; DoD US$20M ~ one third of cost to finish", S),
    ("US cobalt refinery capex", 150, "MUSD per 5 kt/yr", "", A),
    ("Syrah Vidalia", "11,250 t/yr, $176M", "t/yr, MUSD", "miningweekly; metaltechnews; expansion to 45 kt DFS", S),
    ("Korea natural anode capacity", 70_000, "t/yr", "general knowledge", U),
    ("Anode capex rule of thumb", 16_000, "USD per t/yr", "Vidalia $176M / 11.25 kt (DF 4)", S),
    ("t flake per t anode", FLAKE_PER_ANODE, "t/t", "~45% spheronisation/purification yield", A),
    ("Japan / Korea primary gallium 2024e", "3 / 3", "t/yr", "USGS MCS 2025 gallium p.75", P),
    ("China primary gallium 2024e", "750 of 760", "t/yr", "USGS MCS 2025 gallium p.75", P),
    ("High-purity Ga refining capacity", 340, "t/yr primary", "USGS MCS 2025 gallium (producers CA, CN, JP, SK, US; no split)", P),
    ("JPN/CAN/USA high-purity Ga capacity", "100/40/20", "t/yr", "split of the USGS world figure", A),
    ("Metlen gallium", 50, "t/yr", "mining.com/Reuters; mmta.co.uk; start 2027, full 2028", S),
    ("Metlen Ga-only capex", 100, "MEUR", "of EUR295.5M total incl. alumina expansion", A),
    ("Rio Tinto Quebec gallium", "40 t/yr, $90M", "t/yr, MUSD", "under study (mmta.co.uk mention)", U),
    ("Stockpile capex", "~2% of value (3% anode)", "USD/t", "warehouse and handling", A),
    ("Stockpile holding cost", "1.5% of value/yr (3% anode)", "USD/t/yr", "DF 6 suggestion 0.5-2% high value, 2-5% bulky", U),
    ("Stock target", 60, "days", "Japan JOGMEC; Project Vault (IEA policy database 16639; Bloomberg)", P),
    ("Initial stocks JPN", "300 NdPr, 50 Dy/Tb, 10 Ga", "t", "JOGMEC volumes are secret", A),
    ("DoD-MP offtake volume", 4_700, "t/yr", "MP Stage II target less modelled 1,300 t", A),
    ("DoD-MP offtake term", "2026-2035", "years", "10-year floor from Q4 2025 (projectblue)", S),
    ("Lynas HRE offtake", "100 t, floor $450/kg", "t/yr, USD/t", "Lynas offtakes on floor-price basis (freemalaysiatoday; thewest)", A),
    ("AUS Strategic Reserve Ga offtake", "50 t, $250/kg", "t/yr, USD/t", "Reserve operational H2 2026, focus Sb/Ga/REE (mining-technology.com)", A),
    ("Route costs", "20-120", "USD/t", "freight", A),
    ("China share REE refining", 0.92, "share", "IEA GCMO 2024 via seaisi.org", S),
    ("China share anode", ">0.9", "share", "IEA GCMO 2024 via mhlnews", S),
    ("Max concern share NdPr / magnets / Li chemical", "0.5 / 0.8 / 0.6", "share", "cf. EU CRMA 65% single-country benchmark (Reg. 2024/1252); US FEOC rules", A),
    ("Max concern share anode", 0.8, "share", "China >90% of anode (IEA GCMO 2024)", A),
    ("EU processing benchmark", 0.4, "share", "EU CRMA 2030 (Reg. (EU) 2024/1252)", S),
    ("DRC cobalt quota", 0.45, "share", "96,600 t/yr 2026-27 vs ~220 kt 2024 (africanews; cfmininggroup)", S),
    ("Heavy-REE licensing shock", "0.25, ex-China x3", "share, x", "Apr 2025 controls; Dy ~3x in Europe (SMM, Argus)", S),
    ("Export ban 2028-2030", 0, "share", "scenario design (cf. Ann. No. 46, Oct 2025 controls)", A),
    ("Scenario probabilities", "0.40/0.25/0.15/0.20", "", "judgement", A),
    ("Price-collapse multipliers", "0.65-0.8", "x", "Chinese oversupply 2023-25 (NdPr fell ~58% 2022-24, USGS)", A),
    ("Magnet demand uplift", 1.2, "x", "price-collapse scenario", A),
    ("ROW supply caps and premiums", "see suppliers sheet", "t/yr, x", "DF 3b: ex-China premium 0-30% NdPr, 1.3-1.5x", A),
]



EXAMPLE_INTRO = (
    ("The shipped example: an illustrative critical-minerals bloc (8 members, 13 commodities in 5 supply chains, "
     "2026-2040, 4 scenarios)."),
    ("Built by inputs/build_example.py; every figure's origin is on the 'sources' sheet (docs/example_data.md). "
     "Anything marked 'assumption' is not a fact about the named company or country."),
    "Solve it with:  planner solve THIS_FILE.xlsx   (see what it holds first:  planner info THIS_FILE.xlsx)",
)


def build_example(path: Path) -> None:
    write_book(path, {
        "settings": SETTINGS,
        "members": MEMBERS,
        "suppliers": SUPPLIERS,
        "commodities": COMMODITIES,
        "market_prices": [(c, y, p) for c, series in MARKET_PRICES.items() for y, p in sorted(series.items())],
        "demand": [(m, c, y, v) for c, by_m in DEMAND.items() for m, (d0, d1) in by_m.items()
                   for y, v in ((START, d0), (END, d1))],
        "processes": PROCESSES,
        "coproducts": COPRODUCTS,
        "stockpiles": STOCKPILES,
        "offtakes": OFFTAKES,
        "routes": ROUTES,
        "security": SECURITY,
        "scenarios": SCENARIOS,
        "scenario_prices": SCENARIO_PRICES,
        "scenario_demand": SCENARIO_DEMAND,
        "disruptions": DISRUPTIONS,
        "sources": SOURCES,
    }, EXAMPLE_INTRO, "bloc planner example: a critical-minerals trading bloc")


# ===========================================================================
# TINY CASE (worked by hand in docs/tiny.md)
# ===========================================================================
# One member, one commodity, two years, two scenarios, r = 0. Numbers are
# invented for the arithmetic, not taken from any source.
TINY = dict(
    settings=[("start_year", 2026), ("end_year", 2027), ("discount_rate", 0),
              ("objective", "resource"), ("mip_gap", 0), ("time_limit_s", 60)],
    members=[("A", "Member A", 1, None)],
    commodities=[dict(commodity="X", name="Metal X", stage="refined",
                      shortage_penalty_usd_per_t=1_000)],
    suppliers=[("CHN", "X", None, 1.0, True, 0, False)],
    market_prices=[("X", 2026, 300), ("X", 2027, 300)],
    demand=[("A", "X", 2026, 100), ("A", "X", 2027, 100)],
    processes=[dict(process="PLANT", member="A", output="X", existing_tpa=0,
                    variable_cost_usd_per_t=200, module_tpa=100, max_modules=1,
                    integer_modules=True, capex_musd_per_module=0.05,
                    fixed_om_musd_per_module_yr=0, lead_time_years=1,
                    first_build_year=2026, lifetime_years=2)],
    stockpiles=[("A", "X", 0, 0, 250, 1_000, 0, 2, 20, 0)],
    scenarios=[("base", 0.5, "CHN supplies freely"),
               ("ban", 0.5, "CHN supplies nothing in 2027")],
    disruptions=[("ban", "CHN", "X", 2027, 2027, 0)],
    sources=[("all tiny-case figures", "-", "-", "invented for docs/tiny.md", "assumption")],
)


TINY_INTRO = (
    "The tiny case: one member, one commodity, two years, two scenarios; solved by hand in docs/tiny.md.",
    "Built by inputs/build_example.py. Solve it with:  planner solve THIS_FILE.xlsx",
)


def build_tiny(path: Path) -> None:
    write_book(path, TINY, TINY_INTRO, "bloc planner tiny case")


BUILDS = {"bloc_example.xlsx": build_example, "tiny.xlsx": build_tiny}
PACKAGE_DATA = HERE.parent / "planner" / "data"   # the copies shipped inside the package


def build_all(folder: Path) -> list[Path]:
    """Write every shipped workbook into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, build in BUILDS.items():
        build(folder / name)
        out.append(folder / name)
    return out


def main() -> None:
    for folder in (HERE, PACKAGE_DATA):
        paths = build_all(folder)
        print("wrote " + " and ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
