"""A letter is dated the day it is printed.

`render_touch` dates a letter's text with its planned print-by day (the day the print room is
meant to print it; preview and delivery alike). The print room prints the text the ledger keeps,
never the template again (a batch re-renders byte-identical after a template changed), so when a
batch is printed on another day than planned (an overdue letter, a spoiled copy back in the queue,
a batch made ahead with `--date`), `redate` puts the batch's day where the planned day was written:
the first place the text holds the planned day as the `date` filter writes it (babel's short,
medium, long or full date in the journey's locale). A text that does not hold it (a custom date
pattern, a letter queued before the locale was kept) is printed as it is.
"""

from __future__ import annotations

from datetime import date

FORMATS = ("full", "long", "medium", "short")


def redate(text: str, planned: date | None, printed: date, locale: str | None) -> str:
    """`text` with its first mention of the `planned` day replaced by the `printed` day."""
    if planned is None or planned == printed or not locale:
        return text
    from babel.core import (
        UnknownLocaleError,  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it
    )
    from babel.dates import format_date  # lazy: babel costs a tenth of `hundred validate`; only formatting needs it

    try:
        written = [(format_date(planned, f, locale=locale), format_date(printed, f, locale=locale)) for f in FORMATS]
    except (UnknownLocaleError, ValueError):
        return text
    found = [(text.find(old), -len(old), old, new) for old, new in written if old in text]
    if not found:
        return text
    at, _, old, new = min(found)  # the first mention; where formats overlap, the longest
    return text[:at] + new + text[at + len(old) :]
