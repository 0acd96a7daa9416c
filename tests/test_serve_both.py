"""`si-checkin run` with both tokens: one process serves Telegram and Discord, then stops."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from adapters.serve import serve
from bot.settings import Settings
from tests.fakes.discord_server import DiscordFake
from tests.fakes.telegram_server import TelegramFake

DISCORD_TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
APP_ID = 900_000_000_000_000_001
ALICE = 700_000_000_000_000_001
ADA = 1001


async def test_one_process_serves_both_platforms(tmp_path: Path) -> None:
    async with TelegramFake() as tg, DiscordFake(token=DISCORD_TOKEN, app_id=APP_ID) as dc:
        dc.user(ALICE, "alice")
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            data_dir=tmp_path,
            telegram_token=SecretStr(tg.token),
            telegram_api_url=tg.base_url,
            discord_token=SecretStr(DISCORD_TOKEN),
            discord_api_url=dc.api_base,
            discord_gateway_url=dc.gateway_url,
        )
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings, stop))
        try:
            await tg.wait_for(lambda: tg.polling, timeout=30)
            await dc.wait_for(lambda: dc.commands, timeout=30)  # slash commands synced
            ada = tg.user(ADA, "Ada")
            tg.send_text(ada, "/start")
            consent = await tg.wait_for_message(ADA, "Is that OK?", timeout=15)
            assert consent.button_labels == ["I agree", "No thanks"]
            interaction = await dc.slash(ALICE, "help")
            response = await dc.response(interaction)
            assert response.elapsed < 3
            await dc.wait_for(
                lambda: (
                    any("/checkin" in m.content for m in dc.dm_messages(ALICE))
                    or any(
                        r.message is not None and "/checkin" in r.message.content
                        for r in interaction.responses
                    )
                ),
                timeout=15,
            )
        finally:
            stop.set()
            code = await asyncio.wait_for(running, timeout=60)
        assert code == 0
