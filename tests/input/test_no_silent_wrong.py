"""Issue 15: no silent wrong answers on the input side, one test per class.

1. physics: every net-gain cycle of the process graph (coproducts included) is an error naming its processes;
   loss-making and exactly balanced cycles pass (property test on random graphs against an independent oracle:
   Bellman-Ford on log yields, for graphs without coproducts);
2. plausibility: rates above 1, percentages in tonnes/price cells, multipliers typed as percentages, discount
   factors that underflow, threads above the machine's cores;
3. nothing dropped without a word: a '#' row that holds numbers, hidden rows and sheets, an unknown header
   close to a declared column, keys differing only in case or Unicode normalisation;
5. a FIFO or device as input; 6. a Strict OOXML workbook.
"""
from __future__ import annotations

import math
import os
import shutil
import zipfile

import openpyxl
import pytest
from conftest import run_cli, set_cell, valid_book, write_book
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.input.physics import gain_cycles
from planner.input.validate import cores


# ------------------------------------------------------------------ 1. physics
def _procs(*rows):
    """rows: (process, input, output, input_per_output) -> processes records with Excel rows from 2."""
    return [{"process": p, "input": i, "output": o, "input_per_output": ipo, "_row": n + 2}
            for n, (p, i, o, ipo) in enumerate(rows)]


def test_two_process_gain_cycle_is_found_and_named():
    # X -> Y at 0.5 t X per t Y and Y -> X at 0.5 t/t: 1 t X -> 2 t Y -> 4 t X (gain 4)
    found = gain_cycles(_procs(("a", "X", "Y", 0.5), ("b", "Y", "X", 0.5)), [])
    assert len(found) == 1 and sorted(p["process"] for p in found[0]["processes"]) == ["a", "b"]


def test_loss_making_and_balanced_cycles_pass():
    assert gain_cycles(_procs(("a", "X", "Y", 1.2), ("b", "Y", "X", 1.1)), []) == []  # 1/(1.2*1.1) < 1
    assert gain_cycles(_procs(("a", "X", "Y", 0.8), ("b", "Y", "X", 1.25)), []) == []  # exactly 1


def test_coproduct_making_its_own_input():
    # 1 t B needs 0.4 t A and also yields 0.5 t A: 0.1 t A and 1 t B from nothing
    found = gain_cycles(_procs(("p", "A", "B", 0.4)), [{"process": "p", "commodity": "A", "t_per_t_output": 0.5}])
    assert [p["process"] for p in found[0]["processes"]] == ["p"]
    assert found[0]["net"]["A"] == pytest.approx(0.1) and found[0]["net"]["B"] == pytest.approx(1.0)


def test_joint_outputs_gain_without_any_single_cycle_above_one():
    # P1: 1 A -> 1 B + 1 C; P2: B -> A 1:1; P3: C -> A 1:1. Each cycle A-B-A, A-C-A has yield exactly 1, but
    # P1 with P2 makes 1 C from nothing (and P1 with P3 1 B): found, although no cycle's yield exceeds 1
    procs = _procs(("p1", "A", "B", 1.0), ("p2", "B", "A", 1.0), ("p3", "C", "A", 1.0))
    found = gain_cycles(procs, [{"process": "p1", "commodity": "C", "t_per_t_output": 1.0}])
    names = sorted(p["process"] for p in found[0]["processes"])
    assert names in (["p1", "p2"], ["p1", "p3"])  # a minimal set: dropping either ends the gain
    assert list(found[0]["net"].values()) == pytest.approx([1.0])


def test_mines_and_chains_are_not_cycles():
    procs = _procs(("mine", None, "ore", 1.0), ("ref", "ore", "oxide", 0.1), ("met", "oxide", "metal", 0.5))
    assert gain_cycles(procs, []) == []


def test_acyclic_chain_with_coproduct_needs_no_lp(monkeypatch):
    # ore -> oxide (+ slag as coproduct) -> metal: oxide is both made and used, but the commodity graph has no
    # directed cycle, so no mix can gain (proof in physics._has_cycle) and the LP is never run; with a process
    # back from metal to ore (a cycle, at a loss: 2 t in per t out at every step) it is run and finds nothing.
    import planner.input.physics as ph

    procs = _procs(("mine", None, "ore", 1.0), ("ref", "ore", "oxide", 0.1), ("met", "oxide", "metal", 0.5))
    cos = [{"process": "ref", "commodity": "slag", "t_per_t_output": 0.2}]
    calls = []
    real = ph._gain
    monkeypatch.setattr(ph, "_gain", lambda *a: calls.append(1) or real(*a))
    assert gain_cycles(procs, cos) == [] and calls == []
    back = _procs(("mine", None, "ore", 1.0), ("ref", "ore", "oxide", 2.0), ("met", "oxide", "metal", 2.0),
                  ("scrap", "metal", "ore", 2.0))
    assert gain_cycles(back, cos) == [] and calls


def _bellman_ford_gain(n, edges) -> bool:
    """Independent oracle: a cycle whose yields multiply to more than 1 = a negative cycle in log(ipo)."""
    dist = [0.0] * n
    for _ in range(n):
        changed = False
        for u, w, ipo in edges:
            if dist[u] + math.log(ipo) < dist[w] - 1e-9:
                dist[w] = dist[u] + math.log(ipo)
                changed = True
        if not changed:
            return False
    return True


@settings(max_examples=int(200 * float(os.environ.get("FUZZ_SCALE", "1"))), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(n=st.integers(2, 5), data=st.data())
def test_random_process_graphs_against_bellman_ford(n, data):
    k = data.draw(st.integers(1, 8))
    edges = []
    for _ in range(k):
        u, w = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
        if u != w:
            edges.append((u, w, data.draw(st.sampled_from([0.25, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0, 4.0]))))
    procs = _procs(*[(f"p{j}", f"c{u}", f"c{w}", ipo) for j, (u, w, ipo) in enumerate(edges)])
    assert bool(gain_cycles(procs, [])) == _bellman_ford_gain(n, edges)


def test_gain_cycle_is_a_located_error(validate_book):
    book = valid_book()
    book["processes"].append({"process": "back", "member": "EU", "output": "ore", "input": "oxide",
                              "input_per_output": 0.5, "existing_tpa": 10})
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'processes', row 2, column 'input_per_output': material from nothing: processes 'ref_USA' "
            "(row 2), 'back' (row 4) together make more than they use") in out


# ------------------------------------------------------------------ 2. plausibility
def test_discount_rate_above_one_suggests_the_share(validate_book):
    book = valid_book()
    set_cell(book, "settings", 4, "value", 5)
    code, out = validate_book(book)
    assert code == 0
    assert "sheet 'settings', row 4, column 'value': discount_rate 5 is above 1 (500%): did you mean 0.05?" in out


def test_discount_factors_that_underflow_are_an_error(validate_book):
    book = valid_book()
    set_cell(book, "settings", 3, "value", 2200)  # 176 years
    set_cell(book, "settings", 4, "value", 0.5)   # 1.5^-175 = 1e-31
    book["demand"].append({"member": "USA", "commodity": "oxide", "year": 2200, "demand_t": 1})
    code, out = validate_book(book)
    assert code == 1
    assert "sheet 'settings', row 4, column 'value': with discount_rate 0.5 the discount factors span 31 orders" in out


@pytest.mark.parametrize("typed", ["100%", "5 %", "50%"])
def test_percentage_in_a_tonnes_or_price_cell_is_an_error(validate_book, typed):
    book = valid_book()
    set_cell(book, "demand", 2, "demand_t", typed)
    set_cell(book, "market_prices", 3, "price_usd_per_t", typed)
    code, out = validate_book(book)
    assert code == 1
    assert ("sheet 'demand', row 2, column 'demand_t': a percentage in a column of t: type the number itself "
            f"(a % sign is read only in share and rate columns) (got '{typed}')") in out
    assert "sheet 'market_prices', row 3, column 'price_usd_per_t': a percentage in a column of USD/t" in out


def test_percentage_in_share_and_rate_cells_is_read(validate_book, tmp_path):
    from planner.input.reader import read_workbook
    book = valid_book()
    set_cell(book, "processes", 2, "availability", "90%")
    set_cell(book, "settings", 4, "value", "5%")
    data = read_workbook(write_book(tmp_path / "b.xlsx", book))
    assert data.problems.items == []
    assert data.tables["processes"]["availability"].iloc[0] == pytest.approx(0.9)
    assert data.settings["discount_rate"] == pytest.approx(0.05)


def test_multiplier_typed_as_percentage_warns(validate_book):
    book = valid_book()
    set_cell(book, "scenario_prices", 2, "multiplier", 150)
    code, out = validate_book(book)
    assert code == 0
    assert "column 'multiplier': multiplier 150 multiplies by 150: did you mean 1.5 (150%)?" in out


def test_threads_capped_at_the_cores(tmp_path):
    from planner.input.load import load
    book = valid_book()
    book["settings"].append({"key": "threads", "value": 100000})
    data = load(write_book(tmp_path / "b.xlsx", book))
    assert data.settings["threads"] == cores()
    assert any(f"threads 100000 is more than this machine's {cores()} core(s)" in str(p)
               for p in data.problems.warnings)


# ------------------------------------------------------------------ 3. nothing dropped without a word
def test_hash_row_with_numbers_is_read_and_reported(validate_book):
    book = valid_book()
    book["members"] = [["member", "name", "burden_share"], ["#1", "first", 1], ["USA", "x", 1], ["EU", "y", 1]]
    _, out = validate_book(book)
    assert "sheet 'members', row 2, column 'member': this row starts with '#' like a units row but holds numbers" \
        in out
    # read as data: the demand rows of USA/EU still resolve, and '#1' is a member


def test_units_row_of_text_is_still_skipped(validate_book):
    book = valid_book()
    book["members"] = [["member", "name"], ["# code", "# full name"], ["USA", "x"], ["EU", "y"]]
    code, out = validate_book(book)
    assert code == 0 and "warning" not in out, out


def test_hidden_rows_and_sheets_are_read_with_a_warning(tmp_path):
    p = write_book(tmp_path / "h.xlsx", valid_book())
    wb = openpyxl.load_workbook(p)
    wb["demand"].row_dimensions[3].hidden = True
    wb["routes"].sheet_state = "hidden"
    wb.save(p)
    res = run_cli("validate", p)
    assert res.exit_code == 0, res.output
    assert "sheet 'demand', row 3: 1 hidden row(s) in Excel are read like the others (rows 3)" in res.output
    assert "sheet 'routes': this sheet is hidden in Excel; it is read like the others" in res.output


@pytest.mark.parametrize("header,meant", [("fiscal budget musd", "fiscal_budget_musd"),
                                          ("Fiscal-Budget (MUSD)", "fiscal_budget_musd"),
                                          ("fiscal_budget", "fiscal_budget_musd"),
                                          ("burden_shar", "burden_share")])
def test_unknown_header_close_to_a_column_is_an_error(validate_book, header, meant):
    book = valid_book()
    for r in book["members"]:
        r[header] = r.pop("fiscal_budget_musd" if "fiscal" in header.lower() else "burden_share", None)
    code, out = validate_book(book)
    assert code == 1
    assert f"column '{header}': unknown column: did you mean '{meant}'?" in out


def test_keys_differing_only_in_case_or_normalisation_warn(validate_book):
    book = valid_book()
    book["commodities"].append({"commodity": "ORE", "name": "upper"})
    book["commodities"].append({"commodity": "oxide\u0301", "name": "decomposed"})
    book["commodities"].append({"commodity": "oxid\u00e9", "name": "composed"})
    _, out = validate_book(book)
    assert "sheet 'commodities', row 5, column 'commodity': 'ORE' differs from 'ore' (row 2) only in case" in out
    assert "differs from 'oxidé' (row 6) only in case or Unicode normalisation" in out or \
        "only in case or Unicode normalisation" in out


# ------------------------------------------------------------------ 5/6. what the input is
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_as_input_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    res = run_cli("validate", fifo)  # would block forever if the file were opened
    assert res.exit_code == 1
    assert "pipe.xlsx: is a FIFO (named pipe), not a regular file" in res.output


def test_device_as_input_is_refused():
    res = run_cli("validate", "/dev/zero")
    assert res.exit_code == 1 and "/dev/zero: is a device, not a regular file" in res.output


def test_strict_ooxml_is_named(tmp_path):
    src = write_book(tmp_path / "t.xlsx", valid_book())
    dst = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zo:
        for item in zi.infolist():
            data = zi.read(item)
            if item.filename.endswith(".xml"):
                data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                    b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            zo.writestr(item, data)
    res = run_cli("validate", dst)
    assert res.exit_code == 1
    assert "strict.xlsx: is saved as Strict Open XML, which the planner cannot read" in res.output
    assert "required sheet" not in res.output
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_negative_route_costs_that_earn_money_are_named_before_the_solve(validate_book):
    book = valid_book()
    book["settings"].append({"key": "default_route_cost_usd_per_t", "value": -5})
    code, out = validate_book(book)
    assert code == 0
    assert ("shipping 'ore' from USA to EU and back costs -10 USD/t (settings default_route_cost_usd_per_t): trade "
            "would earn money without limit") in out
    book = valid_book()
    book["routes"].append({"from": "EU", "to": "USA", "commodity": "oxide", "cost_usd_per_t": -20})
    _, out = validate_book(book)
    assert ("sheet 'routes', row 3, column 'cost_usd_per_t': shipping 'oxide' from USA to EU and back costs -10 "
            "USD/t (sheet 'routes', row 2 and sheet 'routes', row 3)") in out
