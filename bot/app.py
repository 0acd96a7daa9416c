"""Putting the core together: database (migrated), content, clock and engine."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.commands import HANDLERS
from bot.engine import Engine
from bot.settings import Settings
from bot.store.db import make_engine, sessionmaker, upgrade
from content.loader import CONTENT_DIR, ContentError, default_content

# Events the engine handles in the database at once on SQLite (one writer at a time there);
# PostgreSQL takes as many as the pool holds. See Engine.
SQLITE_EVENTS_AT_ONCE = 4


class StartupError(Exception):
    """Something the operator must fix before the bot can start; str() is one line."""


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


# PyYAML's position lines, e.g. `  in "<unicode string>", line 3, column 1:`.
_YAML_MARK = re.compile(r'in "<unicode string>", (line \d+, column \d+):?')


def content_problem(exc: ContentError) -> str:
    """A ContentError (several problems, or a YAML parser's report) as one line."""
    parts: list[str] = []
    for line in str(exc).splitlines():
        # PyYAML quotes the offending source line and a caret under it, indented by 4.
        if not line.strip() or line.startswith("    "):
            continue
        mark = _YAML_MARK.fullmatch(line.strip())
        if mark and parts:
            parts[-1] += f" at {mark.group(1)}"
        else:
            parts.append(line.strip())
    return (
        f"the content files in {CONTENT_DIR} are broken: {'; '.join(parts)}."
        " Fix or restore that file (reinstalling si-checkin restores the shipped ones)."
    )


async def open_app(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> App:
    """Connect, migrate to head, load and validate content, and build the engine."""
    clock = clock or SystemClock()
    # Content first: it touches nothing, so a broken file fails before the database is changed.
    try:
        content = default_content()
    except ContentError as exc:
        raise StartupError(content_problem(exc)) from None
    db = make_engine(settings.resolved_database_url())
    if migrate:
        try:
            await upgrade(db)
        except BaseException:
            await db.dispose()
            raise
    sessions = sessionmaker(db)
    slots = SQLITE_EVENTS_AT_ONCE if db.dialect.name == "sqlite" else None
    engine = Engine(sessions, content, clock, settings, HANDLERS, db_slots=slots)
    return App(settings, db, sessions, engine, clock)
