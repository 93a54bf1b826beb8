"""Journey days: the day a real moment falls on, with the real clock and the compressed one
(`--day-seconds`), in Python (planning/days.py) and in the figures' SQL alike; and a ledger from
before migration 0007 gets its journeys' days filled in."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from conftest import deal_payload, email, journey_yaml, phase, task
from test_ledger import DEAL, T0, deal, journey, plan

from hundred import bootstrap
from hundred.adapters.ledger import Ledger, db
from hundred.planning.days import JourneyDays
from hundred.service.settings import Settings
from hundred.service.simulate import VirtualScheduler

AMS = ZoneInfo("Europe/Amsterdam")


def test_day_zero_is_the_close_date_whatever_the_hour():
    closed = datetime(2026, 11, 20, 16, 0, tzinfo=AMS)  # a Friday afternoon
    days = JourneyDays.of(closed, "Europe/Amsterdam", closed, None)
    assert days.closed_on == date(2026, 11, 20) and days.day_zero == datetime(2026, 11, 20, 0, 0, tzinfo=AMS)
    assert days.day(datetime(2026, 11, 21, 9, 30, tzinfo=AMS)) == 1  # "day 1, 09:30" is day 1, not 0
    assert days.day(datetime(2026, 11, 20, 23, 59, tzinfo=AMS)) == 0
    assert days.date_of(datetime(2026, 11, 23, 10, 0, tzinfo=AMS)) == date(2026, 11, 23)
    assert days.day_of_date(date(2026, 11, 23)) == 3


def test_a_compressed_journey_counts_its_own_days():
    closed = datetime(2026, 11, 20, 12, 0, tzinfo=AMS)  # half of day 0 had passed at the close
    received = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    days = JourneyDays.of(closed, "Europe/Amsterdam", received, 10.0)  # a journey day lasts 10 s
    assert days.day_zero == received - timedelta(seconds=5)
    assert days.day(received) == 0 and days.day(received + timedelta(seconds=4.9)) == 0
    assert days.day(received + timedelta(seconds=5)) == 1
    assert days.day(received + timedelta(seconds=35)) == 4
    assert days.date_of(received + timedelta(seconds=35)) == date(2026, 11, 24)


JOURNEY = journey_yaml(
    phase("admit", task("call", 0, "confirm: false\n")),
    phase("affirm", email("hello", 1), email("later", 3, 'at: "16:30"\n')),
    phase("activate", task("visit", 6, "confirm: false\n")),
    head="timezone: Europe/Amsterdam\ncalendar: {workdays: [mon, tue, wed, thu, fri, sat, sun]}\n"
    'send_window: "08:00-18:00"\n',
)


@pytest.mark.parametrize(
    "db_kind", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]
)
def test_the_sql_counts_the_same_days_as_the_plan_on_a_compressed_clock(make_journey, tmp_path, request, db_kind):
    make_journey(JOURNEY)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    if db_kind == "postgresql":
        url = request.getfixturevalue("pg_database")("days")
    now = [datetime.now(UTC).replace(microsecond=0)]
    ledger = Ledger.open(url, clock=lambda: now[0])
    settings = Settings(
        home=tmp_path / "home",
        journeys_dir=tmp_path / "journeys",
        templates_dir=tmp_path / "templates",
        letters_dir=tmp_path / "letters",
        day_seconds=60.0,
    )
    rt = bootstrap.runtime(settings, ledger_=ledger, scheduler_=VirtualScheduler(), clock=lambda: now[0])
    closed = now[0].astimezone(AMS).replace(hour=11, minute=0) - timedelta(days=2)  # a close two days before it came
    rt.deal_closed(deal_payload(closed.isoformat(), journey="x"))
    while due := ledger.touches(states=["planned", "scheduled"]):
        t = min(due, key=lambda x: x.due)
        now[0] = max(now[0], t.due)
        rt.run_touch(t.deal_id, t.touch_id)
    report = bootstrap.figures(settings, ledger_=ledger, clock=lambda: now[0]).report()
    days = {t.touch: t.median_day for t in report.journeys[0].touches}
    story = bootstrap.figures(settings, ledger_=ledger, clock=lambda: now[0]).story("D-1")
    ledger.close()
    planned = {t.touch: t.planned_day for t in story.touches}
    assert planned == {"call": 0, "hello": 1, "later": 3, "visit": 6}
    assert days == {k: float(v) for k, v in planned.items()}  # every touch on its planned day, in SQL too
    assert {t.touch: t.actual_day for t in story.touches} == planned


def old_journey(writer: Any, deal_id: str = "D-1") -> None:
    """A journey as the first schema stored it (its own columns only: today's models have more)."""
    sqlite = writer.dialect.name == "sqlite"

    def at(moment: datetime | None) -> datetime | None:
        return moment.astimezone(UTC).replace(tzinfo=None) if moment and sqlite else moment

    j, d = journey(), deal(deal_id)
    with writer.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO journeys (deal_id, journey_id, version, snapshot, templates_dir, state, received_at, "
                "day_seconds, created_at, updated_at) VALUES (:d, :j, :v, :s, 'templates', 'active', :r, 5.0, :r, :r)"
            ),
            {"d": deal_id, "j": j.journey, "v": j.version(), "s": json.dumps(j.model_dump(mode="json")), "r": at(T0)},
        )
        conn.execute(
            sa.text("INSERT INTO deals (deal_id, payload, updated_at) VALUES (:d, :p, :r)"),
            {"d": deal_id, "p": json.dumps(d.model_dump(mode="json")), "r": at(T0)},
        )
        for t in plan(j):
            conn.execute(
                sa.text(
                    "INSERT INTO touches (deal_id, touch_id, phase, channel, gated, planned_due, due, state, "
                    "attempts, updated_at) VALUES (:d, :t, :p, :c, :g, :pd, :due, :s, 0, :r)"
                ),
                {
                    "d": deal_id,
                    "t": t.touch_id,
                    "p": t.phase,
                    "c": t.channel,
                    "g": t.gated,
                    "pd": at(t.planned_due),
                    "due": at(t.due),
                    "s": t.initial_state,
                    "r": at(T0),
                },
            )


def test_a_ledger_from_before_the_figures_gets_its_journeys_days(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    writer, reader = db.make_engines(url)
    db.upgrade(writer, "0004")
    old_journey(writer, "D-OLD")
    writer.dispose()
    reader.dispose()
    led = Ledger.open(url)
    with led.engine.connect() as conn:
        closed_on, day_zero = conn.exec_driver_sql(
            "SELECT closed_on, day_zero FROM journeys WHERE deal_id = 'D-OLD'"
        ).one()
    want = JourneyDays.of(datetime.fromisoformat(DEAL["closed_at"]), "Europe/Amsterdam", T0, 5.0)
    assert str(closed_on) == want.closed_on.isoformat()
    assert datetime.fromisoformat(str(day_zero)).replace(tzinfo=UTC) == want.day_zero.astimezone(UTC)
    facts = bootstrap.figures(ledger_=led).story("D-OLD")
    assert facts is not None and facts.days.closed_on == want.closed_on
    led.close()
