"""End-to-end: letters rendered to a real PDF, checked with poppler's own tools."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pdftools import page_count, page_texts, pdffonts, pdftotext, require_poppler

from hundred.rendering.handwriting import Letter, LetterStyle, PostalAddress, RenderedLetter, render_letters

BODY = (
    "Beste Ilse,\n\n"
    "Wat fijn dat je vorige week bij ons in de winkel in Utrecht was! Ik hoop dat de nieuwe "
    "wandelschoenen goed zitten en dat je er veel mooie tochten mee gaat maken. Als dank krijg je "
    "een tegoedbon van €\u00a012,50 – die kun je tot en met donderdag 3 december 2026 gebruiken.\n\n"
    "Mocht er iets niet helemaal goed zitten, kom dan gerust even langs. We kijken het graag "
    "samen met je na. Tot ziens, en geniet van de herfst: \u201emooi\u201d weer, zeggen ze!\n\n"
    "Hartelijke groet,"
)
ADDRESS = PostalAddress("Ilse Jansen", "Bakkerij Jansen B.V.", "Dorpsstraat 12", "8011ab", "Zwolle", None, "NL")
STYLE = LetterStyle(return_address="Voorbeeld B.V. · Postbus 12 · 8000 AA Zwolle")


@pytest.fixture(autouse=True)
def _poppler():
    require_poppler()


def letter(
    letter_id: str = "D-1042/thank-you-letter", body: str = BODY, address: PostalAddress = ADDRESS, **kw
) -> Letter:
    return Letter(letter_id, body, kw.pop("signer", "Sanne de Vries"), address, **kw)


def flat(text: str) -> str:
    """Whitespace normalised: every run of spaces/newlines (incl. no-break space) is one space."""
    return " ".join(text.replace("\u00a0", " ").split())


def render(tmp_path: Path, letters: list[Letter], style: LetterStyle = STYLE, name: str = "out.pdf"):
    path = tmp_path / name
    result = render_letters(letters, style, path)
    return path, result


def test_body_text_extracts_exactly_in_order(tmp_path):
    path, _ = render(tmp_path, [letter()])
    text = flat(pdftotext(path))
    assert flat(BODY) in text


@pytest.mark.parametrize(
    "hand, paper, envelope",
    [
        ("caveat", "A4", "DL"),
        ("kalam", "A4", "C5"),
        ("caveat", "letter", "US10"),
        ("kalam", "letter", "none"),
    ],
)
def test_every_letter_of_a_batch_extracts_exactly(tmp_path, hand, paper, envelope):
    """Forty different seeds: no spurious spaces inside words, no lost word spaces, no
    lines torn apart, whatever the random slope, wobble and alternate forms came out as."""
    letters = [
        letter(f"D-{i}/x", BODY.replace("Ilse", name), seed=f"seed-{i}")
        for i, name in enumerate(["Ilse", "Łukasz", "Zoë", "Jiří", "Réka"] * 8)
    ]
    path, result = render(tmp_path, letters, LetterStyle(hand=hand, paper=paper, envelope=envelope))
    pages = page_texts(path)
    assert len(pages) == len(letters)
    for page, lt, res in zip(pages, letters, result, strict=False):
        assert flat(lt.body) in flat(page), res.letter_id
        assert res.problems == []


def test_plain_mode_extracts_the_same_text(tmp_path):
    path, result = render(tmp_path, [letter()], LetterStyle(humanise=False))
    assert flat(BODY) in flat(pdftotext(path))
    assert result[0].problems == []


def test_every_font_is_embedded_once_and_subset(tmp_path):
    letters = [letter(f"D-{i}/x", seed=str(i)) for i in range(5)]
    path, _ = render(tmp_path, letters)
    fonts = pdffonts(path)
    names = [re.sub(r"^[A-Z]{6}\+", "", f.name) for f in fonts]
    assert fonts and all(f.embedded and f.subset and f.unicode for f in fonts), fonts
    assert len(names) == len(set(names)), f"a font was embedded more than once: {names}"
    assert {
        "CaveatHand-Regular",
        "CaveatHand-SS01",
        "CaveatHand-SS02",
        "NotoSans-Regular",
        "DancingScript-Regular",
    } <= set(names)
    assert not any("Helvetica" in n for n in names)


def test_rerender_is_byte_identical_and_another_seed_is_not(tmp_path):
    a, _ = render(tmp_path, [letter()], name="a.pdf")
    b, _ = render(tmp_path, [letter()], name="b.pdf")
    c, _ = render(tmp_path, [letter(seed="another seed")], name="c.pdf")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert flat(pdftotext(a)) == flat(pdftotext(c))  # same words, different hand


def test_no_two_letters_in_a_batch_are_alike(tmp_path):
    import pypdf

    path, _ = render(tmp_path, [letter("D-1/x"), letter("D-2/x"), letter("D-3/x")])
    streams = [p.get_contents().get_data() for p in pypdf.PdfReader(path).pages]
    bodies = [s[s.index(b"cm BT") : s.index(b"ET Q", s.index(b"cm BT"))] for s in streams]  # handwriting
    assert len(set(bodies)) == 3


def test_output_to_a_binary_stream(tmp_path):
    buf = io.BytesIO()
    result = render_letters([letter()], STYLE, buf)
    assert buf.getvalue().startswith(b"%PDF-")
    (tmp_path / "s.pdf").write_bytes(buf.getvalue())
    assert flat(BODY) in flat(pdftotext(tmp_path / "s.pdf"))
    assert result[0].first_page == result[0].last_page == 1


def test_long_letter_continues_on_a_second_page(tmp_path):
    long_body = (
        BODY.replace("Hartelijke groet,", "")
        + "\n\n".join(
            f"Alinea {n}: we schrijven je graag nog wat meer over de route langs de IJssel en de "
            f"bossen bij Ommen, want daar is het in de herfst op zijn mooist."
            for n in range(1, 7)
        )
        + "\n\nHartelijke groet,"
    )
    path, result = render(tmp_path, [letter("D-7/long", long_body), letter("D-8/short")])
    assert page_count(path) == 3
    assert (result[0].first_page, result[0].last_page) == (1, 2)
    assert (result[1].first_page, result[1].last_page) == (3, 3)
    pages = page_texts(path)
    handwriting = [p.replace("D-7/long · 1/2", "").replace("D-7/long · 2/2", "") for p in pages]
    assert flat(long_body) in flat(handwriting[0] + " " + handwriting[1])
    assert "Sanne de Vries" in pages[1] and "Sanne de Vries" not in pages[0]
    assert "D-7/long · 1/2" in pages[0] and "D-7/long · 2/2" in pages[1]
    assert "Ilse Jansen" in pages[0] and "Ilse Jansen" not in pages[1]  # address on page 1 only


def test_signature_never_stands_alone_the_closing_and_two_body_lines_go_with_it(tmp_path):
    # every body length around the page break: whenever the letter runs to a second page, that
    # page holds the closing, the signature and title, and at least the last two body lines
    moved = 0
    for n in range(12, 34):
        body = "Beste Ilse,\n\n" + "\n".join(f"Regel {i} van de brief." for i in range(n)) + "\n\nHartelijke groet,"
        path, result = render(tmp_path, [letter("D-9/x", body, signer_title="Accountmanager")])
        if result[0].last_page == 1:
            continue
        pages = page_texts(path)
        assert len(pages) == 2
        last = flat(pages[1])
        assert "Hartelijke groet," in last and "Sanne de Vries" in last and "Accountmanager" in last, n
        assert f"Regel {n - 2} van de brief." in last and f"Regel {n - 1} van de brief." in last, (n, last)
        assert "Hartelijke groet," not in flat(pages[0]) and "Sanne de Vries" not in pages[0]
        if f"Regel {n - 3} van de brief." not in last:  # exactly the kept lines moved
            moved += 1
    assert moved, "no body length put the end of the letter at a page break"


def test_a_long_letters_last_page_starts_with_the_end_of_its_last_paragraph(tmp_path):
    # paragraphs of several lines: the break falls inside the last paragraph, never between it
    # and the closing, and the first page ends with body text
    for extra in range(0, 6):
        paragraphs = [
            f"Alinea {n}: we schrijven je graag nog wat meer over de route langs de IJssel en de "
            f"bossen bij Ommen, want daar is het in de herfst op zijn mooist."
            for n in range(1, 5 + extra)
        ]
        body = "Beste Ilse,\n\n" + "\n\n".join(paragraphs) + "\n\nHartelijke groet,"
        path, result = render(tmp_path, [letter("D-7/long", body)])
        pages = [flat(p) for p in page_texts(path)]
        assert "Hartelijke groet," in pages[-1] and "Sanne de Vries" in pages[-1]
        if len(pages) > 1:
            before_closing = pages[-1].split("Hartelijke groet,")[0]
            words = before_closing.replace(f"D-7/long · {len(pages)}/{len(pages)}", "").split()
            assert len(words) >= 8, (extra, pages[-1])  # at least two handwritten lines of body


def test_emoji_is_reported_not_lost_silently(tmp_path):
    body = "Beste Ilse,\n\nBedankt! \U0001f600 Tot snel.\n\nGroet,"
    path, result = render(tmp_path, [letter(body=body)])
    assert result[0].problems == ["dropped U+1F600 GRINNING FACE (no glyph in Caveat, Kalam) in body line 3"]
    assert "Bedankt! Tot snel." in flat(pdftotext(path))


def test_unprintable_characters_in_address_and_signature_are_reported(tmp_path):
    addr = PostalAddress("Ilse \u2603 Jansen", None, "Dorpsstraat 12", "8011 AB", "Zwolle", None, "NL")
    _, result = render(tmp_path, [letter(address=addr, signer="Sanne \u2764 de Vries")])
    problems = " | ".join(result[0].problems)
    assert "U+2603 SNOWMAN (no glyph in Noto Sans) in address line 1" in problems
    assert "U+2764 HEAVY BLACK HEART" in problems and "in signature" in problems


def test_template_syntax_and_markup_in_names_print_literally(tmp_path):
    name = "{{ 7*7 }} <script>alert('x')</script> & Co"
    addr = PostalAddress(name, "Bakkerij <b>Jansen</b>", "Dorpsstraat 12", "8011 AB", "Zwolle", None, "NL")
    body = f"Beste {name},\n\nDank je wel, {{% if x %}}ja{{% endif %}}.\n\nGroet,"
    path, result = render(tmp_path, [letter(body=body, address=addr)])
    text = flat(pdftotext(path))
    assert flat(body) in text
    assert name in text and "Bakkerij <b>Jansen</b>" in text
    assert "49" not in text
    assert result[0].problems == []


def test_central_european_and_dutch_names_print_in_address_and_body(tmp_path):
    names = ["Łódź", "Wąsowska", "Čapek", "Dvořák", "Győr", "Szőke", "Müller", "Straße", "IJsselmeer"]
    body = "Beste " + ", ".join(names) + " en \u0133sbeer,\n\nGroeten uit Ĳmuiden.\n\nGroet,"
    addresses = [
        PostalAddress("Anna Wąsowska", None, "ul. Piotrkowska 104", "90004", "Łódź", None, "PL"),
        PostalAddress("Karel Čapek", "Dvořák s.r.o.", "Vodičkova 36", "11000", "Praha", None, "CZ"),
        PostalAddress("Szőke Réka", None, "Baross tér 3", "9021", "Győr", None, "HU"),
        PostalAddress("Jürgen Müller", None, "Hauptstraße 7", "10115", "Berlin", None, "DE"),
        PostalAddress("Piet de Vries", None, "IJsselmeerdijk 1", "8251 AB", "Dronten", None, "NL"),
    ]
    letters = [letter(f"D-{i}/x", body, a) for i, a in enumerate(addresses)]
    path, result = render(tmp_path, letters)
    pages = page_texts(path)
    expected_body = flat(body).replace("\u0133", "ij").replace("Ĳ", "IJ")
    for page, res in zip(pages, result, strict=False):
        assert expected_body in flat(page)
        assert res.problems == []
    assert "ul. Piotrkowska 104" in pages[0] and "90-004 ŁÓDŹ" in pages[0] and "POLEN" in pages[0]
    assert "Dvořák s.r.o." in pages[1] and "110 00 PRAHA" in pages[1] and "TSJECHIË" in pages[1]
    assert "Szőke Réka" in pages[2] and "9021 GYŐR" in pages[2] and "HONGARIJE" in pages[2]
    assert "Hauptstraße 7" in pages[3] and "10115 BERLIN" in pages[3] and "DUITSLAND" in pages[3]
    assert "IJsselmeerdijk 1" in pages[4] and "NEDERLAND" not in pages[4]


@pytest.mark.parametrize(
    "field, value",
    [
        ("paper", "A5"),
        ("envelope", "C4"),
        ("hand", "comic-sans"),
        ("ink", "purple"),
        ("sender_country", "Netherlands"),
    ],
)
def test_bad_style_values_raise_value_error_naming_the_choices(field, value):
    with pytest.raises(ValueError) as err:
        LetterStyle(**{field: value})
    assert repr(value) in str(err.value)


def test_envelope_that_does_not_fit_the_paper_is_refused():
    with pytest.raises(ValueError, match="US10"):
        LetterStyle(paper="A4", envelope="US10")
    with pytest.raises(ValueError, match="DL"):
        LetterStyle(paper="letter", envelope="DL")
    assert LetterStyle(paper="Letter", envelope="us10").envelope == "US10"


def test_letter_without_address_raises_naming_the_letter(tmp_path):
    with pytest.raises(ValueError, match="D-77/welcome"):
        render_letters([letter(), letter("D-77/welcome", address=None)], STYLE, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()  # nothing half-written


def test_result_maps_letters_to_pages(tmp_path):
    _, result = render(tmp_path, [letter("A/1"), letter("B/2")])
    assert result == [RenderedLetter("A/1", 1, 1, []), RenderedLetter("B/2", 2, 2, [])]


def test_more_than_256_different_characters_still_extract_exactly(tmp_path):
    """reportlab subsets a font 256 codes at a time; glyphs from the second subset, and a
    word-final space that falls in another subset than its glyph, must still print and extract."""
    chars = [chr(c) for c in range(0x21, 0x7F)]  # incl. ( ) \\ which PDF strings escape
    chars += [chr(c) for c in range(0xC0, 0x180) if c not in (0xD7, 0xF7, 0x132, 0x133, 0x17F)]
    words_ = ["".join(chars[i : i + 9]) for i in range(0, len(chars), 9)]
    body = "Beste Ilse,\n\n" + " ".join(words_) + "\n\nGroet,"
    path, result = render(tmp_path, [letter(body=body), letter("D-2/x", body=body)])
    assert result[0].problems == [] and result[1].problems == []
    for page in page_texts(path):
        assert flat(body) in flat(page)


def test_the_letters_core_imports_no_scheduler_web_or_template_engine():
    import subprocess
    import sys

    code = (
        "import sys, os, hundred.rendering.handwriting as L\n"
        "a = L.PostalAddress('A', None, 'B 1', '1234AB', 'C', None, 'NL')\n"
        "L.render_letters([L.Letter('x', 'Hallo', 'S', a)], L.LetterStyle(), os.devnull)\n"
        "print(sorted(m for m in ('prefect', 'fastapi', 'jinja2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
