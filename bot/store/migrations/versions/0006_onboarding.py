"""the open onboarding or settings question a typed answer goes to, and the nudge as a choice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asking", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("nudge", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Everyone so far was given the nudge without being asked; nothing changes for them until
    # they turn it off in /settings.
    op.execute("UPDATE people SET nudge = true")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("nudge")
        batch_op.drop_column("asking")
