"""plans that track themselves: the return-to-run ladder and strength workouts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ladder_stage", sa.SmallInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("ladder_good_runs", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("ladder_started", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ladder_finished", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ladder_paused", sa.String(length=16), nullable=True))
    # Strength workouts done are activities (kind "strength_done"): no table of their own.
    op.create_table(
        "ladder_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stage", sa.SmallInteger(), nullable=False),
        sa.Column("pain", sa.String(length=8), nullable=True),
        sa.Column("trouble", sa.String(length=8), nullable=True),
        sa.Column("morning", sa.String(length=8), nullable=True),
        sa.Column("asked_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_ladder_runs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ladder_runs")),
        sa.UniqueConstraint("person_id", "day", name=op.f("uq_ladder_runs_person_id")),
    )
    with op.batch_alter_table("ladder_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ladder_runs_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ladder_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ladder_runs_person_id"))
    op.drop_table("ladder_runs")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("ladder_paused")
        batch_op.drop_column("ladder_finished")
        batch_op.drop_column("ladder_started")
        batch_op.drop_column("ladder_good_runs")
        batch_op.drop_column("ladder_stage")
