"""Humanised handwriting layout: text in, positioned glyphs out (pure Python, no PDF).

What makes a font look written rather than typeset (research: letters-and-print.md §1) is
*correlated* variation at several levels, never white noise:

  letter : forward slant, a small rotation of the whole block, overall size
  line   : baseline angle (lines climb a little), a slight bow, leading, a left margin that
           wanders and creeps right, a ragged right edge
  word   : gap derived from the width of "n" (not the font's narrow space), baseline offset,
           tracking, and slowly drifting pen pressure and ink density
  glyph  : AR(1) baseline wobble, rotation, size, width and advance jitter, and the font's
           alternate forms so a letter repeated within a few characters never looks the same
  fatigue: amplitudes grow along the letter

Noise comes straight from `random.random()`: the sum of two uniforms (triangular) where its
shape shows (rotation, word gaps, line angle), a single uniform for the small jitters, each
scaled to the stated standard deviation.  At these amplitudes both read as Gaussian, they are
bounded (no wild outliers), and they cost a fraction of `random.gauss`: this loop runs ~800
times per letter.

With ``rng=None`` the same flow produces plain, straight lines of text runs in the same font:
the benchmark's baseline and a preview mode.

Over 400 lines on purpose: the levels above all read and update one pen's running state (place,
drift, pressure, fatigue, the forms last used) in one hot loop, which split up would pass around.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from hundred.rendering.handwriting.pen import Pen

MM = 72 / 25.4
SQ6 = math.sqrt(6.0)  # (u1 + u2 - 1) has variance 1/6
SQ12 = math.sqrt(12.0)  # (u - 0.5) has variance 1/12
TIGHT = 0.06  # pt; glyphs of a word always touch or overlap by at least this much

# (glyph key "font\x1ftext", a, b, c, d, e, f, stroke width, ink density): one Tm + Tj.
# The matrix is fixed point in FIXED units (0.1 pt = 0.035 mm): (a, b) and (c, d) are the
# glyph's em vectors, (e, f) its origin from the page's bottom-left corner.
Glyph = tuple[str, int, int, int, int, int, int, float, float]
FIXED = 10  # fixed-point units per point
# (x, y, [(font name, size, text), ...]): one plain line
Run = tuple[float, float, list[tuple[str, float, str]]]


@dataclass(frozen=True)
class HandParams:
    """Amplitudes of the variation; em = font size, angles in degrees."""

    leading_pt: float = 24.5
    paragraph_gap: float = 0.5  # extra leading per blank line
    slant_deg: float = 4.0
    slant_sigma: float = 1.5
    block_rot_sigma: float = 0.35
    size_page_sigma: float = 0.02
    line_angle_bias: float = 0.15
    line_angle_sigma: float = 0.45
    line_angle_ar: float = 0.55  # consecutive lines run roughly parallel
    # Vertical budget.  pdftotext gathers a line from the glyphs whose baselines lie within
    # 0.5 em of the line's *first* glyph, so a glyph must never come within 0.5 em of the
    # start of the line above or below: climb + bow + wobble stay below leading - 0.5 em.
    line_rise_max: float = 0.24  # em, whole line, end to end
    line_bow: float = 0.03
    leading_sigma: float = 0.035
    margin_walk_mm: float = 0.7
    margin_drift_mm: float = 0.25
    margin_range_mm: tuple[float, float] = (-2.0, 7.0)
    ragged_mm: float = 9.0
    space_n: float = 0.8
    space_sigma: float = 0.18
    word_rise_sigma: float = 0.015
    word_track_sigma: float = 0.025
    rise_sigma: float = 0.035
    rise_max: float = 0.08  # em, hard limit of the baseline wobble
    rise_ar: float = 0.75
    rise_white: float = 0.008
    rot_sigma: float = 1.6
    rot_max: float = 5.0  # total glyph angle; pdftotext treats > ~5.7 degrees as diagonal text
    size_sigma: float = 0.035
    hscale_sigma: float = 0.03
    track_sigma: float = 0.035
    alt_prob: float = 0.45
    alt_window: int = 6
    # The next letter keeps the current form when the rule above allows it: forms still mix
    # in the same proportions, but the PDF switches fonts about half as often.
    alt_stay: float = 0.6
    pressure: tuple[float, float] = (0.0, 0.16)  # stroke width, pt (text render mode 2)
    pressure_ar: float = 0.86  # per word; ~0.97 per glyph
    ink_sigma: float = 0.05
    ink_ar: float = 0.97  # per word
    ink_step: float = 0.03  # density is quantised: a colour operator only every few words
    ink_min: float = 0.82
    fatigue: float = 0.35


HAND = HandParams()


@dataclass(frozen=True)
class Frame:
    """Where text may go, in PDF points from the bottom-left corner."""

    left: float
    width: float
    first_baseline: float  # first page of the letter
    next_baseline: float  # continuation pages
    bottom: float  # lowest baseline allowed


@dataclass
class Written:
    """Layout result: glyphs (humanised) or runs (plain) per page of the letter."""

    pages: list[list[Glyph | Run]] = field(default_factory=lambda: [[]])
    end_page: int = 0
    end_y: float = 0.0  # baseline where a following line would go
    # (page, index of the text line it came from) for every line written, in order: what
    # the signature's keep-together rule looks at
    lines: list[tuple[int, int]] = field(default_factory=list)


def _tri(rnd: Callable[[], float]) -> float:
    return rnd() + rnd() - 1.0


def _wrap(widths: list[float], gap: float, limit_for: Callable[[], float]) -> list[tuple[int, int, float]]:
    """Greedy wrap at spaces only; `limit_for()` gives each line's (ragged) width.

    Returns (first word, end word, line width) per line.
    """
    lines: list[tuple[int, int, float]] = []
    start, used, limit = 0, 0.0, limit_for()
    for i, w in enumerate(widths):
        if i > start and used + gap + w > limit:
            lines.append((start, i, used))
            start, used, limit = i, 0.0, limit_for()
        used = used + gap + w if i > start else w
    if widths:
        lines.append((start, len(widths), used))
    return lines


class _Writer:
    """State of one pen moving through one text; see `write()`."""

    def __init__(
        self,
        pen: Pen,
        frame: Frame,
        rng: random.Random | None,
        p: HandParams,
        scale: float,
        break_before: int | None = None,
    ):
        self.pen, self.frame, self.p = pen, frame, p
        self.break_before = break_before
        self.size = pen.size * scale
        self.lead = p.leading_pt * scale
        self.out = Written(end_y=frame.first_baseline)
        self.rnd = rng.random if rng else None
        self._widths: dict[str, float] = {}
        if self.rnd:
            r = self.rnd
            self.tan_slant = math.tan(math.radians(p.slant_deg + p.slant_sigma * SQ6 * _tri(r)))
            self.block = math.radians(p.block_rot_sigma * SQ6 * _tri(r))
            self.size_page = 1 + p.size_page_sigma * SQ6 * _tri(r)
            self.gap = pen.n_width * self.size * p.space_n
        else:
            self.tan_slant = self.block = 0.0
            self.size_page = 1.0
            self.gap = pen.space_width * self.size
        self.origin = (frame.left, frame.first_baseline)
        self.margin = self.rise = self.pressure = self.ink_state = self.angle = 0.0
        self.k = 0  # glyph counter (spaces count one)
        self._word_k = (
            p.pressure_ar,
            p.ink_ar,
            math.sqrt(1 - p.pressure_ar**2) * SQ6,
            math.sqrt(1 - p.ink_ar**2) * SQ6,
            p.word_rise_sigma * self.size * SQ6,
            p.word_track_sigma * SQ6,
        )
        self.form = 0  # form of the last letter that has alternates
        self.total = 1
        # ch -> (position, form, previous position, previous form) of its last occurrences
        self.last_form: dict[str, tuple[int, int, int, int]] = {}

    @property
    def _random(self) -> Callable[[], float]:
        """The random source of a humanised layout (a plain layout never asks for it)."""
        if self.rnd is None:
            raise RuntimeError("a plain layout has no random source")
        return self.rnd

    def width(self, word: str) -> float:
        w = self._widths.get(word)
        if w is None:
            forms, gap, em = self.pen.forms, self.gap, self.size * self.size_page
            w = sum(gap if ch == "\xa0" else forms[ch][2] * forms[ch][3] * em for ch in word)
            self._widths[word] = w
        return w

    def run(self, lines: list[str]) -> Written:
        lead_blank = 0
        while lines and not lines[0].strip():
            lines = lines[1:]
            lead_blank += 1
        while lines and not lines[-1].strip():
            lines = lines[:-1]
        self.total = max(1, sum(len(line) + 1 for line in lines))
        r, p = self.rnd, self.p
        ragged = p.ragged_mm * MM
        limit = (lambda: self.frame.width - ragged * r()) if r else (lambda: self.frame.width)
        width, longest = self.width, self.frame.width - ragged
        for src, raw in enumerate(lines, lead_blank):
            words = [w for w in raw.split(" ") if w]
            if not words:
                self.out.end_y -= self.lead * p.paragraph_gap * (1 + (0.2 * (r() - 0.5) if r else 0))
                continue
            widths = [width(w) for w in words]
            if max(widths) > longest:
                words = self._fit_words(words, longest)
                widths = [width(w) for w in words]
            for first, end, used in _wrap(widths, self.gap, limit):
                line = words[first:end]
                if len(self.out.lines) == self.break_before and self.out.pages[-1]:
                    self._new_page()
                self._break_page_if_full()
                self.out.lines.append((self.out.end_page, src))
                if r:
                    self._hand_line(line, used)
                    self.out.end_y -= self.lead * (1 + p.leading_sigma * SQ6 * _tri(r))
                else:
                    self._plain_line(line)
                    self.out.end_y -= self.lead
        return self.out

    def _fit_words(self, words: list[str], limit: float) -> list[str]:
        """Cut a word wider than the whole line (a URL, a reference) into pieces that fit,
        rather than let it run off the paper."""
        out: list[str] = []
        for word in words:
            while self.width(word) > limit and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and self.width(word[:cut]) > limit:
                    cut -= 1
                out.append(word[:cut])
                word = word[cut:]
            out.append(word)
        return out

    def _break_page_if_full(self) -> None:
        if self.out.end_y >= self.frame.bottom:
            return
        self._new_page()

    def _new_page(self) -> None:
        self.out.pages.append([])
        self.out.end_page += 1
        self.out.end_y = self.frame.next_baseline
        self.origin = (self.frame.left, self.frame.next_baseline)

    def _plain_line(self, words: list[str]) -> None:
        """One straight line as runs of same-font text (fallback glyphs at their own size)."""
        forms, size = self.pen.forms, self.size
        runs: list[tuple[str, float, str]] = []
        font, scale = forms["n"][4], 1.0
        buf: list[str] = []
        for ch in " ".join(words):
            if ch != " ":
                _, _, _, s, f, _ = forms[ch]
                if f != font and buf:
                    runs.append((font, size * scale, "".join(buf)))
                    buf = []
                font, scale = f, s
            buf.append(ch)
        runs.append((font, size * scale, "".join(buf)))
        self.out.pages[-1].append((self.frame.left, self.out.end_y, runs))

    def _line_start(self) -> tuple[float, float, float, float, float]:
        """Advance the margin walk; return the line origin on the page and its direction."""
        p, r, fat = self.p, self._random, 1 + self.p.fatigue * self.k / self.total
        lo, hi = p.margin_range_mm
        step = (p.margin_drift_mm + p.margin_walk_mm * SQ6 * _tri(r)) * MM
        self.margin = min(hi * MM, max(lo * MM, self.margin + step))
        phi = p.line_angle_ar
        self.angle = phi * self.angle + math.sqrt(1 - phi * phi) * p.line_angle_sigma * fat * SQ6 * _tri(r)
        limit = math.atan(p.line_rise_max * self.size / self.frame.width)
        theta = max(-limit, min(limit, math.radians(p.line_angle_bias + self.angle) + self.block))
        ox, oy = self.origin
        dx, dy = self.frame.left + self.margin - ox, self.out.end_y - oy
        cb, sb = math.cos(self.block), math.sin(self.block)
        return ox + dx * cb - dy * sb, oy + dx * sb + dy * cb, math.cos(theta), math.sin(theta), theta

    def _hand_line(self, words: list[str], length: float) -> None:
        """Place one line's glyphs.  This is the hot loop (~800 glyphs per letter), so it works
        on local names and inlines the small steps; each step is commented."""
        p, r, pen = self.p, self._random, self.pen
        forms, last_form = pen.forms, self.last_form
        S, gap, tan_sl, size_page = self.size, self.gap, self.tan_slant, self.size_page
        SF = S * FIXED
        fat = 1 + p.fatigue * self.k / self.total
        lx, ly, ct, st, theta = self._line_start()
        lxf, lyf, ctf, stf = lx * FIXED, ly * FIXED, ct * FIXED, st * FIXED
        bow4 = 4 * p.line_bow * S * SQ6 * _tri(r)
        inv_len = 1.0 / max(1.0, length)
        rise, k, window, alt_prob = self.rise, self.k, p.alt_window, p.alt_prob
        cur, stay = self.form, p.alt_stay
        rise_max = p.rise_max * S
        phi_r = p.rise_ar
        rise_in = p.rise_sigma * S * SQ12 * math.sqrt(1 - phi_r * phi_r) * fat
        # Cheap noise for the less visible jitters: one uniform, scaled to the same variance.
        white = p.rise_white * S * SQ12
        rot_s, rot_max = math.radians(p.rot_sigma) * SQ6 * fat, math.radians(p.rot_max)
        size_s, hs_s, tr_s = p.size_sigma * SQ12, p.hscale_sigma * SQ12, p.track_sigma * SQ12
        space_s = p.space_sigma * SQ6
        append = self.out.pages[-1].append
        pos, last_word = 0.0, len(words) - 1
        for wi, word in enumerate(words):
            if wi:  # word gap from the width of "n", breathing
                pos += gap * max(0.7, 1 + space_s * (r() + r() - 1.0))
                k += 1
            w_rise, w_track, lw, ink = self._word_style()
            # the glyph that ends a word (or a no-break part) also draws a space, so a text
            # extractor sees the word break that the layout made with a gap
            end = len(word) - 1 if wi < last_word else -1
            nbsp = "\xa0" in word
            for ci, ch in enumerate(word):
                if nbsp and ch == "\xa0":  # no-break space: a gap, never a line break
                    pos += gap * max(0.7, 1 + space_s * (r() + r() - 1.0))
                    k += 1
                    continue
                key, key_sp, em, fscale, _, alt = forms[ch]
                if alt is not None:  # alternate form: never the form of a nearby occurrence
                    hist = last_form.get(ch)
                    if hist is not None and k - hist[0] <= window:
                        if k - hist[2] <= window and hist[1] != hist[3]:
                            form = 3 - hist[1] - hist[3]  # the one form left
                        elif cur != hist[1] and r() < stay:
                            form = cur
                        else:
                            form = (hist[1] + 1 + (r() < 0.5)) % 3
                    elif r() < stay:
                        form = cur
                    else:
                        form = (1 + (r() < 0.5)) if r() < alt_prob else 0
                    last_form[ch] = (k, form, hist[0], hist[1]) if hist else (k, form, -window - 1, -1)
                    cur = form
                    if form:
                        key, key_sp, em = alt[form - 1]
                if ci == end or nbsp and ci < len(word) - 1 and word[ci + 1] == "\xa0":
                    key = key_sp
                rise = phi_r * rise + rise_in * (r() - 0.5)  # smooth AR(1) baseline
                rise = rise_max if rise > rise_max else -rise_max if rise < -rise_max else rise
                t = pos * inv_len
                off = rise + white * (r() - 0.5) + w_rise - bow4 * t * (1 - t)
                ang = theta + rot_s * (r() + r() - 1.0)
                ang = rot_max if ang > rot_max else -rot_max if ang < -rot_max else ang
                # small angles (<= 5 degrees): cos and sin to better than 1e-4, far below the
                # 1/190 resolution of the fixed-point matrix
                cp, sp = 1 - 0.5 * ang * ang, ang
                sc = size_page * (1 + size_s * (r() - 0.5))
                m = sc * fscale
                mh = m * (1 + hs_s * (r() - 0.5))
                mf, mhf = m * SF, mh * SF
                append(
                    (
                        key,
                        int(mhf * cp),
                        int(mhf * sp),
                        int(mf * (tan_sl * cp - sp)),
                        int(mf * (tan_sl * sp + cp)),
                        int(lxf + pos * ctf - off * stf),
                        int(lyf + pos * stf + off * ctf),
                        lw,
                        ink,
                    )
                )
                # Letters may only close up, never open a gap: pdftotext reads a gap of 3 %
                # of the font size between two glyphs as a word space.
                extra = w_track + tr_s * (r() - 0.5)
                pos += em * S * mh * (1 + (extra if extra < 0 else 0.0)) - TIGHT
                k += 1
        self.rise, self.k, self.form = rise, k + 1, cur

    def _word_style(self) -> tuple[float, float, float, float]:
        """Per word: baseline offset (pt), tracking, stroke width (pt) and ink density.

        Pen pressure and ink flow drift slowly (AR(1) from word to word) and are quantised, so
        the PDF only gets a new line-width or colour operator when the value really changes;
        pressure changed independently per word would look like random bold words.
        """
        p, r = self.p, self._random
        p_ar, i_ar, p_in, i_in, w_rise, w_track = self._word_k
        self.pressure = pressure = p_ar * self.pressure + p_in * (r() + r() - 1.0)
        self.ink_state = ink_state = i_ar * self.ink_state + i_in * (r() + r() - 1.0)
        lo, hi = p.pressure
        lw = min(hi, max(lo, (lo + hi) / 2 + pressure * (hi - lo) / 3))
        ink = min(1.0, max(p.ink_min, 0.94 + ink_state * p.ink_sigma))
        return (
            w_rise * (r() + r() - 1.0),
            w_track * (r() + r() - 1.0),
            round(lw * 50) / 50,
            round(ink / p.ink_step) * p.ink_step,
        )


def write(
    lines: list[str],
    pen: Pen,
    frame: Frame,
    rng: random.Random | None,
    params: HandParams = HAND,
    scale: float = 1.0,
    break_before: int | None = None,
) -> Written:
    """Lay out cleaned text lines (blank line = paragraph gap) in `frame`, page by page.

    `rng` drives every variation; ``None`` gives plain straight lines (`Run`s instead of
    `Glyph`s).  `scale` shrinks or grows the pen (the signer's title is written smaller).
    `break_before` starts a new page before that written line (counted from 0), so the end of
    a letter can move to the next page together with its signature.
    """
    return _Writer(pen, frame, rng, params, scale, break_before).run(list(lines))
