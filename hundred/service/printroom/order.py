"""Print order: domestic letters first, then abroad by country, each by postcode (pure).

Stacks come off the printer in delivery order. Postcodes compare naturally (digits as numbers),
after the country's own normalisation (`3511ab` → `3511 AB`).
"""

from __future__ import annotations

import hashlib
import re

from hundred.deals.postal import normalise_postcode
from hundred.service.records import LetterRow

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PARTS = re.compile(r"\d+|[^\d\s]+")


def safe_name(value: str) -> str:
    """A file name that cannot climb out of its folder; kept when already safe, else made safe
    with a short hash so two ids never share a file."""
    if _SAFE.fullmatch(value) and value not in (".", ".."):
        return value
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")[:60] or "x"
    return f"{safe}-{hashlib.blake2b(value.encode(), digest_size=4).hexdigest()}"


def country(row: LetterRow) -> str:
    return str(row.address.get("country") or "").strip().upper()


def sender_country(row: LetterRow) -> str:
    return str(row.layout.get("sender_country") or "NL").strip().upper()


def is_domestic(row: LetterRow) -> bool:
    return country(row) == sender_country(row)


def postcode_key(postcode: str, country_code: str) -> tuple[tuple[int, int, str], ...]:
    text = normalise_postcode(str(postcode or ""), country_code).upper()
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _PARTS.findall(text))


def sort_key(row: LetterRow) -> tuple[str, str, int, str, tuple[tuple[int, int, str], ...], str, str]:
    """Paper, envelope, domestic before abroad, country, postcode, name, letter id."""
    layout = row.layout
    domestic = is_domestic(row)
    return (
        str(layout.get("paper", "")),
        str(layout.get("envelope", "")),
        0 if domestic else 1,
        "" if domestic else country(row),
        postcode_key(row.address.get("postcode", ""), country(row)),
        str(row.address.get("name") or ""),
        row.letter_id,
    )


def print_order(rows: list[LetterRow]) -> list[LetterRow]:
    return sorted(rows, key=sort_key)
