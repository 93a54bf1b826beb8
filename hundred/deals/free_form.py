"""The rules for a deal's CRM custom fields (`fields`, and unknown top-level keys): any JSON a CRM
admin made up, walked with a budget so that no payload costs more to check than it says.

Apart from the rules for the deal's own fields because these values have no shape to check, only
bounds (their limits stand with the others in checks.py).
"""

from __future__ import annotations

from typing import Any

from hundred.deals.checks import (
    FIELD_DEPTH_MAX,
    FIELD_KEY_MAX,
    FIELD_KEYS_MAX,
    FIELD_TEXT_MAX,
    FIELD_VALUES_MAX,
    MAX_INT_DIGITS,
    HugeInt,
    bad_character,
    json_type,
    show,
)


def check_free_form(items: dict[str, Any], loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Problems in CRM custom fields, as (loc, message): plain text (a note may have line breaks and
    tabs; no other control or invisible characters), the keys one line, bounded lengths, counts and
    depth, only JSON types, finite numbers. A multi-line value printed into a header (a subject)
    is refused when that touch is rendered."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    budget = [FIELD_VALUES_MAX]

    def walk(value: Any, where: tuple[Any, ...], depth: int) -> None:
        budget[0] -= 1
        if budget[0] == 0:
            problems.append((loc, f"holds more than {FIELD_VALUES_MAX} values in all"))
        if budget[0] < 0:
            return
        if isinstance(value, str):
            why = bad_character(value, multiline=True)
            if why:
                problems.append((where, why))
            elif len(value) > FIELD_TEXT_MAX:
                problems.append((where, f"is {len(value)} characters long; at most {FIELD_TEXT_MAX} allowed"))
        elif isinstance(value, HugeInt):
            problems.append((where, f"is a number with more than {MAX_INT_DIGITS} digits"))
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                problems.append((where, "must be a finite number"))
        elif value is None or isinstance(value, (bool, int)):
            pass
        elif isinstance(value, (dict, list)):
            if depth >= FIELD_DEPTH_MAX:
                problems.append((where, f"is nested too deeply (at most {FIELD_DEPTH_MAX} levels)"))
                return
            if len(value) > FIELD_KEYS_MAX:
                what = "keys" if isinstance(value, dict) else "items"
                problems.append((where, f"has {len(value)} {what}; at most {FIELD_KEYS_MAX} allowed"))
                return
            if isinstance(value, dict):
                walk_keys(value, where, depth + 1)
            else:
                for i, item in enumerate(value):
                    walk(item, (*where, i), depth + 1)
        else:
            problems.append((where, f"must be a JSON value, not {json_type(value)}"))

    def walk_keys(obj: dict[Any, Any], where: tuple[Any, ...], depth: int) -> None:
        for key, item in obj.items():
            if not isinstance(key, str):
                problems.append((where, f"key {show(key)} is not text"))
                continue
            why = bad_character(key) or ("is blank" if not key.strip() else None)
            if why:
                problems.append(((*where, key), f"key {why}"))
            elif len(key) > FIELD_KEY_MAX:
                problems.append(((*where, key), f"key is {len(key)} characters long; at most {FIELD_KEY_MAX} allowed"))
            else:
                walk(item, (*where, key), depth)

    if len(items) > FIELD_KEYS_MAX:
        problems.append((loc, f"has {len(items)} custom fields; at most {FIELD_KEYS_MAX} allowed"))
    else:
        walk_keys(items, loc, 1)
    return problems
