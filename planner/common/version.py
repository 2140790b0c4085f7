"""The planner's version (one place; ``planner.__version__`` re-exports it)."""
__version__ = "0.1.0"
