"""The timeline page in a real headless Chromium (Playwright on Debian's chromium): axe-core finds
no serious or critical problem in Dutch or English at tablet and desktop width, the page has its
main landmark, and the axis of a 30-, 100-, 200- or 365-day journey is readable: no two labels
overlap, every month name shown is whole (or not shown at all), nothing runs off the page."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from browser import DESKTOP, TABLET, audit, axe, browser  # noqa: F401 (fixtures)
from test_timeline_i18n import EN_DEAL, NL_DEAL, ROOT, long_journey

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def page_html(journey: Path, deal: Path, lang: str | None = None) -> str:
    """What `hundred plan JOURNEY --deal DEAL --html` writes (warnings, zones and all)."""
    from hundred.deals.model import load_deal
    from hundred.planning.planner import plan
    from hundred.reports.timeline.page import plan_zones, render_timeline_html
    from hundred.validation.validate import load_checked

    checked = load_checked(journey, lint=True)
    the_plan = plan(checked.journey, load_deal(deal))
    return render_timeline_html(the_plan.to_json(), warnings=checked.lint, lang=lang, **plan_zones(the_plan))


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("timeline-a11y")
    out = {
        "nl": page_html(ROOT / "journeys" / "first-100-days.yaml", NL_DEAL),
        "en": page_html(ROOT / "journeys" / "first-100-days-en.yaml", EN_DEAL),
    }
    for length in (30, 200, 365):
        journey = long_journey(root, length)
        out[f"nl-{length}"] = page_html(journey, NL_DEAL)
        out[f"en-{length}"] = page_html(journey, EN_DEAL, lang="en")
    out["nl-100"], out["en-100"] = out["nl"], out["en"]
    files = {}
    for name, html in out.items():
        files[name] = root / f"{name}.html"
        files[name].write_text(html, encoding="utf-8")
    return files


def open_page(browser: Any, path: Path, viewport: dict[str, int], shots: str | None = None) -> Any:
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    page.goto(path.resolve().as_uri())
    if shots:
        folder = Path(os.environ.get("HUNDRED_TEST_SCREENSHOTS") or path.parent)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"timeline-{shots}-{viewport['width']}.png"), full_page=True)
    return page


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
@pytest.mark.parametrize("name", ["nl", "en", "nl-365"])
def test_axe_finds_nothing_serious(browser, axe, pages, name, viewport):
    page = open_page(browser, pages[name], viewport, shots=name)
    try:
        violations = audit(page, axe)
    finally:
        page.context.close()
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    assert not [v for v in violations if v["id"] in ("landmark-one-main", "region", "html-has-lang", "html-lang-valid")]


# Every label the axis and the month row show, with its box, whether it is clipped, and its text.
_LABELS = """() => {
  const boxes = (selector) => Array.from(document.querySelectorAll(selector)).filter(e => {
      const s = getComputedStyle(e); const r = e.getBoundingClientRect();
      return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0;
    }).map(e => { const r = e.getBoundingClientRect();
      return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
              clipped: e.scrollWidth > e.clientWidth + 0.5}; });
  const month = Array.from(document.querySelectorAll('.month')).map(m => {
      const lab = m.querySelector('.mlab'); const r = m.getBoundingClientRect();
      const shown = Array.from(m.querySelectorAll('.mfull, .mabbr')).filter(e => getComputedStyle(e).display !== 'none');
      return {left: r.left, right: r.right, visible: getComputedStyle(lab).visibility !== 'hidden',
              clipped: lab.scrollWidth > lab.clientWidth + 0.5, name: shown.map(e => e.textContent).join('|'),
              nameRight: shown.length ? shown[0].getBoundingClientRect().right : 0}; });
  return {ticks: boxes('.tick span'), months: month, subs: boxes('.msub'),
          scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth};
}"""


def _clashes(boxes: list[dict], slack: float) -> list[tuple[str, str]]:
    """Every two boxes that overlap by more than `slack` px both across and down."""
    return [
        (a["text"], b["text"])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    ]


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    found = []
    ordered = sorted(boxes, key=lambda b: b["left"])
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a["right"] > b["left"] + 0.5 and a["bottom"] > b["top"] and b["bottom"] > a["top"]:
            found.append((a["text"], b["text"]))
    return found


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("length", [30, 100, 200, 365])
def test_the_axis_is_readable_at_any_length(browser, pages, length, lang, viewport):
    page = open_page(browser, pages[f"{lang}-{length}"], viewport, shots=f"{lang}-{length}" if length == 365 else None)
    try:
        seen = page.evaluate(_LABELS)
    finally:
        page.context.close()
    assert seen["scroll"] <= seen["width"], "the page scrolls sideways"
    ticks = seen["ticks"]
    assert 5 <= len(ticks) <= 11, [t["text"] for t in ticks]
    assert not _overlaps(ticks), _overlaps(ticks)
    assert not [t for t in ticks if t["clipped"]]
    locale = "nl_NL" if lang == "nl" else "en_US"
    months = [date(2026, m, 1) for m in range(1, 13)]
    long_names = {format_date(d, "LLLL", locale=locale) for d in months}
    short_names = {format_date(d, "LLL", locale=locale) for d in months}
    names = long_names | short_names
    shown = [m for m in seen["months"] if m["visible"]]
    assert len(shown) >= min(2, len(seen["months"]))
    for m in shown:
        assert not m["clipped"], m
        assert m["name"] in names, m  # a whole month name (full or CLDR's short one), never a cut-off one
        assert m["nameRight"] <= m["right"] + 0.5, m
    assert not _overlaps(seen["subs"])
    whole = [m for m in shown if m["right"] - m["left"] > 0 and m is not shown[0] and m is not shown[-1]]
    spelled = {m["name"] for m in whole} & (long_names - short_names)
    squeezed = {m["name"] for m in whole} & (short_names - long_names)
    assert not (spelled and squeezed), f"one style for the row, not {spelled} beside {squeezed}"


def test_the_365_day_axis_labels_every_50_days(pages):
    html = pages["nl-365"].read_text(encoding="utf-8")
    days = re.findall(r'<div class="tick" style="left:[\d.]+%"><span>([\d.]+)<small>', html)
    assert days == [str(n) for n in range(0, 366, 50)]
    assert "Onboardingplan van 365 dagen" in html


@pytest.mark.parametrize("viewport", [TABLET, DESKTOP], ids=["tablet", "desktop"])
@pytest.mark.parametrize("name", ["nl-365", "en-365", "nl-200"])
def test_warning_band_labels_never_cover_each_other(browser, pages, name, viewport):
    """A long journey stretched from the 100-day one has many silent stretches, some overlapping:
    each label stays inside its band, on a row of its own where bands overlap."""
    page = open_page(browser, pages[name], viewport)
    try:
        labels = page.evaluate("""() => Array.from(document.querySelectorAll('.warn-band-label')).map(e => {
            const r = e.getBoundingClientRect(), b = e.parentElement.getBoundingClientRect();
            return {text: e.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                    inside: r.left >= b.left - 0.5 && r.right <= b.right + 0.5}; })""")
    finally:
        page.context.close()
    assert len(labels) >= 3
    assert all(label["inside"] for label in labels), [label for label in labels if not label["inside"]]
    clashes = _clashes(labels, slack=0.5)
    assert not clashes, clashes


@pytest.mark.parametrize("name", ["nl", "en", "en-200", "nl-365"])
def test_markers_do_not_cover_each_other_at_tablet_width(browser, pages, name):
    """Touches a few days apart share a row only when their 24 px markers still clear each other
    on a tablet's narrow track; else the lane stacks them."""
    page = open_page(browser, pages[name], TABLET)
    try:
        boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.mk')).map(e => {
            const r = e.getBoundingClientRect();
            return {text: e.getAttribute('data-touch'), left: r.left, right: r.right, top: r.top, bottom: r.bottom}; })""")
    finally:
        page.context.close()
    assert len(boxes) >= 10
    clashes = _clashes(boxes, slack=1)
    assert not clashes, clashes
