"""The demo does not fight the user: its print staff batch, print and post only a batch they made of
the demo's own letter, and leave alone a letter or a batch the user handled (so the user's "Mark
printed" never finds its work done behind its back); its account manager skips a task the user
did. Its lines start at journey day 0 and print long details (a path) whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import deal_payload, email, journey_yaml, letter, phase, task
from printroom_world import World

from hundred.up.demo import DemoView

JOURNEY = journey_yaml(
    phase("admit", task("welcome", 0, "confirm: false\n")),
    phase("affirm", letter("thanks", 1)),
    phase("advocate", email("referral", 4, "referral: true\n")),
)
LETTER = "D-1/thanks"


@pytest.fixture
def world(make_journey, tmp_path) -> World:
    make_journey(JOURNEY)
    w = World(tmp_path)
    w.runtime.deal_closed(deal_payload(), received_at=w.now)
    return w


def demo(world: World) -> DemoView:
    view = DemoView("D-1", world.now, None)
    view.ledger, view.runtime, view.room = world.ledger, world.runtime, world.room
    return view


def now_due(view: DemoView) -> None:
    """Skip the demo people's waiting: every chore is due now."""
    for chore in view.chores.values():
        chore.at = 0.0
    view.act()


def test_the_demo_prints_and_posts_only_a_batch_of_its_own(world, capsys):
    view = demo(world)
    world.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    other, _ = world.ledger.queue_letter(  # someone else's letter, due today: not the demo's business
        **{k: v for k, v in vars(world.ledger.letter(LETTER)).items() if k in QUEUE_FIELDS},
        letter_id="D-9/thanks",
        deal_id="D-9",
    )
    view.poll()
    assert "thanks" in view.chores and "welcome" in view.chores
    now_due(view)  # the account manager does the task; print staff batch the letter
    assert world.ledger.touch("D-1", "welcome").state == "done"
    batch = world.ledger.letter(LETTER).batch_id
    assert batch and world.room.batch(batch).letters == 1
    assert world.ledger.letter("D-9/thanks").state == "queued"  # not in the demo's batch
    now_due(view)
    assert world.ledger.letter(LETTER).state == "printed"
    now_due(view)
    assert world.ledger.letter(LETTER).state == "posted" and world.ledger.touch("D-1", "thanks").state == "delivered"
    assert world.room.batch(batch).state == "posted" and not view.chores
    out = capsys.readouterr().out
    assert f"print staff made batch {batch} of {LETTER}" in out and f"print staff posted batch {batch}" in out
    assert other.state == "queued"


QUEUE_FIELDS = ("touch_id", "text", "seed", "hand", "layout", "address", "signer", "signer_title", "print_by")


def test_a_letter_the_user_batched_is_left_to_the_user(world, capsys):
    view = demo(world)
    world.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    view.poll()
    mine = world.room.make_batch()  # the user batches it from the page before the demo's staff come
    now_due(view)
    assert "thanks" not in view.chores and world.ledger.letter(LETTER).batch_id == mine.batch_id
    assert world.room.mark_printed(mine.batch_id) == 1  # the user's "Mark printed" marks their letter
    assert f"print staff leave {LETTER} to you (it is batched)" in capsys.readouterr().out


def test_a_batch_of_the_demo_the_user_marked_printed_is_left_to_the_user(world, capsys):
    view = demo(world)
    world.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    view.poll()
    now_due(view)  # the demo's batch
    batch = world.ledger.letter(LETTER).batch_id
    assert world.room.mark_printed(batch) == 1  # the user was quicker
    now_due(view)
    assert not view.chores  # the demo neither marks it printed again nor posts it
    assert world.ledger.letter(LETTER).state == "printed"
    assert world.room.mark_posted(batch_id=batch) == [LETTER]  # the user posts it
    assert f"print staff leave batch {batch} to you" in capsys.readouterr().out


def test_a_task_the_user_did_is_left_alone(world, capsys):
    view = demo(world)
    world.run_until(datetime(2026, 11, 21, tzinfo=UTC))
    view.poll()
    world.runtime.task_done("D-1", "welcome")
    now_due(view)
    assert "the account manager leaves welcome alone (it is done)" in capsys.readouterr().out


def test_days_start_at_zero_by_the_journeys_clock_and_long_details_are_printed_whole(world, capsys):
    received = world.ledger.journey("D-1").received_at
    view = DemoView("D-1", received, 5.0)  # as `hundred up --demo --day-seconds 5` says
    assert view.day(received - timedelta(seconds=3)) == 0.0 and view.day(received + timedelta(seconds=10)) == 2.0
    view.ledger = world.ledger
    first = capsys.readouterr().out.splitlines()
    assert "0.0" in first[1] and "closed and received: day 0" in first[1]
    path = "/tmp/" + "very-long-folder-name/" * 8 + "DEMO-1.first-100-days.next-steps-email.eml"
    world.ledger.record_event("D-1", "delivered", "thanks", f"written to {path}")
    view.poll()
    out = capsys.readouterr().out
    assert path in out and "…" not in out
    # once the journey is read, its own clock counts (this one runs in real time)
    assert view.day_seconds is None and view.day(received + timedelta(hours=12)) == 0.5
