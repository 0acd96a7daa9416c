"""checkins remember the score before its last change and when the note was written (/undo)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns only: an existing row has no earlier score and no note time, and /undo
    # takes such a score and its note back together.
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_score", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("previous_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("note_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("note_at")
        batch_op.drop_column("previous_at")
        batch_op.drop_column("previous_score")
