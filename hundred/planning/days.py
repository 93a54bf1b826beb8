"""Journey days of what really happened: on which day of a customer's journey a moment fell.

A plan counts days from the close *date* in the journey's time zone (`Plan.start_date`): day 0 is
that whole date, so a touch planned for "day 1, 09:30" is on day 1 even when the deal closed at
16:00 the day before. What happened is stamped on the wall clock (the ledger's times), and with
`--day-seconds N` that clock runs N/86400 times as fast from the moment the deal was received.

`JourneyDays` holds the two facts that map a wall moment to a journey day, and the ledger keeps
them per journey (`journeys.closed_on`, `journeys.day_zero`): so the figures' SQL counts days
with the same rule as this module (`day = floor((moment - day_zero) / day_length)`), without
knowing time zones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hundred.planning.engine import Clock
from hundred.planning.planner import local_instant

DAY = 86400.0


@dataclass(frozen=True)
class JourneyDays:
    """`closed_on`: day 0, the close date in the journey's zone. `day_zero`: the wall moment day 0
    began (its local midnight, on the clock this journey runs on). `day_seconds`: how long a
    journey day lasts on that clock (86,400 unless compressed)."""

    closed_on: date
    day_zero: datetime
    day_seconds: float = DAY

    @classmethod
    def of(cls, closed_at: datetime, timezone: str, received_at: datetime, day_seconds: float | None) -> JourneyDays:
        """The journey days of a deal closed at `closed_at`, received at `received_at` (its
        compressed clock starts then), in the journey's `timezone`."""
        zone = ZoneInfo(timezone)
        closed_on = closed_at.astimezone(zone).date()
        midnight = local_instant(closed_on, time(0, 0), zone)
        clock = Clock(closed_at, received_at, day_seconds)
        # Clock.to_wall holds moments before the close at the start; midnight is before it by design
        day_zero = clock.to_wall(closed_at) - clock.scale(closed_at - midnight)
        return cls(closed_on, day_zero, float(day_seconds or DAY))

    def day(self, moment: datetime) -> int:
        """The journey day a wall moment falls on (0 on the close date; negative before it)."""
        return math.floor((moment - self.day_zero).total_seconds() / self.day_seconds)

    def day_of_date(self, day: date) -> int:
        """The journey day of a date in journey time (a letter's print-by day)."""
        return (day - self.closed_on).days

    def date_of(self, moment: datetime) -> date:
        """The journey date a wall moment falls on (in journey time: the date the plan speaks of)."""
        return self.closed_on + timedelta(days=self.day(moment))
