"""A print batch checked with real PDF tools: page counts (pdfinfo), the order of the recipients
and the cover's text (pdftotext), duplex padding, qpdf --check; the manifest; the label sheet;
an empty queue; a batch rendered again from the ledger is byte-identical."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lanes import missing
from pdftools import page_count, page_texts, require_poppler
from printroom_data import fill, letter_inputs

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.printroom import PrintRoom
from hundred.service.settings import Settings

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Mon 30 Nov, 08:00 in Amsterdam
DAY = date(2026, 11, 30)


def require_qpdf() -> str:
    if not shutil.which("qpdf"):
        missing("qpdf", "apt-get install -y qpdf")
    return "qpdf"


def qpdf_check(path: Path) -> None:
    done = subprocess.run([require_qpdf(), "--check", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def ledger() -> Ledger:
    led = Ledger.memory(clock=lambda: NOW)
    yield led
    led.close()


@pytest.fixture
def room(ledger: Ledger, tmp_path: Path) -> PrintRoom:
    return bootstrap.print_room(Settings(home=tmp_path / "home", letters_dir=tmp_path / "letters"), ledger_=ledger)


def manifest(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_batch_is_one_pdf_in_postcode_order_domestic_first_with_cover_and_manifest(room, ledger):
    require_poppler()
    ids = fill(ledger, 24)
    result = room.make_batch(until=DAY)
    assert result.letters == 24 and result.batch_id and result.labels is None
    assert result.pdf == room.batch_dir(result.batch_id) / f"batch-{result.batch_id}.pdf"
    assert page_count(result.pdf) == result.pages
    qpdf_check(result.pdf)
    rows = manifest(result.manifest)
    assert [r["sequence"] for r in rows] == [str(i) for i in range(1, 25)]
    assert sorted(r["letter"] for r in rows) == sorted(ids)
    # the manifest's columns, spelled out here (not MANIFEST_COLUMNS): the print room's spreadsheets read them
    columns = "sequence letter deal touch name postcode city country first_page last_page seed problems"
    assert list(rows[0]) == columns.split()
    countries = [r["country"] for r in rows]
    domestic = [c for c in countries if c == "NL"]
    assert countries[: len(domestic)] == domestic  # domestic first
    assert countries[len(domestic) :] == sorted(countries[len(domestic) :])  # then abroad by country
    for country in set(countries):
        codes = [r["postcode"].replace(" ", "").upper() for r in rows if r["country"] == country]
        assert codes == sorted(codes, key=lambda c: (len(c) if c.isdigit() else 0, c))
    texts = page_texts(result.pdf)
    cover = texts[0]
    assert f"Batch {result.batch_id}" in cover and "DO NOT MAIL" in cover
    assert "Letters: 24" in cover and f"domestic (NL) {len(domestic)}" in cover
    assert "Paper: A4" in cover and "Envelope: DL" in cover and "Duplex: no" in cover and "Problems: none" in cover
    # each manifest row's pages hold that recipient, and the pages run in manifest order
    for r in rows:
        first, last = int(r["first_page"]), int(r["last_page"])
        assert r["name"].upper() in texts[first - 1].upper() and r["letter"] in texts[last - 1]
    firsts = [int(r["first_page"]) for r in rows]
    assert firsts == sorted(firsts) and firsts[0] == 2
    abroad_at = len(domestic)
    assert "Mail abroad" in texts[int(rows[abroad_at]["first_page"]) - 2]  # the separator sheet
    assert all(l.state == "batched" and l.batch_id == result.batch_id for l in ledger.letters())


def test_duplex_pads_every_odd_sheet_group_with_a_blank_back(room, ledger):
    require_poppler()
    fill(ledger, 6)
    long_text = "\n\n".join(["Een lange alinea die doorloopt. " * 30] * 6)  # two pages
    row, _ = ledger.queue_letter(**{**letter_inputs(99, __import__("random").Random(1), DAY), "text": long_text})
    result = room.make_batch(until=DAY, duplex=True)
    rows = manifest(result.manifest)
    texts = page_texts(result.pdf)
    assert page_count(result.pdf) == result.pages == len(texts)
    assert result.pages % 2 == 0
    for r in rows:
        first, last = int(r["first_page"]), int(r["last_page"])
        assert first % 2 == 1, r  # every letter starts on a front side
        if (last - first) % 2 == 0:  # odd page count: the next page is a blank back
            assert texts[last].strip() == ""
    long_row = next(r for r in rows if r["letter"] == row.letter_id)
    assert int(long_row["last_page"]) > int(long_row["first_page"])  # a letter of several pages
    assert texts[1].strip() == ""  # the cover's blank back
    assert "Duplex: yes" in texts[0]
    qpdf_check(result.pdf)


def test_the_label_sheet_has_one_label_per_letter_in_print_order(room, ledger):
    require_poppler()
    fill(ledger, 25)
    result = room.make_batch(until=DAY, labels=True)
    assert result.labels and result.labels.exists()
    assert page_count(result.labels) == 2  # L7160: 21 labels a sheet
    info = subprocess.run(["pdfinfo", str(result.labels)], capture_output=True, text=True).stdout
    assert "595.276 x 841.89" in info  # A4
    rows = manifest(result.manifest)
    text = "\n".join(page_texts(result.labels)).upper()
    positions = [text.index(r["name"].upper()) for r in rows[:21]]
    assert "#1" in text and "#25" in text
    assert all(r["name"].upper() in text for r in rows)
    assert positions[0] < positions[20]
    qpdf_check(result.labels)


def test_letter_paper_gets_avery_5160_labels(room, ledger):
    require_poppler()
    import random

    for i in range(3):
        data = letter_inputs(i, random.Random(i), DAY)
        data["layout"] = {**data["layout"], "paper": "letter", "envelope": "US10", "sender_country": "US"}
        ledger.queue_letter(**data)
    result = room.make_batch(until=DAY, labels=True)
    info = subprocess.run(["pdfinfo", str(result.labels)], capture_output=True, text=True).stdout
    assert "612 x 792" in info
    assert "Paper: letter" in page_texts(result.pdf)[0]


def test_only_letters_due_by_the_day_are_taken_and_an_empty_queue_is_not_an_error(room, ledger):
    fill(ledger, 3, print_by=date(2026, 12, 3))
    result = room.make_batch(until=DAY)
    assert result.to_json() == {"batch": None, "letters": 0, "pages": 0, "pdf": None, "manifest": None, "labels": None}
    assert not (room.letters_dir / "batches").exists()
    assert room.make_batch(until=date(2026, 12, 3)).letters == 3
    assert room.make_batch(until=date(2026, 12, 31)).letters == 0  # nothing twice


def test_a_letter_that_cannot_be_printed_stays_queued_and_is_named_on_the_cover(room, ledger):
    require_poppler()
    import random

    fill(ledger, 2)
    bad = letter_inputs(50, random.Random(3), DAY)
    bad["address"] = {**bad["address"], "country": "Netherlands"}
    ledger.queue_letter(**bad)
    result = room.make_batch(until=DAY)
    assert result.letters == 2
    assert ledger.letter(bad["letter_id"]).state == "queued"
    cover = " ".join(page_texts(result.pdf)[0].split())
    assert "Problems: 1" in cover and bad["letter_id"] in cover and "ISO 3166" in cover


def test_a_batch_rendered_again_from_the_ledger_is_byte_identical(room, ledger):
    fill(ledger, 12)
    first = room.make_batch(until=DAY, duplex=True, labels=True)
    files = {k: getattr(first, k).read_bytes() for k in ("pdf", "manifest", "labels")}
    for kind in ("pdf", "manifest", "labels"):
        getattr(first, kind).unlink()
    assert room.batch_file(first.batch_id, "pdf").read_bytes() == files["pdf"]  # missing: rendered again
    again = room.render_batch(first.batch_id)
    assert {k: getattr(again, k).read_bytes() for k in files} == files
    # a spoiled letter leaves for the next batch; its old batch still renders the same
    victim = manifest(first.manifest)[3]["letter"]
    room.spoil(victim, "printer jam")
    assert room.render_batch(first.batch_id).pdf.read_bytes() == files["pdf"]


def test_rendering_uses_the_stored_inputs_not_the_template(room, ledger, tmp_path):
    require_poppler()
    ids = fill(ledger, 2)
    result = room.make_batch(until=DAY)
    before = result.pdf.read_bytes()
    (tmp_path / "templates").mkdir()  # whatever the templates say now, the ledger's text is printed
    assert room.render_batch(result.batch_id).pdf.read_bytes() == before
    assert "Beste" in page_texts(result.pdf)[1] and ids[0] in "".join(page_texts(result.pdf))


def test_batch_files_cannot_escape_the_letters_folder(room):
    with pytest.raises(LookupError):
        room.batch_file("../../etc", "pdf")
    with pytest.raises(ValueError):
        room.batch_path("x", "passwd")
    assert room.batch_dir("../x").parent == room.letters_dir / "batches"
