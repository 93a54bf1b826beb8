"""The `print-batch` flow's schedule and work: cron at the cut-off on the journey's workdays in its
time zone, holidays skipped by the flow, a markdown summary (the Prefect artifact)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from conftest import journey_yaml, letter, phase
from printroom_data import fill

from hundred.adapters.ledger import Ledger
from hundred.service.printroom.calendar import print_calendar
from hundred.service.settings import Settings


@pytest.fixture
def site(make_journey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_journey(
        journey_yaml(
            phase("affirm", letter("thanks", 1)),
            journey="first-100-days",
            head="timezone: Europe/Amsterdam\ncalendar:\n  workdays: [mon, tue, wed, thu, fri]\n"
            '  holidays: NL\n  closed: ["2026-12-01"]\n',
        ),
        name="first-100-days.yaml",
    )
    for key, value in {
        "HUNDRED_HOME": tmp_path / "home",
        "HUNDRED_LETTERS_DIR": tmp_path / "letters",
        "HUNDRED_JOURNEYS_DIR": tmp_path / "journeys",
        "HUNDRED_TEMPLATES_DIR": tmp_path / "templates",
    }.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    return tmp_path


def test_the_schedule_is_the_default_journeys_workday_mornings(site):
    calendar = print_calendar(Settings())
    assert calendar.timezone == "Europe/Amsterdam" and calendar.source == "journey first-100-days"
    assert calendar.cron == f"{calendar.batch_at.minute} {calendar.batch_at.hour} * * 1-5"
    assert calendar.closed_reason(datetime(2026, 12, 25).date())  # Christmas
    assert calendar.closed_reason(datetime(2026, 12, 1).date()) == "closed"


def test_without_a_journey_it_falls_back_to_weekdays_in_amsterdam(tmp_path):
    calendar = print_calendar(Settings(journeys_dir=tmp_path / "none"))
    assert (calendar.timezone, calendar.cron, calendar.batch_at) == ("Europe/Amsterdam", "0 10 * * 1-5", time(10, 0))


def test_the_deployment_has_the_cron_schedule():
    from flows.journey import FLOWS
    from flows.serve import deployments

    deployment = next(d for d in deployments() if d.name == "print-batch")
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron.endswith("* * 1-5") and schedule.schedule.timezone
    assert "print-batch" in {f.name for f in FLOWS}


def test_the_flow_batches_on_a_workday_and_skips_a_closed_day(site):
    from flows.print_batch import make_todays_batch

    led = Ledger.open(Settings().ledger_url)
    fill(led, 4, print_by=datetime(2026, 11, 30).date())
    led.close()
    closed = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a closed day of the journey's calendar
    data, markdown = make_todays_batch(False, False, False, clock=lambda: closed)
    assert data["batch"] is None and "not a workday (closed)" in data["skipped"] and "not a workday" in markdown
    monday = datetime(2026, 11, 30, 9, tzinfo=UTC)
    data, markdown = make_todays_batch(True, True, False, clock=lambda: monday)
    assert data["letters"] == 4 and Path(data["pdf"]).exists() and Path(data["labels"]).exists()
    assert f"# Print batch {data['batch']}" in markdown and "| letters | 4" in markdown
    assert f"mark-printed {data['batch']}" in markdown
    data, markdown = make_todays_batch(False, False, False, clock=lambda: monday)
    assert data["letters"] == 0 and "No letters to print today." in markdown
