"""A per-letter signature: the signer's name in a connected script plus a tapered flourish.

Connected scripts break visibly when glyphs are jittered one by one (the joins stop meeting), so
the name is transformed per *word* only: the whole signature climbs a few degrees, each word gets
its own small rotation, width, slant and baseline offset.  The flourish is a cubic Bézier drawn
as a filled outline whose width swells and tapers like a pen stroke.  Everything is drawn from
the letter's own random generator, so every letter's signature differs and a reprint is equal.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from hundred.rendering.handwriting.fonts import Face
from hundred.rendering.handwriting.hand import FIXED, SQ6, Glyph
from hundred.rendering.handwriting.pen import glyph_key
from hundred.rendering.handwriting.text import font_index

SIZE = 28.0  # pt; a signature is larger than the writing


@dataclass(frozen=True)
class Signature:
    glyphs: list[Glyph]  # word-level Tm + Tj, for emit.emit_glyphs
    flourish: list[tuple[float, float]]  # closed outline, for emit.emit_path
    depth: float  # how far the drawing reaches below the baseline, pt


def _tri(r: random.Random) -> float:
    return (r.random() + r.random() - 1.0) * SQ6


Point = tuple[float, float]


def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, n: int = 28) -> list[Point]:
    pts: list[Point] = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        pts.append(
            (
                u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
            )
        )
    return pts


def _tapered(pts: list[tuple[float, float]], w_max: float, r: random.Random | None) -> list[tuple[float, float]]:
    """Outline of a stroke along `pts` that swells from a hairline to `w_max` and tapers off."""
    left, right = [], []
    n = len(pts)
    for i, (x, y) in enumerate(pts):
        x0, y0 = pts[max(i - 1, 0)]
        x1, y1 = pts[min(i + 1, n - 1)]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        t = i / (n - 1)
        w = w_max * (math.sin(math.pi * min(1.0, t * 1.15)) ** 0.6 + 0.08)
        if r:
            w *= 1 + 0.04 * _tri(r)
        left.append((x + nx * w / 2, y + ny * w / 2))
        right.append((x - nx * w / 2, y - ny * w / 2))
    return left + right[::-1]


def _flourish_curve(end: float, r: random.Random | None) -> list[tuple[float, float]]:
    """One of three flourish shapes, in the signature's own coordinates (baseline y = 0)."""
    j = (lambda s: s * _tri(r)) if r else (lambda s: 0.0)
    kind = int(r.random() * 3) if r else 0
    if kind == 0:  # from the last letter, sweeping back underneath the name
        return _bezier(
            (end - 4 + j(2), 2 + j(1.5)),
            (end + 18 + j(4), -6 + j(3)),
            (end * 0.45 + j(6), -14 + j(3)),
            (-6 + j(3), -5 + j(2)),
        )
    if kind == 1:  # an underline that starts under the first letter and lifts off to the right
        return _bezier(
            (2 + j(2), -7 + j(1.5)),
            (end * 0.35 + j(5), -11 + j(2)),
            (end * 0.75 + j(5), -9 + j(2)),
            (end + 14 + j(4), -1 + j(2)),
        )
    # a tail dropping from the last letter and curling back left
    return _bezier(
        (end - 2 + j(2), 1 + j(1)),
        (end + 10 + j(3), -4 + j(2)),
        (end + 4 + j(3), -13 + j(2)),
        (end * 0.6 + j(6), -9 + j(2)),
    )


def sign(name: str, faces: list[Face], x: float, y: float, rng: random.Random | None) -> Signature:
    """Lay out `name` (already cleaned) with its baseline starting at (x, y).

    `faces[0]` is the script; characters it lacks come from the next face that has them.
    """
    r = rng
    # Signatures climb, but from end to end by less than ~0.3 em: pdftotext scatters a name
    # that rises further letter by letter (as it does with turned "diagonal" text).
    width = sum(faces[0].widths.get(ch, 0.5) for ch in name) * SIZE
    steepest = math.degrees(math.atan(0.2 * SIZE / max(width, 1.0)))
    climb = math.radians(min(steepest, 3.0 + 0.4 * _tri(r)) if r else min(steepest, 2.5))
    scale = 1 + 0.04 * _tri(r) if r else 1.0
    ink = 1.0
    lw = round((0.32 + 0.06 * _tri(r)) / 0.02) * 0.02 if r else 0.3
    cc, sc = math.cos(climb), math.sin(climb)
    glyphs: list[Glyph] = []
    words = name.split()
    pos = 0.0
    size = SIZE * scale
    k = size * FIXED
    for wi, word in enumerate(words):
        rot = math.radians(0.15 * _tri(r)) if r else 0.0
        hs = 1 + 0.05 * _tri(r) if r else 1.0
        slant = math.tan(math.radians(3 * _tri(r))) if r else 0.0
        dy = 1.2 * _tri(r) if r else 0.0
        ang = climb + rot
        ca, sa = math.cos(ang), math.sin(ang)
        runs = _runs(word + (" " if wi < len(words) - 1 else ""), faces)
        for font, text, width in runs:
            gx, gy = x + pos * cc - dy * sc, y + pos * sc + dy * cc
            glyphs.append(
                (
                    glyph_key(font.name, text),
                    int(k * hs * ca),
                    int(k * hs * sa),
                    int(k * (slant * ca - sa)),
                    int(k * (slant * sa + ca)),
                    int(gx * FIXED),
                    int(gy * FIXED),
                    lw,
                    ink,
                )
            )
            pos += width * size * hs
        if wi < len(words) - 1:
            pos += faces[0].widths.get(" ", 0.25) * size * ((0.3 + 0.25 * r.random()) if r else 0.3)
    curve = [(x + px * cc - py * sc, y + px * sc + py * cc) for px, py in _flourish_curve(pos, r)]
    outline = _tapered(curve, 1.5 + (0.3 * _tri(r) if r else 0.0), r)
    depth = max(0.0, y - min(py for _, py in outline))
    return Signature(glyphs, outline, depth)


def _runs(text: str, faces: list[Face]) -> list[tuple[Face, str, float]]:
    """Split `text` into same-font runs with their widths (em); a space joins the run before it.
    Fallback glyphs are rare in names and keep the script's size."""
    runs: list[tuple[Face, str, float]] = []
    for ch in text:
        face = runs[-1][0] if ch == " " and runs else faces[font_index(ch, faces)]
        width = face.widths.get(ch, 0.5)
        if runs and runs[-1][0] is face:
            runs[-1] = (face, runs[-1][1] + ch, runs[-1][2] + width)
        else:
            runs.append((face, ch, width))
    return runs
