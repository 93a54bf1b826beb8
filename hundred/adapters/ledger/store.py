"""The `Ledger`: what happened to every journey, touch, delivery and letter.

Prefect owns time (when a touch runs); the ledger owns truth (what it did). Every write is
idempotent or a compare-and-set, so two workers, a retried flow run and a duplicated deal-closed
event all leave one journey, one set of touches and one transition each:

- `start_journey` inserts under a unique deal id, in one transaction with its touches;
- `transition` is `UPDATE touches SET state=:to WHERE ... AND state IN (:from) AND state != :to`,
  and only the caller whose UPDATE changed the row gets True (and writes the event);
- `set_gate_opened` is `... WHERE gate_opened_at IS NULL`: the referral is scheduled by exactly one
  of however many racing affirm completions.

Transactions are short and never span a delivery; rows come back as frozen dataclasses.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from hundred.adapters.ledger import db
from hundred.adapters.ledger.batches import Batches
from hundred.adapters.ledger.calendar import Calendar
from hundred.adapters.ledger.db import changed_rows, one_row
from hundred.adapters.ledger.intake import IntakeLog
from hundred.adapters.ledger.models import Base, DealRecord, EventRecord, JourneyRecord, TouchRecord
from hundred.adapters.ledger.queue import DeliveriesAndLetters
from hundred.adapters.ledger.touches import Touches
from hundred.adapters.ledger.upgrades import Upgrades
from hundred.deals.model import Deal
from hundred.journeys.model import Journey
from hundred.planning.days import JourneyDays
from hundred.planning.identity import shard_key
from hundred.planning.states import NOT_STARTED, TouchState
from hundred.service.ports import utcnow
from hundred.service.records import (
    JOURNEY_STATES,
    PENDING_TOUCH_STATES,
    DealView,
    EventRow,
    JourneyRow,
    NewTouch,
    TouchRow,
    _from_record,
    check_state,
)

Clock = Callable[[], datetime]
_EVENTS = "hundred.events"  # Session.info key: the events a write transaction will insert (`_event`)
_EVENT_TABLE = cast(Table, EventRecord.__table__)


def default_url(environ: Mapping[str, str] = os.environ) -> str:
    """HUNDRED_DATABASE_URL, else the SQLite file `$HUNDRED_HOME/ledger.db` (HUNDRED_HOME default
    `.hundred`): the same rule as `Settings.ledger_url`, restated here so the ledger does not
    import the settings layer (a test keeps the two equal)."""
    url = (environ.get("HUNDRED_DATABASE_URL") or "").strip()
    if url:
        return url
    home = Path(environ.get("HUNDRED_HOME") or ".hundred").expanduser().absolute()
    return f"sqlite:///{home / 'ledger.db'}"


class Ledger(DeliveriesAndLetters, Batches, IntakeLog, Calendar, Upgrades, Touches):
    """One ledger database. Cheap to keep for a process's lifetime; `close()` releases connections.

    `clock` stamps every row and event: `hundred simulate` passes its virtual clock, so the event
    log reads in simulated time.
    """

    def __init__(self, writer: Engine, reader: Engine | None = None, *, clock: Clock = utcnow):
        self.engine = writer
        self.reader_engine = reader or writer  # SQLite: a second engine whose transactions only read
        self.clock = clock
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self._reader = sessionmaker(self.reader_engine, expire_on_commit=False)
        self._engines = {writer, self.reader_engine}

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, clock: Clock = utcnow) -> Ledger:
        """The ledger at `url` (default: `default_url()`), migrated to this hundred's schema.

        Migration runs only when the ledger is behind (one query otherwise) and is serialised
        across processes, so starting two workers on an old ledger upgrades it once.
        """
        writer, reader = db.make_engines(url or default_url())
        db.ensure_schema(writer, reader)
        return cls(writer, reader, clock=clock)

    @classmethod
    def memory(cls, *, clock: Clock = utcnow) -> Ledger:
        """A throwaway in-memory ledger (create_all, no Alembic): for `hundred simulate` and tests."""
        writer, _ = db.make_engines("sqlite://")
        Base.metadata.create_all(writer)
        return cls(writer, clock=clock)

    def close(self) -> None:
        for engine in self._engines:
            engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction; the events noted in it (`_event`) are inserted just before it
        commits, in one statement."""
        try:
            with self._writer() as session, session.begin():
                session.info[_EVENTS] = []
                yield session
                if session.info[_EVENTS]:
                    session.execute(insert(_EVENT_TABLE), session.info.pop(_EVENTS))
        except StatementError as exc:  # our own ValueError from a column type (a naive datetime)
            if not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError):
                raise exc.orig from None
            raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    def _event(
        self, session: Session, deal_id: str, event: str, touch_id: str | None = None, detail: str | None = None
    ) -> None:
        """Note an event of this write transaction; only inside `_write`, which collects them
        (outside it there is no list to note it in: a KeyError). A plain INSERT at its end rather
        than an ORM object: the unit of work's flush cost about as much as the change the event
        records, on every delivery."""
        session.info[_EVENTS].append(
            {"at": self.clock(), "deal_id": deal_id, "touch_id": touch_id, "event": event, "detail": detail}
        )

    def record_event(self, deal_id: str, event: str, touch_id: str | None = None, detail: str | None = None) -> None:
        """Append a note to the event log (e.g. "retrying after SMTP timeout") with no state change."""
        with self._write() as session:
            self._event(session, deal_id, event, touch_id, detail)

    # -- journeys and deals --------------------------------------------------------------------

    def start_journey(
        self,
        deal: Deal,
        journey: Journey,
        templates_dir: str,
        touches: list[NewTouch],
        received_at: datetime,
        day_seconds: float | None = None,
    ) -> bool:
        """Record a deal's journey, its deal payload and its touches, all or nothing.

        False when the deal already has a journey (a repeated deal-closed, or another worker won
        the race): nothing is changed then. The unique deal id decides, not a prior read.
        """
        ids = [t.touch_id for t in touches]
        if len(set(ids)) != len(ids):
            raise ValueError(f"touch ids repeat in {ids}")
        now = self.clock()
        version = journey.version()
        days = JourneyDays.of(deal.closed_at, journey.timezone, received_at, day_seconds)
        try:
            with self._write() as session:
                session.add(
                    JourneyRecord(
                        deal_id=deal.id,
                        journey_id=journey.journey,
                        version=version,
                        snapshot=journey.model_dump(mode="json"),
                        templates_dir=str(templates_dir),
                        state="active",
                        received_at=received_at,
                        day_seconds=day_seconds,
                        created_at=now,
                        updated_at=now,
                        closed_on=days.closed_on,
                        day_zero=days.day_zero,
                    )
                )
                session.flush()  # the unique deal_id: a second journey for the deal fails here
                self._put_deal(session, deal.id, deal.model_dump(mode="json"), now)
                for touch in touches:
                    session.add(
                        TouchRecord(
                            deal_id=deal.id,
                            touch_id=touch.touch_id,
                            phase=touch.phase,
                            channel=touch.channel,
                            gated=touch.gated,
                            planned_due=touch.planned_due,
                            due=touch.due,
                            moment=touch.moment,
                            shard_key=shard_key(deal.id),
                            state=touch.initial_state,
                            attempts=0,
                            updated_at=now,
                        )
                    )
                self._event(session, deal.id, "journey.started", detail=f"{journey.journey}@{version}")
                for touch in touches:
                    self._event(session, deal.id, touch.initial_state, touch.touch_id)
        except IntegrityError:
            if self.journey(deal.id) is None:
                raise
            return False
        return True

    def journey(self, deal_id: str) -> JourneyRow | None:
        return one_row(self._read, JourneyRow, select(JourneyRecord).where(JourneyRecord.deal_id == deal_id))

    def journeys(self, state: str | None = None) -> list[JourneyRow]:
        """All journeys (or those in `state`), oldest received first."""
        stmt = select(JourneyRecord).order_by(JourneyRecord.received_at, JourneyRecord.id)
        if state is not None:
            check_state(state, JOURNEY_STATES, "journey")
            stmt = stmt.where(JourneyRecord.state == state)
        with self._read() as session:
            return [_from_record(JourneyRow, r) for r in session.scalars(stmt)]

    def deal_payload(self, deal_id: str) -> dict[str, Any] | None:
        """The deal as last sent by the CRM (JSON); `parse_deal` turns it back into a Deal."""
        with self._read() as session:
            return session.scalar(select(DealRecord.payload).where(DealRecord.deal_id == deal_id))

    def deal_view(self, deal_id: str, *, payload: bool = True) -> DealView | None:
        """The journey, its touches and (unless `payload=False`) the stored deal, in one read
        transaction instead of three: delivering a touch asks for them all."""
        with self._read() as session:
            journey = session.scalar(select(JourneyRecord).where(JourneyRecord.deal_id == deal_id))
            if journey is None:
                return None
            touches = session.scalars(
                select(TouchRecord)
                .where(TouchRecord.deal_id == deal_id)
                .order_by(TouchRecord.deal_id, TouchRecord.planned_due, TouchRecord.id)
            )
            rows = [_from_record(TouchRow, r) for r in touches]
            stored = (
                session.scalar(select(DealRecord.payload).where(DealRecord.deal_id == deal_id)) if payload else None
            )
            return DealView(_from_record(JourneyRow, journey), rows, stored)

    def update_deal(self, deal_id: str, payload: Mapping[str, Any] | Deal) -> None:
        """Replace the stored deal payload (a `when:` condition reads the newest one at run time)."""
        data = payload.model_dump(mode="json") if isinstance(payload, Deal) else dict(payload)
        try:
            with self._write() as session:
                self._put_deal(session, deal_id, data, self.clock())
        except IntegrityError:  # another writer inserted it first: ours is the newer payload
            with self._write() as session:
                self._put_deal(session, deal_id, data, self.clock())

    def _put_deal(self, session: Session, deal_id: str, payload: dict[str, Any], now: datetime) -> None:
        changed = changed_rows(
            session,
            update(DealRecord)
            .where(DealRecord.deal_id == deal_id)
            .values(payload=payload, updated_at=now)
            .execution_options(synchronize_session=False),
        )
        if not changed:
            session.add(DealRecord(deal_id=deal_id, payload=payload, updated_at=now))
            session.flush()

    def _journey_cas(self, session: Session, deal_id: str, where: list[Any], **values: Any) -> bool:
        stmt = (
            update(JourneyRecord)
            .where(JourneyRecord.deal_id == deal_id, *where)
            .values(updated_at=self.clock(), **values)
            .execution_options(synchronize_session=False)
        )
        return changed_rows(session, stmt) == 1

    def exit_journey(self, deal_id: str, reason: str) -> bool:
        """Active → exited, and every touch not yet started (planned, waiting, scheduled) →
        cancelled, in one transaction. False when the journey is not active. Touches already
        running (a queued letter, a task with its owner) are left for the runtime to decide."""
        with self._write() as session:
            if not self._journey_cas(
                session, deal_id, [JourneyRecord.state == "active"], state="exited", exit_reason=reason
            ):
                return False
            self._event(session, deal_id, "journey.exited", detail=reason)
            pending = session.scalars(
                select(TouchRecord.touch_id).where(
                    TouchRecord.deal_id == deal_id, TouchRecord.state.in_(PENDING_TOUCH_STATES)
                )
            ).all()
            for touch_id in pending:
                if self._touch_cas(
                    session, deal_id, touch_id, TouchState.CANCELLED, NOT_STARTED, {"lease_until": None}
                ):
                    self._event(session, deal_id, "cancelled", touch_id, reason)
            return True

    def complete_journey(self, deal_id: str) -> bool:
        """Active → completed (every touch finished); False when it was not active."""
        with self._write() as session:
            if not self._journey_cas(session, deal_id, [JourneyRecord.state == "active"], state="completed"):
                return False
            self._event(session, deal_id, "journey.completed")
            return True

    def set_gate_opened(self, deal_id: str, at: datetime) -> bool:
        """Record that the affirm gate opened at `at`, once: True only for the one caller that
        set it (compare-and-set on `gate_opened_at IS NULL`), so that caller alone schedules the
        gated touches. False when already open or the journey is not active."""
        with self._write() as session:
            if not self._journey_cas(
                session,
                deal_id,
                [JourneyRecord.gate_opened_at.is_(None), JourneyRecord.state == "active"],
                gate_opened_at=at,
            ):
                return False
            self._event(session, deal_id, "gate.opened")
            return True

    # -- events --------------------------------------------------------------------------------

    def events(self, after_id: int = 0, deal_id: str | None = None, limit: int = 1000) -> list[EventRow]:
        """Events with id > after_id, oldest first: poll with the last id seen to follow live.

        On PostgreSQL ids are handed out at insert, so a transaction that commits late can land
        an id below one already seen; a live view that must see everything re-reads a short tail.
        """
        stmt = select(EventRecord).where(EventRecord.id > after_id).order_by(EventRecord.id).limit(limit)
        if deal_id is not None:
            stmt = stmt.where(EventRecord.deal_id == deal_id)
        with self._read() as session:
            return [_from_record(EventRow, r) for r in session.scalars(stmt)]

    def counts(self) -> dict[str, int]:
        """Touches per state across all journeys (for `status` and health checks)."""
        with self._read() as session:
            rows = session.execute(select(TouchRecord.state, func.count()).group_by(TouchRecord.state)).all()
            return {state: n for state, n in rows}


__all__ = ["Ledger", "default_url"]
