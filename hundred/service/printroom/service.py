"""The print room: batches of letters, their states, reprints. One service for the CLI, the flow
and the web page; it speaks to the ledger and the print files through their ports.

Letter states (ledger `letters.state`):

    queued ──make_batch──▶ batched ──mark_printed──▶ printed ──mark_posted──▶ posted
       ▲                      │                          │
       └──────────── spoil (the printed copy is damaged or lost) ◀─────┘

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
- `spoiled` as a state means withdrawn: the runtime takes a cancelled journey's queued letters out
  of the queue that way; such a letter is never batched or posted.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.rendering.handwriting.model import Letter, LetterStyle, PostalAddress
from hundred.service.ports import Ledger, PrintFiles
from hundred.service.printroom.calendar import print_calendar
from hundred.service.printroom.order import is_domestic, print_order, safe_name
from hundred.service.records import BatchResult, BatchRow, LetterRow

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


def letter_of(row: LetterRow, printed_on: date | None = None) -> Letter:
    """The renderer's Letter from the ledger's stored inputs (never the template); printed on
    another day than its print-by day, it carries the day it is printed (letters/dating.py)."""
    from hundred.rendering.handwriting.dating import redate  # lazy: reportlab loads only when a letter is drawn

    body = row.text if printed_on is None else redate(row.text, row.print_by, printed_on, row.layout.get("locale"))
    return Letter(
        letter_id=row.letter_id,
        body=body,
        signer=row.signer,
        address=PostalAddress(**row.address) if row.address else None,
        seed=row.seed,
        signer_title=row.signer_title,
    )


def style_of(row: LetterRow) -> LetterStyle:
    return LetterStyle(hand=row.hand, **row.layout)


def write_atomically(path: Path, write: Callable[[Any], Any], mode: str = "wb") -> Any:
    """Write through a temp file beside `path` and rename it into place (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        kwargs = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
        with os.fdopen(fd, mode, **kwargs) as fh:
            result = write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return result


class PrintRoom:
    """Batches, states and reprints of the letters in one ledger."""

    def __init__(
        self,
        ledger: Ledger,
        settings: Any,
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

    def letters(self, state: str | None = None) -> list[LetterRow]:
        return self.ledger.letters(state=state)

    def letter(self, letter_id: str) -> LetterRow:
        row = self.ledger.letter(letter_id)
        if row is None:
            raise LookupError(f"no letter {letter_id} in the print queue; `hundred letters list` lists them")
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

    # -- making a batch ------------------------------------------------------------------------

    def new_batch_id(self) -> str:
        now = self.ledger.clock().astimezone(self.tz)
        return f"{now:%Y%m%d-%H%M}-{secrets.token_hex(2)}"

    def make_batch(self, *, until: date | None = None, duplex: bool = False, labels: bool = False) -> BatchResult:
        """Claim every queued letter due by `until` (default today; letters without a print-by day
        too) and render the batch. An empty queue is not an error: letters 0, no files."""
        until = until or self.today()
        candidates: list[str] = []
        notes: list[str] = self._finish_unfinished()
        for row in self.ledger.letters(state="queued"):
            if row.print_by is not None and row.print_by > until:
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
            return self.render_batch(batch_id, labels=labels)
        except BaseException:
            self.ledger.release_batch(batch_id, "the batch PDF could not be made; back in the queue")
            raise

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

    def render_batch(self, batch_id: str, *, labels: bool | None = None) -> BatchResult:
        """Write the batch's files from the ledger: the same inputs give the same bytes."""
        if self.files is None:
            raise RuntimeError("this print room was built without print files (hundred.bootstrap wires them)")
        batch = self._batch(batch_id)
        entries = self.ledger.batch_entries(batch_id)
        return self.files(self, batch, entries, labels=batch.labels if labels is None else labels)

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
            if row.state == "spoiled":
                raise ValueError(f"letter {letter_id} was withdrawn (its journey was cancelled); do not post it")
            if row.state == "posted":
                self._post(letter_id)  # repairs a touch whose completion was missed; changes nothing else
                return []
            self._post(letter_id)
            if row.batch_id:
                self._close_batch(row.batch_id)
            return [letter_id]
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
        """The printed copy is damaged or lost: back to the queue for the next batch."""
        row = self.letter(letter_id)
        if row.state == "queued":
            raise ValueError(f"letter {letter_id} is still in the queue: nothing printed to spoil")
        if row.state == "posted":
            raise ValueError(
                f"letter {letter_id} was already posted; `hundred letters reprint {letter_id}` "
                f"prints a copy if one must go out again"
            )
        if row.state == "spoiled":
            raise ValueError(f"letter {letter_id} was withdrawn (its journey was cancelled)")
        if self.ledger.spoil_letter(letter_id, reason or "spoiled") is None:
            raise ValueError(f"letter {letter_id} changed state meanwhile; look again")

    # -- one letter ----------------------------------------------------------------------------

    def preview(self, letter_id: str) -> bytes:
        """PDF bytes of one letter from its stored inputs (the same as `reprint` writes)."""
        return self._render_one(self.letter(letter_id))

    @staticmethod
    def _render_one(row: LetterRow) -> bytes:
        from hundred.rendering.handwriting.render import (
            render_letters,  # lazy: reportlab loads only when a letter is drawn
        )

        buf = io.BytesIO()
        render_letters([letter_of(row)], style_of(row), buf)
        return buf.getvalue()

    def reprint(self, letter_id: str) -> Path:
        """One letter rendered again now, byte-identical, to letters/reprints/; no state changes."""
        row = self.letter(letter_id)
        data = self._render_one(row)
        path = self.letters_dir / "reprints" / f"{safe_name(letter_id)}.pdf"
        write_atomically(path, lambda fh: fh.write(data))
        self.ledger.record_event(row.deal_id, "letter.reprinted", row.touch_id, f"{letter_id} → {path}")
        return path


__all__ = ["BatchResult", "PrintRoom", "QueueDay", "is_domestic", "letter_of", "style_of"]
