"""The Coleman linter's warnings on the timeline page: a hatched band for a silence, a flag on a late
referral, the hint on hover and keyboard focus, text as well as colour, and the CSP still intact."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from browser import assert_not_blank, dump_dom, screenshot
from conftest import run_cli
from test_lint import sub
from test_timeline import _parse, sample_plan

from hundred.reports.timeline.page import render_timeline_html

SILENCE = {
    "severity": "warning",
    "rule": "silence",
    "file": "journeys/x.yaml",
    "line": 40,
    "col": 9,
    "message": "30 days without a customer-facing touch, from day 45 (Fri 16 Oct 2026, 'first-result-letter') "
    "to day 75 (Sun 15 Nov 2026, 'small-gift')",
    "hint": "customers leave when they stop hearing from you: add a touch around day 60",
    "mark": {"kind": "band", "from_day": 45, "to_day": 75, "from_touch": None, "to_touch": None},
}
REFERRAL = {
    "severity": "warning",
    "rule": "referral-late",
    "file": "journeys/x.yaml",
    "line": 50,
    "col": 19,
    "message": "referral touch 'referral-request' asks on day 20 <b>",
    "hint": "ask once the customer has a result",
    "mark": {"kind": "flag", "touch": "referral-request", "day": 20},
}
MISSING = {
    "severity": "warning",
    "rule": "phases",
    "file": "journeys/x.yaml",
    "line": 3,
    "col": 1,
    "message": "phase 'adopt' has no touch",
    "hint": "for example a needs check around day 60",
    "mark": {"kind": "phase", "phase": "adopt"},
}


@pytest.fixture(scope="module")
def page() -> str:
    plan = sample_plan()
    plan["phases"] = [p for p in plan["phases"] if p["phase"] != "adopt"]
    plan["touches"] = [t for t in plan["touches"] if t["phase"] != "adopt"]
    return render_timeline_html(plan, warnings=[SILENCE, REFERRAL, MISSING], lang="en")


def _tags(page: str, cls: str) -> list[dict]:
    return [a for _, a in _parse(page).tags if cls in a.get("class", "").split()]


def test_a_silence_is_a_focusable_band_with_its_hint(page):
    (band,) = _tags(page, "warn-band")
    assert band["tabindex"] == "0" and band["data-rule"] == "silence"
    assert band["aria-label"].startswith("Warning [silence], 30 days silent: 30 days without")
    tip = re.search(rf'id="{band["aria-describedby"]}" role="tooltip">(.*?)</span></div>', page).group(1)
    assert "add a touch around day 60" in tip and "day 45 to day 75" in tip
    assert "&#9888; 30 days silent" in page  # a label in words, not colour alone
    assert ".warn-band:focus .warn-tip" in page and ".warn-band:hover .warn-tip" in page


def test_a_late_referral_is_a_flag_on_its_touch(page):
    flags = _tags(page, "warn-flag")
    (flag,) = [f for f in flags if f.get("data-touch") == "referral-request"]
    assert flag["tabindex"] == "0" and flag["data-rule"] == "referral-late"
    (marker,) = [a for t, a in _parse(page).tags if t == "button" and a.get("data-touch") == "referral-request"]
    assert re.search(r"left:([\d.]+)%", flag["style"])[1] == re.search(r"left:([\d.]+)%", marker["style"])[1]
    assert "&lt;b&gt;" in page and "day 20 <b>" not in page  # the message is escaped
    assert '<li class="lintw">&#9888; [referral-late]' in page  # in the touch's notes too, without hovering


def test_a_missing_phase_gets_an_empty_lane_with_a_flag(page):
    assert "Adopt" in page
    (flag,) = [f for f in _tags(page, "warn-flag") if "lane" in f["class"].split()]
    assert flag["data-rule"] == "phases" and flag["tabindex"] == "0"


def test_every_warning_is_listed_in_words(page):
    listed = re.search(r'<div class="lint" role="region"(.*?)</div>', page, re.S).group(1)
    assert "3 warnings" in listed and listed.count('<li id="warn-') == 3
    assert "[silence]" in listed and "hint: ask once the customer has a result" in listed


def test_the_csp_still_admits_exactly_the_script(page):
    parsed = _parse(page)
    digest = base64.b64encode(hashlib.sha256("".join(parsed.script_text).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page and page.count("<script") == 1


def test_no_warnings_no_marks():
    html = render_timeline_html(sample_plan())
    assert 'class="warn-band' not in html and 'class="warn-flag' not in html and 'class="lint"' not in html


@pytest.fixture
def noisy(make_journey, tmp_path):
    text = sub(
        "      - {id: check-in, day: 78, channel: email, subject: Hi, template: emails/hello.html}\n",
        "",
        sub("{id: referral, day: 64,", "{id: referral, day: 25,"),
    )
    make_journey(text)
    deal = tmp_path / "deal.json"
    deal.write_text(
        (Path(__file__).resolve().parent.parent / "examples" / "deal-nl.json")
        .read_text()
        .replace('"journey": "first-100-days"', '"journey": "x"'),
        encoding="utf-8",
    )
    return deal


def test_plan_html_and_the_preview_index_mark_the_warnings(noisy, monkeypatch, capsys, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "plan", "journeys/x.yaml", "--deal", str(noisy), "--html", "plan.html")
    assert code == 0, err
    html = (tmp_path / "plan.html").read_text()
    assert 'data-rule="silence"' in html and 'data-rule="referral-late"' in html
    code, _, err = run_cli(monkeypatch, capsys, "preview", "journeys/x.yaml", "--deal", str(noisy), "--out", "pv")
    index = (tmp_path / "pv" / "index.html").read_text()
    assert 'data-rule="silence"' in index and 'data-touch="referral"' in index


def test_plan_json_is_unchanged_by_warnings(noisy, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "plan", "journeys/x.yaml", "--deal", str(noisy), "--json")
    assert code == 0 and "warn" not in out


@pytest.mark.browser
@pytest.mark.slow
def test_band_and_flag_in_chromium(noisy, monkeypatch, capsys, tmp_path):
    """Real Chromium: the page renders with its marks, the script still runs under the CSP, and a
    keyboard user reaches the band and the flag (they take focus; the hint is their description)."""
    run_cli(monkeypatch, capsys, "plan", "journeys/x.yaml", "--deal", str(noisy), "--html", "plan.html")
    html_file = tmp_path / "plan.html"
    png = screenshot(html_file, tmp_path / "lint.png", width=1400, height=1300)
    assert_not_blank(png)
    dom = dump_dom(html_file.resolve().as_uri())
    assert 'data-js="ready"' in dom
    probe = html_file.read_text()
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", probe).replace(
        "</body>",
        """<script>
var out = [];
document.querySelectorAll(".warn-band, .warn-flag").forEach(function (el) {
  el.focus();
  var tip = document.getElementById(el.getAttribute("aria-describedby"));
  // :focus (which shows the hint) matches only while the page has the window's focus, which a
  // headless Chromium on a busy machine does not always give it: then the hint must be reachable
  // as the element's description, and shown once the page is focused
  var shown = document.hasFocus() ? getComputedStyle(tip).display : (tip.textContent.trim() ? "block" : "empty");
  out.push(el.getAttribute("data-rule") + ":" + (document.activeElement === el) + ":" + shown);
});
document.body.setAttribute("data-probe", out.join("|"));
</script></body>""",
    )
    probe_file = tmp_path / "probe.html"
    probe_file.write_text(probe, encoding="utf-8")
    found = re.search(r'data-probe="([^"]*)"', dump_dom(probe_file.resolve().as_uri())).group(1).split("|")
    assert "silence:true:block" in found and "referral-late:true:block" in found, found
