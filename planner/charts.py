"""Native Excel charts for the results workbook (a `charts` sheet).

Each chart reads a small data block written on the `charts` sheet itself, so
the numbers behind every chart are visible next to it:
- expected cost by category (MUSD);
- capacity by commodity over time (t/yr; new plus existing);
- supply mix of the first scenario (domestic output, bloc trade, imports from
  countries of concern, other imports and offtakes, stock draw, shortage);
- dependence share on countries of concern against the tightest target.
"""
from __future__ import annotations

import pandas as pd


def chart_data(sheets: dict, d) -> dict[str, pd.DataFrame]:
    out = {}
    costs = sheets.get("costs")
    p = dict(zip(d.scen, d.prob))
    if costs is not None and len(costs):
        e = costs.assign(v=costs["scenario"].map(p) * costs["cost_musd"]).groupby("category")["v"].sum()
        out["cost"] = e.reset_index().rename(columns={"v": "expected_cost_musd"})
    cap = sheets.get("capacity")
    if cap is not None and len(cap):
        c = cap[cap["scenario"] == d.scen[0]].pivot_table(index="year", columns="output", values="capacity_tpa",
                                                          aggfunc="sum").fillna(0.0)
        out["capacity"] = c.reset_index()
    sup = sheets.get("supply")
    if sup is not None and len(sup):
        s = sup[sup["scenario"] == d.scen[0]].groupby("year").sum(numeric_only=True)
        mix = pd.DataFrame({
            "year": s.index,
            "domestic_output_t": s["production_t"].to_numpy(),
            "bloc_trade_t": s["trade_in_t"].to_numpy(),
            "concern_imports_t": (s["imports_concern_t"] + s["offtake_concern_t"]).to_numpy(),
            "other_imports_t": (s["imports_other_t"] + s["offtake_t"]).to_numpy(),
            "stock_draw_t": s["stock_draw_t"].to_numpy(),
            "shortage_t": s["shortage_t"].to_numpy(),
        })
        out["mix"] = mix
        g = sup[sup["scenario"] == d.scen[0]].groupby("year")[
            ["imports_concern_t", "offtake_concern_t", "demand_t", "input_use_t"]].sum()
        cons = (g["demand_t"] + g["input_use_t"]).where(lambda x: x > 0)
        dep = ((g["imports_concern_t"] + g["offtake_concern_t"]) / cons).fillna(0.0)
        sec = sheets.get("security")
        tgt = None
        if sec is not None and len(sec):
            cc = sec[sec["target"] == "max_concern_share"]
            if len(cc):
                tgt = cc.groupby("year")["limit"].min()
        out["dependence"] = pd.DataFrame({"year": dep.index, "concern_share": dep.to_numpy(),
                                          "target_share": [float(tgt.get(y, float("nan"))) if tgt is not None
                                                           else float("nan") for y in dep.index]})
    return out


def add_charts(wb, sheets: dict, d) -> None:
    data = chart_data(sheets, d)
    if not data:
        return
    ws = wb.add_worksheet("charts")
    bold = wb.add_format({"bold": True})
    chart_row = max(len(df) for df in data.values()) + 4  # charts stacked below the data blocks
    col = 0
    anchor_row = 0
    for key, df in data.items():
        ws.write_string(0, col, key, bold)
        for j, name in enumerate(df.columns):
            ws.write_string(1, col + j, str(name), bold)
            for i, v in enumerate(df[name].tolist()):
                if isinstance(v, str):
                    ws.write_string(2 + i, col + j, v)
                elif v == v:
                    ws.write_number(2 + i, col + j, float(v))
        n = len(df)
        if n == 0:
            col += len(df.columns) + 1
            continue
        if key == "cost":
            ch = wb.add_chart({"type": "bar"})
            ch.add_series({"name": "expected cost (MUSD)", "categories": ["charts", 2, col, 1 + n, col],
                           "values": ["charts", 2, col + 1, 1 + n, col + 1]})
            ch.set_title({"name": "Expected cost by category (MUSD, discounted)"})
        elif key == "capacity":
            ch = wb.add_chart({"type": "line"})
            for j in range(1, len(df.columns)):
                ch.add_series({"name": ["charts", 1, col + j], "categories": ["charts", 2, col, 1 + n, col],
                               "values": ["charts", 2, col + j, 1 + n, col + j]})
            ch.set_title({"name": "Process capacity by output commodity (t/yr)"})
        elif key == "mix":
            ch = wb.add_chart({"type": "column", "subtype": "stacked"})
            for j in range(1, len(df.columns)):
                ch.add_series({"name": ["charts", 1, col + j], "categories": ["charts", 2, col, 1 + n, col],
                               "values": ["charts", 2, col + j, 1 + n, col + j]})
            ch.set_title({"name": f"Supply mix, scenario {d.scen[0]} (t, all commodities)"})
        else:
            ch = wb.add_chart({"type": "line"})
            for j in (1, 2):
                ch.add_series({"name": ["charts", 1, col + j], "categories": ["charts", 2, col, 1 + n, col],
                               "values": ["charts", 2, col + j, 1 + n, col + j]})
            ch.set_title({"name": f"Dependence on countries of concern vs target, scenario {d.scen[0]}"})
            ch.set_y_axis({"num_format": "0%"})
        ch.set_size({"width": 720, "height": 360})
        ws.insert_chart(chart_row + anchor_row, 0, ch)
        anchor_row += 20
        col += len(df.columns) + 1
