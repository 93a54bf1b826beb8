"""Running a runtime's moments by hand, as the `deliver` flow does, with time in the test's hands.

A test world has `.now` (its clock), `.scheduler` (the simulator's VirtualScheduler) and `.runtime`;
`ClockWorld` is the one every runtime test builds on.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.settings import Settings
from hundred.service.simulate import VirtualScheduler

CLOSED = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)  # Friday 20 Nov 2026, 14:03 in Amsterdam


class ClockWorld:
    """A runtime on a ledger (in memory unless given) whose clock the test moves; runs start when
    `run_until` reaches them. The journeys and templates are the ones under `root`."""

    def __init__(self, root: Path, ledger: Ledger | None = None, start: datetime | None = None):
        self.root = root
        self.now = start or CLOSED
        self.ledger = ledger or Ledger.memory(clock=lambda: self.now)
        self.ledger.clock = lambda: self.now
        self.scheduler = VirtualScheduler()
        self.settings = Settings(
            home=root / "home",
            letters_dir=root / "letters",
            journeys_dir=root / "journeys",
            templates_dir=root / "templates",
            day_seconds=None,
        )
        self.runtime = bootstrap.runtime(
            self.settings, ledger_=self.ledger, scheduler_=self.scheduler, clock=lambda: self.now
        )

    def run_until(self, until: datetime, skip: tuple[str, ...] = ()) -> list[str]:
        return run_until(self, until, skip)

    def state(self, touch: str, deal: str = "D-1") -> str:
        row = self.ledger.touch(deal, touch)
        assert row is not None, f"{deal} has no touch {touch!r}"
        return row.state


def run_until(world: Any, until: datetime, skip: tuple[str, ...] = ()) -> list[str]:
    """Start every moment's run due by `until`, in order: each claims the touches due and delivers
    them; `skip` are touches whose run dies after claiming them. Returns the touches that ran."""
    ran = []
    scheduler = world.scheduler
    while scheduler.heap and scheduler.heap[0][0] <= until:
        at, _, kind, (_, _, run_id) = heapq.heappop(scheduler.heap)
        if kind != "moment" or scheduler.runs.get(run_id) != "SCHEDULED":
            continue
        world.now = max(world.now, at)
        scheduler.runs[run_id] = "COMPLETED"
        for claimed in world.runtime.claim_due(run_id, limit=1000):
            if claimed.touch_id in skip:
                continue
            world.runtime.run_touch(claimed.deal_id, claimed.touch_id, holder=run_id)
            ran.append(claimed.touch_id)
    world.now = max(world.now, until)
    return ran
