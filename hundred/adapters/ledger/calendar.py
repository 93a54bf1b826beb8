"""The ledger as the calendar: which touches are due, which moments need a run, and claims.

A deliver run claims the touches due by now with one short transaction:

    SELECT … WHERE due <= :now AND <claimable> ORDER BY <own shard first>, due LIMIT n FOR UPDATE SKIP LOCKED
    UPDATE touches SET claimed_by = :run, lease_until = :now + lease WHERE id IN (…)

On PostgreSQL `SKIP LOCKED` lets two workers claim side by side without waiting on each other; on
SQLite the write transaction (`BEGIN IMMEDIATE`) serialises the claims, so the second sees the
first's. A touch is claimable while it is due, not started (planned or scheduled) and unclaimed or
its claim's lease has run out; or while it is `running` with a lease that ran out (its holder
died mid-delivery: the delivery row then decides whether anything may be sent again). A touch
handed over (a letter in the print room, a task with its owner) has no lease and is never claimed.

The intake works the same way: a deal-closed run claims the stored deals that have no journey yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from hundred.adapters.ledger.db import changed_rows
from hundred.adapters.ledger.models import IntakeRecord, JourneyRecord, TouchRecord
from hundred.journeys.model import GATE_PHASE
from hundred.planning.states import COMPLETE, DUE, FINAL, IntakeState, TouchState
from hundred.service.records import IntakeRow, TouchRow, _from_record

RELEASED = datetime(2000, 1, 1, tzinfo=UTC)  # a lease let go: it ran out long ago, whatever the clock says


_Claimed = TypeVar("_Claimed", TouchRecord, IntakeRecord)

DUE_STATES: tuple[str, ...] = tuple(state.value for state in DUE)  # due, not started


class Calendar:
    """Mixed into `Ledger` (which provides the sessions and the clock)."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]

    # -- touches -------------------------------------------------------------------------------

    @staticmethod
    def _claimable(now: datetime) -> ColumnElement[bool]:
        expired = or_(TouchRecord.lease_until.is_(None), TouchRecord.lease_until < now)
        return or_(
            and_(TouchRecord.state.in_([s.value for s in DUE]), expired),
            and_(
                TouchRecord.state == TouchState.RUNNING,
                TouchRecord.lease_until.is_not(None),
                TouchRecord.lease_until < now,
            ),
        )

    def claim_due(
        self, *, holder: str, now: datetime, lease: timedelta, limit: int, shard: int = 0, shards: int = 1
    ) -> list[TouchRow]:
        """Claim up to `limit` touches due by `now` for `holder` (a deliver run), its own shard's
        first (by deal), oldest first; the rows as claimed."""
        own = case((TouchRecord.shard_key % max(shards, 1) == shard, 0), else_=1)
        rows = self._claim(
            TouchRecord,
            self._claimable(now),
            due=TouchRecord.due <= now,
            order=(own, TouchRecord.due, TouchRecord.deal_id, TouchRecord.id),
            claimed_order=(TouchRecord.due, TouchRecord.id),
            holder=holder,
            until=now + lease,
            limit=limit,
        )
        return [_from_record(TouchRow, r) for r in rows]

    def _claim(
        self,
        record: type[_Claimed],
        claimable: ColumnElement[bool],
        *,
        due: ColumnElement[bool] | None = None,
        order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        claimed_order: Sequence[InstrumentedAttribute[Any]],
        holder: str,
        until: datetime,
        limit: int,
    ) -> Sequence[_Claimed]:
        """The one way a run claims rows, touches and stored deals alike (see the module's
        docstring): the ids under FOR UPDATE SKIP LOCKED, set only where still `claimable`, then
        the rows `holder` really holds, in `claimed_order`."""
        chosen = claimable if due is None else and_(due, claimable)
        with self._write() as session:
            ids = session.scalars(
                select(record.id).where(chosen).order_by(*order).limit(limit).with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            session.execute(
                update(record)
                .where(record.id.in_(ids), claimable)
                .values(claimed_by=holder, lease_until=until)
                .execution_options(synchronize_session=False)
            )
            return session.scalars(
                select(record).where(record.id.in_(ids), record.claimed_by == holder).order_by(*claimed_order)
            ).all()

    def release_claims(self, holders: Collection[str]) -> int:
        """End the claims of runs known to be dead: their touches are claimable at once."""
        return self._release(TouchRecord, holders)

    def _release(self, record: type[TouchRecord] | type[IntakeRecord], holders: Collection[str]) -> int:
        """The one way a dead run's claims end, on touches and on stored deals alike."""
        if not holders:
            return 0
        with self._write() as session:
            return (
                changed_rows(
                    session,
                    update(record)
                    .where(record.claimed_by.in_(list(holders)), record.lease_until.is_not(None))
                    .values(lease_until=RELEASED)
                    .execution_options(synchronize_session=False),
                )
                or 0
            )

    def claim_holders(self, now: datetime) -> set[str]:
        """The runs that hold a live claim (on a touch or a stored deal) right now."""
        with self._read() as session:
            touches = session.scalars(
                select(TouchRecord.claimed_by)
                .where(TouchRecord.lease_until > now, TouchRecord.state.in_([*(s.value for s in DUE), "running"]))
                .distinct()
            ).all()
            deals = session.scalars(
                select(IntakeRecord.claimed_by)
                .where(
                    IntakeRecord.lease_until > now, IntakeRecord.state.in_([IntakeState.PENDING, IntakeState.SUBMITTED])
                )
                .distinct()
            ).all()
        return {h for h in [*touches, *deals] if h}

    def due_moments(
        self, *, until: datetime | None = None, states: Collection[str] = DUE_STATES
    ) -> list[tuple[datetime, int]]:
        """The moments that hold touches in `states` (default: due, not started), with how many
        touches each, earliest first; `until` leaves out later moments. One grouped query: its
        cost grows with moments, not touches."""
        stmt = (
            select(TouchRecord.moment, func.count())
            .where(TouchRecord.state.in_(list(states)), TouchRecord.moment.is_not(None))
            .group_by(TouchRecord.moment)
            .order_by(TouchRecord.moment)
        )
        if until is not None:
            stmt = stmt.where(TouchRecord.moment <= until)
        with self._read() as session:
            return [(m, n) for m, n in session.execute(stmt).all()]

    def moment_counts(self, moments: Collection[datetime]) -> dict[datetime, int]:
        """How many touches are due, not started, in each of `moments` (to size and name its runs)."""
        if not moments:
            return {}
        stmt = (
            select(TouchRecord.moment, func.count())
            .where(TouchRecord.moment.in_(list(moments)), TouchRecord.state.in_([s.value for s in DUE]))
            .group_by(TouchRecord.moment)
        )
        with self._read() as session:
            return {m: n for m, n in session.execute(stmt).all()}

    def overdue(self, *, now: datetime, grace: timedelta, limit: int = 1000) -> list[TouchRow]:
        """Touches that should have been delivered by now (due more than `grace` ago) and that no
        live claim holds: what a catch-up run must take."""
        stmt = (
            select(TouchRecord)
            .where(TouchRecord.due <= now - grace, self._claimable(now))
            .order_by(TouchRecord.due)
            .limit(limit)
        )
        with self._read() as session:
            return [_from_record(TouchRow, r) for r in session.scalars(stmt)]

    def journeys_to_repair(self) -> list[str]:
        """Active journeys whose gate should have opened (touches wait, no affirm touch is left to
        complete) or that have nothing left to happen: what reconcile hands to `after_complete`."""
        touch = TouchRecord
        of_journey = touch.deal_id == JourneyRecord.deal_id
        waiting = exists().where(of_journey, touch.state == TouchState.WAITING)
        affirm_open = exists().where(  # a cancelled affirm touch is one an upgrade removed: it holds nothing
            of_journey,
            touch.phase == GATE_PHASE,
            touch.state.not_in([s.value for s in COMPLETE | {TouchState.CANCELLED}]),
        )
        unfinished = exists().where(of_journey, touch.state.not_in([s.value for s in FINAL]))
        stmt = (
            select(JourneyRecord.deal_id)
            .where(JourneyRecord.state == "active", or_(and_(waiting, ~affirm_open), ~unfinished))
            .order_by(JourneyRecord.id)
        )
        with self._read() as session:
            return list(session.scalars(stmt))

    # -- the intake ----------------------------------------------------------------------------

    def claim_intakes(
        self, *, holder: str, now: datetime, lease: timedelta, limit: int, kinds: Collection[str]
    ) -> list[IntakeRow]:
        """Claim up to `limit` stored deals (pending) for a deal-closed run, oldest first."""
        expired = or_(IntakeRecord.lease_until.is_(None), IntakeRecord.lease_until < now)
        claimable = and_(
            IntakeRecord.state.in_([IntakeState.PENDING, IntakeState.SUBMITTED]),
            IntakeRecord.kind.in_(list(kinds)),
            expired,
        )
        rows = self._claim(
            IntakeRecord,
            claimable,
            order=(IntakeRecord.id,),
            claimed_order=(IntakeRecord.id,),
            holder=holder,
            until=now + lease,
            limit=limit,
        )
        return [_from_record(IntakeRow, r) for r in rows]

    def waiting_intakes(self, *, before: datetime, kinds: Collection[str], limit: int = 1000) -> list[IntakeRow]:
        """Stored deals received before `before` that no live claim holds (reconcile makes sure
        a deal-closed run will take them)."""
        now = self.clock()
        stmt = (
            select(IntakeRecord)
            .where(
                IntakeRecord.state.in_([IntakeState.PENDING, IntakeState.SUBMITTED]),
                IntakeRecord.kind.in_(list(kinds)),
                IntakeRecord.received_at < before,
                or_(IntakeRecord.lease_until.is_(None), IntakeRecord.lease_until < now),
            )
            .order_by(IntakeRecord.id)
            .limit(limit)
        )
        with self._read() as session:
            return [_from_record(IntakeRow, r) for r in session.scalars(stmt)]

    def release_intake_claims(self, holders: Collection[str]) -> int:
        return self._release(IntakeRecord, holders)
