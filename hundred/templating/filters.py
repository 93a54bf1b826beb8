"""The filters hundred adds to Jinja's: `date`, `time`, `money`, `number`, `postcode` in the journey's
locale, and `json` for webhook bodies (README: "For marketers"); and Jinja's own `center`, `indent`, `wordwrap`,
`truncate`, `format`, `replace`, `join`, `batch`, `slice` and `attr` with their arguments checked
against the render budgets before they run."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import Undefined, pass_context
from jinja2.filters import FILTERS

from hundred.deals.postal import normalise_postcode  # the same rules the address block prints with
from hundred.templating.limits import (
    MAX_DIGITS,
    MAX_VALUE,
    LimitExceeded,
    PrivateName,
    check_printf,
    check_size,
    check_width,
    estimate,
    join_estimate,
    replace_estimate,
)
from hundred.templating.values import json_filter


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
        from babel.dates import (  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
            format_date,
            format_datetime,
        )

        value = _as_date(value)
        if isinstance(value, datetime) and format not in ("short", "medium", "long", "full"):
            return format_datetime(value, format, locale=locale)
        return format_date(value.date() if isinstance(value, datetime) else value, format, locale=locale)

    @_strict
    def time_filter(value: Any, format: str = "short") -> str:
        from babel.dates import format_time  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it

        moment = _as_date(value)
        if not isinstance(moment, datetime):  # babel would fail on a date's missing tzinfo
            raise ValueError(f"the time filter needs a date and time, got {str(value)[:40]!r}")
        return format_time(moment, format, locale=locale)

    @pass_context
    def money_filter(context: Any, value: Any, currency: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        from babel.numbers import (
            format_currency,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
        )

        deal = context.get("deal") or {}
        code = currency or (deal.get("currency") if isinstance(deal, dict) else None) or "EUR"
        return format_currency(_as_decimal(value), str(code), locale=locale)

    @_strict
    def number_filter(value: Any, format: str | None = None) -> str:
        from babel.numbers import (
            format_decimal,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
        )

        return format_decimal(_as_decimal(value), format, locale=locale)

    @pass_context
    def postcode_filter(context: Any, value: Any, country: str | None = None) -> str:
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()

        address = context.get("address") or {}
        home = country or (address.get("country") if isinstance(address, dict) else None) or "NL"
        return normalise_postcode(str(value or ""), str(home).upper())

    return {
        "date": date_filter,
        "time": time_filter,
        "money": money_filter,
        "number": number_filter,
        "postcode": postcode_filter,
        "json": json_filter,
        "tojson": json_filter,
    }


# ---- Jinja's own filters, with their widths and sizes capped (see template_limits) --------------


def _guard(name: str, check: Callable[..., None]) -> Callable[..., Any]:
    original = FILTERS[name]
    skip = 1 if getattr(original, "jinja_pass_arg", None) else 0  # eval context / environment first

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(*args[skip:], **kwargs)
        return check_size(original(*args, **kwargs), f"the {name} filter")

    return guarded


def _center(value: Any, width: Any = 80) -> None:
    check_width(width, "center width")


def _indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> None:
    check_width(width, "indent")
    pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(s) if isinstance(s, str) else ""
    estimate(len(text) + (text.count("\n") + 1) * max(pad, 0), "indent")


def _wordwrap(
    s: Any, width: Any = 79, break_long_words: bool = True, wrapstring: Any = None, break_on_hyphens: bool = True
) -> None:
    check_width(width, "wordwrap width")
    if isinstance(width, int) and width < 1:
        raise LimitExceeded("wordwrap width must be at least 1")
    if isinstance(wrapstring, str):
        check_width(wrapstring, "wordwrap's wrapstring length")
        if isinstance(s, str) and isinstance(width, int):
            estimate(len(s) + (len(s) // width + 1) * len(wrapstring), "wordwrap")


def _truncate(s: Any, length: Any = 255, killwords: bool = False, end: Any = "...", leeway: Any = None) -> None:
    if isinstance(length, int) and length > MAX_VALUE:
        raise LimitExceeded(f"truncate length {length:,} is over the limit of {MAX_VALUE:,}")
    check_width(end, "truncate's end text length")
    check_width(leeway, "truncate leeway")


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        check_printf(value)


def _replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    replace_estimate(s, old, new, count)


def _join(value: Any, d: Any = "", attribute: Any = None) -> None:
    if isinstance(value, (list, tuple, str)) and attribute is None:
        join_estimate(list(value), d)


def _batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
    if isinstance(linecount, int) and linecount > MAX_VALUE:
        raise LimitExceeded(f"batch size {linecount:,} is over the limit of {MAX_VALUE:,}")


def _slice(value: Any, slices: Any, fill_with: Any = None) -> None:
    check_width(slices, "slice count")


def _attr(obj: Any, name: Any) -> None:
    if isinstance(name, str) and name.startswith("_"):
        raise PrivateName(name)


GUARDED_FILTERS: dict[str, Callable[..., None]] = {
    "attr": _attr,
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "truncate": _truncate,
    "format": _format,
    "replace": _replace,
    "join": _join,
    "batch": _batch,
    "slice": _slice,
}


def capped_filters() -> dict[str, Callable[..., Any]]:
    return {name: _guard(name, check) for name, check in GUARDED_FILTERS.items()}
