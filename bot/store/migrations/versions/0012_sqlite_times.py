"""one text form for instants on SQLite: the dispatcher's writes now match everyone else's

The dispatcher wrote the ledger and the schedule's instants without their fraction of a second
("2026-03-03 08:00:00") where every other write has it ("2026-03-03 08:00:00.000000"), so the
same instant could be two different texts and the ledger probe of a claimed slot missed it.
PostgreSQL stores instants as instants: nothing to do there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# The columns the dispatcher wrote straight to the driver.
COLUMNS = {
    "deliveries": ("slot", "sent_at"),
    "reminders": ("next_slot", "next_send_at", "snoozed_until"),
}
WHOLE_SECONDS = len("2026-03-03 08:00:00")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(
                f"UPDATE {table} SET {column} = {column} || '.000000'"
                f" WHERE length({column}) = {WHOLE_SECONDS}"
            )


def downgrade() -> None:
    """Both forms read back as the same instant: nothing to undo."""
