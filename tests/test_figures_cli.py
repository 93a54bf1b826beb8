"""`hundred report` and `hundred status DEAL` on a ledger the runtime built with known outcomes
(tests/figures_world.py): the figures as text in the journey's language, as JSON and as CSV;
one customer's 100 days; `status --json` keeps its keys and adds the story's."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import run_cli
from figures_world import EXPECTED, iter_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    yield from iter_world(tmp_path_factory.mktemp("figures-cli"))


@pytest.fixture
def home(world, monkeypatch):
    monkeypatch.setenv("HUNDRED_HOME", str(world.settings.home))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return world


def test_report_as_text_in_the_journey_s_language(home, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "report")
    assert code == 0, err
    assert "Cijfers (figures): begonnen 5, actief 2, afgerond 2, gestopt 1" in out
    assert "Waarom ze stopten: churned: 1" in out
    assert "4 klanten hoorden meer dan 10 dagen niets van je" in out
    assert "1 te laat" in out  # the letter
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("result-call", "check-in"))}
    assert "1 over tijd" in lines["result-call"] and "1 gebounced" in lines["check-in"]
    code, english, _ = run_cli(monkeypatch, capsys, "report", "figures", "--lang", "en")
    assert code == 0 and "entered 5, active 2, completed 2, exited 1" in english


def test_report_as_json_and_csv(home, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "report", "figures", "--json")
    assert code == 0
    data = json.loads(out)
    (journey,) = data["journeys"]
    assert {k: journey[k] for k in ("entered", "active", "completed", "exited")} == {
        k: EXPECTED[k] for k in ("entered", "active", "completed", "exited")
    }
    assert journey["coleman"]["silence"]["over"] == EXPECTED["silence"]["over"]
    assert journey["coleman"]["referrals"]["received"] == 1
    assert [v["version"] for v in journey["versions"]] and journey["versions"][0]["in_use"] is True
    code, out, _ = run_cli(monkeypatch, capsys, "report", "--csv", "--since", home.day(10).date().isoformat())
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["journey", "version", "section", "item", "figure", "value"]
    assert ["figures", "", "journey", "", "entered", "1"] in rows


def test_report_says_what_is_wrong_with_its_input(home, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "report", "nope")
    assert code == 1 and "no customer on journey 'nope'" in err
    code, _, err = run_cli(monkeypatch, capsys, "report", "Not A Journey")
    assert code == 1 and "is not a journey id" in err
    code, _, err = run_cli(monkeypatch, capsys, "report", "--since", "2026-13-01")
    assert code == 2 and "--since" in err
    code, _, err = run_cli(monkeypatch, capsys, "report", "--json", "--csv")
    assert code == 2
    code, _, err = run_cli(monkeypatch, capsys, "report", "--since", "2026-12-02", "--until", "2026-12-01")
    assert code == 1 and "before --since" in err


def test_status_tells_one_customer_s_100_days(home, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "status", "D-LATE")
    assert code == 0, err
    assert "deal D-LATE: figures" in out and "actief" in out
    thanks = next(line for line in out.splitlines() if line.startswith("thanks "))
    assert "3 dagen te laat" in thanks
    assert "Wat er wacht, en waarop" in out and "result-call: over tijd: Piet Bakker" in out
    assert "Gebeurtenissen" in out and "letter.posted" in out


def test_status_json_keeps_its_keys_and_adds_the_story(home, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, "status", "D-LATE", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data)[:5] == ["deal", "journey", "version", "state", "touches"]  # the stable contract, first
    thanks = next(t for t in data["touches"] if t["touch"] == "thanks")
    assert {"touch", "phase", "channel", "due", "state", "flow_run_id", "error"} <= set(thanks)
    assert (thanks["planned_day"], thanks["actual_day"], thanks["late_days"]) == (2, 4, 3)
    assert data["day"] == 20 and data["letters"][0]["posted_at"]
    assert {"touch": "result-call", "on": "owner"}.items() <= data["waiting"][0].items()
    code, out, _ = run_cli(monkeypatch, capsys, "status", "D-ON", "--json")
    assert json.loads(out)["referred"] == ["D-REF"]
