"""The shipped texts, rendered the way customers and owners get them (render_touch for the example
deals): the product name sits only where any name reads well ("jullie Hosting Pro", "your
consultancy", the brief's Deal line), the English set holds no Dutch and the Dutch set no English,
and every letter fits its one page (counted with pdfinfo)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pdftools import page_count, pdftotext, require_poppler

from hundred.deals.model import load_deal
from hundred.planning.planner import plan
from hundred.rendering.content import EmailContent, LetterContent, TaskContent
from hundred.rendering.touch import html_to_text, render_touch
from hundred.validation.validate import load_journey

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, tzinfo=UTC)
JOURNEYS = {"nl": ("first-100-days.yaml", "deal-nl.json"), "en": ("first-100-days-en.yaml", "deal-en.json")}
PRODUCTS = ["Jaarabonnement", "Hosting Pro", "consultancy", "Annual subscription"]
# where a product name of any kind reads well: after a possessive, or as a label in a task's Deal line
BEFORE_PRODUCT = re.compile(r"(?:\bjullie|\byour|·) $")
DUTCH = {
    "je",
    "jij",
    "jullie",
    "het",
    "een",
    "van",
    "voor",
    "met",
    "niet",
    "dat",
    "wij",
    "ons",
    "bel",
    "groet",
    "beste",
    "dagen",
    "klant",
    "gesprek",
    "en",
    "ik",
    "wat",
    "hoe",
    "dank",
    "graag",
    "zie",
}
ENGLISH = {
    "the",
    "and",
    "you",
    "your",
    "with",
    "please",
    "thanks",
    "regards",
    "call",
    "our",
    "to",
    "it",
}  # not "we", "of", "is": Dutch too


def rendered(lang: str, product: str | None = None) -> list[tuple[str, object]]:
    journey_file, deal_file = JOURNEYS[lang]
    journey, _ = load_journey(ROOT / "journeys" / journey_file)
    deal = load_deal(ROOT / "examples" / deal_file, now=NOW)
    if product:
        deal = deal.model_copy(update={"product": product})
    return [
        (t.touch, render_touch(journey, deal, t.touch, t.due, ROOT / "templates", print_by=t.print_by))
        for t in plan(journey, deal).touches
        if t.channel in ("letter", "email", "task")
    ]


def words_of(content: object) -> str:
    if isinstance(content, LetterContent):
        return content.letter.body
    if isinstance(content, EmailContent):
        return "\n".join([content.subject, content.text, html_to_text(content.html)])
    assert isinstance(content, TaskContent)
    return f"{content.title}\n{content.brief}"


@pytest.mark.parametrize("lang", sorted(JOURNEYS))
@pytest.mark.parametrize("product", PRODUCTS)
def test_the_product_name_only_stands_where_any_name_reads_well(lang, product):
    seen = 0
    for touch, content in rendered(lang, product):
        text = words_of(content)
        for match in re.finditer(re.escape(product), text):
            before = text[max(0, match.start() - 8) : match.start()]
            assert BEFORE_PRODUCT.search(before), (
                f"{lang} {touch}: …{text[max(0, match.start() - 40) : match.end() + 20]}…"
            )
            seen += 1
    assert seen >= 5  # the product is still named: in the emails, a letter and every task brief


def test_no_koos_voor_jaarabonnement():
    text = "\n".join(words_of(c) for _, c in rendered("nl"))
    assert not re.search(r"\b(?:voor|aan|met|koos)\s+Jaarabonnement", text)
    assert "Jaarabonnement" in text


@pytest.mark.parametrize("lang, foreign", [("en", DUTCH), ("nl", ENGLISH)])
def test_each_language_set_speaks_only_its_own_language(lang, foreign):
    for touch, content in rendered(lang):
        text = words_of(content)
        for name in ("Bakkerij Jansen B.V.", "Reyes Coffee Roasters LLC", "Sanne de Vries"):
            text = text.replace(name, "")
        words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
        assert not words & foreign, f"{lang} {touch}: {sorted(words & foreign)}"


@pytest.mark.parametrize("lang", sorted(JOURNEYS))
def test_every_letter_fits_its_page_and_ends_with_the_closing_and_signature(lang, tmp_path):
    require_poppler()
    from hundred.rendering.handwriting import render_letters

    closing = {"nl": "Hartelijke groet,", "en": "Warm regards,"}[lang]
    letters = [(touch, c) for touch, c in rendered(lang) if isinstance(c, LetterContent)]
    assert len(letters) == 4
    for touch, content in letters:
        path = tmp_path / f"{touch}.pdf"
        with open(path, "wb") as fh:
            render_letters([content.letter], content.style, fh)
        assert page_count(path) == 1, f"{lang} {touch} runs to a second page"
        assert content.letter.body.rstrip().endswith(closing)
        text = " ".join(pdftotext(path).split())
        assert text.index(closing) < text.index(content.letter.signer)


def test_the_thank_you_letter_thanks_without_selling():
    for lang in JOURNEYS:
        body = next(c for t, c in rendered(lang) if t == "thank-you-letter").letter.body.lower()
        assert "dank je wel" in body or "thank you" in body
        assert not any(word in body for word in ("aanbieding", "korting", "offer", "discount", "upgrade", "%"))
