"""Print batches: claiming queued letters atomically, and what each batch printed.

A batch claims its letters with ONE compare-and-set UPDATE:

    UPDATE letters SET state='batched', batch_id=:B WHERE state='queued' AND letter_id IN (...)

so two batch runs at the same moment never take the same letter: on SQLite the write
transaction (`BEGIN IMMEDIATE`) serialises them; on PostgreSQL the second UPDATE waits for the
first one's row locks and then re-checks `state='queued'` on the committed row, and skips it.
The batch's membership (`batch_letters`, in print order) is written in the same transaction, so
a batch can be rendered again from the ledger, byte-identical, even after one of its letters
was spoiled and went back to the queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from hundred.adapters.ledger.db import changed_rows, one_row
from hundred.adapters.ledger.models import BatchLetterRecord, BatchRecord, LetterRecord
from hundred.service.records import BatchEntry, BatchRow, LetterRow, _from_record

Order = Callable[[list[LetterRow]], list[LetterRow]]


class Batches:
    """Mixed into `Ledger`, which provides the sessions, the clock and the event log."""

    clock: Callable[[], datetime]
    _write: Callable[[], contextlib.AbstractContextManager[Session]]
    _read: Callable[[], contextlib.AbstractContextManager[Session]]
    _event: Callable[..., None]
    set_letter_state: Callable[..., bool]  # DeliveriesAndLetters' (queue.py)

    def claim_batch(
        self,
        batch_id: str,
        letter_ids: Sequence[str],
        *,
        until: date,
        duplex: bool,
        labels: bool,
        order: Order,
        notes: Sequence[str] = (),
    ) -> list[LetterRow]:
        """Claim those of `letter_ids` that are still queued for a new batch, in one transaction:
        the batch row, the compare-and-set UPDATE, the membership in `order`, one event per letter.
        Returns the claimed letters in print order; [] (and no batch) when another run took them."""
        now = self.clock()
        with self._write() as session:
            session.add(
                BatchRecord(
                    batch_id=batch_id,
                    created_at=now,
                    until=until,
                    duplex=duplex,
                    labels=labels,
                    letters=0,
                    pages=0,
                    problems=list(notes),
                )
            )
            session.flush()
            claimed = 0
            for start in range(0, len(letter_ids), 500):  # bound the IN list for every database
                chunk = list(letter_ids[start : start + 500])
                claimed += changed_rows(
                    session,
                    update(LetterRecord)
                    .where(LetterRecord.state == "queued", LetterRecord.letter_id.in_(chunk))
                    .values(state="batched", batch_id=batch_id, updated_at=now)
                    .execution_options(synchronize_session=False),
                )
            if not claimed:
                session.execute(delete(BatchRecord).where(BatchRecord.batch_id == batch_id))
                return []
            records = session.scalars(
                select(LetterRecord).where(LetterRecord.batch_id == batch_id, LetterRecord.state == "batched")
            ).all()
            rows = order([_from_record(LetterRow, r) for r in records])
            for seq, row in enumerate(rows, 1):
                session.add(BatchLetterRecord(batch_id=batch_id, letter_id=row.letter_id, seq=seq))
                self._event(
                    session, row.deal_id, "letter.batched", row.touch_id, f"{row.letter_id} in batch {batch_id}"
                )
            session.execute(update(BatchRecord).where(BatchRecord.batch_id == batch_id).values(letters=len(rows)))
            return rows

    def finish_batch(
        self, batch_id: str, pages: int, placed: dict[str, tuple[int, int]], warnings: Sequence[str] = ()
    ) -> None:
        """Record where each letter landed in the batch PDF and what its cover warns of (idempotent:
        a re-render writes the same)."""
        with self._write() as session:
            session.execute(
                update(BatchRecord).where(BatchRecord.batch_id == batch_id).values(pages=pages, warnings=list(warnings))
            )
            for letter_id, (first, last) in placed.items():
                session.execute(
                    update(BatchLetterRecord)
                    .where(BatchLetterRecord.batch_id == batch_id, BatchLetterRecord.letter_id == letter_id)
                    .values(first_page=first, last_page=last)
                )

    def release_batch(self, batch_id: str, reason: str) -> int:
        """Undo a batch whose PDF could not be made: its letters go back to the queue, no record is kept."""
        with self._write() as session:
            records = session.scalars(
                select(LetterRecord).where(LetterRecord.batch_id == batch_id, LetterRecord.state == "batched")
            ).all()
            for r in records:
                self._event(session, r.deal_id, "letter.queued", r.touch_id, f"{r.letter_id}: {reason}")
            n = changed_rows(
                session,
                update(LetterRecord)
                .where(LetterRecord.batch_id == batch_id, LetterRecord.state == "batched")
                .values(state="queued", batch_id=None, updated_at=self.clock())
                .execution_options(synchronize_session=False),
            )
            session.execute(delete(BatchLetterRecord).where(BatchLetterRecord.batch_id == batch_id))
            session.execute(delete(BatchRecord).where(BatchRecord.batch_id == batch_id))
            return n

    def batch_row(self, batch_id: str) -> BatchRow | None:
        return one_row(self._read, BatchRow, select(BatchRecord).where(BatchRecord.batch_id == batch_id))

    def batch_rows(self, limit: int = 200) -> list[BatchRow]:
        """Newest first."""
        stmt = select(BatchRecord).order_by(BatchRecord.created_at.desc(), BatchRecord.id.desc()).limit(limit)
        with self._read() as session:
            return [_from_record(BatchRow, r) for r in session.scalars(stmt)]

    def batch_entries(self, batch_id: str) -> list[tuple[BatchEntry, LetterRow]]:
        """A batch's letters in print order, with each letter's stored rendering inputs."""
        stmt = (
            select(BatchLetterRecord, LetterRecord)
            .join(LetterRecord, LetterRecord.letter_id == BatchLetterRecord.letter_id)
            .where(BatchLetterRecord.batch_id == batch_id)
            .order_by(BatchLetterRecord.seq)
        )
        with self._read() as session:
            return [(_from_record(BatchEntry, e), _from_record(LetterRow, r)) for e, r in session.execute(stmt)]

    def mark_batch(self, batch_id: str, field: str) -> bool:
        """Stamp printed_at or posted_at once (compare-and-set on NULL)."""
        column = {"printed_at": BatchRecord.printed_at, "posted_at": BatchRecord.posted_at}[field]
        with self._write() as session:
            return (
                changed_rows(
                    session,
                    update(BatchRecord)
                    .where(BatchRecord.batch_id == batch_id, column.is_(None))
                    .values({field: self.clock()})
                    .execution_options(synchronize_session=False),
                )
                == 1
            )

    def batch_letter_states(self, batch_id: str) -> dict[str, int]:
        """How many of the letters a batch holds now are in each state."""
        with self._read() as session:
            rows = session.execute(
                select(LetterRecord.state, func.count())
                .where(LetterRecord.batch_id == batch_id)
                .group_by(LetterRecord.state)
            ).all()
            return {state: n for state, n in rows}

    def spoil_letter(self, letter_id: str, reason: str) -> str | None:
        """The printed copy is damaged or lost: the letter goes back to the queue (batched or printed →
        queued, batch_id cleared) for the next batch; its old batch keeps a spoiled entry. Returns
        the batch it left, or None when the letter was not batched or printed."""
        now = self.clock()
        with self._write() as session:
            record = session.scalar(select(LetterRecord).where(LetterRecord.letter_id == letter_id))
            if record is None or record.state not in ("batched", "printed") or record.batch_id is None:
                return None
            batch_id = record.batch_id
            changed = changed_rows(
                session,
                update(LetterRecord)
                .where(
                    LetterRecord.letter_id == letter_id,
                    LetterRecord.state.in_(["batched", "printed"]),
                    LetterRecord.batch_id == batch_id,
                )
                .values(state="queued", batch_id=None, updated_at=now)
                .execution_options(synchronize_session=False),
            )
            if changed != 1:
                return None
            session.execute(
                update(BatchLetterRecord)
                .where(BatchLetterRecord.batch_id == batch_id, BatchLetterRecord.letter_id == letter_id)
                .values(spoiled_at=now, spoil_reason=reason)
            )
            self._event(
                session,
                record.deal_id,
                "letter.spoiled",
                record.touch_id,
                f"{letter_id} in batch {batch_id}: {reason}; back in the queue",
            )
            return batch_id

    def set_batch_letters(self, batch_id: str, from_state: str, to_state: str) -> list[str]:
        """Move every letter of the batch in `from_state` to `to_state` (compare-and-set each)."""
        with self._read() as session:
            ids = list(
                session.scalars(
                    select(LetterRecord.letter_id)
                    .where(LetterRecord.batch_id == batch_id, LetterRecord.state == from_state)
                    .order_by(LetterRecord.id)
                )
            )
        moved = [i for i in ids if self.set_letter_state(i, to_state, [from_state])]
        return moved


__all__ = ["BatchEntry", "BatchRow", "Batches"]
