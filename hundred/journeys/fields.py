"""The value types a journey's fields are written in (one-line texts, slugs, dates, durations, clock
times) and the strict base every journey model shares: each refuses a bad value with a message a
marketer can act on, so the models built from them (model.py, touches.py) only say what to write.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

Slug = Annotated[StrictStr, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def _one_line(value: str) -> str:
    if not value.strip():
        raise ValueError('is empty; write the text between quotes, e.g. "Welkom bij ons"')
    if CONTROL.search(value):
        raise ValueError("holds a line break or an invisible control character; keep it on one line")
    return value


def _date_text(value: Any) -> Any:
    """Dates as written in YAML (`2026-12-24`), never a number pydantic would read as a Unix time."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"{str(value)[:40]!r} is not a date; write dates as 2026-12-24")
    return value.strip()


# One line of text that says something: names, subjects, titles (they end up in headers and tables)
OneLine = Annotated[
    StrictStr,
    Field(max_length=200, json_schema_extra={"pattern": r"^[^\u0000-\u001f\u007f]*\S[^\u0000-\u001f\u007f]*$"}),
    AfterValidator(_one_line),
]
TemplateName = Annotated[
    StrictStr,
    Field(max_length=200, json_schema_extra={"pattern": r"^[^\u0000-\u001f\u007f]*\S[^\u0000-\u001f\u007f]*$"}),
    AfterValidator(_one_line),
]
Day = Annotated[date, BeforeValidator(_date_text)]
DURATION = re.compile(r"^(?:([0-9]{1,4})d)?(?:([0-9]{1,5})h)?(?:([0-9]{1,6})m)?$")
MAX_EXPIRY = timedelta(days=730)


def parse_duration(value: Any) -> timedelta:
    """`"2d"`, `"12h"`, `"30m"`, `"1d12h"` → timedelta; more than zero, at most two years."""
    match = DURATION.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(
            f'{str(value)[:40]!r} is not a duration; write it as a number and d, h or m, e.g. "2d", "12h" or "30m"'
        )
    days, hours, minutes = (int(g or 0) for g in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    if delta <= timedelta(0):
        raise ValueError("must be longer than zero; leave it out for a touch that never expires")
    if delta > MAX_EXPIRY:
        raise ValueError('is longer than two years; use at most "730d"')
    return delta


def parse_clock(value: Any) -> time:
    """`"09:30"` → 09:30. Strict HH:MM so `9.30` or `930` get a clear error."""
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ValueError(f'{value!r} is not a time of day; write it as HH:MM, e.g. "09:30"')
    return time(int(match[1]), int(match[2]))


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
