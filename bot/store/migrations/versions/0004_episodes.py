"""episodes on people, one escalation per person, day and tier, frozen club day totals

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("episode_tier", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("episode_opened", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("episode_rest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("cleared_on", sa.Date(), nullable=True))

    with op.batch_alter_table("club_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_reporters", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_score_sum", sa.Integer(), nullable=True))

    # Concurrent taps could store the same announcement twice before the unique key: keep the
    # first of each (person, day, tier).
    op.execute(
        "DELETE FROM escalations WHERE id NOT IN "
        "(SELECT MIN(id) FROM escalations GROUP BY person_id, day, tier)"
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        # The unique key starts with person_id, so it serves the per-person reads too.
        batch_op.drop_index(batch_op.f("ix_escalations_person_id"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_escalations_person_id"), ["person_id", "day", "tier"]
        )


def downgrade() -> None:
    with op.batch_alter_table("club_posts", schema=None) as batch_op:
        batch_op.drop_column("closed_score_sum")
        batch_op.drop_column("closed_reporters")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_escalations_person_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_escalations_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("cleared_on")
        batch_op.drop_column("episode_rest")
        batch_op.drop_column("episode_opened")
        batch_op.drop_column("episode_tier")
