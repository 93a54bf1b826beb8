"""Fast PDF operator emitter for positioned glyphs and plain text runs.

reportlab's public text API formats six numbers and re-encodes the string for every glyph; at
~800 glyphs per letter that, not the layout, would dominate.  Here each page's text is one
``q BT … ET Q`` block built as a single string: one ``Tm`` and one ``Tj`` per glyph, integer
numbers in 0.1 pt units, and colour / line-width / font operators only when the value changes.

Glyph encodings are assigned per PDF document (reportlab subsets each font per document), so the
encoding cache lives *on the document object*: a module-level cache keyed by ``id(doc)`` goes
stale when a finished document is freed and a new one reuses its id, and then prints garbage.
"""

from __future__ import annotations

from collections.abc import Iterable

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from hundred.rendering.handwriting.hand import FIXED, Glyph, Run
from hundred.rendering.handwriting.pen import KEY_SEP

CMYK = tuple[float, float, float, float]
_CACHE_ATTR = "_hundred_glyph_encodings"

Encoded = tuple[str, str]  # (font resource name, "(…)Tj")


def _cache(canv: Canvas) -> dict[str, Encoded]:
    doc = canv._doc
    cache: dict[str, Encoded] | None = doc.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = doc.__dict__[_CACHE_ATTR] = {}
    return cache


def _encode(canv: Canvas, key: str) -> Encoded:
    """Subset-encode a glyph key's text in its font for this document.

    Returns (font resource, "(…)Tj").  Text that spans two subsets (a glyph plus the space drawn
    after it, when the glyph was the 257th character of that font in the document) comes back
    as one string with its own font switches and an empty resource name, so the caller
    re-selects its font afterwards.
    """
    font_name, text = key.split(KEY_SEP, 1)
    font = pdfmetrics.getFont(font_name)
    doc = canv._doc
    chunks = [
        (font.getSubsetInternalName(subset, doc), f"({escapePDF(chunk)})Tj")
        for subset, chunk in font.splitString(text, doc)
    ]
    if len(chunks) == 1:
        return chunks[0]
    return "", " ".join(f"{ref} 1 Tf {tj}" for ref, tj in chunks)


def _fmt(x: float, places: int) -> str:
    """Shortest fixed-point form: trailing zeros and a leading zero dropped (valid PDF)."""
    s = f"{x:.{places}f}".rstrip("0").rstrip(".")
    if s.startswith("0."):
        return s[1:]
    if s.startswith("-0."):
        return "-" + s[2:]
    return "0" if s in ("", "-0") else s


def colour(cmyk: CMYK, density: float = 1.0, stroke: bool = False) -> str:
    """CMYK fill (and stroke) operator for ink at `density` (1.0 = full)."""
    v = " ".join(_fmt(c * density, 3) for c in cmyk)
    return f"{v} k {v} K" if stroke else f"{v} k"


def emit_glyphs(canv: Canvas, glyphs: Iterable[Glyph], ink: CMYK, pressure: bool = True) -> None:
    """Draw positioned glyphs: one text object, one Tm + Tj per glyph.

    Glyph matrices are fixed point (`hand.FIXED` units per pt, font size folded in), so the
    block runs in that coordinate system (``.1 0 0 .1 0 0 cm``) with a font size of 1 and the
    six matrix numbers print as short integers: 0.1 pt is 0.035 mm, far below what a printer
    shows, and integer formatting is the cheapest there is.
    With `pressure` the glyphs use text render mode 2 (fill + stroke) and each glyph's stroke
    width thickens the line a little, as a pen pressed harder would.
    """
    cache = _cache(canv)
    out = [f"q {_fmt(1 / FIXED, 4)} 0 0 {_fmt(1 / FIXED, 4)} 0 0 cm BT", "2 Tr" if pressure else "0 Tr"]
    append = out.append
    cur_font = last_ink = last_lw = None
    colours: dict[float, str] = {}
    for key, a, b, c, d, e, f, lw, density in glyphs:
        enc = cache.get(key)
        if enc is None:
            enc = cache[key] = _encode(canv, key)
        if density != last_ink:
            col = colours.get(density)
            if col is None:
                col = colours[density] = colour(ink, density, stroke=pressure)
            append(col)
            last_ink = density
        if pressure and lw != last_lw:
            append("%.1f w" % (lw * FIXED))
            last_lw = lw
        ref, tj = enc
        if ref != cur_font:
            if ref:
                append(ref + " 1 Tf")
            cur_font = ref
        append(f"{a:d} {b:d} {c:d} {d:d} {e:d} {f:d} Tm{tj}")
    append("ET Q")
    canv.addLiteral(" ".join(out))


def emit_runs(canv: Canvas, lines: list[Run], ink: CMYK) -> None:
    """Draw plain lines of text: one Tm per line, a Tf only where the font or size changes."""
    if not lines:
        return
    doc = canv._doc
    out = ["q BT 0 Tr", colour(ink)]
    cur = None
    for x, y, runs in lines:
        out.append(f"1 0 0 1 {x:.1f} {y:.1f} Tm")
        for font_name, size, text in runs:
            font = pdfmetrics.getFont(font_name)
            for subset, chunk in font.splitString(text, doc):
                ref = font.getSubsetInternalName(subset, doc)
                if (ref, size) != cur:
                    out.append(f"{ref} {_fmt(size, 2)} Tf")
                    cur = (ref, size)
                out.append(f"({escapePDF(chunk)})Tj")
    out.append("ET Q")
    canv.addLiteral(" ".join(out))


def emit_path(canv: Canvas, points: list[tuple[float, float]], ink: CMYK) -> None:
    """Fill a closed polygon (the signature's tapered flourish) in ink."""
    ops = [f"q {colour(ink)}", f"{points[0][0]:.1f} {points[0][1]:.1f} m"]
    ops += [f"{x:.1f} {y:.1f} l" for x, y in points[1:]]
    ops.append("h f Q")
    canv.addLiteral(" ".join(ops))


def emit_rules(canv: Canvas, segments: Iterable[tuple[float, float, float, float]], grey: float, width: float) -> None:
    """Thin straight lines (fold and punch marks)."""
    ops = [f"q {_fmt(grey, 2)} G {_fmt(width, 2)} w"]
    ops += [f"{x0:.1f} {y0:.1f} m {x1:.1f} {y1:.1f} l S" for x0, y0, x1, y1 in segments]
    ops.append("Q")
    canv.addLiteral(" ".join(ops))
