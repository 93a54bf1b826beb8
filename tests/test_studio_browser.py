"""The journey studio in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium),
against `hundred studio`'s app over a copy of the repository's journeys (tests/studio_site.py):
typing into the editor brings the validator's diagnostic to its line and fixing it takes it away,
the timeline moves when a day changes, a completion is accepted, a save conflict is met and
resolved, everything is done with the keyboard alone, nothing breaks the page's Content-Security-
Policy, and axe-core finds no violation of any level at 1366 and 768 px. Screenshots land in
HUNDRED_TEST_SCREENSHOTS (default: the test's temp folder) for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser import DESKTOP, TABLET, audit, axe, browser, shots  # noqa: F401 (fixtures)
from studio_site import JOURNEY, TOKEN, served_studio

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TEMPLATE = "templates/letters/thank-you.txt"
THANKS_DAY = "id: thank-you-letter\n        day: 3"
THANKS_CHANNEL = THANKS_DAY + "\n        channel: letter"
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_studio(tmp_path_factory.mktemp("studio-browser")) as site:
        yield site


def open_page(
    browser: Any, url: str, viewport: dict[str, int] = DESKTOP, *, for_axe: bool = False, token: bool = True
) -> Any:
    """A page in a fresh context (its own session), entered with the printed token. `for_axe`: CSP
    bypassed so axe can be injected; every other page keeps the studio's policy and records each
    violation in window.__csp."""
    context = browser.new_context(viewport=viewport, bypass_csp=for_axe, locale="nl-NL")
    context.set_default_timeout(30_000)
    page = context.new_page()
    if not for_axe:
        page.add_init_script(WATCH_CSP)
    page.goto(f"{url}/studio/" + (f"?token={TOKEN}" if token else ""))
    return page


def edit(page: Any, url: str, file: str = JOURNEY) -> None:
    page.goto(f"{url}/studio/edit?file={file}")
    page.wait_for_selector("#editor[data-checked]")


def editor(browser: Any, url: str) -> Any:
    """A fresh page (open_page) on the journey's editor, its text checked once."""
    page = open_page(browser, url)
    edit(page, url)
    return page


def no_csp_violations(page: Any) -> None:
    assert page.evaluate("window.__csp") == [], page.evaluate("window.__csp")


def checked(page: Any) -> int:
    return int(page.get_attribute("#editor", "data-checked") or 0)


def wait_checked_after(page: Any, before: int) -> None:
    page.wait_for_function(f"() => Number(document.getElementById('editor').dataset.checked || 0) > {before}")


def put_cursor(page: Any, marker: str, after: bool = True) -> None:
    """The cursor just after (or at) the only place `marker` stands in the text; the editor focused."""
    page.evaluate(
        """([marker, after]) => {
            const view = window.studio.view;
            const text = view.state.doc.toString();
            const at = text.indexOf(marker);
            if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error("marker not unique: " + marker);
            view.focus();
            view.dispatch({ selection: { anchor: after ? at + marker.length : at } });
        }""",
        [marker, after],
    )


def line_of(page: Any, marker: str) -> int:
    return page.evaluate(
        "(m) => window.studio.view.state.doc.lineAt(window.studio.view.state.doc.toString().indexOf(m)).number",
        marker,
    )


def timeline(page: Any) -> Any:
    page.wait_for_selector("iframe.timeline.shown")
    return page.frame_locator("iframe.timeline.shown")


def mark_left(page: Any, touch: str) -> float:
    style = timeline(page).locator(f'button.mk[data-touch="{touch}"]').get_attribute("style")
    return float(re.search(r"left:([\d.]+)%", style).group(1))


# -- typing, checking, the timeline --------------------------------------------------------------


def test_a_typo_is_marked_at_its_line_and_goes_when_fixed(site, browser, shots):
    studio, served = site
    page = editor(browser, served.url)
    assert page.text_content("#problems-summary") == "Geen problemen."
    put_cursor(page, THANKS_CHANNEL)
    line = line_of(page, THANKS_CHANNEL) + 2
    before = checked(page)
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")  # "channel: lett"
    wait_checked_after(page, before)
    item = page.locator("#problems li.error")
    assert item.count() == 1
    assert item.get_attribute("data-line") == str(line)
    assert "unknown channel 'lett'" in item.text_content() and "did you mean 'letter'?" in item.text_content()
    gutter = page.locator(".cm-gutter-lint .cm-gutterElement").filter(has=page.locator(".cm-lint-marker-error"))
    assert gutter.count() == 1 and gutter.text_content() == ""  # the marker sits in the gutter ...
    underlined = page.locator(".cm-lintRange-error")
    assert underlined.count() == 1 and underlined.text_content() == "lett"  # ... and under the word itself
    assert page.text_content("#problems-summary") == "1 probleem."
    page.screenshot(path=str(shots / "studio-typo.png"))
    before = checked(page)
    page.keyboard.type("er")
    wait_checked_after(page, before)
    assert page.locator("#problems li").count() == 0 and page.locator(".cm-lintRange-error").count() == 0
    assert page.text_content("#problems-summary") == "Geen problemen."
    no_csp_violations(page)


def test_the_timeline_moves_when_a_day_changes(site, browser, shots):
    studio, served = site
    page = editor(browser, served.url)
    first = mark_left(page, "thank-you-letter")
    url = page.get_attribute("#timeline-frames", "data-url")
    put_cursor(page, THANKS_DAY)
    page.keyboard.press("Backspace")
    page.keyboard.type("30")
    page.wait_for_function(f"() => document.getElementById('timeline-frames').dataset.url !== {url!r}")
    page.wait_for_function("() => !document.querySelector('iframe.timeline:not(.shown)')?.src || true")
    moved = mark_left(page, "thank-you-letter")
    assert moved > first + 20, (first, moved)  # day 3 → day 30: a quarter of the axis further
    label = timeline(page).locator('button.mk[data-touch="thank-you-letter"]').get_attribute("aria-label")
    assert "dec" in label  # 30 days after 20 Nov arrives in December
    page.screenshot(path=str(shots / "studio-timeline-moved.png"))
    no_csp_violations(page)


def test_a_completion_from_the_schema_is_accepted(site, browser):
    studio, served = site
    page = editor(browser, served.url)
    put_cursor(page, THANKS_DAY)
    page.keyboard.press("Enter")  # a new line, indented like the one above
    page.keyboard.type("expi")
    option = page.locator(".cm-tooltip-autocomplete li", has_text="expires_after")
    option.wait_for()
    page.wait_for_timeout(200)  # CodeMirror ignores Enter for 75 ms after the list appears (no accidental picks)
    page.keyboard.press("Enter")
    line = page.evaluate(
        "() => { const s = window.studio.view.state; return s.doc.lineAt(s.selection.main.head).text; }"
    )
    assert line == "        expires_after: "
    before = checked(page)
    page.keyboard.type('"2d"')
    wait_checked_after(page, before)
    page.wait_for_function("() => document.getElementById('problems-summary').textContent === 'Geen problemen.'")
    no_csp_violations(page)


def test_a_template_is_checked_as_typed_and_its_touch_previewed(site, browser, shots):
    studio, served = site
    page = open_page(browser, served.url)
    edit(page, served.url, TEMPLATE)
    page.click("#tab-touch")
    page.wait_for_selector('#touch-card[data-touch="thank-you-letter"] img')
    put_cursor(page, "Beste {{ contact.first_name }},")
    before = checked(page)
    page.keyboard.type(" {{ contact.frist_name }}")
    wait_checked_after(page, before)
    item = page.locator("#problems li.error")
    assert item.count() == 1 and item.get_attribute("data-line") == str(line_of(page, "Beste {{"))
    assert "did you mean 'contact.first_name'?" in item.text_content()
    page.screenshot(path=str(shots / "studio-template.png"))
    page.keyboard.type(" {{ company.")  # merge fields complete inside a template too
    page.locator(".cm-tooltip-autocomplete li", has_text="name").wait_for()
    page.wait_for_timeout(200)
    page.keyboard.press("Enter")
    assert "{{ company.name" in page.evaluate(
        "() => { const s = window.studio.view.state; return s.doc.lineAt(s.selection.main.head).text; }"
    )
    no_csp_violations(page)


# -- saving --------------------------------------------------------------------------------------


def test_a_save_conflict_shows_the_diff_and_lets_you_choose(site, browser, shots):
    studio, served = site
    name = "templates/tasks/kickoff-visit.md"
    path = studio.root / name
    original = path.read_text(encoding="utf-8")
    page = open_page(browser, served.url)
    edit(page, served.url, name)
    path.write_text(original + "\nIemand anders was eerder.\n", encoding="utf-8")
    page.evaluate(
        "() => { const v = window.studio.view; v.focus(); v.dispatch({selection: {anchor: v.state.doc.length}}); }"
    )
    page.keyboard.type("Mijn aanvulling.")
    assert page.text_content("#dirty") == "Niet bewaarde wijzigingen"
    page.keyboard.press("Control+s")
    panel = page.locator("#save-panel")
    panel.wait_for()
    assert panel.get_attribute("data-state") == "conflict"
    diff = panel.locator("pre.diff").text_content()
    assert "-Iemand anders was eerder." in diff and "+" in diff and "Mijn aanvulling." in diff
    assert path.read_text(encoding="utf-8").endswith("Iemand anders was eerder.\n")  # not overwritten
    page.screenshot(path=str(shots / "studio-conflict.png"))
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused == "Bewaar de mijne eroverheen"  # the choice has the focus
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('save-panel').hidden")
    assert path.read_text(encoding="utf-8") == original + "Mijn aanvulling."
    assert page.text_content("#git-word") == "niet vastgelegde wijzigingen"
    path.write_text(original, encoding="utf-8")
    no_csp_violations(page)


def test_saving_text_with_errors_asks_first(site, browser):
    studio, served = site
    page = editor(browser, served.url)
    put_cursor(page, THANKS_DAY)
    page.keyboard.type("x")
    page.click("#save")
    panel = page.locator("#save-panel")
    panel.wait_for()
    assert panel.get_attribute("data-state") == "problems" and "3x" in panel.text_content()
    assert page.text_content("#dirty") == "Niet bewaarde wijzigingen"  # nothing was saved
    page.click("text=Verder bewerken")
    assert panel.is_hidden() and "day: 3x" not in studio.journey_path.read_text(encoding="utf-8")


# -- keyboard only -------------------------------------------------------------------------------


def tab_until(page: Any, test: str, limit: int = 60, key: str = "Tab") -> None:
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!e && ({test}); }}"):
            return
    raise AssertionError(f"{key} never reached: {test}")


def test_everything_can_be_done_with_the_keyboard(site, browser, shots):
    studio, served = site
    page = open_page(browser, served.url)
    tab_until(page, "e.matches('ul.journeys a') && e.textContent.includes('De eerste 100 dagen')")
    page.keyboard.press("Enter")
    page.wait_for_selector("#editor[data-checked]")
    tab_until(page, "e.classList.contains('cm-content')")
    page.keyboard.press("Control+f")  # find "day: 3" with the editor's search, as anyone would
    page.keyboard.type("day: 3")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement.classList.contains('cm-content')")
    page.keyboard.press("End")
    before = checked(page)
    page.keyboard.type("x")
    wait_checked_after(page, before)
    page.keyboard.press("Escape")
    tab_until(page, "e.matches('#problems button.goto')")  # Esc, then Tab: out of the editor, to the list
    page.keyboard.press("Enter")  # back to the problem's line
    assert page.evaluate("() => document.activeElement.classList.contains('cm-content')")
    page.keyboard.press("End")
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    tab_until(page, "e.id === 'tab-timeline'")
    page.keyboard.press("ArrowRight")  # the Touch tab: the touch under the cursor, thank-you-letter
    assert page.evaluate("() => document.activeElement.id") == "tab-touch"
    page.wait_for_selector('#touch-card[data-touch="thank-you-letter"] img')
    page.keyboard.press("ArrowRight")  # Play
    tab_until(page, "e.matches('#holds input[value=\"thank-you-letter\"]')")
    page.keyboard.press("Space")
    tab_until(page, "e.matches('#play-form button[type=submit]')")
    page.keyboard.press("Enter")
    page.wait_for_selector('#play-result tr[data-touch="referral-letter"][data-event="waiting"]')
    page.screenshot(path=str(shots / "studio-keyboard-play.png"))
    no_csp_violations(page)


# -- accessibility and looks ----------------------------------------------------------------------


def axe_clean(page: Any, axe_js: str, what: str, shots: Path, viewport: dict[str, int]) -> list[str]:
    page.screenshot(path=str(shots / f"studio-{what}-{viewport['width']}.png"), full_page=True)
    return [
        f"{what}@{viewport['width']}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}" for v in audit(page, axe_js)
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["1366", "768"])
def test_axe_finds_nothing_in_any_view(site, browser, axe, shots, viewport):
    studio, served = site
    page = open_page(browser, served.url, viewport, for_axe=True)
    found = axe_clean(page, axe, "journeys", shots, viewport)
    edit(page, served.url)
    timeline(page).locator("button.mk").first.wait_for()
    found += axe_clean(page, axe, "timeline", shots, viewport)
    page.click("#tab-touch")
    put_cursor(page, "id: thank-you-letter")
    page.wait_for_selector('#touch-card[data-touch="thank-you-letter"] img')
    found += axe_clean(page, axe, "letter", shots, viewport)
    put_cursor(page, "id: next-steps-email")
    page.wait_for_selector('#touch-card[data-touch="next-steps-email"] iframe')
    found += axe_clean(page, axe, "email", shots, viewport)
    put_cursor(page, "id: kickoff-visit")
    page.wait_for_selector('#touch-card[data-touch="kickoff-visit"] .brief')
    found += axe_clean(page, axe, "task", shots, viewport)
    page.click("#tab-play")
    page.click("#play-form button[type=submit]")
    page.wait_for_selector("#play-result table")
    found += axe_clean(page, axe, "play", shots, viewport)
    page.click("#tab-flight")
    page.wait_for_selector("#flight-result section.version")
    found += axe_clean(page, axe, "flight", shots, viewport)
    page.click("#tab-deal")
    page.wait_for_selector("#deal-choice option", state="attached")
    found += axe_clean(page, axe, "deal", shots, viewport)
    put_cursor(page, THANKS_CHANNEL)
    before = checked(page)
    page.keyboard.type("x")
    wait_checked_after(page, before)
    page.click("#save")
    page.locator("#save-panel").wait_for()
    found += axe_clean(page, axe, "problems", shots, viewport)
    page.goto(f"{served.url}/studio/edit?file={TEMPLATE}")
    page.wait_for_selector("#editor[data-checked]")
    found += axe_clean(page, axe, "template", shots, viewport)
    stranger = open_page(browser, served.url, viewport, for_axe=True, token=False)
    assert "/studio/login" in stranger.url
    found += axe_clean(stranger, axe, "login", shots, viewport)
    assert not found, "\n".join(found)
