"""`/journeys` in a real headless Chromium (Playwright driving Debian's Chromium) against a ledger the
runtime built with known outcomes (tests/figures_world.py): the numbers on the page are the
story's; a late letter and an overdue task show up as such; one customer's page draws what
happened over the plan; axe-core finds no violation at tablet and desktop width; the exports and
the door answer as documented. Screenshots land in HUNDRED_TEST_SCREENSHOTS for a person to see.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from browser import DESKTOP, TABLET, audit, axe, browser, shots  # noqa: F401 (fixtures)
from figures_world import EXPECTED, iter_world
from web_site import Served, login

from hundred import bootstrap

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery"
TOKEN = "figures-test-token-0123456789"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from hundred.web import create_app

    for world in iter_world(tmp_path_factory.mktemp("figures-web")):
        figures = bootstrap.figures(world.settings, ledger_=world.ledger, clock=world.time)
        server = Served(create_app(world.settings.home, settings=world.settings.model_copy(), figures=figures))
        yield world, server
        server.stop()


def new_page(browser: Any, viewport: dict[str, int] = DESKTOP, js: bool = True, bypass_csp: bool = False) -> Any:
    """A page in a Dutch browser; `bypass_csp` lets axe-core in (the pages' policy forbids any script)."""
    context = browser.new_context(viewport=viewport, java_script_enabled=js, locale="nl-NL", bypass_csp=bypass_csp)
    context.set_default_timeout(30_000)
    return context.new_page()


def log_in(page: Any, url: str, path: str = "/journeys") -> None:
    page.goto(url + path)
    assert "/login" in page.url, page.url
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(url + path)


def figure(page: Any, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def test_the_numbers_on_the_page_are_the_ledger_s(site, browser, shots):
    world, server = site
    page = new_page(browser)
    log_in(page, server.url)
    section = "section#j-figures"
    assert page.locator(section).get_attribute("lang") == "nl"
    for name in ("entered", "active", "completed", "exited"):
        assert figure(page, f"{section} dd[data-figure={name}]") == str(EXPECTED[name]), name
    assert "churned: 1" in figure(page, f"{section} [data-exit=churned]")
    for phase, (reached, median) in EXPECTED["funnel"].items():
        row = f"{section} table[data-table=funnel] tr[data-phase={phase}]"
        assert figure(page, f"{row} [data-figure=reached]") == str(reached), phase
        assert figure(page, f"{row} [data-figure=median-day]") == f"dag {median}", phase
    names = {"done": "reached", "delivered": "reached", "running": "running", "waiting": "waiting"}
    for touch, states in EXPECTED["touches"].items():
        row = f"{section} table[data-table=touches] tr[data-touch={touch}]"
        for state in states:
            key = names.get(state, state)
            want = sum(m for s, m in states.items() if names.get(s, s) == key)
            assert figure(page, f"{row} [data-figure={key}]") == str(want), (touch, state)
    letter = f"{section} table[data-table=letters] tr[data-touch=thanks]"
    assert figure(page, f"{letter} [data-figure=late]") == "1"
    assert figure(page, f"{letter} [data-figure=on-time]") == "3"
    assert figure(page, f"{letter} [data-figure=overdue]") == "0"
    task = f"{section} table[data-table=tasks] tr[data-touch=result-call]"
    assert figure(page, f"{task} [data-figure=overdue]") == "1"
    assert figure(page, f"{section} table[data-table=owners] tr[data-owner='Piet Bakker'] [data-figure=overdue]") == "1"
    email = f"{section} table[data-table=emails] tr[data-touch=check-in]"
    assert figure(page, f"{email} [data-figure=bounced]") == "1"
    assert figure(page, f"{email} [data-figure=not-sent]") == "1"
    hook = f"{section} table[data-table=webhooks] tr[data-touch=crm-note]"
    assert (figure(page, f"{hook} [data-figure=ok]"), figure(page, f"{hook} [data-figure=failed]")) == ("4", "1")
    assert figure(page, f"{section} [data-check=silence] strong") == "4"
    assert figure(page, f"{section} [data-check=affirm] strong") == "1"
    assert figure(page, f"{section} [data-check=asks] strong") == "3"
    assert figure(page, f"{section} [data-check=referrals] strong") == "1"
    rows = page.locator(f"{section} table[data-table=attention] tbody tr")
    seen = {
        (rows.nth(i).get_attribute("data-deal"), rows.nth(i).get_attribute("data-why")) for i in range(rows.count())
    }
    assert seen == {(deal, why) for deal, _, why in EXPECTED["attention"]}
    assert page.locator("svg.chart[role=img] title").count() >= 3  # the charts, each beside its table
    page.screenshot(path=str(shots / "journeys-1366.png"), full_page=True)


def test_a_late_letter_and_an_overdue_task_on_the_customer_s_page(site, browser, shots):
    world, server = site
    page = new_page(browser)
    log_in(page, server.url, "/journeys/figures/deals/D-LATE")
    assert page.locator(".act.act-late").count() >= 2  # the late letter, the overdue call: drawn over the plan
    table = page.locator("table.touches")
    assert "3 dagen te laat" in table.inner_text()  # the letter, posted on day 4, print-by day 1
    waiting = page.locator("[data-list=waiting] [data-touch=result-call]")
    assert "over tijd" in waiting.inner_text() and "Piet Bakker" in waiting.inner_text()
    letters = page.locator("table[data-table=letters] tr[data-touch=thanks]")
    assert letters.locator("[data-figure=posted]").inner_text().strip() != "–"
    page.screenshot(path=str(shots / "deal-late-1366.png"), full_page=True)
    gone = new_page(browser)
    log_in(gone, server.url, "/journeys/figures/deals/D-GONE")
    assert "gestopt: churned" in gone.locator("[data-figure=state]").inner_text()
    assert gone.locator(".act.act-cancelled").count() >= 1


def test_readable_without_javascript(site, browser):
    world, server = site
    page = new_page(browser, js=False)
    log_in(page, server.url, "/journeys/figures/deals/D-LATE")
    assert page.locator("script").count() == 1  # the timeline's own, not needed to read it
    text = page.locator("table.touches").inner_text()
    assert "wat er gebeurde" in text.lower() and "3 dagen te laat" in text
    page.goto(server.url + "/journeys")
    assert page.locator("script").count() == 0
    assert page.locator("table[data-table=funnel]").is_visible()


@pytest.mark.parametrize("path", ["/journeys", "/journeys/figures?lang=en", "/journeys/figures/deals/D-LATE"])
def test_axe_finds_no_violation_at_tablet_and_desktop_width(site, browser, axe, shots, path):
    world, server = site
    page = new_page(browser, bypass_csp=True)
    log_in(page, server.url, path)
    found = []
    for viewport in (TABLET, DESKTOP):
        page.set_viewport_size(viewport)
        page.reload()
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
        page.screenshot(path=str(shots / f"{name}-{viewport['width']}.png"), full_page=True)
        found += [(viewport["width"], v["id"], v["impact"], v["nodes"]) for v in audit(page, axe)]
    assert not found, found


def test_exports_and_the_door(site):
    world, server = site
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/journeys.json").status_code == 401
        page = client.get("/journeys", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Fjourneys")
        bearer = {"authorization": f"Bearer {TOKEN}"}
        data = client.get("/journeys.json", headers=bearer).json()
        (journey,) = data["journeys"]
        assert journey["journey"] == "figures" and journey["entered"] == EXPECTED["entered"]
        assert data["period"] == {"since": None, "until": None}
        thanks = next(t for t in journey["touches"] if t["touch"] == "thanks")
        assert thanks["letters"]["late"] == 1 and thanks["emails"] is None
        check_in = next(t for t in journey["touches"] if t["touch"] == "check-in")
        assert check_in["emails"] == EXPECTED["emails"]["check-in"]
        since = world.day(10).date().isoformat()
        assert client.get(f"/journeys.json?since={since}", headers=bearer).json()["journeys"][0]["entered"] == 1
        rows = list(csv.reader(io.StringIO(client.get("/journeys.csv", headers=bearer).text)))
        assert rows[0] == ["journey", "version", "section", "item", "figure", "value"]
        assert ["figures", "", "letters", "thanks", "late", "1"] in rows
        assert ["figures", "", "emails", "check-in", "bounced", "1"] in rows
        assert client.get("/journeys.json?since=1-2-2026", headers=bearer).status_code == 400
        assert client.get("/journeys/nope", headers=bearer).status_code == 404
        assert client.get("/journeys/figures/deals/D-NOBODY", headers=bearer).status_code == 404
        found = client.get("/journeys/figures/deals?deal=D-ON", headers=bearer)
        assert found.status_code == 303 and found.headers["location"] == "/journeys/figures/deals/D-ON"
        page = client.get("/journeys/figures", headers=bearer)
        assert page.status_code == 200 and "Content-Security-Policy" in page.headers
        assert "script" not in page.headers["Content-Security-Policy"]


def test_logging_in_from_the_figures_comes_back_to_them(site):
    world, server = site
    with httpx.Client(base_url=server.url) as client:
        answer = login(client, PASSWORD)
        assert answer.status_code == 303
        assert client.get("/journeys", headers={"accept": "text/html"}).status_code == 200
