"""Shared helpers for the input-side tests (reader, validator, template).

A *book* is ``{sheet name: rows}``; rows are a list of dicts (column -> value,
header = the columns in first-seen order) or a list of lists (written as is,
header row included).  :func:`valid_book` is a small workbook that validates
with no error and no warning and has at least one row in every sheet, so a
test breaks exactly one cell (with :func:`set_cell`, addressed by the Excel
row number the error message must name) and checks the message.
"""
from __future__ import annotations

import copy
import signal

import openpyxl
import pytest
from click.testing import CliRunner

from planner.cli import main

_VALID_BOOK = {
    "settings": [  # rows 2-4
        {"key": "start_year", "value": 2025},
        {"key": "end_year", "value": 2027},
        {"key": "discount_rate", "value": 0.05},
    ],
    "members": [
        {"member": "USA", "name": "United States", "burden_share": 1, "fiscal_budget_musd": 100},
        {"member": "EU", "name": "European Union", "burden_share": 1},
    ],
    "commodities": [
        {"commodity": "ore", "name": "concentrate", "stage": "ore"},
        {"commodity": "oxide", "name": "NdPr oxide", "stage": "oxide", "floor_price_usd_per_t": 1200,
         "export_price_factor": 0.9, "shortage_penalty_usd_per_t": 1e5},
        {"commodity": "la", "name": "lanthanum", "stage": "oxide", "disposal_cost_usd_per_t": 5},
    ],
    "market_prices": [
        {"commodity": "ore", "year": 2025, "price_usd_per_t": 100},
        {"commodity": "oxide", "year": 2025, "price_usd_per_t": 1000},
    ],
    "demand": [
        {"member": "USA", "commodity": "oxide", "year": 2025, "demand_t": 100},
        {"member": "EU", "commodity": "oxide", "year": 2025, "demand_t": 50},
        {"member": "USA", "commodity": "oxide", "year": 2027, "demand_t": 120},
    ],
    "suppliers": [
        {"supplier": "CHN", "commodity": "oxide", "max_tpa": 1000, "country_of_concern": True,
         "tariff_usd_per_t": 10, "border_adjusted": False},
        {"supplier": "ROW", "commodity": "ore", "price_factor": 1.1},
    ],
    "processes": [
        {"process": "ref_USA", "member": "USA", "output": "oxide", "input": "ore", "input_per_output": 1.2,
         "existing_tpa": 10, "module_tpa": 20, "max_modules": 3, "capex_musd_per_module": 5,
         "lead_time_years": 1, "first_build_year": 2025, "lifetime_years": 20, "availability": 0.9},
        {"process": "mine_EU", "member": "EU", "output": "ore", "existing_tpa": 50},
    ],
    "coproducts": [
        {"process": "ref_USA", "commodity": "la", "t_per_t_output": 0.5},
    ],
    "stockpiles": [
        {"member": "USA", "commodity": "oxide", "existing_capacity_t": 10, "initial_stock_t": 5,
         "capex_usd_per_t": 10, "max_capacity_t": 100, "lead_time_years": 0, "lifetime_years": 30,
         "loss_rate": 0.01},
    ],
    "offtakes": [
        {"offtake": "off1", "seller": "AUS", "member": "USA", "commodity": "oxide", "max_tpa": 50,
         "min_take_share": 0.5, "floor_price_usd_per_t": 1200, "start_year": 2025, "end_year": 2027},
    ],
    "routes": [
        {"from": "USA", "to": "EU", "commodity": "oxide", "cost_usd_per_t": 10, "allowed": True},
    ],
    "security": [
        {"commodity": "oxide", "member": "USA", "from_year": 2025, "to_year": 2027, "min_stock_days": 30},
        {"commodity": "oxide", "max_concern_share": 0.5},
    ],
    "scenarios": [
        {"scenario": "base", "probability": 0.6, "description": "no disruption"},
        {"scenario": "ban", "probability": 0.4, "description": "export ban"},
    ],
    "scenario_prices": [
        {"scenario": "ban", "commodity": "oxide", "multiplier": 1.5},
        {"scenario": "ban", "commodity": "oxide", "supplier": "CHN", "from_year": 2026, "to_year": 2027,
         "multiplier": 0.8},
    ],
    "scenario_demand": [
        {"scenario": "ban", "commodity": "oxide", "member": "USA", "multiplier": 1.1},
    ],
    "disruptions": [
        {"scenario": "ban", "supplier": "CHN", "commodity": "oxide", "from_year": 2026, "to_year": 2027,
         "available_share": 0},
        {"scenario": "ban", "supplier": "AUS", "from_year": 2026, "to_year": 2026, "available_share": 0.5},
    ],
    "sources": [
        {"item": "demand", "value": 100, "unit": "t", "source": "test", "status": "assumption"},
    ],
}


def valid_book() -> dict:
    """A fresh deep copy of the minimal valid book (no errors, no warnings)."""
    return copy.deepcopy(_VALID_BOOK)


def set_cell(book: dict, sheet: str, row: int, column: str, value) -> None:
    """Set one cell of a dict-rows sheet, addressed by its Excel row (data starts in row 2)."""
    book[sheet][row - 2][column] = value


def write_book(path, book: dict) -> str:
    """Write a book to ``path`` with openpyxl (values as given, no notes row)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in book.items():
        ws = wb.create_sheet(name)
        if rows and isinstance(rows[0], dict):
            header = []
            for r in rows:
                header += [k for k in r if k not in header]
            ws.append(header)
            for r in rows:
                ws.append([r.get(h) for h in header])
        else:
            for r in rows:
                ws.append(list(r))
    wb.save(path)
    return str(path)


def sigint_default() -> None:
    """``preexec_fn`` for a child that the test will Ctrl-C: SIGINT back to its default disposition.  pytest-xdist
    workers ignore SIGINT, a child inherits that, and Python then never raises KeyboardInterrupt in it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str):
    """Run ``planner ARGS`` in-process; returns click's Result (``.exit_code``, ``.output`` = stdout+stderr)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def validate_file(path) -> tuple[int, str]:
    """``planner validate PATH`` -> (exit code, output); never a traceback."""
    res = run_cli("validate", path)
    assert "Traceback" not in res.output
    return res.exit_code, res.output


@pytest.fixture
def validate_book(tmp_path):
    """``validate_book(book) -> (exit_code, output)``: write the book and run ``planner validate`` on it."""

    def run(book: dict, name: str = "book.xlsx"):
        return validate_file(write_book(tmp_path / name, book))

    return run
