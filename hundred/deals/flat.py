"""Flat deal keys ↔ the nested deal, in one place (`hundred import` CSV columns, CRM mappings).

A flat key is a deal field with dots for its parts: `id`, `closed_at`, `journey`, `amount`,
`currency`, `product`, `segment`, `owner.name`, `owner.email`, `owner.title`,
`contact.first_name`, `contact.last_name`, `contact.email`, `contact.phone`, `contact.locale`,
`contact.timezone`, `company.name`, `address.street`, `address.postcode`, `address.city`,
`address.state`, `address.country`, `referred_by`, and `fields.<name>` for a custom field. An empty CSV cell is
left out (the deal's default applies, or its "is missing" error); a cell of only spaces is given
as it is (a required field then "is blank"); other cells are trimmed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

COLUMNS = (
    "id",
    "closed_at",
    "journey",
    "amount",
    "currency",
    "product",
    "segment",
    "owner.name",
    "owner.email",
    "owner.title",
    "contact.first_name",
    "contact.last_name",
    "contact.email",
    "contact.phone",
    "contact.locale",
    "contact.timezone",
    "company.name",
    "address.street",
    "address.postcode",
    "address.city",
    "address.state",
    "address.country",
    "referred_by",
)
PARTS = ("owner", "contact", "company", "address", "fields")
MAX_ROWS = 100_000


class FlatKeyError(ValueError):
    pass


def check_key(key: str) -> None:
    head, dot, rest = key.partition(".")
    if key in COLUMNS or (head == "fields" and dot and rest):
        return
    raise FlatKeyError(f"unknown column '{key}' (columns: {', '.join(COLUMNS)}, fields.<name>)")


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """{"contact.first_name": "Ilse"} → {"contact": {"first_name": "Ilse"}}; blanks left out."""
    deal: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None or (isinstance(value, str) and value == ""):
            continue
        head, dot, rest = key.partition(".")
        if dot and head in PARTS:
            deal.setdefault(head, {})[rest] = value
        else:
            deal[key] = value
    if "fields" not in deal:
        deal["fields"] = {}
    return deal


def read_rows(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, nested deal, None) per data row, or (line, None, problem). The header row
    names the columns; an unknown column is a problem on line 1 (and no rows are read)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        yield 1, None, "the file is empty (the first row names the columns)"
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    for name in header:
        try:
            check_key(name)
        except FlatKeyError as exc:
            yield 1, None, str(exc)
            return
    if "id" not in header:
        yield 1, None, "no 'id' column"
        return
    for count, cells in enumerate(reader, start=1):
        line = reader.line_num
        if count > MAX_ROWS:
            yield line, None, f"more than {MAX_ROWS:,} rows; split the file"
            return
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            yield line, None, f"has {len(cells)} cells, the header {len(header)}"
            continue
        yield line, unflatten({k: v.strip() or v for k, v in zip(header, cells, strict=False)}), None
