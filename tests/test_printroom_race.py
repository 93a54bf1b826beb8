"""Batch runs at the same moment never take the same letter, and none is lost: real processes
(spawn) on one SQLite file and on a throwaway PostgreSQL cluster (tests/pgcluster.py; under
CI=true it must run, never skip)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import racing
from printroom_data import fill

from hundred import bootstrap
from hundred.adapters.ledger import Ledger
from hundred.service.printroom.order import print_order

pytestmark = pytest.mark.slow  # processes racing on one database

RACERS = 4
LETTERS = 40
DAY = date(2026, 11, 30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'ledger.db'}"
    return request.getfixturevalue("pg_database")("printroom")


def _racer(url: str, letters_dir: str, how: str, barrier: Any, results: Any) -> None:
    """One batch run: line up at the barrier, then make a batch (the whole service, or the bare
    claim with every letter id as candidates, so the claims surely overlap)."""
    from types import SimpleNamespace

    out: dict[str, Any] = {}
    try:
        led = Ledger.open(url)
        room = bootstrap.print_room(SimpleNamespace(letters_dir=letters_dir), ledger_=led)
        ids = [r.letter_id for r in led.letters(state="queued")]
        barrier.wait(timeout=60)
        if how == "service":
            result = room.make_batch(until=DAY)
            out["batch"], out["claimed"] = result.batch_id, [r["letter"] for r in _manifest(result.manifest)]
        else:
            batch_id = room.new_batch_id() + f"-{os.getpid()}"
            rows = led.claim_batch(batch_id, ids, until=DAY, duplex=False, labels=False, order=print_order)
            out["batch"], out["claimed"] = (batch_id if rows else None), [r.letter_id for r in rows]
        led.close()
    except Exception as exc:  # reported to the parent, which fails the test with it
        out["error"] = repr(exc)
    results.put(out)


def _manifest(path: Any) -> list[dict[str, str]]:
    import csv

    if path is None:
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def race(url: str, letters_dir: Path, how: str) -> list[dict[str, Any]]:
    return racing.race(_racer, (url, str(letters_dir), how), RACERS, timeout=180)


@pytest.mark.parametrize("how", ["claim", "service"])
def test_racing_batch_runs_never_take_the_same_letter_and_lose_none(db_url: str, tmp_path: Path, how: str) -> None:
    led = Ledger.open(db_url)
    ids = fill(led, LETTERS, print_by=DAY)
    outs = race(db_url, tmp_path / "letters", how)
    claimed = [lid for o in outs for lid in o["claimed"]]
    assert sorted(claimed) == sorted(ids)  # every letter in exactly one batch
    batches = {o["batch"] for o in outs if o["batch"]}
    assert len(batches) == len([o for o in outs if o["batch"]])  # distinct batch ids
    for letter in led.letters():
        assert letter.state == "batched" and letter.batch_id in batches
    members = [e.letter_id for b in batches for e, _ in led.batch_entries(b)]
    assert sorted(members) == sorted(ids)
    assert {b.batch_id for b in led.batch_rows()} == batches  # a run that got nothing left no batch
    events = [e.event for e in led.events()]
    assert events.count("letter.batched") == LETTERS
    led.close()
