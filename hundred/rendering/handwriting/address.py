"""Postal address formats: which lines, in which order, per destination country (pure).

Table-driven and deliberately small: the order of name and company, how the postcode and town
are written (NL ``1234 AB  PLAATS``, DE ``10115 Berlin``, US ``ANYTOWN NY 12345``, GB town and
postcode on their own lines), whether the town is in capitals, and for mail abroad the country
name in capitals on the last line, in the sender's language (UPU practice, names from babel).
"""

from __future__ import annotations

from dataclasses import dataclass

from hundred.deals.postal import normalise_postcode
from hundred.rendering.handwriting.model import PostalAddress


@dataclass(frozen=True)
class PostalFormat:
    """How one country writes the last lines of an address."""

    locality: tuple[tuple[str, ...], ...]  # per line: field, separator, field, ...
    company_first: bool = True  # business mail: company above the person (continental Europe)
    city_upper: bool = False  # town in capitals for domestic mail
    all_upper: bool = False  # whole block in capitals (USPS Publication 28)


_POSTCODE_CITY = PostalFormat((("postcode", " ", "city"),))
FORMATS: dict[str, PostalFormat] = {
    "NL": PostalFormat((("postcode", "  ", "city"),), city_upper=True),
    "BE": _POSTCODE_CITY,
    "DE": _POSTCODE_CITY,
    "AT": _POSTCODE_CITY,
    "CH": _POSTCODE_CITY,
    "LU": PostalFormat((("postcode", " ", "city"),), city_upper=True),
    "FR": PostalFormat((("postcode", " ", "city"),), city_upper=True),
    "PL": _POSTCODE_CITY,
    "CZ": _POSTCODE_CITY,
    "SK": _POSTCODE_CITY,
    "HU": _POSTCODE_CITY,
    "DK": _POSTCODE_CITY,
    "NO": _POSTCODE_CITY,
    "SE": PostalFormat((("postcode", " ", "city"),), city_upper=True),
    "FI": _POSTCODE_CITY,
    "ES": PostalFormat((("postcode", " ", "city"),)),
    "PT": _POSTCODE_CITY,
    "IT": PostalFormat((("postcode", " ", "city", " ", "state"),), city_upper=True),
    "GB": PostalFormat((("city",), ("postcode",)), company_first=False, city_upper=True),
    "IE": PostalFormat((("city",), ("postcode",)), company_first=False, city_upper=True),
    "US": PostalFormat((("city", " ", "state", " ", "postcode"),), company_first=False, all_upper=True),
    "CA": PostalFormat((("city", " ", "state", "  ", "postcode"),), company_first=False, all_upper=True),
    "AU": PostalFormat((("city", " ", "state", " ", "postcode"),), company_first=False, all_upper=True),
}


def country_name(country: str, sender_country: str) -> str | None:
    """Country line for mail abroad, in the sender country's language (UPU practice), from babel's
    territory names; English when babel has no name in that language; None if unknown."""
    from babel import Locale  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
    from babel.languages import (
        get_official_languages,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
    )

    languages = get_official_languages(sender_country.upper(), de_facto=True) or ("en",)
    for language in (languages[0], "en"):
        try:
            name: str | None = Locale.parse(language).territories.get(country.upper())
        except (ValueError, LookupError):
            name = None
        if name:
            return name.upper()
    return None


def _fill(template: tuple[str, ...], values: dict[str, str]) -> str:
    """Join the template's non-empty fields, each with the separator written before it."""
    out = ""
    for i in range(0, len(template), 2):
        value = values[template[i]]
        if value:
            out += (template[i - 1] if out else "") + value
    return out


def address_lines(addr: PostalAddress, sender_country: str, problems: list[str] | None = None) -> list[str]:
    """The lines of the address block, top to bottom, without blank lines."""
    country = addr.country.strip().upper()
    fmt = FORMATS.get(country, _POSTCODE_CITY)
    abroad = country != sender_country
    people = [addr.name, addr.company] if not fmt.company_first else [addr.company, addr.name]
    lines = [p.strip() for p in people if p and p.strip()]
    lines.append(addr.street.strip())
    city = addr.city.strip()
    if fmt.city_upper or abroad:  # UPU: town and country in capitals on international mail
        city = city.upper()
    values = {"postcode": normalise_postcode(addr.postcode, country), "city": city, "state": (addr.state or "").strip()}
    for template in fmt.locality:
        lines.append(_fill(template, values))
    if abroad:
        name = country_name(country, sender_country)
        if name is None and problems is not None:
            problems.append(f"no country name for {country!r}; printed the code in the address")
        lines.append(name or country)
    if fmt.all_upper:
        lines = [line.upper() for line in lines]
    return [line for line in lines if line]
