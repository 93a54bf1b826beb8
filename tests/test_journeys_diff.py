"""What an edit changes against the versions journeys in flight are on:
`hundred.journeys.diff` touch by touch, and `hundred journeys diff` over a real ledger holding
journeys on two versions of the shipped journey (tests/studio_site.py)."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import email, journey_yaml, letter, phase, task
from studio_site import build_studio, journeys_cli

from hundred.journeys.diff import diff_journeys
from hundred.validation.validate import check_text


def journey(text: str, tmp_path):
    (tmp_path / "templates" / "letters").mkdir(parents=True, exist_ok=True)
    for name in ("letters/thanks.txt", "emails/hello.html", "tasks/call.md"):
        (tmp_path / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "templates" / name).write_text("Hallo {{ contact.first_name }}\n", encoding="utf-8")
    checked = check_text(text, tmp_path / "journeys" / "x.yaml", tmp_path / "templates", lint=False)
    assert checked.ok, checked.problems
    return checked.journey


BEFORE = journey_yaml(
    phase("admit", task("welcome", 0)),
    phase("affirm", letter("thanks", 3), email("check-in", 7)),
    phase("advocate", email("referral", 40, "referral: true\n")),
)


def kinds(diff) -> dict[tuple[str, str | None], dict]:
    return {(c.kind, c.touch): {k: (b, a) for k, b, a in c.fields} for c in diff.changes}


def test_the_same_journey_has_no_differences(tmp_path):
    same = diff_journeys(journey(BEFORE, tmp_path), journey(BEFORE, tmp_path))
    assert same.same and same.before == same.after


def test_each_kind_of_change_is_named_with_what_it_was_and_is(tmp_path):
    after = journey_yaml(
        phase("admit", task("welcome", 1)),
        phase("affirm", letter("thanks", 3), email("check-in", 7), task("call", 8)),
        phase("advocate", email("referral", 40, "referral: true\n")),
        head='send_window: "08:00-17:00"',
    ).replace(
        "id: check-in\n        day: 7\n        channel: email\n        subject: Hallo",
        "id: check-in\n        day: 7\n        channel: email\n        subject: Alles goed?",
    )
    found = kinds(diff_journeys(journey(BEFORE, tmp_path), journey(after, tmp_path)))
    assert found[("moved", "welcome")] == {"day": (0, 1)}
    assert found[("reworded", "check-in")]["subject"][1] == "Alles goed?"
    assert found[("added", "call")]["channel"] == (None, "task")
    assert found[("gate", None)] == {"waits_for": (["thanks", "check-in"], ["thanks", "check-in", "call"])}
    assert found[("settings", None)] == {"send_window": ("09:00-17:00", "08:00-17:00")}
    assert ("removed", "call") not in found


def test_a_removed_touch_and_a_referral_that_stops_waiting(tmp_path):
    after = journey_yaml(
        phase("admit", task("welcome", 0)),
        phase("affirm", letter("thanks", 3)),
        phase("adopt", email("referral", 40)),
    )
    found = kinds(diff_journeys(journey(BEFORE, tmp_path), journey(after, tmp_path)))
    assert found[("removed", "check-in")]["channel"] == ("email", None)
    assert found[("moved", "referral")]["phase"] == ("advocate", "adopt")
    assert found[("gate", "referral")]["referral"] == (True, False)


# -- the command, over a ledger with journeys in flight ---------------------------------------------


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    return build_studio(tmp_path_factory.mktemp("diff"))


def run(studio, *args: str) -> subprocess.CompletedProcess:
    return journeys_cli(studio, "diff", *args)


def test_the_command_says_per_version_how_many_deals_where_they_are_and_what_changes(studio):
    done = run(studio, "first-100-days", "--lang", "en")
    assert done.returncode == 0, done.stderr
    head, current, old = done.stdout.split("\n\n")
    assert head == f"first-100-days (De eerste 100 dagen): journeys/first-100-days.yaml is version {studio.new_version}"
    assert current.startswith(f"version {studio.new_version}: 2 deals in flight")
    assert "the file is this version: nothing changes" in current
    lines = old.splitlines()
    assert lines[0] == f"version {studio.old_version}: 3 deals in flight"
    assert lines[1].startswith("  where they are: ")
    moved = next(line for line in lines[2:] if "delivery-check" in line)
    assert moved.split()[:5] == ["moved", "delivery-check:", "day", "10", "→"]
    assert "still ahead for 1 deal" in moved or "still ahead for 2 deals" in moved  # the oldest deal is past day 12
    assert any(line.split()[:2] == ["removed", "extra-call"] and "an upgrade cancels it" in line for line in lines)
    assert any(line.split()[:2] == ["added", "small-gift"] for line in lines)
    assert any(line.split()[:2] == ["reworded", "one-month-email:"] for line in lines)


def test_the_command_speaks_the_journeys_language(studio):
    done = run(studio, "first-100-days")
    assert f"versie {studio.old_version}: 3 deals onderweg" in done.stdout
    assert "verschoven" in done.stdout and "waar ze zijn:" in done.stdout


def test_json_and_one_version(studio):
    done = run(studio, "journeys/first-100-days.yaml", "--from", studio.old_version[:6], "--json")
    data = json.loads(done.stdout)
    assert data["version"] == studio.new_version
    [version] = data["versions"]
    assert version["version"] == studio.old_version and version["deals"] == 3
    changes = {(c["kind"], c["touch"]): c for c in version["changes"]}
    assert changes[("moved", "delivery-check")]["fields"] == [{"field": "day", "before": 10, "after": 12}]
    assert changes[("removed", "extra-call")]["deals_ahead"] == 3
    assert sum(w["deals"] for w in version["where"]) == 3


def test_an_unknown_version_is_a_clear_error(studio):
    done = run(studio, "first-100-days", "--from", "ffffff")
    assert done.returncode == 1
    assert "--from ffffff: no journey of 'first-100-days' started on that version" in done.stderr
