"""What a user meets in the first hour at the command line: every command follows the README's table
of exit codes (0 done, 1 a problem with the user's input or the running system, said in one line,
2 a usage error), usage lines name arguments in capitals, a missing file is "no such file", an
import prints only its summary and keeps one dead letter per refused row, and a mistyped touch id
is quoted and answered with the near one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from conftest import REPO, deal_payload, hundred_cli
from ports import free_port

from hundred import bootstrap
from hundred.cli import app
from hundred.deals.model import parse_deal
from hundred.planning.identity import TouchKey
from hundred.planning.states import Moves
from hundred.service.settings import Settings
from hundred.service.simulate import VirtualScheduler


def leaf_commands() -> list[tuple[str, ...]]:
    """Every command a user can run, as its words after `hundred` (`("letters", "batch")`)."""

    def walk(command: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            return [path]
        return [leaf for name, sub in sorted(subcommands.items()) for leaf in walk(sub, (*path, name))]

    return walk(typer.main.get_command(app), ())


COMMANDS = leaf_commands()


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HUNDRED_HOME with no `hundred up` and no Prefect API: nothing is running."""
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "home"))
    for name in ("PREFECT_API_URL", "HUNDRED_DATABASE_URL", "HUNDRED_DAY_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_readme_has_the_one_table_of_exit_codes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Exit codes") :].split("\n#")[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    assert [row.split("|")[1].strip() for row in rows] == ["0", "1", "2", "130"], section


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_usage_lines_name_the_arguments_in_capitals(words):
    done = hundred_cli(*words, "--help")
    assert done.returncode == 0, done.stderr
    usage = done.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: hundred {' '.join(words)} [OPTIONS]"), usage
    assert "{" not in usage and not re.search(r"\[?[a-z_]+\]?(\.\.\.)?$", usage.split("[OPTIONS]")[1].strip()), usage


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_an_unknown_option_is_a_usage_error_exit_2(words):
    done = hundred_cli(*words, "--no-such-option")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "No such option: --no-such-option" in done.stderr


def test_a_missing_argument_is_named_in_capitals_exit_2():
    done = hundred_cli("task", "done", "D-1")
    assert done.returncode == 2 and "Missing argument 'TOUCH'" in done.stderr, done.stderr
    assert "Usage: hundred task done [OPTIONS] DEAL TOUCH" in done.stderr


@pytest.mark.parametrize(
    "args, named",
    [
        (("validate", "nosuch.yaml"), "nosuch.yaml: no such file or folder"),
        (("plan", "nosuch.yaml", "--deal", "examples/deal-nl.json"), "nosuch.yaml: no such journey file"),
        (("plan", "first-100-days", "--deal", "nosuch.json"), "--deal nosuch.json: no such file"),
        (("simulate", "first-100-days", "--deal", "nosuch.json"), "--deal nosuch.json: no such file"),
        (("preview", "first-100-days", "--deal", "nosuch.json", "--out", "OUT"), "--deal nosuch.json: no such file"),
        (("deal-closed", "nosuch.json"), "nosuch.json: no such file"),
        (("import", "nosuch.csv"), "nosuch.csv: no such file"),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else None,
)
def test_a_missing_input_file_is_exit_1_in_one_line_naming_it(nowhere, args, named):
    args = tuple(str(nowhere / "out") if a == "OUT" else a for a in args)
    done = hundred_cli(*args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(named) and "Errno" not in line and done.stdout == "", line


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("status", "D-1"),
        ("cancel", "D-1"),
        ("retry", "D-1", "hello"),
        ("task", "done", "D-1", "welcome-call"),
        ("intake", "list"),
        ("intake", "retry"),
        ("letters", "list"),
        ("letters", "batches"),
    ],
    ids=" ".join,
)
def test_an_operator_command_with_nothing_running_is_exit_1_saying_how_to_start(nowhere, args):
    done = hundred_cli(*args)
    assert done.returncode == 1, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("nothing is running") and "hundred up" in line, line


# -- import -----------------------------------------------------------------------------------------


def csv_of(rows: list[dict[str, str]]) -> str:
    header = list(rows[0])
    return "\n".join([",".join(header), *(",".join(row[k] for k in header) for row in rows)]) + "\n"


def test_import_prints_its_summary_first_and_keeps_one_dead_letter_per_refused_row(nowhere, monkeypatch):
    monkeypatch.setenv("HUNDRED_JOURNEYS_DIR", str(REPO / "journeys"))
    good = {"id": "D-OK", "closed_at": "2026-11-20T14:03:00+01:00", "journey": "first-100-days"}
    good |= {"owner.name": "Sanne", "owner.email": "sanne@example.nl", "contact.first_name": "Ilse"}
    good |= {"contact.email": "ilse@example.nl", "address.street": "Dorpsstraat 12", "address.postcode": "8011 AB"}
    good |= {"address.city": "Zwolle", "address.country": "NL"}
    bad = good | {"id": "D-BAD", "contact.first_name": " "}
    path = nowhere / "deals.csv"
    path.write_text(csv_of([bad, good, bad | {"id": "D-BAD2"}]), encoding="utf-8")

    first = hundred_cli("import", str(path))
    assert first.returncode == 1  # a bad row: the user's input needs fixing
    assert first.stdout.splitlines() == [
        f"{path}: 0 accepted, 1 stored pending (Prefect unreachable: `hundred intake retry` hands them over), 2 bad"
    ]
    assert first.stderr.splitlines() == [
        f"{path}:2: contact.first_name: is blank",
        f"{path}:4: contact.first_name: is blank",
    ]
    again = hundred_cli("import", str(path))
    assert again.returncode == 1
    assert again.stdout.splitlines() == [
        f"{path}: 0 accepted, 1 already imported, 2 bad (2 already kept as dead letters)"
    ]
    ledger = bootstrap.ledger(bootstrap.settings())
    assert sorted(r.deal_id for r in ledger.intakes(states=["dead"])) == ["D-BAD", "D-BAD2"]
    assert [r.deal_id for r in ledger.intakes(states=["pending"])] == ["D-OK"]


def test_import_of_a_file_that_is_no_utf8_says_so(nowhere):
    path = nowhere / "deals.csv"
    path.write_bytes(b"id,closed_at\n\xff\xfe,\n")
    done = hundred_cli("import", str(path))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == f"{path}: not UTF-8 text (invalid start byte at byte 13); save the CSV as UTF-8"


# -- a touch id typed wrong -------------------------------------------------------------------------


@pytest.fixture
def running(nowhere, monkeypatch) -> Path:
    """Deal D-1 on the shipped journey in this home's ledger, and a Prefect API address (nothing
    answers there: these commands are refused before they would reach it)."""
    settings = Settings(home=nowhere / "home", journeys_dir=REPO / "journeys", templates_dir=REPO / "templates")
    runtime = bootstrap.runtime(settings, ledger_=bootstrap.ledger(settings), scheduler_=VirtualScheduler())
    runtime.deal_closed(parse_deal(deal_payload(closed_at="2026-11-20T14:03:00+01:00", journey="first-100-days")))
    monkeypatch.setenv("HUNDRED_JOURNEYS_DIR", str(REPO / "journeys"))
    monkeypatch.setenv("HUNDRED_TEMPLATES_DIR", str(REPO / "templates"))
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    return nowhere


@pytest.mark.parametrize("command", [("task", "done"), ("retry",)], ids=" ".join)
def test_a_mistyped_touch_is_quoted_and_the_near_one_suggested(running, command):
    done = hundred_cli(*command, "D-1", "welcom-call")
    assert done.returncode == 1
    assert done.stderr.strip() == "deal D-1 has no touch 'welcom-call'; did you mean 'welcome-call'?"


def test_a_touch_nothing_like_any_lists_the_deals_touches(running):
    done = hundred_cli("task", "done", "D-1", "zzz")
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("deal D-1 has no touch 'zzz'; its touches: ") and "welcome-call" in line, line


def test_an_unknown_deal_says_there_is_no_journey_for_it(running):
    for command in (("task", "done", "D-404", "welcome-call"), ("cancel", "D-404")):
        done = hundred_cli(*command)
        assert done.returncode == 1
        assert done.stderr.strip().startswith("no journey for deal D-404"), done.stderr
        assert "`hundred status` lists" in done.stderr


def test_a_task_done_on_a_touch_that_is_no_task_says_what_it_is(running):
    done = hundred_cli("task", "done", "D-1", "next-steps-email")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line == "'next-steps-email' is an email touch, not a task", line
    touches = json.loads(hundred_cli("status", "D-1", "--json").stdout)["touches"]
    assert {t["touch"]: t["state"] for t in touches}["next-steps-email"] == "scheduled"


def test_python_m_hundred_cli_is_the_same_command():
    """`python -m hundred.cli` (no console script on PATH) runs and names itself as `hundred`."""
    done = subprocess.run(
        [sys.executable, "-m", "hundred.cli", "task", "done", "D-1"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "Usage: hundred task done [OPTIONS] DEAL TOUCH"


def test_status_of_every_journey_counts_each_deals_touches_by_state(running):
    journeys = json.loads(hundred_cli("status", "--json").stdout)["journeys"]
    mine = next(j for j in journeys if j["deal"] == "D-1")
    touches = json.loads(hundred_cli("status", "D-1", "--json").stdout)["touches"]
    expected: dict[str, int] = {}
    for t in touches:
        expected[t["state"]] = expected.get(t["state"], 0) + 1
    assert mine["touches"] == expected and sum(expected.values()) == len(touches) > 0


# -- an email in doubt ------------------------------------------------------------------------------


def test_retry_of_an_email_in_doubt_asks_what_the_mail_log_shows_and_a_finding_needs_a_doubt(running):
    """A killed run left next-steps-email `sending` (the server may have it): a plain retry is
    refused with the Message-ID and both answers; a finding for a touch not in doubt is refused."""
    ledger = bootstrap.ledger(Settings(home=running / "home"))
    for touch in ("next-steps-email", "one-month-email"):
        assert ledger.move("D-1", touch, Moves.FAIL, error="a run died")
    journey = ledger.journey("D-1")
    key = TouchKey("D-1", journey.journey_id, journey.version, "next-steps-email")
    ledger.begin_delivery(key.delivery_key("email"), "D-1", "next-steps-email", "email", key.message_id())
    assert ledger.mark_delivery(key.delivery_key("email"), "sending")
    ledger.close()
    plain = hundred_cli("retry", "D-1", "next-steps-email")
    assert plain.returncode == 1 and plain.stdout == ""
    (line,) = plain.stderr.strip().splitlines()
    assert line.startswith(f"D-1 · next-steps-email may already have been delivered (Message-ID {key.message_id()})")
    assert "hundred retry D-1 next-steps-email --delivered" in line and "`--not-delivered`" in line
    wrong = hundred_cli("retry", "D-1", "one-month-email", "--not-delivered")
    assert wrong.returncode == 1
    assert wrong.stderr.strip().startswith("nothing of D-1 · one-month-email is in doubt"), wrong.stderr
