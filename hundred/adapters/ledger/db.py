"""Engines and migrations: SQLite (file or memory) and PostgreSQL behind one small surface.

SQLite, so that two worker processes can write the same file:
- WAL journal (readers never block the writer), `busy_timeout` (a writer waits instead of failing),
- write transactions start with `BEGIN IMMEDIATE`, so a transaction that reads and then writes
  takes the write lock up front and waits for it, instead of failing with "database is locked"
  when another process wrote in between (SQLite cannot upgrade a stale read snapshot),
- read transactions use a second engine with a plain (deferred) `BEGIN`.

Migrations run on open, only when the ledger is behind `HEAD` (checked with one query, so an
up-to-date ledger does not even import Alembic), under a lock: an OS file lock beside the SQLite
file, or a transaction-scoped advisory lock on PostgreSQL. Two processes opening an old ledger at
once therefore migrate it once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable, Select, create_engine, event, text
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from hundred.service.records import _from_record

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions; a test checks it matches Alembic's head.
HEAD = "0008_figspeed"
BUSY_TIMEOUT_MS = 30_000
_PG_LOCK_KEY = 0x68756E64  # "hund": the advisory lock that serialises migrations
R = TypeVar("R")


class LedgerError(RuntimeError):
    """The ledger cannot be used as configured (bad URL, newer schema than this hundred, ...)."""


def changed_rows(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed: the ledger's compare-and-set asks this.
    `Session.execute` is typed as a plain `Result`; for a DML statement it is a `CursorResult`."""
    result = session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"not an UPDATE or DELETE: {statement}")
    return result.rowcount


def one_row(
    read: Callable[[], contextlib.AbstractContextManager[Session]], row: type[R], statement: Select[Any]
) -> R | None:
    """The one record `statement` selects, as the service's `row` type, or None: how the ledger
    looks a row up by its key."""
    with read() as session:
        record = session.scalar(statement)
        return _from_record(row, record) if record is not None else None


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean the psycopg 3 driver (the one hundred installs)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(engine: Engine, begin: str, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def make_engines(url: str) -> tuple[Engine, Engine]:
    """(writer, reader) for a URL; the same engine twice where one suffices."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise LedgerError(f"not a database URL: {url!r} ({exc})") from None
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(parsed, pool_pre_ping=True, future=True)
        return engine, engine
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        _sqlite_pragmas(engine, "BEGIN IMMEDIATE", wal=False)
        return engine, engine
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    writer = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    reader = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _sqlite_pragmas(writer, "BEGIN IMMEDIATE", wal=True)
    _sqlite_pragmas(reader, "BEGIN", wal=True)
    return writer, reader


def current_revision(engine: Engine) -> str | None:
    """The ledger's Alembic revision, or None for an empty database."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate.lock")
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl  # lazy: Windows has no fcntl (see the except below)
        except ImportError:  # Windows: BEGIN IMMEDIATE alone still serialises the migration
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def alembic_config(connection: Any = None) -> Any:
    """An Alembic Config for the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config  # lazy: Alembic loads only when the ledger is behind

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run `alembic upgrade <revision>` on the ledger, once even when several processes race."""
    from alembic import command  # lazy: Alembic loads only when the ledger is behind
    from alembic.util import CommandError  # lazy: Alembic loads only when the ledger is behind

    with _file_lock(engine), engine.connect() as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                command.upgrade(alembic_config(conn), revision)
            except CommandError as exc:
                raise LedgerError(
                    f"cannot migrate the ledger at {engine.url.render_as_string(hide_password=True)}: {exc} "
                    "(a ledger written by a newer hundred? upgrade hundred)"
                ) from None


def ensure_schema(writer: Engine, reader: Engine) -> None:
    if current_revision(reader) != HEAD:
        upgrade(writer)
