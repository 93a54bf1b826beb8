"""hundred's webhook signature, in one place: `X-Hundred-Signature: t=<unix seconds>,v1=<hex>`.

v1 is the hex HMAC-SHA256 of "<t>.<raw body>" with the shared secret. hundred signs its own
outgoing webhooks with it (hundred/adapters/channels/webhook.py) and checks the CRM's incoming ones with it
(hundred/web/hooks.py). Several secrets may be valid at once while one is rotated: the setting is
a comma-separated list, and a signature made with any of them passes. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "X-Hundred-Signature"
TOLERANCE_SECONDS = 300  # older (or further in the future) than five minutes: refused


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The `X-Hundred-Signature` value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def secrets_of(setting: str | Iterable[str] | None) -> list[str]:
    """The secrets in a setting: "new,old" (rotation) → ["new", "old"]; blanks dropped."""
    if setting is None:
        return []
    parts = setting.split(",") if isinstance(setting, str) else list(setting)
    return [p.strip() for p in parts if p and p.strip()]


def verify_signature(
    header: str | None,
    body: bytes,
    secret: str | Iterable[str] | None,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """The header's v1 matches `body` with one of the secrets, and its t is within `tolerance`
    seconds of now (either way)."""
    if not header:
        return False
    try:
        fields = dict(part.strip().split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    given = f"t={timestamp},v1={fields.get('v1', '')}"
    ok = False
    for key in secrets_of(secret):  # every secret is tried: the time taken does not say which matched
        ok |= hmac.compare_digest(sign(body, key, timestamp), given)
    return ok
