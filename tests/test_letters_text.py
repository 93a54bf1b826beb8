"""Text clean-up: substitutions, per-character font fallback, reported drops."""

from __future__ import annotations

import unicodedata

from hundred.rendering.handwriting.fonts import font_book
from hundred.rendering.handwriting.pen import pen_for
from hundred.rendering.handwriting.text import clean_line, clean_text, font_index, normalise


def faces(hand: str = "caveat"):
    return list(pen_for(hand).faces)


def test_substitution_table():
    assert normalise("\u0133sbeer \u0132muiden") == "ijsbeer IJmuiden"
    assert normalise("STRA\u1e9eE") == "STRASSE"
    assert normalise("€\u202f12") == "€\u00a012"
    assert normalise("a\u2009b\u2002c\u2003d") == "a b c d"
    assert normalise("zero\u200bwidth\u200djoin\u200cer\ufeff soft\u00adhyphen") == "zerowidthjoiner softhyphen"
    assert normalise("\ufb01ets") == "fiets"
    assert normalise("line\r\nbreak") == "line\nbreak"


def test_nfc_composes_combining_marks():
    decomposed = unicodedata.normalize("NFD", "Zoë Dvořák")
    assert normalise(decomposed) == "Zoë Dvořák"


def test_character_missing_in_the_hand_comes_from_the_fallback_hand():
    caveat, kalam = faces("caveat")
    only_kalam = next(chr(cp) for cp in sorted(kalam.cmap) if cp > 0x100 and cp not in caveat.cmap)
    problems: list[str] = []
    assert clean_line(f"a{only_kalam}b", faces("caveat"), "body line 1", problems) == f"a{only_kalam}b"
    assert problems == []
    assert font_index(only_kalam, faces("caveat")) == 1
    # and the other way round: Kalam has no ĳ-free Welsh ŵ, Caveat does
    assert ord("ŵ") not in kalam.cmap and ord("ŵ") in caveat.cmap
    assert font_index("ŵ", faces("kalam")) == 1


def test_lookalike_when_no_font_has_the_character():
    problems: list[str] = []
    # neither hand has U+201F, U+2011 or U+2015: they print as plain ASCII look-alikes
    assert (
        clean_line("\u201fja\u201d, non\u2011stop \u2015 klaar", faces(), "body line 1", problems)
        == '"ja\u201d, non-stop - klaar'
    )
    assert problems == []


def test_symbol_without_glyph_or_lookalike_is_dropped_and_reported():
    sans = [font_book().sans]
    problems: list[str] = []
    assert clean_line("Weg \u2192 Zwolle", sans, "address line 2", problems) == "Weg Zwolle"
    assert problems == ["dropped U+2192 RIGHTWARDS ARROW (no glyph in Noto Sans) in address line 2"]


def test_emoji_dropped_and_reported_with_line_number():
    problems: list[str] = []
    lines = clean_text("Hoi,\n\nDank! \U0001f44d\ufe0f Tot snel \u2713", faces(), "body", problems)
    assert lines == ["Hoi,", "", "Dank! Tot snel"]
    assert problems == [
        "dropped U+1F44D THUMBS UP SIGN (no glyph in Caveat, Kalam) in body line 3",
        "dropped U+2713 CHECK MARK (no glyph in Caveat, Kalam) in body line 3",
    ]


def test_no_break_space_and_ordinary_text_survive_untouched():
    problems: list[str] = []
    text = "Tegoed € 12,50 – „tot ziens” ‘morgen’ … Łódź, Győr, Čapek, Straße"
    assert clean_line(text.replace("€ ", "€\u00a0"), faces(), "body line 1", problems) == text.replace("€ ", "€\u00a0")
    assert problems == []
