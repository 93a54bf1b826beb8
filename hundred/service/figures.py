"""How each journey is doing, and one customer's 100 days: what `/journeys`, `hundred report`,
`hundred status DEAL` and the daily `journey-figures` artifact ask, answered once.

The counting is the ledger's (the `FigureSource` port, SQL in hundred/adapters/ledger/figures.py);
turning counts into figures and telling a customer's story is the core's
(hundred/reports/figures). This module holds the clock and the period rules between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hundred.reports.figures.compute import figures
from hundred.reports.figures.facts import Period
from hundred.reports.figures.model import Figures
from hundred.reports.figures.story import DealStory
from hundred.service.ports import FigureSource, utcnow


def period_of(since: date | None = None, until: date | None = None) -> Period:
    """Journeys received from `since` (inclusive) up to `until` (inclusive), whole UTC days."""
    return Period(
        since=datetime.combine(since, time(0), UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(0), UTC) if until else None,
    )


@dataclass(frozen=True)
class FigureReport:
    """The figures of the journeys asked for, as of `now`."""

    now: datetime
    period: Period
    journeys: list[Figures]

    def journey(self, journey_id: str) -> Figures | None:
        return next((f for f in self.journeys if f.journey == journey_id), None)


class JourneyFigures:
    def __init__(self, source: FigureSource, clock: Callable[[], datetime] = utcnow):
        self.source, self.clock = source, clock

    def report(
        self, period: Period | None = None, journey: str | None = None, version: str | None = None
    ) -> FigureReport:
        now = self.clock()
        period = period or Period()
        facts = self.source.figure_facts(period, journey, now)
        return FigureReport(now, period, figures(facts, journey, version))

    def story(self, deal_id: str) -> DealStory | None:
        facts = self.source.deal_facts(deal_id, self.clock())
        return DealStory.of(facts) if facts is not None else None
