"""The tiny workbook's optimum, worked out by hand in docs/tiny.md."""
import pytest

from modelkit import cost
from planner.workflows.run import solve_file


def test_tiny_hand_optimum(tmp_path):
    # docs/tiny.md: build 1 module in 2026 (online 2027, life 2, capex 0.05 MUSD, r = 0 → 0.025/yr,
    # one operating year in the horizon) = 0.025; import 100 t at 300 USD/t in 2026 = 0.030;
    # produce 100 t in 2027 at 200 USD/t variable cost = 0.020 → objective 0.075 MUSD.
    oc = solve_file("inputs/tiny.xlsx", out=str(tmp_path / "r.xlsx"))
    assert oc.status == "optimal"
    assert oc.objective == pytest.approx(0.075, abs=1e-9)
    inv = oc.tables["investments"]
    assert list(inv["item"]) == ["PLANT"] and inv["quantity"].sum() == pytest.approx(1)
    assert cost(oc, "capex", oc.tables["costs"]["scenario"].iloc[0]) == pytest.approx(0.025, abs=1e-9)
    assert (tmp_path / "r.xlsx").exists()
