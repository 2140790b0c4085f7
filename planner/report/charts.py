"""Charts of a results workbook: native Excel charts (a `charts` sheet) and the data behind them.

:func:`chart_data` turns the results tables into small chart tables; the same
tables feed the native Excel charts written into every results workbook
(:func:`add_charts`, sheets `charts` and `chart_data`, the numbers behind every
chart visible there) and the PNG files of ``planner plot`` (:mod:`planner.report.plot`).

Charts:
- expected cost by category (MUSD, discounted), and cost by scenario and category;
- process capacity over time, one chart per output commodity, stacked by member (t/yr,
  existing plus new; capacity is a first-stage decision, the same in every scenario);
- supply mix of the base scenario (the scenario named ``base``, else the most
  probable), one chart per commodity, bloc-wide: domestic output, imports from
  countries of concern, other imports and offtakes, stock draw and shortage
  stacked (their sum is bloc use: consumption, stock fill, exports, disposal),
  with the volume traded between members and bloc consumption as lines;
- dependence share on countries of concern (bloc-wide concern imports and
  offtakes ÷ consumption) per commodity and scenario, against the tightest
  max_concern_share target.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from planner.report.results import concern_share
from planner.report.schema import COL

MIX = [("domestic_output_t", "domestic output"), ("concern_imports_t", "imports from countries of concern"),
       ("other_imports_t", "other imports and offtakes"), (COL.stock_draw_t, "stock draw"), (COL.shortage_t, "shortage")]
MIX_LINES = [("bloc_trade_t", "traded between members"), (COL.consumption_t, "consumption (demand + input use)")]
MIX_COLOURS = {"domestic_output_t": "#2E75B6", "concern_imports_t": "#C00000", "other_imports_t": "#F4B183",
               COL.stock_draw_t: "#70AD47", COL.shortage_t: "#7F7F7F", "bloc_trade_t": "#7030A0",
               COL.consumption_t: "#000000"}
PALETTE = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22",
           "#17BECF", "#AEC7E8", "#FFBB78", "#98DF8A", "#FF9896", "#C5B0D5", "#C49C94", "#F7B6D2", "#C7C7C7",
           "#DBDB8D", "#9EDAE5"]


def member_colours(data: dict) -> dict:
    """One colour per member, the same in every capacity chart (Excel and PNG)."""
    members = sorted({str(m) for df in (data.get("capacity") or {}).values() for m in df.columns if m != "year"})
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(members)}


def base_scenario(scen, prob) -> str:
    scen = list(scen)
    if "base" in scen:
        return "base"
    return scen[int(np.argmax(prob))] if len(scen) else "base"


def _col(df, name):
    return df[name] if name in df.columns else pd.Series(0.0, index=df.index)


def chart_data(sheets: dict, scen=None, prob=None, d=None) -> dict:
    """Chart tables from results tables (``sheets``: name -> DataFrame). Give ``d`` (ModelData) or scen/prob."""
    if d is not None:
        scen, prob = list(d.scen), list(d.prob)
    scen = list(scen or [])
    prob = list(prob if prob is not None else [1.0 / max(1, len(scen))] * len(scen))
    p = dict(zip(scen, prob))
    out: dict = {"scenarios": scen, "base": base_scenario(scen, prob) if scen else None}
    costs = sheets.get("costs")
    if costs is not None and len(costs):
        e = costs.assign(v=costs["scenario"].map(p).fillna(0.0) * costs[COL.cost_musd]).groupby("category")["v"].sum()
        out["cost"] = e.reset_index().rename(columns={"v": "expected_cost_musd"})
        by = costs.pivot_table(index="scenario", columns="category", values=COL.cost_musd, aggfunc="sum").fillna(0.0)
        by = by.reindex([s for s in scen if s in by.index] + [s for s in by.index if s not in scen])
        out["cost_scenario"] = by.reset_index()
    years = sorted({int(y) for name in ("supply", "capacity") if sheets.get(name) is not None
                    and len(sheets[name]) for y in sheets[name]["year"].dropna()})
    years = list(range(years[0], years[-1] + 1)) if years else []
    cap = sheets.get("capacity")
    if cap is not None and len(cap):
        first = cap["scenario"].iloc[0]
        c = cap[cap["scenario"] == first]
        caps = {}
        for com, g in c.groupby("output", sort=False):
            t = g.pivot_table(index="year", columns="member", values=COL.capacity_tpa, aggfunc="sum")
            t = t.reindex(sorted(set(years) | set(t.index))).fillna(0.0)  # years without capacity show as 0
            t.index.name = "year"
            if (t.to_numpy() > 0).any():
                caps[str(com)] = t.reset_index()
        out["capacity"] = caps
    sup = sheets.get("supply")
    if sup is not None and len(sup):
        b = out["base"] if out["base"] in set(sup["scenario"]) else sup["scenario"].iloc[0]
        out["base"] = b
        mixes = {}
        for com, g in sup[sup["scenario"] == b].groupby("commodity", sort=False):
            s = g.groupby("year").sum(numeric_only=True)
            mix = pd.DataFrame({
                "year": s.index,
                "domestic_output_t": _col(s, COL.production_t).to_numpy(),
                "concern_imports_t": (_col(s, COL.imports_concern_t) + _col(s, COL.offtake_concern_t)).to_numpy(),
                "other_imports_t": (_col(s, COL.imports_other_t) + _col(s, COL.offtake_t)).to_numpy(),
                COL.stock_draw_t: _col(s, COL.stock_draw_t).to_numpy(),
                COL.shortage_t: _col(s, COL.shortage_t).to_numpy(),
                "bloc_trade_t": _col(s, COL.trade_in_t).to_numpy(),
                COL.consumption_t: (_col(s, COL.demand_t) + _col(s, COL.input_use_t)).to_numpy(),
            })
            if (mix.drop(columns="year").to_numpy() > 1e-9).any():
                mixes[str(com)] = mix
        out["mix"] = mixes
        sec = sheets.get("security")
        tgt = {}
        if sec is not None and len(sec) and "target" in sec.columns:
            cc = sec[sec["target"] == "max_concern_share"]
            for com, g in cc.groupby("commodity"):
                tgt[str(com)] = g.groupby("year")["limit"].min()
        deps = {}
        shares = concern_share(sup, ("commodity", "year", "scenario")).fillna(0.0)  # never above 100 %
        for com in sup["commodity"].unique():
            share = shares.xs(com, level="commodity")
            com = str(com)
            if not (share > 1e-9).any() and com not in tgt:
                continue
            t = share.unstack("scenario")
            t = t[[s for s in scen if s in t.columns] + [s for s in t.columns if s not in scen]]
            t.columns = [f"share_{s}" for s in t.columns]
            t = t.reset_index()
            t["target_share"] = [float(tgt[com].get(y, np.nan)) if com in tgt else np.nan for y in t["year"]]
            deps[com] = t
        out["dependence"] = deps
    return out


# ------------------------------------------------------------------ native Excel charts
def add_charts(wb, sheets: dict, d) -> None:
    """Write `charts` (the charts) and `chart_data` (the numbers behind them) into an xlsxwriter workbook."""
    data = chart_data(sheets, d=d)
    write_excel_charts(wb, data)


def write_excel_charts(wb, data: dict) -> None:
    blocks = []  # (section, title, DataFrame, kind)
    if "cost" in data and len(data["cost"]):
        blocks.append(("Cost", "Expected cost by category (MUSD, discounted)", data["cost"], "bar"))
    if "cost_scenario" in data and len(data["cost_scenario"]):
        blocks.append(("Cost", "Cost by scenario and category (MUSD, discounted)", data["cost_scenario"],
                       "stacked_cat"))
    for com, df in (data.get("capacity") or {}).items():
        blocks.append(("Process capacity by commodity and member (t/yr)", f"Capacity: {com} (t/yr, by member)", df,
                       "stacked"))
    for com, df in (data.get("mix") or {}).items():
        blocks.append((f"Supply mix, scenario {data.get('base')} (t/yr, bloc-wide)",
                       f"Supply of {com}, scenario {data.get('base')} (t)", df, "mix"))
    for com, df in (data.get("dependence") or {}).items():
        blocks.append(("Dependence on countries of concern (share of consumption)",
                       f"Dependence share: {com}", df, "dependence"))
    if not blocks:
        return
    colours = member_colours(data)
    ws = wb.add_worksheet("charts")
    ds = wb.add_worksheet("chart_data")
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "font_size": 13})
    ws.write_string(0, 0, "Charts of this results workbook; the numbers behind each chart are on the sheet "
                          "chart_data.", bold)
    row_d = 0
    row_c, slot, section = 2, 0, None
    CH_W, CH_H, ROWS = 560, 320, 17
    for sec, title, df, kind in blocks:
        # data block
        ds.write_string(row_d, 0, title, bold)
        cols = list(df.columns)
        for j, name in enumerate(cols):
            ds.write_string(row_d + 1, j, str(name), bold)
            for i, v in enumerate(df[name].tolist()):
                if isinstance(v, str):
                    ds.write_string(row_d + 2 + i, j, v)
                elif v is not None and v == v:
                    ds.write_number(row_d + 2 + i, j, float(v))
        n = len(df)
        r0, r1 = row_d + 2, row_d + 1 + n
        cat = ["chart_data", r0, 0, r1, 0]

        def ser(j, **kw):
            return {"name": ["chart_data", row_d + 1, j], "categories": cat, "values": ["chart_data", r0, j, r1, j],
                    **kw}

        if kind == "bar":
            ch = wb.add_chart({"type": "bar"})
            ch.add_series({**ser(1), "name": "expected cost (MUSD)"})
            ch.set_legend({"none": True})
        elif kind == "stacked_cat":
            ch = wb.add_chart({"type": "column", "subtype": "stacked"})
            for j in range(1, len(cols)):
                ch.add_series(ser(j))
            ch.set_y_axis({"num_format": "#,##0"})
        elif kind == "stacked":
            ch = wb.add_chart({"type": "column", "subtype": "stacked"})
            for j in range(1, len(cols)):
                ch.add_series(ser(j, gap=50, fill={"color": colours.get(str(cols[j]), "#808080")}, border={"none": True}))
            ch.set_y_axis({"num_format": "#,##0", "min": 0})
        elif kind == "mix":
            ch = wb.add_chart({"type": "column", "subtype": "stacked"})
            names = dict(MIX + MIX_LINES)
            for j, c in enumerate(cols):
                if c in dict(MIX):
                    ch.add_series({**ser(j, gap=50, fill={"color": MIX_COLOURS[c]}, border={"none": True}),
                                   "name": names[c]})
            line = wb.add_chart({"type": "line"})
            for j, c in enumerate(cols):
                if c in dict(MIX_LINES):
                    line.add_series({**ser(j), "name": names[c],
                                     "line": {"dash_type": "dash" if c == "bloc_trade_t" else "solid", "width": 2,
                                              "color": MIX_COLOURS[c]}})
            ch.combine(line)
            ch.set_y_axis({"num_format": "#,##0", "min": 0})
        else:  # dependence
            ch = wb.add_chart({"type": "line"})
            for j, c in enumerate(cols):
                if c.startswith("share_"):
                    ch.add_series({**ser(j), "name": c[len("share_"):]})
                elif c == "target_share" and df[c].notna().any():
                    ch.add_series({**ser(j), "name": "tightest target",
                                   "line": {"dash_type": "dash", "color": "#C00000", "width": 2}})
            ch.set_y_axis({"num_format": "0%", "min": 0})
            ch.show_blanks_as("gap")
        ch.set_title({"name": title, "name_font": {"size": 11}})
        ch.set_size({"width": CH_W, "height": CH_H})
        if kind != "bar":
            ch.set_legend({"position": "bottom"})
        if sec != section:
            if slot:
                row_c += ROWS + 1
            ws.write_string(row_c, 0, sec, head)
            row_c += 1
            section, slot = sec, 0
        ws.insert_chart(row_c, 0 if slot == 0 else 9, ch)
        slot = (slot + 1) % 2
        if slot == 0:
            row_c += ROWS
        row_d += n + 3


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "x"
