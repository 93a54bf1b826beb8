"""What a `deal-closed` run is, in one place: its parameters, name, tags and idempotency key.

Both ways of creating one call this: `flows.scheduling.submit_deal_closed` (Prefect's client) and
the intake (`hundred.service.intake`, over Prefect's REST API). The key is `deal-closed:<id>:<payload
hash>`: the same payload re-sent by the CRM returns the first run (Prefect dedupes keys per flow);
a corrected payload gets a run of its own (the ledger still starts one journey per deal).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class DealClosedRun:
    deal_id: str
    parameters: dict[str, Any]
    idempotency_key: str
    name: str
    tags: list[str]


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def deal_closed_key(payload: dict[str, Any]) -> str:
    return f"deal-closed:{_deal_id(payload)}:{payload_digest(payload)}"


def _deal_id(payload: dict[str, Any]) -> str:
    deal_id = str(payload.get("id") or "").strip()
    if not deal_id:
        raise ValueError("the deal has no 'id'")
    return deal_id


def deal_closed_run(payload: dict[str, Any], received_at: datetime) -> DealClosedRun:
    """The run for `payload`, received at `received_at` (aware)."""
    if received_at.tzinfo is None:
        raise ValueError(f"received_at {received_at.isoformat()} has no time zone")
    deal_id = _deal_id(payload)
    received = received_at.astimezone(UTC)
    return DealClosedRun(
        deal_id,
        {"payload": payload, "received_at": received.isoformat()},
        deal_closed_key(payload),
        f"{deal_id} · deal closed",
        [f"deal:{deal_id}"],
    )
