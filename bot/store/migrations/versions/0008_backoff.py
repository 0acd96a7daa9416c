"""fewer nags: check-ins sent in a row with no answer, and when the person last answered

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unanswered", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
    # Nobody is owed a back-off for the time before it existed: the count starts at 0, and the
    # weekly check-in of a long silence falls on the weekday they agreed to the bot.
    op.execute("UPDATE people SET answered_at = consent_at")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
        batch_op.drop_column("unanswered")
