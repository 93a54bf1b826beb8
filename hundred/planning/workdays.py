"""Which days the business is open: weekdays, public holidays and extra closed days.

Holidays come from the `holidays` package by country (and subdivision), named in the journey's
language where the package has it, so the timeline can say "moved from Mon 27 Apr (Koningsdag)".
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import holidays as holidays_pkg

from hundred.journeys.model import WEEKDAYS, Calendar


class UnknownHolidays(ValueError):
    """The holidays country or subdivision does not exist in the holidays package."""


def split_region(spec: str) -> tuple[str, str | None]:
    """`NL` → ("NL", None); `DE/BY` or `DE-BY` → ("DE", "BY")."""
    for sep in ("/", "-"):
        if sep in spec:
            country, subdiv = spec.split(sep, 1)
            return country.strip().upper(), subdiv.strip().upper() or None
    return spec.strip().upper(), None


def check_region(spec: str) -> None:
    """Cheap when there is no subdivision: the registry lists countries without importing them."""
    from holidays.registry import COUNTRIES  # lazy: the holidays registry loads only when a calendar is checked

    country, subdiv = split_region(spec)
    if subdiv is None:
        if not any(entry[1] == country for entry in COUNTRIES.values()):
            raise UnknownHolidays(f"country {country} not available in the holidays package")
        return
    try:
        entity = _country_class(country)
        if entity is None:
            holidays_pkg.country_holidays(country, subdiv=subdiv, years=2026)
        else:
            entity(subdiv=subdiv, years=2026)
    except NotImplementedError as exc:
        raise UnknownHolidays(str(exc).replace("Entity", "country")) from None


def country_code_for(name: str) -> str | None:
    """`Netherlands` → `NL`, for the hint when a marketer writes the country's name."""
    from holidays.registry import COUNTRIES  # lazy: the holidays registry loads only when a calendar is checked

    wanted = name.strip().lower().replace(" ", "_")
    for module, entry in COUNTRIES.items():
        if wanted in (module, entry[0].lower()):
            return entry[1]
    return None


@lru_cache(maxsize=64)
def _holiday_names(spec: str, year: int, language: str | None) -> dict[date, str]:
    country, subdiv = split_region(spec)
    entity = _country_class(country)
    if entity is None:
        cls = holidays_pkg.country_holidays(country, subdiv=subdiv, years=year)
        if language and language in (getattr(cls, "supported_languages", ()) or ()):
            cls = holidays_pkg.country_holidays(country, subdiv=subdiv, years=year, language=language)
        return dict(cls.items())
    wanted = language if language and language in (getattr(entity, "supported_languages", ()) or ()) else None
    return dict(entity(years=year, subdiv=subdiv, language=wanted).items())


@lru_cache(maxsize=16)
def _country_class(country: str) -> Any:
    """The holidays class of one country, its module loaded on its own; None: ask the package.

    `holidays.country_holidays` first imports `holidays.countries`, which imports every one of its
    ~250 country modules: ~50 ms of CPU in each `hundred validate`, `plan` and `simulate`, a sixth
    of validate (bench/validate.py). A country's module needs only the package's base classes, so
    it is loaded from its file alone; one that imports another country's module (a few territories
    do) goes the package's way."""
    from holidays.registry import COUNTRIES  # lazy: the holidays registry loads only when a calendar is checked

    module = next((m for m, entry in COUNTRIES.items() if entry[1] == country), None)
    if module is None:
        return None
    cls_name = COUNTRIES[module][0]
    loaded = sys.modules.get(f"holidays.countries.{module}")
    if loaded is not None:
        return getattr(loaded, cls_name)
    path = Path(holidays_pkg.__file__).parent / "countries" / f"{module}.py"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "holidays.countries" in source:
        return None
    spec = importlib.util.spec_from_file_location(f"hundred._holidays_{module}", path)
    if spec is None or spec.loader is None:
        return None
    alone = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = alone  # as the import system would: its classes can name their module
    spec.loader.exec_module(alone)
    return getattr(alone, cls_name, None)


@dataclass(frozen=True)
class BusinessCalendar:
    workdays: frozenset[int]  # 0 = Monday
    region: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)
    language: str | None = None

    @classmethod
    def from_journey(cls, calendar: Calendar, locale: str | None = None) -> BusinessCalendar:
        language = None
        if locale:
            lang = locale.split("_")[0]
            language = locale if locale == "en_US" else lang
        return cls(
            frozenset(WEEKDAYS.index(d) for d in calendar.workdays),
            calendar.holidays,
            frozenset(calendar.closed),
            language,
        )

    def closed_reason(self, day: date) -> str | None:
        """Why the business is closed on `day`, or None when it is open."""
        if day in self.closed:
            return "closed"
        if self.region:
            name = _holiday_names(self.region, day.year, self.language).get(day)
            if name:
                return name
        if day.weekday() not in self.workdays:
            return "weekend" if day.weekday() >= 5 else "no workday"
        return None

    def is_open(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def next_open(self, day: date) -> date:
        """`day` itself when open, else the first open day after it."""
        for _ in range(400):
            if self.is_open(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no open day within a year: check calendar.workdays and closed")

    def open_days_before(self, day: date, count: int) -> date:
        """The `count`-th open day strictly before `day` (count 0 → `day`)."""
        for _ in range(count):
            day -= timedelta(days=1)
            while not self.is_open(day):
                day -= timedelta(days=1)
        return day

    def open_days_after(self, day: date, count: int) -> date:
        """The `count`-th open day strictly after `day` (count 0 → `day`)."""
        for _ in range(count):
            day += timedelta(days=1)
            while not self.is_open(day):
                day += timedelta(days=1)
        return day

    def closed_days(self, start: date, end: date) -> list[tuple[date, str]]:
        """Holidays and extra closed days in [start, end], for the timeline (weekends left out)."""
        out = []
        day = start
        while day <= end:
            reason = self.closed_reason(day)
            if reason and reason not in ("weekend", "no workday"):
                out.append((day, reason))
            day += timedelta(days=1)
        return out
