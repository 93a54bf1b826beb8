"""The ISO codes a deal's address and amount are written in: countries (3166-1 alpha-2) and
currencies (4217) in use today, from babel's CLDR data.

Apart from the rules on text because these are lists of data, not rules: read from babel only when
first asked for (babel costs a tenth of `hundred validate`) and cached for the process.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from hundred.deals.checks import show

# In babel's territory list but not countries a letter can be addressed to: macro-regions, the
# user-assigned/private codes CLDR uses (QO, XA, XB, ZZ) and ISO's exceptionally reserved codes.
_NOT_COUNTRIES = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
COUNTRY_HINTS = {"UK": "GB", "EL": "GR"}


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → English name. XK (Kosovo, user-assigned) is kept: CRMs and
    postal services use it."""
    from babel import Locale  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it

    names = Locale("en").territories
    return {
        code: name
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code.isupper() and code not in _NOT_COUNTRIES
    }


def check_country(value: str) -> str:
    code = value.upper()
    if code in countries():
        return code
    hint = COUNTRY_HINTS.get(code)
    if not hint:
        by_name = {name.casefold(): c for c, name in countries().items()}
        hint = by_name.get(value.casefold())
    tail = f"; did you mean {hint}?" if hint else " such as NL, DE or US"
    raise ValueError(f"unknown country {show(value)}: use an ISO 3166 alpha-2 code{tail}")


@lru_cache(maxsize=4)
def currencies(on: date) -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere on `on` (not gold, test codes or guilders)."""
    from babel.numbers import (
        get_territory_currencies,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
    )

    used: set[str] = set()
    for code in countries():
        used.update(get_territory_currencies(code, on, tender=True))
    return frozenset(used)


def check_currency(value: str, on: date) -> str:
    code = value.upper()
    if code in currencies(on):
        return code
    from babel.numbers import (  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
        get_currency_name,
        list_currencies,
    )

    if len(code) == 3 and code.isalpha() and code in list_currencies():
        raise ValueError(
            f"{show(value)} ({get_currency_name(code, locale='en')}) is not a currency in use "
            "today; use an ISO 4217 code such as EUR or USD"
        )
    raise ValueError(f"unknown currency {show(value)}: use an ISO 4217 code such as EUR or USD")
