"""One touch + one deal → what the customer (or owner, or CRM) receives, as values.

`preview` writes these to files; the channels deliver them; the print queue stores a letter's
rendering inputs. Nothing here writes a file or talks to a server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .identity import TouchKey


@dataclass(frozen=True)
class EmailContent:
    key: TouchKey
    to: str                  # the contact's address (validated, single line)
    to_name: str
    subject: str             # single line: control characters refused before it gets here
    text: str                # the plain-text part (the .txt twin, or derived from the HTML)
    html: str | None         # the HTML part, a whole document; None for a text-only email
    sender_name: str
    reply_to: str | None     # the owner's address


@dataclass(frozen=True)
class TaskContent:
    key: TouchKey
    to: str | None           # the owner's address; None when the deal has none
    to_name: str
    title: str
    brief: str               # Markdown
    ics: bytes               # a VCALENDAR with one VEVENT (UID = key.ics_uid)
    due: datetime
    confirm: bool            # True: the owner marks it done; False: complete once sent


@dataclass(frozen=True)
class WebhookContent:
    key: TouchKey
    url: str
    body: str                # JSON text
    secret_env: str | None


@dataclass(frozen=True)
class LetterContent:
    key: TouchKey
    letter: Any              # hundred.letters.Letter
    style: Any               # hundred.letters.LetterStyle
    print_by: Any            # datetime.date | None


Rendered = EmailContent | TaskContent | WebhookContent | LetterContent
