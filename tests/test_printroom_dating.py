"""What the print room shows is what was printed: a letter is dated the day it is printed. A letter
made by the real runtime (dated its print-by day) and printed in a later batch carries the batch's
day in the batch PDF, on the page ("What the letter says"), in its own PDF, in the preview and in
a reprint; the reprint is that batch's copy byte for byte (and the batch's pages of it, rendered
with poppler, are the same pixels). A spoiled copy back in the queue is dated its print-by day
again, and its next batch dates it anew."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from babel.dates import format_date
from conftest import deal_payload, email, journey_yaml, letter, phase, run_cli
from pdftools import pdftotext, require_poppler
from printroom_world import World
from web_site import PASSWORD, Served, login

from hundred.adapters.ledger import Ledger

JOURNEY = journey_yaml(
    phase("affirm", letter("thanks", 1)),
    phase("advocate", email("referral", 4, "referral: true\n")),
    head="locale: nl_NL",
)
TEMPLATES = {
    "letters/thanks.txt": "Zwolle, {{ touch.date | date }}\n\nBeste {{ contact.first_name }},\n\nDank je wel.\n\n"
    "{{ sender.name }}\n"
}


def long_nl(day: date) -> str:
    return format_date(day, "long", locale="nl_NL")  # "2 december 2026", as the `date` filter writes it


def said(pdf: Path | bytes, tmp_path: Path) -> str:
    if isinstance(pdf, bytes):
        path = tmp_path / "said.pdf"
        path.write_bytes(pdf)
        pdf = path
    return " ".join(pdftotext(pdf).split())


def pixels(pdf: Path, first: int, last: int, out: Path) -> list[bytes]:
    """Each page's PNG as poppler renders it (72 dpi, grey)."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "72", "-gray", "-png", "-f", str(first), "-l", str(last), str(pdf), str(out / "p")],
        check=True,
        capture_output=True,
    )
    return [p.read_bytes() for p in sorted(out.glob("p-*.png"))]


@pytest.fixture
def world(make_journey, tmp_path) -> World:
    make_journey(JOURNEY, TEMPLATES)
    w = World(tmp_path)
    w.runtime.deal_closed(deal_payload())
    w.run_until(datetime(2026, 11, 27, tzinfo=UTC))
    (row,) = w.ledger.letters()
    assert row.state == "queued" and row.pdf_path and row.print_by
    return w


def test_a_letter_printed_in_a_later_batch_carries_its_day_everywhere_and_a_reprint_is_that_batchs_copy(
    world, tmp_path
):
    require_poppler()
    (row,) = world.ledger.letters()
    planned = long_nl(row.print_by)
    assert row.text.startswith(f"Zwolle, {planned}")  # the runtime dated it its print-by day
    assert planned in said(Path(row.pdf_path), tmp_path)
    assert world.room.print_day(row) == row.print_by  # queued: its print-by day, as its own PDF says

    world.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # the print room was closed: printed on Wed 2 Dec
    result = world.room.make_batch()
    printed = long_nl(date(2026, 12, 2))
    ((entry, batched),) = world.ledger.batch_entries(result.batch_id)
    batch_pages = said(result.pdf, tmp_path)
    assert f"Zwolle, {printed}" in batch_pages and planned not in batch_pages

    assert world.room.print_day(batched) == date(2026, 12, 2)
    assert world.room.dated(batched).body.startswith(f"Zwolle, {printed}")  # the page's "What the letter says"
    assert batched.text == row.text  # the ledger keeps what was queued

    stored = Path(batched.pdf_path).read_bytes()
    reprint = world.room.reprint(batched.letter_id).read_bytes()
    assert reprint == stored == world.room.preview(batched.letter_id)  # byte for byte
    assert f"Zwolle, {printed}" in said(reprint, tmp_path) and planned not in said(reprint, tmp_path)
    # the reprint is the batch's copy: poppler draws the batch's pages of it and the reprint alike
    copy = tmp_path / "reprint.pdf"
    copy.write_bytes(reprint)
    in_batch = pixels(result.pdf, entry.first_page, entry.last_page, tmp_path / "batch")
    alone = pixels(copy, 1, entry.last_page - entry.first_page + 1, tmp_path / "alone")
    assert in_batch and in_batch == alone

    # rendered again (a lost file, `letters batch --again`), everything stays as it was
    first = result.pdf.read_bytes()
    assert world.room.render_batch(result.batch_id).pdf.read_bytes() == first
    assert Path(batched.pdf_path).read_bytes() == stored


def test_a_spoiled_copy_is_dated_its_print_by_day_again_and_its_next_batch_dates_it_anew(world, tmp_path):
    require_poppler()
    (row,) = world.ledger.letters()
    world.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    first = world.room.make_batch()
    world.room.spoil(row.letter_id, "printer jam")
    queued = world.ledger.letter(row.letter_id)
    assert queued.state == "queued" and world.room.print_day(queued) == row.print_by
    assert Path(queued.pdf_path).read_bytes() == world.room.preview(row.letter_id)
    assert long_nl(row.print_by) in said(Path(queued.pdf_path), tmp_path)

    world.now += timedelta(days=1)
    second = world.room.make_batch()
    again = world.ledger.letter(row.letter_id)
    assert again.batch_id == second.batch_id and world.room.print_day(again) == date(2026, 12, 3)
    assert long_nl(date(2026, 12, 3)) in said(Path(again.pdf_path), tmp_path)
    assert Path(again.pdf_path).read_bytes() == world.room.reprint(row.letter_id).read_bytes()
    # the first batch, rendered again, still prints its own day and leaves the letter's PDF alone
    assert long_nl(date(2026, 12, 2)) in said(world.room.render_batch(first.batch_id).pdf, tmp_path)
    assert long_nl(date(2026, 12, 3)) in said(Path(again.pdf_path), tmp_path)
    # posted, the letter keeps its batch's day
    world.room.mark_posted(batch_id=second.batch_id)
    assert world.room.print_day(world.ledger.letter(row.letter_id)) == date(2026, 12, 3)


def test_the_page_shows_the_text_as_its_batch_printed_it(world, tmp_path):
    from hundred.web import create_app

    (row,) = world.ledger.letters()
    world.now = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    world.room.make_batch()
    settings = world.settings.model_copy(update={"print_password": PASSWORD})
    server = Served(create_app(world.settings.home, settings=settings, printroom=world.room))
    with server, httpx.Client(base_url=server.url, follow_redirects=False) as client:
        assert login(client).status_code == 303
        for language, dated in (("en", "Wed 2 Dec 2026"), ("nl", "wo 2 dec 2026")):
            page = client.get(
                "/print/letter",
                params={"id": row.letter_id},
                headers={"accept": "text/html", "accept-language": language},
            ).text
            assert f"Zwolle, {long_nl(date(2026, 12, 2))}" in page and long_nl(row.print_by) not in page
            assert dated in page  # the "Dated" line, in the staff's words
        download = client.get("/print/letter.pdf", params={"id": row.letter_id})
        assert download.content == Path(world.ledger.letter(row.letter_id).pdf_path).read_bytes()


def test_hundred_letters_reprint_of_a_batched_letter_is_its_batch_copy(tmp_path, monkeypatch, capsys):
    """The command line's reprint: a letter due in ten days, batched today, is dated today."""
    require_poppler()
    import random

    from printroom_data import letter_inputs

    from hundred import bootstrap
    from hundred.service.printroom.copies import letter_of, render_pdf
    from hundred.service.settings import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUNDRED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUNDRED_LETTERS_DIR", str(tmp_path / "letters"))
    monkeypatch.setenv("HUNDRED_JOURNEYS_DIR", str(tmp_path / "journeys"))
    monkeypatch.delenv("HUNDRED_DATABASE_URL", raising=False)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'home' / 'ledger.db'}")
    room = bootstrap.print_room(Settings(), ledger_=ledger)
    due = room.today() + timedelta(days=10)
    values = letter_inputs(1, random.Random(1), due)
    values.update(
        text=f"Zwolle, {long_nl(due)}\n\n" + values["text"],
        layout=dict(values["layout"], locale="nl_NL"),
        pdf_path=str(tmp_path / "letters" / "D-1001" / "thank-you-letter.pdf"),
    )
    row, _ = ledger.queue_letter(**values)
    Path(row.pdf_path).parent.mkdir(parents=True)
    Path(row.pdf_path).write_bytes(render_pdf(letter_of(row), row))  # as the letter channel writes it
    ledger.close()

    code, out, err = run_cli(monkeypatch, capsys, "letters", "batch", "--date", due.isoformat())
    assert code == 0 and "1 letter, " in out, err
    code, out, err = run_cli(monkeypatch, capsys, "letters", "reprint", row.letter_id)
    assert code == 0, err
    reprint = Path(out.strip()).read_bytes()
    assert reprint == Path(row.pdf_path).read_bytes()
    text = said(reprint, tmp_path)
    assert long_nl(room.today()) in text and long_nl(due) not in text
