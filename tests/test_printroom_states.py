"""Letter states through the print room with the real runtime: queued → batched → printed →
posted (which delivers the touch and opens the affirm gate), spoil (back to the queue, next
batch), reprint (byte-identical, no state change), withdrawn letters, the queue by print-by day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import deal_payload, email, journey_yaml, letter, phase, task
from printroom_data import fill
from printroom_world import World

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.settings import Settings

JOURNEY = journey_yaml(
    phase("admit", task("welcome", 0, "confirm: false\n")),
    phase("affirm", letter("thanks", 1)),
    phase("advocate", email("referral", 4, "referral: true\n")),
)
FAR = date(2027, 1, 1)


@pytest.fixture
def world(make_journey, tmp_path) -> World:
    make_journey(JOURNEY)
    w = World(tmp_path)
    w.runtime.deal_closed(deal_payload())
    w.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    assert [l.state for l in w.ledger.letters()] == ["queued"]
    return w


def test_batch_print_post_delivers_the_touch_and_opens_the_gate(world):
    assert world.state("thanks") == "running" and world.state("referral") == "waiting"
    result = world.room.make_batch(until=FAR)
    assert result.letters == 1
    (row,) = world.ledger.letters()
    assert (row.state, row.batch_id) == ("batched", result.batch_id)
    assert world.room.mark_printed(result.batch_id) == 1
    assert world.room.mark_printed(result.batch_id) == 0  # twice changes nothing
    assert world.ledger.letter(row.letter_id).state == "printed"
    assert world.room.batch(result.batch_id).state == "printed"
    assert world.room.mark_posted(batch_id=result.batch_id) == [row.letter_id]
    assert world.ledger.letter(row.letter_id).state == "posted"
    assert world.state("thanks") == "delivered"
    assert world.state("referral") == "scheduled"  # the affirm gate opened
    assert world.room.batch(result.batch_id).state == "posted"
    assert world.room.mark_posted(batch_id=result.batch_id) == []  # posting twice changes nothing
    assert world.room.mark_posted(letter_id=row.letter_id) == []


def test_one_letter_can_be_posted_by_itself(world):
    (row,) = world.ledger.letters()
    assert world.room.mark_posted(letter_id=row.letter_id) == [row.letter_id]  # even straight from the queue
    assert world.state("thanks") == "delivered"


def test_spoil_sends_the_letter_back_to_the_queue_and_into_the_next_batch(world):
    first = world.room.make_batch(until=FAR)
    (row,) = world.ledger.letters()
    world.room.spoil(row.letter_id, "printer jam")
    again = world.ledger.letter(row.letter_id)
    assert (again.state, again.batch_id) == ("queued", None)
    ((entry, _),) = world.ledger.batch_entries(first.batch_id)
    assert entry.spoil_reason == "printer jam" and entry.spoiled_at is not None
    assert any(e.event == "letter.spoiled" and "printer jam" in (e.detail or "") for e in world.ledger.events())
    second = world.room.make_batch(until=FAR)
    assert second.letters == 1 and second.batch_id != first.batch_id
    assert world.ledger.letter(row.letter_id).batch_id == second.batch_id
    assert world.room.mark_posted(batch_id=first.batch_id) == []  # the spoiled copy is not posted
    assert world.room.mark_posted(batch_id=second.batch_id) == [row.letter_id]
    assert world.state("thanks") == "delivered"


def test_spoil_is_refused_for_a_letter_not_printed_or_already_posted(world):
    (row,) = world.ledger.letters()
    with pytest.raises(ValueError, match="still in the queue"):
        world.room.spoil(row.letter_id, "x")
    world.room.mark_posted(letter_id=row.letter_id)
    with pytest.raises(ValueError, match="already posted"):
        world.room.spoil(row.letter_id, "x")
    with pytest.raises(LookupError, match="no letter"):
        world.room.spoil("D-9/nope", "x")


def test_reprint_is_byte_identical_and_changes_no_state(world):
    (row,) = world.ledger.letters()
    world.room.make_batch(until=FAR)
    path = world.room.reprint(row.letter_id)
    assert path.parent == world.settings.letters_dir / "reprints"
    first = path.read_bytes()
    assert first.startswith(b"%PDF") and world.room.reprint(row.letter_id).read_bytes() == first
    assert world.room.preview(row.letter_id) == first
    assert Path(row.pdf_path).read_bytes() == first  # the very PDF the letter channel rendered
    assert world.ledger.letter(row.letter_id).state == "batched"


def test_a_cancelled_journeys_letter_is_withdrawn_never_batched_or_posted(world):
    world.runtime.cancel("D-1", "deal churned")
    (row,) = world.ledger.letters()
    assert row.state == "withdrawn"
    assert world.room.make_batch(until=FAR).letters == 0
    with pytest.raises(ValueError, match="withdrawn"):
        world.room.mark_posted(letter_id=row.letter_id)


def test_the_queue_groups_by_print_by_day_overdue_first(tmp_path):
    led = Ledger.memory(clock=lambda: datetime(2026, 11, 30, 7, tzinfo=UTC))
    room = bootstrap.print_room(Settings(home=tmp_path, letters_dir=tmp_path / "letters"), ledger_=led)
    fill(led, 3, print_by=date(2026, 11, 27))
    fill(led, 2, print_by=date(2026, 12, 2), start=10)
    fill(led, 1, print_by=date(2026, 11, 30), start=20)
    days = room.queue()
    assert [(d.day, d.count, d.overdue) for d in days] == [
        (date(2026, 11, 27), 3, True),
        (date(2026, 11, 30), 1, False),
        (date(2026, 12, 2), 2, False),
    ]
    assert room.today() == date(2026, 11, 30)
    assert room.make_batch().letters == 4  # default: due by today (in Amsterdam)
    assert [d.day for d in room.queue()] == [date(2026, 12, 2)]
    assert room.batches()[0].letters == 4


def test_a_batch_that_cannot_be_rendered_puts_its_letters_back(tmp_path, monkeypatch):
    led = Ledger.memory()
    room = bootstrap.print_room(Settings(home=tmp_path, letters_dir=tmp_path / "letters"), ledger_=led)
    fill(led, 3)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(room, "files", boom)
    with pytest.raises(OSError):
        room.make_batch(until=FAR)
    assert {l.state for l in led.letters()} == {"queued"} and room.batches() == []
    monkeypatch.undo()
    assert room.make_batch(until=FAR).letters == 3


def test_a_batch_left_without_files_by_a_crash_is_written_by_the_next_run(tmp_path):
    from hundred.service.printroom.order import print_order

    now = [datetime(2026, 11, 30, 9, tzinfo=UTC)]
    led = Ledger.memory(clock=lambda: now[0])
    room = bootstrap.print_room(Settings(home=tmp_path, letters_dir=tmp_path / "letters"), ledger_=led)
    ids = fill(led, 3)
    led.claim_batch("crashed", ids, until=FAR, duplex=False, labels=False, order=print_order)  # then the run died
    fill(led, 2, start=10)
    assert room.make_batch(until=FAR).problems == []  # a batch made a moment ago may still be rendering
    assert not room.batch_path("crashed", "pdf").exists()
    fill(led, 2, start=20)
    now[0] = datetime(2026, 11, 30, 9, 11, tzinfo=UTC)
    result = room.make_batch(until=FAR)
    assert result.letters == 2 and any("batch crashed had no files" in p for p in result.problems)
    assert room.batch_path("crashed", "pdf").exists() and room.batch("crashed").pages > 0
    assert room.make_batch(until=FAR).problems == []
