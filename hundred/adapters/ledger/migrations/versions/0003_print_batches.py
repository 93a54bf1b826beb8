"""print batches and which letters each printed

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("duplex", sa.Boolean(), nullable=False),
        sa.Column("labels", sa.Boolean(), nullable=False),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("printed_at", UTC_TIME, nullable=True),
        sa.Column("posted_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_batches"),
        sa.UniqueConstraint("batch_id", name="uq_batches_batch_id"),
    )
    op.create_table(
        "batch_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("letter_id", sa.String(300), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=True),
        sa.Column("last_page", sa.Integer(), nullable=True),
        sa.Column("spoiled_at", UTC_TIME, nullable=True),
        sa.Column("spoil_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.batch_id"], name="fk_batch_letters_batch_id_batches"),
        sa.PrimaryKeyConstraint("id", name="pk_batch_letters"),
        sa.UniqueConstraint("batch_id", "letter_id", name="uq_batch_letters_batch_id"),
    )
    op.create_index("ix_batch_letters_batch_id", "batch_letters", ["batch_id"])
    op.create_index("ix_batch_letters_letter_id", "batch_letters", ["letter_id"])
    op.create_index("ix_letters_batch_id", "letters", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_letters_batch_id", table_name="letters")
    op.drop_index("ix_batch_letters_letter_id", table_name="batch_letters")
    op.drop_index("ix_batch_letters_batch_id", table_name="batch_letters")
    op.drop_table("batch_letters")
    op.drop_table("batches")
