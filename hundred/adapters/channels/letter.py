"""A letter: its PDF under `letters/<deal>/<touch>.pdf` and its rendering inputs for the print queue.

Rendering is deterministic (same seed → byte-identical PDF), so a retried run simply renders again
and replaces the file atomically; no delivery row is needed. The runtime stores the returned
`QueuedLetter` with the ledger's `queue_letter` (unique per letter), and the touch completes when the
print room marks the letter posted.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from hundred.adapters.channels.base import ChannelConfig
from hundred.rendering.content import LetterContent
from hundred.service.ports import DeliveryResult, QueuedLetter

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def _path_part(value: str) -> str:
    """A path component that cannot climb out of letters/ (`..`, `/`): kept as is when already
    safe, else made safe with a short hash so two ids never share a file."""
    if _SAFE.fullmatch(value) and value not in (".", ".."):
        return value
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")[:40] or "x"
    return f"{safe}-{hashlib.blake2b(value.encode(), digest_size=4).hexdigest()}"


def letter_path(content: LetterContent, letters_dir: Path) -> Path:
    return Path(letters_dir) / _path_part(content.key.deal) / f"{_path_part(content.key.touch)}.pdf"


def render_letter(content: LetterContent, letters_dir: Path) -> QueuedLetter:
    """Render the PDF atomically (tmp + rename) and return the print queue's inputs."""
    from hundred.rendering.handwriting import (
        render_letters,  # lazy: reportlab loads only when a letter is drawn; reportlab: only when a letter is rendered
    )

    letter, style = content.letter, content.style
    path = letter_path(content, letters_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as fh:
            rendered = render_letters([letter], style, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    layout = {
        k: getattr(style, k)
        for k in ("paper", "envelope", "ink", "return_address", "sender_country", "humanise", "locale")
    }
    return QueuedLetter(
        letter_id=letter.letter_id,
        text=letter.body,
        seed=letter.seed or letter.letter_id,
        hand=style.hand,
        layout=layout,
        address=asdict(letter.address),
        signer=letter.signer,
        signer_title=letter.signer_title,
        print_by=content.print_by,
        pdf_path=path,
        problems=tuple(p for r in rendered for p in r.problems),
    )


def deliver_letter(content: LetterContent, config: ChannelConfig) -> DeliveryResult:
    """`sent` here means rendered and ready to queue (`result.letter`); it is posted later."""
    try:
        queued = render_letter(content, config.letters_dir)
    except ValueError as exc:
        return DeliveryResult("failed", f"cannot render the letter: {exc}")
    return DeliveryResult("sent", f"rendered to {queued.pdf_path}", queued.letter_id, letter=queued)
