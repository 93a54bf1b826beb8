"""The print room's days: the default journey's time zone and business calendar (workdays,
holidays, closed days), so batches are made on workday mornings in the journey's own time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from hundred.journeys.catalog import find_journey
from hundred.planning.workdays import BusinessCalendar
from hundred.service.settings import Settings
from hundred.validation.validate import load_journey

FALLBACK_TZ = "Europe/Amsterdam"
DEFAULT_BATCH_AT = time(10, 0)  # the journey language's default morning cut-off (letters.batch_at)


@dataclass(frozen=True)
class PrintCalendar:
    timezone: str
    calendar: BusinessCalendar
    source: str  # which journey it came from, or why the fallback
    batch_at: time = DEFAULT_BATCH_AT

    @property
    def cron(self) -> str:
        """The batch's schedule: at the cut-off, on the calendar's workdays (cron: 0 = Sunday).
        Holidays and closed days are skipped by the flow itself (cron cannot know them)."""
        days = sorted((d + 1) % 7 for d in self.calendar.workdays)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            spec = f"{days[0]}-{days[-1]}"
        else:
            spec = ",".join(map(str, days)) or "1-5"
        return f"{self.batch_at.minute} {self.batch_at.hour} * * {spec}"

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def closed_reason(self, day: date) -> str | None:
        return self.calendar.closed_reason(day)


def print_calendar(settings: Settings) -> PrintCalendar:
    """The default journey's calendar; Mon–Fri in Europe/Amsterdam (NL holidays) when it cannot be read."""

    try:
        path = find_journey(settings.default_journey, Path(settings.journeys_dir))
        journey, _ = load_journey(path)
        batch_at = getattr(journey.letters, "batch_time", None) or DEFAULT_BATCH_AT
        return PrintCalendar(
            journey.timezone,
            BusinessCalendar.from_journey(journey.calendar, journey.locale),
            f"journey {journey.journey}",
            batch_at,
        )
    except Exception as exc:  # no journeys folder, an invalid journey: print anyway, on weekdays
        return PrintCalendar(
            FALLBACK_TZ,
            BusinessCalendar(frozenset(range(5)), "NL"),
            f"default (Mon–Fri, NL holidays): {type(exc).__name__}: {exc}",
        )
