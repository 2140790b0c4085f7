"""Tables on the terminal that survive 80 columns (compare, stress, batch and sweep status, info).

Rules: a number is never split over two lines nor cut; when a table does not fit the console's width
(rich reads ``COLUMNS``, else the terminal, else 80) it is printed vertically, one block per row with
one ``column: value`` line per cell; long messages are printed in full under the table, never cut.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

MIN_TEXT = 12   # a text column may fold down to this width (or its longest cell, if shorter) ...
MAX_WORD = 14   # ... or to its longest word up to this many characters (longer words, e.g. paths, fold)


@dataclass
class Col:
    name: str
    justify: str = "left"
    wrap: bool = False        # True: free text that may fold; False: numbers, keys, labels (never split)


def console() -> Console:
    """The console of every table and of the messages and summary printed with it (stdout)."""
    return Console(highlight=False)


def _plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else ("" if cell is None else str(cell))


def _text(cell) -> Text:
    return cell if isinstance(cell, Text) else Text("" if cell is None else str(cell))


def _split_long(line: str, width: int) -> list[str]:
    """A line longer than ``width`` (one long word): cut after '_', '/', '.' or '-' where possible."""
    import re

    pieces = re.findall(r"[^_/.\-]*[_/.\-]|[^_/.\-]+$", line) or [line]
    out, cur = [], ""
    for p in pieces:
        while len(p) > width:                       # a piece with no break point: fold it
            if cur:
                out.append(cur)
                cur = ""
            out.append(p[:width])
            p = p[width:]
        if len(cur) + len(p) > width:
            out.append(cur)
            cur = ""
        cur += p
    if cur:
        out.append(cur)
    return out


def _wrap(text: str, width: int) -> str:
    """Wrap at spaces to ``width``; a word longer than ``width`` is cut after '_', '/', '.' or '-' (only free
    text and names get here, never a number)."""
    import textwrap

    out = []
    for line in text.splitlines() or [""]:
        for part in textwrap.wrap(line, width, break_on_hyphens=False, break_long_words=False) or [""]:
            out += _split_long(part, width) if len(part) > width else [part]
    return "\n".join(out)


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def widths(cols: list[Col], rows: list[list], width: int) -> list[int] | None:
    """Column widths (text only, without padding) that fit ``width`` with the box, or None when the table
    cannot fit without splitting a number or a label. Headers wrap between words; free-text columns
    (``wrap``) share what is left, down to :data:`MIN_TEXT`."""
    w = []
    for j, c in enumerate(cols):
        cells = [_plain(r[j]) for r in rows]
        longest = max((len(line) for x in cells for line in x.splitlines() or [""]), default=0)
        head = _longest_word(c.name)
        word = max((_longest_word(x) for x in cells), default=0)
        w.append(max(head, min(longest, max(MIN_TEXT, min(word, MAX_WORD)))) if c.wrap else max(head, longest))
    room = width - (1 + 3 * len(cols)) - sum(w)
    if room < 0:
        return None
    # free text gets what is left, in column order (the first is usually the row's name), up to its longest line
    for j, c in enumerate(cols):
        if c.wrap and room > 0:
            want = max((len(line) for r in rows for line in _plain(r[j]).splitlines() or [""]), default=0)
            extra = max(0, min(room, want - w[j]))
            w[j] += extra
            room -= extra
    for j, c in enumerate(cols):   # then headers on fewer lines where there is room
        extra = max(0, min(room, len(c.name) - w[j]))
        w[j] += extra
        room -= extra
    return w


def min_width(cols: list[Col], rows: list[list]) -> int:
    """The narrowest the table can be drawn without splitting a number or a label (box included)."""
    w = widths(cols, rows, 10 ** 6)
    w = [x for x in w]  # at the minimum: free text at its floor
    for j, c in enumerate(cols):
        if c.wrap:
            cells = [_plain(r[j]) for r in rows]
            longest = max((len(line) for x in cells for line in x.splitlines() or [""]), default=0)
            word = max((_longest_word(x) for x in cells), default=0)
            w[j] = max(_longest_word(c.name), min(longest, max(MIN_TEXT, min(word, MAX_WORD))))
    return 1 + 3 * len(cols) + sum(w)


def print_table(con: Console, title: str, cols: list[Col], rows: list[list], key: int = 0,
                skip_blank: bool = True) -> str:
    """Draw ``rows`` as a table if it fits the console, else vertically; returns "table" or "vertical".

    Cells are text, or rich ``Text`` for colour (never markup: file names may hold brackets)."""
    w = widths(cols, rows, con.size.width)
    if w is not None:
        t = Table(title=title, title_justify="left")
        for c, x in zip(cols, w):
            t.add_column(_wrap(c.name, x), justify=c.justify, no_wrap=True, overflow="fold", min_width=x,
                         max_width=x)
        for r in rows:
            cells = []
            for c, x, cell in zip(cols, w, r):
                cell = _text(cell)
                if c.wrap and any(len(line) > x for line in cell.plain.splitlines()):
                    cell = Text(_wrap(cell.plain, x), style=cell.style)
                cells.append(cell)
            t.add_row(*cells)
        con.print(t)
        return "table"
    if title:
        con.print(Text(title, style="bold"), soft_wrap=True)
    label_w = max((len(c.name) for j, c in enumerate(cols) if j != key), default=0)
    for r in rows:
        con.print(Text("- ") + _text(r[key]), soft_wrap=True)
        for j, c in enumerate(cols):
            if j == key:
                continue
            cell = _text(r[j])
            if skip_blank and not cell.plain:
                continue
            con.print(Text(f"    {c.name:<{label_w}}  ") + cell, soft_wrap=True)
    return "vertical"


def print_messages(con: Console, messages: list[tuple[str, str]], heading: str = "problems") -> None:
    """Full messages under a table: ``(n) label: message`` (every line of the message, nothing cut)."""
    if not messages:
        return
    con.print(Text(heading + ":", style="bold"))
    for i, (label, msg) in enumerate(messages, 1):
        lines = str(msg).splitlines() or [""]
        con.print(Text(f"({i}) {label}: ", style="red") + Text(lines[0]), soft_wrap=True)  # whole, copyable
        for line in lines[1:]:
            con.print(Text("    " + line), soft_wrap=True)
