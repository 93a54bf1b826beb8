"""Country names as CRMs write them → ISO 3166 alpha-2 codes, and the street line as a country
writes it (pure).

Pipedrive gives an organisation's country as a name ("Netherlands", or "Nederland" when the user
typed it in Dutch), HubSpot's `country` property is free text. hundred's deal wants the code
(`address.country: NL`), so a name in any common language is looked up in babel's territory names
across all its languages (CLDR: "Nederland", "Niederlande", "Pays-Bas", "Países Bajos", "オランダ"
all say NL), plus ISO alpha-3 codes ("NLD") and the few everyday names CLDR does not carry
("Holland", "Great Britain", "USA"). A name two languages give to different countries is not
guessed: `country_code` names the candidates instead.

English names are looked up first; the index of every language is built once per process when a
name is not English (about a second: every language's list), never by `hundred validate`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from hundred.deals.codes import countries

# Everyday names that CLDR's territory lists do not carry, in the languages CRMs are used in.
ALIASES = {
    "holland": "NL",
    "the netherlands": "NL",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "uk": "GB",
    "u k": "GB",
    "united states of america": "US",
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "america": "US",
    "deutschland brd": "DE",
    "brd": "DE",
    "czech republic": "CZ",
    "tschechische republik": "CZ",
    "republique tcheque": "CZ",
    "turkey": "TR",
}
# Countries where the house number comes before the street ("12 Main Street"); elsewhere it
# follows the street ("Dorpsstraat 12", "Hauptstraße 5", "Via Roma 1").
NUMBER_FIRST = frozenset(
    {"US", "CA", "GB", "IE", "FR", "LU", "MC", "AU", "NZ", "ZA", "IN", "SG", "MY", "PH", "HK", "IL", "SA", "AE", "TH"}
)


class UnknownCountry(ValueError):
    """A country name hundred cannot map to one ISO code; the message names it."""


def _key(text: str) -> str:
    """Case, punctuation and spacing folded; letters (and their marks) kept."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[\s.,'’\"()\-/]+", " ", text).split())


def _folded(key: str) -> str:
    """`_key` without accents on Latin letters ("osterreich" finds "Österreich")."""
    base = "".join(ch for ch in unicodedata.normalize("NFKD", key) if not unicodedata.combining(ch))
    return base if base.isascii() else key


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    """English names and the everyday aliases: most CRM country names, found without building
    the index of every language (they win there too, so the answer is the same)."""
    names = {_key(name): code for code, name in countries().items()}
    return {**{k: v for k, v in ALIASES.items() if k not in names}, **names}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, str], dict[str, frozenset[str]], dict[str, str]]:
    """(name → code, ambiguous name → codes, alpha-3 → alpha-2) over babel's territory names in
    every language, English first. Accent-folded keys are added where they stay unambiguous."""
    from babel import Locale, localedata  # lazy: building the index reads every language's data (~1 s)
    from babel.core import get_global

    valid = set(countries())
    found: dict[str, set[str]] = {}
    english: dict[str, str] = {}
    languages = ["en"] + sorted(i for i in localedata.locale_identifiers() if "_" not in i and i != "en")
    for language in languages:
        try:
            names = Locale.parse(language).territories
        except (ValueError, LookupError):
            continue
        for code, name in names.items():
            if code not in valid:
                continue
            key = _key(name)
            if key:
                found.setdefault(key, set()).add(code)
                if language == "en":
                    english.setdefault(key, code)
    for key, code in ALIASES.items():
        found.setdefault(key, set()).add(code)
        english.setdefault(key, code)
    alpha3 = {
        alias: targets[0]
        for alias, targets in get_global("territory_aliases").items()
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in valid
    }
    index: dict[str, str] = {}
    ambiguous: dict[str, frozenset[str]] = {}
    for key, codes in found.items():
        if key in english:
            index[key] = english[key]  # English names win ("Georgia" is GE, whatever a language says)
        elif len(codes) == 1:
            index[key] = next(iter(codes))
        else:
            ambiguous[key] = frozenset(codes)
    folded: dict[str, set[str]] = {}
    for key, code in index.items():
        folded.setdefault(_folded(key), set()).add(code)
    for key, codes in folded.items():
        if key not in index and key not in ambiguous and len(codes) == 1:
            index[key] = next(iter(codes))
    return index, ambiguous, alpha3


def country_code(name: str) -> str:
    """ "Netherlands", "Nederland", "Pays-Bas", "NLD", "nl" → "NL". Raises UnknownCountry naming
    the name (and the candidates when it is ambiguous)."""
    text = (name or "").strip()
    if not text:
        raise UnknownCountry("the country is empty")
    if len(text) == 2 and text.isascii() and text.isalpha() and text.upper() in countries():
        return text.upper()
    key = _key(text)
    for candidate in (key, key.removeprefix("the ")):
        if candidate in _english():
            return _english()[candidate]
    index, ambiguous, alpha3 = _index()
    if len(text) == 3 and text.isascii() and text.upper() in alpha3:
        return alpha3[text.upper()]
    for candidate in (key, key.removeprefix("the "), _folded(key)):
        if candidate in index:
            return index[candidate]
    if key in ambiguous:
        codes = ", ".join(sorted(ambiguous[key]))
        raise UnknownCountry(f"the country name {text!r} could mean {codes}; write the ISO code instead")
    raise UnknownCountry(
        f"{text!r} is not a country name hundred knows; write it as a country name or an ISO code (NL)"
    )


def street_line(route: str | None, number: str | None, country: str, extra: str | None = None) -> str:
    """Route and house number in the country's order: NL/DE "Dorpsstraat 12", US/GB/FR "12 Main
    Street"; `extra` (an apartment or unit: Pipedrive's subpremise) follows the number."""
    route, number, extra = (route or "").strip(), (number or "").strip(), (extra or "").strip()
    if not number:
        return " ".join(p for p in (route, extra) if p)
    if country.upper() in NUMBER_FIRST:
        line = f"{number} {route}".strip()
        return f"{line}, {extra}" if extra else line
    return " ".join(p for p in (route, number, extra) if p)
