"""The filters hundred adds to Jinja's: `date`, `time`, `money`, `number`, `postcode` in the journey's
locale, and `json` for webhook bodies (PRODUCT.md §4)."""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from jinja2 import Undefined, pass_context

from .template_limits import MAX_DIGITS
from .template_values import json_filter


def _strict(fn: Callable[..., str]) -> Callable[..., str]:
    """Custom filters get Undefined passed straight in; make them fail like StrictUndefined does."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        for value in args:
            if isinstance(value, Undefined):
                value._fail_with_undefined_error()
        return fn(*args, **kwargs)

    return wrapper


def _as_date(value: Any) -> date | datetime:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"the date filter needs a date, got {str(value)[:40]!r}")


def _as_decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value)[:100])
    except InvalidOperation:
        raise ValueError(f"not a number: {str(value)[:40]!r}") from None
    if not number.is_finite() or number.adjusted() >= MAX_DIGITS:
        raise ValueError(f"{str(value)[:40]} is not a number a letter can show")
    return number


def locale_filters(locale: str) -> dict[str, Callable[..., Any]]:
    # babel is imported inside each filter: `hundred validate` builds environments and parses
    # templates but never formats a date, and the import costs a tenth of its time budget
    @_strict
    def date_filter(value: Any, format: str = "long") -> str:
        from babel.dates import format_date, format_datetime

        value = _as_date(value)
        if isinstance(value, datetime) and format not in ("short", "medium", "long", "full"):
            return format_datetime(value, format, locale=locale)
        return format_date(value.date() if isinstance(value, datetime) else value, format, locale=locale)

    @_strict
    def time_filter(value: Any, format: str = "short") -> str:
        from babel.dates import format_time

        return format_time(_as_date(value), format, locale=locale)

    @pass_context
    def money_filter(context: Any, value: Any, currency: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        from babel.numbers import format_currency

        deal = context.get("deal") or {}
        code = currency or (deal.get("currency") if isinstance(deal, dict) else None) or "EUR"
        return format_currency(_as_decimal(value), str(code), locale=locale)

    @_strict
    def number_filter(value: Any, format: str | None = None) -> str:
        from babel.numbers import format_decimal

        return format_decimal(_as_decimal(value), format, locale=locale)

    @pass_context
    def postcode_filter(context: Any, value: Any, country: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        from .letters.address import normalise_postcode  # the same rules the address block prints with

        address = context.get("address") or {}
        home = country or (address.get("country") if isinstance(address, dict) else None) or "NL"
        return normalise_postcode(str(value or ""), str(home).upper())

    return {"date": date_filter, "time": time_filter, "money": money_filter,
            "number": number_filter, "postcode": postcode_filter, "json": json_filter, "tojson": json_filter}
