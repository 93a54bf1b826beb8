"""figspeed: covering indexes for the figures' SQL (`/journeys` within 300 ms at 2,000 journeys)

Revision ID: 0008_figspeed
Revises: 0007
Create Date: 2026-12-06

The figures read every touch, letter and journey of the period joined by deal
(hundred/adapters/ledger/figures.py). Through these indexes SQLite answers those reads from the
index alone: no lookup of each row in its table, and no walk past a journey's snapshot (kilobytes
of JSON before the columns the figures need). The journeys' index replaces 0007's
(journey_id, version, received_at), which is its first three columns.
"""

from __future__ import annotations

from alembic import op

revision = "0008_figspeed"
down_revision = "0007"
branch_labels = None
depends_on = None

JOURNEY_COLUMNS = [
    "journey_id",
    "version",
    "received_at",
    "state",
    "deal_id",
    "exit_reason",
    "updated_at",
    "day_zero",
    "day_seconds",
    "closed_on",
]
TOUCH_COLUMNS = ["deal_id", "touch_id", "state", "channel", "phase", "completed_at", "due", "planned_due"]
LETTER_COLUMNS = ["deal_id", "touch_id", "state", "print_by", "posted_at"]


def upgrade() -> None:
    op.drop_index("ix_journeys_journey_id_version_received_at", table_name="journeys")
    op.create_index("ix_journeys_figures", "journeys", JOURNEY_COLUMNS)
    op.create_index("ix_touches_figures", "touches", TOUCH_COLUMNS)
    op.create_index("ix_letters_figures", "letters", LETTER_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_letters_figures", table_name="letters")
    op.drop_index("ix_touches_figures", table_name="touches")
    op.drop_index("ix_journeys_figures", table_name="journeys")
    op.create_index("ix_journeys_journey_id_version_received_at", "journeys", ["journey_id", "version", "received_at"])
