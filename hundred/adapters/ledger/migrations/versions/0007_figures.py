"""figures: journey days on every journey, and the indexes the figures' SQL reads by

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10

`journeys.closed_on` (day 0's date in the journey's zone) and `journeys.day_zero` (the wall moment
day 0 began, on the journey's own clock) let SQL count journey days without time zones
(hundred/planning/days.py); journeys recorded before this revision get them from their deal's
`closed_at`, their snapshot's time zone, `received_at` and `day_seconds`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hundred.planning.days import JourneyDays

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)

JOURNEYS = sa.table(
    "journeys",
    sa.column("deal_id", sa.String),
    sa.column("snapshot", sa.JSON),
    sa.column("received_at", UTC_TIME),
    sa.column("day_seconds", sa.Float),
    sa.column("closed_on", sa.Date),
    sa.column("day_zero", UTC_TIME),
)
DEALS = sa.table("deals", sa.column("deal_id", sa.String), sa.column("payload", sa.JSON))

INDEXES = (
    ("ix_journeys_journey_id_version_received_at", "journeys", ["journey_id", "version", "received_at"]),
    ("ix_touches_channel_state", "touches", ["channel", "state"]),
    ("ix_deliveries_channel_state", "deliveries", ["channel", "state"]),
)


def _aware(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _backfill() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    rows = bind.execute(
        sa.select(
            JOURNEYS.c.deal_id,
            JOURNEYS.c.snapshot,
            JOURNEYS.c.received_at,
            JOURNEYS.c.day_seconds,
            DEALS.c.payload,
        ).select_from(JOURNEYS.join(DEALS, DEALS.c.deal_id == JOURNEYS.c.deal_id))
    ).all()
    for deal_id, snapshot, received_at, day_seconds, payload in rows:
        try:
            closed_at = _aware(payload["closed_at"])
            zone = (snapshot or {}).get("timezone") or "Europe/Amsterdam"
            days = JourneyDays.of(closed_at, zone, _aware(received_at), day_seconds)
        except (KeyError, TypeError, ValueError):  # a payload without a usable close: left NULL, counted from received_at
            continue
        day_zero = days.day_zero.astimezone(UTC)
        bind.execute(
            sa.update(JOURNEYS)
            .where(JOURNEYS.c.deal_id == deal_id)
            .values(closed_on=days.closed_on, day_zero=day_zero.replace(tzinfo=None) if sqlite else day_zero)
        )


def upgrade() -> None:
    with op.batch_alter_table("journeys") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("day_zero", UTC_TIME, nullable=True))
    _backfill()
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("journeys") as batch:
        batch.drop_column("day_zero")
        batch.drop_column("closed_on")
