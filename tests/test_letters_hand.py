"""The humanised layout itself (no PDF): alternates, variation, wrapping, determinism."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from hundred.rendering.handwriting.hand import FIXED, Frame, write
from hundred.rendering.handwriting.pen import KEY_SEP, pen_for

FRAME = Frame(left=70, width=470, first_baseline=520, next_baseline=760, bottom=70)
TEXT = [
    "Beste Annemieke,",
    "",
    "Wat fijn dat je vorige week bij ons in de winkel was! Ik hoop dat de nieuwe "
    "wandelschoenen goed zitten en dat je er veel mooie tochten mee gaat maken, "
    "zoals de bookkeeper zei: 'eeeee, committee, Mississippi, success'.",
]


def glyphs(seed: int = 1, text=TEXT, hand: str = "caveat", frame: Frame = FRAME):
    """Placed glyphs as (key, a, b, c, d, x, y): matrix relative to the font size, x/y in pt."""
    written = write(text, pen_for(hand), frame, random.Random(seed))
    em = pen_for(hand).size * FIXED
    return [
        (g[0], g[1] / em, g[2] / em, g[3] / em, g[4] / em, g[5] / FIXED, g[6] / FIXED)
        for page in written.pages
        for g in page
    ]


def font_and_text(glyph) -> tuple[str, str]:
    font, text = glyph[0].split(KEY_SEP, 1)
    return font, text.rstrip(" ")


def test_a_repeated_letter_never_shows_the_same_form_nearby():
    """Within four letters, a letter differs from its last two occurrences (with three forms,
    that is as far as it can go: "eeee" must reuse one)."""
    for seed in range(20):
        placed = [font_and_text(g) for g in glyphs(seed)]
        flat = "".join(t for _, t in placed)
        seen: dict[str, list[int]] = {}
        for j, (font, ch) in enumerate(placed):
            for i in seen.get(ch, [])[-2:]:
                if j - i <= 4:
                    assert placed[i][0] != font, f"seed {seed}: {flat[max(0, i - 3) : j + 3]!r}"
            seen.setdefault(ch, []).append(j)


def test_all_three_forms_are_used_and_the_text_layer_keeps_real_letters():
    placed = [font_and_text(g) for g in glyphs()]
    fonts_used = {f for f, _ in placed}
    assert {"hundred-caveat", "hundred-caveat-ss01", "hundred-caveat-ss02"} <= fonts_used
    assert all(len(t) == 1 and not 0xE000 <= ord(t) <= 0xF8FF for _, t in placed)


def test_variation_is_smooth_not_white_noise():
    """Neighbouring glyphs' baseline offsets are correlated (AR(1)); a ransom-note bounce is not."""
    placed = glyphs(3)
    # baseline offsets of the first long line, relative to a straight line through it
    line = [g for g in placed if abs(g[6] - placed[20][6]) < 12][:40]
    xs, ys = [g[5] for g in line], [g[6] for g in line]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=False)) / sum((x - mx) ** 2 for x in xs)
    res = [y - my - slope * (x - mx) for x, y in zip(xs, ys, strict=False)]
    lag1 = sum(a * b for a, b in zip(res, res[1:], strict=False)) / sum(r * r for r in res)
    assert lag1 > 0.3
    assert 0.2 < statistics.pstdev(res) < 2.5  # visible, but well under a line's x-height


def test_glyphs_rotate_and_scale_a_little():
    placed = glyphs(4)
    angles = [math.degrees(math.atan2(g[2], g[1])) for g in placed]
    sizes = [math.hypot(g[3], g[4]) for g in placed]
    assert 0.3 < statistics.pstdev(angles) < 3 and max(map(abs, angles)) <= 5.0 + 1e-9
    assert 0.01 < statistics.pstdev(sizes) < 0.08


def test_same_seed_same_hand_other_seed_other_hand():
    assert glyphs(7) == glyphs(7)
    a, b = glyphs(7), glyphs(8)
    assert [font_and_text(g)[1] for g in a] == [font_and_text(g)[1] for g in b]
    assert [g[5:7] for g in a] != [g[5:7] for g in b]


def test_word_breaks_carry_a_space_for_text_extraction():
    placed = glyphs()
    spaced = [g for g in placed if g[0].endswith(" ")]
    words_per_line = sum(len(line.split()) for line in TEXT if line)
    lines = len({round(g[6] / 25) for g in placed})  # roughly one baseline per line
    assert words_per_line - lines - 2 <= len(spaced) <= words_per_line - 1


def test_no_break_space_keeps_amount_and_currency_together():
    text = [" ".join(["Je tegoed is €\u00a012,50 en"] * 30)]
    narrow = Frame(left=70, width=140, first_baseline=760, next_baseline=760, bottom=-10000)
    placed = glyphs(2, text, frame=narrow)
    for i, g in enumerate(placed):
        if font_and_text(g)[1] == "€":
            assert abs(placed[i + 1][6] - g[6]) < 8, "€ and its amount were split over two lines"


def test_fallback_glyphs_are_scaled_to_the_same_x_height():
    caveat, kalam = pen_for("caveat").faces
    only_kalam = next(chr(cp) for cp in sorted(kalam.cmap) if cp > 0x100 and cp not in caveat.cmap)
    placed = glyphs(5, [f"1{only_kalam}1"])
    scales = {font_and_text(g)[0]: math.hypot(g[1], g[2]) for g in placed}
    ratio = scales["hundred-kalam"] / scales["hundred-caveat"]
    assert ratio == pytest.approx(caveat.x_height / kalam.x_height, rel=0.15)


def test_plain_mode_is_straight_lines_in_one_font():
    written = write(TEXT, pen_for("caveat"), FRAME, None)
    lines = written.pages[0]
    assert [x for x, _, _ in lines] == [FRAME.left] * len(lines)
    assert {font for _, _, runs in lines for font, _, _ in runs} == {"hundred-caveat"}
    assert "".join(t for _, _, runs in lines[:1] for _, _, t in runs) == "Beste Annemieke,"


def test_text_continues_on_a_new_page_at_the_top_margin():
    long = TEXT * 12
    written = write(long, pen_for("caveat"), FRAME, random.Random(1))
    assert written.end_page >= 1 and len(written.pages) == written.end_page + 1
    second = written.pages[1]
    assert max(g[6] / FIXED for g in second) == pytest.approx(FRAME.next_baseline, abs=12)
    assert min(g[6] / FIXED for page in written.pages for g in page) > FRAME.bottom - 15


def test_signature_is_whole_words_and_differs_per_letter_but_not_per_reprint():
    from hundred.rendering.handwriting.fonts import font_book
    from hundred.rendering.handwriting.signature import sign

    faces = [font_book().signature, *pen_for("caveat").faces]
    a = sign("Sanne de Vries", faces, 100, 200, random.Random(1))
    again = sign("Sanne de Vries", faces, 100, 200, random.Random(1))
    b = sign("Sanne de Vries", faces, 100, 200, random.Random(2))
    # connected script: one transform per word, never per glyph (joins would break)
    assert [g[0].split(KEY_SEP)[1] for g in a.glyphs] == ["Sanne ", "de ", "Vries"]
    assert a == again
    assert a.glyphs != b.glyphs and a.flourish != b.flourish
    assert a.depth > 3  # the flourish reaches below the baseline
