"""The print room: batches of letters, their states, reprints. One service for the CLI, the flow
and the web page; it speaks to the ledger and the print files through their ports.

Letter states (ledger `letters.state`):

    queued ──make_batch──▶ batched ──mark_printed──▶ printed ──mark_posted──▶ posted
       ▲                      │                          │
       └──────────── spoil (the printed copy is damaged or lost) ◀─────┘
    queued ──the journey is cancelled──▶ withdrawn (never batched or posted)

- make_batch claims every queued letter due by a day with one compare-and-set UPDATE
  (`... WHERE state='queued' AND letter_id IN (...)`): a letter is never claimed by two batches.
- spoil: the paper copy is damaged or lost. The letter goes back to `queued` (batch cleared) and
  into the next batch; its old batch keeps it on record as spoiled (so that batch still renders
  byte-identical from the ledger). Its print-by day is kept, so it shows as overdue.
- reprint: render that one letter again now, byte-identical, to letters/reprints/; no state
  changes (for a copy the printer chewed while the rest of the batch is fine).
- mark_posted: batched / printed (or queued, for a letter posted by hand) → posted, through
  `on_posted(letter_id)` (the runtime's `letter_posted`: the touch is delivered, the affirm gate
  may open). Posting twice changes nothing.
- withdrawn: the runtime takes a cancelled journey's queued letters out of the queue.

A letter is dated the day it is printed (`print_day`): the day its batch was made, else its
print-by day. The batch PDF, the page's "What the letter says", the letter's own PDF (rewritten
when a batch dates it otherwise, and when a spoiled copy leaves that batch), the preview and a
reprint all render `dated(row)`, so a reprint of a batched letter is that batch's copy.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.rendering.handwriting.model import Letter
from hundred.service.ports import Ledger, PrintFiles
from hundred.service.printroom.calendar import print_calendar
from hundred.service.printroom.copies import batch_day, letter_of, render_pdf, style_of, write_atomically
from hundred.service.printroom.order import is_domestic, print_order, safe_name
from hundred.service.printroom.refusal import Refusal, Unknown
from hundred.service.records import BatchResult, BatchRow, LetterRow
from hundred.service.settings import Settings

KINDS = ("pdf", "manifest", "labels")
UNFINISHED_AFTER = timedelta(minutes=10)  # a batch of 1,000 letters renders in a few seconds


@dataclass(frozen=True)
class QueueDay:
    """Queued letters that must be printed by `day` (None: no print-by day, print as soon as possible)."""

    day: date | None
    letters: list[LetterRow]
    overdue: bool

    @property
    def count(self) -> int:
        return len(self.letters)


class PrintRoom:
    """Batches, states and reprints of the letters in one ledger."""

    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        on_posted: Callable[[str], Any] | None = None,
        *,
        timezone: str | None = None,
        files: PrintFiles | None = None,
    ):
        """`timezone` is the print room's day (default: the default journey's, else Europe/Amsterdam);
        `files` writes a batch's PDF, manifest and labels (hundred.bootstrap hands in the adapter)."""
        self.ledger = ledger
        self.settings = settings
        self.on_posted = on_posted
        self.files = files
        if timezone is None:
            timezone = print_calendar(settings).timezone
        self.tz = ZoneInfo(timezone)

    # -- reading -------------------------------------------------------------------------------

    @property
    def letters_dir(self) -> Path:
        return Path(self.settings.letters_dir)

    @property
    def zone(self) -> str:
        """The print room's time zone by name (Europe/Amsterdam): every time it shows says it."""
        return self.tz.key

    def today(self) -> date:
        """Today in the print room's time zone (the journey calendar's)."""
        return self.ledger.clock().astimezone(self.tz).date()

    def queue(self, today: date | None = None) -> list[QueueDay]:
        """Queued letters grouped by print-by day: no-date and overdue days first, then by day."""
        today = today or self.today()
        days: dict[date | None, list[LetterRow]] = {}
        for row in self.ledger.letters(state="queued"):
            days.setdefault(row.print_by, []).append(row)
        order = sorted(days, key=lambda d: (d is not None, d or date.min))
        return [QueueDay(d, days[d], d is None or d < today) for d in order]

    def next_due(self, after: date) -> QueueDay | None:
        """The first day after `after` that queued letters must be printed by (what a batch due by
        `after` leaves waiting), or None when nothing waits for a later day."""
        later = [day for day in self.queue(after) if day.day is not None and day.day > after]
        return later[0] if later else None

    def letters(self, state: str | None = None) -> list[LetterRow]:
        return self.ledger.letters(state=state)

    def letter(self, letter_id: str) -> LetterRow:
        row = self.ledger.letter(letter_id)
        if row is None:
            raise Unknown("no letter {letter} in the print queue; `hundred letters list` lists them", letter=letter_id)
        return row

    def batches(self) -> list[BatchRow]:
        return self.ledger.batch_rows()

    def batch(self, batch_id: str) -> BatchRow | None:
        return self.ledger.batch_row(batch_id)

    def _batch(self, batch_id: str) -> BatchRow:
        row = self.ledger.batch_row(batch_id)
        if row is None:
            raise LookupError(f"no batch {batch_id}; `hundred letters batches` lists them")
        return row

    def batch_dir(self, batch_id: str) -> Path:
        return self.letters_dir / "batches" / safe_name(batch_id)

    def batch_path(self, batch_id: str, kind: str) -> Path:
        names = {
            "pdf": f"batch-{batch_id}.pdf",
            "manifest": f"manifest-{batch_id}.csv",
            "labels": f"labels-{batch_id}.pdf",
        }
        if kind not in names:
            raise ValueError(f"unknown batch file {kind!r}; one of {', '.join(KINDS)}")
        return self.batch_dir(batch_id) / safe_name(names[kind])

    def batch_file(self, batch_id: str, kind: str) -> Path:
        """The batch's PDF, manifest or label sheet; rendered again from the ledger (byte-identical)
        when the file is missing."""
        batch = self._batch(batch_id)
        path = self.batch_path(batch_id, kind)
        if not path.exists():
            self.render_batch(batch.batch_id, labels=kind == "labels" or batch.labels)
        return path

    # -- the day a letter is dated -------------------------------------------------------------

    def print_day(self, row: LetterRow) -> date | None:
        """The day the letter is dated: the day of the batch it is in (it is printed that day),
        else its print-by day (a queued letter; one posted by hand from the queue)."""
        if row.batch_id:
            batch = self.ledger.batch_row(row.batch_id)
            if batch is not None:
                return batch_day(batch, self.tz)
        return row.print_by

    def dated(self, row: LetterRow) -> Letter:
        """The letter as it is (or will be) printed: dated its `print_day`."""
        return letter_of(row, self.print_day(row))

    # -- making a batch ------------------------------------------------------------------------

    def new_batch_id(self) -> str:
        now = self.ledger.clock().astimezone(self.tz)
        return f"{now:%Y%m%d-%H%M}-{secrets.token_hex(2)}"

    def make_batch(
        self,
        *,
        until: date | None = None,
        duplex: bool = False,
        labels: bool = False,
        only: Collection[str] | None = None,
    ) -> BatchResult:
        """Claim every queued letter due by `until` (default today; letters without a print-by day
        too) and render the batch. `only` claims just those letters (whatever their print-by day,
        if still queued): the demo's print staff batch their own letter. An empty queue is not an
        error: letters 0, no files."""
        until = until or self.today()
        candidates: list[str] = []
        notes: list[str] = self._finish_unfinished()
        for row in self.ledger.letters(state="queued"):
            if only is not None:
                if row.letter_id not in only:
                    continue
            elif row.print_by is not None and row.print_by > until:
                continue
            problem = self._unprintable(row)
            if problem:
                notes.append(f"{row.letter_id} left in the queue: {problem}")
            else:
                candidates.append(row.letter_id)
        if not candidates:
            return BatchResult(None, 0, 0, None, None, None, notes)
        batch_id = self.new_batch_id()
        claimed = self.ledger.claim_batch(
            batch_id, candidates, until=until, duplex=duplex, labels=labels, order=print_order, notes=notes
        )
        if not claimed:  # another run took them all a moment ago
            return BatchResult(None, 0, 0, None, None, None, notes)
        try:
            result = self.render_batch(batch_id, labels=labels, copies=False)
        except BaseException:
            self.ledger.release_batch(batch_id, "the batch PDF could not be made; back in the queue")
            raise
        result.problems += self._store_copies(batch_id)
        return result

    def _finish_unfinished(self) -> list[str]:
        """A batch whose run died between claiming its letters and writing its files (pages still
        0 well after it was made) is rendered now, from the ledger, so its letters are never stuck."""
        notes = []
        stale = self.ledger.clock() - UNFINISHED_AFTER
        for batch in self.ledger.batch_rows():
            if batch.pages == 0 and batch.letters > 0 and batch.posted_at is None and batch.created_at < stale:
                try:
                    self.render_batch(batch.batch_id)
                    notes.append(f"batch {batch.batch_id} had no files (a run stopped?); they were written now")
                except Exception as exc:
                    notes.append(f"batch {batch.batch_id} could not be rendered: {type(exc).__name__}: {exc}")
        return notes

    @staticmethod
    def _unprintable(row: LetterRow) -> str | None:
        from hundred.rendering.handwriting.render import (
            check_letter,  # lazy: reportlab loads only when a letter is drawn
        )

        try:
            check_letter(letter_of(row))
            style_of(row)
        except (ValueError, TypeError) as exc:
            return str(exc)
        return None

    def render_batch(self, batch_id: str, *, labels: bool | None = None, copies: bool = True) -> BatchResult:
        """Write the batch's files from the ledger: the same inputs give the same bytes. With
        `copies`, each letter still in this batch gets its own PDF dated as the batch dates it."""
        if self.files is None:
            raise RuntimeError("this print room was built without print files (hundred.bootstrap wires them)")
        batch = self._batch(batch_id)
        entries = self.ledger.batch_entries(batch_id)
        result = self.files(self, batch, entries, labels=batch.labels if labels is None else labels)
        if copies:
            result.problems += self._store_copies(batch_id)
        return result

    def _store_copies(self, batch_id: str) -> list[str]:
        """Each letter of the batch (still in it) whose batch day is not its print-by day gets its
        own PDF (`letters/<deal>/<touch>.pdf`) dated as the batch prints it. A failure is a
        problem to report, not a reason to undo the batch: the batch PDF is what gets printed."""
        day = batch_day(self._batch(batch_id), self.tz)
        problems = []
        for _, row in self.ledger.batch_entries(batch_id):
            if row.batch_id != batch_id:
                continue  # spoiled since, and in another batch (or the queue) now
            try:
                self._store_copy(row, day)
            except OSError as exc:
                problems.append(f"{row.letter_id}: its own PDF was not updated ({exc.strerror or exc})")
        return problems

    def _store_copy(self, row: LetterRow, day: date | None, *, always: bool = False) -> None:
        """Write the letter's own PDF dated `day`, when that dates it otherwise than the text the
        letter channel rendered it from (or `always`)."""
        if not row.pdf_path:
            return
        letter = letter_of(row, day)
        if letter.body == row.text and not always:
            return
        data = render_pdf(letter, row)
        path = Path(row.pdf_path)
        if path.is_file() and path.read_bytes() == data:
            return
        write_atomically(path, lambda fh: fh.write(data))

    # -- state changes -------------------------------------------------------------------------

    def mark_printed(self, batch_id: str) -> int:
        """Every batched letter of the batch → printed; returns how many moved (0 when done before)."""
        self._batch(batch_id)
        moved = self.ledger.set_batch_letters(batch_id, "batched", "printed")
        self.ledger.mark_batch(batch_id, "printed_at")
        return len(moved)

    def mark_posted(self, *, batch_id: str | None = None, letter_id: str | None = None) -> list[str]:
        """Post a whole batch (its batched and printed letters) or one letter; returns the letters
        posted now. Each goes through `on_posted` so its touch completes."""
        if (batch_id is None) == (letter_id is None):
            raise ValueError("name a batch or a letter")
        if letter_id is not None:
            row = self.letter(letter_id)
            if row.state == "withdrawn":
                raise Refusal(
                    "letter {letter} was withdrawn (its journey was cancelled); do not post it", letter=letter_id
                )
            if row.state == "posted":
                self._post(letter_id)  # repairs a touch whose completion was missed; changes nothing else
                return []
            self._post(letter_id)
            if row.batch_id:
                self._close_batch(row.batch_id)
            return [letter_id]
        assert batch_id is not None
        self._batch(batch_id)
        ids = [
            row.letter_id
            for entry, row in self.ledger.batch_entries(batch_id)
            if row.batch_id == batch_id and row.state in ("batched", "printed")
        ]
        for lid in ids:
            self._post(lid)
        self._close_batch(batch_id)
        return ids

    def _post(self, letter_id: str) -> None:
        if self.on_posted is not None:
            self.on_posted(letter_id)
        self.ledger.set_letter_state(letter_id, "posted", ["queued", "batched", "printed"])

    def _close_batch(self, batch_id: str) -> None:
        states = self.ledger.batch_letter_states(batch_id)
        if states and set(states) == {"posted"}:
            self.ledger.mark_batch(batch_id, "printed_at")
            self.ledger.mark_batch(batch_id, "posted_at")

    def spoil(self, letter_id: str, reason: str) -> None:
        """The printed copy is damaged or lost: back to the queue for the next batch (and its own
        PDF dated its print-by day again, as the queue shows it)."""
        row = self.letter(letter_id)
        if row.state == "queued":
            raise Refusal("letter {letter} is still in the queue: nothing printed to spoil", letter=letter_id)
        if row.state == "posted":
            raise Refusal(
                "letter {letter} was already posted; reprint it if a copy must go out again", letter=letter_id
            )
        if row.state == "withdrawn":
            raise Refusal("letter {letter} was withdrawn (its journey was cancelled)", letter=letter_id)
        if self.ledger.spoil_letter(letter_id, reason or "spoiled") is None:
            raise Refusal("letter {letter} changed state meanwhile; look again", letter=letter_id)
        queued = self.ledger.letter(letter_id)
        if queued is not None and letter_of(row, self.print_day(row)).body != row.text:
            try:
                self._store_copy(queued, self.print_day(queued), always=True)
            except OSError:
                pass  # the queue and the next batch render from the ledger; the copy catches up then

    # -- one letter ----------------------------------------------------------------------------

    def preview(self, letter_id: str) -> bytes:
        """PDF bytes of one letter as it is printed (the same as `reprint` writes)."""
        row = self.letter(letter_id)
        return render_pdf(self.dated(row), row)

    def reprint(self, letter_id: str) -> Path:
        """One letter rendered again now, byte-identical to its copy in its batch (dated the
        batch's day), to letters/reprints/; no state changes."""
        row = self.letter(letter_id)
        data = render_pdf(self.dated(row), row)
        path = self.letters_dir / "reprints" / f"{safe_name(letter_id)}.pdf"
        write_atomically(path, lambda fh: fh.write(data))
        self.ledger.record_event(row.deal_id, "letter.reprinted", row.touch_id, f"{letter_id} → {path}")
        return path


__all__ = [
    "BatchResult",
    "write_atomically",
    "PrintRoom",
    "QueueDay",
    "Refusal",
    "Unknown",
    "batch_day",
    "is_domestic",
    "letter_of",
    "style_of",
]
