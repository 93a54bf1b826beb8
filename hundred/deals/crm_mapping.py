"""The CRM mapping's language: which fetched object each deal field comes from (pure).

When a deal is won, hundred fetches it and what it names from the CRM's API (Pipedrive: `deal`,
`person`, `organization`, `owner`; HubSpot: `deal`, `contact`, `company`, `owner`; see
`hundred.service.enrichment`). The mapping (`crm_mapping.json`, documented inside) gives each
deal field (`contact.email`, `fields.referred_by`) a source in those objects:

- `"person.first_name"`: a dotted path. `[primary]` picks the item of a list marked primary (else
  the first), `[2]` the third; an item `{"value": …, "label": …}` (Pipedrive's emails and phones)
  reads as its value: `"person.emails[primary]"`.
- `{"from": "deal.won_time", "format": "utc"}`, with `"default"` (used when the source is empty),
  `"map"` (a table from the CRM's value to hundred's: a dropdown option id to a journey id) and
  `"format"`: text, utc, epoch_ms, first_word, other_words, country (a name in any language → ISO
  code), street (an address object → route and number in the country's order), locale.
- `{"from": ["deal.won_time", "deal.close_time"]}`: the first that is not empty.
- `{"value": "NL"}`: a constant.

`evaluate` answers the flat deal (`contact.first_name` keys, unflattened by `hundred.deals.flat`),
where each field came from (for messages that say where to fix a value), and the problems;
`needed` answers which objects (and, for HubSpot, which properties) a mapping reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hundred.deals.countries import UnknownCountry, country_code, street_line
from hundred.deals.flat import FlatKeyError, check_key

FORMATS = ("text", "utc", "epoch_ms", "first_word", "other_words", "country", "street", "locale")
SPEC_KEYS = {"from", "format", "default", "map", "value"}
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[(?:primary|\d+)\])*)")
_EMPTY = object()


class MappingError(ValueError):
    """The mapping itself is wrong (an unknown format, a malformed path): say where."""


@dataclass(frozen=True)
class Problem:
    """A deal field the objects could not fill: `source` is the path it was read from (None when
    the mapping gives none), `obj` the fetched object it points into."""

    field: str
    message: str
    source: str | None = None
    obj: str | None = None


@dataclass
class Mapped:
    flat: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # deal field → where its value came from
    objects: dict[str, str] = field(default_factory=dict)  # deal field → the fetched object it was read from
    problems: list[Problem] = field(default_factory=list)


def parse_path(path: str) -> list[str | int]:
    """ "person.emails[primary].value" → ["person", "emails", "[primary]", "value"]; ints for [N]."""
    if not isinstance(path, str) or not path.strip():
        raise MappingError(f"{path!r} is not a path like person.first_name")
    parts: list[str | int] = []
    for segment in path.strip().split("."):
        match = _SEGMENT.fullmatch(segment)
        if not match:
            raise MappingError(f"{path!r}: cannot read the part {segment!r} (write name, name[primary] or name[0])")
        parts.append(match.group(1))
        for pick in re.findall(r"\[(primary|\d+)\]", match.group(2)):
            parts.append("[primary]" if pick == "primary" else int(pick))
    return parts


def read(objects: Mapping[str, Any], path: str) -> Any:
    """The value at `path` in the fetched objects, or `_EMPTY` when any step is missing."""
    data: Any = objects
    for part in parse_path(path):
        if part == "[primary]":
            if not isinstance(data, list) or not data:
                return _EMPTY
            marked = [i for i in data if isinstance(i, dict) and i.get("primary") in (True, "true", 1)]
            data = (marked or data)[0]
        elif isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return _EMPTY
            data = data[part]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return _EMPTY
    if isinstance(data, dict) and "value" in data and ("primary" in data or "label" in data):
        data = data["value"]  # a labelled item (emails, phones) reads as its value
    return data


def _empty(value: Any) -> bool:
    return value is _EMPTY or value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def spec_of(deal_field: str, source: Any) -> dict[str, Any]:
    """A field's source in its long form, checked: {"from": [paths], "format", "default", "map"}."""
    where = f"field {deal_field!r}"
    try:
        check_key(deal_field)
    except FlatKeyError as exc:
        raise MappingError(f"{where}: {exc}") from None
    if isinstance(source, (str, list)):
        source = {"from": source}
    if not isinstance(source, dict):
        raise MappingError(f"{where}: give a path, a list of paths or an object with 'from', not {source!r}")
    if "path" in source:
        raise MappingError(
            f"{where}: 'path' read the webhook's payload in an older mapping; hundred now fetches the deal from the "
            "CRM's API: write 'from' with a fetched object (deal., person., organization., owner., contact., company.)"
        )
    unknown = set(source) - SPEC_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(SPEC_KEYS))}")
    if "value" in source:
        return {"value": source["value"]}
    paths = source.get("from")
    paths = [paths] if isinstance(paths, str) else paths
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise MappingError(f"{where}: 'from' must be a path or a list of paths")
    for p in paths:
        parse_path(p)
    fmt = source.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise MappingError(f"{where}: unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    table = source.get("map")
    if table is not None and not isinstance(table, dict):
        raise MappingError(f"{where}: 'map' must be an object from the CRM's value to hundred's")
    return {"from": paths, "format": fmt, "default": source.get("default", _EMPTY), "map": table}


def check_spec(vendor_spec: Any, vendor: str) -> dict[str, dict[str, Any]]:
    """The vendor's `fields`, each in its long form; MappingError names the first bad one."""
    if not isinstance(vendor_spec, dict) or not isinstance(vendor_spec.get("fields"), dict):
        raise MappingError(f"the CRM mapping has no '{vendor}.fields' object")
    return {name: spec_of(name, source) for name, source in vendor_spec["fields"].items()}


def needed(fields: Mapping[str, dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Each object the mapping reads → the names it reads first in it (HubSpot's properties)."""
    wants: dict[str, set[str]] = {}
    for spec in fields.values():
        for path in spec.get("from") or []:
            parts = parse_path(path)
            names = wants.setdefault(str(parts[0]), set())
            if len(parts) > 1 and isinstance(parts[1], str) and parts[1] != "[primary]":
                names.add(parts[1])
    return {obj: frozenset(names) for obj, names in wants.items()}


def _format(value: Any, fmt: str | None) -> Any:
    if fmt is None:
        return value
    if fmt == "text":
        return value if isinstance(value, str) else str(value)
    if fmt == "epoch_ms":
        if isinstance(value, str) and not value.strip().isdigit():
            return _format(value, "utc")
        return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
    if fmt == "utc":
        text = str(value).strip().replace(" ", "T", 1)
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    if fmt in ("first_word", "other_words"):
        words = str(value).split()
        return " ".join(words[:1] if fmt == "first_word" else words[1:])
    if fmt == "country":
        return country_code(str(value))
    if fmt == "street":
        return _street(value)
    if fmt == "locale":
        language, _, region = str(value).strip().replace("_", "-").partition("-")
        return f"{language.lower()}_{region.upper()}" if region else language.lower()
    raise MappingError(f"unknown format {fmt!r}")


def _street(value: Any) -> str:
    """An address object (Pipedrive's: route, street_number, subpremise, country, value) → one line."""
    if not isinstance(value, dict):
        return str(value)
    route = value.get("route")
    if not route:  # not recognised by the CRM's geocoder: the first part of what was typed
        typed = str(value.get("value") or value.get("formatted_address") or "").split(",")[0].strip()
        return typed
    try:
        code = country_code(str(value.get("country") or ""))
    except UnknownCountry:  # address.country says so; the street keeps the common order
        code = ""
    return street_line(str(route), _text(value.get("street_number")), code, _text(value.get("subpremise")))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def evaluate(fields: Mapping[str, dict[str, Any]], objects: Mapping[str, Any]) -> Mapped:
    """Fill every mapped deal field from the fetched objects (a missing object reads as empty)."""
    out = Mapped()
    for name, spec in fields.items():
        if "value" in spec:
            out.flat[name] = spec["value"]
            out.sources[name] = "a constant in the mapping"
            continue
        value, used = _EMPTY, spec["from"][0]
        for path in spec["from"]:
            value, used = read(objects, path), path
            if not _empty(value):
                break
        obj = str(parse_path(used)[0])
        out.sources[name], out.objects[name] = used, obj
        if _empty(value):
            if spec["default"] is not _EMPTY:
                out.flat[name] = spec["default"]
                out.sources[name] = f"the mapping's default (as {used} is empty)"
            continue
        if spec["map"] is not None:
            key = str(value).strip()
            if key not in spec["map"]:
                if spec["default"] is _EMPTY:
                    known = ", ".join(repr(k) for k in list(spec["map"])[:10])
                    out.problems.append(
                        Problem(name, f"{used} is {key!r}, which the mapping's 'map' lacks (it has {known})", used, obj)
                    )
                    continue
                value = spec["default"]
            else:
                value = spec["map"][key]
        try:
            out.flat[name] = _format(value, spec["format"])
        except UnknownCountry as exc:
            out.problems.append(Problem(name, f"{used}: {exc}", used, obj))
        except (ValueError, TypeError, OverflowError) as exc:
            out.problems.append(Problem(name, f"{used}: cannot read {value!r} as {spec['format']}: {exc}", used, obj))
    return out
