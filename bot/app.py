"""Putting the core together: database (migrated), content, clock and engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.engine import Engine
from bot.settings import Settings
from bot.store.db import make_engine, sessionmaker, upgrade
from content.loader import default_content


@dataclass
class App:
    """One running core: what adapters and the scheduler share."""

    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: Engine
    clock: Clock

    async def close(self) -> None:
        """Release database connections."""
        await self.db.dispose()


async def open_app(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> App:
    """Connect, migrate to head, load and validate content, and build the engine."""
    clock = clock or SystemClock()
    db = make_engine(settings.resolved_database_url())
    if migrate:
        await upgrade(db)
    sessions = sessionmaker(db)
    engine = Engine(sessions, default_content(), clock, settings)
    return App(settings, db, sessions, engine, clock)
