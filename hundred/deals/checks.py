"""The rules a deal payload must meet before anything is planned or sent from it (pure).

A deal arrives from a CRM and ends up in letters, email headers, `.ics` files, Prefect idempotency
keys and file names. Everything here refuses, with the field's path, what could break one of those:
control characters (a `\\r\\n` in a name would add a header line), blank names ("Beste ,"), values
too long to print, unknown codes, absurd amounts and dates, and JSON that costs more than it says.
`model.py` applies these rules in its models, with the ISO codes (`codes.py`) and the rules for
CRM custom fields (`free_form.py`); `reading.py` reads raw payloads.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic_core import ErrorDetails

# ---- limits ------------------------------------------------------------------------------------

MAX_PAYLOAD_BYTES = 256 * 1024  # a whole deal, checked before parsing
MAX_JSON_DEPTH = 32  # nesting of the whole JSON document, checked before parsing
MAX_INT_DIGITS = 4000  # below Python's own 4300-digit conversion limit
NAME_MAX = 100  # first/last name, owner name and title, city, state
COMPANY_MAX = 200
STREET_MAX = 200
PRODUCT_MAX = 200
EMAIL_MAX = 254  # RFC 5321 path limit
PHONE_MAX = 50
POSTCODE_MAX = 20
SEGMENT_MAX = 50
JOURNEY_MAX = 64
FIELD_TEXT_MAX = 1000  # any string in `fields` (or an unknown top-level key)
FIELD_KEY_MAX = 100
FIELD_KEYS_MAX = 100  # keys of one object / items of one list in `fields`
FIELD_DEPTH_MAX = 5  # `fields.a.b.c.d.e` is as deep as it goes
FIELD_VALUES_MAX = 2000  # every value in `fields` and unknown keys together
AMOUNT_MAX = Decimal(10) ** 12
PAST_LIMIT = timedelta(days=5 * 365 + 1)  # closed_at at most 5 years before now
FUTURE_LIMIT = timedelta(days=1)  # and at most a day after now (clock skew, time zones)
OFFSET_MAX = timedelta(hours=14)  # the widest real UTC offset (Kiribati)

ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
JOURNEY_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
POSTCODE_RE = re.compile(r"[A-Za-z0-9 -]*")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")

# Zero-width (non-)joiners are part of how Persian, Indic and emoji text is written; every other
# format character (bidi overrides, zero-width space, BOM, soft hyphen) is invisible and refused.
_ALLOWED_FORMAT = {"\u200c", "\u200d"}
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible format character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
_NAMED = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}


class DealProblem(NamedTuple):
    """One thing wrong with a deal: `path` is the field (`contact.first_name`, `fields.tags[2]`;
    "" for the payload as a whole); `line`/`column` are set for JSON syntax and encoding errors."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def format(self, source: str) -> str:
        if self.line is not None:
            return f"{source}:{self.line}:{self.column or 1}: {self.message}"
        return f"{source}: {self.path}: {self.message}" if self.path else f"{source}: {self.message}"


def path_of(loc: tuple[Any, ...] | list[Any]) -> str:
    """("fields", "tags", 2) → "fields.tags[2]"; a key that is not plain one-line text is quoted."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        part = str(part)
        if bad_character(part) or len(part) > 40 or not part.strip():
            part = show(part, 24)
        out += f".{part}" if out else part
    return out


def show(value: Any, limit: int = 40) -> str:
    """A value quoted for a message: one line (repr escapes control characters), cut when long."""
    if isinstance(value, (dict, list, bool)) or value is None:
        return json_type(value)
    plain = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    text = str(value) if plain else repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 2] + "…" + ("'" if isinstance(value, str) else "")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---- text --------------------------------------------------------------------------------------


_TEXT_BREAKS = frozenset("\n\r\t")


def bad_character(text: str, multiline: bool = False) -> str | None:
    """Why `text` cannot be one line of a letter or a header value, or None when it can.
    `multiline`: line breaks and tabs are fine (a CRM note in `fields`), the rest is not."""
    for i, ch in enumerate(text):
        if ch.isprintable() and ch != "\ufffd":
            continue  # fast path: printable covers letters, marks, symbols and the space
        if multiline and ch in _TEXT_BREAKS:
            continue
        cat = unicodedata.category(ch)
        if ch == "\ufffd":
            what = "the replacement character (the text was mis-decoded somewhere before the CRM)"
        elif ch in _NAMED:
            what = _NAMED[ch]
        elif cat in _REFUSED_CATEGORIES and ch not in _ALLOWED_FORMAT:
            what = _REFUSED_CATEGORIES[cat]
        elif cat == "Cn" and (0xFDD0 <= ord(ch) <= 0xFDEF or (ord(ch) & 0xFFFE) == 0xFFFE):
            what = "a Unicode noncharacter"
        else:
            continue  # other spaces (no-break, ideographic) and characters newer than this Python
        name = unicodedata.name(ch, "")
        label = f"U+{ord(ch):04X}" + (f" {name}" if name and ch not in _NAMED else "")
        if multiline:
            return f"contains {what} ({label}) at character {i + 1}; it must be plain text"
        return f"contains {what} ({label}) at character {i + 1}; it must be one line of plain text"
    return None


def clean_line(value: str, max_len: int, *, required: bool = False, letters: bool = False) -> str:
    """A single-line field: no control characters (checked before stripping, so a leading
    `\\r\\n` cannot be stripped away unnoticed), stripped, NFC-normalised, within `max_len`."""
    why = bad_character(value)
    if why:
        raise ValueError(why)
    value = unicodedata.normalize("NFC", value.strip())
    if required and not value:
        raise ValueError("is blank")
    if letters and value and not any(ch.isalnum() for ch in value):
        raise ValueError(f"{show(value)} has no letters or digits")
    if len(value) > max_len:
        raise ValueError(f"is {len(value)} characters long; at most {max_len} allowed")
    return value


def check_id(value: str) -> str:
    if not ID_RE.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not a usable deal id: use 1 to 64 letters, digits, '.', '_', "
            "':' or '-', starting with a letter or digit (it becomes part of keys, file names "
            "and URLs)"
        )
    return value


def check_journey(value: str) -> str:
    if not JOURNEY_RE.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not a journey id (lowercase letters, digits and hyphens, like first-100-days)"
        )
    return value


def ascii_domain(domain: str) -> str:
    """An email or web domain as DNS and SMTP carry it: `bäckerei.de` → `xn--bckerei-5wa.de`
    (IDNA 2008 with UTS 46 mapping); ValueError when it is not a valid international name."""
    if domain.isascii():
        return domain
    import idna  # lazy: only a non-ASCII domain needs the IDNA tables

    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValueError(f"{show(domain)} is not a valid international domain name ({exc})") from None


def check_email(value: str) -> str:
    """A bare address. The domain may be international (`jan@bäckerei.de`: sent in its xn-- form);
    the part before '@' may hold non-ASCII letters (sent with SMTPUTF8 where the server offers it)."""
    if "<" in value or ">" in value or " " in value or '"' in value:
        raise ValueError(f"{show(value)} must be a bare address like ilse@example.nl, without a name, quotes or spaces")
    if value.count("@") != 1:
        raise ValueError(f"{show(value)} must contain exactly one '@'")
    local, domain = value.split("@")
    if "." not in domain:
        raise ValueError(f"{show(value)}: the domain {show(domain)} has no dot")
    if len(local.encode()) > 64 or not _LOCAL_RE.fullmatch(local if local.isascii() else _ascii_stand_in(local)):
        raise ValueError(f"{show(value)} is not a valid email address (the part before '@')")
    try:
        ascii_form = ascii_domain(domain)
    except ValueError as exc:
        raise ValueError(f"{show(value)}: the domain {exc}") from None
    if not _DOMAIN_RE.fullmatch(ascii_form):
        raise ValueError(f"{show(value)} is not a valid email address (the domain {show(domain)})")
    return value


def _ascii_stand_in(local: str) -> str:
    """RFC 6531: a non-ASCII letter, mark or digit may stand wherever an ASCII one may."""
    return "".join(ch if ch.isascii() else ("a" if unicodedata.category(ch)[0] in "LMN" else " ") for ch in local)


def check_postcode(value: str) -> str:
    if not POSTCODE_RE.fullmatch(value):
        raise ValueError(f"{show(value)} may hold only letters, digits, spaces and hyphens")
    return value


def check_locale(value: str) -> str:
    from babel import Locale  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it

    try:
        return str(Locale.parse(value.replace("-", "_")))
    except Exception:
        raise ValueError(f"unknown locale {show(value)} (use a language tag such as nl_NL or en_US)") from None


# ---- amounts and dates -------------------------------------------------------------------------


def check_amount(value: Decimal, currency: str | None) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value < 0:
        raise ValueError(f"{value} is negative")
    if value == 0:
        value = abs(value)  # -0 → 0
    if value > AMOUNT_MAX:
        raise ValueError(f"{show(value)} is more than {AMOUNT_MAX:,}; check the amount")
    if currency:
        from babel.numbers import (
            get_currency_precision,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
        )

        digits = get_currency_precision(currency)
        if (value * 10**digits) % 1:
            unit = "no minor unit" if digits == 0 else f"{digits} decimal{'s' if digits > 1 else ''}"
            raise ValueError(f"{value} has more decimals than {currency} has ({unit})")
    return value


def check_closed_at(value: datetime, now: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset; write it like 2026-11-20T14:03:00+01:00")
    if abs(offset) > OFFSET_MAX:
        raise ValueError(f"has UTC offset {offset}; real offsets lie between -12:00 and +14:00")
    if value.year < 1900 or value - now < -PAST_LIMIT:
        raise ValueError(f"{value.isoformat()} is more than 5 years before now ({now:%Y-%m-%d}); check the date")
    if value.year > 9000 or value - now > FUTURE_LIMIT:
        raise ValueError(
            f"{value.isoformat()} is in the future (now is {now:%Y-%m-%d %H:%M} UTC); a deal's close date cannot be"
        )
    return value


class HugeInt(float):
    """An integer literal too long to convert: kept as infinity, so no check mistakes it for a value."""


# ---- pydantic's messages, said plainly ----------------------------------------------------------

_EXAMPLE_TIME = "2026-11-20T14:03:00+01:00"


def plain_message(err: ErrorDetails, extra_keys: list[str], known: list[str]) -> str:
    """One pydantic error dict → a message a CRM admin can act on."""
    kind, value = err["type"], err.get("input")
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "missing":
        close = difflib.get_close_matches(str(err["loc"][-1]), extra_keys, n=1)
        return "is missing" + (f" (found {close[0]!r}: a misspelling?)" if close else "")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1)
        return "unknown key" + (f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})")
    if kind in ("string_type", "str_type"):
        return f"must be text, got {json_type(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be an object {{...}}, got {json_type(value)}"
    if kind.startswith("datetime") or kind.startswith("date_"):
        return f"{show(value)} is not a date and time like {_EXAMPLE_TIME}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind.startswith("decimal"):
        return f"{show(value)} is not an amount like 12500.00"
    return msg
