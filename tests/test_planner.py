"""The planner: when each touch happens for one customer (planner.py's timing rules, the gate among them).

Each test uses a small journey made for it and a deal with a chosen close moment; the expected
dates were worked out by hand on a calendar, and the comment beside each says how. Times are
compared as ISO strings with their offset, because two aware datetimes for the same instant are
equal in Python even when one says +01:00 and the other +02:00.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import email, journey_yaml, letter, phase, task

from hundred.planning.planner import plan
from hundred.validation.validate import load_journey


def plan_json(make_journey, text: str, deal) -> dict:
    journey, _ = load_journey(make_journey(text))
    return plan(journey, deal).to_json()


def touches(make_journey, text: str, deal) -> dict[str, dict]:
    return {t["touch"]: t for t in plan_json(make_journey, text, deal)["touches"]}


def when(t: dict) -> tuple[str, str]:
    return t["due"], t["due_utc"]


DAY0 = journey_yaml(phase("admit", task("call", 0), email("hello", 0)))


# --------------------------------------------------------------------------------------------
# Day 0 and the send window (09:00-17:00 by default)
# --------------------------------------------------------------------------------------------


def test_day0_inside_the_window_goes_at_once(make_journey, make_deal):
    # Fri 20 Nov 2026 14:03 Amsterdam is inside 09:00-17:00: the call and the email go now
    t = touches(make_journey, DAY0, make_deal("2026-11-20T14:03:00+01:00"))
    for tid in ("call", "hello"):
        assert when(t[tid]) == ("2026-11-20T14:03:00+01:00", "2026-11-20T13:03:00Z")
        assert t[tid]["shifted_from"] is None
        assert any("at once" in n for n in t[tid]["notes"])


def test_day0_inside_a_custom_window(make_journey, make_deal):
    # window 08:00-20:00: a close at 18:30 is still inside it
    text = journey_yaml(phase("admit", email("hello", 0)), head='send_window: "08:00-20:00"')
    t = touches(make_journey, text, make_deal("2026-11-18T18:30:00+01:00"))
    assert t["hello"]["due"] == "2026-11-18T18:30:00+01:00"


def test_day0_after_hours_goes_first_thing_next_open_day(make_journey, make_deal):
    # Wed 18 Nov 2026 18:30 is after 17:00: Thu 19 Nov at 09:00
    t = touches(make_journey, DAY0, make_deal("2026-11-18T18:30:00+01:00"))
    for tid in ("call", "hello"):
        assert when(t[tid]) == ("2026-11-19T09:00:00+01:00", "2026-11-19T08:00:00Z")
        assert t[tid]["shifted_from"] == "2026-11-18"


def test_day0_friday_evening_goes_on_monday(make_journey, make_deal):
    # Fri 20 Nov 2026 18:00: Sat and Sun are closed, so Mon 23 Nov at 09:00
    t = touches(make_journey, DAY0, make_deal("2026-11-20T18:00:00+01:00"))
    for tid in ("call", "hello"):
        assert t[tid]["due"] == "2026-11-23T09:00:00+01:00"
        assert any("Mon 23 Nov" in n for n in t[tid]["notes"])


def test_day0_before_the_window_goes_at_its_start_the_same_day(make_journey, make_deal):
    # Fri 20 Nov 2026 07:15 is before 09:00: the same day at 09:00, not moved to another day
    t = touches(make_journey, DAY0, make_deal("2026-11-20T07:15:00+01:00"))
    for tid in ("call", "hello"):
        assert when(t[tid]) == ("2026-11-20T09:00:00+01:00", "2026-11-20T08:00:00Z")
        assert t[tid]["shifted_from"] is None


def test_deal_closed_on_saturday_starts_on_monday(make_journey, make_deal):
    # Sat 21 Nov 2026 10:00: day 0 is a weekend day, so Mon 23 Nov at 09:00
    t = touches(make_journey, DAY0, make_deal("2026-11-21T10:00:00+01:00"))
    for tid in ("call", "hello"):
        assert t[tid]["due"] == "2026-11-23T09:00:00+01:00"
        assert t[tid]["shifted_from"] == "2026-11-21"


# --------------------------------------------------------------------------------------------
# Closed days: weekends, Dutch public holidays, `closed:` dates
# --------------------------------------------------------------------------------------------


def test_weekend_days_move_to_monday_and_say_so(make_journey, make_deal):
    # close Fri 20 Nov 2026: day 1 = Sat 21, day 2 = Sun 22 -> Mon 23; day 3 = Mon 23 stays
    text = journey_yaml(phase("affirm", email("sat", 1), email("sun", 2), email("mon", 3)))
    t = touches(make_journey, text, make_deal("2026-11-20T14:03:00+01:00"))
    assert t["sat"]["due"] == t["sun"]["due"] == t["mon"]["due"] == "2026-11-23T09:00:00+01:00"
    assert (t["sat"]["shifted_from"], t["sun"]["shifted_from"], t["mon"]["shifted_from"]) == (
        "2026-11-21",
        "2026-11-22",
        None,
    )
    assert "moved from Sat 21 Nov (weekend)" in t["sat"]["notes"]


HOLIDAYS = journey_yaml(
    phase(
        "affirm",
        email("easter-monday", 7),
        email("kings-day", 28),
        email("ascension", 45),
        email("whit-monday", 56),
        email("christmas", 270),
        email("boxing-day", 271),
    ),
    head="length: 300\ncalendar:\n  workdays: [mon, tue, wed, thu, fri, sat]\n  holidays: NL",
)


def test_dutch_holidays_move_touches_to_the_next_open_day(make_journey, make_deal):
    # close Mon 30 Mar 2026 10:00 (summer time since Sun 29 Mar); a six-day week, so that
    # Sat 26 Dec is closed only because it is a holiday:
    #   day 7   Mon 6 Apr  Tweede paasdag      -> Tue 7 Apr
    #   day 28  Mon 27 Apr Koningsdag          -> Tue 28 Apr
    #   day 45  Thu 14 May Hemelvaartsdag      -> Fri 15 May
    #   day 56  Mon 25 May Tweede pinksterdag  -> Tue 26 May
    #   day 270 Fri 25 Dec Eerste kerstdag, Sat 26 Dec Tweede kerstdag, Sun not a workday -> Mon 28 Dec
    #   day 271 Sat 26 Dec                     -> Mon 28 Dec
    t = touches(make_journey, HOLIDAYS, make_deal("2026-03-30T10:00:00+02:00"))
    expected = {
        "easter-monday": ("2026-04-06", "2026-04-07T09:00:00+02:00"),
        "kings-day": ("2026-04-27", "2026-04-28T09:00:00+02:00"),
        "ascension": ("2026-05-14", "2026-05-15T09:00:00+02:00"),
        "whit-monday": ("2026-05-25", "2026-05-26T09:00:00+02:00"),
        "christmas": ("2026-12-25", "2026-12-28T09:00:00+01:00"),
        "boxing-day": ("2026-12-26", "2026-12-28T09:00:00+01:00"),
    }
    got = {tid: (t[tid]["shifted_from"], t[tid]["due"]) for tid in expected}
    assert got == expected
    assert "moved from Mon 27 Apr (Koningsdag)" in t["kings-day"]["notes"]


def test_plan_lists_the_holidays_it_met(make_journey, make_deal):
    data = plan_json(make_journey, HOLIDAYS, make_deal("2026-03-30T10:00:00+02:00"))
    closed = {d["date"]: d["reason"] for d in data["closed_days"]}
    assert closed["2026-04-27"] == "Koningsdag"
    assert {"2026-04-06", "2026-05-14", "2026-05-25", "2026-12-25", "2026-12-26"} <= set(closed)


def test_without_holidays_a_holiday_is_an_ordinary_day(make_journey, make_deal):
    # no `holidays:` key: Koningsdag (Mon 27 Apr 2026) is a normal Monday
    text = journey_yaml(phase("affirm", email("kings-day", 28)))
    t = touches(make_journey, text, make_deal("2026-03-30T10:00:00+02:00"))
    assert t["kings-day"]["due"] == "2026-04-27T09:00:00+02:00" and t["kings-day"]["shifted_from"] is None


def test_closed_dates_move_touches(make_journey, make_deal):
    # close Mon 7 Dec 2026; `closed:` Tue 8 Dec and Thu 24 Dec
    #   day 1  Tue 8 Dec (closed)                                        -> Wed 9 Dec
    #   day 17 Thu 24 Dec (closed), Fri 25 Eerste kerstdag, Sat, Sun    -> Mon 28 Dec
    text = journey_yaml(
        phase("affirm", email("tuesday", 1), email("christmas-eve", 17)),
        head="calendar:\n  holidays: NL\n  closed: [2026-12-08, 2026-12-24]",
    )
    t = touches(make_journey, text, make_deal("2026-12-07T10:00:00+01:00"))
    assert (t["tuesday"]["shifted_from"], t["tuesday"]["due"]) == ("2026-12-08", "2026-12-09T09:00:00+01:00")
    assert (t["christmas-eve"]["shifted_from"], t["christmas-eve"]["due"]) == (
        "2026-12-24",
        "2026-12-28T09:00:00+01:00",
    )
    assert "moved from Thu 24 Dec (closed)" in t["christmas-eve"]["notes"]


def test_custom_workdays(make_journey, make_deal):
    # a shop open Tue-Sat: close Mon 2 Nov 2026 at 10:00 (a Monday, closed) -> day 0 goes Tue 3 Nov;
    # day 5 = Sat 7 Nov is open; day 6 = Sun 8 Nov and Mon 9 Nov are closed -> Tue 10 Nov
    text = journey_yaml(
        phase("admit", email("hello", 0)),
        phase("affirm", email("sat", 5), email("sun", 6)),
        head="calendar:\n  workdays: [tue, wed, thu, fri, sat]",
    )
    t = touches(make_journey, text, make_deal("2026-11-02T10:00:00+01:00"))
    assert t["hello"]["due"] == "2026-11-03T09:00:00+01:00"
    assert t["sat"]["due"] == "2026-11-07T09:00:00+01:00"
    assert t["sun"]["due"] == "2026-11-10T09:00:00+01:00"


# --------------------------------------------------------------------------------------------
# Letters: `day` is the arrival day; print by the lead_days-th open day before it
# --------------------------------------------------------------------------------------------


def letter_journey(day: int, lead_days: int = 2) -> str:
    return journey_yaml(
        phase("affirm", letter("thanks", day)), head=f"calendar:\n  holidays: NL\nletters:\n  lead_days: {lead_days}"
    )


def test_letter_print_by_product_example(make_journey, make_deal):
    # arrive Tue 6 Jan 2026 with lead_days 2 -> print by Fri 2 Jan 2026
    # (open days before Tue 6 Jan: Mon 5 Jan is the 1st, Fri 2 Jan the 2nd).
    # Close Mon 1 Dec 2025: 30 days to Wed 31 Dec, so Tue 6 Jan 2026 is day 36.
    t = touches(make_journey, letter_journey(36), make_deal("2025-12-01T10:00:00+01:00"))
    assert t["thanks"]["due"] == "2026-01-06T09:00:00+01:00"
    assert t["thanks"]["print_by"] == "2026-01-02"
    assert t["thanks"]["shifted_from"] is None
    assert "print by Fri 2 Jan (domestic: 2 business days)" in t["thanks"]["notes"]


def test_letter_print_by_skips_new_year(make_journey, make_deal):
    # same letter with lead_days 3: Mon 5 Jan (1), Fri 2 Jan (2), Thu 1 Jan is Nieuwjaarsdag,
    # so the 3rd open day before is Wed 31 Dec 2025
    t = touches(make_journey, letter_journey(36, lead_days=3), make_deal("2025-12-01T10:00:00+01:00"))
    assert t["thanks"]["print_by"] == "2025-12-31"


def test_letter_arriving_on_a_weekend_arrives_monday(make_journey, make_deal):
    # close Mon 2 Nov 2026; day 12 = Sat 14 Nov -> arrives Mon 16 Nov; print by Thu 12 Nov
    # (Fri 13 is the 1st open day before Mon 16, Thu 12 the 2nd)
    t = touches(make_journey, letter_journey(12), make_deal("2026-11-02T10:00:00+01:00"))
    assert (t["thanks"]["due"], t["thanks"]["print_by"], t["thanks"]["shifted_from"]) == (
        "2026-11-16T09:00:00+01:00",
        "2026-11-12",
        "2026-11-14",
    )


def test_letter_that_cannot_make_it_prints_on_close_day_and_arrives_late(make_journey, make_deal):
    # close Fri 20 Nov 2026 09:30, before the 10:00 batch; day 3 = Mon 23 Nov; 2 open days before
    # is Thu 19 Nov, before the deal closed. It prints in Fri 20 Nov's batch (the close day) and,
    # two open days later (Mon 23, Tue 24), arrives Tue 24 Nov: a day late, and the notes say so.
    # (A close after the cut-off: tests/test_transit.py.)
    t = touches(make_journey, letter_journey(3), make_deal("2026-11-20T09:30:00+01:00"))
    letter_ = t["thanks"]
    assert letter_["print_by"] == "2026-11-20"
    assert letter_["due"] == "2026-11-24T09:00:00+01:00"
    assert letter_["shifted_from"] == "2026-11-23"
    assert any("late" in n and "Tue 24 Nov" in n for n in letter_["notes"])


def test_a_late_letters_notes_carry_their_dates_as_dates(make_journey, make_deal):
    # the letter above: the pages take its dates from the notes' values, never from their English
    from datetime import date

    from hundred.planning.notes import LATE_FIRST, PRINT_BY

    journey, _ = load_journey(make_journey(letter_journey(3)))
    item = plan(journey, make_deal("2026-11-20T09:30:00+01:00")).touches[0]
    late, print_by = item.notes
    assert (late.kind, dict(late.values)) == (LATE_FIRST, {"day": date(2026, 11, 24), "first": date(2026, 11, 20)})
    assert (print_by.kind, print_by.values["day"], print_by.values["transit"]) == (
        PRINT_BY,
        item.print_by,
        ("domestic", 2),
    )
    assert item.to_json()["notes"] == [
        "late: arrives Tue 24 Nov (the first batch it can make is Fri 20 Nov)",
        "print by Fri 20 Nov (domestic: 2 business days)",
    ]


def test_letter_closed_on_saturday_prints_monday(make_journey, make_deal):
    # close Sat 21 Nov 2026; day 3 = Tue 24 Nov; 2 open days before is Fri 20 Nov, before the close.
    # Printing starts on the first open day, Mon 23 Nov; arrives Wed 25 Nov (Tue 24, Wed 25)
    t = touches(make_journey, letter_journey(3), make_deal("2026-11-21T10:00:00+01:00"))
    assert (t["thanks"]["print_by"], t["thanks"]["due"]) == ("2026-11-23", "2026-11-25T09:00:00+01:00")


def test_letter_with_time_to_spare_is_not_late(make_journey, make_deal):
    # close Fri 20 Nov 2026; day 5 = Wed 25 Nov; print by Mon 23 Nov (Tue 24 is the 1st, Mon 23 the 2nd)
    t = touches(make_journey, letter_journey(5), make_deal("2026-11-20T14:03:00+01:00"))
    assert (t["thanks"]["print_by"], t["thanks"]["due"]) == ("2026-11-23", "2026-11-25T09:00:00+01:00")
    assert not any("late" in n for n in t["thanks"]["notes"])


def test_non_letters_have_no_print_by(make_journey, make_deal):
    t = touches(make_journey, DAY0, make_deal())
    assert t["call"]["print_by"] is None and t["hello"]["print_by"] is None


# --------------------------------------------------------------------------------------------
# Daylight saving time and other zones
# --------------------------------------------------------------------------------------------


def test_spring_dst_in_amsterdam(make_journey, make_deal):
    # close Mon 23 Mar 2026; EU clocks go forward Sun 29 Mar 2026:
    # day 4 = Fri 27 Mar 09:00 CET (+01:00) = 08:00Z; day 7 = Mon 30 Mar 09:00 CEST (+02:00) = 07:00Z
    text = journey_yaml(phase("affirm", email("before", 4), email("after", 7)))
    t = touches(make_journey, text, make_deal("2026-03-23T10:00:00+01:00"))
    assert when(t["before"]) == ("2026-03-27T09:00:00+01:00", "2026-03-27T08:00:00Z")
    assert when(t["after"]) == ("2026-03-30T09:00:00+02:00", "2026-03-30T07:00:00Z")


def test_autumn_dst_in_amsterdam(make_journey, make_deal):
    # close Mon 19 Oct 2026; EU clocks go back Sun 25 Oct 2026:
    # day 4 = Fri 23 Oct 09:00 +02:00 = 07:00Z; day 7 = Mon 26 Oct 09:00 +01:00 = 08:00Z
    text = journey_yaml(phase("affirm", email("before", 4), email("after", 7)))
    t = touches(make_journey, text, make_deal("2026-10-19T10:00:00+02:00"))
    assert when(t["before"]) == ("2026-10-23T09:00:00+02:00", "2026-10-23T07:00:00Z")
    assert when(t["after"]) == ("2026-10-26T09:00:00+01:00", "2026-10-26T08:00:00Z")


ZONES = journey_yaml(
    phase("admit", email("hello", 0)),
    phase("affirm", email("friday", 4), email("monday", 7), task("call", 7), task("call-friday", 4)),
)


def test_new_york_contact_spring_us_dst(make_journey, make_deal):
    # close Mon 2 Mar 2026 15:00 Amsterdam = 14:00Z = 09:00 EST in New York (inside the window).
    # US clocks go forward Sun 8 Mar 2026, three weeks before Europe's (29 Mar):
    #   email day 0: at once, 09:00 -05:00
    #   email day 4 = Fri 6 Mar 09:00 EST (-05:00) = 14:00Z
    #   email day 7 = Mon 9 Mar 09:00 EDT (-04:00) = 13:00Z
    #   task day 7 stays in the journey's zone: Mon 9 Mar 09:00 CET (+01:00) = 08:00Z
    t = touches(make_journey, ZONES, make_deal("2026-03-02T15:00:00+01:00", contact_tz="America/New_York"))
    assert when(t["hello"]) == ("2026-03-02T09:00:00-05:00", "2026-03-02T14:00:00Z")
    assert when(t["friday"]) == ("2026-03-06T09:00:00-05:00", "2026-03-06T14:00:00Z")
    assert when(t["monday"]) == ("2026-03-09T09:00:00-04:00", "2026-03-09T13:00:00Z")
    assert when(t["call"]) == ("2026-03-09T09:00:00+01:00", "2026-03-09T08:00:00Z")


def test_new_york_contact_autumn_us_dst(make_journey, make_deal):
    # close Mon 26 Oct 2026 15:00 Amsterdam (CET since 25 Oct) = 14:00Z = 10:00 EDT.
    # US clocks go back Sun 1 Nov 2026, a week after Europe's:
    #   email day 4 = Fri 30 Oct 09:00 EDT (-04:00) = 13:00Z
    #   email day 7 = Mon 2 Nov 09:00 EST (-05:00) = 14:00Z
    #   task day 4 = Fri 30 Oct 09:00 CET (+01:00) = 08:00Z
    t = touches(make_journey, ZONES, make_deal("2026-10-26T15:00:00+01:00", contact_tz="America/New_York"))
    assert when(t["friday"]) == ("2026-10-30T09:00:00-04:00", "2026-10-30T13:00:00Z")
    assert when(t["monday"]) == ("2026-11-02T09:00:00-05:00", "2026-11-02T14:00:00Z")
    assert when(t["call-friday"]) == ("2026-10-30T09:00:00+01:00", "2026-10-30T08:00:00Z")


def test_day0_is_the_close_date_in_the_contacts_zone(make_journey, make_deal):
    # close Tue 10 Mar 2026 02:00 Amsterdam = 01:00Z = Mon 9 Mar 21:00 EDT in New York.
    #   email day 0: New York's day 0 is Mon 9 Mar, 21:00 is after hours -> Tue 10 Mar 09:00 -04:00
    #   email day 7: Mon 9 Mar + 7 = Mon 16 Mar 09:00 -04:00
    #   task day 0:  Amsterdam's day 0 is Tue 10 Mar, 02:00 is before hours -> Tue 10 Mar 09:00 +01:00
    #   task day 7:  Tue 10 Mar + 7 = Tue 17 Mar 09:00 +01:00
    text = journey_yaml(
        phase("admit", email("hello", 0), task("call", 0)),
        phase("affirm", email("monday", 7), task("tuesday", 7), letter("thanks", 3)),
    )
    t = touches(make_journey, text, make_deal("2026-03-10T02:00:00+01:00", contact_tz="America/New_York"))
    assert when(t["hello"]) == ("2026-03-10T09:00:00-04:00", "2026-03-10T13:00:00Z")
    assert t["hello"]["shifted_from"] == "2026-03-09"
    assert when(t["monday"]) == ("2026-03-16T09:00:00-04:00", "2026-03-16T13:00:00Z")
    assert when(t["call"]) == ("2026-03-10T09:00:00+01:00", "2026-03-10T08:00:00Z")
    assert t["tuesday"]["due"] == "2026-03-17T09:00:00+01:00"
    # the letter follows the contact too: day 3 = Thu 12 Mar in New York, printed by Tue 10 Mar
    assert (t["thanks"]["due"], t["thanks"]["print_by"]) == ("2026-03-12T09:00:00-04:00", "2026-03-10")


def test_contact_without_zone_uses_the_journeys(make_journey, make_deal):
    # journey in London, contact without a zone: close Fri 20 Nov 2026 13:03 GMT;
    # email day 3 = Mon 23 Nov 09:00 +00:00
    text = journey_yaml(phase("affirm", email("hello", 3)), head="timezone: Europe/London")
    t = touches(make_journey, text, make_deal("2026-11-20T14:03:00+01:00", contact_tz=None))
    assert when(t["hello"]) == ("2026-11-23T09:00:00+00:00", "2026-11-23T09:00:00Z")


# --------------------------------------------------------------------------------------------
# `at:` and the window start
# --------------------------------------------------------------------------------------------


def test_at_overrides_the_window_start(make_journey, make_deal):
    # close Fri 20 Nov 2026; day 3 = Mon 23 Nov. Email at 10:30, task at 16:45; an unquoted
    # time (`at: 11:15`) means the same as a quoted one
    text = journey_yaml(
        phase(
            "affirm",
            email("mail", 3, 'at: "10:30"\n'),
            task("call", 3, 'at: "16:45"\n'),
            email("plain", 3, "at: 11:15\n"),
        )
    )
    t = touches(make_journey, text, make_deal("2026-11-20T14:03:00+01:00"))
    assert t["mail"]["due"] == "2026-11-23T10:30:00+01:00"
    assert t["call"]["due"] == "2026-11-23T16:45:00+01:00"
    assert t["plain"]["due"] == "2026-11-23T11:15:00+01:00"


def test_touches_go_at_the_start_of_a_custom_window(make_journey, make_deal):
    text = journey_yaml(phase("affirm", email("mail", 3)), head='send_window: "08:15-16:00"')
    t = touches(make_journey, text, make_deal("2026-11-20T14:03:00+01:00"))
    assert t["mail"]["due"] == "2026-11-23T08:15:00+01:00"


# --------------------------------------------------------------------------------------------
# The affirm gate
# --------------------------------------------------------------------------------------------


def test_advocate_and_referral_touches_are_gated_by_affirm(make_journey, make_deal):
    text = journey_yaml(
        phase("admit", task("call", 0)),
        phase("affirm", letter("thanks", 3)),
        phase("activate", email("ask", 40, "referral: true\n"), task("kickoff", 40)),
        phase("advocate", task("review", 95), email("bye", 100)),
    )
    t = touches(make_journey, text, make_deal())
    assert {tid: x["gated_by"] for tid, x in t.items()} == {
        "call": None,
        "thanks": None,
        "ask": "affirm",
        "kickoff": None,
        "review": "affirm",
        "bye": "affirm",
    }


GATE = journey_yaml(
    phase("affirm", letter("thanks", 10)),
    phase("activate", email("ask", 5, "referral: true\n")),
    phase("advocate", task("review", 20)),
    head="calendar:\n  holidays: NL",
)


def test_gated_touch_waits_one_open_day_after_affirm_completes(make_journey, make_deal):
    # close Mon 2 Nov 2026 10:00. The only affirm touch is a letter arriving day 10 = Thu 12 Nov,
    # printed by Tue 10 Nov: it counts as complete on its print_by day, Tue 10 Nov, so the gate
    # opens one open day later, Wed 11 Nov.
    #   ask (referral) day 5 = Sat 7 Nov -> Mon 9 Nov, before the gate -> Wed 11 Nov 09:00
    #   review (advocate) day 20 = Sun 22 Nov -> Mon 23 Nov, after the gate: stays
    t = touches(make_journey, GATE, make_deal("2026-11-02T10:00:00+01:00"))
    assert t["thanks"]["print_by"] == "2026-11-10"
    assert t["ask"]["due"] == "2026-11-11T09:00:00+01:00"
    assert any("affirm" in n for n in t["ask"]["notes"])
    assert t["review"]["due"] == "2026-11-23T09:00:00+01:00"


def test_gate_waits_for_the_last_affirm_touch(make_journey, make_deal):
    # close Mon 2 Nov 2026. Affirm: a letter printed by Tue 10 Nov, and an email day 14 = Mon 16 Nov.
    # The last completes Mon 16 Nov; the gate opens Tue 17 Nov. The advocate call of day 10
    # (Thu 12 Nov) moves to Tue 17 Nov and keeps its own time of day (at 14:00).
    text = journey_yaml(
        phase("affirm", letter("thanks", 10), email("check-in", 14)),
        phase("advocate", task("review", 10, 'at: "14:00"\n')),
    )
    t = touches(make_journey, text, make_deal("2026-11-02T10:00:00+01:00"))
    assert t["review"]["due"] == "2026-11-17T14:00:00+01:00"
    assert t["review"]["shifted_from"] == "2026-11-12"


def test_gated_letter_is_not_printed_before_the_gate_opens(make_journey, make_deal):
    # close Mon 2 Nov 2026; affirm letter printed by Tue 10 Nov -> the gate opens Wed 11 Nov.
    # A referral letter of day 5 (Sat 7 -> Mon 9 Nov) would print Thu 5 Nov, before affirm is done.
    # Gated, it may print no earlier than Wed 11 Nov, and then arrives two open days later, Fri 13 Nov.
    text = journey_yaml(phase("affirm", letter("thanks", 10)), phase("advocate", letter("referral", 5)))
    t = touches(make_journey, text, make_deal("2026-11-02T10:00:00+01:00"))
    assert t["referral"]["print_by"] >= "2026-11-11", (
        "planner.py _apply_gate moves a gated letter's due date but keeps its old print_by"
    )
    assert (t["referral"]["print_by"], t["referral"]["due"]) == ("2026-11-11", "2026-11-13T09:00:00+01:00")


# --------------------------------------------------------------------------------------------
# Conditions, titles, order and determinism
# --------------------------------------------------------------------------------------------


COND = journey_yaml(phase("affirm", email("visit", 3, "when: \"deal.segment != 'C'\"\n"), email("plain", 4)))


@pytest.mark.parametrize(("segment", "met"), [("A", True), ("C", False)])
def test_when_condition_is_evaluated_for_the_deal(make_journey, make_deal, segment, met):
    t = touches(make_journey, COND, make_deal(segment=segment))
    assert t["visit"]["when"] == "deal.segment != 'C'"
    assert t["visit"]["condition_met"] is met
    assert any(("true for this deal" if met else "false for this deal") in n for n in t["visit"]["notes"])
    assert t["plain"]["condition_met"] is None and t["plain"]["when"] is None


def test_titles_are_rendered_for_the_customer(make_journey, make_deal):
    text = journey_yaml(
        phase("admit", task("call", 0).replace("title: Bellen", 'title: "Bel {{ contact.first_name }}"'))
    )
    t = touches(make_journey, text, make_deal())
    assert t["call"]["title"] == "Bel Ilse"


def test_touches_are_in_time_order(make_journey, example_deal, repo, monkeypatch):
    monkeypatch.chdir(repo)
    journey, _ = load_journey("journeys/first-100-days.yaml")
    data = plan(journey, example_deal).to_json()
    utc = [t["due_utc"] for t in data["touches"]]
    assert utc == sorted(utc)
    assert min(utc) >= "2026-11-20T13:03:00Z"  # nothing before the deal closed


def test_shipped_journey_gates_its_advocate_phase(example_deal, repo, monkeypatch):
    monkeypatch.chdir(repo)
    journey, _ = load_journey("journeys/first-100-days.yaml")
    data = plan(journey, example_deal).to_json()
    by_phase = {}
    for t in data["touches"]:
        by_phase.setdefault(t["phase"], []).append(t)
    assert by_phase["advocate"] and all(t["gated_by"] == "affirm" for t in by_phase["advocate"])
    assert all(t["gated_by"] is None for p, ts in by_phase.items() if p != "advocate" for t in ts)
    last_affirm = max(t["print_by"] or t["due"][:10] for t in by_phase["affirm"])
    assert all(t["due"][:10] > last_affirm for t in by_phase["advocate"])


def test_plan_is_deterministic(make_journey, make_deal):
    first = plan_json(make_journey, HOLIDAYS, make_deal("2026-03-30T10:00:00+02:00"))
    again = plan_json(make_journey, HOLIDAYS, make_deal("2026-03-30T10:00:00+02:00"))
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert first["version"] == again["version"]


@pytest.mark.parametrize(
    ("region", "language"), [("NL", "nl"), ("DE-BY", "de"), ("US-CA", "en_US"), ("GB", None), ("BE", "fr")]
)
def test_a_countrys_holidays_are_the_packages_own_dates_and_names(region, language):
    import holidays

    from hundred.planning.workdays import _holiday_names, split_region

    country, subdiv = split_region(region)
    theirs = holidays.country_holidays(country, subdiv=subdiv, years=2027)
    if language in (theirs.supported_languages or ()):
        theirs = holidays.country_holidays(country, subdiv=subdiv, years=2027, language=language)
    assert _holiday_names.__wrapped__(region, 2027, language) == dict(theirs.items())


def test_one_countrys_holidays_do_not_load_every_country():
    """`holidays.country_holidays` imports all ~250 country modules (~50 ms of every simulate)."""
    probe = (
        "import sys\n"
        "from hundred.planning.workdays import _holiday_names\n"
        "names = _holiday_names('NL', 2027, 'nl')\n"
        "print(names[__import__('datetime').date(2027, 4, 27)], 'holidays.countries' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["Koningsdag", "False"], done.stdout + done.stderr
