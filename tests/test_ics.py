"""Task invites (.ics), parsed with the icalendar library: the event's time carries the journey's
TZID and the calendar a matching VTIMEZONE; DTSTAMP is the moment the invite was made (UTC);
DESCRIPTION is the brief as plain text. And a task brief has one title."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from hundred.deals.model import load_deal
from hundred.planning.planner import plan
from hundred.rendering import messages
from hundred.rendering.content import TaskContent
from hundred.rendering.invite import plain_text
from hundred.rendering.touch import render_touch
from hundred.validation.validate import load_journey

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 21, tzinfo=UTC)
CASES = [
    ("first-100-days.yaml", "deal-nl.json", "Europe/Amsterdam"),
    ("first-100-days-en.yaml", "deal-en.json", "America/New_York"),
]
MARKDOWN_NOISE = ("**", "##", "# ", "*activate*", "*Activate*", "  \n", "__")


def tasks(journey_file: str, deal_file: str, made_at: datetime | None = None) -> list[TaskContent]:
    journey, _ = load_journey(ROOT / "journeys" / journey_file)
    deal = load_deal(ROOT / "examples" / deal_file, now=NOW)
    return [
        render_touch(journey, deal, t.touch, t.due, ROOT / "templates", print_by=t.print_by, made_at=made_at)
        for t in plan(journey, deal).touches
        if t.channel == "task"
    ]


def event_of(ics: bytes):
    cal = Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")
    return cal, event


@pytest.mark.parametrize("journey_file, deal_file, zone", CASES)
def test_every_shipped_task_invite_has_its_zone_a_fresh_dtstamp_and_a_plain_description(journey_file, deal_file, zone):
    before = datetime.now(UTC)
    rendered = tasks(journey_file, deal_file)
    assert len(rendered) >= 8
    for task in rendered:
        cal, event = event_of(task.ics)
        assert event["DTSTART"].params["TZID"] == zone and event["DTEND"].params["TZID"] == zone
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == [zone]
        start = event.decoded("DTSTART")
        assert start == task.due and start.utcoffset() == task.due.astimezone(start.tzinfo).utcoffset()
        stamp = event.decoded("DTSTAMP")
        assert event["DTSTAMP"].to_ical().endswith(b"Z")  # UTC, as RFC 5545 wants it
        assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC) + timedelta(seconds=1)
        description = str(event["DESCRIPTION"])
        assert not any(noise in description for noise in MARKDOWN_NOISE), (task.key.touch, description)
        assert description.startswith(("Klant: ", "Customer: ")), description[:40]
        assert "\n- " in description  # talking points stay a list, one per line
        assert str(event["SUMMARY"]) == task.title


def test_the_runtime_stamps_the_invite_with_the_moment_it_runs():
    made = datetime(2026, 11, 20, 13, 3, 30, tzinfo=UTC)
    task = tasks(*CASES[0][:2], made_at=made)[0]
    _, event = event_of(task.ics)
    assert event.decoded("DTSTAMP") == made


def test_the_sent_invite_keeps_the_zone_and_is_stamped_when_sent():
    task = tasks(*CASES[0][:2], made_at=NOW)[1]
    sent_at = datetime(2026, 11, 23, 8, 0, 12, tzinfo=UTC)
    msg = messages.build_task_email(task, mail_from="hundred <hello@acme.nl>", now=sent_at)
    (part,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    cal, event = event_of(part.get_content().encode())
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert event.decoded("DTSTAMP") == sent_at
    assert "**" not in str(event["DESCRIPTION"]) and str(event["SUMMARY"]) == task.title


def test_plain_text_keeps_the_structure_and_drops_the_markers():
    brief = (
        "**Klant:** Ilse Jansen · tel. 06  \n**Deal:** D-1 · Hosting Pro\n\n## Doel\n"
        "Fase *activate*: bel `kort` na de start.\n\n## Gesprekspunten\n- Is alles *goed*?\n- Vragen?\n\n"
        "1. eerst\n2. dan\n"
    )
    assert plain_text(brief) == (
        "Klant: Ilse Jansen · tel. 06\nDeal: D-1 · Hosting Pro\n\nDoel\n"
        "Fase activate: bel kort na de start.\n\nGesprekspunten\n- Is alles goed?\n- Vragen?\n\n"
        "1. eerst\n2. dan"
    )


@pytest.mark.parametrize("journey_file, deal_file, zone", CASES)
def test_a_task_brief_has_one_title(journey_file, deal_file, zone):
    for task in tasks(journey_file, deal_file):
        lines = task.brief.splitlines()
        assert not any(line.startswith("# ") for line in lines), (task.key.touch, lines[0])
        assert task.title not in task.brief.splitlines()[0]


def test_a_template_with_its_own_heading_still_gives_one_title(tmp_path):
    (tmp_path / "journeys").mkdir()
    (tmp_path / "templates" / "tasks").mkdir(parents=True)
    (tmp_path / "templates" / "tasks" / "call.md").write_text(
        "# Bel {{ contact.first_name }} nu\n\nVraag hoe het gaat.\n"
    )
    (tmp_path / "journeys" / "j.yaml").write_text(
        "journey: j\nname: J\nlength: 10\ntimezone: Europe/Amsterdam\nlocale: nl_NL\n"
        "sender: {name: Sanne}\nphases:\n  - phase: admit\n    touches:\n      - {id: call, day: 0, channel: task, to: owner, "
        'title: "Bel {{ contact.first_name }}", template: tasks/call.md}\n',
        encoding="utf-8",
    )
    journey, _ = load_journey(tmp_path / "journeys" / "j.yaml", tmp_path / "templates")
    deal = load_deal(ROOT / "examples" / "deal-nl.json", now=NOW)
    item = plan(journey, deal).touches[0]
    task = render_touch(journey, deal, "call", item.due, tmp_path / "templates")
    assert task.title == "Bel Ilse" and task.brief == "Vraag hoe het gaat."
    _, event = event_of(task.ics)
    assert str(event["DESCRIPTION"]) == "Vraag hoe het gaat."


def test_invites_share_a_zone_but_each_covers_its_own_years_and_matches_icalendars_own_vtimezone():
    """The VTIMEZONE is built once per zone and year: an invite years later still gets the
    transitions of its own years, another zone its own, and the bytes are what icalendar's
    add_missing_timezones makes."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from hundred.planning.identity import TouchKey
    from hundred.rendering.invite import TZ_YEARS, calendar

    key = TouchKey("d-1", "j", "v1", "call")
    made = datetime(2026, 1, 1, tzinfo=UTC)
    for zone, year in [("Europe/Amsterdam", 2026), ("Europe/Amsterdam", 2031), ("America/New_York", 2026)]:
        start = datetime(year, 3, 30, 9, tzinfo=ZoneInfo(zone))
        made_twice = [calendar(key, title="Call", brief="Call them.", start=start, made_at=made) for _ in range(2)]
        assert made_twice[0] == made_twice[1]
        cal, _ = event_of(made_twice[0])
        (vtimezone,) = cal.walk("VTIMEZONE")
        assert str(vtimezone["TZID"]) == zone
        starts = {sub.decoded("DTSTART").year for sub in vtimezone.subcomponents}
        assert min(starts) == year - 1  # from the year before the event's, not a cached other year's
        reference = Calendar.from_ical(made_twice[0])
        reference.subcomponents = [c for c in reference.subcomponents if c.name != "VTIMEZONE"]
        reference.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + TZ_YEARS, 1, 1))
        assert reference.to_ical() == made_twice[0]
