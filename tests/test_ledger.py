"""The ledger: idempotent writes, compare-and-set transitions, races between processes, migrations.

The race tests start real processes (spawn) on one database, line them up on a barrier and let
them hit the same write at once: exactly one may win each time. Every test that takes `ledger` or
`db_url` runs on SQLite and on a throwaway PostgreSQL cluster (tests/pgcluster.py); the PostgreSQL
runs and the races are in the slow lane (tests/lanes.py).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import racing
from sqlalchemy import text

from hundred.adapters.ledger import HEAD, Ledger, LedgerError, NewTouch, db, default_url
from hundred.deals.model import Deal, parse_deal
from hundred.journeys.model import Journey
from hundred.planning.states import Moves, TouchState, check

T0 = datetime(2026, 11, 20, 13, 3, tzinfo=UTC)

JOURNEY: dict[str, Any] = {
    "journey": "x",
    "name": "X",
    "phases": [
        {
            "phase": "affirm",
            "touches": [
                {"id": "thanks", "day": 1, "channel": "letter", "template": "letters/thanks.txt"},
                {"id": "hello", "day": 2, "channel": "email", "subject": "Hallo", "template": "emails/hello.html"},
            ],
        },
        {
            "phase": "advocate",
            "touches": [
                {
                    "id": "referral",
                    "day": 60,
                    "channel": "email",
                    "subject": "Ken je iemand?",
                    "template": "emails/hello.html",
                    "referral": True,
                }
            ],
        },
    ],
}
DEAL: dict[str, Any] = {
    "id": "D-1",
    "closed_at": "2026-11-20T14:03:00+01:00",
    "journey": "x",
    "amount": "12500.00",
    "owner": {"name": "Sanne de Vries", "email": "sanne@example.nl"},
    "contact": {"first_name": "Ilse", "last_name": "Jansen", "email": "ilse@example.nl"},
    "address": {"street": "Dorpsstraat 12", "postcode": "8011 AB", "city": "Zwolle", "country": "NL"},
}


def journey() -> Journey:
    return Journey.model_validate(JOURNEY)


def deal(deal_id: str = "D-1", **changes: Any) -> Deal:
    return parse_deal({**DEAL, "id": deal_id, **changes})


def plan(j: Journey, received_at: datetime = T0) -> list[NewTouch]:
    return [
        NewTouch(
            t.id,
            b.phase,
            t.channel,
            received_at + timedelta(days=t.day),
            gated=j.is_gated(b, t),
            due=None if j.is_gated(b, t) else received_at + timedelta(days=t.day),
        )
        for b, t in j.touches()
    ]


def start(ledger: Ledger, deal_id: str = "D-1") -> bool:
    j = journey()
    return ledger.start_journey(deal(deal_id), j, "templates", plan(j), T0, day_seconds=5.0)


ON_POSTGRES = [pytest.mark.postgres, pytest.mark.slow]


def pg_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("pg_database")("ledger")


@pytest.fixture(params=["memory", pytest.param("postgresql", marks=ON_POSTGRES)])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    led = Ledger.memory() if request.param == "memory" else Ledger.open(pg_url(request))
    yield led
    led.close()


@pytest.fixture
def file_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=ON_POSTGRES)])
def db_url(request: pytest.FixtureRequest, file_url: str) -> str:
    return file_url if request.param == "sqlite" else pg_url(request)


# -- journeys -------------------------------------------------------------------------------------


def test_start_journey_is_idempotent(ledger: Ledger) -> None:
    assert start(ledger) is True
    assert start(ledger) is False
    assert len(ledger.journeys()) == 1
    touches = ledger.touches("D-1")
    assert [t.touch_id for t in touches] == ["thanks", "hello", "referral"]
    assert [t.state for t in touches] == ["planned", "planned", "waiting"]
    assert touches[2].gated and touches[2].due is None
    assert [e.event for e in ledger.events()].count("journey.started") == 1


def test_journey_keeps_its_snapshot_and_deal_payload(ledger: Ledger) -> None:
    start(ledger)
    row = ledger.journey("D-1")
    assert row is not None
    assert (row.journey_id, row.version, row.state, row.day_seconds) == ("x", journey().version(), "active", 5.0)
    assert row.journey_model() == journey()  # no YAML file needed: the in-flight journey runs from this
    assert row.received_at == T0
    assert ledger.deal_payload("D-1")["contact"]["first_name"] == "Ilse"
    ledger.update_deal("D-1", deal(segment="C"))
    assert parse_deal(ledger.deal_payload("D-1")).segment == "C"
    ledger.update_deal("D-2", {"id": "D-2"})  # a deal without a journey (yet)
    assert ledger.deal_payload("D-2") == {"id": "D-2"}
    assert ledger.deal_payload("nope") is None and ledger.journey("nope") is None


def test_start_journey_refuses_repeated_touch_ids(ledger: Ledger) -> None:
    touch = NewTouch("a", "affirm", "email", T0)
    with pytest.raises(ValueError, match="repeat"):
        ledger.start_journey(deal(), journey(), "templates", [touch, touch], T0)
    assert ledger.journey("D-1") is None


def test_a_deal_view_is_the_journey_its_touches_and_its_deal_read_at_once(ledger: Ledger) -> None:
    start(ledger)
    view = ledger.deal_view("D-1")
    assert view is not None and view.journey == ledger.journey("D-1")
    assert view.touches == ledger.touches("D-1")
    assert view.payload == ledger.deal_payload("D-1") and view.payload is not None
    assert view.touch("hello") == ledger.touch("D-1", "hello") and view.touch("nope") is None
    assert ledger.deal_view("D-1", payload=False).payload is None
    assert ledger.deal_view("D-404") is None


def test_exit_cancels_pending_touches_once(ledger: Ledger) -> None:
    start(ledger)
    assert ledger.move("D-1", "thanks", Moves.START)
    assert ledger.exit_journey("D-1", "deal.cancelled") is True
    assert ledger.exit_journey("D-1", "again") is False
    row = ledger.journey("D-1")
    assert (row.state, row.exit_reason) == ("exited", "deal.cancelled")
    assert {t.touch_id: t.state for t in ledger.touches("D-1")} == {
        "thanks": "running",
        "hello": "cancelled",
        "referral": "cancelled",
    }
    assert ledger.complete_journey("D-1") is False
    assert ledger.set_gate_opened("D-1", T0) is False


def test_gate_opens_once_and_journey_completes(ledger: Ledger) -> None:
    start(ledger)
    assert ledger.set_gate_opened("D-1", T0 + timedelta(days=3)) is True
    assert ledger.set_gate_opened("D-1", T0 + timedelta(days=4)) is False
    assert ledger.journey("D-1").gate_opened_at == T0 + timedelta(days=3)
    assert ledger.complete_journey("D-1") is True
    assert ledger.complete_journey("D-1") is False
    assert [j.deal_id for j in ledger.journeys("completed")] == ["D-1"]
    assert ledger.journeys("active") == []
    with pytest.raises(ValueError):
        ledger.journeys("finished")


# -- touches --------------------------------------------------------------------------------------


def test_moves_are_compare_and_set(ledger: Ledger) -> None:
    start(ledger)
    due = T0 + timedelta(days=1)
    assert ledger.move("D-1", "thanks", Moves.SCHEDULE, flow_run_id="run-1", due=due)
    assert not ledger.move("D-1", "thanks", Moves.SCHEDULE, flow_run_id="run-2")  # already done: not a change
    assert not ledger.move("D-1", "thanks", Moves.DELIVER)  # not running
    assert ledger.move("D-1", "thanks", Moves.START, count_attempt=True)
    assert ledger.move("D-1", "thanks", Moves.FAIL, error="template letters/thanks.txt: boom")
    assert ledger.move("D-1", "thanks", Moves.START, count_attempt=True)
    assert ledger.move("D-1", "thanks", Moves.POSTED, event="posted", outcome="posted")
    touch = ledger.touch("D-1", "thanks")
    assert (touch.state, touch.flow_run_id, touch.due, touch.attempts) == ("delivered", "run-1", due, 2)
    assert touch.error == "template letters/thanks.txt: boom"  # kept until a caller clears it
    assert touch.complete and touch.completed_at is not None
    events = [(e.touch_id, e.event, e.detail) for e in ledger.events(deal_id="D-1") if e.touch_id == "thanks"]
    assert events == [
        ("thanks", "planned", None),
        ("thanks", "scheduled", None),
        ("thanks", "running", None),
        ("thanks", "failed", "template letters/thanks.txt: boom"),
        ("thanks", "running", None),
        ("thanks", "posted", "posted"),
    ]
    assert ledger.touch("D-1", "nope") is None
    assert not ledger.move("D-1", "nope", Moves.START)


def test_every_move_says_where_it_may_come_from_and_go():
    for move in Moves.all():
        assert move.sources and move.target not in move.sources, move
    assert Moves.CANCEL.target == "cancelled" and "waiting" in Moves.CANCEL.sources
    assert "delivered" not in Moves.START.sources  # a delivered touch is never started again


def test_moves_refuse_unknown_states_and_fields(ledger: Ledger) -> None:
    start(ledger)
    with pytest.raises(ValueError, match="unknown touch state 'sent'; one of planned, waiting"):
        check("sent", TouchState)
    with pytest.raises(TypeError, match="not a touch field"):
        ledger.move("D-1", "thanks", Moves.START, state="done")
    with pytest.raises(ValueError, match="naive"):
        ledger.move("D-1", "thanks", Moves.SCHEDULE, due=datetime(2026, 12, 1, 9, 0))


def test_update_touch_sets_fields_without_an_event(ledger: Ledger) -> None:
    start(ledger)
    before = len(ledger.events())
    assert ledger.update_touch("D-1", "hello", flow_run_id="run-9", in_states=["planned"])
    assert not ledger.update_touch("D-1", "hello", flow_run_id="run-10", in_states=["scheduled"])
    assert ledger.touch("D-1", "hello").flow_run_id == "run-9"
    assert len(ledger.events()) == before


def test_touches_across_deals_by_state_and_due(ledger: Ledger) -> None:
    start(ledger, "D-1")
    start(ledger, "D-2")
    ledger.move("D-2", "thanks", Moves.SCHEDULE)
    assert [(t.deal_id, t.touch_id) for t in ledger.touches(states=["scheduled"])] == [("D-2", "thanks")]
    overdue = ledger.touches(states=["planned"], due_before=T0 + timedelta(days=1, hours=1))
    assert [(t.deal_id, t.touch_id) for t in overdue] == [("D-1", "thanks")]
    assert ledger.counts() == {"planned": 3, "scheduled": 1, "waiting": 2}


def test_events_page_by_id(ledger: Ledger) -> None:
    start(ledger, "D-1")
    start(ledger, "D-2")
    first = ledger.events(limit=3)
    assert len(first) == 3 and [e.id for e in first] == sorted(e.id for e in first)
    rest = ledger.events(after_id=first[-1].id)
    assert rest and rest[0].id > first[-1].id
    assert {e.deal_id for e in ledger.events(deal_id="D-2")} == {"D-2"}
    ledger.record_event("D-2", "note", "hello", "smtp timeout, retrying")
    assert ledger.events(deal_id="D-2")[-1].detail == "smtp timeout, retrying"


def test_times_are_aware_utc_and_the_clock_is_injectable() -> None:
    virtual = [datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))]
    led = Ledger.memory(clock=lambda: virtual[0])
    start(led)
    virtual[0] += timedelta(days=1)
    led.move("D-1", "thanks", Moves.DONE_BY_OWNER, completed_at=virtual[0])
    touch = led.touch("D-1", "thanks")
    for value in (touch.planned_due, touch.updated_at, touch.completed_at, led.journey("D-1").received_at):
        assert value.tzinfo is UTC
    assert touch.completed_at == datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    assert led.events()[-1].at == virtual[0]


# -- deliveries and letters -----------------------------------------------------------------------


def test_delivery_insert_or_get_and_sent_is_final(ledger: Ledger) -> None:
    key = "D-1/x/hello#email"
    row = ledger.begin_delivery(key, "D-1", "hello", "email", "<D-1.x.hello@example.nl>")
    assert (row.state, row.message_id) == ("pending", "<D-1.x.hello@example.nl>")
    again = ledger.begin_delivery(key, "D-1", "hello", "email", "<other>")
    assert again == row
    assert ledger.mark_delivery(key, "sending")
    assert not ledger.mark_delivery(key, "sending")
    assert ledger.mark_delivery(key, "sent", "250 OK")
    assert not ledger.mark_delivery(key, "failed")
    assert not ledger.mark_delivery(key, "sending")
    done = ledger.delivery(key)
    assert (done.state, done.detail) == ("sent", "250 OK")
    assert done.started_at and done.finished_at and done.started_at <= done.finished_at
    assert ledger.delivery("nope") is None
    with pytest.raises(ValueError):
        ledger.mark_delivery(key, "delivered")


def test_sending_is_claimed_only_while_the_touch_is_not_cancelled(ledger: Ledger) -> None:
    """The cancel check and the `sending` claim are one statement: a cancel that commits first
    leaves the delivery pending and says so (None); one after finds the email already claimed."""
    start(ledger)
    hello, thanks = "D-1/x/hello#email", "D-1/x/thanks#email"
    ledger.begin_delivery(hello, "D-1", "hello", "email", "<hello>")
    ledger.begin_delivery(thanks, "D-1", "thanks", "email", "<thanks>")
    assert ledger.start_sending(thanks, "D-1", "thanks") is True
    assert ledger.start_sending(thanks, "D-1", "thanks") is False  # already claimed: not twice
    assert ledger.exit_journey("D-1", "deal.cancelled")
    assert ledger.touch("D-1", "hello").state == "cancelled"
    assert ledger.start_sending(hello, "D-1", "hello") is None
    assert ledger.start_sending(hello, "D-1", "hello", from_states=("pending", "sending")) is None
    assert ledger.delivery(hello).state == "pending"
    assert ledger.start_sending(hello, "D-1", "no-such-touch") is None  # a touch that is gone sends nothing
    assert [e.event for e in ledger.events() if e.event == "delivery.sending"] == ["delivery.sending"]


def queue(ledger: Ledger, letter_id: str = "D-1/thanks", **changes: Any) -> tuple[Any, bool]:
    args: dict[str, Any] = dict(
        letter_id=letter_id,
        deal_id="D-1",
        touch_id="thanks",
        text="Beste Ilse,\n\nDank je wel.",
        seed=letter_id,
        hand="caveat",
        layout={"paper": "A4", "envelope": "DL", "ink": "blue", "return_address": "", "sender_country": "NL"},
        address={"name": "Ilse Jansen", "street": "Dorpsstraat 12", "city": "Zwolle", "country": "NL"},
        signer="Sanne de Vries",
        signer_title="Accountmanager",
        print_by=date(2026, 11, 23),
    )
    args.update(changes)
    return ledger.queue_letter(**args)


def test_letter_queue_is_idempotent(ledger: Ledger) -> None:
    row, created = queue(ledger)
    assert created and row.state == "queued" and row.layout["envelope"] == "DL"
    again, created_again = queue(ledger, text="something else")
    assert not created_again and again == row
    later, _ = queue(ledger, "D-1/later", touch_id="later", print_by=date(2026, 12, 20), pdf_path="letters/later.pdf")
    assert later.pdf_path == "letters/later.pdf"
    assert [r.letter_id for r in ledger.letters(print_by_until=date(2026, 11, 30))] == ["D-1/thanks"]
    assert ledger.set_letter_state("D-1/thanks", "batched", ["queued"], batch_id="B-1", pdf_path="letters/B-1.pdf")
    assert not ledger.set_letter_state("D-1/thanks", "batched", ["queued"], batch_id="B-2")
    assert not ledger.set_letter_state("D-1/thanks", "posted", ["printed"])
    assert ledger.set_letter_state("D-1/thanks", "printed", ["batched"])
    assert ledger.set_letter_state("D-1/thanks", "posted", ["printed"])
    posted = ledger.letter("D-1/thanks")
    assert (posted.state, posted.batch_id, posted.pdf_path) == ("posted", "B-1", "letters/B-1.pdf")
    assert posted.posted_at is not None and posted.posted_at.tzinfo is UTC
    assert [r.letter_id for r in ledger.letters(state="queued", deal_id="D-1")] == ["D-1/later"]
    assert [e.event for e in ledger.events() if e.event.startswith("letter.")] == [
        "letter.queued",
        "letter.queued",
        "letter.batched",
        "letter.printed",
        "letter.posted",
    ]
    with pytest.raises(TypeError):
        ledger.set_letter_state("D-1/later", "batched", None, state="x")


# -- speed ----------------------------------------------------------------------------------------


def test_memory_is_fast() -> None:
    began = time.perf_counter()
    led = Ledger.memory()
    start(led)
    elapsed = time.perf_counter() - began
    assert elapsed < 0.5, f"Ledger.memory() + start_journey took {elapsed:.3f}s"


# -- files, migrations --------------------------------------------------------------------------


def test_open_creates_a_migrated_wal_file(file_url: str, tmp_path: Path) -> None:
    led = Ledger.open(file_url)
    assert start(led) and not start(led)
    assert db.current_revision(led.engine) == HEAD
    with led.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
    led.close()
    reopened = Ledger.open(file_url)
    assert len(reopened.touches("D-1")) == 3
    reopened.close()


def test_head_matches_the_migrations_and_the_models(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from hundred.adapters.ledger.models import Base

    assert ScriptDirectory.from_config(db.alembic_config()).get_current_head() == HEAD
    led = Ledger.open(db_url)
    with led.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    led.close()


def _old_journey(
    conn: Any, deal: str, touches: list[tuple[str, str, str, datetime | None, str | None]], sqlite: bool
) -> None:
    """A journey as hundred wrote it before moments (schema 0004): per-touch Prefect runs."""

    def t(value: datetime | None) -> Any:
        return value.replace(tzinfo=None) if (value is not None and sqlite) else value

    conn.execute(
        text(
            "INSERT INTO journeys (deal_id, journey_id, version, snapshot, templates_dir, state, received_at, "
            "day_seconds, created_at, updated_at) VALUES (:d, 'x', 'v1', :snap, 'templates', 'active', :at, NULL, :at, :at)"
        ),
        {"d": deal, "snap": json.dumps(journey().model_dump(mode="json")), "at": t(T0)},
    )
    for touch_id, phase, state, due, run in touches:
        conn.execute(
            text(
                "INSERT INTO touches (deal_id, touch_id, phase, channel, gated, planned_due, due, state, flow_run_id, "
                "attempts, updated_at) VALUES (:d, :t, :p, 'email', :g, :pd, :due, :s, :run, 0, :at)"
            ),
            {
                "d": deal,
                "t": touch_id,
                "p": phase,
                "g": state == "waiting",
                "pd": t(due or T0),
                "due": t(due),
                "s": state,
                "run": run,
                "at": t(T0),
            },
        )


def test_an_older_ledger_with_journeys_in_flight_is_upgraded_without_losing_or_doubling_a_touch(db_url: str) -> None:
    """A ledger written before the ledger became the calendar (per-touch runs in Prefect): every
    touch with a due time gets its moment and shard, nothing changes state, submitted deals are
    started or waiting, and a deliver run claims each due touch exactly once."""
    writer, reader = db.make_engines(db_url)
    db.upgrade(writer, "0004")
    sqlite = writer.dialect.name == "sqlite"
    day = timedelta(days=1)
    with writer.begin() as conn:
        _old_journey(
            conn,
            "D-1",
            [
                ("hello", "admit", "delivered", T0, "run-a"),
                ("thanks", "affirm", "scheduled", T0 + day + timedelta(seconds=30), "run-b"),
                ("later", "adopt", "planned", T0 + 40 * day, None),
                ("referral", "advocate", "waiting", None, None),
            ],
            sqlite,
        )
        _old_journey(conn, "D-2", [("thanks", "affirm", "scheduled", T0 + day, "run-c")], sqlite)
        for intake_id, deal, key in (("in-1", "D-1", "k1"), ("in-3", "D-3", "k3")):
            conn.execute(
                text(
                    "INSERT INTO intake (intake_id, kind, source, deal_id, key, state, headers, attempts, received_at, "
                    "updated_at) VALUES (:i, 'deal-closed', 'hook', :d, :k, 'submitted', '{}', 1, :at, :at)"
                ),
                {"i": intake_id, "d": deal, "k": key, "at": T0.replace(tzinfo=None) if sqlite else T0},
            )
    writer.dispose()
    reader.dispose()

    led = Ledger.open(db_url)
    assert db.current_revision(led.engine) == HEAD
    touches = {(t.deal_id, t.touch_id): t for t in led.touches()}
    assert {k: t.state for k, t in touches.items()} == {
        ("D-1", "hello"): "delivered",
        ("D-1", "thanks"): "scheduled",
        ("D-1", "later"): "planned",
        ("D-1", "referral"): "waiting",
        ("D-2", "thanks"): "scheduled",
    }
    assert touches[("D-1", "thanks")].moment == T0 + day + timedelta(minutes=1)  # rounded up, never early
    assert touches[("D-2", "thanks")].moment == T0 + day
    assert touches[("D-1", "referral")].moment is None
    assert {i.intake_id: i.state for i in led.intakes()} == {"in-1": "started", "in-3": "pending"}

    claimed = led.claim_due(holder="run-new", now=T0 + 2 * day, lease=timedelta(minutes=10), limit=100)
    assert sorted((t.deal_id, t.touch_id) for t in claimed) == [("D-1", "thanks"), ("D-2", "thanks")]
    assert led.claim_due(holder="run-other", now=T0 + 2 * day, lease=timedelta(minutes=10), limit=100) == []
    moments = dict(led.due_moments())
    assert moments[T0 + 40 * day] == 1  # the planned one waits for its moment's run
    led.close()


def test_a_ledger_from_a_newer_hundred_is_refused(db_url: str) -> None:
    Ledger.open(db_url).close()
    writer, _ = db.make_engines(db_url)
    with writer.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    writer.dispose()
    with pytest.raises(LedgerError, match="newer hundred"):
        Ledger.open(db_url)


def test_default_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "h"))
    assert default_url() == f"sqlite:///{tmp_path / 'h' / 'ledger.db'}"
    monkeypatch.setenv("HUNDRED_DATABASE_URL", "postgresql://u@db/hundred")
    assert default_url() == "postgresql://u@db/hundred"
    assert db.normalise_url(default_url()) == "postgresql+psycopg://u@db/hundred"


# -- races between processes ----------------------------------------------------------------------

RACERS = 4


def _racer(url: str, barrier: Any, results: Any) -> None:
    """One worker: open (maybe migrating), then race every idempotent write at the barrier."""
    out: dict[str, Any] = {}
    try:
        barrier.wait(timeout=60)
        led = Ledger.open(url)
        barrier.wait(timeout=60)
        out["start"] = start(led)
        barrier.wait(timeout=60)
        out["transition"] = led.move("D-1", "thanks", Moves.SCHEDULE)
        barrier.wait(timeout=60)
        out["gate"] = led.set_gate_opened("D-1", datetime.now(UTC))
        barrier.wait(timeout=60)
        out["delivery"] = led.begin_delivery("D-1/x/hello#email", "D-1", "hello", "email").state
        out["sending"] = led.mark_delivery("D-1/x/hello#email", "sending")
        barrier.wait(timeout=60)
        out["letter"] = queue(led)[1]
        led.close()
    except Exception as exc:  # reported to the parent, which fails the test with it
        out["error"] = repr(exc)
    results.put(out)


def race(url: str) -> list[dict[str, Any]]:
    return racing.race(_racer, (url,), RACERS, timeout=120)


def check_one_winner_each(url: str, outs: list[dict[str, Any]]) -> None:
    for step in ("start", "transition", "gate", "sending", "letter"):
        assert sorted(o[step] for o in outs) == [False] * (RACERS - 1) + [True], step
    assert {o["delivery"] for o in outs} <= {"pending", "sending"}
    led = Ledger.open(url)
    assert len(led.journeys()) == 1 and len(led.touches("D-1")) == 3 and len(led.letters()) == 1
    events = [e.event for e in led.events()]
    assert events.count("journey.started") == 1 and events.count("gate.opened") == 1
    assert events.count("scheduled") == 1 and events.count("delivery.sending") == 1
    led.close()


@pytest.mark.slow  # processes racing on one database
def test_processes_racing_on_one_ledger_leave_one_winner(db_url: str) -> None:
    check_one_winner_each(db_url, race(db_url))


def test_the_ledger_imports_only_the_core_and_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hundred.adapters.ledger; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'fastapi', 'flows', 'httpx', "
        "'alembic', 'pydantic_settings') or m in ('hundred.service.settings', 'hundred.service.runtime', 'hundred.adapters.channels')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # Alembic too: it loads only when a ledger file needs migrating


# -- PostgreSQL connections -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_a_connection_the_database_ended_is_replaced_unseen(request: pytest.FixtureRequest) -> None:
    """A database restart (or an administrator) ends the pool's connections, even a moment after
    their last use: the next use finds out first and takes a new one, so no caller (a webhook
    being stored) sees the dead connection. SQLAlchemy's pool_pre_ping, on every checkout: a
    rested-only ping answered such a webhook 503 (bench/intake.py)."""
    import psycopg

    led = Ledger.open(url := pg_url(request))
    try:
        assert start(led)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 1  # the ledger's pooled connection, ended
        journey = led.journey("D-1")
        assert journey is not None and journey.state == "active"
    finally:
        led.close()
