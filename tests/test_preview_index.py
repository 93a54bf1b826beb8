"""The preview index (`hundred preview` → index.html): every touch as the customer gets it, inline,
in date order, titled for people, in the journey's language; and a folder that a second preview
leaves clean without touching anyone else's files."""

from __future__ import annotations

import html
import json
import re
import statistics
import subprocess
from pathlib import Path

import pytest
from conftest import hundred_cli, journey_yaml, letter, phase, task
from pdftools import require_poppler
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
DEAL_NL = ROOT / "examples" / "deal-nl.json"


def preview(
    journey: str, out: Path, *extra: str, deal: Path = DEAL_NL, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    return hundred_cli("preview", journey, "--deal", str(deal), "--out", str(out), *extra, cwd=cwd)


def cards(index: str) -> dict[str, str]:
    """touch id → the HTML of its card, in page order."""
    return {
        touch: block
        for block, touch in re.findall(
            r'(<li class="card [^"]*" id="[^"]+" data-touch="([^"]+)".*?\n</li>)', index, re.DOTALL
        )
    }


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment (tags dropped, entities read, spaces folded)."""
    without = re.sub(r"<iframe[^>]*>.*?</iframe>|<[^>]+>", " ", fragment, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(without)).strip()


@pytest.fixture(scope="module")
def nl(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("index-nl")
    done = preview("journeys/first-100-days.yaml", out)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def en(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("index-en")
    done = preview("journeys/first-100-days-en.yaml", out, deal=ROOT / "examples" / "deal-en.json")
    assert done.returncode in (0, 1), done.stderr  # 1: the US address lines vs the window, reported
    return out


def read(out: Path) -> str:
    return (out / "index.html").read_text(encoding="utf-8")


# -- language -------------------------------------------------------------------------------------


LANGUAGE_CASES = [
    pytest.param(
        "nl",
        (
            "Alle contactmomenten, op datum",
            "In één oogopslag",
            "Gesloten",
            "Open de tijdlijn",
            "4 brieven, 3 e-mails, 9 taken",
            "Ligt op de mat",
            "Onderwerp",
            "Versie zonder opmaak",
            "maandag 23 november 2026",
            "Dag 3",
            "verschoven van za 21 nov (weekend)",  # the planner's note, in Dutch too
        ),
        r"vrijdag 20 november 2026, 14:03",  # babel's Dutch date, the deal's close
        ("Every touch", "At a glance", "Subject", "Arrives", "Friday"),
        id="dutch",
    ),
    pytest.param(
        "en",
        (
            "Every touch, in date order",
            "At a glance",
            "Closed",
            "Open the timeline",
            "Subject",
            "Arrives",
            "Plain-text version",
            "Day 3",
        ),
        r"(Monday|Tuesday|Wednesday|Thursday|Friday) \d{1,2} (November|December) 2026",
        ("contactmomenten", "Onderwerp", "vrijdag", "Dag 3"),
        id="english",
    ),
]


@pytest.mark.parametrize("lang, present, date, absent", LANGUAGE_CASES)
def test_each_journey_gets_an_index_in_its_own_language(request, lang, present, date, absent):
    page = read(request.getfixturevalue(lang))  # the fixture `nl` or `en`
    assert f'<html lang="{lang}">' in page
    words = text(page)
    for word in present:
        assert word in words, word
    assert re.search(date, words), date
    for word in absent:
        assert word not in words, word


def test_lang_overrides_the_journeys_locale(tmp_path):
    done = preview("journeys/first-100-days.yaml", tmp_path / "out", "--lang", "en")
    assert done.returncode == 0, done.stderr
    page = read(tmp_path / "out")
    assert '<html lang="en">' in page and "Every touch, in date order" in page
    assert "Friday 20 November 2026" in text(page) and "moved from Sat 21 Nov (weekend)" in text(page)
    assert "Beste Ilse" in html.unescape(page)  # the touches themselves stay as the customer gets them
    assert '<html lang="en">' in (tmp_path / "out" / "timeline.html").read_text(encoding="utf-8")


# -- every channel inline -------------------------------------------------------------------------


def test_a_letter_is_a_thumbnail_of_its_own_first_page_linking_the_pdf(nl):
    card = cards(read(nl))["thank-you-letter"]
    assert re.search(
        r'<a class="thumb" href="thank-you-letter\.pdf"><img src="thank-you-letter\.png" '
        r'width="\d+" height="\d+" alt="[^"]*Handgeschreven bedankbrief aan Ilse"',
        card,
    )
    thumb = Image.open(nl / "thank-you-letter.png").convert("RGB")
    assert thumb.width == 360 and 500 < thumb.height < 515  # A4's proportions
    # Not blank: blue handwriting on white paper.
    raw = thumb.tobytes()
    inked = sum(1 for i in range(0, len(raw), 3) if raw[i + 2] > raw[i] + 40 and raw[i + 2] > 90)
    assert inked > 800, inked
    # And it is this PDF's page: poppler draws the same page to (nearly) the same pixels.
    require_poppler()
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "72",
            "-scale-to-x",
            "360",
            "-scale-to-y",
            str(thumb.height),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(nl / "thank-you-letter.pdf"),
            str(nl.parent / "poppler"),
        ],
        check=True,
        capture_output=True,
    )
    poppler = blurred(nl.parent / "poppler.png")
    assert correlation(blurred(nl / "thank-you-letter.png"), poppler) > 0.95
    assert correlation(blurred(nl / "referral-letter.png"), poppler) < 0.8  # another letter is not "the same"


def blurred(png: Path) -> bytes:
    """Grey pixels, softened so two renderers' anti-aliasing of the same stroke agree."""
    return Image.open(png).convert("L").filter(ImageFilter.GaussianBlur(2)).tobytes()


def correlation(a: bytes, b: bytes) -> float:
    """Pearson correlation of two equally sized images (a blank image has none: StatisticsError)."""
    assert len(a) == len(b)
    return statistics.correlation(list(a), list(b))


def test_an_email_shows_from_to_subject_and_its_body_sandboxed(nl):
    card = cards(read(nl))["next-steps-email"]
    seen = text(card)
    assert "Van Sanne de Vries" in seen and "Aan Ilse Jansen <ilse@example.nl>" in seen
    assert "Onderwerp Wat er de komende weken gebeurt, Ilse" in seen
    frame = re.search(r'<iframe class="email" sandbox="" srcdoc="([^"]*)" title="([^"]*)"', card)
    assert frame, "the HTML email is shown inline in a sandboxed frame"
    body = html.unescape(frame[1])
    assert body == (nl / "next-steps-email.html").read_text(encoding="utf-8")
    assert "Beste Ilse," in body and "allow-scripts" not in card
    assert 'href="next-steps-email.txt"' in card  # the plain-text twin, one click away


def test_a_task_brief_is_html_with_headings_and_lists(nl):
    card = cards(read(nl))["welcome-call"]
    assert "<h3>Bel Ilse om te feliciteren</h3>" in card
    assert card.count("Bel Ilse om te feliciteren") == 1  # the brief's own first heading is not repeated
    assert "<h4>Gesprekspunten</h4>" in card and "<ul>\n<li>Feliciteer Ilse" in card
    assert "<strong>Klant:</strong>" in card and "##" not in card
    assert 'href="welcome-call.ics"' in card and 'href="welcome-call.md"' in card


def test_html_in_a_brief_is_shown_as_text_and_a_webhook_body_is_pretty(make_journey, tmp_path):
    from hundred.deals.model import load_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    text_yaml = journey_yaml(
        phase(
            "admit",
            task("call", 0),
            """\
- id: tell-crm
  day: 0
  channel: webhook
  url: https://crm.example/hooks/onboarding
  template: hooks/tell.json
""",
        )
    )
    path = make_journey(
        text_yaml,
        {
            "tasks/call.md": "# Bellen\n\n## Doel\n\n<script>alert(1)</script> en **vet** <b>niet</b>\n\n- een\n- twee\n\n"
            "[klik](javascript:alert(1)) [crm](https://crm.example/deal)\n",
            "hooks/tell.json": '{"deal": {{ deal.id | json }}, "items": [1, 2]}',
        },
    )
    journey, templates = load_journey(path)
    result = render_preview(journey, load_deal(DEAL_NL), templates, tmp_path / "out")
    assert not result.problems
    page = cards(read(tmp_path / "out"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page["call"] and "<script>" not in page["call"]
    assert "<strong>vet</strong> &lt;b&gt;niet&lt;/b&gt;" in page["call"]
    assert "<h4>Doel</h4>" in page["call"] and "<li>een</li>" in page["call"]
    assert 'href="javascript' not in page["call"] and '<a href="https://crm.example/deal">crm</a>' in page["call"]
    code = re.search(r'<pre class="json"><code>(.*?)</code></pre>', page["tell-crm"], re.S)
    assert html.unescape(code[1]) == '{\n  "deal": "D-1042",\n  "items": [\n    1,\n    2\n  ]\n}'
    assert (tmp_path / "out" / "tell-crm.json").read_text() == '{"deal": "D-1042", "items": [1, 2]}'  # as sent


# -- titles and order -----------------------------------------------------------------------------


def test_touches_have_human_titles_never_file_paths(nl, en):
    for out in (nl, en):
        seen = text(read(out))
        assert not re.search(r"letters/|emails/|tasks/|\.txt\b|\.html\b", seen), re.findall(r"\S*letters/\S*", seen)
    assert "<h3>Handgeschreven bedankbrief aan Ilse</h3>" in read(nl)
    assert "<h3>Letter asking for a referral</h3>" in read(en)
    assert "<h3>Wat er de komende weken gebeurt, Ilse</h3>" in read(nl)  # an email: its subject


def test_a_letter_without_title_is_named_by_its_id_in_words(make_journey, tmp_path):
    from hundred.deals.model import load_deal
    from hundred.planning.planner import plan
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    path = make_journey(
        journey_yaml(
            phase(
                "affirm",
                letter("thank-you-letter", 3),
                letter("note", 5, 'title: "Kaartje voor {{ contact.first_name }}"\n'),
            )
        )
    )
    journey, templates = load_journey(path)
    titles = {t.touch: t.title for t in plan(journey, load_deal(DEAL_NL)).touches}
    assert titles == {"thank-you-letter": "Thank you letter", "note": "Kaartje voor Ilse"}
    render_preview(journey, load_deal(DEAL_NL), templates, tmp_path / "out")
    assert "letters/thanks.txt" not in read(tmp_path / "out")


def test_a_letter_title_is_one_line_like_every_title(make_journey, tmp_path, monkeypatch, capsys):
    from conftest import run_cli

    make_journey(journey_yaml(phase("affirm", letter("thanks", 3, 'title: "Bedankt\\nen tot ziens"\n'))))
    code, _, err = run_cli(monkeypatch, capsys, "validate", "journeys/x.yaml")
    assert code == 1 and "journeys/x.yaml:" in err and "title" in err


def test_every_touch_is_on_the_index_in_date_order(nl):
    plan = json.loads(hundred_cli("plan", "first-100-days", "--deal", str(DEAL_NL), "--json", cwd=ROOT).stdout)
    shown = list(cards(read(nl)))
    assert shown == [t["touch"] for t in plan["touches"]]
    dues = [t["due_utc"] for t in plan["touches"]]
    assert dues == sorted(dues) and len(shown) == 16


# -- hygiene --------------------------------------------------------------------------------------


def test_a_second_preview_leaves_no_stale_files_and_no_one_elses_file_is_touched(make_journey, tmp_path):
    from hundred.deals.model import load_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("my own notes")
    (out / "old-letter.pdf").write_bytes(b"%PDF my own")  # a user's own PDF, named like a letter
    deal = load_deal(DEAL_NL)
    first = make_journey(journey_yaml(phase("affirm", letter("thanks", 3), task("call", 1))))
    journey, templates = load_journey(first)
    render_preview(journey, deal, templates, out)
    assert (out / "thanks.pdf").exists() and (out / "thanks.png").exists() and (out / "call.md").exists()
    (out / "call.md").write_text("my edits to the brief")  # edited since: theirs now

    second = make_journey(journey_yaml(phase("affirm", letter("thank-you", 3))), name="x.yaml")
    journey, templates = load_journey(second)
    result = render_preview(journey, deal, templates, out)
    names = sorted(p.name for p in out.iterdir())
    assert "thanks.pdf" not in names and "thanks.png" not in names and "call.ics" not in names
    assert {"thank-you.pdf", "thank-you.png", "index.html", "timeline.html"} <= set(names)
    assert sorted(result.removed) == ["call.ics", "thanks.pdf", "thanks.png"]
    assert (out / "notes.txt").read_text() == "my own notes"
    assert (out / "old-letter.pdf").read_bytes() == b"%PDF my own"
    assert (out / "call.md").read_text() == "my edits to the brief"


def test_a_folder_with_someone_elses_index_is_refused_before_anything_is_written(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "index.html").write_text("<h1>my home page</h1>")
    done = preview("first-100-days", home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "index.html" in done.stderr and "not from an earlier preview" in done.stderr
    assert (home / "index.html").read_text() == "<h1>my home page</h1>"
    assert sorted(p.name for p in home.iterdir()) == ["index.html"]


def test_a_symlink_in_the_folder_is_never_followed(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "precious.txt"
    out.mkdir()
    elsewhere.write_text("keep me")
    (out / "welcome-call.md").symlink_to(elsewhere)
    done = preview("first-100-days", out)
    assert done.returncode == 1 and "welcome-call.md" in done.stderr
    assert elsewhere.read_text() == "keep me"


def test_previewing_twice_into_the_same_folder_works(nl):
    before = {p.name for p in nl.iterdir()}
    done = preview("journeys/first-100-days.yaml", nl)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in nl.iterdir()} == before


def test_every_word_of_the_index_has_its_dutch_translation():
    """A new label without a Dutch entry would show in English on a Dutch index: caught here."""
    from hundred.rendering.i18n import words
    from hundred.reports.preview import index as preview_index

    sources = (ROOT / "hundred" / "reports" / "preview" / "index.html.j2").read_text() + (
        ROOT / "hundred" / "reports" / "preview" / "index.py"
    ).read_text()
    singular = set(re.findall(r'\bw\(\s*"([^"]+)"', sources)) | set(preview_index.CHANNEL_WORDS.values())
    plural = set(re.findall(r'\bw\.plural\(\s*"([^"]+)"', sources)) | {
        s for s, _ in preview_index._COUNT_WORDS.values()
    }
    assert len(singular) > 30 and len(plural) >= 6
    nl = words("nl_NL", "preview")
    untranslated = sorted(m for m in singular if nl(m) == m and m not in ("Deal", "Webhook"))
    en = words("en_GB", "preview")
    untranslated += sorted(m for m in plural if nl.plural(m, "", 2) == en.plural(m, "", 2) and m != "{n} webhook")
    assert not untranslated, untranslated


def test_a_manifest_naming_files_elsewhere_deletes_nothing_there(make_journey, tmp_path):
    """The list of files is only ever read as plain names in the folder itself: a hand-edited or
    planted manifest cannot make a preview delete a file outside it, or a folder, or follow a link."""
    import hashlib

    from hundred.deals.model import load_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    (out / "sub").mkdir(parents=True)
    outside.write_text("outside")
    (out / "sub" / "inner.txt").write_text("inner")
    (out / "link.txt").symlink_to(outside)
    digest = hashlib.sha256(b"outside").hexdigest()
    planted = {
        "../outside.txt": digest,
        "sub/inner.txt": hashlib.sha256(b"inner").hexdigest(),
        "sub": digest,
        "link.txt": digest,
        str(outside): digest,
    }
    (out / ".hundred-preview.json").write_text(json.dumps({"written_by": "hundred preview", "files": planted}))
    journey, templates = load_journey(make_journey(journey_yaml(phase("affirm", task("call", 1)))))
    result = render_preview(journey, load_deal(DEAL_NL), templates, out)
    assert result.removed == []
    assert outside.read_text() == "outside" and (out / "sub" / "inner.txt").read_text() == "inner"
    assert (out / "link.txt").is_symlink()
    kept = json.loads((out / ".hundred-preview.json").read_text())["files"]
    assert sorted(kept) == ["call.ics", "call.md", "index.html", "timeline.html"]
