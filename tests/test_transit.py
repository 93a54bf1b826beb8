"""Post that arrives on time (planner.py's timing rule 4): per-destination transit and the
morning batch cut-off, from the journey language through the planner to `run_at` and simulate.

Dates were worked out by hand on a November 2026 calendar (Mon 2, Mon 9, Mon 16, Mon 23 and
Mon 30 Nov are Mondays; the NL holidays in reach are Christmas, Fri 25 and Sat 26 Dec). The
journeys here count business days on the NL calendar; the cut-off is 10:00 Amsterdam unless set.
"""

from __future__ import annotations

import json

import pytest
from conftest import MINIMAL_JOURNEY, REPO, journey_yaml, letter, line_of, phase

from hundred.bootstrap import memory_ledger
from hundred.journeys.model import Journey
from hundred.planning import engine
from hundred.planning.planner import plan
from hundred.service.simulate import simulate
from hundred.validation.validate import check_file, load_journey

NL = "calendar:\n  holidays: NL\n"
TRANSIT = NL + "letters:\n  lead_days: 2\n  abroad_lead_days: 6\n  lead_days_by_country: {BE: 3, DE: 4}\n"
ADDRESS = {
    "NL": {"street": "Dorpsstraat 12", "postcode": "8011 AB", "city": "Zwolle", "country": "NL"},
    "BE": {"street": "Grote Markt 1", "postcode": "1000", "city": "Brussel", "country": "BE"},
    "DE": {"street": "Unter den Linden 5", "postcode": "10117", "city": "Berlin", "country": "DE"},
    "US": {"street": "1420 SE Alder Street", "postcode": "97214", "city": "Portland", "state": "OR", "country": "US"},
}


def letter_plan(
    make_journey, make_deal, head: str, day: int, closed_at: str, country: str | None = "NL", **deal
) -> dict:
    journey, _ = load_journey(make_journey(journey_yaml(phase("affirm", letter("thanks", day)), head=head)))
    extra = {"address": ADDRESS[country] if country else None, **deal}
    return next(t for t in plan(journey, make_deal(closed_at, **extra)).to_json()["touches"] if t["touch"] == "thanks")


# --------------------------------------------------------------------------------------------
# Which transit applies
# --------------------------------------------------------------------------------------------

MON_0900 = "2026-11-02T09:00:00+01:00"  # before the cut-off: nothing here is about the batch


@pytest.mark.parametrize(
    "country, print_by, note",
    [
        # day 17 = Thu 19 Nov. Open days before it: Wed 18 (1), Tue 17 (2), Mon 16 (3), Fri 13 (4),
        # Thu 12 (5), Wed 11 (6)
        ("NL", "2026-11-17", "print by Tue 17 Nov (domestic: 2 business days)"),
        ("BE", "2026-11-16", "print by Mon 16 Nov (BE: 3 business days)"),
        ("DE", "2026-11-13", "print by Fri 13 Nov (DE: 4 business days)"),
        ("US", "2026-11-11", "print by Wed 11 Nov (abroad: 6 business days)"),
        (None, "2026-11-17", "print by Tue 17 Nov (domestic: 2 business days)"),  # no address: domestic
    ],
)
def test_the_destination_chooses_the_lead_days(make_journey, make_deal, country, print_by, note):
    t = letter_plan(make_journey, make_deal, TRANSIT, 17, MON_0900, country)
    assert (t["due"], t["print_by"]) == ("2026-11-19T09:00:00+01:00", print_by)
    assert note in t["notes"]
    assert not any(n.startswith("late") for n in t["notes"])
    assert t["transit"]["country"] == (country or "NL")


def test_abroad_without_abroad_lead_days_takes_lead_days(make_journey, make_deal):
    t = letter_plan(make_journey, make_deal, NL + "letters: {lead_days: 2}", 17, MON_0900, "US")
    assert t["print_by"] == "2026-11-17" and "print by Tue 17 Nov (abroad: 2 business days)" in t["notes"]
    assert t["transit"] == {"lead_days": 2, "kind": "abroad", "country": "US"}


def test_the_country_map_wins_also_for_home(make_journey, make_deal):
    head = NL + "letters: {lead_days: 2, lead_days_by_country: {NL: 1}}"
    t = letter_plan(make_journey, make_deal, head, 17, MON_0900, "NL")
    assert t["print_by"] == "2026-11-18" and "print by Wed 18 Nov (domestic: 1 business day)" in t["notes"]


def test_home_is_the_holidays_country_else_the_locales(make_journey, make_deal):
    # holidays US: a US address is domestic (lead 2), NL is abroad (6), on the US calendar
    head = "locale: en_US\ncalendar:\n  holidays: US\nletters: {lead_days: 2, abroad_lead_days: 6}"
    assert letter_plan(make_journey, make_deal, head, 17, MON_0900, "US")["transit"]["kind"] == "domestic"
    assert letter_plan(make_journey, make_deal, head, 17, MON_0900, "NL")["transit"]["kind"] == "abroad"
    # no holidays: the locale's country
    head = "locale: de_DE\nletters: {lead_days: 2, abroad_lead_days: 6}"
    assert letter_plan(make_journey, make_deal, head, 17, MON_0900, "DE")["transit"]["kind"] == "domestic"


def test_an_abroad_letter_that_cannot_make_it_says_when_it_arrives(make_journey, make_deal):
    # day 5 = Sat 7 -> arrives Mon 9 Nov; 6 open days before is Fri 30 Oct, before the close.
    # It prints in the first batch, Mon 2 Nov (closed 09:00, before 10:00), arrives 6 open days
    # later: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9, Tue 10
    t = letter_plan(make_journey, make_deal, TRANSIT, 5, MON_0900, "US")
    assert (t["print_by"], t["due"]) == ("2026-11-02", "2026-11-10T09:00:00+01:00")
    assert "late: arrives Tue 10 Nov (the first batch it can make is Mon 2 Nov)" in t["notes"]
    assert "print by Mon 2 Nov (abroad: 6 business days)" in t["notes"]


# --------------------------------------------------------------------------------------------
# The morning cut-off
# --------------------------------------------------------------------------------------------

FRI_1403 = "2026-11-20T14:03:00+01:00"


def test_a_friday_close_after_the_cutoff_prints_monday_and_says_it_is_late(make_journey, make_deal):
    # day 3 = Mon 23 Nov; 2 open days before is Thu 19 Nov. Friday's 10:00 batch was made before
    # the deal closed at 14:03, so the first batch it can make is Mon 23 Nov; arrives Wed 25 Nov
    t = letter_plan(make_journey, make_deal, TRANSIT, 3, FRI_1403)
    assert t["print_by"] == "2026-11-23", "a print-by day that had passed before the deal closed"
    assert t["due"] == "2026-11-25T09:00:00+01:00" and t["shifted_from"] == "2026-11-23"
    assert "late: arrives Wed 25 Nov (the deal closed after the 10:00 batch of Fri 20 Nov)" in t["notes"]
    assert "print by Mon 23 Nov (domestic: 2 business days)" in t["notes"]


def test_a_close_before_the_cutoff_makes_that_mornings_batch(make_journey, make_deal):
    # the same letter, closed Fri 09:30: it prints in Friday's batch and arrives Tue 24 Nov
    t = letter_plan(make_journey, make_deal, TRANSIT, 3, "2026-11-20T09:30:00+01:00")
    assert (t["print_by"], t["due"]) == ("2026-11-20", "2026-11-24T09:00:00+01:00")
    assert "late: arrives Tue 24 Nov (the first batch it can make is Fri 20 Nov)" in t["notes"]


@pytest.mark.parametrize(
    "batch_at, closed_at, print_by",
    [
        ('"15:00"', FRI_1403, "2026-11-20"),  # a later cut-off: 14:03 still makes it
        ('"10:00"', "2026-11-20T10:00:00+01:00", "2026-11-23"),  # at the cut-off is too late
        ('"09:45"', "2026-11-20T09:50:00+01:00", "2026-11-23"),
    ],
)
def test_batch_at_sets_the_cutoff(make_journey, make_deal, batch_at, closed_at, print_by):
    t = letter_plan(make_journey, make_deal, NL + f"letters: {{lead_days: 2, batch_at: {batch_at}}}", 3, closed_at)
    assert t["print_by"] == print_by


def test_the_cutoff_is_in_the_journeys_zone(make_journey, make_deal):
    # 09:30 in New York is 15:30 in Amsterdam: after the journey's 10:00 batch
    t = letter_plan(make_journey, make_deal, TRANSIT, 3, "2026-11-20T09:30:00-05:00", contact_tz="America/New_York")
    assert t["print_by"] == "2026-11-23"


def test_a_letter_with_time_to_spare_is_not_moved_by_the_cutoff(make_journey, make_deal):
    t = letter_plan(make_journey, make_deal, TRANSIT, 10, FRI_1403)  # arrives Mon 30 Nov
    assert t["print_by"] == "2026-11-26" and not any(n.startswith("late") for n in t["notes"])


def test_a_holiday_between_the_close_and_the_next_batch(make_journey, make_deal):
    # close Thu 24 Dec 2026 14:00, after the batch. Fri 25 Dec is Christmas, Sat 26 Tweede
    # Kerstdag, then Sunday: the next batch is Mon 28 Dec. Day 2 = Sat 26 -> arrival Mon 28;
    # printed Mon 28, it arrives Wed 30 Dec (Tue 29, Wed 30)
    t = letter_plan(make_journey, make_deal, TRANSIT, 2, "2026-12-24T14:00:00+01:00")
    assert (t["print_by"], t["due"]) == ("2026-12-28", "2026-12-30T09:00:00+01:00")
    assert "late: arrives Wed 30 Dec (the deal closed after the 10:00 batch of Thu 24 Dec)" in t["notes"]


def test_abroad_after_the_cutoff(make_journey, make_deal):
    # day 7 = Fri 27 Nov; 6 open days before is Thu 19 Nov, before the close; the first batch is
    # Mon 23 Nov; 6 open days later: Tue 24 ... Mon 30, Tue 1 Dec
    t = letter_plan(make_journey, make_deal, TRANSIT, 7, FRI_1403, "US")
    assert (t["print_by"], t["due"]) == ("2026-11-23", "2026-12-01T09:00:00+01:00")
    assert "print by Mon 23 Nov (abroad: 6 business days)" in t["notes"]


# --------------------------------------------------------------------------------------------
# The gate estimate and run_at follow
# --------------------------------------------------------------------------------------------


def test_a_gated_letter_waits_with_its_own_transit(make_journey, make_deal):
    # close Mon 2 Nov 09:00, to the US (6 days). The affirm letter (day 10, Thu 12 Nov) prints by
    # Wed 4 Nov, so the gate opens Wed 4 and the referral letter prints no earlier than Thu 5 Nov,
    # arriving 6 open days later: Fri 6, Mon 9, Tue 10, Wed 11, Thu 12, Fri 13 Nov
    text = journey_yaml(phase("affirm", letter("thanks", 10)), phase("advocate", letter("referral", 5)), head=TRANSIT)
    journey, _ = load_journey(make_journey(text))
    t = {x["touch"]: x for x in plan(journey, make_deal(MON_0900, address=ADDRESS["US"])).to_json()["touches"]}
    assert t["thanks"]["print_by"] == "2026-11-04"
    assert (t["referral"]["print_by"], t["referral"]["due"]) == ("2026-11-05", "2026-11-13T09:00:00+01:00")
    assert (
        "waits for affirm: print by Thu 5 Nov, arrives Fri 13 Nov (abroad: 6 business days)" in t["referral"]["notes"]
    )


@pytest.mark.parametrize(
    "head, run",
    [
        (TRANSIT, "2026-11-23T09:00:00+01:00"),  # window start
        (NL + 'letters: {batch_at: "08:30"}', "2026-11-23T07:30:00+01:00"),  # an hour before the batch
        (NL + 'send_window: "07:00-17:00"', "2026-11-23T07:00:00+01:00"),
    ],
)
def test_a_letter_runs_on_its_print_by_day_before_the_cutoff(make_journey, make_deal, head, run):
    journey, _ = load_journey(make_journey(journey_yaml(phase("affirm", letter("thanks", 3)), head=head)))
    item = next(t for t in plan(journey, make_deal(FRI_1403)).touches if t.touch == "thanks")
    assert item.print_by.isoformat() == "2026-11-23"
    assert engine.run_at(item, journey).isoformat() == run
    assert engine.run_at(item, journey).time() < journey.letters.batch_time


def test_simulate_posts_letters_on_the_plans_print_by_day(make_journey, make_deal, tmp_path):
    text = journey_yaml(
        phase("affirm", letter("thanks", 3), letter("later", 12)),
        phase("advocate", letter("referral", 20)),
        head=TRANSIT,
    )
    journey, templates = load_journey(make_journey(text))
    for country in ("NL", "US"):
        deal = make_deal(FRI_1403, address=ADDRESS[country])
        planned = {t.touch: t.print_by for t in plan(journey, deal).touches}
        run = simulate(journey, deal, templates, memory_ledger)
        posted = {e.touch: e.at.date() for e in run.events if e.event == "posted"}
        assert posted == planned, country


def test_the_cli_plan_and_simulate_agree_on_the_example_deal(in_repo_cmd):
    code, out, err = in_repo_cmd("plan", "first-100-days-en", "--deal", "examples/deal-en.json", "--json")
    assert code == 0, err
    letters = {t["touch"]: t for t in json.loads(out)["touches"] if t["channel"] == "letter"}
    # closed Tue 17 Nov 10:15 in Los Angeles = 13:15 in New York, after the 10:00 batch: the
    # thank-you letter (day 3, Fri 20 Nov, 3 days domestic) prints Wed 18 Nov and arrives Mon 23 Nov
    thanks = letters["thank-you-letter"]
    assert (thanks["print_by"], thanks["due"][:10]) == ("2026-11-18", "2026-11-23")
    assert any(n.startswith("late: arrives Mon 23 Nov") for n in thanks["notes"])
    code, out, err = in_repo_cmd("simulate", "first-100-days-en", "--deal", "examples/deal-en.json", "--json")
    assert code == 0, err
    posted = {e["touch"]: e["at"][:10] for e in json.loads(out)["events"] if e["event"] == "posted"}
    assert posted == {tid: t["print_by"] for tid, t in letters.items()}


@pytest.fixture
def in_repo_cmd(monkeypatch, capsys):
    from conftest import run_cli

    monkeypatch.chdir(REPO)
    return lambda *args: run_cli(monkeypatch, capsys, *args)


# --------------------------------------------------------------------------------------------
# The journey language: validation, schema, version
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, marker, message, hint",
    [
        (
            "lead_days_by_country: {BE: 3, UK: 2}",
            "UK",
            "unknown country code 'UK' in letters.lead_days_by_country",
            "did you mean 'GB'?",
        ),
        ("lead_days_by_country: {de: 3}", "de", "unknown country code 'de'", "did you mean 'DE'?"),
        ("lead_days_by_country: {Germany: 3}", "Germany", "unknown country code 'Germany'", "did you mean 'DE'?"),
        ("lead_days_by_country: {ZZ: 3}", "ZZ", "unknown country code 'ZZ'", "ISO 3166 alpha-2"),
        ("lead_days_by_country: {BE: 31}", "31", "BE in letters.lead_days_by_country", "use a value from 0 to 30"),
        ('lead_days_by_country: {BE: "3"}', '"3"', "must be a whole number", "remove the quotes: 'BE: 3'"),
        (
            "lead_days_by_country: [BE]",
            "[BE]",
            "lead_days_by_country must be a set of 'key: value' lines",
            "indentation",
        ),
        ("abroad_lead_days: -1", "-1", "abroad_lead_days in letters", "use a value from 0 to 30"),
        (
            "abroad_lead_days: 6.0",
            "6.0",
            "abroad_lead_days in letters must be a whole number",
            "without a decimal point",
        ),
        ("abroad_lead_days: true", "true", "abroad_lead_days in letters must be a whole number", "abroad_lead_days: 3"),
        ('batch_at: "18:00"', '"18:00"', "'18:00' is not a morning cut-off", 'use a time from "04:00" to "16:00"'),
        ('batch_at: "03:59"', '"03:59"', "not a morning cut-off", "batches are made in the morning"),
        ('batch_at: "9.30"', '"9.30"', "'9.30' is not a time of day", 'HH:MM, e.g. "09:30"'),
        ("batch_at: 10", "10", "batch_at in letters must be text", 'batch_at: "10:00"'),
        (
            "abroad_leaddays: 6",
            "abroad_leaddays",
            "unknown key 'abroad_leaddays' in letters",
            "did you mean 'abroad_lead_days'?",
        ),
    ],
)
def test_bad_transit_settings_are_located_with_a_hint(make_journey, setting, marker, message, hint):
    text = journey_yaml(phase("affirm", letter("thanks", 3)), head=f"letters:\n  lead_days: 2\n  {setting}")
    problems = check_file(make_journey(text)).problems
    assert len(problems) == 1, problems
    p = problems[0]
    line = line_of(text, setting)
    assert (p.file, p.line, p.col) == ("journeys/x.yaml", line, text.splitlines()[line - 1].index(marker) + 1), str(p)
    assert message in p.message and hint in p.hint, str(p)


def test_good_transit_settings_validate(make_journey):
    text = journey_yaml(
        phase("affirm", letter("thanks", 3)),
        head=(
            'letters:\n  lead_days: 0\n  abroad_lead_days: 30\n  batch_at: "4:00"\n'
            "  lead_days_by_country:\n    NO: 5\n    XK: 9\n    US: 10\n"
        ),
    )
    checked = check_file(make_journey(text))
    assert checked.ok, checked.problems
    settings = checked.journey.letters
    assert settings.lead_days_by_country == {"NO": 5, "XK": 9, "US": 10}  # NO is Norway, not false
    assert settings.batch_time.isoformat() == "04:00:00"


def test_the_schema_has_the_keys():
    committed = json.loads((REPO / "hundred" / "journey.schema.json").read_text(encoding="utf-8"))
    props = committed["$defs"]["LetterSettings"]["properties"]
    assert {"lead_days", "abroad_lead_days", "lead_days_by_country", "batch_at"} <= set(props)
    by_country = props["lead_days_by_country"]
    assert by_country["additionalProperties"] is False
    assert by_country["patternProperties"] == {"^[A-Z]{2}$": {"maximum": 30, "minimum": 0, "type": "integer"}}
    assert props["abroad_lead_days"]["anyOf"][0] == {"maximum": 30, "minimum": 0, "type": "integer"}
    assert "pattern" in props["batch_at"] and "10:00" in props["batch_at"]["description"]


def test_the_version_is_unchanged_while_the_new_keys_are_absent():
    from hundred.journeys.source import load_yaml

    data, _ = load_yaml(MINIMAL_JOURNEY)
    assert Journey.model_validate(data).version() == "18544cea4f24"  # the hash before these keys existed
    for key, value in (("abroad_lead_days", 6), ("lead_days_by_country", {"BE": 3}), ("batch_at", "09:00")):
        changed = Journey.model_validate({**data, "letters": {key: value}}).version()
        assert changed != "18544cea4f24", key


def test_the_shipped_journeys_still_validate_and_say_how_long_post_abroad_takes():
    for name in ("first-100-days", "first-100-days-en"):
        journey, _ = load_journey(REPO / "journeys" / f"{name}.yaml")
        assert journey.letters.abroad_lead_days and journey.letters.abroad_lead_days > journey.letters.lead_days
