"""Every use of xlsxwriter's private interface, in one place (pyproject bounds the version these are
tested with: ``xlsxwriter>=3.1,<3.4``; tests/report/test_xlsio_fast.py pins the behaviour).

- ``literal_chart_names(chart, convert)``: chart names given as strings go through ``convert`` before
  xlsxwriter decides whether they are formulas (``Chart._process_names``), so a member called
  ``=HYPERLINK(...)`` is shown as text, never evaluated.
- ``register_format(fmt)``: gives a Format its index in the styles part although no cell is written
  through xlsxwriter (``Format._get_xf_index``): the fast writer splices rows that refer to it.
- The fast writer also reads the sheet XML xlsxwriter produces (``<sheetData/>`` and ``<dimension>``);
  that is its output format, not an interface, and is checked by the same tests.
"""
from __future__ import annotations


def literal_chart_names(chart, convert) -> None:
    process = getattr(chart, "_process_names", None)
    if process is None:  # a version without it: names are then left to xlsxwriter (tests would show it)
        return

    def literal(name, name_formula, _process=process):
        if isinstance(name, str):
            name = convert(name)
        return _process(name, name_formula)

    chart._process_names = literal


def register_format(fmt) -> None:
    fmt._get_xf_index()
