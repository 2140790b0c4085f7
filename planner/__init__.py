"""bloc planner: critical-minerals trading-bloc planning with Pyomo and HiGHS."""
__version__ = "0.1.0"
