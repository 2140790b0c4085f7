"""Generate ``docs/workbook-format.md`` from :mod:`planner.input.schema`.

    python -m planner.input.docs_gen          # rewrite docs/workbook-format.md
    python -m planner.input.docs_gen --check  # exit 1 if the committed page is out of date

A test compares the committed page with :func:`render`, so the reference page
cannot drift from the schema: change the schema, then rerun this module.
"""
from __future__ import annotations

import sys
from pathlib import Path

from planner.input.schema import SETTINGS, SHEETS, Column
from planner.input.template import default_text, ref_text, type_text

DOCS_PATH = Path("docs") / "workbook-format.md"  # relative to the repository root, where it is run

INTRO = """\
# Input workbook format

<!-- Generated from planner/input/schema.py by `python -m planner.input.docs_gen`. Do not edit by hand. -->

This page lists every sheet and column of the input workbook, as declared in
`planner/input/schema.py` (the same declaration drives the reader, the validator and
`planner template`). The rules behind it are in SPEC §2; `planner template
PATH` writes an empty workbook with these sheets, headers, unit notes and
drop-down lists, and `planner validate PATH` reports every problem at once.

General rules:

- Row 1 of each sheet holds the column names. Row 2 may hold units or notes if
  its first cell starts with `#`. Blank rows are ignored.
- Columns marked * are required; a blank cell elsewhere takes the default shown
  ("settings X" = the value of setting X). No default means blank = none.
- Keys are case-sensitive text with surrounding spaces stripped; a key typed as
  the number 1 reads as "1". A repeated key is an error.
- Booleans accept TRUE/FALSE in any case, yes/no, y/n and 1/0. Numbers may be
  stored as text (`1,200`, ` 5 `, `5%`). A date typed into a year column reads
  as its year. Formulas are read through the values Excel saved with them; an
  Excel error value (`#N/A`, `#REF!` ...) is reported with its cell.
- Unknown sheets and columns are ignored with a warning; a sheet named
  `README` is ignored silently.
- Required sheets: {required}.
  Any other sheet may be absent (an empty table).
"""


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _column_row(c: Column) -> list[str]:
    return [f"`{c.name}`", type_text(c), "*" if c.required else "", _code(default_text(c)), c.unit,
            c.range_text, ", ".join(f"`{r}`" for r in ref_text(c).split(" or ")) if c.ref else "",
            c.description]


def render() -> str:
    """The whole reference page as Markdown."""
    out = [INTRO.format(required=", ".join(f"`{s.name}`" for s in SHEETS if s.required))]
    out.append("## Sheets\n")
    out.append(_table(["sheet", "required", "key", "description"],
                      [[f"[`{s.name}`](#{s.name})", "yes" if s.required else "",
                        ", ".join(f"`{k}`" for k in s.key) if s.key else "(none: rows may repeat)",
                        s.description] for s in SHEETS]))
    header = ["column", "type", "required", "default", "unit", "range", "refers to", "description"]
    for s in SHEETS:
        out.append(f"## {s.name}\n")
        out.append(s.description + "\n")
        facts = []
        if s.required:
            facts.append("Required sheet.")
        if s.kind == "settings":
            facts.append("One row per setting: column `key` names it, column `value` holds it; "
                         "the keys are listed under [Settings](#settings-keys).")
        elif s.kind == "free":
            facts.append("Free form: copied to the results as it is; the columns below are suggestions.")
        if s.key:
            facts.append("Key (must not repeat): " + ", ".join(f"`{k}`" for k in s.key) + ".")
        elif s.kind == "table":
            facts.append("No key: several rows may cover the same item.")
        if facts:
            out.append(" ".join(facts) + "\n")
        out.append(_table(header, [_column_row(c) for c in s.columns]))
    out.append("## Settings keys\n")
    out.append("Rows of sheet `settings`. A blank or missing value takes the default.\n")
    out.append(_table(["key", "type", "required", "default", "unit", "range", "meaning"],
                      [[f"`{d.name}`", type_text(d), "*" if d.required else "", _code(default_text(d)), d.unit,
                        d.range_text, d.description] for d in SETTINGS]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.exists() else ""
        if current != text:
            print(f"{DOCS_PATH} is out of date: run python -m planner.input.docs_gen", file=sys.stderr)
            return 1
        print(f"{DOCS_PATH} is up to date")
        return 0
    DOCS_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOCS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
