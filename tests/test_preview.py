"""`hundred preview`: every touch rendered for one customer, with an index page linking them."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import hundred_cli
from icalendar import Calendar
from pdftools import require_poppler

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=ROOT):
    return hundred_cli(*args, cwd=cwd)


@pytest.fixture(scope="module")
def dutch_preview(tmp_path_factory):
    out = tmp_path_factory.mktemp("preview-nl")
    done = run("preview", "journeys/first-100-days.yaml", "--deal", "examples/deal-nl.json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_every_touch_is_rendered_in_its_channels_form(dutch_preview):
    plan = json.loads(run("plan", "first-100-days", "--deal", "examples/deal-nl.json", "--json").stdout)
    suffixes = {"letter": [".pdf"], "email": [".html", ".txt"], "task": [".md", ".ics"]}
    for touch in plan["touches"]:
        for suffix in suffixes[touch["channel"]]:
            path = dutch_preview / f"{touch['touch']}{suffix}"
            assert path.exists() and path.stat().st_size > 0, path


def test_index_links_every_file_and_is_self_contained(dutch_preview):
    index = (dutch_preview / "index.html").read_text(encoding="utf-8")
    for path in dutch_preview.iterdir():
        if path.name not in ("index.html", ".hundred-preview.json"):
            attribute = "src" if path.suffix == ".png" else "href"  # a letter's thumbnail is shown, its PDF linked
            assert f'{attribute}="{path.name}"' in index, path.name
    assert not re.search(r"""(src|href)=["']https?://""", index)


def test_letter_pdf_reads_as_the_letter(dutch_preview):
    require_poppler()
    text = subprocess.run(
        ["pdftotext", "-layout", str(dutch_preview / "thank-you-letter.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Beste Ilse," in text
    assert re.search(r"8011 AB\s+ZWOLLE", text)  # PostNL format in the window
    assert "D-1042/thank-you-letter" in text  # the reference line that links paper to the ledger


def test_email_has_subject_and_both_parts(dutch_preview):
    txt = (dutch_preview / "next-steps-email.txt").read_text(encoding="utf-8")
    assert txt.startswith("To: ilse@example.nl\nSubject: ")
    assert "Ilse" in txt and "<" not in txt.split("\n\n", 1)[1]
    assert "<html" in (dutch_preview / "next-steps-email.html").read_text(encoding="utf-8").lower()


def test_task_invite_is_a_valid_calendar_event_at_the_planned_time(dutch_preview):
    cal = Calendar.from_ical((dutch_preview / "welcome-call.ics").read_bytes())
    event = next(iter(cal.walk("VEVENT")))
    assert str(event["uid"]) == "D-1042/first-100-days/welcome-call@hundred"
    assert event.decoded("dtstart").isoformat() == "2026-11-20T14:03:00+01:00"
    assert "Ilse" in str(event["summary"])
    assert (dutch_preview / "welcome-call.md").read_text(encoding="utf-8").startswith("# ")


def test_a_deal_without_address_fails_only_its_letters(tmp_path):
    deal = json.loads((ROOT / "examples" / "deal-nl.json").read_text())
    deal.pop("address")
    deal["contact"]["first_name"] = "{{ 7*7 }} <script>x</script>"
    (tmp_path / "deal.json").write_text(json.dumps(deal))
    out = tmp_path / "out"
    done = run("preview", "first-100-days", "--deal", str(tmp_path / "deal.json"), "--out", str(out))
    assert done.returncode == 1
    assert "thank-you-letter: the deal has no postal address" in done.stderr
    assert not (out / "thank-you-letter.pdf").exists()
    assert (out / "welcome-call.md").exists() and (out / "next-steps-email.html").exists()
    html = (out / "next-steps-email.html").read_text(encoding="utf-8")
    assert "{{ 7*7 }} &lt;script&gt;" in html and "<script>x" not in html
    assert "no postal address" in (out / "index.html").read_text(encoding="utf-8")


def test_webhook_touch_previews_its_json_body(make_journey, tmp_path):
    from hundred.deals.model import load_deal
    from hundred.reports.preview.render import render_preview
    from hundred.validation.validate import load_journey

    path = make_journey(
        "journey: hook\nname: Hook\nphases:\n  - phase: admit\n    touches:\n"
        "      - id: tell-crm\n        day: 0\n        channel: webhook\n"
        "        url: https://crm.example/hooks/onboarding\n"
    )
    journey, templates = load_journey(path)
    preview = render_preview(journey, load_deal(ROOT / "examples" / "deal-nl.json"), templates, tmp_path / "out")
    body = json.loads((tmp_path / "out" / "tell-crm.json").read_text())
    assert body["deal"] == "D-1042" and body["touch"] == "tell-crm" and body["phase"] == "admit"
    assert not preview.problems
