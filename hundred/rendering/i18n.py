"""The words around a journey (timeline, preview index, simulate) in the journey's own language.

A Dutch marketer reading a Dutch journey should not switch language at the edge of it. The UI
strings live in gettext catalogs (`hundred/rendering/locales/<lang>/LC_MESSAGES/<domain>.po`, the format
translators and their tools know), read with babel at run time (no compile step to forget);
the English text is the message id itself, so English needs no catalog and is the fallback for
every locale without one. Dates, weekdays, months and numbers come from babel's CLDR data for
the full locale ("nl_NL", "en_GB"), so they are right even where no catalog exists.

`--json` output never goes through here: it is a contract for programs, not people.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "en_GB"


def parse_locale(name: str | None) -> Locale:
    """ "nl_NL", "nl-NL", "nl" → a babel Locale; anything unknown → English (never an error:
    the validator already checks a journey's locale, and the UI must still render)."""
    for candidate in (name, DEFAULT_LOCALE):
        if not candidate:
            continue
        try:
            return Locale.parse(str(candidate).replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
    return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def _catalog(
    language: str, domain: str
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], Callable[[int], int] | None]:
    """(singulars, plurals, plural rule) of one language's catalog; empty when there is none."""
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return {}, {}, None
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=domain)
    singular: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (tuple, list)):
            forms = tuple(message.string) if isinstance(message.string, (tuple, list)) else ()
            if forms and all(forms):
                plural[message.id[0]] = forms
        elif isinstance(message.string, str) and message.string:
            singular[message.id] = message.string
    return singular, plural, gettext.c2py(catalog.plural_expr) if plural else None


_DateTime = datetime  # inside Words, `datetime` names its method


@lru_cache(maxsize=4096)
def _number(value: int | float, is_float: bool, locale: Locale) -> str:
    """A number in the locale's digits and separators, each formatted once per process: a page of
    figures shows the same few hundred numbers many times, and babel takes tens of microseconds
    for each (`is_float` keeps 1 and 1.0 apart)."""
    return format_decimal(value, locale=locale)


@dataclass(frozen=True)
class Words:
    """One locale's words for one domain: `words("Printing takes {days} days", days=3)`."""

    locale: Locale
    domain: str
    _singular: dict[str, str] = field(repr=False, default_factory=dict)
    _plural: dict[str, tuple[str, ...]] = field(repr=False, default_factory=dict)
    _plural_index: Callable[[int], int] | None = field(repr=False, default=None)

    @property
    def lang(self) -> str:
        """For `<html lang=…>`: "nl", "en"."""
        return self.locale.language

    def __call__(self, text: str, /, **values: Any) -> str:
        return self._singular.get(text, text).format(**values) if values else self._singular.get(text, text)

    def plural(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """The form for `n` ("1 letter" / "3 letters"); `{n}` and `values` are filled in."""
        forms = self._plural.get(singular)
        if forms and self._plural_index is not None:
            text = forms[min(int(self._plural_index(n)), len(forms) - 1)]
        else:
            text = singular if n == 1 else plural
        return text.format(n=self.number(n), **values)

    def number(self, value: int | float) -> str:
        return _number(value, isinstance(value, float), self.locale)

    def date(self, value: date | datetime, format: str = "medium") -> str:
        """ "20 nov. 2026" / "20 Nov 2026"; format may be a CLDR name or a pattern ("EEE d MMM")."""
        return format_date(value, format=format, locale=self.locale)

    def datetime(self, value: _DateTime, format: str = "medium", tzinfo: Any = None) -> str:
        return format_datetime(value, format=format, tzinfo=tzinfo, locale=self.locale)

    def time(self, value: _DateTime, format: str = "short", tzinfo: Any = None) -> str:
        return format_time(value, format=format, tzinfo=tzinfo, locale=self.locale)


def words(locale: str | None, domain: str) -> Words:
    """The words for `domain` ("timeline", "preview", "simulate") in `locale` (a journey's
    `locale:` or a `--lang` value); English where the language has no catalog or no entry."""
    parsed = parse_locale(locale)
    singular, plural, index = _catalog(parsed.language, domain)
    return Words(parsed, domain, singular, plural, index)
