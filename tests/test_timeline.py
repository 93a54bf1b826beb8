"""The HTML timeline page (hundred/reports/timeline/page.py): self-contained, complete, escaped, renders."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import assert_not_blank, browser, dump_dom, screenshot  # noqa: F401 (browser: a fixture)

from hundred.reports.timeline.page import render_timeline_html

START = date(2026, 11, 20)  # a Friday; CET (+01:00) for the whole journey
CET = timezone(timedelta(hours=1))


def _touch(
    tid,
    phase,
    channel,
    day,
    *,
    actual=None,
    at="09:00",
    title=None,
    notes=(),
    print_by=None,
    gated=None,
    when=None,
    description=None,
):
    d = START + timedelta(days=day if actual is None else actual)
    hh, mm = map(int, at.split(":"))
    due = datetime(d.year, d.month, d.day, hh, mm, tzinfo=CET)
    notes = list(notes)
    if actual is not None and actual != day:
        notes.insert(
            0,
            f"moved from {START + timedelta(days=day):%a} {(START + timedelta(days=day)).day}"
            f" {START + timedelta(days=day):%b}",
        )
    if print_by:
        notes.append(f"print by {print_by:%a} {print_by.day} {print_by:%b}")
    if gated:
        notes.append(f"waits for {gated}")
    return {
        "touch": tid,
        "phase": phase,
        "channel": channel,
        "day": day,
        "due": due.isoformat(),
        "due_utc": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "print_by": print_by.isoformat() if print_by else None,
        "gated_by": gated,
        "shifted_from": (START + timedelta(days=day)).isoformat() if actual not in (None, day) else None,
        "title": title or tid,
        "description": description,
        "when": when,
        "notes": notes,
    }


def sample_plan() -> dict:
    """A realistic plan: 17 touches over all eight phases, a moved one, letters, a gate."""
    touches = [
        _touch(
            "kickoff-brief",
            "assess",
            "task",
            0,
            at="14:03",
            title="Lees de verkoopnotities",
            notes=["at once (inside the send window)"],
        ),
        _touch(
            "welcome-call",
            "admit",
            "task",
            0,
            at="14:03",
            title="Bel Ilse om te feliciteren",
            description="Kort en persoonlijk; geen verkooppraatje.",
            notes=["at once (inside the send window)"],
        ),
        _touch(
            "welcome-email",
            "admit",
            "email",
            0,
            at="14:03",
            title="Welkom bij Voorbeeld, Ilse!",
            notes=["at once (inside the send window)"],
        ),
        _touch("crm-tag", "admit", "webhook", 0, at="14:03", title="POST crm/onboarding-started"),
        _touch("thank-you-letter", "affirm", "letter", 5, title="letters/thank-you.txt", print_by=date(2026, 11, 23)),
        _touch("onboarding-call", "affirm", "task", 7, title="Onboardinggesprek plannen"),
        _touch("check-in", "affirm", "email", 8, actual=10, title="Hoe bevalt het, Ilse?", when="deal.segment != 'C'"),
        _touch("training-invite", "activate", "email", 14, title="Uitnodiging: training"),
        _touch("crm-sync", "activate", "webhook", 14, title="POST crm/activate"),
        _touch("tips-email", "acclimate", "email", 21, title="Drie tips voor december"),
        _touch("usage-check", "acclimate", "task", 30, actual=31, title="Gebruik bekijken"),
        _touch(
            "holiday-card", "acclimate", "letter", 32, title="letters/holiday-card.txt", print_by=date(2026, 12, 18)
        ),
        _touch("milestone-email", "accomplish", "email", 45, title="Je eerste mijlpaal!"),
        _touch("qbr", "accomplish", "task", 60, title="Kwartaalgesprek voorbereiden"),
        _touch("power-tips", "adopt", "email", 70, title="Tips voor gevorderden"),
        _touch("nps", "adopt", "webhook", 80, title="POST nps/survey"),
        _touch(
            "referral-request",
            "advocate",
            "letter",
            75,
            title="letters/referral.txt",
            print_by=date(2027, 2, 1),
            gated="affirm",
            when="deal.segment != 'C'",
        ),
        _touch("review-request", "advocate", "email", 90, title="Wil je een review schrijven?", gated="affirm"),
        _touch(
            "anniversary-letter",
            "advocate",
            "letter",
            100,
            actual=101,
            title="letters/day-100.txt",
            print_by=date(2027, 2, 25),
            gated="affirm",
        ),
    ]
    phases = []
    for name in ("assess", "admit", "affirm", "activate", "acclimate", "accomplish", "adopt", "advocate"):
        days = [t["day"] for t in touches if t["phase"] == name]
        phases.append(
            {
                "phase": name,
                "label": name.capitalize(),
                "first_day": min(days),
                "last_day": max(days),
                "touches": len(days),
            }
        )
    return {
        "journey": "first-100-days",
        "deal": "D-1042",
        "name": "De eerste 100 dagen",
        "locale": "nl_NL",
        "timezone": "Europe/Amsterdam",
        "length": 100,
        "closed_at": "2026-11-20T14:03:00+01:00",
        "start_date": START.isoformat(),
        "customer": "Ilse Jansen · Bakkerij Jansen B.V.",
        "phases": phases,
        "closed_days": [
            {"date": "2026-12-25", "reason": "Eerste Kerstdag"},
            {"date": "2026-12-26", "reason": "Tweede Kerstdag"},
            {"date": "2027-01-01", "reason": "Nieuwjaarsdag"},
        ],
        "touches": touches,
    }


SAMPLE_LINKS = {
    "thank-you-letter": [("PDF", "thank-you-letter.pdf"), ("Text", "thank-you-letter.txt")],
    "welcome-email": [("Email preview", "emails/welcome-email.html")],
}


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def page() -> str:
    return render_timeline_html(sample_plan(), links=SAMPLE_LINKS, lang="en")


def test_self_contained(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<link\b", page, re.I)
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"@import|url\(", page, re.I)
    tags = _parse(page).tags
    assert not [a for t, a in tags if t in ("img", "iframe", "object", "embed", "source")]
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_csp_allows_exactly_the_inline_script(page):
    parsed = _parse(page)
    scripts = [a for t, a in parsed.tags if t == "script"]
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256("".join(parsed.script_text).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page


def test_every_touch_appears(page):
    plan = sample_plan()
    tags = _parse(page).tags
    markers = [a for t, a in tags if t == "button" and "mk" in a.get("class", "").split()]
    rows = [a for t, a in tags if t == "tr" and a.get("id", "").startswith("row-")]
    assert len(markers) == len(rows) == len(plan["touches"])
    assert {m["data-touch"] for m in markers} == {t["touch"] for t in plan["touches"]}
    for t in plan["touches"]:
        assert t["title"] in page
    for m in markers:  # accessible buttons, each describing itself and its details
        assert m["aria-label"] and m["type"] == "button"
        assert any(a.get("id") == m["aria-describedby"] for _t, a in tags)
    for name in ("Assess", "Admit", "Affirm", "Activate", "Acclimate", "Accomplish", "Adopt", "Advocate"):
        assert name in page
    for channel in ("Letter", "Email", "Task", "Webhook"):
        assert channel in page


def test_details_and_gate(page):
    assert "moved from Sat 28 Nov" in page
    assert "print by Mon 23 Nov" in page
    assert "deal.segment != &#39;C&#39;" in page  # the when: condition, escaped
    assert page.count('class="mk gated"') == 3
    assert "waits for Affirm" in page  # the gate line label
    assert "Eerste Kerstdag" in page and "Nieuwjaarsdag" in page
    assert "December" in page and "1 Dec · day 11" in page


def _style(attrs: dict, prop: str) -> float:
    return float(re.search(rf"{prop}:([\d.]+)", attrs["style"]).group(1))


def test_markers_by_actual_date_and_stacked(page):
    tags = _parse(page).tags
    mk = {a["data-touch"]: a for t, a in tags if t == "button" and "data-touch" in a}
    # check-in was planned for day 8 (Sat) and goes out on day 10: placed at day 10
    span = 102  # days 0..101 (the anniversary letter moved past day 100)
    assert _style(mk["check-in"], "left") == pytest.approx((10.5) / span * 100, abs=0.01)
    assert "8 planned · goes out on day 10" in page
    # same day, same phase: stacked, not overlapping
    assert _style(mk["welcome-call"], "left") == _style(mk["welcome-email"], "left")
    tops = {_style(mk[t], "top") for t in ("welcome-call", "welcome-email", "crm-tag")}
    assert len(tops) == 3
    assert _style(mk["training-invite"], "top") != _style(mk["crm-sync"], "top")


def test_links_shown_and_unsafe_hrefs_dropped():
    html = render_timeline_html(
        sample_plan(),
        links={
            **SAMPLE_LINKS,
            "nps": [("Evil", "javascript:alert(1)"), ("Far", "//evil.example/x"), ("Quote", 'a"b.pdf')],
        },
        lang="en",
    )
    hrefs = [a["href"] for t, a in _parse(html).tags if t == "a"]
    assert hrefs.count("thank-you-letter.pdf") == 2  # details card and table
    assert "emails/welcome-email.html" in hrefs and 'a"b.pdf' in hrefs
    assert not [h for h in hrefs if "javascript" in h or h.startswith("//")]
    assert ">Evil<" in html and ">Far<" in html  # shown as text, not as links
    assert html.count('<ul class="links" aria-label="Files">') == 3  # one per linked touch, in the table


def test_no_links_no_link_lists():
    assert 'class="links"' not in render_timeline_html(sample_plan())


def test_escaping_of_plan_data():
    evil = "<script>alert(1)</script>"
    plan = sample_plan()
    plan["name"] = evil
    plan["customer"] = "<img src=x onerror=alert(2)>"
    plan["deal"] = '"><svg onload=alert(3)>'
    plan["phases"][2]["label"] = "</style><script>alert(4)</script>"
    t = plan["touches"][4]
    t["touch"] = 'x" onmouseover="alert(5)'
    t["title"], t["description"], t["when"] = evil, "</textarea><b>bold</b>", "a < b && c > 'd'"
    t["notes"] = ["<i>note</i>", "waits for </script><script>alert(6)</script>"]
    plan["closed_days"][0]["reason"] = '"><script>alert(7)</script>'
    html = render_timeline_html(plan, title=None, links={'x" onmouseover="alert(5)': [(evil, "ok.pdf")]})
    parsed = _parse(html)
    assert len([1 for tag, _ in parsed.tags if tag == "script"]) == 1
    assert not [tag for tag, _ in parsed.tags if tag in ("img", "textarea")]
    assert "<b>bold" not in html and "&lt;b&gt;bold" in html and "&lt;i&gt;note" in html
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "alert" not in "".join(parsed.script_text)
    assert html.count("<script") == 1 and html.count("</script>") == 1
    marker = next(a for tag, a in parsed.tags if a.get("data-touch", "").startswith("x"))
    assert marker["data-touch"] == 'x" onmouseover="alert(5)'
    # title= overrides the page heading and is escaped too
    assert "&lt;b&gt;T&lt;/b&gt;" in render_timeline_html(plan, title="<b>T</b>")


def test_brief_example_and_sparse_plans():
    plan = {
        "journey": "j",
        "start_date": "2026-11-20",
        "length": 100,
        "phases": [{"phase": "assess", "label": "Assess", "first_day": 0, "last_day": 0, "touches": 0}],
        "touches": [
            {
                "touch": "referral-request",
                "phase": "advocate",
                "channel": "letter",
                "day": 75,
                "due": "...",
                "due_utc": "...",
                "print_by": "...",
                "gated_by": "affirm",
                "shifted_from": None,
                "title": "letters/referral.txt",
                "description": None,
                "when": "deal.segment != 'C'",
                "notes": ["waits for affirm"],
            },
            {"touch": "ping", "phase": "activate", "channel": "sms", "day": 3},
        ],
    }
    html = render_timeline_html(plan)
    assert "letters/referral.txt" in html and "Other" in html and "waits for affirm" in html
    assert "Wed 3 Feb 2027" in html  # no due: placed on start + day
    assert "<h1>j</h1>" in html
    empty = render_timeline_html({"start_date": "2026-01-05", "touches": []})
    assert "0 touches" in empty
    with pytest.raises(ValueError):
        render_timeline_html({"touches": []})


# ------------------------------------------------------------------------------- real browser
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", [1400, 1024])
def test_renders_in_chromium(tmp_path, page, width):
    html_file = tmp_path / "plan.html"
    html_file.write_text(page, encoding="utf-8")
    png = screenshot(html_file, tmp_path / f"plan-{width}.png", width=width, height=1000)
    assert png.stat().st_size > 10_000
    assert_not_blank(png)


@pytest.mark.browser
@pytest.mark.slow
def test_script_runs_under_csp_in_chromium(tmp_path, page):
    html_file = tmp_path / "plan.html"
    html_file.write_text(page, encoding="utf-8")
    dom = dump_dom(html_file.resolve().as_uri() + "#touch=thank-you-letter")
    assert 'data-js="ready"' in dom  # the CSP hash admits the script and it ran without errors
    assert 'aria-expanded="true"' in dom  # the deep-linked touch opened its details
    assert re.search(r'class="pop pinned"[^>]*>', dom) and "Thu 19 Nov" not in dom


@pytest.mark.browser
@pytest.mark.slow
def test_keyboard_details_in_chromium(tmp_path, page, browser):
    """Markers are reachable and the details open, pin, close and move with the keyboard: real key
    presses under Playwright, whose page has focus (a page without it gets no focus events)."""
    html_file = tmp_path / "plan.html"
    html_file.write_text(page, encoding="utf-8")
    tab = browser.new_page()
    try:
        tab.goto(html_file.resolve().as_uri())
        tab.wait_for_selector('[data-js="ready"]', state="attached")

        def note(label: str) -> str:
            return (
                label
                + ":"
                + tab.evaluate(
                    """() => {
                  const a = document.activeElement, pop = document.getElementById("tl-pop");
                  return (pop.hidden ? "hidden" : "shown") + ":" + (a.getAttribute("data-touch") || a.className)
                    + ":" + (a.getAttribute("aria-expanded") || "-");
                }"""
                )
            )

        tab.focus(".mk")
        probe = [note("focus")]
        for label, key in (("right", "ArrowRight"), ("enter", "Enter"), ("escape", "Escape"), ("end", "End")):
            tab.keyboard.press(key)
            probe.append(note(label))
        tab.keyboard.press("Escape")
        probe.append(note("escape2"))
    finally:
        tab.close()
    assert probe == [
        "focus:shown:kickoff-brief:false",
        "right:shown:welcome-call:false",
        "enter:shown:pop-close:-",  # pinned: focus moves into the details, close button first
        "escape:shown:welcome-call:false",  # unpinned, focus back on the marker (details follow focus)
        "end:shown:anniversary-letter:false",
        "escape2:hidden:anniversary-letter:false",
    ], probe


@pytest.mark.browser
@pytest.mark.slow
def test_shipped_journey_timeline_opens_in_chromium(tmp_path):
    """What a marketer does: `hundred plan ... --html`, then open the page in a browser."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    html_file = tmp_path / "plan.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "hundred.cli",
            "plan",
            "first-100-days",
            "--deal",
            "examples/deal-nl.json",
            "--html",
            str(html_file),
        ],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    dom = dump_dom(html_file.as_uri())
    for touch in ("welcome-call", "thank-you-letter", "referral-letter", "hundred-days-email"):
        assert touch in dom
    assert "De eerste 100 dagen" in dom
    assert_not_blank(screenshot(html_file, tmp_path / "plan.png"))
