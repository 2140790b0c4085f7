"""Explanations in words where results surprise: what a floor price does in the chosen objective mode
(the summary's ``floor_note``), and why two runs can differ in plan but not in cost (``planner compare``)."""
from __future__ import annotations

import math


def _given(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v) != ""


def floor_note(d) -> str:
    """What the commodities' floor prices do in this run's objective mode (SPEC §3 Fiscal and objective)."""
    mode = str(d.settings.get("objective", "resource"))
    floored = sorted(str(c) for c, row in d.commodities.items() if _given(row.get("floor_price_usd_per_t")))
    budgets = [m for m, b in (getattr(d, "budget", {}) or {}).items() if b is not None]
    what = (f"Floor prices are set for {', '.join(floored[:8])}{' ...' if len(floored) > 8 else ''}. "
            if floored else "No commodity has a floor price in this input. ")
    if mode == "market":
        text = ("In market mode the floor support bloc producers receive (floor minus market price, on their "
                "output) is subtracted from the cost: a floor makes bloc output cheaper to the plan, so raising "
                "it can change what is built and produced, and the objective moves with it.")
    else:
        text = ("In resource mode floor support is a transfer from members' budgets to bloc producers: it is "
                "reported (fiscal sheet, expected_floor_support_musd) but is not a cost to the bloc, so a floor "
                "changes the plan only through members' fiscal budgets (fiscal_budget_musd"
                + (", set here for " + ", ".join(budgets[:8]) if budgets else ", none set in this input")
                + "). Moving a floor can leave the cost unchanged while the support paid, and possibly an "
                  "equally cheap plan, changes.")
    return what + text + " Offtake floor prices are contract prices: a cost in both modes."


def plan_not_cost(labels, modes, objective_equal: bool, changed_tables: list[str], ref_objective=None,
                  support_changed: bool = False, within_gap: bool = False) -> str | None:
    """A sentence for ``planner compare`` when the plan or the operations differ but the objective does not."""
    if not objective_equal or not changed_tables:
        return None
    mode_txt = ", ".join(sorted({m for m in modes if m})) or "unknown"
    obj = f" ({ref_objective:,.3f} MUSD)" if isinstance(ref_objective, (int, float)) else ""
    s = (f"The runs differ in {', '.join(changed_tables)} but "
         + (f"their objectives{obj} differ by no more than the MIP gap: " if within_gap
            else f"not in objective{obj}: "))
    if "resource" in modes:
        s += ("in resource mode floor support and tariffs are transfers inside the bloc, not costs, so a moved "
              "floor or tariff changes who pays" + (" (see the fiscal sheet)" if support_changed else "")
              + " and can select another plan of the same cost. ")
    else:
        s += f"(objective mode {mode_txt}) "
    s += ("Plans of equal cost are equally good by the objective: the solver returned one of several optimal "
          "(or within-gap) plans, and a small change of input can tip it to another.")
    return s
