"""The intake log: what the CRM sent, kept before it is answered, and the dead letters.

`add_intake` inserts under a unique intake id and, for an accepted deal-closed, a unique key (the
deal-closed run's idempotency key): the same delivery twice, or two at once, leave one row, and
the caller that lost the race gets the winner's row back (`created` False). State changes are
compare-and-set (`UPDATE ... WHERE state IN (...)`), like the touches'.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hundred.adapters.ledger.db import one_row
from hundred.adapters.ledger.models import IntakeRecord, JourneyRecord
from hundred.service.records import INTAKE_STATES, IntakeRow, _from_record

RAW_MAX = 64 * 1024  # characters of a refused body kept with its dead letter
INTAKE_FIELDS = frozenset(
    {"key", "payload", "raw", "headers", "reason", "run_id", "deal_id", "kind", "claimed_by", "lease_until"}
)


def new_intake_id() -> str:
    return "in-" + secrets.token_hex(6)


def bounded(raw: bytes | str | None) -> str | None:
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return text if len(text) <= RAW_MAX else text[:RAW_MAX] + f"\n… ({len(text) - RAW_MAX:,} more characters not kept)"


class IntakeLog:
    """Mixed into `Ledger` (which provides _write, _read and clock)."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]

    def add_intake(
        self,
        *,
        kind: str,
        source: str,
        state: str,
        deal_id: str | None = None,
        key: str | None = None,
        payload: dict[str, Any] | None = None,
        raw: bytes | str | None = None,
        headers: dict[str, Any] | None = None,
        reason: str | None = None,
        received_at: datetime | None = None,
    ) -> tuple[IntakeRow, bool]:
        """(row, created). With a `key` already stored: (that row, False), nothing written."""
        if state not in INTAKE_STATES:
            raise ValueError(f"unknown intake state {state!r}")
        now = self.clock()
        record = IntakeRecord(
            intake_id=new_intake_id(),
            kind=kind,
            source=source,
            deal_id=deal_id,
            key=key,
            state=state,
            payload=payload,
            raw=bounded(raw),
            headers=dict(headers or {}),
            reason=reason,
            attempts=0,
            received_at=received_at or now,
            updated_at=now,
        )
        try:
            with self._write() as session:
                session.add(record)
                session.flush()
                row = _from_record(IntakeRow, record)
        except IntegrityError:
            existing = self.intake_by_key(key) if key else None
            if existing is None:
                raise
            return existing, False
        return row, True

    def intake(self, intake_id: str) -> IntakeRow | None:
        return one_row(self._read, IntakeRow, select(IntakeRecord).where(IntakeRecord.intake_id == intake_id))

    def intake_by_key(self, key: str) -> IntakeRow | None:
        return one_row(self._read, IntakeRow, select(IntakeRecord).where(IntakeRecord.key == key))

    def intakes(
        self,
        *,
        states: Collection[str] | None = None,
        deal_id: str | None = None,
        kinds: Collection[str] | None = None,
        limit: int = 1000,
    ) -> list[IntakeRow]:
        """Oldest first."""
        stmt = select(IntakeRecord).order_by(IntakeRecord.id).limit(limit)
        if states is not None:
            stmt = stmt.where(IntakeRecord.state.in_(list(states)))
        if deal_id is not None:
            stmt = stmt.where(IntakeRecord.deal_id == deal_id)
        if kinds is not None:
            stmt = stmt.where(IntakeRecord.kind.in_(list(kinds)))
        with self._read() as session:
            return [_from_record(IntakeRow, r) for r in session.scalars(stmt)]

    def unstarted_intakes(self, limit: int = 1000) -> list[IntakeRow]:
        """Submitted deal-closed intakes whose deal has no journey yet (their run has not started
        it: still to run, or it ended without doing so), oldest first."""

        stmt = (
            select(IntakeRecord)
            .where(
                IntakeRecord.state == "submitted",
                IntakeRecord.run_id.is_not(None),
                ~exists().where(JourneyRecord.deal_id == IntakeRecord.deal_id),
            )
            .order_by(IntakeRecord.id)
            .limit(limit)
        )
        with self._read() as session:
            return [_from_record(IntakeRow, r) for r in session.scalars(stmt)]

    def set_intake(self, intake_id: str, state: str | None = None, **how: Any) -> bool:
        """Compare-and-set: True only when this call changed the row (`update_intake`'s arguments)."""
        return self.update_intake(intake_id, state, **how) is not None

    def update_intake(
        self,
        intake_id: str,
        state: str | None = None,
        *,
        from_states: Collection[str] | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> IntakeRow | None:
        """`set_intake` answering the row as this call left it (None: it did not change it), in
        the same statement (UPDATE … RETURNING): the webhook answers without reading it again."""
        unknown = set(fields) - INTAKE_FIELDS
        if unknown:
            raise TypeError(f"not an intake field: {', '.join(sorted(unknown))}")
        if state is not None and state not in INTAKE_STATES:
            raise ValueError(f"unknown intake state {state!r}")
        if "raw" in fields:
            fields["raw"] = bounded(fields["raw"])
        values: dict[str, Any] = {**fields, "updated_at": self.clock()}
        if state is not None:
            values["state"] = state
        if count_attempt:
            values["attempts"] = IntakeRecord.attempts + 1
        stmt = update(IntakeRecord).where(IntakeRecord.intake_id == intake_id)
        if from_states is not None:
            stmt = stmt.where(IntakeRecord.state.in_(list(from_states)))
        stmt = stmt.values(**values).returning(IntakeRecord).execution_options(synchronize_session=False)
        with self._write() as session:
            record = session.scalars(stmt).first()
            return _from_record(IntakeRow, record) if record is not None else None
