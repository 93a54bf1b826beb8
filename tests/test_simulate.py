"""`hundred simulate`: the shipped journey played in virtual time, no server, nothing sent."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from conftest import hundred_cli

from hundred.journeys.model import PHASES

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def simulate(*args: str) -> subprocess.CompletedProcess:
    """`hundred simulate ARGS` from the repository root, in this process. A simulation is
    deterministic, so the same arguments are simulated once per session; whether simulate imports
    Prefect is judged in a fresh interpreter (test_simulate_imports_no_prefect)."""
    return hundred_cli("simulate", *args, cwd=ROOT)


def events(*args: str) -> list[dict]:
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["events"]


def test_the_shipped_journey_passes_through_all_eight_phases_in_order():
    happened = [e for e in events() if e["event"] in ("delivered", "done", "posted")]
    assert {e["phase"] for e in happened} == set(PHASES)
    assert [e["at"] for e in happened] == sorted(e["at"] for e in happened)
    assert {e["event"] for e in events()} <= {
        "scheduled",
        "delivered",
        "done",
        "posted",
        "skipped",
        "expired",
        "waiting",
    }


def test_the_referral_comes_after_the_whole_affirm_phase():
    evs = events()
    affirm_done = max(
        datetime.fromisoformat(e["at"])
        for e in evs
        if e["phase"] == "affirm" and e["event"] in ("delivered", "done", "posted")
    )
    referral = [e for e in evs if e["touch"] == "referral-letter"]
    assert referral[0]["event"] == "waiting"
    scheduled = next(datetime.fromisoformat(e["at"]) for e in referral if e["event"] == "scheduled")
    posted = next(datetime.fromisoformat(e["at"]) for e in referral if e["event"] == "posted")
    assert affirm_done <= scheduled < posted
    assert (posted.date() - affirm_done.date()).days >= 1


def test_holding_an_affirm_touch_keeps_the_advocate_phase_waiting_and_says_why():
    evs = events("--hold", "thank-you-letter")
    advocate = [e for e in evs if e["phase"] == "advocate"]
    assert advocate and all(e["event"] == "waiting" for e in advocate)
    last = {e["touch"]: e for e in advocate}
    assert last and all("thank-you-letter (running)" in e["detail"] for e in last.values())
    held = [e for e in evs if e["touch"] == "thank-you-letter"]
    assert held[-1]["event"] == "waiting" and "held" in held[-1]["detail"]


def test_the_table_names_each_touch_and_what_happened():
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("De eerste 100 dagen · deal D-1042")
    assert any("thank-you-letter" in line and line.rstrip().endswith("gepost") for line in lines)


def test_the_dutch_journey_is_told_in_dutch_with_its_time_zone_stated():
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--hold", "thank-you-letter")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "De eerste 100 dagen · deal D-1042 · gesloten vr 20 nov 2026, 14:03 · tijden in Europe/Amsterdam"
    letter = [line for line in lines if " thank-you-letter  " in line]  # the touch column, not a detail
    assert letter[0].startswith("vr 20 nov 14:03") and letter[0].endswith(
        "ingepland  (start ma 23 nov 09:00, om te printen)"
    )
    assert letter[-1].endswith("wacht  (vastgehouden: wordt nooit afgerond)")
    referral = [line for line in lines if " referral-letter  " in line]
    assert referral[-1].endswith("wacht  (wacht op de fase affirm: thank-you-letter (bezig))")
    assert not [line for line in lines if "waits for" in line or "scheduled" in line or "Mon " in line]


def test_lang_en_tells_the_dutch_journey_in_english():
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--lang", "en")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        lines[0]
        == "De eerste 100 dagen · deal D-1042 · closed Fri 20 Nov 2026, 2:03\u202fPM · times in Europe/Amsterdam"
    )
    assert any(
        line.startswith("Mon 23 Nov 4:00\u202fPM") and "thank-you-letter" in line and line.endswith("posted")
        for line in lines
    )
    assert any(line.endswith("scheduled  (runs Mon 23 Nov 9:00\u202fAM, to print)") for line in lines)


def test_an_english_journey_is_told_in_its_own_zone():
    done = simulate("first-100-days-en", "--deal", "examples/deal-en.json", "--lang", "en_GB")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].endswith("closed Tue 17 Nov 2026, 13:15 · times in America/New_York")


def test_json_is_the_same_english_contract_whatever_the_language():
    """--json is for programs: --lang changes nothing in it, and its details stay English."""
    plain = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--json", "--hold", "thank-you-letter")
    dutch = simulate(
        "first-100-days", "--deal", "examples/deal-nl.json", "--json", "--hold", "thank-you-letter", "--lang", "nl"
    )
    english = simulate(
        "first-100-days", "--deal", "examples/deal-nl.json", "--json", "--hold", "thank-you-letter", "--lang", "en"
    )
    assert plain.returncode == dutch.returncode == english.returncode == 0
    assert plain.stdout == dutch.stdout == english.stdout
    evs = json.loads(plain.stdout)["events"]
    assert all(set(e) == {"at", "touch", "phase", "event", "detail"} for e in evs)
    letter = [e for e in evs if e["touch"] == "thank-you-letter"]
    assert letter[0] == {
        "at": "2026-11-20T14:03:00+01:00",
        "touch": "thank-you-letter",
        "phase": "affirm",
        "event": "scheduled",
        "detail": "runs Mon 23 Nov 09:00, to print",
    }
    assert letter[-1]["detail"] == "held: never completes"
    assert any(e["detail"] == "waits for the affirm phase: thank-you-letter (running)" for e in evs)


def test_an_unknown_language_is_a_usage_error():
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--lang", "klingon")
    assert done.returncode == 2
    assert "unknown language 'klingon'" in done.stderr


def test_holding_a_touch_the_journey_lacks_is_a_usage_error_naming_it():
    done = simulate("first-100-days", "--deal", "examples/deal-nl.json", "--hold", "thank-you")
    assert done.returncode == 1
    assert done.stderr.strip() == "--hold thank-you: the journey has no touch with that id"


def test_simulate_imports_no_prefect():
    code = (
        "import sys, runpy; sys.argv=['hundred','simulate','first-100-days','--deal','examples/deal-nl.json','--json'];"
        "import hundred.cli as c\ntry:\n c.main()\nexcept SystemExit: pass\n"
        "assert 'prefect' not in sys.modules, 'prefect imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
