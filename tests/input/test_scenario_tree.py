"""The explicit scenario tree of SPEC v2 (sheet scenarios, columns parent and branch_year): every rule gives one
located error naming the row; a valid tree and a sheet without a tree validate cleanly."""
from __future__ import annotations

from conftest import valid_book

# rows of sheet scenarios start at Excel row 2; the horizon of valid_book is 2025-2027


def tree(rows):
    book = valid_book()
    n = len(rows)
    book["scenarios"] = [{"scenario": s, "probability": 1 / n, "description": "", "parent": p, "branch_year": y}
                         for s, p, y in rows]
    for r in book["scenarios"]:  # probabilities sum to exactly 1
        r["probability"] = round(1 / n, 12)
    book["scenarios"][0]["probability"] = 1 - sum(r["probability"] for r in book["scenarios"][1:])
    book["scenario_prices"] = [r for r in book["scenario_prices"] if r["scenario"] in {s for s, _, _ in rows}]
    book["scenario_demand"] = [r for r in book.get("scenario_demand", []) if r["scenario"] in {s for s, _, _ in rows}]
    book["disruptions"] = [r for r in book.get("disruptions", []) if r["scenario"] in {s for s, _, _ in rows}]
    return book


def test_valid_tree_passes(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "base", 2026), ("deep", "ban", 2027)]))
    assert code == 0, out


def test_no_tree_passes(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", None, None)]))
    assert code == 0, out


def test_parent_without_branch_year_and_the_reverse(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "base", None), ("x", None, 2026)]))
    assert code == 1
    assert "sheet 'scenarios', row 3, column 'branch_year': parent is given but branch_year is blank" in out
    assert "sheet 'scenarios', row 4, column 'parent': branch_year is given but parent is blank" in out


def test_second_root_names_its_row(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "base", 2026), ("other", None, None)]))
    assert code == 1
    assert ("sheet 'scenarios', row 4, column 'parent': a second root: scenario 'other' names no parent, but "
            "'base' (row 2) is already the root") in out


def test_cycle_is_an_error_naming_a_row(validate_book):
    code, out = validate_book(tree([("base", None, None), ("a", "b", 2026), ("b", "a", 2026)]))
    assert code == 1
    assert "sheet 'scenarios', row 3, column 'parent': the scenario tree has a cycle: 'a' -> 'b' -> 'a'" in out
    assert out.count("has a cycle") == 1


def test_every_scenario_naming_a_parent_has_no_root(validate_book):
    code, out = validate_book(tree([("a", "b", 2026), ("b", "a", 2026)]))
    assert code == 1
    assert "the scenario tree has no root" in out and "has a cycle" in out


def test_unknown_parent_is_a_reference_error(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "nope", 2026)]))
    assert code == 1
    assert ("sheet 'scenarios', row 3, column 'parent': unknown scenario: not found in sheet 'scenarios' "
            "(got 'nope')") in out


def test_branch_year_may_not_decrease_from_parent_to_child(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "base", 2027), ("deep", "ban", 2026)]))
    assert code == 1
    assert ("sheet 'scenarios', row 4, column 'branch_year': branch_year is before that of its parent 'ban' "
            "(2027, row 3)") in out
    # equal is fine
    code, out = validate_book(tree([("base", None, None), ("ban", "base", 2026), ("deep", "ban", 2026)]))
    assert code == 0, out


def test_branch_year_inside_the_horizon(validate_book):
    code, out = validate_book(tree([("base", None, None), ("ban", "base", 2030)]))
    assert code == 1
    assert ("sheet 'scenarios', row 3, column 'branch_year': branch_year lies outside the model horizon "
            "2025-2027 (got '2030')") in out
