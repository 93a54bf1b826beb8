"""The print room's pages in a real headless Chromium (Playwright on Debian's /usr/bin/chromium), in
Dutch and in English as the browser asks, at tablet (768 px) and desktop (1366 px) width: axe-core
finds no violation at any level on the login, queue (with the next-due offer), batch (with its
warning), letter and not-found pages, nothing is cut off sideways, and a screenshot of each lands
in HUNDRED_TEST_SCREENSHOTS for a person to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, TABLET, audit, axe_source, browser, shots  # noqa: F401 (fixtures)
from web_site import PASSWORD, build_site, serve

from hundred.service.simulate import VirtualScheduler

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LANGUAGES = {"en": "en-GB", "nl": "nl-NL"}
WORDS = {  # what each language's pages must say (and the other's must not)
    "en": ("Print room", "Make a batch", "its cover sheet lists 1 warning", "The next letter is due by"),
    "nl": ("Printkamer", "Een batch maken", "het voorblad noemt 1 waarschuwing", "De volgende brief moet uiterlijk"),
}


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A print room with a batch whose cover warns (an address too long for the window) and one
    letter left for a later day (so the page offers that day)."""
    site = build_site(tmp_path_factory.mktemp("printroom-pages"), VirtualScheduler())
    later = site.ledger.letter(site.later_id)
    site.ledger.queue_letter(
        **{k: getattr(later, k) for k in ("text", "hand", "layout", "signer", "signer_title")},
        letter_id="D-LONG/thanks",
        deal_id="D-LONG",
        touch_id="thanks",
        seed="D-LONG/thanks",
        address={**later.address, "name": "Stichting " + "Buitengewoon Lange Organisatienaam " * 3},
        print_by=site.ledger.letter(site.letter_id).print_by,
    )
    from hundred import bootstrap

    room = bootstrap.print_room(site.settings, ledger_=site.ledger)
    made = room.make_batch(until=site.ledger.letter(site.letter_id).print_by)
    assert made.letters == 3 and len(made.problems) == 1
    server = serve(site)
    yield site, server
    server.stop()
    site.ledger.close()


def open_page(browser: Any, viewport: dict[str, int], language: str) -> Any:
    context = browser.new_context(
        viewport=viewport,
        bypass_csp=True,  # axe is injected as a script; the pages themselves run none
        locale=LANGUAGES[language],
        extra_http_headers={"accept-language": f"{LANGUAGES[language]},{language};q=0.9"},
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def fits_sideways(page: Any) -> bool:
    """Nothing wider than the window: the page does not scroll sideways (tables included)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth && "
        "[...document.querySelectorAll('.table-wrap')].every(t => t.scrollWidth <= t.clientWidth + 1)"
    )


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["1366", "768"])
def test_every_page_in_each_language_has_no_axe_violation_at_any_level(room, browser, shots, language, viewport):
    site, server = room
    axe = axe_source()
    page = open_page(browser, viewport, language)
    found: dict[str, list[Any]] = {}
    width = viewport["width"]

    page.goto(f"{server.url}/print")
    assert page.url.startswith(f"{server.url}/login")
    found["login"] = audit(page, axe)
    page.screenshot(path=str(shots / f"pages-login-{language}-{width}.png"), full_page=True)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{server.url}/print")
    assert page.locator("html").get_attribute("lang") == language

    text = page.locator("main").inner_text()
    for words in WORDS[language]:
        assert words in text, (language, words)
    other = "nl" if language == "en" else "en"
    assert WORDS[other][1] not in text
    assert page.locator("#next-due button").is_visible()
    assert page.locator(".notice.warning li").first.inner_text().startswith("#")
    assert "(Europe/Amsterdam)" in text
    found["print"] = audit(page, axe)
    assert fits_sideways(page), f"the queue page scrolls sideways at {width} px in {language}"
    page.screenshot(path=str(shots / f"pages-print-{language}-{width}.png"), full_page=True)

    for name, letter_id in (("batched", site.letter_id), ("queued", site.later_id)):
        page.goto(f"{server.url}/print/letter?id={letter_id.replace('/', '%2F')}")
        found[name] = audit(page, axe)
        assert fits_sideways(page)
        page.screenshot(path=str(shots / f"pages-letter-{name}-{language}-{width}.png"), full_page=True)
    page.goto(f"{server.url}/print/no-such-page")
    found["404"] = audit(page, axe)

    page.set_content('<html><body><img src="x.png"><input type="text"><a href="#"></a></body></html>')
    assert {v["id"] for v in audit(page, axe)} >= {"image-alt", "label"}  # axe is live, not silent
    assert not any(found.values()), {
        name: [(v["id"], v["impact"], v["nodes"]) for v in vs] for name, vs in found.items()
    }
    page.context.close()


def test_the_screenshots_are_there_to_look_at(room, browser, shots):
    """The module's screenshots exist and show something (a person reviews them)."""
    from browser import assert_not_blank

    pngs = sorted(Path(shots).glob("pages-*.png"))
    assert len(pngs) >= 16, [p.name for p in pngs]
    for png in pngs:
        assert_not_blank(png)
