"""The figures count in two read transactions side by side (hundred/adapters/ledger/paired_reads.py):
both must see the same ledger while a writer commits all the time, or a page's halves would not
add up (a touch delivered between their starts counted by one half only)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from hundred.adapters.ledger import Ledger
from hundred.adapters.ledger.paired_reads import side_by_side

EVENTS = text("SELECT count(*) FROM events")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def ledger(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_database")("paired_reads")
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    opened = Ledger.open(url)
    yield opened
    opened.close()


def test_both_halves_see_one_snapshot_while_a_writer_commits(ledger):
    stop = threading.Event()
    commits = [0]

    def writer() -> None:
        while not stop.is_set():
            ledger.record_event("D-1", "tick")
            commits[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        pairs = [side_by_side(ledger, _count, _count) for _ in range(150)]
    finally:
        stop.set()
        thread.join()
    assert commits[0] > 150, "the writer hardly ran: the test proves nothing"
    assert len({first for first, _ in pairs}) > 10, "the halves never saw the ledger move"
    assert [(a, b) for a, b in pairs if a != b] == []


def test_an_error_in_either_half_is_raised_after_both_have_ended(ledger):
    """The first half fails while the second is still reading: its error comes out only once the
    second has ended too, so no half is left reading on a connection that is being closed."""
    failing, ended = threading.Event(), threading.Event()

    def slow_then_fine(conn):
        assert failing.wait(10)
        time.sleep(0.3)  # still at work well after the first half has raised
        conn.execute(EVENTS)
        ended.set()
        return 1

    def fails(conn):
        failing.set()
        raise ValueError("the first half failed")

    with pytest.raises(ValueError, match="first half"):
        side_by_side(ledger, fails, slow_then_fine)
    assert ended.is_set()

    def fails_beside(conn):
        raise LookupError("the second half failed")

    with pytest.raises(LookupError, match="second half"):
        side_by_side(ledger, _count, fails_beside)


def test_an_in_memory_ledger_counts_both_halves_on_its_one_connection():
    ledger = Ledger.memory()
    ledger.record_event("D-1", "tick")
    assert side_by_side(ledger, _count, _count) == (1, 1)


def _count(conn) -> int:
    return int(conn.execute(EVENTS).scalar_one())
