"""Per-member fiscal ledger (SPEC §6 status quo; issue 13 item 4): member × scenario, MUSD discounted.

From the results tables (``fiscal``, ``costs``, ``offtakes``) and the prepared :class:`ModelData`:

- ``floor_support_paid_musd``: the member's burden share of the bloc's floor support (fiscal sheet);
- ``floor_support_received_musd``: the support its own producers receive (shown, not part of the position:
  it goes to producers, not to the treasury);
- ``offtake_premium_musd``: offtake payments above market, Σ δ_t · (contract price − P_cts) · delivered
  over the offtakes the member buys (the contract price is max(floor, market), so never negative);
- ``tariff_revenue_musd``: tariffs collected on its imports;
- ``stockpile_capex_musd``, ``stockpile_holding_musd``: its stockpiles' capacity annuities and holding cost;
- ``net_fiscal_position_musd`` = tariff revenue − floor support paid − offtake premium − stockpile capex
  − holding (negative: a net outlay);
- ``worst_scenario``: TRUE on each member's scenario with the lowest net position.

Rows with scenario ``(expected)`` give the probability-weighted figures.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["member", "scenario", "burden_share", "floor_support_paid_musd", "floor_support_received_musd",
           "offtake_premium_musd", "tariff_revenue_musd", "stockpile_capex_musd", "stockpile_holding_musd",
           "net_fiscal_position_musd", "worst_scenario"]
EXPECTED = "(expected)"


def ledger(tables: dict, d) -> pd.DataFrame:
    """The ledger table of one solution (see the module docstring)."""
    scen = list(d.scen)
    idx = pd.MultiIndex.from_product([list(d.members), scen], names=["member", "scenario"])
    out = pd.DataFrame(index=idx)
    fis = tables.get("fiscal")
    if fis is not None and len(fis):
        f = fis.set_index(["member", "scenario"])
        out["burden_share"] = f["burden_share"].reindex(idx)
        out["floor_support_paid_musd"] = f["floor_support_share_musd"].reindex(idx)
        out["floor_support_received_musd"] = f["floor_support_received_musd"].reindex(idx)
        out["tariff_revenue_musd"] = f["tariff_revenue_musd"].reindex(idx)
    out["offtake_premium_musd"] = _offtake_premium(tables.get("offtakes"), d).reindex(idx)
    costs = tables.get("costs")
    for cat, col in (("stock_capex", "stockpile_capex_musd"), ("holding", "stockpile_holding_musd")):
        if costs is not None and len(costs):
            c = costs[costs["category"] == cat].groupby(["member", "scenario"])["cost_musd"].sum()
            out[col] = c.reindex(idx)
        else:
            out[col] = 0.0
    for c in COLUMNS[2:-2]:
        if c not in out:
            out[c] = 0.0
    out = out.fillna(0.0)
    out["net_fiscal_position_musd"] = (out["tariff_revenue_musd"] - out["floor_support_paid_musd"]
                                       - out["offtake_premium_musd"] - out["stockpile_capex_musd"]
                                       - out["stockpile_holding_musd"])
    out = out.reset_index()
    worst = out.groupby("member", sort=False)["net_fiscal_position_musd"].idxmin()
    out["worst_scenario"] = False
    out.loc[worst.to_numpy(), "worst_scenario"] = True
    p = dict(zip(scen, d.prob))
    num = COLUMNS[3:-1]
    exp = out.assign(**{c: out[c] * out["scenario"].map(p) for c in num}).groupby("member", sort=False)[num].sum()
    exp["burden_share"] = out.groupby("member", sort=False)["burden_share"].first()
    exp = exp.reset_index().assign(scenario=EXPECTED, worst_scenario=False)
    return pd.concat([out, exp], ignore_index=True)[COLUMNS]


def _offtake_premium(off: pd.DataFrame | None, d) -> pd.Series:
    """Σ δ_t (price paid − market price) · delivered, per (buyer, scenario), MUSD."""
    if off is None or not len(off):
        return pd.Series(dtype=float)
    o = off[off["delivered_t"] > 0]
    if not len(o):
        return pd.Series(dtype=float)
    sidx = {s: i for i, s in enumerate(d.scen)}
    si = o["scenario"].map(sidx).to_numpy()
    ti = (o["year"].astype(int) - d.years[0]).to_numpy()
    mkt = np.array([d.price[c][s, t] if c in d.price else np.nan for c, s, t in zip(o["commodity"], si, ti)],
                   dtype=float)
    prem = np.maximum(0.0, o["price_usd_per_t"].to_numpy(dtype=float) - np.nan_to_num(mkt, nan=np.inf))
    val = d.delta[ti] * prem * o["delivered_t"].to_numpy(dtype=float) * 1e-6
    return pd.Series(val, index=pd.MultiIndex.from_arrays([o["member"], o["scenario"]])).groupby(level=[0, 1]).sum()
