"""Two read transactions that see the same ledger, run side by side (the figures' two halves).

`/journeys` counts a few dozen thousand rows in about a dozen queries (figures.py). Run one after
the other on one connection, they took 250–370 ms at 2,000 journeys on this 2-core machine;
the goal is 300 ms. Split into two halves on two connections, each in its own thread (SQLite
and PostgreSQL both work without Python's lock while a statement runs), the page takes the
longer half: a third less.

Two transactions only give one set of figures if they read the same snapshot; otherwise a
touch delivered between their starts would be counted by one half and not the other:

- PostgreSQL exports the first transaction's snapshot (`pg_export_snapshot`) and the second
  adopts it (`SET TRANSACTION SNAPSHOT`), both REPEATABLE READ: the documented way.
- SQLite (WAL) fixes a read transaction's snapshot at its first read. Both first reads are made
  while this process holds the write lock for that moment (`BEGIN IMMEDIATE`, then ended
  with nothing written: microseconds), so no commit can land between them. Writers wait that long, no more.
- An in-memory ledger has one connection: the two halves run on it one after the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from hundred.adapters.ledger.store import Ledger

A = TypeVar("A")
B = TypeVar("B")

# A few pages at once; a thread is made only when one is needed.
_BESIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hundred-paired-read")
_FIRST_READ = text("SELECT 1 FROM sqlite_master LIMIT 1")  # a read of the file: it fixes the snapshot


def side_by_side(ledger: Ledger, first: Callable[[Connection], A], second: Callable[[Connection], B]) -> tuple[A, B]:
    """`first` on this thread and `second` on another, each in a read transaction of its own
    that sees the same snapshot of the ledger; both results. If either fails, both have ended
    before the error is raised (the first's error wins)."""
    engine = ledger.reader_engine
    if isinstance(engine.pool, StaticPool):  # an in-memory ledger: one connection
        with ledger._read() as session:
            conn = session.connection()
            return first(conn), second(conn)
    if engine.dialect.name == "postgresql":
        return _postgresql(ledger, first, second)
    return _sqlite(ledger, first, second)


def _postgresql(ledger: Ledger, first: Callable[[Connection], A], second: Callable[[Connection], B]) -> tuple[A, B]:
    with ledger._read() as session:
        conn = session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()

        def beside() -> B:
            with ledger._read() as other:
                theirs = other.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                theirs.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                return second(theirs)

        # the export lives while this transaction does: wait for the other half inside it
        return _both(first, conn, _BESIDE.submit(beside))


def _sqlite(ledger: Ledger, first: Callable[[Connection], A], second: Callable[[Connection], B]) -> tuple[A, B]:
    with contextlib.ExitStack() as stack:
        with ledger._writer() as lock, lock.begin():  # BEGIN IMMEDIATE: no commit until both have read
            lock.connection()
            mine = stack.enter_context(ledger._read()).connection()
            theirs = stack.enter_context(ledger._read()).connection()
            mine.execute(_FIRST_READ)
            theirs.execute(_FIRST_READ)
        return _both(first, mine, _BESIDE.submit(second, theirs))


def _both(first: Callable[[Connection], A], conn: Connection, beside: Future[B]) -> tuple[A, B]:
    try:
        mine = first(conn)
    except BaseException:
        beside.exception()  # wait for it to end; its own error, if any, is second to this one
        raise
    return mine, beside.result()


__all__ = ["side_by_side"]
