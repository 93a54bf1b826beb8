"""The CRMs' webhooks: their authentication and where the field mapping is (pure).

HubSpot's v3 request signature (base64 HMAC-SHA256 of method + URI + body + timestamp with the app
secret, the timestamp within five minutes) and Pipedrive's HTTP Basic auth on the webhook.

The mapping (HUNDRED_CRM_MAPPING, a JSON or YAML file; default: hundred/deals/crm_mapping.json, which
documents the format) says, per CRM, which fetched object each deal field comes from, so
connecting a CRM needs no code: `crm_mapping.py` reads it, `crm_events.py` reads the webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from hundred.deals.crm_mapping import MappingError, check_spec

DEFAULT_MAPPING = Path(__file__).with_name("crm_mapping.json")
VENDORS = ("hubspot", "pipedrive")
HUBSPOT_TOLERANCE_MS = 300_000


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

        mapping: dict[str, Any] = yaml.safe_load(text) or {}  # parsed YAML: check_spec checks its shape
        return mapping
    mapping = json.loads(text)
    return mapping


def load_mapping(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or DEFAULT_MAPPING)
    return _load(str(path), path.stat().st_mtime)


def mapping_fields(vendor: str, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The vendor's fields of the configured mapping, checked (`crm_mapping.check_spec`).
    MappingError names the file and what is wrong with it."""
    where = Path(path or DEFAULT_MAPPING)
    try:
        return check_spec(load_mapping(where).get(vendor), vendor)
    except MappingError as exc:
        raise MappingError(f"{where}: {exc}") from None
    except (OSError, ValueError, AttributeError) as exc:
        raise MappingError(f"the CRM mapping {where} cannot be read: {exc}") from None
