"""The upgrade's dry run in the studio, in a real headless Chromium: the "in flight"
tab lists, under each version journeys are on, what `hundred journeys upgrade --dry-run` would
change per deal once the text is saved; reached with the keyboard alone, in the journey's language,
and axe-core finds no violation of any level in it at 1366 and 768 px."""

from __future__ import annotations

import pytest
from browser import DESKTOP, TABLET, audit, axe, browser, shots  # noqa: F401 (fixtures)
from studio_site import served_studio
from test_studio_browser import edit, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_studio(tmp_path_factory.mktemp("upgrade-browser")) as site:
        yield site


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["1366", "768"])
def test_the_dry_run_opens_with_the_keyboard_and_says_per_deal_what_would_change(site, browser, axe, shots, viewport):
    studio, served = site
    page = open_page(browser, served.url, viewport, for_axe=True)
    edit(page, served.url)
    page.click("#tab-flight")
    page.wait_for_selector("#flight-result section.version details.dry-run")
    summary = page.locator("details.dry-run summary")
    summary.focus()
    page.keyboard.press("Enter")  # a <details> opens with the keyboard
    shown = page.locator("details.dry-run pre")
    shown.wait_for(state="visible")
    text = shown.text_content()
    assert "deal D-OLD-1 (dag 2): zou naar de nieuwe versie gaan" in text
    assert "small-gift" in text and "extra-call: verwijderd in de nieuwe versie" in text
    assert text.strip().endswith("er is niets veranderd (proefrun).")
    shown.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"upgrade-dry-run-{viewport['width']}.png"), full_page=False)
    found = [f"{v['id']} ({v['impact']}) {v['help']} {v['nodes']}" for v in audit(page, axe)]
    assert found == []
