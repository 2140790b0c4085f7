"""Terminal output that survives 80 columns (issue 16 item 3): numbers are never split or cut, tables turn
vertical when they do not fit, full messages go under the table, and the messages and the summary share one
stream (stdout)."""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from planner.cli import main
from planner.input.load import load_input
from planner.workflows.run import solve_file
from planner.workflows.terminal import Col, min_width, print_table

TINY = Path("inputs/tiny.xlsx")
PEN = "commodities.X.shortage_penalty_usd_per_t"
NUMBER = re.compile(r"[-+]?\d[\d,]*\.\d+|[-+]?\d{1,3}(?:,\d{3})+")


def run(*args, columns=80):
    res = CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": str(columns)})
    assert "Traceback" not in res.output, res.output
    return res


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]


def render(cols, rows, width) -> tuple[str, str]:
    buf = io.StringIO()
    con = Console(file=buf, width=width, color_system=None)
    how = print_table(con, "t", cols, rows)
    return how, buf.getvalue()


# ------------------------------------------------------------------ the helper
def test_a_table_that_fits_is_drawn_whole_and_numbers_stay_on_one_line():
    cols = [Col("figure"), Col("A", "right"), Col("B", "right"), Col("note", wrap=True)]
    rows = [["objective_musd", "242,789.063", "242,790.000", "a long free-text note that may fold " * 3]]
    how, out = render(cols, rows, 80)
    assert how == "table"
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "242,789.063" in out and "242,790.000" in out                  # whole, on one line each
    assert min_width(cols, rows) <= 80


def test_a_table_that_does_not_fit_turns_vertical():
    cols = [Col("figure")] + [Col(f"workbook {i}", "right") for i in range(8)]
    rows = [["objective_musd"] + [f"{242_789.063 + i:,.3f}" for i in range(8)]]
    how, out = render(cols, rows, 80)
    assert how == "vertical"
    for i in range(8):
        assert re.search(rf"workbook {i}\s+{242_789.063 + i:,.3f}", out)
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120])
def test_numbers_are_never_split_at_any_width(width):
    cols = [Col("scenario"), Col("prob.", "right"), Col("plan cost", "right"), Col("optimum cost", "right"),
            Col("regret", "right"), Col("regret %", "right"), Col("plan shortage (t)", "right")]
    rows = [["price_collapse", "0.25", "236,270.163", "235,001.250", "1,268.913", "+0.54%", "108,278.6"],
            ["export_ban", "0.15", "268,289.928", "260,000.000", "8,289.928", "+3.19%", "1,234,567.8"]]
    how, out = render(cols, rows, width)
    for r in rows:
        for cell in r[2:]:
            assert cell in out, (width, cell, out)
    assert max(len(line) for line in out.splitlines()) <= max(width, 0) or how == "vertical"


# ------------------------------------------------------------------ the commands at 80 columns
@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    d = tmp_path_factory.mktemp("term")
    build = solve_file(str(TINY), out=str(d / "build_a_long_name_for_the_plan.results.xlsx")).out
    cheap = solve_file(str(TINY), out=str(d / "cheap_shortage_another_long_name.results.xlsx"),
                       data=load_input(str(TINY), {PEN: "200"})).out
    return d, build, cheap


@pytest.mark.slow
def test_compare_at_80_columns_keeps_every_number_whole(plans):
    d, build, cheap = plans
    res = run("compare", build, cheap, build, "-o", d / "cmp.xlsx", columns=80)
    assert res.exit_code == 0, res.output
    assert all(len(line) <= 80 for line in table_lines(res.output)), res.output
    # every headline number of the comparison is printed whole
    for v in ("0.075", "0.04", "-0.035"):
        assert re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", res.output), (v, res.output)
    narrow = run("compare", build, cheap, build, "-o", d / "cmp.xlsx", "--force", columns=40)
    assert narrow.exit_code == 0
    assert "- objective_musd" in narrow.output                               # vertical at 40 columns
    assert re.search(r"A\s+0\.075", narrow.output)


@pytest.mark.slow
def test_stress_at_80_columns_and_its_messages_under_the_table(plans):
    d, _, cheap = plans
    res = run("stress", TINY, "--plan", cheap, "-o", d / "st.xlsx", columns=80)
    assert res.exit_code == 0, res.output
    assert all(len(line) <= 80 for line in table_lines(res.output)), res.output
    numbers = [m.group(0) for m in NUMBER.finditer("\n".join(table_lines(res.output)))]
    assert numbers, res.output
    for line in table_lines(res.output):             # no cell ends or starts mid-number across lines
        assert not re.search(r"\d,$|^\s*,\d", line.strip("│ "))


def test_batch_prints_full_messages_under_the_table_on_one_stream(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("not a workbook")
    good = tmp_path / "good.xlsx"
    shutil.copy(TINY, good)
    res = run("solve", good, bad, "-o", tmp_path / "res", columns=80)
    assert res.exit_code == 1
    out = res.stdout                                  # table, messages and summary all on stdout
    assert "see problem 1 below" in out
    assert "messages:" in out and "(1) bad.xlsx: " in out
    msg_line = next(line for line in out.splitlines() if line.startswith("(1) bad.xlsx"))
    assert "xlsx" in msg_line.split(": ", 1)[1]        # the whole message, on its own line(s), not cut
    assert out.index("messages:") > out.index("bad.xlsx") and "1 done, 1 failed (messages above)" in out
    assert out.index("1 done, 1 failed") > out.index("(1) bad.xlsx")
    assert all(len(line) <= 80 for line in table_lines(out))
