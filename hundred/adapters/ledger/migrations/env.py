"""Alembic environment for the ledger: run by `hundred.adapters.ledger.db.upgrade` with a connection.

Run by hand only for development (`alembic -x url=sqlite:///path/ledger.db ...` is not wired up:
use `hundred.adapters.ledger.db.upgrade` or `Ledger.open`, which also take the migration lock).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hundred.adapters.ledger.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: later migrations use batch mode
        transactional_ddl=True,  # SQLite DDL is transactional with explicit BEGIN (see db.py)
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("hundred's migrations run through Ledger.open(); no connection or sqlalchemy.url given")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
