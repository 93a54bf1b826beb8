"""letters of cancelled journeys are `withdrawn`, not `spoiled`; batches keep their cover's warnings

Until now the letter state `spoiled` only ever meant "withdrawn": the runtime took a cancelled
journey's queued letters out of the queue that way (a damaged copy goes back to `queued`, so no
letter is `spoiled` for that reason). Such rows, and the `letter.spoiled` events that withdrew
them (their detail is the letter id alone; a damaged copy's event says "… in batch …"), are
renamed. `batches.warnings` keeps what a batch's cover sheet lists, so the print room page can
show it beside the batch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE events SET event = 'letter.withdrawn' WHERE event = 'letter.spoiled' "
        "AND detail IN (SELECT letter_id FROM letters WHERE state = 'spoiled')"
    )
    op.execute("UPDATE letters SET state = 'withdrawn' WHERE state = 'spoiled'")
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("warnings")
    op.execute(
        "UPDATE events SET event = 'letter.spoiled' WHERE event = 'letter.withdrawn' "
        "AND detail IN (SELECT letter_id FROM letters WHERE state = 'withdrawn')"
    )
    op.execute("UPDATE letters SET state = 'spoiled' WHERE state = 'withdrawn'")
