"""The document writer: a batch of letters into one PDF, rendered directly.

One canvas for the whole batch, never per-letter PDFs merged afterwards: a merge embeds every
font once per letter under the same subset tag (``AAAAAA+…``), which is both 4-5× larger and
unsafe on RIPs that cache fonts by name.  Here each font is embedded once, subset.

Speed settings (research §2): reportlab's C accelerator (`rl_accel`, a dependency) and
``rl_config.useA85 = 0`` (binary Flate streams instead of ASCII85: faster and ~20 % smaller).
The latter is a process-wide reportlab setting, so it is switched only while a batch renders.
`Canvas(invariant=1)` leaves out timestamps and random document ids: a reprint is byte-identical.
"""
from __future__ import annotations

import hashlib
import math
import os
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from .address import address_lines
from .emit import emit_glyphs, emit_path, emit_rules, emit_runs
from .fonts import FontBook, font_book
from .hand import HAND, Frame, Written, write
from .model import INKS, Letter, LetterStyle, PostalAddress, RenderedLetter
from .page import MM, Geometry, geometry, mark_segments, place_address, place_return_address
from .pen import Pen, pen_for
from .signature import SIZE as SIGNATURE_SIZE
from .signature import Signature, sign
from .text import clean_field, clean_line, clean_text, normalise

ADDRESS_INK = (0.0, 0.0, 0.0, 1.0)
FOOTER_INK = (0.0, 0.0, 0.0, 0.5)
FOOTER_SIZE = 5.5
TITLE_SCALE = 0.8


def letter_seed(seed: str) -> int:
    """Stable 64-bit seed (blake2b; Python's own hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(seed.encode("utf-8"), digest_size=8).digest(), "big")


def check_letter(letter: Letter) -> None:
    """Refuse letters that cannot be posted, naming the letter."""
    addr = letter.address
    if addr is None:
        raise ValueError(f"letter {letter.letter_id!r} has no postal address")
    if not re.fullmatch(r"[A-Za-z]{2}", (addr.country or "").strip()):
        raise ValueError(
            f"letter {letter.letter_id!r}: country {addr.country!r} is not an ISO 3166 alpha-2 code"
        )


@dataclass(frozen=True)
class _Batch:
    """What every letter of a batch shares."""

    style: LetterStyle
    geo: Geometry
    pen: Pen
    book: FontBook
    ink: tuple[float, float, float, float]
    return_runs: list
    return_problems: list[str]


def _address(addr: PostalAddress, batch: _Batch, problems: list[str]) -> list:
    fields = {k: normalise(v) if isinstance(v, str) else v for k, v in vars(addr).items()}
    lines = address_lines(replace(addr, **fields), batch.style.sender_country, problems)
    if batch.geo.window.capitals:
        lines = [line.upper() for line in lines]
    cleaned = [clean_line(line, [batch.book.sans], f"address line {n}", problems)
               for n, line in enumerate(lines, 1)]
    return place_address([line for line in cleaned if line], batch.book.sans, batch.geo, problems)


def _signature_spot(written: Written, frame: Frame, lead: float, has_title: bool) -> tuple[int, float]:
    """Page and baseline of the signature: where the text ends, or atop the next page."""
    below = 24.0 + (TITLE_SCALE * lead + 6 if has_title else 0.0)
    y = written.end_y - 0.5 * lead
    if y - below >= frame.bottom - 0.5 * lead:
        return written.end_page, y
    return written.end_page + 1, frame.next_baseline - 0.4 * SIGNATURE_SIZE


@dataclass
class _Composed:
    """One letter laid out, not yet drawn."""

    address: list
    written: Written
    signature: Signature | None
    signature_page: int
    title: Written | None
    reference: str
    problems: list[str]

    @property
    def pages(self) -> int:
        return max(self.written.end_page, self.signature_page) + 1


def _compose(letter: Letter, batch: _Batch) -> _Composed:
    """Clean every text, lay out body, signature and title (pure: no canvas involved)."""
    style, geo, pen, book = batch.style, batch.geo, batch.pen, batch.book
    problems = list(batch.return_problems)
    rng = random.Random(letter_seed(letter.seed if letter.seed is not None else letter.letter_id))
    r = rng if style.humanise else None
    frame = geo.body_frame()

    address = _address(letter.address, batch, problems) if geo.window else []
    body = clean_text(letter.body, pen.faces, "body", problems)
    signer = clean_field(letter.signer, [book.signature, *pen.faces], "signature", problems)
    title = clean_field(letter.signer_title, pen.faces, "signer title", problems)
    reference = clean_field(letter.letter_id, [book.sans], "reference line", problems)

    written = write(body, pen, frame, r)
    lead = HAND.leading_pt
    sig_page, sig_y = _signature_spot(written, frame, lead, bool(title))
    sig_x = frame.left + (3 * MM + 9 * MM * rng.random() if r else 3 * MM)
    signature = sign(signer, [book.signature, *pen.faces], sig_x, sig_y, r) if signer else None
    title_written = None
    if title:
        depth = max(signature.depth if signature else 0.0, 8.0)
        below = Frame(sig_x + 4 * MM, frame.width, sig_y - depth - 0.75 * lead * TITLE_SCALE, 0.0, -math.inf)
        title_written = write([title], pen, below, r, scale=TITLE_SCALE)
    return _Composed(address, written, signature, sig_page, title_written, reference, problems)


def _draw_handwriting(canv: Canvas, items: list, batch: _Batch) -> None:
    if not items:
        return
    if batch.style.humanise:
        emit_glyphs(canv, items, batch.ink)
    else:
        emit_runs(canv, items, batch.ink)


def _draw_letter(canv: Canvas, letter: Letter, batch: _Batch) -> RenderedLetter:
    geo, book = batch.geo, batch.book
    done = _compose(letter, batch)
    first = canv.getPageNumber()
    for i in range(done.pages):
        if i == 0:  # marks and address block belong to the sheet that goes in the window
            emit_rules(canv, mark_segments(geo), grey=0.55, width=0.3)
            emit_runs(canv, batch.return_runs + done.address, ADDRESS_INK)
        _draw_handwriting(canv, done.written.pages[i] if i < len(done.written.pages) else [], batch)
        if i == done.signature_page:
            if done.signature:
                emit_glyphs(canv, done.signature.glyphs, batch.ink)
                emit_path(canv, done.signature.flourish, batch.ink)
            if done.title:
                _draw_handwriting(canv, done.title.pages[0], batch)
        footer = done.reference + (f" · {i + 1}/{done.pages}" if done.pages > 1 else "")
        emit_runs(canv, [(geo.margin_left, geo.footer, [(book.sans.name, FOOTER_SIZE, footer)])], FOOTER_INK)
        canv.showPage()
    return RenderedLetter(letter.letter_id, first, first + done.pages - 1, done.problems)


def render_letters(
    letters: Iterable[Letter], style: LetterStyle, out: str | os.PathLike | BinaryIO
) -> list[RenderedLetter]:
    """One PDF, rendered directly (never merged); fonts embedded once, subset.

    Letters are checked before anything is drawn: a letter without a postal address raises a
    ValueError naming it.  Characters that cannot be printed are reported per letter in
    `RenderedLetter.problems`, never dropped silently.
    """
    letters = list(letters)
    if not letters:
        raise ValueError("no letters to render")
    for letter in letters:
        check_letter(letter)
    book = font_book()
    pen = pen_for(style.hand)
    geo = geometry(style.paper, style.envelope)
    return_problems: list[str] = []
    ret = clean_field(style.return_address, [book.sans], "return address", return_problems)
    batch = _Batch(style, geo, pen, book, INKS[style.ink],
                   place_return_address(ret, book.sans, geo, return_problems), return_problems)
    if isinstance(out, os.PathLike):
        out = os.fspath(out)
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canv = Canvas(out, pagesize=geo.size, invariant=1, pageCompression=1,
                      initialFontName=book.sans.name, initialFontSize=10)
        canv.setTitle("hundred letters")
        canv.setCreator("hundred")
        results = [_draw_letter(canv, letter, batch) for letter in letters]
        canv.save()
    finally:
        rl_config.useA85 = saved
    return results
