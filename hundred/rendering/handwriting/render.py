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

import contextlib
import hashlib
import math
import os
import random
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO, cast

from reportlab import rl_config
from reportlab.pdfgen.canvas import Canvas

from hundred.rendering.handwriting.address import address_lines
from hundred.rendering.handwriting.emit import emit_glyphs, emit_path, emit_rules, emit_runs
from hundred.rendering.handwriting.fonts import FontBook, font_book
from hundred.rendering.handwriting.hand import HAND, Frame, Glyph, Run, Written, write
from hundred.rendering.handwriting.model import INKS, Letter, LetterStyle, PostalAddress, RenderedLetter
from hundred.rendering.handwriting.page import (
    MM,
    Geometry,
    Window,
    geometry,
    mark_segments,
    place_address,
    place_return_address,
)
from hundred.rendering.handwriting.pen import Pen, pen_for
from hundred.rendering.handwriting.signature import SIZE as SIGNATURE_SIZE, Signature, sign
from hundred.rendering.handwriting.text import clean_field, clean_line, clean_text, normalise

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
        raise ValueError(f"letter {letter.letter_id!r}: country {addr.country!r} is not an ISO 3166 alpha-2 code")


@dataclass(frozen=True)
class _Batch:
    """What every letter of a batch shares."""

    style: LetterStyle
    geo: Geometry
    pen: Pen
    book: FontBook
    ink: tuple[float, float, float, float]
    return_runs: list[Run]
    return_problems: list[str]


def _address(addr: PostalAddress, window: Window, batch: _Batch, problems: list[str]) -> list[Run]:
    fields = {k: normalise(v) if isinstance(v, str) else v for k, v in vars(addr).items()}
    lines = address_lines(replace(addr, **fields), batch.style.sender_country, problems)
    if window.capitals:
        lines = [line.upper() for line in lines]
    cleaned = [clean_line(line, [batch.book.sans], f"address line {n}", problems) for n, line in enumerate(lines, 1)]
    return place_address([line for line in cleaned if line], batch.book.sans, batch.geo, problems)


def _signature_spot(written: Written, frame: Frame, lead: float, has_title: bool) -> tuple[int, float]:
    """Page and baseline of the signature: where the text ends, or atop the next page."""
    below = 24.0 + (TITLE_SCALE * lead + 6 if has_title else 0.0)
    y = written.end_y - 0.5 * lead
    if y - below >= frame.bottom - 0.5 * lead:
        return written.end_page, y
    return written.end_page + 1, frame.next_baseline - 0.4 * SIGNATURE_SIZE


KEEP_LINES = 2  # body lines that go with the closing and signature to a new page


def _closing_start(body: list[str]) -> int:
    """Index of the closing's first text line: the last paragraph ("Hartelijke groet,")."""
    end = len(body)
    while end and not body[end - 1].strip():
        end -= 1
    start = end - 1
    while start > 0 and body[start - 1].strip():
        start -= 1
    return max(start, 0) if start > 0 else max(end - 1, 0)  # no paragraphs: the last line closes


def _keep_break(written: Written, body: list[str], sig_page: int) -> int | None:
    """Where to start a new page so the signature never stands alone: the closing and at
    least the last KEEP_LINES lines of the body go on the signature's page (and a paragraph's
    first line is not left behind on its own). None when the layout is fine as it is."""
    if sig_page == 0 or not written.lines:
        return None
    closing = _closing_start(body)
    first_closing = next((i for i, (_, src) in enumerate(written.lines) if src >= closing), len(written.lines))
    cut = first_closing - KEEP_LINES
    if cut <= 0:
        return None  # a letter that is all closing: nothing to keep it with
    if all(page == sig_page for page, _ in written.lines[cut:]):
        return None
    srcs = [src for _, src in written.lines]
    if cut >= 2 and srcs[cut - 1] == srcs[cut] and srcs[cut - 2] != srcs[cut - 1]:
        cut -= 1  # the paragraph's first line would stay behind alone: take it along
    pages = [page for page, _ in written.lines]
    if cut == 0 or pages[cut - 1] != pages[cut]:
        return None  # that line already starts a page: breaking there changes nothing
    return cut


@dataclass
class _Composed:
    """One letter laid out, not yet drawn."""

    address: list[Run]
    written: Written
    signature: Signature | None
    signature_page: int
    title: Written | None
    reference: str
    problems: list[str]

    @property
    def pages(self) -> int:
        return max(self.written.end_page, self.signature_page) + 1


@dataclass
class _Prepared:
    """One letter's texts cleaned (every problem known), not yet laid out: cheap to hold."""

    address: list[Run]
    body: list[str]
    signer: str
    title: str
    reference: str
    problems: list[str]


def _prepare(letter: Letter, batch: _Batch) -> _Prepared:
    """Clean every text and place the address; reports every problem before anything is drawn."""
    book, pen = batch.book, batch.pen
    problems = list(batch.return_problems)
    window = batch.geo.window  # check_letter has refused a letter without an address
    address = _address(letter.address, window, batch, problems) if window and letter.address else []
    body = clean_text(letter.body, pen.faces, "body", problems)
    signer = clean_field(letter.signer, [book.signature, *pen.faces], "signature", problems)
    title = clean_field(letter.signer_title, pen.faces, "signer title", problems)
    reference = clean_field(letter.letter_id, [book.sans], "reference line", problems)
    return _Prepared(address, body, signer, title, reference, problems)


def _compose(letter: Letter, batch: _Batch, prepared: _Prepared | None = None) -> _Composed:
    """Lay out body, signature and title of a prepared letter (pure: no canvas involved)."""
    style, pen, book = batch.style, batch.pen, batch.book
    p = prepared or _prepare(letter, batch)
    rng = random.Random(letter_seed(letter.seed if letter.seed is not None else letter.letter_id))
    r = rng if style.humanise else None
    frame = batch.geo.body_frame()
    start = rng.getstate()
    written = write(p.body, pen, frame, r)
    lead = HAND.leading_pt
    sig_page, sig_y = _signature_spot(written, frame, lead, bool(p.title))
    cut = _keep_break(written, p.body, sig_page)
    if cut is not None:  # write again from the same state, with the end moved to a new page
        rng.setstate(start)
        written = write(p.body, pen, frame, r, break_before=cut)
        sig_page, sig_y = _signature_spot(written, frame, lead, bool(p.title))
    sig_x = frame.left + (3 * MM + 9 * MM * rng.random() if r else 3 * MM)
    signature = sign(p.signer, [book.signature, *pen.faces], sig_x, sig_y, r) if p.signer else None
    title_written = None
    if p.title:
        depth = max(signature.depth if signature else 0.0, 8.0)
        below = Frame(sig_x + 4 * MM, frame.width, sig_y - depth - 0.75 * lead * TITLE_SCALE, 0.0, -math.inf)
        title_written = write([p.title], pen, below, r, scale=TITLE_SCALE)
    return _Composed(p.address, written, signature, sig_page, title_written, p.reference, p.problems)


def _draw_handwriting(canv: Canvas, items: list[Glyph | Run], batch: _Batch) -> None:
    if not items:
        return
    if batch.style.humanise:
        emit_glyphs(canv, cast("list[Glyph]", items), batch.ink)  # a humanised layout writes only glyphs
    else:
        emit_runs(canv, cast("list[Run]", items), batch.ink)  # a plain one only runs


def _draw_letter(canv: Canvas, letter: Letter, batch: _Batch, prepared: _Prepared | None = None) -> RenderedLetter:
    geo, book = batch.geo, batch.book
    done = _compose(letter, batch, prepared)
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


def _make_batch(style: LetterStyle, book: FontBook) -> _Batch:
    return_problems: list[str] = []
    ret = clean_field(style.return_address, [book.sans], "return address", return_problems)
    geo = geometry(style.paper, style.envelope)
    return _Batch(
        style,
        geo,
        pen_for(style.hand),
        book,
        INKS[style.ink],
        place_return_address(ret, book.sans, geo, return_problems),
        return_problems,
    )


@contextlib.contextmanager
def _canvas(out: str | os.PathLike[str] | BinaryIO, size: tuple[float, float], book: FontBook) -> Iterator[Canvas]:
    """An invariant canvas (byte-identical output for identical input) with binary streams."""
    if isinstance(out, os.PathLike):
        out = os.fspath(out)
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canv = Canvas(
            out, pagesize=size, invariant=1, pageCompression=1, initialFontName=book.sans.name, initialFontSize=10
        )
        canv.setTitle("hundred letters")
        canv.setCreator("hundred")
        yield canv
        canv.save()
    finally:
        rl_config.useA85 = saved


def render_letters(
    letters: Iterable[Letter], style: LetterStyle, out: str | os.PathLike[str] | BinaryIO
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
    batch = _make_batch(style, book)
    with _canvas(out, batch.geo.size, book) as canv:
        return [_draw_letter(canv, letter, batch) for letter in letters]


Sheet = Callable[[Canvas], None]


def render_batch(
    jobs: Sequence[tuple[Letter, LetterStyle]],
    out: str | os.PathLike[str] | BinaryIO,
    *,
    cover: Callable[[Canvas, list[list[str]]], None] | None = None,
    separators: Mapping[int, Sheet] | None = None,
    duplex: bool = False,
) -> list[RenderedLetter]:
    """A print batch as one PDF, rendered directly: each letter in its own style, in the given order.

    `cover(canvas, problems)` draws the cover sheet first (it is called after every letter is
    checked and cleaned, so it can list each letter's problems; it ends its pages itself);
    `separators[i]` draws a separator sheet before job i. With `duplex` a blank back follows every
    sheet group with an odd page count (cover, separator, letter), so each starts on a front side.
    """
    jobs = list(jobs)
    if not jobs:
        raise ValueError("no letters to render")
    for letter, _ in jobs:
        check_letter(letter)
    book = font_book()
    batches: dict[LetterStyle, _Batch] = {}
    for _, style in jobs:
        if style not in batches:
            batches[style] = _make_batch(style, book)
    prepared = [_prepare(letter, batches[style]) for letter, style in jobs]
    separators = separators or {}

    def pad(canv: Canvas, start: int) -> None:
        if duplex and (canv.getPageNumber() - start) % 2:
            canv.showPage()  # a blank back: the next sheet starts on a front side

    first_size = batches[jobs[0][1]].geo.size
    with _canvas(out, first_size, book) as canv:
        if cover is not None:
            cover(canv, [p.problems for p in prepared])
            pad(canv, 1)
        results = []
        for i, ((letter, style), prep) in enumerate(zip(jobs, prepared, strict=False)):
            batch = batches[style]
            canv.setPageSize(batch.geo.size)
            if i in separators:
                start = canv.getPageNumber()
                separators[i](canv)
                pad(canv, start)
                canv.setPageSize(batch.geo.size)
            start = canv.getPageNumber()
            results.append(_draw_letter(canv, letter, batch, prep))
            pad(canv, start)
        return results
