"""Migrations run up from an empty database on both engines, and back down."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.store.db import alembic_config, current_revision, make_engine, upgrade
from bot.store.models import Base


async def test_upgrade_from_empty_creates_every_table_at_head(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert await current_revision(engine) == head
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables
        await upgrade(engine)  # idempotent: a second start finds nothing to do
        assert await current_revision(engine) == head
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()


async def test_sqlite_instants_written_without_their_fraction_are_given_one(
    tmp_path: Path,
) -> None:
    """Before 0012 the dispatcher stored "08:00:00" where the rest stored "08:00:00.000000":
    after it, one instant is one text, so the ledger's key and its probe see one slot."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        await upgrade(engine, "0011")
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO people (id, platform, user_id, chat_id, tz, consent_at, created_at,"
                " reachable) VALUES (1, 'console', 'ann', 'ann', 'UTC',"
                " '2026-03-01 09:00:00.000000', '2026-03-01 09:00:00.000000', 1)"
            )
            await conn.exec_driver_sql(
                "INSERT INTO reminders (id, person_id, kind, times, weekdays_only, enabled,"
                " next_slot, next_send_at, snoozed_until, sent_count) VALUES (1, 1, 'checkin',"
                " '08:00', 0, 1, '2026-03-03 08:00:00', '2026-03-03 08:00:00',"
                " '2026-03-02 12:00:00.250000', 1)"
            )
            await conn.exec_driver_sql(
                "INSERT INTO deliveries (reminder_id, person_id, slot, kind, sent_at)"
                " VALUES (1, 1, '2026-03-02 08:00:00', 'checkin', '2026-03-02 08:00:01.500000')"
            )
        await upgrade(engine)
        async with engine.connect() as conn:
            reminder = (
                await conn.exec_driver_sql(
                    "SELECT next_slot, next_send_at, snoozed_until FROM reminders"
                )
            ).one()
            delivery = (await conn.exec_driver_sql("SELECT slot, sent_at FROM deliveries")).one()
        assert tuple(reminder) == (
            "2026-03-03 08:00:00.000000",
            "2026-03-03 08:00:00.000000",
            "2026-03-02 12:00:00.250000",
        )
        assert tuple(delivery) == ("2026-03-02 08:00:00.000000", "2026-03-02 08:00:01.500000")
    finally:
        await engine.dispose()
