"""what a ladder run found the ladder at, so /undo of its score can put it back

A settled ladder run moves the ladder (a good run counted, a stage up or back). Its stage was
stored already; the good runs counted at that stage before it were not, and a score taken
back with /undo must take back what it did to the ladder. Runs settled before this revision
have none: undoing one of those restores the stage with no good runs counted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ladder_runs") as batch_op:
        batch_op.add_column(sa.Column("good_runs_before", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ladder_runs") as batch_op:
        batch_op.drop_column("good_runs_before")
