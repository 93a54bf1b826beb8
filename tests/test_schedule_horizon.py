"""The schedule horizon (HUNDRED_SCHEDULE_HORIZON_DAYS): Prefect holds only the runs due soon.

A touch due later stays `planned` in the ledger; the reconcile pass (every 15 minutes on Prefect)
creates its run once it comes within the horizon, and it still goes out on its day. Driven here
with the simulator's in-memory scheduler and a clock the test moves, as in test_runtime.py.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import deal_payload, email, journey_yaml, phase

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.settings import Settings
from hundred.service.simulate import VirtualScheduler

CLOSED = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
JOURNEY = journey_yaml(
    phase("affirm", email("soon", 1)),
    phase("activate", email("mid", 20), email("late", 40)),
    head="timezone: Europe/Amsterdam\ncalendar: {workdays: [mon, tue, wed, thu, fri, sat, sun]}\n"
    'send_window: "00:00-23:59"\n',
)


class World:
    def __init__(self, root: Path, horizon: float | None, day_seconds: float | None = None):
        self.now = CLOSED
        self.ledger = Ledger.memory(clock=lambda: self.now)
        self.scheduler = VirtualScheduler()
        settings = Settings(
            home=root / "home",
            journeys_dir=root / "journeys",
            templates_dir=root / "templates",
            day_seconds=day_seconds,
            schedule_horizon_days=horizon,
        )
        self.runtime = bootstrap.runtime(
            settings, ledger_=self.ledger, scheduler_=self.scheduler, clock=lambda: self.now
        )

    def states(self) -> dict[str, str]:
        return {t.touch_id: t.state for t in self.ledger.touches("D-1")}

    def run_until(self, until: datetime) -> None:
        """Start every run due by `until` at its time, then move the clock to `until`."""
        while self.scheduler.heap and self.scheduler.heap[0][0] <= until:
            at, _, _, (deal, touch, run_id) = heapq.heappop(self.scheduler.heap)
            if self.scheduler.runs.get(run_id) == "SCHEDULED":
                self.scheduler.runs[run_id] = "COMPLETED"
                self.now = max(self.now, at)
                self.runtime.run_touch(deal, touch, flow_run_id=run_id)
        self.now = until


@pytest.fixture
def world(make_journey, tmp_path):
    make_journey(JOURNEY)
    return lambda horizon, day_seconds=None: World(tmp_path, horizon, day_seconds)


def test_only_touches_due_within_the_horizon_get_a_run(world):
    w = world(7)
    w.runtime.deal_closed(deal_payload(closed_at=CLOSED.isoformat()), received_at=CLOSED)
    assert w.states() == {"soon": "scheduled", "mid": "planned", "late": "planned"}
    assert len(w.scheduler.runs) == 1
    assert w.runtime.reconcile().counts.get("scheduled") is None  # nothing came within it yet


def test_reconcile_rolls_the_horizon_forward_and_every_touch_goes_out_on_its_day(world):
    w = world(7)
    w.runtime.deal_closed(deal_payload(closed_at=CLOSED.isoformat()), received_at=CLOSED)
    planned = {t.touch_id: t.planned_due for t in w.ledger.touches("D-1")}
    most_runs = 0
    while w.now < CLOSED + timedelta(days=45):
        w.runtime.reconcile()  # every 15 minutes on Prefect; every 6 hours is enough here
        most_runs = max(most_runs, sum(1 for s in w.scheduler.runs.values() if s == "SCHEDULED"))
        for t in w.ledger.touches("D-1", states=["scheduled"]):
            assert t.due - w.now <= timedelta(days=7), f"{t.touch_id} got its run more than 7 days ahead"
        w.run_until(w.now + timedelta(hours=6))
    sent = {t.touch_id: t for t in w.ledger.touches("D-1")}
    assert {k: t.state for k, t in sent.items()} == {"soon": "delivered", "mid": "delivered", "late": "delivered"}
    for touch_id, t in sent.items():
        assert t.completed_at == planned[touch_id], f"{touch_id} went out at {t.completed_at}, not on its day"
    assert most_runs == 1  # Prefect never held more than the next run


def test_compressed_days_scale_the_horizon_but_never_below_an_hour_of_wall_time(world):
    fast = world(7, day_seconds=60)  # 7 journey days = 7 minutes: the hour's floor holds all 40 days
    fast.runtime.deal_closed(deal_payload(closed_at=CLOSED.isoformat()), received_at=CLOSED)
    assert fast.states() == {"soon": "scheduled", "mid": "scheduled", "late": "scheduled"}

    slow = world(7, day_seconds=600)  # 7 journey days = 70 minutes; day 20 is 200 minutes away
    slow.runtime.deal_closed(deal_payload(id="D-1", closed_at=CLOSED.isoformat()), received_at=CLOSED)
    assert slow.states() == {"soon": "scheduled", "mid": "planned", "late": "planned"}


def test_without_a_horizon_every_run_is_made_when_the_deal_closes(world):
    w = world(None)
    w.runtime.deal_closed(deal_payload(closed_at=CLOSED.isoformat()), received_at=CLOSED)
    assert w.states() == {"soon": "scheduled", "mid": "scheduled", "late": "scheduled"}


def test_simulate_shows_every_touch_whatever_the_horizon(make_journey, tmp_path, monkeypatch):
    from hundred.bootstrap import memory_ledger
    from hundred.deals.model import parse_deal
    from hundred.service.simulate import simulate
    from hundred.validation.validate import load_journey

    monkeypatch.setenv("HUNDRED_SCHEDULE_HORIZON_DAYS", "3")
    journey, templates = load_journey(make_journey(JOURNEY), tmp_path / "templates")
    result = simulate(
        journey, parse_deal(deal_payload(closed_at=CLOSED.isoformat()), now=CLOSED), templates, memory_ledger
    )
    sent = {e.touch for e in result.events if e.event == "delivered"}
    assert sent == {"soon", "mid", "late"}, [(e.touch, e.event) for e in result.events]
