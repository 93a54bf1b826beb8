"""deliveries (exactly-once sends) and the letter print queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("touch_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(400), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("key", name="uq_deliveries_key"),
    )
    op.create_index("ix_deliveries_deal_id", "deliveries", ["deal_id"])
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("letter_id", sa.String(300), nullable=False),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("touch_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("seed", sa.String(300), nullable=False),
        sa.Column("hand", sa.String(32), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("signer", sa.Text(), nullable=False),
        sa.Column("signer_title", sa.Text(), nullable=True),
        sa.Column("print_by", sa.Date(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("pdf_path", sa.Text(), nullable=True),
        sa.Column("queued_at", UTC_TIME, nullable=False),
        sa.Column("posted_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_letters"),
        sa.UniqueConstraint("letter_id", name="uq_letters_letter_id"),
    )
    op.create_index("ix_letters_deal_id", "letters", ["deal_id"])
    op.create_index("ix_letters_state", "letters", ["state"])


def downgrade() -> None:
    op.drop_index("ix_letters_state", table_name="letters")
    op.drop_index("ix_letters_deal_id", table_name="letters")
    op.drop_table("letters")
    op.drop_index("ix_deliveries_deal_id", table_name="deliveries")
    op.drop_table("deliveries")
