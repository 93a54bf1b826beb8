"""A letter is dated the day it is printed: its print-by day when rendered (preview and delivery
alike), the batch's day when the print room prints it on another day (checked in the batch PDF
with pdftotext), never the day it arrives."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pdftools import page_texts, require_poppler
from printroom_data import letter_inputs

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.deals.model import load_deal
from hundred.planning.planner import plan
from hundred.rendering.handwriting.dating import redate
from hundred.rendering.touch import render_touch
from hundred.service.printroom import PrintRoom
from hundred.service.settings import Settings
from hundred.validation.validate import load_journey

ROOT = Path(__file__).resolve().parents[1]


def planned_letter(journey_file: str, deal_file: str, touch: str):
    journey, _ = load_journey(ROOT / "journeys" / journey_file)
    deal = load_deal(ROOT / "examples" / deal_file, now=datetime(2026, 11, 21, tzinfo=UTC))
    item = next(t for t in plan(journey, deal).touches if t.touch == touch)
    return journey, deal, item


@pytest.mark.parametrize(
    "journey_file, deal_file, first_line",
    [
        ("first-100-days.yaml", "deal-nl.json", "Zwolle, 23 november 2026"),  # arrives Wed 25 Nov
        ("first-100-days-en.yaml", "deal-en.json", "November 18, 2026"),
    ],
)
def test_the_thank_you_letter_is_dated_its_print_by_day(journey_file, deal_file, first_line):
    journey, deal, item = planned_letter(journey_file, deal_file, "thank-you-letter")
    assert item.print_by is not None and item.print_by < item.due.date()  # printed before it arrives
    content = render_touch(journey, deal, item.touch, item.due, ROOT / "templates", print_by=item.print_by)
    assert content.letter.body.splitlines()[0] == first_line
    # the runtime renders with the moment it runs; the date stays the planned print day
    again = render_touch(
        journey,
        deal,
        item.touch,
        item.due,
        ROOT / "templates",
        print_by=item.print_by,
        made_at=datetime(2026, 11, 23, 8, 0, tzinfo=UTC),
    )
    assert again.letter.body == content.letter.body


def test_redate_replaces_the_planned_day_as_the_date_filter_writes_it():
    text = "Zwolle, 23 november 2026\n\nBeste Ilse,\n\nTot maandag 23 november 2026!"
    moved = redate(text, date(2026, 11, 23), date(2026, 11, 25), "nl_NL")
    assert moved.splitlines()[0] == "Zwolle, 25 november 2026"
    assert moved.endswith("Tot maandag 23 november 2026!")  # only the first mention: the date line
    assert (
        redate("maandag 23 november 2026", date(2026, 11, 23), date(2026, 11, 24), "nl_NL")
        == "dinsdag 24 november 2026"
    )
    assert redate("November 18, 2026\n\nDear Daniel,", date(2026, 11, 18), date(2026, 11, 19), "en_US").startswith(
        "November 19, 2026\n"
    )
    assert redate(text, date(2026, 11, 23), date(2026, 11, 23), "nl_NL") == text
    assert redate(text, None, date(2026, 11, 25), "nl_NL") == text
    assert redate(text, date(2026, 11, 23), date(2026, 11, 25), "") == text  # a row queued without its locale


def queue(ledger: Ledger, n: int, print_by: date, dated: str) -> str:
    import random

    values = letter_inputs(n, random.Random(n), print_by)
    values["text"] = f"Zwolle, {dated}\n\n" + values["text"]
    values["layout"] = dict(values["layout"], locale="nl_NL")
    row, _ = ledger.queue_letter(**values)
    return row.letter_id


def batch_text(now: datetime, tmp_path: Path, print_by: date, dated: str) -> tuple[list[str], PrintRoom, str]:
    ledger = Ledger.memory(clock=lambda: now)
    room = bootstrap.print_room(
        Settings(home=tmp_path / "home", letters_dir=tmp_path / "letters"), ledger_=ledger, timezone="Europe/Amsterdam"
    )
    letter_id = queue(ledger, 1, print_by, dated)
    result = room.make_batch()
    return page_texts(result.pdf), room, letter_id


def test_a_letter_printed_in_a_later_batch_carries_the_batch_day(tmp_path):
    require_poppler()
    # planned for Mon 30 Nov, printed in the batch of Wed 2 Dec (the print room was closed)
    pages, room, letter_id = batch_text(
        datetime(2026, 12, 2, 8, 0, tzinfo=UTC), tmp_path, date(2026, 11, 30), "30 november 2026"
    )
    letter_pages = " ".join(pages[1:])  # page one is the cover sheet
    assert "2 december 2026" in letter_pages and "30 november 2026" not in letter_pages
    assert room.letter(letter_id).text.startswith("Zwolle, 30 november 2026")  # what was queued, kept
    (batch,) = room.batches()  # rendered again, the batch gives the same bytes: the day is the batch's
    batch_id = batch.batch_id
    first = room.batch_path(batch_id, "pdf").read_bytes()
    assert room.render_batch(batch_id).pdf.read_bytes() == first


def test_a_letter_printed_on_its_day_keeps_its_date(tmp_path):
    require_poppler()
    pages, _, _ = batch_text(datetime(2026, 11, 30, 8, 0, tzinfo=UTC), tmp_path, date(2026, 11, 30), "30 november 2026")
    assert "30 november 2026" in " ".join(pages[1:])
