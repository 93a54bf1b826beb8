"""The preview index in a real headless Chromium (Playwright driving Debian's chromium): under its
own Content-Security-Policy the letter thumbnails load and the emails show their body; axe-core
finds nothing serious or critical at tablet and desktop width, in Dutch and in English.
Screenshots land in HUNDRED_TEST_SCREENSHOTS (default: the test's temp folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import DESKTOP, TABLET, audit, axe_source, browser, shots  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
JOURNEYS = {"nl": ("first-100-days.yaml", "deal-nl.json"), "en": ("first-100-days-en.yaml", "deal-en.json")}


@pytest.fixture(scope="module")
def previews(tmp_path_factory) -> dict[str, Path]:
    from hundred.deals.model import load_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    made = {}
    for lang, (journey_file, deal_file) in JOURNEYS.items():
        journey, templates = load_journey(ROOT / "journeys" / journey_file)
        out = tmp_path_factory.mktemp(f"preview-{lang}")
        render_preview(journey, load_deal(ROOT / "examples" / deal_file), templates, out)
        made[lang] = out / "index.html"
    return made


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_thumbnails_and_emails_show_under_the_pages_own_policy(previews, browser, lang):
    context = browser.new_context(viewport=DESKTOP)  # no bypass_csp: the page's CSP applies
    page = context.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(previews[lang].resolve().as_uri())
    thumbs = page.locator("a.thumb img")
    assert thumbs.count() == 4
    for i in range(4):
        thumbs.nth(i).scroll_into_view_if_needed()
        assert thumbs.nth(i).evaluate("img => img.complete && img.naturalWidth") == 360
    frame = page.locator('[data-touch="next-steps-email"] iframe').first
    frame.scroll_into_view_if_needed()
    body = frame.content_frame.locator("body").inner_text(timeout=10_000)
    assert ("Beste Ilse," if lang == "nl" else "Dear ") in body
    assert frame.evaluate("f => f.getBoundingClientRect().height") > 300
    assert not blocked, blocked
    context.close()


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_index_passes_axe(previews, browser, shots, lang, viewport):
    axe = axe_source()
    context = browser.new_context(viewport=viewport, bypass_csp=True)  # so axe's script may run
    page = context.new_page()
    page.goto(previews[lang].resolve().as_uri())
    assert page.evaluate("document.documentElement.lang") == lang
    page.screenshot(path=str(shots / f"preview-index-{lang}-{viewport['width']}.png"), full_page=True)
    found = audit(page, axe)
    print(lang, viewport["width"], [(v["id"], v["impact"]) for v in found])
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    page.set_content('<html><body><img src="x.png"><a href="#"></a></body></html>')
    assert {v["id"] for v in audit(page, axe)} >= {"image-alt"}  # axe is live, not silent
    context.close()
