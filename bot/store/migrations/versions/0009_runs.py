"""training load: distance, duration and surface of a run

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=2), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("surface", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_runs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        # The unique key starts with person_id, so it serves the per-person reads too.
        sa.UniqueConstraint("person_id", "day", name=op.f("uq_runs_person_id")),
    )


def downgrade() -> None:
    op.drop_table("runs")
