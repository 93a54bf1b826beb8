"""A deal payload as it arrives, bytes or text → JSON data, before the model sees it (pure).

Bounded before anything is parsed: size, UTF-8 (a BOM is fine; a bad byte is reported at its line
and offset), nesting depth (counted without recursion) and integer length; duplicate keys, which
`json` would silently resolve to the last, are reported at every depth by their path.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hundred.deals.checks import MAX_INT_DIGITS, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, DealProblem, HugeInt, path_of, show


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it saw twice (json's object_pairs_hook)."""

    duplicates: dict[str, None]  # an ordered set


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = {}
    for key, value in pairs:
        if key in obj:
            obj.duplicates[key] = None
        obj[key] = value
    return obj


def _int(text: str) -> int | float:
    return int(text) if len(text) <= MAX_INT_DIGITS else HugeInt("inf")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _depth_exceeded(text: str) -> int | None:
    """Character offset where nesting first exceeds MAX_JSON_DEPTH, found without recursion."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return m.start()
        elif ch in "]}":
            depth -= 1
    return None


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def decode(data: bytes) -> tuple[str | None, list[DealProblem]]:
    """UTF-8 (a BOM is fine) → text, or the problem with the bad byte's line and offset."""
    if len(data) > MAX_PAYLOAD_BYTES:
        return None, [DealProblem("", f"is {len(data):,} bytes; a deal may be at most {MAX_PAYLOAD_BYTES:,} bytes")]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None, [DealProblem("", "is UTF-16 text; save it as UTF-8", 1, 1)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        before = data[start : exc.start].decode("utf-8", "replace")
        line, col = _line_col(before, len(before))
        bad = data[exc.start : exc.start + 1].hex().upper()
        return None, [
            DealProblem(
                "",
                f"is not UTF-8: byte 0x{bad} at byte offset {exc.start} cannot be decoded (save the file as UTF-8)",
                line,
                col,
            )
        ]


def loads(text: str) -> tuple[Any, list[DealProblem]]:
    """JSON text → data, refusing depth bombs and reporting every duplicate key by its path."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        return None, [DealProblem("", f"is more than {MAX_PAYLOAD_BYTES:,} bytes, the most a deal may be")]
    if not text.strip():
        return None, [DealProblem("", 'is empty; a deal is a JSON object like {"id": "D-1042", ...}')]
    too_deep = _depth_exceeded(text)
    if too_deep is not None:
        line, col = _line_col(text, too_deep)
        return None, [
            DealProblem("", f"not valid for a deal: JSON nested more than {MAX_JSON_DEPTH} levels deep", line, col)
        ]
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_int=_int)
    except json.JSONDecodeError as exc:
        return None, [DealProblem("", f"not valid JSON: {exc.msg}", exc.lineno, exc.colno)]
    except (RecursionError, ValueError) as exc:  # belt and braces: the checks above should catch these
        return None, [DealProblem("", f"not valid JSON: {show(str(exc), 80)}")]
    problems: list[DealProblem] = []

    def dups(value: Any, loc: tuple[Any, ...]) -> None:
        if isinstance(value, _Object):
            for key in value.duplicates:
                problems.append(
                    DealProblem(
                        path_of((*loc, key)), "key appears more than once in the JSON (which one counts is ambiguous)"
                    )
                )
            for key, item in value.items():
                dups(item, (*loc, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                dups(item, (*loc, i))

    dups(data, ())
    return _plain(data), problems
