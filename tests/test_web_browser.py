"""The print room in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium):
log in, make a batch, download it, mark it posted and watch the affirm gate open on the session's
real Prefect server; axe-core finds no violation at any level at tablet and desktop width;
keyboard alone does the whole round. Screenshots land in HUNDRED_TEST_SCREENSHOTS (default: the
test's temp folder) so a person can look at them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, TABLET, audit, axe_source, browser, shots  # noqa: F401 (fixtures)
from web_site import DEAL, PASSWORD, build_site, serve

pytestmark = [pytest.mark.browser, pytest.mark.prefect, pytest.mark.slow]


@pytest.fixture(scope="module")
def room(tmp_path_factory, hundred_deployments):
    """The ledger with DEAL's affirm letter queued (runs on the session's Prefect server), served."""
    from hundred.adapters.prefect.scheduler import PrefectScheduler

    root = tmp_path_factory.mktemp("web-browser")
    scheduler = PrefectScheduler(hundred_deployments.api_url)
    site = build_site(root, scheduler)
    server = serve(site)
    yield site, server
    server.stop()
    scheduler.close()
    site.ledger.close()


def new_page(browser: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, bypass_csp=True, accept_downloads=True, locale="en-US")
    context.set_default_timeout(30_000)
    return context.new_page()


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def keyboard_login(page: Any, url: str) -> None:
    page.goto(f"{url}/print")
    assert page.url.startswith(f"{url}/login"), page.url
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/print")


def check_both_widths(page: Any, axe: str, what: str, shots: Path | None = None) -> list[tuple[str, str, Any]]:
    """axe at tablet and desktop width on the page as it is now (and a screenshot of each into
    `shots`); its violations, at every level."""
    found = []
    for viewport in (TABLET, DESKTOP):
        page.set_viewport_size(viewport)
        page.reload()
        if shots is not None:
            page.screenshot(path=str(shots / f"{what.replace(' ', '-')}-{viewport['width']}.png"), full_page=True)
        found += [(what, v["id"], v["impact"], v["nodes"]) for v in audit(page, axe)]
    page.set_viewport_size(TABLET)
    page.reload()
    return found


def pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def test_print_staff_log_in_batch_download_and_post_by_keyboard_and_the_gate_opens(room, browser, shots):
    site, server = room
    print_by = site.ledger.letter(site.letter_id).print_by
    assert site.ledger.touch(DEAL, "referral").state == "waiting"
    assert site.ledger.touch(DEAL, "thanks").state == "running"

    axe = axe_source()
    page = new_page(browser, TABLET)
    keyboard_login(page, server.url)
    serious = check_both_widths(page, axe, "queue", shots)
    queue = page.locator("#queue-title").locator("xpath=..")
    assert "3 letters" in queue.inner_text()
    overdue = page.locator(".day.overdue").first
    assert "Overdue" in overdue.inner_text() and "D-OTHER-overdue/thanks" in overdue.inner_text()
    assert page.locator(".day").first.get_attribute("class") == "day overdue"  # overdue on top
    page.screenshot(path=str(shots / "print-queue-tablet.png"), full_page=True)

    # make a batch of what must be printed by the letter's day, duplex, with labels: keyboard only
    tab_to(page, "#until")
    page.keyboard.type(print_by.strftime("%m%d%Y"))  # Chromium's en-US date field: month, day, year
    assert page.input_value("#until") == print_by.isoformat()
    tab_to(page, "#duplex")
    page.keyboard.press("Space")
    tab_to(page, "#labels")
    page.keyboard.press("Space")
    tab_to(page, "#make-batch")
    page.keyboard.press("Enter")
    page.wait_for_selector("p.notice[role=status]")
    notice = page.locator("p.notice").inner_text()
    assert "2 letters" in notice, notice
    batch = site.ledger.letter(site.letter_id).batch_id
    assert batch and batch in notice
    page.screenshot(path=str(shots / "print-batch-made-tablet.png"), full_page=True)
    serious += check_both_widths(page, axe, "batch made", shots)
    page.goto(f"{server.url}/print/letter?id={site.overdue_id.replace('/', '%2F')}")
    assert page.locator("#reason").is_visible()  # a batched letter can be spoiled
    page.screenshot(path=str(shots / "letter-batched-tablet.png"), full_page=True)
    serious += check_both_widths(page, axe, "batched letter", shots)
    assert not serious, serious
    page.goto(f"{server.url}/print")

    # download the batch PDF by keyboard: a real PDF with the batch's page count
    tab_to(page, f'a[aria-label="PDF of batch {batch}"]')
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    from hundred.adapters.ledger import Ledger

    ledger = Ledger.open(site.settings.ledger_url)
    batch_row = ledger.batch_row(batch)
    assert batch_row is not None and batch_row.letters == 2 and batch_row.duplex and batch_row.labels
    assert pdf_pages(data) == batch_row.pages
    assert batch_row.pages % 2 == 0 and batch_row.pages >= 3  # cover + two letters, padded for duplex
    with page.expect_download() as info:
        page.click(f'a[aria-label="Labels of batch {batch}"]')
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    # mark it posted: the touch is delivered, the gate opens, the referral gets its Prefect run
    tab_to(page, f'button[aria-label="Mark posted: batch {batch}"]')
    page.keyboard.press("Enter")
    page.wait_for_selector("p.notice[role=status]")
    assert "2 letters marked posted" in page.locator("p.notice").inner_text()
    page.screenshot(path=str(shots / "print-posted-tablet.png"), full_page=True)
    assert ledger.letter(site.letter_id).state == "posted"
    assert ledger.touch(DEAL, "thanks").state == "delivered"
    referral = ledger.touch(DEAL, "referral")
    assert referral.state == "scheduled" and referral.flow_run_id
    assert site.scheduler.run_state(referral.flow_run_id) == "SCHEDULED"
    assert ledger.journey(DEAL).gate_opened_at is not None
    ledger.close()

    # and log out by keyboard
    tab_to(page, "header button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/login")
    page.goto(f"{server.url}/print")
    assert page.url.startswith(f"{server.url}/login")
    page.context.close()


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
def test_every_page_passes_axe_with_no_violation_at_any_level(room, browser, shots, viewport):
    site, server = room
    axe = axe_source()
    page = new_page(browser, viewport)
    page.goto(f"{server.url}/login")
    found = {"login": audit(page, axe)}
    page.screenshot(path=str(shots / f"login-{viewport['width']}.png"), full_page=True)
    keyboard_login(page, server.url)
    found["print"] = audit(page, axe)
    page.screenshot(path=str(shots / f"print-{viewport['width']}.png"), full_page=True)
    for letter_id in (site.later_id, site.letter_id):
        page.goto(f"{server.url}/print/letter?id={letter_id.replace('/', '%2F')}")
        found[letter_id] = audit(page, axe)
    page.screenshot(path=str(shots / f"letter-{viewport['width']}.png"), full_page=True)
    page.goto(f"{server.url}/print/no-such-page")
    found["404"] = audit(page, axe)
    print({name: [(v["id"], v["impact"]) for v in vs] for name, vs in found.items()})
    page.set_content('<html><body><img src="x.png"><input type="text"><a href="#"></a></body></html>')
    assert {v["id"] for v in audit(page, axe)} >= {"image-alt", "label"}  # axe is live, not silent
    assert not any(found.values()), found
    page.context.close()


def test_focus_is_visible_and_the_skip_link_comes_first(room, browser):
    site, server = room
    page = new_page(browser, DESKTOP)
    keyboard_login(page, server.url)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab_to(page, "#make-batch")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.context.close()
