"""When the database is unreachable the bot says so instead of confirming."""

from __future__ import annotations

from pathlib import Path

from bot.app import open_app
from bot.clock import SystemClock
from bot.engine import SAVE_FAILED
from bot.events import Incoming
from bot.settings import Settings
from bot.store.db import sessionmaker


async def test_a_score_sent_while_the_database_is_down_is_not_confirmed(tmp_path: Path) -> None:
    ok = await open_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    await ok.close()
    # Same engine code, pointed at a PostgreSQL port where nothing listens.
    from bot.store.db import make_engine

    down = make_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    engine = type(ok.engine)(
        sessionmaker(down), ok.engine.content, SystemClock(), ok.settings, ok.engine.handlers
    )
    replies = await engine.handle(Incoming("console", "ann", "ann", text="4"))
    assert [r.text for r in replies] == [SAVE_FAILED]
    await down.dispose()


async def test_postgres_outage_is_reported_honestly_and_recovers_by_itself(tmp_path: Path) -> None:
    import os

    import pytest
    from sqlalchemy import select
    from sqlalchemy.engine import make_url

    from bot.clock import ManualClock
    from bot.store.models import CheckIn
    from tests.conftest import START, Chat, drop_pg_database, fresh_pg_database
    from tests.fakes.tcp_proxy import TcpProxy

    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url, name = await fresh_pg_database()
    real = make_url(url)
    try:
        async with TcpProxy(real.host or "127.0.0.1", real.port or 5432) as proxy:
            via_proxy = real.set(host="127.0.0.1", port=proxy.port)
            settings = Settings(
                database_url=via_proxy.render_as_string(hide_password=False), data_dir=tmp_path
            )
            app = await open_app(settings, ManualClock(START))
            try:
                ann = Chat(app, "ann")
                await ann.onboard()
                assert "Recorded 3/10" in await ann.say("3")
                await proxy.cut()
                down = await ann.say("5")
                assert down.strip() == SAVE_FAILED  # no false confirmation
                await proxy.restore()
                back = await ann.say("5")  # the same engine, no restart
                assert "Changed today's score from 3 to 5/10" in back
                async with app.sessions() as s:
                    assert list(await s.scalars(select(CheckIn.score))) == [5]
            finally:
                await app.close()
    finally:
        await drop_pg_database(name)
