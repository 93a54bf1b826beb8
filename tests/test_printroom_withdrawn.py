"""A cancelled journey's letters are `withdrawn` (state, filter, CLI, JSON), never `spoiled`, which
is what a damaged copy is: migration 0005 renames the rows an older hundred left `spoiled` (and
the events that withdrew them, not a damaged copy's), on SQLite and PostgreSQL, and back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import deal_payload, email, journey_yaml, letter, phase, run_cli, task
from printroom_world import World
from sqlalchemy import text

from hundred.adapters.ledger import HEAD, Ledger, db

JOURNEY = journey_yaml(
    phase("admit", task("welcome", 0, "confirm: false\n")),
    phase("affirm", letter("thanks", 1)),
    phase("advocate", email("referral", 4, "referral: true\n")),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    return request.getfixturevalue("pg_database")("withdrawn")


def _old_ledger(url: str) -> None:
    """A ledger at revision 0004 holding what the old runtime wrote: a cancelled journey's letter
    `spoiled` (its event's detail is the letter id), and a damaged copy back in the queue."""
    writer, reader = db.make_engines(url)
    db.upgrade(writer, "0004")
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    rows = [("D-1/thanks", "D-1", "spoiled"), ("D-2/thanks", "D-2", "queued")]
    with writer.begin() as conn:
        for letter_id, deal, state in rows:
            conn.execute(
                text(
                    "INSERT INTO letters (letter_id, deal_id, touch_id, text, seed, hand, layout, address, signer, "
                    "state, queued_at, updated_at) VALUES (:l, :d, 'thanks', 'Beste', :l, 'caveat', '{}', '{}', "
                    "'Sanne', :s, :t, :t)"
                ),
                {"l": letter_id, "d": deal, "s": state, "t": now},
            )
        for deal, detail in (("D-1", "D-1/thanks"), ("D-2", "D-2/thanks in batch B-1: printer jam; back in the queue")):
            conn.execute(
                text(
                    "INSERT INTO events (at, deal_id, touch_id, event, detail) VALUES (:t, :d, 'thanks', 'letter.spoiled', :x)"
                ),
                {"t": now, "d": deal, "x": detail},
            )
        conn.execute(
            text(
                "INSERT INTO batches (batch_id, created_at, until, duplex, labels, letters, pages, problems) "
                "VALUES ('B-1', :t, '2026-12-01', false, false, 1, 2, '[]')"
            ),
            {"t": now},
        )
    writer.dispose()
    reader.dispose()


def test_migration_0005_renames_withdrawn_letters_and_their_events_and_back(db_url):
    _old_ledger(db_url)
    led = Ledger.open(db_url)
    assert db.current_revision(led.engine) == HEAD >= "0005"  # 0005 renamed them on the way
    assert led.letter("D-1/thanks").state == "withdrawn"
    assert led.letter("D-2/thanks").state == "queued"  # a damaged copy went back to the queue
    events = {e.deal_id: e.event for e in led.events()}
    assert events == {"D-1": "letter.withdrawn", "D-2": "letter.spoiled"}
    assert led.letters(state="withdrawn")[0].letter_id == "D-1/thanks"
    assert led.batch_row("B-1").warnings is None  # made before batches kept their warnings
    led.close()

    from alembic import command

    writer, reader = db.make_engines(db_url)
    with writer.begin() as conn:
        command.downgrade(db.alembic_config(conn), "0004")
    with reader.connect() as conn:
        states = dict(conn.execute(text("SELECT letter_id, state FROM letters")).all())
        kinds = dict(conn.execute(text("SELECT deal_id, event FROM events")).all())
    writer.dispose()
    reader.dispose()
    assert states == {"D-1/thanks": "spoiled", "D-2/thanks": "queued"}
    assert kinds == {"D-1": "letter.spoiled", "D-2": "letter.spoiled"}


def test_a_cancelled_journeys_letter_is_withdrawn_on_the_command_line(make_journey, tmp_path, monkeypatch, capsys):
    make_journey(JOURNEY)
    for key, value in {
        "HUNDRED_HOME": "home",
        "HUNDRED_LETTERS_DIR": "letters",
        "HUNDRED_JOURNEYS_DIR": "journeys",
    }.items():
        monkeypatch.setenv(key, str(tmp_path / value))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    world = World(tmp_path, f"sqlite:///{tmp_path / 'home' / 'ledger.db'}")
    world.runtime.deal_closed(deal_payload())
    world.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    world.runtime.cancel("D-1", "deal churned")
    assert [r.state for r in world.ledger.letters()] == ["withdrawn"]
    assert any(e.event == "letter.withdrawn" for e in world.ledger.events())
    world.ledger.close()

    code, out, _ = run_cli(monkeypatch, capsys, "letters", "list", "--state", "withdrawn", "--json")
    assert code == 0 and [r["state"] for r in json.loads(out)["letters"]] == ["withdrawn"]
    code, out, _ = run_cli(monkeypatch, capsys, "letters", "list")
    assert code == 0 and "withdrawn" in out and "spoiled" not in out
    code, _, err = run_cli(monkeypatch, capsys, "letters", "list", "--state", "spoiled")
    assert code == 1 and "withdrawn" in err  # the one-line error lists the states, withdrawn among them
    code, out, _ = run_cli(monkeypatch, capsys, "letters", "list", "--help")
    assert "withdrawn" in out
    from hundred import bootstrap
    from hundred.cli import operate
    from hundred.service.settings import Settings
    from hundred.service.simulate import VirtualScheduler

    monkeypatch.setattr(  # posting goes through the runtime: the simulator's scheduler, no Prefect
        operate,
        "_runtime",
        lambda: bootstrap.runtime(Settings(), ledger_=operate._ledger(), scheduler_=VirtualScheduler()),
    )
    code, _, err = run_cli(monkeypatch, capsys, "letters", "mark-posted", "D-1/thanks")
    assert code == 1 and "withdrawn" in err
