"""The print room's own sheets: batch cover, separator, label sheets (Avery L7160 / 5160) and the
window alignment test print. Plain sans text and rules, drawn with reportlab into the batch's
canvas (cover, separator) or a canvas of their own (labels, alignment); invariant, so identical
inputs give identical bytes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any, BinaryIO

from reportlab.pdfgen.canvas import Canvas

from hundred.rendering.handwriting.address import address_lines
from hundred.rendering.handwriting.fonts import font_book
from hundred.rendering.handwriting.model import PostalAddress
from hundred.rendering.handwriting.page import INCH, MM, PAPER_SIZES
from hundred.rendering.handwriting.text import normalise
from hundred.service.records import BatchRow, LetterRow

BAND = 14 * MM  # black band at the top of cover and separator: visible on the stack's edge


def _band(canv: Canvas, title: str) -> None:
    width, height = canv._pagesize
    font = font_book().sans.name
    canv.setFillGray(0)
    canv.rect(0, height - BAND, width, BAND, stroke=0, fill=1)
    canv.rect(width - 6 * MM, 0, 6 * MM, height, stroke=0, fill=1)  # edge marker down the side
    canv.setFillGray(1)
    canv.setFont(font, 16)
    canv.drawString(15 * MM, height - BAND + 4.5 * MM, title)
    canv.setFillGray(0)


def _lines(canv: Canvas, lines: list[tuple[float, str]], top: float) -> list[tuple[float, str]]:
    """Draw (size, text) lines from `top` down; returns what did not fit on this page."""
    font = font_book().sans.name
    y = top
    for i, (size, text) in enumerate(lines):
        if y < 18 * MM:
            return lines[i:]
        canv.setFont(font, size)
        canv.drawString(15 * MM, y, text)
        y -= size * 1.45
    return []


def _counts_line(counts: dict[str, Any]) -> str:
    abroad = ", ".join(f"{c} {n}" for c, n in counts["countries"].items())
    home = "/".join(counts["home"])
    return f"Letters: {counts['letters']}  ·  domestic ({home}) {counts['domestic']}  ·  abroad {counts['abroad']}" + (
        f" ({abroad})" if abroad else ""
    )


def draw_cover(canv: Canvas, batch: BatchRow, counts: dict[str, Any], problems: list[str], *, made_at: str) -> None:
    """The cover sheet (one page, more when the problem list is long); ends its pages itself.
    `problems` are the batch's warnings (hundred.service.printroom.problems says them)."""
    papers = ", ".join(f"{p} ×{n}" if len(counts["papers"]) > 1 else p for p, n in counts["papers"].items())
    envelopes = ", ".join(f"{e} ×{n}" if len(counts["envelopes"]) > 1 else e for e, n in counts["envelopes"].items())
    window = "window" if set(counts["envelopes"]) != {"none"} else "no window: use the label sheet"
    body: list[tuple[float, str]] = [
        (22, f"Batch {batch.batch_id}"),
        (11, f"Made {made_at}  ·  letters due by {batch.until.isoformat()}"),
        (11, ""),
        (13, _counts_line(counts)),
        (13, f"Paper: {papers}  ·  Envelope: {envelopes} ({window})"),
        (
            13,
            f"Duplex: {'yes (blank backs keep every letter on its own sheet)' if batch.duplex else 'no (simplex)'}"
            f"  ·  Labels: {'yes' if batch.labels else 'no'}",
        ),
        (11, ""),
        (11, "Print at 100 % (no 'fit to page'); letters are in postcode order, domestic first."),
        (
            11,
            "Duplex: switch the printer's 'skip blank pages' off."
            if batch.duplex
            else "Sort by the manifest (CSV) if a stack is dropped; the foot of every page names its letter.",
        ),
        (11, "This sheet is not mail: do not post it."),
        (11, ""),
    ]
    body.append((13, f"Problems: {len(problems)}" if problems else "Problems: none"))
    for problem in problems:
        for n, part in enumerate(textwrap.wrap(problem, 105) or [""]):
            body.append((9, ("• " if n == 0 else "   ") + part))
    title = f"PRINT BATCH {batch.batch_id}  ·  DO NOT MAIL"
    rest = body
    while True:
        _band(canv, title)
        rest = _lines(canv, rest, canv._pagesize[1] - BAND - 14 * MM)
        canv.showPage()
        if not rest:
            return
        title = f"BATCH {batch.batch_id}  ·  problems, continued"


def draw_separator(canv: Canvas, batch_id: str, counts: dict[str, Any]) -> None:
    """Between domestic mail and mail abroad (different postage)."""
    abroad = ", ".join(f"{c} {n}" for c, n in counts["countries"].items())
    _band(canv, f"MAIL ABROAD  ·  batch {batch_id}")
    _lines(
        canv,
        [
            (22, f"Mail abroad: {counts['abroad']} letters"),
            (13, abroad),
            (11, "International postage. Sorted by country, then postcode."),
            (11, "This sheet is not mail: do not post it."),
        ],
        canv._pagesize[1] - BAND - 14 * MM,
    )
    canv.showPage()


@dataclass(frozen=True)
class LabelSheet:
    """An Avery label sheet: label size, margins and pitch (research §3.3)."""

    name: str
    paper: str
    cols: int
    rows: int
    width: float
    height: float
    left: float
    top: float
    pitch_x: float
    pitch_y: float
    pad: float


L7160 = LabelSheet("Avery L7160", "A4", 3, 7, 63.5 * MM, 38.1 * MM, 7.2 * MM, 15.15 * MM, 66.04 * MM, 38.1 * MM, 4 * MM)
AVERY_5160 = LabelSheet(
    "Avery 5160", "letter", 3, 10, 2.625 * INCH, 1 * INCH, 3 / 16 * INCH, 0.5 * INCH, 2.75 * INCH, 1 * INCH, 0.1 * INCH
)
SHEETS = {"A4": L7160, "letter": AVERY_5160}


def label_lines(row: LetterRow) -> list[str]:
    addr = PostalAddress(**{k: normalise(v) if isinstance(v, str) else v for k, v in row.address.items()})
    return address_lines(addr, str(row.layout.get("sender_country") or "NL"))


def draw_labels(out: str | BinaryIO, items: list[tuple[int, LetterRow]]) -> int:
    """Address labels in print order (label n goes on letter n's envelope), each with its sequence
    number in the corner; A4 letters on L7160 sheets, Letter on 5160. Returns the page count."""
    book = font_book()
    face = book.sans
    canv = Canvas(out, pagesize=PAPER_SIZES["A4"], invariant=1, pageCompression=1, initialFontName=face.name)
    canv.setTitle("hundred address labels")
    canv.setCreator("hundred")
    sheet, slot, pages = None, 0, 0
    for seq, row in items:
        wanted = SHEETS.get(str(row.layout.get("paper")), L7160)
        if sheet is not wanted or slot == sheet.cols * sheet.rows:
            if sheet is not None:
                canv.showPage()
            sheet, slot, pages = wanted, 0, pages + 1
            canv.setPageSize(PAPER_SIZES[sheet.paper])
        col, line = slot % sheet.cols, slot // sheet.cols
        x = sheet.left + col * sheet.pitch_x
        top = PAPER_SIZES[sheet.paper][1] - sheet.top - line * sheet.pitch_y
        lines = label_lines(row)
        room_w, room_h = sheet.width - 2 * sheet.pad, sheet.height - 2 * sheet.pad
        size = 10.0
        while size > 6 and (
            len(lines) * size * 1.15 > room_h or max(canv.stringWidth(s, face.name, size) for s in lines) > room_w
        ):
            size -= 0.5
        y = top - sheet.pad - size
        canv.setFillGray(0)
        for text in lines:
            canv.setFont(face.name, size)
            canv.drawString(x + sheet.pad, y, text)
            y -= size * 1.15
        canv.setFillGray(0.5)
        canv.setFont(face.name, 5.5)
        canv.drawRightString(x + sheet.width - 2 * MM, top - 3.5 * MM, f"#{seq}")
        slot += 1
    canv.showPage()
    canv.save()
    return pages


# Where each envelope's window shows the folded sheet, measured on the flat sheet from its top-left
# corner, in every position the insert can take (research §3.1: window_fit).
Window = tuple[str, str, tuple[float, float, float, float], tuple[float, float, float], list[float]]
WINDOWS: tuple[Window, ...] = (
    ("DL", "DL 220 × 110 mm, window 90 × 45 mm", (20 * MM, 50 * MM, 80 * MM, 40 * MM), (0, 0, 0.8), [6, 2]),
    ("C5", "C5 / C6/5, window 90 × 45 mm", (20 * MM, 54 * MM, 71 * MM, 36 * MM), (0.8, 0, 0), [2, 2]),
    ("US10", "US #10, window 4½ × 1⅛ in", (1.0 * INCH, 2.50 * INCH, 3.25 * INCH, 0.67 * INCH), (0, 0.5, 0), []),
)


def draw_alignment(out: str | BinaryIO, paper: str = "A4") -> None:
    """One page to hold against the envelopes: each window's visible area drawn to scale and
    labelled, the DIN 5008 address field, fold marks and a 100 mm ruler to prove 100 % scale."""
    face = font_book().sans.name
    width, height = PAPER_SIZES[paper]
    canv = Canvas(out, pagesize=(width, height), invariant=1, pageCompression=1, initialFontName=face)
    canv.setTitle("hundred window alignment test")
    canv.setCreator("hundred")
    canv.setFont(face, 14)
    canv.drawString(
        20 * MM, height - 15 * MM, f"Window alignment test ({paper}): print at 100 %, fold, hold in the envelope"
    )
    canv.setFont(face, 8)
    canv.drawString(
        20 * MM,
        height - 21 * MM,
        "Each frame is what that envelope's window shows in every position of the "
        "folded sheet. The address must stay inside it.",
    )
    canv.setStrokeGray(0.6)
    canv.setDash([1, 2])
    canv.rect(20 * MM, height - 90 * MM, 85 * MM, 45 * MM)  # DIN 5008 form B field
    canv.setDash([])
    canv.setFont(face, 6.5)
    canv.setFillGray(0.4)
    canv.drawString(20 * MM, height - 99 * MM, "dotted: DIN 5008 form B address field, 85 × 45 mm at 20 / 45 mm")
    for i, (_, label, (x, top, w, h), rgb, dash) in enumerate(WINDOWS):
        canv.setStrokeColorRGB(*rgb)
        canv.setFillColorRGB(*rgb)
        canv.setLineWidth(0.8)
        canv.setDash(dash)
        canv.rect(x, height - top - h, w, h)
        canv.setDash([])
        label_y = height - (50 + 8 * i) * MM  # labels in a column right of the frames, with a leader line
        canv.setLineWidth(0.3)
        canv.line(x + w, height - top - 2 * i * MM, 125 * MM, label_y + 1)
        canv.setFont(face, 7.5)
        canv.drawString(126 * MM, label_y, label)
    canv.setStrokeGray(0.4)
    canv.setFillGray(0.3)
    for y, what in (
        (105 * MM, "fold (DL)"),
        (210 * MM, "fold (DL)"),
        (148.5 * MM, "fold (C5) / punch"),
        (11 / 3 * INCH, "fold (US #10)"),
        (22 / 3 * INCH, "fold (US #10)"),
    ):
        if y < height:
            canv.line(3 * MM, height - y, 11 * MM, height - y)
            canv.setFont(face, 5.5)
            canv.drawString(12 * MM, height - y - 2, what)
    # a 100 mm ruler with centimetre ticks: if it is not 100 mm on paper, the printer scaled the page
    y0 = 40 * MM
    canv.setStrokeGray(0)
    canv.setLineWidth(0.6)
    canv.line(20 * MM, y0, 120 * MM, y0)
    for cm in range(11):
        canv.line((20 + 10 * cm) * MM, y0, (20 + 10 * cm) * MM, y0 + (4 if cm % 5 else 7) * MM)
    canv.setFillGray(0)
    canv.setFont(face, 8)
    canv.drawString(
        20 * MM, y0 - 5 * MM, "This line must measure exactly 100 mm. If not, turn off 'fit to page' / scaling."
    )
    canv.showPage()
    canv.save()
