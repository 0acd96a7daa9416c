"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
a core app on a manual clock, and a Chat that talks through the real console adapter."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from adapters.console import ConsoleAdapter
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.settings import Settings
from bot.store.models import Base

PG_ENV = "TEST_DATABASE_URL"
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday morning


def _pg_base() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        return None
    return Settings(database_url=url).database_url


def _plain(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


async def fresh_pg_database() -> tuple[str, str]:
    """Create an empty PostgreSQL database for one test; returns (url, name)."""
    base = _pg_base()
    assert base is not None
    name = f"si_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_plain(base))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


async def drop_pg_database(name: str) -> None:
    """Drop a per-test database, closing any connection left to it."""
    base = _pg_base()
    assert base is not None
    conn = await asyncpg.connect(_plain(base))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database URL on each engine (PostgreSQL skipped, with the reason, when unset)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if _pg_base() is None:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    url, name = await fresh_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its own database and data directory."""
    return Settings(database_url=db_url, data_dir=tmp_path / "data", default_timezone="UTC")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """The real core on a manual clock, migrated to head."""
    application = await open_app(settings, ManualClock(START))
    try:
        yield application
    finally:
        await application.close()


class Chat:
    """One person talking to the bot through the real console adapter."""

    def __init__(self, app: App, user: str, tz: str | None = None) -> None:
        self.app = app
        self.out = io.StringIO()
        self.console = ConsoleAdapter(
            app.engine, user, app.settings.data_dir / "files", tz=tz, out=self.out
        )

    async def say(self, line: str) -> str:
        """Type a line (or a button label) and return everything the bot printed."""
        self.out.seek(0)
        self.out.truncate()
        await self.console.handle_line(line)
        return self.out.getvalue()

    async def onboard(self) -> None:
        """/start and agree."""
        await self.say("/start")
        reply = await self.say("I agree")
        assert "you're set up" in reply

    def later(self, **delta: float) -> None:
        """Move the clock forward."""
        clock = self.app.clock
        assert isinstance(clock, ManualClock)
        clock.advance(timedelta(**delta))


async def row_counts(app: App) -> dict[str, int]:
    """Rows in every table we own."""
    out = {}
    async with app.sessions() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = await s.scalar(select(func.count()).select_from(table)) or 0
    return out
