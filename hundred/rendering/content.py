"""What one rendered touch is, as values: the four channels' content, and the one-line rule for
anything that reaches a header. Shared by rendering (which makes them), the messages that carry
them and the channels that deliver them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hundred.planning.identity import TouchKey


@dataclass(frozen=True)
class EmailContent:
    key: TouchKey
    to: str  # the contact's address; "" when the deal has none (cannot be sent)
    to_name: str
    subject: str  # one line: the deal model refuses control characters
    text: str  # the plain-text part (the .txt twin, or derived from the HTML)
    html: str  # the HTML part, a whole document
    sender_name: str
    reply_to: str | None  # the owner's address


@dataclass(frozen=True)
class TaskContent:
    key: TouchKey
    to: str | None  # the owner's address; None when the deal has none
    to_name: str
    title: str
    brief: str  # Markdown, without the title
    ics: bytes  # a VCALENDAR with one VEVENT (UID = key.ics_uid)
    due: datetime
    confirm: bool  # True: the owner marks it done; False: complete once sent


@dataclass(frozen=True)
class WebhookContent:
    key: TouchKey
    url: str
    body: str  # JSON text
    secret_env: str | None


@dataclass(frozen=True)
class LetterContent:
    key: TouchKey
    letter: Any  # hundred.rendering.handwriting.Letter
    style: Any  # hundred.rendering.handwriting.LetterStyle
    print_by: date | None


Rendered = EmailContent | TaskContent | WebhookContent | LetterContent


class CannotRender(ValueError):
    """The deal lacks what this touch needs (a letter without a postal address)."""


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def single_line(value: str, what: str) -> str:
    """`value` unchanged, or a ValueError naming `what` when it holds a line break or control
    character (which could otherwise end a header and start a forged one)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {type(value).__name__}")
    if _CONTROL.search(value):
        raise ValueError(f"{what} contains a line break or control character: {value!r}")
    return value
