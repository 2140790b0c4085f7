"""PNG charts of a results workbook for reports (matplotlib, Agg backend; no display needed).

``planner plot RESULTS -o DIR`` reads the results workbook back with pandas
and draws the charts of its `charts` sheet (see :mod:`planner.report.charts`):

- ``cost.png``: expected cost by category, and cost by scenario and category;
- ``capacity.png``: process capacity over time, one panel per output commodity, stacked by member;
- ``supply_mix_<scenario>.png``: the base scenario's bloc-wide supply mix, one panel per commodity;
- ``dependence.png``: dependence share on countries of concern per commodity and scenario, with the
  tightest target.

Existing PNGs are kept (``NAME-2.png``) unless ``force``; each file is written
to a temporary name and renamed into place.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from planner.common.problems import PlannerError
from planner.input.reader import open_results_file
from planner.report.charts import (
    MIX,
    MIX_COLOURS,
    MIX_LINES,
    chart_data,
    member_colours,
    slug,
)
from planner.report.png import free_png, save_png  # noqa: F401  (free_png: part of this module's interface)
from planner.report.schema import COL

SHEETS = ("summary", "costs", "capacity", "supply", "security")


def read_for_charts(path) -> tuple[dict, list, list]:
    """(sheets, scenarios, probabilities) of a results workbook."""
    path = Path(path)
    xl = open_results_file(path)
    with xl:
        if "summary" not in xl.sheet_names:
            hint = " (it looks like an input workbook: solve it first)" if "settings" in xl.sheet_names else ""
            raise PlannerError(f"{path}: not a results workbook (no summary sheet){hint}")
        sheets = {n: pd.read_excel(xl, sheet_name=n) for n in SHEETS if n in xl.sheet_names}
    scen, prob = scenarios_of(sheets)
    return sheets, scen, prob


def scenarios_of(sheets) -> tuple[list, list]:
    """Scenario names and probabilities from the summary's 'scenarios' entry ("base (0.4), ban (0.6)")."""
    s = sheets.get("summary")
    text = ""
    if s is not None and {"key", "value"} <= set(s.columns):
        hit = s.loc[s["key"].astype(str) == "scenarios", "value"]
        text = str(hit.iloc[0]) if len(hit) and hit.iloc[0] == hit.iloc[0] else ""
    found = re.findall(r"(?:^|, )(.+?) \(([0-9.eE+-]+)\)(?=, |$)", text)
    if found:
        return [n for n, _ in found], [float(p) for _, p in found]
    for name in ("costs", "supply", "capacity"):
        df = sheets.get(name)
        if df is not None and len(df) and "scenario" in df.columns:
            names = list(dict.fromkeys(df["scenario"].astype(str)))
            return names, [1.0 / len(names)] * len(names)
    return ["base"], [1.0]


_save = save_png


def file_slug(text, limit: int = 60) -> str:
    """:func:`slug` of a name for a file name, at most ``limit`` characters: a longer one (a 300-character
    scenario name) is cut and keeps a short hash, so distinct names stay distinct and the file system takes it."""
    s = slug(text)
    if len(s) <= limit:
        return s
    import hashlib
    return s[: limit - 9] + "-" + hashlib.sha1(str(text).encode("utf-8", "replace")).hexdigest()[:8]


def _grid(n, width=4.6, height=3.0):
    from matplotlib.figure import Figure

    cols = 1 if n == 1 else (2 if n <= 4 else 3)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _thousands(ax):
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _top(ax, *series):
    """y from 0 to 8 % above the highest value (stacked bars' sticky edges would leave no room)."""
    top = max([float(np.nanmax(np.asarray(x, dtype=float))) if len(x) else 0.0 for x in series] + [0.0])
    ax.set_ylim(0, top * 1.08 if top > 0 else 1.0)


def plot_results(path, out_dir=None, force: bool = False) -> list[Path]:
    """Write the PNG charts of one results workbook into ``out_dir``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from planner.report.design_charts import plot_design_file, read_design_sheets

    design = read_design_sheets(path)  # a design workbook (planner design): its own charts
    if design is not None:
        return plot_design_file(path, design, out_dir, force)
    sheets, scen, prob = read_for_charts(path)
    data = chart_data(sheets, scen, prob)
    out = Path(out_dir) if out_dir else Path(path).with_name(re.sub(r"\.xlsx$", "", Path(path).name) + ".plots")
    if out.exists() and not out.is_dir():
        raise PlannerError(f"-o {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []

    # cost
    if "cost" in data and len(data["cost"]):
        fig = Figure(figsize=(12, 4.5), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        c = data["cost"].sort_values("expected_cost_musd")
        a1.barh(c["category"].astype(str), c["expected_cost_musd"], color="#2E75B6")
        a1.set_title("Expected cost by category (MUSD, discounted)")
        a1.axvline(0, color="black", lw=0.8)
        cs = data.get("cost_scenario")
        if cs is not None and len(cs):
            cats = [x for x in cs.columns if x != "scenario"]
            pos = np.zeros(len(cs))
            neg = np.zeros(len(cs))
            x = np.arange(len(cs))
            cmap = matplotlib.colormaps["tab20"]
            for k, cat in enumerate(cats):
                v = cs[cat].to_numpy(dtype=float)
                bottom = np.where(v >= 0, pos, neg)
                a2.bar(x, v, bottom=bottom, label=str(cat), color=cmap(k % 20))
                pos += np.where(v >= 0, v, 0)
                neg += np.where(v < 0, v, 0)
            a2.set_xticks(x, cs["scenario"].astype(str), rotation=20)
            a2.set_title("Cost by scenario and category (MUSD, discounted)")
            a2.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
            a2.axhline(0, color="black", lw=0.8)
            _thousands(a2)
        written.append(_save(fig, out / "cost.png", force))

    # capacity by commodity and member
    caps = data.get("capacity") or {}
    if caps:
        fig, axes = _grid(len(caps))
        colour = member_colours(data)
        members = list(colour)
        for ax, (com, df) in zip(axes, caps.items()):
            bottom = np.zeros(len(df))
            for m in [c for c in df.columns if c != "year"]:
                v = df[m].to_numpy(dtype=float)
                ax.bar(df["year"], v, bottom=bottom, label=str(m), color=colour[str(m)], width=0.8)
                bottom += v
            _top(ax, bottom)
            ax.set_title(f"{com}", fontsize=10)
            _thousands(ax)
            ax.tick_params(labelsize=8)
        handles = [matplotlib.patches.Patch(color=colour[m], label=str(m)) for m in members]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(members), 10), fontsize=8)
        fig.suptitle("Process capacity by output commodity and member (t/yr, existing + new)")
        written.append(_save(fig, out / "capacity.png", force))

    # supply mix of the base scenario
    mixes = data.get("mix") or {}
    if mixes:
        fig, axes = _grid(len(mixes))
        for ax, (com, df) in zip(axes, mixes.items()):
            bottom = np.zeros(len(df))
            for col, label in MIX:
                v = df[col].to_numpy(dtype=float)
                ax.bar(df["year"], v, bottom=bottom, label=label, color=MIX_COLOURS[col], width=0.8)
                bottom += v
            ax.plot(df["year"], df[COL.consumption_t], color=MIX_COLOURS[COL.consumption_t], lw=1.5, label=dict(MIX_LINES)[COL.consumption_t])
            ax.plot(df["year"], df["bloc_trade_t"], color=MIX_COLOURS["bloc_trade_t"], lw=1.5, ls="--",
                    label=dict(MIX_LINES)["bloc_trade_t"])
            _top(ax, bottom, df[COL.consumption_t], df["bloc_trade_t"])
            ax.set_title(f"{com}", fontsize=10)
            _thousands(ax)
            ax.tick_params(labelsize=8)
        h, lab = axes[0].get_legend_handles_labels()
        fig.legend(h, lab, loc="outside lower center", ncols=4, fontsize=8)
        fig.suptitle(f"Supply mix, scenario {data.get('base')} (t/yr, bloc-wide)")
        written.append(_save(fig, out / f"supply_mix_{file_slug(data.get('base'))}.png", force))

    # dependence share
    deps = data.get("dependence") or {}
    if deps:
        fig, axes = _grid(len(deps))
        for ax, (com, df) in zip(axes, deps.items()):
            for col in [c for c in df.columns if c.startswith("share_")]:
                ax.plot(df["year"], df[col], marker=".", label=col[len("share_"):])
            if df["target_share"].notna().any():
                ax.plot(df["year"], df["target_share"], color="#C00000", ls="--", lw=2, label="tightest target")
            ax.set_title(f"{com}", fontsize=10)
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
            ax.set_ylim(bottom=0)
            ax.tick_params(labelsize=8)
        handles = {}
        for ax in axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                handles.setdefault(lab, h)
        fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=6, fontsize=8)
        fig.suptitle("Dependence on countries of concern (concern imports and offtakes / consumption, bloc-wide)")
        written.append(_save(fig, out / "dependence.png", force))
    if not written:
        raise PlannerError(f"{path}: nothing to plot (the results tables are empty)")
    return written
