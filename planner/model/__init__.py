"""The optimisation model of SPEC §3: one module per constraint family."""
