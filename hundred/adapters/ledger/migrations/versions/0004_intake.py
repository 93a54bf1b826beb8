"""intake: every delivery from the CRM, kept before it is answered (and dead letters)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "intake",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("intake_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=True),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake"),
        sa.UniqueConstraint("intake_id", name="uq_intake_intake_id"),
        sa.UniqueConstraint("key", name="uq_intake_key"),
    )
    op.create_index("ix_intake_deal_id", "intake", ["deal_id"])
    op.create_index("ix_intake_state", "intake", ["state"])


def downgrade() -> None:
    op.drop_index("ix_intake_state", table_name="intake")
    op.drop_index("ix_intake_deal_id", table_name="intake")
    op.drop_table("intake")
