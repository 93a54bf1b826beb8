"""One letter as it is printed: the renderer's Letter from the ledger's stored inputs (never the
template), dated the day it is printed, drawn to PDF bytes; and the atomic file write every
print room file goes through."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hundred.rendering.handwriting.model import Letter, LetterStyle, PostalAddress
from hundred.service.records import BatchRow, LetterRow


def letter_of(row: LetterRow, printed_on: date | None = None) -> Letter:
    """The renderer's Letter from the ledger's stored inputs (never the template); printed on
    another day than its print-by day, it carries the day it is printed (rendering/handwriting/dating.py)."""
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


def batch_day(batch: BatchRow, tz: ZoneInfo) -> date:
    """The day a batch is printed: the day it was made, in the print room's zone (stored, so a
    batch rendered again is dated as before)."""
    return batch.created_at.astimezone(tz).date()


def style_of(row: LetterRow) -> LetterStyle:
    return LetterStyle(hand=row.hand, **row.layout)


def write_atomically(path: Path, write: Callable[[Any], Any], mode: str = "wb") -> Any:
    """Write through a temp file beside `path` and rename it into place (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        fh = os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, newline="", encoding="utf-8")
        with fh:
            result = write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return result


def render_pdf(letter: Letter, row: LetterRow) -> bytes:
    """One letter's PDF in its stored style: the same inputs give the same bytes."""
    from hundred.rendering.handwriting.render import render_letters  # lazy: reportlab loads only when a letter is drawn

    buf = io.BytesIO()
    render_letters([letter], style_of(row), buf)
    return buf.getvalue()


__all__ = ["batch_day", "letter_of", "render_pdf", "style_of", "write_atomically"]
