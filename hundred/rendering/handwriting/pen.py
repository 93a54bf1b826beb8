"""A pen: what the layout needs to know about a handwriting font chain, flattened for speed.

The layout asks three questions per character, hundreds of times per letter: which font draws it,
how wide is it, and which alternate forms exist.  A `Pen` answers each with one dict lookup.
Characters the primary hand lacks come from the fallback hand, scaled so both have the same
x-height (Kalam's x-height is 30 % larger than Caveat's at the same point size).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from hundred.rendering.handwriting.fonts import Face, HandFace, font_book

# Handwriting is big (about 18-20 pt of Caveat); sizes are set by x-height so the two hands
# write at the same physical size.
X_HEIGHT_PT = 7.6
FALLBACK = {"caveat": "kalam", "kalam": "caveat"}
KEY_SEP = "\x1f"


@dataclass(frozen=True)
class Pen:
    """Per-character drawing data for one hand (primary font + fallback)."""

    size: float  # pt, Tf size of every handwriting font
    faces: tuple[Face, ...]  # chain used for glyph coverage, primary first
    # ch -> (key, key with a trailing space, advance in its own font's em, scale to the primary
    # hand's x-height, font name, alternates or None); see `glyph_key`.  Alternates are
    # ((key, spaced key, advance em) of form 1, the same of form 2).
    forms: dict[str, tuple[str, str, float, float, str, Alternates | None]]
    n_width: float  # em; handwritten word gaps are derived from it, not from the space glyph
    space_width: float  # em; the font's own space, used by the plain (non-humanised) layout
    ascent: float  # em
    descent: float  # em (negative)


Alternates = tuple[tuple[str, str, float], tuple[str, str, float]]


def glyph_key(font: str, text: str) -> str:
    """One string naming a font and the text drawn with it.  The emitter caches encodings by
    it; a prebuilt str keeps its hash, so the per-glyph lookup is a single cheap dict probe."""
    return f"{font}{KEY_SEP}{text}"


def build_pen(primary: HandFace, fallback: HandFace) -> Pen:
    """Flatten a primary hand and its fallback into one Pen."""
    base = primary.face
    alternates: dict[str, Alternates] = {}
    if len(primary.variants) >= 2:
        one, two = primary.variants[:2]
        for ch in primary.alternates:
            first, second = ((glyph_key(v.name, ch), glyph_key(v.name, ch + " "), v.widths[ch]) for v in (one, two))
            alternates[ch] = (first, second)
    forms = {}
    for face in (base, fallback.face):
        scale = base.x_height / face.x_height
        for ch, width in face.widths.items():
            if ch not in forms:
                forms[ch] = (
                    glyph_key(face.name, ch),
                    glyph_key(face.name, ch + " "),
                    width,
                    scale,
                    face.name,
                    alternates.get(ch) if face is base else None,
                )
    return Pen(
        size=round(X_HEIGHT_PT / base.x_height, 2),
        faces=(base, fallback.face),
        forms=forms,
        n_width=base.widths["n"],
        space_width=base.widths[" "],
        ascent=base.ascent,
        descent=base.descent,
    )


@cache
def pen_for(hand: str) -> Pen:
    """The Pen for a style's `hand` ("caveat" or "kalam"), built once per process."""
    hands = font_book().hands
    return build_pen(hands[hand], hands[FALLBACK[hand]])
