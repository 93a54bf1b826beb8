"""CRM adapters: a HubSpot or Pipedrive won-deal payload read onto hundred's deal, by configuration.

The mapping (HUNDRED_CRM_MAPPING, a JSON or YAML file; default: hundred/deals/crm_mapping.json, which
documents the format) says, per vendor, which payloads are won deals and where each deal field is
in the payload, so connecting a CRM needs no code. Flat deal keys (`contact.first_name`) become the
nested deal with `hundred.deals.flat.unflatten`, the same rule as `hundred import`.

The vendors' own authentication lives here too: HubSpot's v3 request signature (base64 HMAC-SHA256
of method + URI + body + timestamp with the app secret, the timestamp within five minutes) and
Pipedrive's HTTP Basic auth on the webhook. Pure: no web framework, no database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from hundred.deals.flat import unflatten

DEFAULT_MAPPING = Path(__file__).with_name("crm_mapping.json")
VENDORS = ("hubspot", "pipedrive")
HUBSPOT_TOLERANCE_MS = 300_000
_MISSING = object()


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    raw = method.upper().encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def hubspot_valid(
    secret: str | None,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now_ms: float | None = None,
) -> bool:
    """X-HubSpot-Signature-v3 matches and X-HubSpot-Request-Timestamp is within five minutes."""
    if not secret or not signature or not timestamp or not timestamp.isdigit():
        return False
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    if abs(now_ms - int(timestamp)) > HUBSPOT_TOLERANCE_MS:
        return False
    return hmac.compare_digest(hubspot_signature(secret, method, uri, body, timestamp), signature)


def basic_auth_valid(expected: str | None, authorization: str | None) -> bool:
    """`Authorization: Basic base64(user:password)` equals the configured "user:password"."""
    if not expected or not authorization or not authorization.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(authorization[6:].strip(), validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(given, expected.encode())


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml  # lazy: YAML mappings are rare; JSON is the default

        return yaml.safe_load(text) or {}
    return json.loads(text)


def load_mapping(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or DEFAULT_MAPPING)
    return _load(str(path), path.stat().st_mtime)


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _format(value: Any, fmt: str | None, field: str) -> Any:
    if value is None or fmt is None:
        return value
    if fmt == "text":
        return str(value)
    if fmt == "epoch_ms":
        if isinstance(value, str) and not value.strip().isdigit():
            return value  # already an ISO time: the deal model checks it
        return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
    if fmt == "utc":
        text = str(value).strip().replace(" ", "T", 1)
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    if fmt in ("first_word", "other_words"):
        words = str(value).split()
        return " ".join(words[:1] if fmt == "first_word" else words[1:])
    raise ValueError(f"{field}: unknown format {fmt!r}")


def map_deal(vendor: str, payload: Any, mapping: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(deal, None) for a won deal; (None, None) for a payload that is not one (ignored);
    (None, problem) when the payload cannot be read."""
    spec = mapping.get(vendor)
    if not isinstance(spec, dict):
        return None, f"the CRM mapping has no '{vendor}' section"
    if not isinstance(payload, dict):
        return None, f"a {vendor} payload is a JSON object, got {type(payload).__name__}"
    won = spec.get("won") or {}
    if won and _get(payload, won["path"]) not in won.get("in", []):
        return None, None
    flat: dict[str, Any] = {}
    for key, source in (spec.get("fields") or {}).items():
        if isinstance(source, str):
            source = {"path": source}
        value = source["value"] if "value" in source else _get(payload, source["path"])
        if value is _MISSING or value is None or value == "":
            if "default" not in source:
                continue
            value = source["default"]
        try:
            flat[key] = _format(value, source.get("format"), key)
        except (ValueError, TypeError, OverflowError) as exc:
            return None, f"{key} (from {source.get('path')}): cannot read {value!r}: {exc}"
    return unflatten(flat), None


def map_payload(vendor: str, raw: bytes | str, settings: Any) -> tuple[dict[str, Any] | None, str | None]:
    """`map_deal` on a raw body with the configured mapping."""
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        return None, f"is not JSON: {exc}"
    try:
        mapping = load_mapping(getattr(settings, "crm_mapping", None))
    except (OSError, ValueError) as exc:
        return None, f"the CRM mapping {getattr(settings, 'crm_mapping', None)} cannot be read: {exc}"
    return map_deal(vendor, payload, mapping)
