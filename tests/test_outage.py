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
    engine = type(ok.engine)(sessionmaker(down), ok.engine.content, SystemClock(), ok.settings)
    replies = await engine.handle(Incoming("console", "ann", "ann", text="4"))
    assert [r.text for r in replies] == [SAVE_FAILED]
    await down.dispose()
