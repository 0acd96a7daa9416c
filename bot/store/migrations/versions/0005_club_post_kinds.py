"""club posts keyed by kind too, so a club can get more than one kind of post a day

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every post so far was the daily check-in. club_posts is referred to by nothing, so
    # SQLite's batch rebuild of it cascades nowhere.
    with op.batch_alter_table("club_posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="daily", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_club_posts_club_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_club_posts_club_id"), ["club_id", "kind", "day"]
        )


def downgrade() -> None:
    # Only the daily check-in fits the old key.
    op.execute("DELETE FROM club_posts WHERE kind <> 'daily'")
    with op.batch_alter_table("club_posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_club_posts_club_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_club_posts_club_id"), ["club_id", "day"])
        batch_op.drop_column("kind")
