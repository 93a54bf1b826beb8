"""journeys, deal payloads, touches and the event log

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("journey_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("templates_dir", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("day_seconds", sa.Float(), nullable=True),
        sa.Column("gate_opened_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journeys"),
        sa.UniqueConstraint("deal_id", name="uq_journeys_deal_id"),
    )
    op.create_index("ix_journeys_state", "journeys", ["state"])
    op.create_table(
        "deals",
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("deal_id", name="pk_deals"),
    )
    op.create_table(
        "touches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("touch_id", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("gated", sa.Boolean(), nullable=False),
        sa.Column("planned_due", UTC_TIME, nullable=False),
        sa.Column("due", UTC_TIME, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("completed_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["journeys.deal_id"], name="fk_touches_deal_id_journeys"),
        sa.PrimaryKeyConstraint("id", name="pk_touches"),
        sa.UniqueConstraint("deal_id", "touch_id", name="uq_touches_deal_id"),
    )
    op.create_index("ix_touches_state_due", "touches", ["state", "due"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("touch_id", sa.String(64), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_deal_id", "events", ["deal_id"])


def downgrade() -> None:
    op.drop_index("ix_events_deal_id", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_touches_state_due", table_name="touches")
    op.drop_table("touches")
    op.drop_table("deals")
    op.drop_index("ix_journeys_state", table_name="journeys")
    op.drop_table("journeys")
