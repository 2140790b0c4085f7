"""Problems found in an input, located the way an analyst sees them in Excel."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    sheet: str | None = None
    row: int | None = None        # spreadsheet row number as Excel shows it
    column: str | None = None
    value: object = None
    has_value: bool = False
    severity: str = "error"       # "error" or "warning"

    def __str__(self) -> str:
        where = []
        if self.sheet is not None:
            where.append(f"sheet '{_cut(self.sheet)}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{_cut(self.column)}'")
        loc = ", ".join(where)
        text = f"{self.file}: {loc + ': ' if loc else ''}{self.message}"
        if self.has_value:
            text += f" (got {_show(self.value)})"
        if self.severity == "warning":
            text = "warning: " + text
        return one_line(text)


def one_line(text: str) -> str:
    """Control characters, line breaks and invisible characters shown escaped (``\\n``, ``\\u200b``), so that
    one problem is always one line of output whatever a cell or sheet name contains."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _cut(name, n: int = 80) -> str:
    s = str(name)
    return s if len(s) <= n else s[: n - 3] + "..."


def _show(value) -> str:
    if value is None:
        return "blank"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value)
    if len(s) > 80:
        s = s[:77] + "..."
    return f"'{s}'"


@dataclass
class ProblemList:
    """Collects problems for one file; every check appends, nothing stops early."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def error(self, message, sheet=None, row=None, column=None, **kw):
        self._add("error", message, sheet, row, column, **kw)

    def warning(self, message, sheet=None, row=None, column=None, **kw):
        self._add("warning", message, sheet, row, column, **kw)

    def _add(self, severity, message, sheet, row, column, **kw):
        has_value = "value" in kw
        self.items.append(Problem(self.file, message, sheet, row, column, kw.get("value"), has_value, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]


class InputError(Exception):
    """Raised when a workbook has errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} problem(s) in the input" + (":\n" + "\n".join(map(str, errors[:20])) if errors else ""))


class PlannerError(Exception):
    """An error to show the user as one clear message (no traceback)."""
