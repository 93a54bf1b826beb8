"""The journeys in flight on each version of a journey, where their customers are, and what an edit
changes for them (`hundred journeys diff`, the studio's "in flight" panel).

Read-only: it reads the ledger (each journey's version and snapshot, its touches' states) and
compares each version with the journey as it is now (the file, or the text being edited) through
`hundred.journeys.diff`. "Still ahead" for a touch of the old version means not yet final
(delivered, done, skipped, expired or cancelled); for a new touch, that its day is still to come
on the deal's journey clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hundred.deals.model import DealError, parse_deal
from hundred.journeys.diff import Change, JourneyDiff, diff_journeys
from hundred.journeys.model import Journey
from hundred.planning.states import FINAL
from hundred.service.ports import Ledger
from hundred.service.records import JourneyRow, TouchRow


@dataclass(frozen=True)
class DealPosition:
    """Where one customer is on their journey now."""

    deal: str
    day: int | None  # the journey day it is now for this deal (None: its deal cannot be read)
    done: int  # touches that are final
    total: int
    next_touch: str | None  # the earliest touch not final yet
    next_state: str | None
    pending: frozenset[str]  # touches not final yet

    def to_json(self) -> dict[str, Any]:
        return {
            "deal": self.deal,
            "day": self.day,
            "done": self.done,
            "total": self.total,
            "next_touch": self.next_touch,
            "next_state": self.next_state,
        }


@dataclass
class VersionInFlight:
    version: str
    journey: Journey  # the snapshot the journeys on this version started with
    deals: list[DealPosition] = field(default_factory=list)

    def ahead(self, change: Change) -> int:
        """How many of these customers an upgrade would still change this touch for."""
        if change.touch is None:
            return len(self.deals)
        if change.kind == "added":
            return sum(1 for d in self.deals if d.day is None or (change.day or 0) >= d.day)
        return sum(1 for d in self.deals if change.touch in d.pending)

    def next_touches(self) -> list[tuple[str, str, int]]:
        """(next touch, its state, how many deals) — where the customers are, most first."""
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for d in self.deals:
            counts[(d.next_touch or "", d.next_state or "")] += 1
        return sorted(((t, s, n) for (t, s), n in counts.items()), key=lambda x: (-x[2], x[0]))


@dataclass
class VersionReport:
    """One version in flight against the journey now: the customers on it and the differences."""

    flight: VersionInFlight
    diff: JourneyDiff

    def to_json(self) -> dict[str, Any]:
        flight = self.flight
        return {
            "version": flight.version,
            "deals": len(flight.deals),
            "where": [{"next_touch": t or None, "state": s or None, "deals": n} for t, s, n in flight.next_touches()],
            "positions": [d.to_json() for d in flight.deals],
            "changes": [{**c.to_json(), "deals_ahead": flight.ahead(c)} for c in self.diff.changes],
        }


def journey_day(row: JourneyRow, payload: dict[str, Any] | None, journey: Journey, now: datetime) -> int | None:
    """The journey day it is now: in compressed time (day_seconds) counted from when the deal was
    received, else calendar days since the close in the journey's time zone."""
    if row.day_seconds:
        return int((now - _aware(row.received_at)).total_seconds() // row.day_seconds)
    try:
        deal = parse_deal(payload or {}, f"deal {row.deal_id}", now=now)
    except DealError:
        return None
    zone = ZoneInfo(journey.timezone)
    return (now.astimezone(zone).date() - deal.closed_at.astimezone(zone).date()).days


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _position(row: JourneyRow, touches: list[TouchRow], day: int | None) -> DealPosition:
    open_ = sorted(
        (t for t in touches if t.state not in FINAL),
        key=lambda t: (_aware(t.due or t.planned_due), t.touch_id),
    )
    first = open_[0] if open_ else None
    return DealPosition(
        deal=row.deal_id,
        day=day,
        done=sum(1 for t in touches if t.state in FINAL),
        total=len(touches),
        next_touch=first.touch_id if first else None,
        next_state=first.state if first else None,
        pending=frozenset(t.touch_id for t in open_),
    )


def versions_in_flight(ledger: Ledger, journey_id: str, now: Callable[[], datetime]) -> list[VersionInFlight]:
    """Every version of `journey_id` that active journeys are on, oldest first, with each deal's
    position."""
    rows = [r for r in ledger.journeys(state="active") if r.journey_id == journey_id]
    if not rows:
        return []
    wanted = {r.deal_id for r in rows}
    by_deal: dict[str, list[TouchRow]] = defaultdict(list)
    for t in ledger.touches():
        if t.deal_id in wanted:
            by_deal[t.deal_id].append(t)
    versions: dict[str, VersionInFlight] = {}
    moment = now()
    for row in rows:
        flight = versions.get(row.version)
        if flight is None:
            flight = versions[row.version] = VersionInFlight(row.version, row.journey_model())
        day = journey_day(row, ledger.deal_payload(row.deal_id), flight.journey, moment)
        flight.deals.append(_position(row, by_deal[row.deal_id], day))
    return list(versions.values())


def snapshot_of(ledger: Ledger, journey_id: str, version: str) -> Journey | None:
    """The journey as it was at `version` (a full id or a prefix of one), from any journey that
    started on it, in flight or not; None when the ledger has none."""
    for row in ledger.journeys():
        if row.journey_id == journey_id and row.version.startswith(version):
            return row.journey_model()
    return None


def reports(flights: list[VersionInFlight], current: Journey) -> list[VersionReport]:
    return [VersionReport(f, diff_journeys(f.journey, current)) for f in flights]


__all__ = ["DealPosition", "VersionInFlight", "VersionReport", "versions_in_flight", "snapshot_of", "reports"]
