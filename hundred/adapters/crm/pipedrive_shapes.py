"""Pipedrive's API v1 and v2 objects → one shape (v2's), so one mapping reads either.

- deal: `owner_id`, `person_id`, `org_id` as plain ids (v1 nests them as objects and names the
  owner `user_id`), `won_time` as ISO 8601 UTC (v1: "2026-11-20 13:03:00"), custom fields under
  `custom_fields` by their 40-character key (v1 has them at the top level).
- person: `emails` and `phones` as [{value, label, primary}] (v1: `email`, `phone`).
- organization: `address` as {value, route, street_number, subpremise, postal_code, locality,
  sublocality, admin_area_level_1, admin_area_level_2, country, formatted_address} (v1: flat
  `address_route`, `address_locality`, … and `address` the text as typed).
- user (the owner): as v1 answers it (`name`, `email`).

A v1 custom field of type address or money comes as `<key>`, `<key>_route`, `<key>_currency`, …:
it becomes one object under its key ({"value", "route", …}, {"value", "currency"}), as in v2.
"""

from __future__ import annotations

import re
from typing import Any

_CUSTOM = re.compile(r"([0-9a-f]{40})(?:_(\w+))?")
ADDRESS_PARTS = (
    "subpremise",
    "street_number",
    "route",
    "sublocality",
    "locality",
    "admin_area_level_1",
    "admin_area_level_2",
    "country",
    "postal_code",
    "formatted_address",
)


def _id(value: Any) -> Any:
    """v1's nested references ({"value": 55, "name": …} or {"id": 7, …}) → the id."""
    if isinstance(value, dict):
        return value.get("value", value.get("id"))
    return value


def _custom(data: dict[str, Any]) -> dict[str, Any]:
    """Move v1's top-level custom field keys into `custom_fields` (v2 already has them there)."""
    custom: dict[str, Any] = dict(data.get("custom_fields") or {})
    parts: dict[str, dict[str, Any]] = {}
    rest: dict[str, Any] = {}
    for key, value in data.items():
        match = _CUSTOM.fullmatch(key)
        if not match:
            rest[key] = value
        elif match.group(2):
            parts.setdefault(match.group(1), {})[match.group(2)] = value
        else:
            custom[key] = value
    for key, extra in parts.items():
        custom[key] = {"value": custom.get(key), **extra}
    rest["custom_fields"] = custom
    return rest


def _utc(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value.strip()):
        return value.strip().replace(" ", "T") + "Z"  # v1 times are UTC without a zone
    return value


def deal(data: dict[str, Any]) -> dict[str, Any]:
    out = _custom(data)
    if "user_id" in out and "owner_id" not in out:
        out["owner_id"] = out["user_id"]
    for key in ("owner_id", "person_id", "org_id", "user_id"):
        if key in out:
            out[key] = _id(out[key])
    for key in ("won_time", "lost_time", "close_time", "add_time", "update_time"):
        if key in out:
            out[key] = _utc(out[key])
    return out


def _labelled(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    return [i if isinstance(i, dict) else {"value": i, "primary": n == 0} for n, i in enumerate(items)]


def person(data: dict[str, Any]) -> dict[str, Any]:
    out = _custom(data)
    if "emails" not in out:
        out["emails"] = _labelled(out.pop("email", None))
    if "phones" not in out:
        out["phones"] = _labelled(out.pop("phone", None))
    for key in ("org_id", "owner_id"):
        if key in out:
            out[key] = _id(out[key])
    return out


def organization(data: dict[str, Any]) -> dict[str, Any]:
    out = _custom(data)
    if not isinstance(out.get("address"), dict):
        typed = out.get("address")
        out["address"] = {"value": typed, **{part: out.pop(f"address_{part}", None) for part in ADDRESS_PARTS}}
    if "owner_id" in out:
        out["owner_id"] = _id(out["owner_id"])
    return out


def user(data: dict[str, Any]) -> dict[str, Any]:
    return dict(data)
