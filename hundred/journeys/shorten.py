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


_QUOTED = re.compile(rf"'([^'\n]{{{LIMIT + 1},}})'")


def clip_quoted(message: str, limit: int = LIMIT) -> str:
    """Each line of a long message with its '…'-quoted runs cut to `limit`, and cut to 4 × `limit` in all."""
    lines = []
    for line in message.split("\n"):
        if len(line) > 2 * limit:
            line = _QUOTED.sub(lambda m: "'" + clip(m[1], limit) + "'", line)
        if len(line) > 4 * limit:
            line = line[: 4 * limit - 1] + "…"
        lines.append(line)
    return "\n".join(lines)
