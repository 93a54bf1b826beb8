"""The one identity of a touch in flight, and every string form of it.

A touch of one customer's journey is named by (deal, journey, version, touch). Its idempotency
key, an email's Message-ID, an invite's UID and a letter's reference line are all derived here
(its task's name in the Prefect UI, `<deal> · <touch>`, is flows/journey.py's), so two parts of
hundred can never disagree about which touch they mean (a retried run that built its Message-ID
differently would send twice).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _token(value: str) -> str:
    """`D-1042` stays as is; anything outside [A-Za-z0-9._-] becomes a hash-suffixed safe token,
    so a deal id from a CRM can never add a header, a path separator or an @ to a Message-ID."""
    safe = _UNSAFE.sub("-", value).strip("-.") or "x"
    if safe != value:
        safe = f"{safe[:40]}-{hashlib.blake2b(value.encode(), digest_size=4).hexdigest()}"
    return safe[:80]


SHARDS = 1024


def shard_key(deal_id: str) -> int:
    """A deal's place among the shards of a big moment: the runs of one moment share its touches
    by deal, so one deal's touches stay together (stable: crc32, not Python's salted hash)."""
    return zlib.crc32(deal_id.encode("utf-8")) % SHARDS


@dataclass(frozen=True, order=True)
class TouchKey:
    """Which touch of which customer's journey: the identity every channel and scheduler uses."""

    deal: str
    journey: str
    version: str
    touch: str

    @property
    def idempotency_key(self) -> str:
        """Prefect's key for the touch's flow run: one run per deal, journey and touch, whatever
        the version, so a re-sent deal-closed after a journey edit still schedules nothing twice."""
        return f"{self.deal}/{self.journey}/{self.touch}"

    def delivery_key(self, channel: str) -> str:
        """The delivery log's key for this touch on `channel`: `<idempotency_key>#<channel>`."""
        return f"{self.idempotency_key}#{channel}"

    def message_id(self, domain: str = "hundred.invalid") -> str:
        """A deterministic Message-ID: a retried send carries the same one, so the receiving
        server (and a person reading headers) can tell a duplicate from a second message."""
        return f"<{_token(self.deal)}.{_token(self.journey)}.{_token(self.touch)}@{_token(domain)}>"

    @property
    def ics_uid(self) -> str:
        return f"{_token(self.deal)}/{_token(self.journey)}/{_token(self.touch)}@hundred"

    @property
    def reference(self) -> str:
        """The letter's reference line and the print queue's letter id."""
        return f"{self.deal}/{self.touch}"

    @property
    def seed(self) -> str:
        """The handwriting seed: a reprint is byte-identical, and no two letters look alike."""
        return self.reference

    def __str__(self) -> str:
        return self.idempotency_key
