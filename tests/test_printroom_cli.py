"""`hundred letters …`: exit codes, one-line errors, --json contracts, worked examples in --help."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from printroom_data import fill

from hundred import bootstrap
from hundred.adapters.ledger import Ledger

COMMANDS = ("list", "batch", "batches", "mark-printed", "mark-posted", "spoil", "reprint", "alignment", "unlock")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUNDRED_LETTERS_DIR", str(tmp_path / "letters"))
    monkeypatch.setenv("HUNDRED_JOURNEYS_DIR", str(tmp_path / "journeys"))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def queued(home: Path) -> list[str]:
    led = Ledger.open(f"sqlite:///{home / 'ledger.db'}")
    ids = fill(led, 5, print_by=None)
    led.close()
    return ids


@pytest.fixture
def cli(monkeypatch, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        return run_cli(monkeypatch, capsys, "letters", *args)

    return run


@pytest.fixture
def runtime_here(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mark-posted` goes through the runtime; here with the simulator's scheduler (no Prefect)."""
    from hundred.cli import operate as cli_runtime
    from hundred.service.settings import Settings
    from hundred.service.simulate import VirtualScheduler

    monkeypatch.setattr(
        cli_runtime,
        "_runtime",
        lambda: bootstrap.runtime(Settings(), ledger_=cli_runtime._ledger(), scheduler_=VirtualScheduler()),
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_worked_example(cli, command):
    code, out, _ = cli(command, "--help")
    assert code == 0 and f"hundred letters {command}" in out


def test_without_a_ledger_the_commands_say_so_in_one_line(cli, home):
    code, out, err = cli("list")
    assert code == 1 and err.count("\n") == 1 and "nothing is running here" in err


def test_list_json_contract(cli, queued):
    code, out, _ = cli("list", "--json")
    assert code == 0
    rows = json.loads(out)["letters"]
    assert len(rows) == 5
    assert set(rows[0]) == {"letter", "deal", "touch", "state", "print_by", "postcode", "country", "batch"}
    code, _, err = cli("list", "--state", "lost")
    assert code == 1 and "not a letter state" in err


def test_batch_json_then_print_and_post_the_batch(cli, queued, runtime_here):
    code, out, err = cli("batch", "--duplex", "--labels", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"batch", "letters", "pages", "pdf", "manifest", "labels"} and data["letters"] == 5
    assert all(Path(data[k]).exists() for k in ("pdf", "manifest", "labels"))
    code, out, _ = cli("batch", "--json")
    assert code == 0 and json.loads(out)["letters"] == 0  # the queue is empty now: not an error
    code, out, _ = cli("batch")
    assert code == 0 and out.startswith("no letters to print by")
    code, out, _ = cli("batches")
    assert code == 0 and data["batch"] in out and "made" in out
    code, out, _ = cli("list", "--state", "batched", "--json")
    assert {r["batch"] for r in json.loads(out)["letters"]} == {data["batch"]}
    code, out, _ = cli("mark-printed", data["batch"])
    assert code == 0 and out.strip() == f"batch {data['batch']}: 5 letters printed"
    code, out, _ = cli("mark-posted", data["batch"])
    assert code == 0 and out.count(": posted") == 5
    code, out, _ = cli("mark-posted", data["batch"])
    assert code == 0 and "nothing left to post" in out
    code, out, _ = cli("batch", "--again", data["batch"], "--json")
    assert code == 0 and json.loads(out)["letters"] == 5


def test_mark_posted_one_letter_or_a_deal(cli, queued, runtime_here):
    code, out, _ = cli("mark-posted", queued[0])
    assert code == 0 and out.startswith(f"{queued[0]}: posted")
    code, out, _ = cli("mark-posted", queued[0])
    assert code == 0 and "already posted" in out
    deal = queued[1].split("/")[0]
    code, out, _ = cli("mark-posted", "--deal", deal)
    assert code == 0 and out.startswith(f"{queued[1]}: posted")
    code, _, err = cli("mark-posted", "--deal", deal)
    assert code == 1 and "no letters waiting to be posted" in err
    code, _, err = cli("mark-posted", "D-9/none")
    assert code == 1 and "no letter D-9/none" in err
    code, _, err = cli("mark-posted")
    assert code == 2


def test_user_errors_are_one_line_and_exit_1(cli, queued):
    for args, message in (
        (("mark-printed", "nope"), "no batch nope"),
        (("batch", "--date", "tomorrow"), "not a date"),
        (("batch", "--again", "nope"), "no batch nope"),
        (("spoil", queued[0]), "still in the queue"),
        (("reprint", "D-9/none"), "no letter D-9/none"),
        (("alignment", "--paper", "A5"), "use one of"),
    ):
        code, out, err = cli(*args)
        assert code == 1 and message in err and err.count("\n") == 1, (args, err)


def test_spoil_and_reprint(cli, queued):
    cli("batch")
    code, out, _ = cli("spoil", queued[2], "--reason", "printer jam")
    assert code == 0 and "back in the queue" in out
    code, out, _ = cli("list", "--state", "queued", "--json")
    assert [r["letter"] for r in json.loads(out)["letters"]] == [queued[2]]
    code, out, _ = cli("reprint", queued[2])
    assert code == 0 and Path(out.strip()).read_bytes().startswith(b"%PDF")


def test_alignment_writes_one_page(cli, home, tmp_path):
    from pdftools import page_count, pdftotext

    code, out, _ = cli("alignment")
    assert code == 0 and out.strip().endswith("alignment-A4.pdf")
    assert page_count(out.strip()) == 1
    text = " ".join(pdftotext(out.strip()).split())
    assert all(w in text for w in ("DL 220", "C5", "US #10", "100 mm"))
    code, out, _ = cli("alignment", "--paper", "letter", "--out", str(tmp_path / "a.pdf"))
    assert code == 0 and Path(out.strip()) == tmp_path / "a.pdf"


def _ledger(home: Path) -> Ledger:
    return Ledger.open(f"sqlite:///{home / 'ledger.db'}")


def test_an_empty_batch_says_when_the_next_letters_are_due_and_how_to_print_them(cli, home):
    from hundred.service.settings import Settings

    led = _ledger(home)
    today = bootstrap.print_room(Settings(), ledger_=led).today()
    later = today + timedelta(days=5)
    fill(led, 2, print_by=later)
    fill(led, 1, print_by=later + timedelta(days=3), start=10)
    led.close()
    code, out, _ = cli("batch")
    assert code == 0
    assert out.strip() == (
        f"no letters to print by {today.isoformat()}; the next 2 letters are due by {later.isoformat()}: "
        f"hundred letters batch --date {later.isoformat()}"
    )
    code, out, _ = cli("batch", "--date", later.isoformat())
    assert code == 0 and out.startswith("batch ") and ": 2 letters, " in out
    code, out, _ = cli("batch", "--date", later.isoformat())
    assert "the next 1 letter is due by" in out


def test_batches_say_their_time_in_the_journeys_zone_by_name_and_count_in_words(cli, home):
    from zoneinfo import ZoneInfo

    led = _ledger(home)
    fill(led, 1, print_by=None)
    led.close()
    code, out, _ = cli("batch", "--json")
    batch = json.loads(out)["batch"]
    code, out, _ = cli("batches")
    assert code == 0 and "1 letter " in out and "1 letters" not in out and "(Europe/Amsterdam)" in out
    made = _ledger(home).batch_row(batch).created_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"made {made:%Y-%m-%d %H:%M} (Europe/Amsterdam)" in out
    assert batch.startswith(f"{made:%Y%m%d-%H%M}-")  # the batch id says the same time, in the same zone
    code, out, _ = cli("batches", "--json")
    data = json.loads(out)
    assert data["timezone"] == "Europe/Amsterdam"
    assert datetime.fromisoformat(data["batches"][0]["made"]).utcoffset() == made.utcoffset()
    code, out, _ = cli("mark-printed", batch)
    assert out.strip() == f"batch {batch}: 1 letter printed"


def test_a_batch_keeps_its_cover_warnings_for_the_page_and_the_cli(cli, home):
    import random

    from printroom_data import letter_inputs

    led = _ledger(home)
    values = letter_inputs(1, random.Random(3), None)
    values["address"] = dict(values["address"], name="Stichting " + "Buitengewoon Lange Organisatienaam " * 3)
    led.queue_letter(**values)
    led.close()
    code, out, err = cli("batch", "--json")
    batch = json.loads(out)["batch"]
    row = _ledger(home).batch_row(batch)
    assert row.warnings and "does not fit" in row.warnings[0] and row.warnings[0].startswith("#1 ")
    code, out, _ = cli("batches", "--json")
    assert json.loads(out)["batches"][0]["warnings"] == row.warnings
    code, out, _ = cli("batches")
    assert "1 warning" in out


def test_unlock_lets_the_print_room_take_the_right_password_again(cli, home):
    from hundred.service.local import print_unlock_stamp

    assert print_unlock_stamp(home) is None
    code, out, _ = cli("unlock")
    assert code == 0 and "unlocked" in out and str(home) in out
    first = print_unlock_stamp(home)
    cli("unlock")
    assert first and print_unlock_stamp(home) not in (None, first)  # each unlock is a new stamp
