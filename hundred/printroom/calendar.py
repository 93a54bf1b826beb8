"""The print room's days: the default journey's time zone and business calendar (workdays,
holidays, closed days), so batches are made on workday mornings in the journey's own time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..workdays import BusinessCalendar

FALLBACK_TZ = "Europe/Amsterdam"


@dataclass(frozen=True)
class PrintCalendar:
    timezone: str
    calendar: BusinessCalendar
    source: str  # which journey it came from, or why the fallback

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def closed_reason(self, day: date) -> str | None:
        return self.calendar.closed_reason(day)


def print_calendar(settings: Any) -> PrintCalendar:
    """The default journey's calendar; Mon–Fri in Europe/Amsterdam (NL holidays) when it cannot be read."""
    from ..catalog import find_journey
    from ..validate import load_journey

    try:
        path = find_journey(settings.default_journey, Path(settings.journeys_dir))
        journey, _ = load_journey(path)
        return PrintCalendar(journey.timezone, BusinessCalendar.from_journey(journey.calendar, journey.locale),
                             f"journey {journey.journey}")
    except Exception as exc:  # no journeys folder, an invalid journey: print anyway, on weekdays
        return PrintCalendar(FALLBACK_TZ, BusinessCalendar(frozenset(range(5)), "NL"),
                             f"default (Mon–Fri, NL holidays): {type(exc).__name__}: {exc}")
