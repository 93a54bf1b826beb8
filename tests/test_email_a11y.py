"""Every shipped HTML email (Dutch and English), rendered for the example deals by render_touch (the
call delivery makes), passes axe-core in real Chromium with no serious or critical violation, at a
phone's width and a desktop's. Screenshots go to HUNDRED_TEST_SCREENSHOTS when it is set."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from browser import DESKTOP, audit, axe, browser  # noqa: F401 (fixtures)

from hundred.deals.model import load_deal
from hundred.planning.planner import plan
from hundred.rendering.content import EmailContent
from hundred.rendering.touch import render_touch
from hundred.validation.validate import load_journey

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, tzinfo=UTC)
PHONE = {"width": 375, "height": 812}
JOURNEYS = [("first-100-days.yaml", "deal-nl.json", "nl"), ("first-100-days-en.yaml", "deal-en.json", "en")]


def emails() -> list[tuple[str, str, EmailContent]]:
    found = []
    for journey_file, deal_file, lang in JOURNEYS:
        journey, _ = load_journey(ROOT / "journeys" / journey_file)
        deal = load_deal(ROOT / "examples" / deal_file, now=NOW)
        for t in plan(journey, deal).touches:
            if t.channel == "email":
                found.append((lang, t.touch, render_touch(journey, deal, t.touch, t.due, ROOT / "templates")))
    return found


EMAILS = emails()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("HUNDRED_TEST_SCREENSHOTS") or tmp_path_factory.mktemp("email-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_all_six_shipped_emails_are_checked():
    assert sorted((lang, touch) for lang, touch, _ in EMAILS) == sorted(
        (lang, touch)
        for lang in ("nl", "en")
        for touch in ("next-steps-email", "one-month-email", "hundred-days-email")
    )


@pytest.mark.parametrize("lang, touch, content", EMAILS, ids=[f"{lang}-{touch}" for lang, touch, _ in EMAILS])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_email_passes_axe(browser, axe, shots, tmp_path, lang, touch, content, viewport):
    page_file = tmp_path / f"{lang}-{touch}.html"
    page_file.write_text(content.html, encoding="utf-8")
    context = browser.new_context(viewport=viewport, java_script_enabled=True)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        assert page.evaluate("document.documentElement.lang") == {"nl": "nl-NL", "en": "en-US"}[lang]
        assert page.title().strip(), "the email has no <title>"
        assert page.locator("main, [role=main]").count() == 1
        page.screenshot(path=str(shots / f"email-{lang}-{touch}-{viewport['width']}.png"), full_page=True)
        violations = audit(page, axe)
    finally:
        context.close()
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious  # the contract ...
    assert not violations, violations  # ... and, as shipped, none at any level


def test_the_layout_takes_its_language_from_the_journey():
    for lang, touch, content in EMAILS:
        assert re.search(rf'<html lang="{lang}-[A-Z]{{2}}"', content.html), (lang, touch)
