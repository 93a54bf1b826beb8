"""moments and claims: the ledger is the calendar (one Prefect run per moment, touches claimed with a lease)

Journeys in flight move over without losing or doubling a touch: every touch that has a due time
gets its moment (its due time rounded up to the minute, or to the journey's compressed moment)
and its deal's shard key; a touch that was `scheduled` on a per-touch `run-touch` run stays
`scheduled` (the next deliver run of its moment, or reconcile's catch-up run, claims it, and
reconcile cancels the old per-touch runs in Prefect). An intake row that was `submitted` becomes
`started` when its journey exists, else `pending`, so a deal-closed run claims it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
SHARDS = 1024


def shard_key(deal_id: str) -> int:
    """The same rule as hundred.planning.identity.shard_key (migrations do not import hundred)."""
    return zlib.crc32(deal_id.encode("utf-8")) % SHARDS


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _moment(due: datetime, seconds: int) -> datetime:
    stamp = due.timestamp()
    whole = int(stamp // seconds) * seconds
    return datetime.fromtimestamp(whole if whole >= stamp else whole + seconds, tz=UTC)


def upgrade() -> None:
    with op.batch_alter_table("touches") as batch:
        batch.add_column(sa.Column("moment", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("shard_key", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC_TIME, nullable=True))
        batch.create_index("ix_touches_state_moment", ["state", "moment"])
        batch.create_index("ix_touches_claimed_by", ["claimed_by"])
    with op.batch_alter_table("intake") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_until", UTC_TIME, nullable=True))

    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    touches = sa.table("touches", sa.column("id", sa.Integer), sa.column("deal_id", sa.String),
                       sa.column("due", UTC_TIME), sa.column("moment", UTC_TIME), sa.column("shard_key", sa.Integer))
    journeys = sa.table("journeys", sa.column("deal_id", sa.String), sa.column("day_seconds", sa.Float))
    intake = sa.table("intake", sa.column("id", sa.Integer), sa.column("deal_id", sa.String),
                      sa.column("state", sa.String))
    compressed = {row.deal_id: row.day_seconds for row in conn.execute(sa.select(journeys))}
    rows = conn.execute(sa.select(touches.c.id, touches.c.deal_id, touches.c.due)).all()
    for row in rows:
        due = _aware(row.due)
        day_seconds = compressed.get(row.deal_id)
        seconds = max(1, round(min(60.0, day_seconds / 10))) if day_seconds else 60
        moment = _moment(due, seconds) if due is not None else None
        if moment is not None and sqlite:
            moment = moment.replace(tzinfo=None)  # the ledger stores naive UTC on SQLite
        conn.execute(sa.update(touches).where(touches.c.id == row.id)
                     .values(moment=moment, shard_key=shard_key(row.deal_id)))
    started = sa.exists().where(journeys.c.deal_id == intake.c.deal_id)
    conn.execute(sa.update(intake).where(intake.c.state == "submitted", started).values(state="started"))
    conn.execute(sa.update(intake).where(intake.c.state == "submitted").values(state="pending"))


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE intake SET state = 'submitted' WHERE state = 'started'"))
    with op.batch_alter_table("intake") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("touches") as batch:
        batch.drop_index("ix_touches_claimed_by")
        batch.drop_index("ix_touches_state_moment")
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
        batch.drop_column("shard_key")
        batch.drop_column("moment")
