"""Did-you-mean suggestions for misspelt names (setting keys, row keys, scenarios, sheets)."""
from __future__ import annotations

import difflib


def close(word: str, choices, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The known names closest to ``word`` (difflib ratio >= cutoff; case differences count as close)."""
    choices = [str(c) for c in dict.fromkeys(choices) if c is not None and str(c) != ""]
    word = str(word)
    lower = {c.lower(): c for c in choices}
    hits = []
    if word.lower() in lower and lower[word.lower()] != word:
        hits.append(lower[word.lower()])
    hits += [lower[m] for m in difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=cutoff)
             if lower[m] not in hits]
    return hits[:n]


def did_you_mean(word: str, choices, n: int = 3, cutoff: float = 0.6) -> str:
    """``" (did you mean 'USA'?)"`` or ``""`` when nothing is close: append it to an error message."""
    hits = close(word, choices, n, cutoff)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(f"'{h}'" for h in hits) + "?)"
