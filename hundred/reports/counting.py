"""English counts in what operators read ("1 touch", "3 touches", "2 claims of 1 ended run").

The letters, pages and timelines a marketer or customer reads count in their own language through
babel (`rendering/i18n.py` `Words.plural`); terminal lines and Prefect run names are English, and
count here, in one place, instead of an inline `'s' if n != 1` at each line that says a number.
"""

from __future__ import annotations

_SIBILANT = ("s", "x", "z", "ch", "sh")


def plural(n: int, noun: str) -> str:
    """`n` and the noun, plural unless n is 1: "touch" → "touches", "run" → "runs"."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}es" if noun.endswith(_SIBILANT) else f"{n} {noun}s"
