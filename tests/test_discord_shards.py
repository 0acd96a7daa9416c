"""Discord sharded: the same adapter on discord.py's AutoShardedClient, against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from adapters.discord import DiscordAdapter
from bot.app import open_app
from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import START
from tests.fakes.discord_server import DiscordFake
from tests.test_discord import (  # noqa: F401 (fake and settings are fixtures)
    ALICE,
    GUILD_READY_TIMEOUT,
    TODAY,
    fake,
    onboard,
    scores,
    settings,
    slash,
)


async def _started(base: Settings, count: int, ids: str | None) -> AsyncIterator[DiscordAdapter]:
    sharded = base.model_copy(update={"discord_shard_count": count, "discord_shard_ids": ids})
    app = await open_app(sharded, ManualClock(START))
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()
        await app.close()


@pytest.fixture
async def shard0_of_2(settings: Settings) -> AsyncIterator[DiscordAdapter]:  # noqa: F811
    """This process runs shard 0 of 2 (DISCORD_SHARD_COUNT=2 DISCORD_SHARD_IDS=0)."""
    async for adapter in _started(settings, 2, "0"):
        yield adapter


@pytest.fixture
async def all_shards(settings: Settings) -> AsyncIterator[DiscordAdapter]:  # noqa: F811
    """Every shard in this process (DISCORD_SHARD_COUNT=2 alone)."""
    async for adapter in _started(settings, 2, None):
        yield adapter


async def test_a_process_runs_its_shard_and_serves_check_ins(
    shard0_of_2: DiscordAdapter,
    fake: DiscordFake,  # noqa: F811
) -> None:
    client = shard0_of_2.client
    assert isinstance(client, discord.AutoShardedClient)
    assert client.shard_count == 2 and client.shard_ids == [0]
    assert fake.identified_shards == [(0, 2)]
    await onboard(fake, shard0_of_2, ALICE)
    _, said = await slash(fake, shard0_of_2, ALICE, "checkin", {"score": 5})
    assert any(m.content.startswith("Recorded 5/10 for today") for m in said)
    assert await scores(shard0_of_2.app, ALICE) == {TODAY: 5}


async def test_a_count_alone_runs_every_shard_in_one_process(
    all_shards: DiscordAdapter,
    fake: DiscordFake,  # noqa: F811
) -> None:
    client = all_shards.client
    assert isinstance(client, discord.AutoShardedClient)
    assert sorted(client.shards) == [0, 1]
    assert fake.identified_shards == [(0, 2), (1, 2)]
