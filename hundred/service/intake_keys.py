"""The intake's keys: how a stored deal or a dead letter is recognised when it comes again.

The same payload re-sent (a CRM retrying, a CSV imported twice) must land on the same row, so the
key is the payload's digest; kept apart from `intake.py` because the web layer's tests and the
CLI's import read these keys too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def deal_closed_key(payload: dict[str, Any]) -> str:
    """The stored deal's unique key: the same payload re-sent is one row; a corrected payload after
    a refused one is a row of its own (the ledger still starts one journey per deal)."""
    return f"deal-closed:{payload['id']}:{payload_digest(payload)}"


def dead_letter_key(kind: str, raw: Any) -> str:
    """One dead letter per identical refused body of a kind: its key is the body's digest."""
    body = raw if isinstance(raw, bytes) else str(raw if raw is not None else "").encode()
    return f"dead:{kind}:{hashlib.sha256(body).hexdigest()}"


def loose_id(data: dict[str, Any] | None, raw: Any) -> str | None:
    """The deal id of a payload that did not validate, when one can be seen (for listing)."""
    try:
        obj = data if data is not None else json.loads(raw or b"")
        value = obj.get("id") if isinstance(obj, dict) else None
        return str(value)[:200] if isinstance(value, (str, int)) and str(value).strip() else None
    except ValueError:
        return None
