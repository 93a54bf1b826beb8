"""Deliveries (exactly-once sends) and the letter print queue: the `Ledger` methods for both.

A delivery row is keyed `<idempotency_key>#<channel>` and moves pending → sending → sent | failed
(design.md, "Exactly once"); `sent` is final. A letter is keyed by its reference (`<deal>/<touch>`)
and keeps its rendering inputs, so the print room can re-render it identically at any time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hundred.adapters.ledger.db import changed_rows, one_row
from hundred.adapters.ledger.models import DeliveryRecord, LetterRecord, TouchRecord
from hundred.service.records import DELIVERY_STATES, LETTER_STATES, DeliveryRow, LetterRow, _from_record, check_state

# Where a delivery may come from when the caller does not say: `sent` is never left.
DELIVERY_FROM: dict[str, tuple[str, ...]] = {
    "pending": ("failed",),
    "sending": ("pending", "failed"),
    "sent": ("pending", "sending"),
    "failed": ("pending", "sending"),
}
LETTER_FIELDS = frozenset({"batch_id", "pdf_path", "posted_at"})


class DeliveriesAndLetters:
    """Mixed into `Ledger`, which provides the sessions, the clock and the event log."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]
    _event: Callable[..., None]

    # -- deliveries ----------------------------------------------------------------------------

    def begin_delivery(
        self, key: str, deal_id: str, touch_id: str, channel: str, message_id: str | None = None
    ) -> DeliveryRow:
        """The delivery row for `key`, created as `pending` if there is none (insert-or-get).

        The returned state tells the channel what to do: pending/failed → send, sent → nothing,
        sending → a previous attempt may have delivered (design.md).
        """
        try:
            with self._write() as session:
                record = DeliveryRecord(
                    key=key,
                    deal_id=deal_id,
                    touch_id=touch_id,
                    channel=channel,
                    state="pending",
                    message_id=message_id,
                    detail=None,
                    started_at=None,
                    finished_at=None,
                    created_at=self.clock(),
                )
                session.add(record)
                session.flush()  # inserted here, or IntegrityError: the row exists already
                created: DeliveryRow = _from_record(DeliveryRow, record)
        except IntegrityError:
            row = self.delivery(key)
            assert row is not None, key
            return row
        return created

    def delivery(self, key: str) -> DeliveryRow | None:
        return one_row(self._read, DeliveryRow, select(DeliveryRecord).where(DeliveryRecord.key == key))

    def touch_deliveries(self, deal_id: str, touch_id: str) -> list[DeliveryRow]:
        """Every channel's delivery row of one touch (an email touch has one; oldest first)."""
        with self._read() as session:
            records = session.scalars(
                select(DeliveryRecord)
                .where(DeliveryRecord.deal_id == deal_id, DeliveryRecord.touch_id == touch_id)
                .order_by(DeliveryRecord.id)
            ).all()
            return [_from_record(DeliveryRow, r) for r in records]

    def mark_delivery(
        self, key: str, state: str, detail: str | None = None, from_states: Collection[str] | None = None
    ) -> bool:
        """Compare-and-set a delivery's state (default sources: `DELIVERY_FROM`, so `sent` is
        final); stamps started_at on sending, finished_at on sent/failed. True if it changed."""
        return self._mark_delivery(key, state, detail, from_states) is True

    def start_sending(
        self,
        key: str,
        deal_id: str,
        touch_id: str,
        detail: str | None = None,
        from_states: Collection[str] | None = None,
    ) -> bool | None:
        """`mark_delivery(key, "sending")` in the one statement that also checks that the touch
        is still there and not cancelled, so no cancel can slip in between the check and the
        claim. True if it moved, False if the delivery was not in `from_states`, None if the
        touch was cancelled or is gone (then nothing may leave)."""
        live = (
            select(TouchRecord.id)
            .where(TouchRecord.deal_id == deal_id, TouchRecord.touch_id == touch_id, TouchRecord.state != "cancelled")
            .exists()
        )
        return self._mark_delivery(key, "sending", detail, from_states, live, (deal_id, touch_id))

    def _mark_delivery(
        self,
        key: str,
        state: str,
        detail: str | None,
        from_states: Collection[str] | None,
        condition: Any = None,
        touch: tuple[str, str] | None = None,
    ) -> bool | None:
        check_state(state, DELIVERY_STATES, "delivery")
        sources = list(DELIVERY_FROM[state] if from_states is None else from_states)
        now = self.clock()
        values: dict[str, Any] = {"state": state}
        if detail is not None:
            values["detail"] = detail
        if state == "sending":
            values["started_at"] = now
        elif state in ("sent", "failed"):
            values["finished_at"] = now
        where = [DeliveryRecord.key == key, DeliveryRecord.state.in_(sources), DeliveryRecord.state != state]
        with self._write() as session:
            stmt = (
                update(DeliveryRecord)
                .where(*where, *([] if condition is None else [condition]))
                .values(**values)
                .returning(DeliveryRecord.deal_id, DeliveryRecord.touch_id)  # SQLite ≥ 3.35, PostgreSQL
                .execution_options(synchronize_session=False)
            )
            changed = session.execute(stmt).first()  # the key is unique: one row or none
            if changed is None:
                if touch is None:
                    return False
                state_now = session.scalar(
                    select(TouchRecord.state).where(TouchRecord.deal_id == touch[0], TouchRecord.touch_id == touch[1])
                )  # the rare path: say why it did not move
                return None if state_now in (None, "cancelled") else False
            self._event(session, changed.deal_id, f"delivery.{state}", changed.touch_id, detail)
            return True

    # -- letters -------------------------------------------------------------------------------

    def queue_letter(
        self,
        *,
        letter_id: str,
        deal_id: str,
        touch_id: str,
        text: str,
        seed: str,
        hand: str,
        layout: Mapping[str, Any],
        address: Mapping[str, Any],
        signer: str,
        signer_title: str | None = None,
        print_by: date | None = None,
        pdf_path: str | None = None,
    ) -> tuple[LetterRow, bool]:
        """Put a letter in the print queue once: (row, True) when queued now, (existing row, False)
        when that letter id is already queued (a retried run), whatever its state."""
        now = self.clock()
        try:
            with self._write() as session:
                session.add(
                    LetterRecord(
                        letter_id=letter_id,
                        deal_id=deal_id,
                        touch_id=touch_id,
                        text=text,
                        seed=seed,
                        hand=hand,
                        layout=dict(layout),
                        address=dict(address),
                        signer=signer,
                        signer_title=signer_title,
                        print_by=print_by,
                        pdf_path=pdf_path,
                        state="queued",
                        queued_at=now,
                        updated_at=now,
                    )
                )
                session.flush()
                self._event(session, deal_id, "letter.queued", touch_id, letter_id)
            created = True
        except IntegrityError:
            created = False
        row = self.letter(letter_id)
        assert row is not None, letter_id
        return row, created

    def letter(self, letter_id: str) -> LetterRow | None:
        return one_row(self._read, LetterRow, select(LetterRecord).where(LetterRecord.letter_id == letter_id))

    def letters(
        self, state: str | None = None, deal_id: str | None = None, print_by_until: date | None = None
    ) -> list[LetterRow]:
        """The print queue, most urgent first; `print_by_until` picks what a batch must include."""
        stmt = select(LetterRecord).order_by(LetterRecord.print_by, LetterRecord.queued_at, LetterRecord.id)
        if state is not None:
            check_state(state, LETTER_STATES, "letter")
            stmt = stmt.where(LetterRecord.state == state)
        if deal_id is not None:
            stmt = stmt.where(LetterRecord.deal_id == deal_id)
        if print_by_until is not None:
            stmt = stmt.where(LetterRecord.print_by <= print_by_until)
        with self._read() as session:
            return [_from_record(LetterRow, r) for r in session.scalars(stmt)]

    def set_letter_state(
        self, letter_id: str, to_state: str, from_states: Collection[str] | None, **fields: Any
    ) -> bool:
        """Compare-and-set a letter's state (from any other state when `from_states` is None) and
        set batch_id / pdf_path / posted_at; entering `posted` stamps posted_at unless given."""
        check_state(to_state, LETTER_STATES, "letter")
        unknown = set(fields) - LETTER_FIELDS
        if unknown:
            raise TypeError(f"not a letter field: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {**fields, "state": to_state, "updated_at": self.clock()}
        if to_state == "posted":
            values.setdefault("posted_at", self.clock())
        stmt = update(LetterRecord).where(LetterRecord.letter_id == letter_id, LetterRecord.state != to_state)
        if from_states is not None:
            stmt = stmt.where(LetterRecord.state.in_(list(from_states)))
        with self._write() as session:
            if changed_rows(session, stmt.values(**values).execution_options(synchronize_session=False)) != 1:
                return False
            record = session.scalar(select(LetterRecord).where(LetterRecord.letter_id == letter_id))
            assert record is not None
            self._event(session, record.deal_id, f"letter.{to_state}", record.touch_id, letter_id)
            return True


__all__ = ["DeliveriesAndLetters", "DELIVERY_FROM"]
