"""A capacitated facility-location case small enough to solve by hand (issue 18 tests)."""


def cflp(**over):
    """Two sites W1, W2 (one 100-t module each, capex 5 and 6 MUSD, life 1, r = 0), two customers C1 (30 t)
    and C2 (40 t), routes only site -> customer (USD/t): W1->C1 10,000, W1->C2 30,000, W2->C1 20,000,
    W2->C2 10,000.  Optimum by hand (cost in MUSD = t x USD/t x 1e-6):
      W1 alone: 5 + 30 x 0.01 + 40 x 0.03 = 6.5;  W2 alone: 6 + 30 x 0.02 + 40 x 0.01 = 7.0;
      both: 11 + 0.3 + 0.4 = 11.7.  So 6.5 MUSD, W1 alone.
    The plain LP relaxation buys modules by the tonne (4.6 < 6.5, see below); with the linking rows
    F_W1,Cj <= d_j B_W1 every tonne needs a whole module: the LP bound is 6.5."""
    sites = {"W1": 5.0, "W2": 6.0}
    cost = {("W1", "C1"): 10000, ("W1", "C2"): 30000, ("W2", "C1"): 20000, ("W2", "C2"): 10000}
    b = {
        "settings": {"start_year": 2026, "end_year": 2026, "discount_rate": 0, "mip_gap": 0,
                     "trade_all_pairs": False, **over.pop("settings", {})},
        "members": [{"member": m} for m in ("W1", "W2", "C1", "C2")],
        "commodities": [{"commodity": "G"}],
        "demand": [{"member": "C1", "commodity": "G", "year": 2026, "demand_t": 30},
                   {"member": "C2", "commodity": "G", "year": 2026, "demand_t": 40}],
        "processes": [{"process": f"P{w}", "member": w, "output": "G", "module_tpa": 100, "max_modules": 1,
                       "capex_musd_per_module": f, "lifetime_years": 1} for w, f in sites.items()],
        "routes": [{"from": a, "to": c, "commodity": "G", "cost_usd_per_t": v} for (a, c), v in cost.items()],
    }
    b.update(over)
    return b
