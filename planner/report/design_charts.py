"""Charts of a design workbook (``planner design``): native Excel charts and the PNGs of ``planner plot``.

- break-even floors of the planned process projects (expected and worst scenario) against the workbook's
  floor and the average market price of their output (USD/t);
- the price of security: cost of the plan above its cost at a 100 % cap, against the cap on the share of
  consumption from countries of concern, one line per commodity (MUSD);
- the value figures: WS, RP, EEV (levels) and EVPI, VSS (differences), MUSD.

:func:`design_chart_data` makes the small tables behind the charts from the design sheets; the same tables feed
the Excel charts (sheets ``charts`` and ``chart_data``) and the PNG files.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from planner.report.charts import PALETTE, slug

DESIGN_SHEETS = ("summary", "projects", "floors", "security_cost", "value")


def is_design(sheet_names) -> bool:
    return "value" in sheet_names or "security_cost" in sheet_names or "projects" in sheet_names


def _num(s):
    x = pd.to_numeric(s, errors="coerce").astype(float)
    return x.where(np.isfinite(x))


def design_chart_data(sheets: dict) -> dict:
    out = {}
    p = sheets.get("projects")
    if p is not None and len(p) and "kind" in p.columns:
        q = p[p["kind"] == "process"]
        if len(q):
            out["breakeven"] = pd.DataFrame({
                "project": q["project"].astype(str).to_numpy(),
                "breakeven_expected": _num(q["breakeven_floor_usd_per_t"]).to_numpy(),
                "breakeven_worst": _num(q["breakeven_floor_worst_usd_per_t"]).to_numpy(),
                "workbook_floor": _num(q["workbook_floor_usd_per_t"]).to_numpy(),
                "market_price_avg": _num(q["market_price_avg_usd_per_t"]).to_numpy()})
    sc = sheets.get("security_cost")
    if sc is not None and len(sc) and "cap_share" in sc.columns:
        curves = {}
        for c, g in sc.groupby("commodity", sort=False):
            g = g.sort_values("cap_share", ascending=False)
            g = g[_num(g["cost_vs_100pct_musd"]).notna()]
            if len(g):
                curves[str(c)] = pd.DataFrame({"cap_share": _num(g["cap_share"]).to_numpy(),
                                               "extra_cost_musd": _num(g["cost_vs_100pct_musd"]).to_numpy()})
        if curves:
            out["security"] = curves
    v = sheets.get("value")
    if v is not None and len(v) and "figure" in v.columns:
        vals = dict(zip(v["figure"].astype(str), pd.to_numeric(v["value_musd"], errors="coerce").astype(float)))
        out["value_levels"] = pd.DataFrame({"figure": [k for k in ("WS", "RP", "EEV") if k in vals],
                                            "value_musd": [vals[k] for k in ("WS", "RP", "EEV") if k in vals]})
        out["value_gaps"] = pd.DataFrame({"figure": [k for k in ("EVPI", "VSS") if k in vals],
                                          "value_musd": [vals[k] for k in ("EVPI", "VSS") if k in vals]})
    return out


def add_design_charts(wb, sheets: dict) -> None:
    """Sheets ``charts`` and ``chart_data`` of a design workbook (xlsxwriter workbook ``wb``)."""
    data = design_chart_data(sheets)
    if not data:
        return
    ws = wb.add_worksheet("charts")
    ds = wb.add_worksheet("chart_data")
    bold = wb.add_format({"bold": True})
    ws.write_string(0, 0, "Charts of this design workbook; the numbers behind each chart are on the sheet chart_data.",
                    bold)
    state = {"row": 0}

    def block(title, df):
        r = state["row"]
        ds.write_string(r, 0, title, bold)
        for j, name in enumerate(df.columns):
            ds.write_string(r + 1, j, str(name), bold)
            for i, x in enumerate(df[name].tolist()):
                if isinstance(x, str):
                    ds.write_string(r + 2 + i, j, x)
                elif x is not None and math.isfinite(float(x)):
                    ds.write_number(r + 2 + i, j, float(x))
        state["row"] = r + len(df) + 3
        return r + 2, r + 1 + len(df), r + 1

    charts = []
    if "breakeven" in data:
        df = data["breakeven"]
        r0, r1, _ = block("Break-even floors of the planned projects (USD/t)", df)
        cat = ["chart_data", r0, 0, r1, 0]
        ch = wb.add_chart({"type": "column"})
        for j, (name, colour) in enumerate((("break-even floor (expected NPV)", "#2E75B6"),
                                            ("break-even floor (worst scenario)", "#9DC3E6")), start=1):
            ch.add_series({"name": name, "categories": cat, "values": ["chart_data", r0, j, r1, j],
                           "fill": {"color": colour}, "gap": 60})
        line = wb.add_chart({"type": "line"})
        for j, (name, colour, sym) in ((3, ("workbook floor", "#C00000", "diamond")),
                                       (4, ("market price (average)", "#000000", "circle"))):
            line.add_series({"name": name, "categories": cat, "values": ["chart_data", r0, j, r1, j],
                             "line": {"none": True}, "marker": {"type": sym, "size": 7,
                                                                 "fill": {"color": colour},
                                                                 "border": {"color": colour}}})
        ch.combine(line)
        ch.set_y_axis({"num_format": "#,##0", "min": 0, "name": "USD/t"})
        ch.show_blanks_as("gap")
        charts.append(("Break-even floors vs current floors (USD/t)", ch))
    if "security" in data:
        ch = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
        for k, (c, df) in enumerate(data["security"].items()):
            r0, r1, _ = block(f"Price of security: {c}", df)
            ch.add_series({"name": c, "categories": ["chart_data", r0, 0, r1, 0],
                           "values": ["chart_data", r0, 1, r1, 1], "line": {"color": PALETTE[k % len(PALETTE)]},
                           "marker": {"type": "circle", "size": 5, "fill": {"color": PALETTE[k % len(PALETTE)]}}})
        ch.set_x_axis({"num_format": "0%", "reverse": True, "name": "cap on the share from countries of concern",
                       "min": 0, "max": 1, "crossing": "max"})
        ch.set_y_axis({"num_format": "#,##0", "name": "MUSD above the cost at 100 %"})
        charts.append(("Price of security: extra cost as the cap tightens (MUSD)", ch))
    for key, title in (("value_levels", "WS, RP and EEV (MUSD, expected cost)"),
                       ("value_gaps", "EVPI and VSS (MUSD)")):
        df = data.get(key)
        if df is None or not len(df):
            continue
        r0, r1, _ = block(title, df)
        ch = wb.add_chart({"type": "column"})
        ch.add_series({"name": title, "categories": ["chart_data", r0, 0, r1, 0],
                       "values": ["chart_data", r0, 1, r1, 1], "fill": {"color": "#2E75B6"},
                       "data_labels": {"value": True, "num_format": "#,##0.0"}})
        ch.set_legend({"none": True})
        ch.set_y_axis({"num_format": "#,##0"})
        charts.append((title, ch))
    for i, (title, ch) in enumerate(charts):
        ch.set_title({"name": title, "name_font": {"size": 11}})
        ch.set_size({"width": 640 if i else 900, "height": 340})
        if ch.__class__.__name__ != "ChartColumn" or i == 0:
            ch.set_legend({"position": "bottom"})
        ws.insert_chart(2 + 19 * i, 0, ch)


def read_design_sheets(path) -> dict | None:
    """The sheets of a design workbook, or None when ``path`` is not one (checked like a results workbook)."""
    from planner.input.reader import open_results_file

    path = Path(path)
    xl = open_results_file(path)
    with xl:
        if not is_design(xl.sheet_names):
            return None
        return {n: pd.read_excel(xl, sheet_name=n) for n in DESIGN_SHEETS if n in xl.sheet_names}


def plot_design_file(path, sheets: dict, out_dir=None, force: bool = False) -> list[Path]:
    """``planner plot`` on a design workbook: breakeven.png, security_cost.png, value.png."""
    import re

    from planner.common.problems import PlannerError

    out = Path(out_dir) if out_dir else Path(path).with_name(re.sub(r"\.xlsx$", "", Path(path).name) + ".plots")
    if out.exists() and not out.is_dir():
        raise PlannerError(f"-o {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = plot_design(sheets, out, force)
    if not written:
        raise PlannerError(f"{path}: nothing to plot (the design sheets are empty)")
    return written


def plot_design(sheets: dict, out: Path, force: bool = False) -> list[Path]:
    """PNG files of the design charts (breakeven.png, security_cost.png, value.png) into ``out``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from planner.report.png import save_png as _save

    data = design_chart_data(sheets)
    written = []
    if "breakeven" in data:
        df = data["breakeven"]
        fig = Figure(figsize=(max(7.0, 0.55 * len(df) + 3), 4.8), layout="constrained")
        ax = fig.subplots()
        x = np.arange(len(df))
        ax.bar(x - 0.2, df["breakeven_expected"].fillna(0), 0.4, color="#2E75B6", label="break-even (expected NPV)")
        ax.bar(x + 0.2, df["breakeven_worst"].fillna(0), 0.4, color="#9DC3E6", label="break-even (worst scenario)")
        ax.scatter(x, df["workbook_floor"], marker="D", color="#C00000", zorder=3, label="workbook floor")
        ax.scatter(x, df["market_price_avg"], marker="o", color="black", zorder=3, label="market price (average)")
        ax.set_xticks(x, df["project"], rotation=35, ha="right", fontsize=8)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylabel("USD/t")
        ax.set_title("Break-even floors of the planned projects vs current floors")
        ax.legend(fontsize=8)
        written.append(_save(fig, out / "breakeven.png", force))
    if "security" in data:
        fig = Figure(figsize=(8, 4.8), layout="constrained")
        ax = fig.subplots()
        for k, (c, df) in enumerate(data["security"].items()):
            ax.plot(df["cap_share"], df["extra_cost_musd"], marker="o", color=PALETTE[k % len(PALETTE)], label=c)
        ax.invert_xaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel("cap on the share of consumption from countries of concern")
        ax.set_ylabel("MUSD above the cost at 100 %")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_title("Price of security")
        ax.legend(fontsize=8)
        written.append(_save(fig, out / "security_cost.png", force))
    if "value_levels" in data:
        fig = Figure(figsize=(10, 4.2), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        for ax, key, title in ((a1, "value_levels", "WS, RP, EEV (MUSD)"), (a2, "value_gaps", "EVPI, VSS (MUSD)")):
            df = data[key]
            v = df["value_musd"].to_numpy(dtype=float)
            ax.bar(df["figure"], np.where(np.isfinite(v), v, 0.0), color="#2E75B6")
            if key == "value_levels" and np.isfinite(v).any():
                lo, hi = np.nanmin(v[np.isfinite(v)]), np.nanmax(v[np.isfinite(v)])
                pad = max(hi - lo, abs(hi) * 1e-3, 1.0)
                ax.set_ylim(lo - pad, hi + pad)
            bottom = ax.get_ylim()[0]
            for i, y in enumerate(v):
                text = f"{y:,.1f}" if np.isfinite(y) else "unbounded" if y == np.inf else "n/a"
                ax.annotate(text, (i, y if np.isfinite(y) else max(bottom, 0.0) if key == "value_gaps" else bottom),
                            ha="center", va="bottom", fontsize=8)
            ax.set_title(title)
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:,.0f}"))
        written.append(_save(fig, out / "value.png", force))
    return written


__all__ = ["add_design_charts", "design_chart_data", "is_design", "plot_design", "slug"]
