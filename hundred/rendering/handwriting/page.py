"""Paper and envelope geometry, and the address block's placement in the window (pure).

A4 in a DL or C5 window envelope follows DIN 5008 form B: the address field is 20 mm from the
left and 45 mm from the top, 85 × 45 mm; its top 17.7 mm hold the return address as one small
line at the bottom of that zone, the 27.3 mm below hold the recipient (at most 6 lines, no blank
lines).  Fold marks at 105 and 210 mm (DL) or 148.5 mm (C5), punch mark at 148.5 mm.

US Letter in a #10 envelope: a tri-folded sheet moves inside the envelope, and with the USPS
1/8 inch clearance (DMM 601.6.3) only a strip 2.62–3.04 in from the top of the sheet and
1.00–4.25 in from the left is visible in every position of the insert (research §3).  The
address goes there as a compact block; the return address cannot share that strip, so it is a
small line at the head of the letter instead.

All geometry is in PDF points; "top" distances are measured from the top edge of the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from hundred.rendering.handwriting.fonts import Face
from hundred.rendering.handwriting.hand import Frame, Run

MM = 72 / 25.4
INCH = 72.0
PAPER_SIZES = {"A4": (210 * MM, 297 * MM), "letter": (8.5 * INCH, 11 * INCH)}


@dataclass(frozen=True)
class Window:
    """Where the recipient's address must stay, and how it may be set."""

    left: float  # field's left edge
    top: float  # top of the recipient zone
    width: float
    height: float  # recipient zone
    text_left: float  # where lines start
    max_line_width: float  # visible through the envelope window in every insert position
    max_lines: int
    sizes: tuple[float, ...]  # type sizes to try, largest first
    return_baseline: float | None  # return address line inside the window (DIN), from top
    all_caps_leading: float = 1.2
    mixed_leading: float = 1.2
    whole_box: bool = True  # keep the font's whole line box inside (else only the ink)
    capitals: bool = False  # set the whole block in capitals


@dataclass(frozen=True)
class Geometry:
    """Everything about a sheet that does not depend on the letter: size, window, marks,
    margins, where the handwriting may go and where the reference line sits."""

    paper: str
    envelope: str
    size: tuple[float, float]
    window: Window | None
    folds: tuple[float, ...]  # from top
    punch: float | None  # from top
    margin_left: float
    margin_right: float
    body_first: float  # first baseline of the body on page one, from top
    body_next: float  # on continuation pages
    body_bottom: float  # lowest body baseline, from the bottom edge
    footer: float  # reference line baseline, from the bottom edge
    return_head: float | None  # return address at the head of the letter (no room in window)

    def body_frame(self) -> Frame:
        width, height = self.size
        return Frame(
            left=self.margin_left,
            width=width - self.margin_left - self.margin_right,
            first_baseline=height - self.body_first,
            next_baseline=height - self.body_next,
            bottom=self.body_bottom,
        )


def _din_window(max_line_mm: float) -> Window:
    """DIN 5008 form B field.  `max_line_mm` is how far right of the text start (25 mm) a line
    stays visible in every position the folded sheet can take in the envelope (research §3:
    DL shows 20-100 mm; for C5 we keep the C6/5 figure of 91 mm, the tighter of the two)."""
    return Window(
        left=20 * MM,
        top=(45 + 17.7) * MM,
        width=85 * MM,
        height=27.3 * MM,
        text_left=25 * MM,
        max_line_width=max_line_mm * MM,
        max_lines=6,
        sizes=(10.0, 9.5, 9.0, 8.5, 8.0),
        return_baseline=(45 + 17.7 - 1.8) * MM,
    )


US10_STRIP = (2.625 * INCH, (3.0 + 1 / 24) * INCH)  # top, bottom of the always-visible strip
US10 = Window(
    left=1.0 * INCH,
    top=US10_STRIP[0],
    width=3.25 * INCH,
    height=US10_STRIP[1] - US10_STRIP[0],
    text_left=1.0 * INCH,
    max_line_width=3.25 * INCH,
    max_lines=4,
    sizes=(9.0, 8.5, 8.0, 7.5, 7.0),
    return_baseline=None,
    all_caps_leading=1.0,
    mixed_leading=1.12,
    whole_box=False,  # the strip already has the 1/8 inch clearance; 4 lines only fit by ink
    capitals=True,  # USPS Publication 28 style; without descenders 4 lines fit the strip
)


def geometry(paper: str, envelope: str) -> Geometry:
    """Page layout for a validated (paper, envelope) pair of a `LetterStyle`."""
    if paper == "A4":
        window = {"DL": _din_window(100 - 25), "C5": _din_window(91 - 25), "none": None}[envelope]
        folds = (148.5 * MM,) if envelope == "C5" else (105 * MM, 210 * MM)
        return Geometry(
            paper,
            envelope,
            PAPER_SIZES["A4"],
            window,
            folds,
            punch=None if envelope == "C5" else 148.5 * MM,
            margin_left=25 * MM,
            margin_right=20 * MM,
            body_first=(103 if window else 40) * MM,
            body_next=28 * MM,
            body_bottom=20 * MM,
            footer=9 * MM,
            return_head=None,
        )
    window = US10 if envelope == "US10" else None
    return Geometry(
        paper,
        envelope,
        PAPER_SIZES["letter"],
        window,
        (11 / 3 * INCH, 22 / 3 * INCH),
        punch=None,
        margin_left=1.0 * INCH,
        margin_right=0.8 * INCH,
        body_first=(4.0 if window else 1.5) * INCH,
        body_next=1.1 * INCH,
        body_bottom=0.85 * INCH,
        footer=0.35 * INCH,
        return_head=0.55 * INCH if window else None,
    )


def _width(text: str, face: Face, size: float) -> float:
    widths = face.widths
    return sum(widths.get(ch, 0.5) for ch in text) * size


def _extent(lines: list[str], face: Face, whole_box: bool) -> tuple[float, float]:
    """(above, below) the baseline, in em, of what must stay inside the window: the font's
    whole line box, or only the ink (cap height, accents, descenders) for a tight window."""
    if whole_box:
        return face.ascent, -face.descent
    caps = all(line == line.upper() for line in lines)
    # accents on capitals (Ó, Ł, Ő) rise about 0.22 em above the cap height
    accents = bool(lines) and any(ord(ch) > 127 and ch.isupper() for ch in lines[0])
    above = face.cap_height + (0.22 if accents or not caps else 0.0)
    return above, 0.0 if caps else -face.descent


def place_address(lines: list[str], face: Face, geo: Geometry, problems: list[str]) -> list[Run]:
    """Set the recipient lines in the window: the largest allowed size at which every line is
    fully visible; if none fits, the smallest, and the letter is flagged."""
    win = geo.window
    assert win is not None
    caps = all(line == line.upper() for line in lines)
    lead = win.all_caps_leading if caps else win.mixed_leading
    above, below = _extent(lines, face, win.whole_box)

    def fits(size: float) -> bool:
        block = (above + below + (len(lines) - 1) * lead) * size
        return block <= win.height and all(_width(line, face, size) <= win.max_line_width for line in lines)

    size = next((s for s in win.sizes if fits(s)), win.sizes[-1])
    name = f"{geo.envelope} window"
    if len(lines) > win.max_lines:
        problems.append(f"address has {len(lines)} lines; the {name} shows {win.max_lines}")
    elif not fits(size):
        problems.append(f"address does not fit the {name} even at {size:g} pt")
    first = geo.size[1] - win.top - above * size
    return [(win.text_left, first - i * size * lead, [(face.name, size, line)]) for i, line in enumerate(lines)]


def place_return_address(text: str, face: Face, geo: Geometry, problems: list[str]) -> list[Run]:
    """One small line: at the bottom of the window's return zone (DIN), or at the head of the
    letter when the window has no room for it.  Without a window (labels) the return
    address belongs on the envelope, not on the letter."""
    if not text or geo.window is None:
        return []
    width, height = geo.size
    if geo.window.return_baseline is not None:
        x, y, room = geo.window.text_left, height - geo.window.return_baseline, geo.window.max_line_width
    else:
        x, y = geo.margin_left, height - (geo.return_head or 15 * MM)
        room = width - geo.margin_left - geo.margin_right
    size = next((s for s in (7.0, 6.5, 6.0) if _width(text, face, s) <= room), 6.0)
    if _width(text, face, size) > room:
        problems.append(f"return address is wider than the {room / MM:.0f} mm it has, even at 6 pt")
    return [(x, y, [(face.name, size, text)])]


def mark_segments(geo: Geometry) -> list[tuple[float, float, float, float]]:
    """Short rules in the left margin: fold marks, and the longer punch (centre) mark."""
    height = geo.size[1]
    segs = [(3 * MM, height - y, 8 * MM, height - y) for y in geo.folds]
    if geo.punch is not None:
        segs.append((3 * MM, height - geo.punch, 11 * MM, height - geo.punch))
    return segs
