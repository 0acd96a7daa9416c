"""Migrations run up from an empty database on both engines, and back down."""

from __future__ import annotations

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
