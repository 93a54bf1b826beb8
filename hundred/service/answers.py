"""What the intake answers its caller (a webhook, the CLI): a status and a JSON body, and the
request headers worth keeping with what was received."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A delivery's HTTP headers: Starlette's as received, or the ones a stored intake row kept.
Headers = Mapping[str, Any]

KEPT_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "idempotency-key",
    "x-request-id",
    "x-hubspot-request-timestamp",
    "x-forwarded-for",
)


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def kept_headers(headers: Headers | None) -> dict[str, str]:
    return {k: str(headers[k])[:300] for k in KEPT_HEADERS if headers is not None and k in headers}
