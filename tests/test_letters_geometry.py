"""Where things land on the sheet: the address inside the envelope window, the body below it.

Positions come from `pdftotext -bbox` (top-left origin, points).  Word boxes there use the
font's full ascent and descent, so they are taller than the ink.
"""

from __future__ import annotations

import pytest
from pdftools import Word, require_poppler, words

from hundred.rendering.handwriting import Letter, LetterStyle, PostalAddress, render_letters
from hundred.rendering.handwriting.fonts import font_book
from hundred.rendering.handwriting.page import geometry, mark_segments

MM = 72 / 25.4
INCH = 72.0
NL = PostalAddress("Ilse Jansen", "Bakkerij Jansen B.V.", "Dorpsstraat 12", "8011 AB", "Zwolle", None, "NL")
US = PostalAddress("John Smith", "Acme Widgets Inc.", "1600 Pennsylvania Ave NW", "20500", "Washington", "DC", "US")
BODY = "Beste Ilse,\n\nDank je wel voor je bestelling. We wensen je er veel plezier mee.\n\nGroet,"
ADDRESS_WORDS_NL = {"Bakkerij", "Jansen", "B.V.", "Ilse", "Dorpsstraat", "12", "8011", "AB", "ZWOLLE"}


@pytest.fixture(autouse=True)
def _poppler():
    require_poppler()


def render(tmp_path, style: LetterStyle, address: PostalAddress = NL, body: str = BODY):
    path = tmp_path / "g.pdf"
    result = render_letters([Letter("G-1/geo", body, "Sanne de Vries", address)], style, path)
    size, found = words(path)
    return size, found, result[0]


def inside(w: Word, x0: float, y0: float, x1: float, y1: float, slack: float = 0.05) -> bool:
    return w.x0 >= x0 - slack and w.x1 <= x1 + slack and w.y0 >= y0 - slack and w.y1 <= y1 + slack


def overlaps(w: Word, x0: float, y0: float, x1: float, y1: float) -> bool:
    return w.x0 < x1 and w.x1 > x0 and w.y0 < y1 and w.y1 > y0


@pytest.mark.parametrize("envelope, visible_right_mm", [("DL", 100), ("C5", 91)])
def test_a4_address_sits_in_the_din_5008_form_b_field(tmp_path, envelope, visible_right_mm):
    style = LetterStyle(envelope=envelope, return_address="Voorbeeld bv · Postbus 9 · 8000 AA Zwolle")
    (w, h), found, result = render(tmp_path, style)
    assert (round(w), round(h)) == (595, 842)
    recipient = [x for x in found if x.text in ADDRESS_WORDS_NL]
    assert {x.text for x in recipient} == ADDRESS_WORDS_NL
    # field 20 mm from the left, 45 mm from the top, 85 x 45 mm; recipient zone below 17.7 mm;
    # and only as far right as the window shows in every position of the folded sheet
    for word in recipient:
        assert inside(word, 20 * MM, (45 + 17.7) * MM, visible_right_mm * MM, 90 * MM), word
    sender = [x for x in found if x.text in {"Voorbeeld", "bv", "·", "Postbus", "9", "8000", "AA", "Zwolle"}]
    assert len(sender) == 9
    for word in sender:
        assert inside(word, 20 * MM, 45 * MM, 105 * MM, (45 + 17.7) * MM), word
    assert max(x.y1 for x in sender) > (45 + 17.7 - 5) * MM  # on the zone's bottom line
    # nothing else shows through the window: the handwriting starts below the field
    others = [x for x in found if x not in recipient and x not in sender]
    assert others and not any(overlaps(x, 20 * MM, 45 * MM, 105 * MM, 90 * MM) for x in others)
    assert result.problems == []


def test_six_line_address_still_fits_the_din_recipient_zone(tmp_path):
    addr = PostalAddress(
        "Prof. dr. Wilhelmina van Oranje-Nassau",
        "Stichting Het Grote Voorbeeld",
        "Lange Voorhout 34",
        "2514ee",
        "'s-Gravenhage",
        None,
        "DE",
    )
    (_, _), found, result = render(tmp_path, LetterStyle(sender_country="NL"), addr)
    lines = {round(x.y0, 1) for x in found if x.y0 < 90 * MM and x.y0 > (45 + 17.7) * MM - 1}
    assert len(lines) == 5  # company, name, street, postcode + town, country
    for word in found:
        if word.y0 < 90 * MM:
            assert inside(word, 20 * MM, (45 + 17.7) * MM, 100 * MM, 90 * MM), word
    assert result.problems == []


def test_too_many_address_lines_are_flagged(tmp_path):
    long = PostalAddress(
        "A " * 30 + "Jansen",
        "Een heel lang bedrijf met een naam die niet past B.V.",
        "Dorpsstraat 12",
        "8011 AB",
        "Zwolle",
        None,
        "NL",
    )
    _, _, result = render(tmp_path, LetterStyle(), long)
    assert any("does not fit the DL window" in p for p in result.problems)


def test_us_letter_address_stays_in_the_number_10_window(tmp_path):
    style = LetterStyle(
        paper="letter",
        envelope="US10",
        sender_country="US",
        return_address="Acme Corp · PO Box 12 · Springfield, IL 62701",
    )
    (w, h), found, result = render(tmp_path, style, US)
    assert (w, h) == (612, 792)
    expected = {
        "JOHN",
        "SMITH",
        "ACME",
        "WIDGETS",
        "INC.",
        "1600",
        "PENNSYLVANIA",
        "AVE",
        "NW",
        "WASHINGTON",
        "DC",
        "20500",
    }
    block = [x for x in found if x.text in expected]
    assert {x.text for x in block} == expected
    sans = font_book().sans
    for word in block:
        # every word box within the window's area that stays visible whatever the insert does
        assert inside(word, 0.875 * INCH, 2.5 * INCH, 4.375 * INCH, (3 + 1 / 6) * INCH), word
        # and the ink (cap height to baseline: the block is in capitals) inside the strip that
        # keeps the USPS 1/8 inch clearance: 1.00-4.25 in across, 2.62-3.04 in down
        size = (word.y1 - word.y0) / (sans.ascent - sans.descent)
        baseline = word.y1 + sans.descent * size
        assert baseline <= (3 + 1 / 24) * INCH + 0.05
        assert baseline - sans.cap_height * size >= 2.625 * INCH - 0.05
        assert 1.0 * INCH - 0.05 <= word.x0 and word.x1 <= 4.25 * INCH
    # the return address is not in the window (no room): at the head of the letter
    sender = [x for x in found if x.text == "Springfield,"]
    assert sender and sender[0].y1 < 1 * INCH
    # the body starts below the window and the first fold
    body = [x for x in found if x not in block and x not in sender and x.y0 > 1 * INCH]
    assert body and min(x.y0 for x in body) > 3.2 * INCH
    assert result.problems == []


def test_no_envelope_means_no_address_on_the_letter(tmp_path):
    _, found, result = render(tmp_path, LetterStyle(envelope="none", return_address="Voorbeeld · Postbus 9"))
    assert not {x.text for x in found} & {"Dorpsstraat", "ZWOLLE", "Bakkerij", "Postbus"}
    assert min(x.y0 for x in found) < 45 * MM  # the writing starts near the top instead
    assert result.problems == []


def test_handwriting_stays_inside_the_paper_margins(tmp_path):
    body = "\n\n".join(
        [
            "Dit is een lange regel tekst die de hele breedte van het papier gebruikt, "
            "zodat we kunnen zien of de rechtermarge wordt gerespecteerd door de hand."
        ]
        * 5
    )
    for style in (LetterStyle(), LetterStyle(paper="letter", envelope="US10", hand="kalam")):
        (w, h), found, _ = render(tmp_path, style, NL if style.paper == "A4" else US, body)
        hand = [x for x in found if x.y0 > 3.3 * INCH and x.y1 < h - 0.6 * INCH]
        assert hand
        assert min(x.x0 for x in hand) > 0.8 * INCH
        assert max(x.x1 for x in hand) < w - 0.5 * INCH


def test_fold_and_punch_marks():
    a4 = geometry("A4", "DL")
    ys = sorted(round((a4.size[1] - y0) / MM, 1) for _, y0, _, _ in mark_segments(a4))
    assert ys == [105.0, 148.5, 210.0]  # two folds and the longer punch (centre) mark
    c5 = geometry("A4", "C5")
    assert [round((c5.size[1] - y0) / MM, 1) for _, y0, _, _ in mark_segments(c5)] == [148.5]
    us = geometry("letter", "US10")
    assert sorted(round((us.size[1] - y0) / INCH, 3) for _, y0, _, _ in mark_segments(us)) == [3.667, 7.333]


def test_a_five_line_address_is_flagged_for_the_number_10_window(tmp_path):
    """Only four lines of capitals fit the #10 strip; a business address abroad needs five."""
    style = LetterStyle(paper="letter", envelope="US10", sender_country="US")
    _, found, result = render(tmp_path, style, NL)  # company, name, street, town, NETHERLANDS
    assert result.problems == ["address has 5 lines; the US10 window shows 4"]
    assert {"BAKKERIJ", "NETHERLANDS", "ZWOLLE"} <= {x.text for x in found}  # printed all the same
