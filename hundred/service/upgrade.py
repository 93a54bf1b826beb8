"""`hundred journeys upgrade`: journeys in flight moved from one version of their journey to another.

For each active journey on that version: read its touches, decide what changes
(hundred/planning/upgrade.py: the rules live there), and unless it is a dry run hand the decision to
the ledger, which applies all of it or nothing and only if nothing moved since (else the deal is
decided again from fresh rows). Then the runtime takes over as after any completion: `after_complete`
judges the gate on the new version (opens it and schedules what waited, or closes a journey with
nothing left), and `schedule` makes sure each new moment has its deliver run (best effort: without
Prefect the touches wait `planned` and reconcile makes the runs). A deal a run holds right now is
busy: it is tried again until `wait` seconds have passed, then reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from hundred.deals.model import DealError, parse_deal
from hundred.journeys.model import Journey
from hundred.planning.engine import Clock
from hundred.planning.states import TouchState
from hundred.planning.upgrade import DealUpgrade, plan_upgrade
from hundred.service.in_flight import journey_day
from hundred.service.records import JourneyRow
from hundred.service.runtime import Runtime

ATTEMPTS = 5  # decisions per deal when its touches keep moving under it (each one a fresh read)
PAUSE = 0.5  # seconds between tries of the busy deals


class UpgradeError(LookupError):
    """The version asked for is not one this journey's deals started on (or is ambiguous)."""


@dataclass
class DealResult:
    """One deal: `outcome` is "upgraded", "would upgrade" (dry run), "busy" (a run holds one of its
    touches), "moved on" (no longer active on the version) or "unreadable" (its stored deal does
    not parse); `waiting_runs` counts its touches whose deliver run could not be made yet."""

    deal: str
    outcome: str
    day: int | None = None
    upgrade: DealUpgrade | None = None
    detail: str = ""
    waiting_runs: int = 0

    def to_json(self) -> dict[str, Any]:
        u = self.upgrade
        return {
            "deal": self.deal,
            "outcome": self.outcome,
            "day": self.day,
            "detail": self.detail or None,
            "gate": u.gate if u else None,
            "busy": list(u.busy) if u else [],
            "changes": [e.to_json() for e in u.edits] if u else [],
            "waiting_for_a_run": self.waiting_runs,
        }


@dataclass
class UpgradeReport:
    journey: Journey
    before: str
    after: str
    dry_run: bool
    deals: list[DealResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for d in self.deals if d.outcome == outcome)

    @property
    def complete(self) -> bool:
        """Every deal that was on the version is on the new one (or would be)."""
        return not any(d.outcome in ("busy", "unreadable") for d in self.deals)

    def to_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey.journey,
            "from": self.before,
            "to": self.after,
            "dry_run": self.dry_run,
            "deals": [d.to_json() for d in self.deals],
            "upgraded": self.count("upgraded"),
            "would_upgrade": self.count("would upgrade"),
            "busy": self.count("busy"),
        }


def resolve_version(rows: list[JourneyRow], journey_id: str, version: str) -> str:
    """The full version id `version` (or the start of one) names among the versions journeys of
    `journey_id` are on (in flight or not); UpgradeError when none or several match."""
    known = sorted({r.version for r in rows if r.journey_id == journey_id})
    found = [v for v in known if v.startswith(version)]
    if not found:
        on = f"; deals are on: {', '.join(known)}" if known else ""
        raise UpgradeError(f"--from {version}: no journey of '{journey_id}' is on that version in this ledger{on}")
    if len(found) > 1:
        raise UpgradeError(f"--from {version}: more than one version starts so ({', '.join(found)}); give more of it")
    return found[0]


class Upgrader:
    """Upgrades through a runtime (its ledger, scheduler, settings and clock)."""

    def __init__(self, runtime: Runtime, sleep: Callable[[float], None] = time.sleep):
        self.runtime = runtime
        self.ledger = runtime.ledger
        self.sleep = sleep

    def run(
        self, journey: Journey, templates_dir: Path | str, from_version: str, *, dry_run: bool, wait: float = 0.0
    ) -> UpgradeReport:
        """Move every active journey of `journey` on `from_version` (or the start of its id) to
        `journey`; with `dry_run` only say what would change."""
        if journey.version().startswith(from_version):  # the file's own version: nothing to move
            return UpgradeReport(journey, journey.version(), journey.version(), dry_run)
        rows = self.ledger.journeys()
        before = resolve_version(rows, journey.journey, from_version)
        report = UpgradeReport(journey, before, journey.version(), dry_run)
        deals = [
            r.deal_id for r in rows if r.journey_id == journey.journey and r.version == before and r.state == "active"
        ]
        results = {d: self.deal(d, before, journey, str(templates_dir), dry_run) for d in deals}
        deadline = time.monotonic() + max(wait, 0.0)
        while not dry_run and time.monotonic() < deadline:
            busy = [d for d, r in results.items() if r.outcome == "busy"]
            if not busy:
                break
            self.sleep(PAUSE)
            results.update({d: self.deal(d, before, journey, str(templates_dir), dry_run) for d in busy})
        report.deals = list(results.values())
        return report

    def deal(self, deal_id: str, before: str, journey: Journey, templates_dir: str, dry_run: bool) -> DealResult:
        """Decide for one deal and (unless `dry_run`) apply; decided again while its rows move."""
        for _ in range(ATTEMPTS):
            row = self.ledger.journey(deal_id)
            if row is None or row.state != "active" or row.version != before:
                why = "no longer active" if row is None or row.state != "active" else f"now on version {row.version}"
                return DealResult(deal_id, "moved on", detail=why)
            payload = self.ledger.deal_payload(deal_id) or {}
            try:
                deal = parse_deal(payload, source=f"deal {deal_id}", now=row.received_at)
            except DealError as exc:
                return DealResult(deal_id, "unreadable", detail=str(exc))
            now = self.runtime.now()
            clock = Clock(deal.closed_at, row.received_at, row.day_seconds)
            decision = plan_upgrade(
                row.journey_model(),
                journey,
                deal,
                self.ledger.touches(deal_id),
                gate_opened_at=row.gate_opened_at,
                clock=clock,
                now=now,
                grace=timedelta(days=self.runtime.settings.backfill_grace_days),
                moment=partial(self.runtime.moment, clock=clock),
            )
            day = journey_day(row, payload, journey, now)
            if decision.busy:
                return DealResult(deal_id, "busy", day, decision)
            if dry_run:
                return DealResult(deal_id, "would upgrade", day, decision)
            if self.ledger.upgrade_journey(decision, journey, templates_dir, now):
                return DealResult(deal_id, "upgraded", day, decision, waiting_runs=self._runs(deal_id))
        return DealResult(deal_id, "busy", detail="its touches kept changing while it was upgraded")

    def _runs(self, deal_id: str) -> int:
        """The runtime's turn: the gate on the new version, then a deliver run for each moment;
        how many touches still wait for theirs (Prefect did not answer: reconcile makes them)."""
        self.runtime.after_complete(deal_id)
        self.runtime.schedule(deal_id)
        return len([t for t in self.ledger.touches(deal_id, states=[TouchState.PLANNED]) if t.moment is not None])


__all__ = ["Upgrader", "UpgradeReport", "DealResult", "UpgradeError", "resolve_version"]
