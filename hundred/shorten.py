"""Cut long values before they go into a message: an error quoting a 1 MB key is no help."""

from __future__ import annotations

import re

LIMIT = 80


def clip(value: object, limit: int = LIMIT) -> str:
    """`str(value)`, cut to `limit` characters with '…'; line breaks shown as ⏎ so a message stays one line."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\r", "⏎").replace("\n", "⏎")


_QUOTED = re.compile(r"'([^'\n]{%d,})'" % (LIMIT + 1))


def clip_quoted(message: str, limit: int = LIMIT) -> str:
    """Every '…'-quoted run in a message cut to `limit`; the message cut to 4 × `limit` in all."""
    message = _QUOTED.sub(lambda m: "'" + clip(m[1], limit) + "'", message)
    return clip(message, 4 * limit) if len(message) > 4 * limit else message
