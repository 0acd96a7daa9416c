"""Score taps through the real Discord adapter, next to two bare discord.py bots, in one run.

    python -m benchmarks.discord [--updates 1000] [--db URL of a scratch database]

N different people each tap a score button on a keyboard message in their DM with the bot.
Three bots connect to the same loopback fake Discord (tests/fakes/discord_server.py: REST and
a compressed gateway) with the same token and client setup, one after another, each with its
own N people and keyboard messages:

- ours: the DiscordAdapter with the real engine and database. A score tap costs three
  interaction calls (the deferred acknowledgement at once, the tapped message's keyboard
  removed, so an old keyboard cannot record twice, and the confirmation as a follow-up) plus
  recording the score (a durable database commit).
- bare_discord_py: a handler that only acknowledges the interaction, one call. `ratio` is ours
  / this bot: the whole cost of our bot over the least a discord.py bot can do for a tap.
- bare_same_calls: a handler making the same three calls as ours (defer, the original
  message edited without its buttons, a follow-up confirmation of the same length) and
  nothing else. `ratio_same_calls` is ours / this bot: what our engine, database and adapter
  cost beyond the Discord calls a score tap needs.

Discord answers a tap within 3 seconds or drops it; the fake's deadline is lifted here, since
a queue of taps on loopback would measure the deadline, not the bot. The driver keeps 32 taps
in flight (as the Telegram benchmark's Application handles 32 updates at once): each finished
tap lets the next one in. The fake runs in this process, so its work is counted against every
bot alike. Wall time runs from the first tap until every one has been handled; latency is per
tap, from the bot's handler starting to it finishing; `cpu_ms_per_tap` is the whole process's
CPU (every thread) per tap over the same span, and `cpu_ms_beyond_calls` ours minus
bare_same_calls. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from pydantic import SecretStr

from adapters.discord import (
    GUILD_READY_TIMEOUT,
    MAX_RATELIMIT_WAIT,
    NO_MENTIONS,
    DiscordAdapter,
    intents,
    render,
)
from benchmarks.common import emit_taps, frozen_heap, percentile, run_rounds, seed_consented
from bot.app import open_app
from bot.events import Reply
from bot.formatting import score_keyboard
from bot.settings import Settings
from tests.fakes.discord_server import DiscordFake, Message

TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GhJkLm.benchmark-token-that-is-long-enough-xyz"
APP_ID = 1_000_000_000_000_001
# Discord user ids drawn per run, so a run against a scratch PostgreSQL can be repeated.
FIRST_USER = random.randrange(700 * 10**15, 800 * 10**15, 10**9)
IN_FLIGHT = 32  # taps dispatched and not yet handled, at most
QUESTION = "How's your SI pain right now?"
# Scores 0-6: a first score of 7 or more also brings the red-flag screen and "ease off" advice
# as further calls, which the bare bots do not make. The measure is a tap's cost beyond its
# calls, so the taps are those that make exactly the three the bare bot makes.
TWO_CALL_SCORES = 7
# What ours says for an early score (bot.handlers.advice), so the follow-up carries as much.
CONFIRMATION = (
    "Recorded {score}/10 for today. Building your baseline: 3 more daily score(s) and I can "
    "compare each day with your usual."
)
# READY otherwise waits for more GUILD_CREATEs; the benchmark's bots are in no guild.
READY_WAIT = min(GUILD_READY_TIMEOUT, 0.05)

Handler = Callable[[discord.Interaction], Awaitable[None]]


class Stopwatch:
    """Per-tap start and end instants, and the gate that keeps IN_FLIGHT taps in flight."""

    def __init__(self) -> None:
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self.done = asyncio.Event()
        self.expected = 0
        self.gate = asyncio.Semaphore(IN_FLIGHT)

    @contextlib.asynccontextmanager
    async def timing(self, interaction: discord.Interaction) -> AsyncIterator[None]:
        """Around a bot's whole handling of one tap."""
        self.start[interaction.id] = time.perf_counter()
        try:
            yield
        finally:
            self.end[interaction.id] = time.perf_counter()
            self.gate.release()
            if len(self.end) >= self.expected:
                self.done.set()


async def run_taps(
    fake: DiscordFake, people: list[int], messages: dict[int, Message], watch: Stopwatch
) -> dict[str, float]:
    """Tap once per person, IN_FLIGHT at a time, wait until all are handled, and measure."""
    watch.expected = len(people)
    frozen_heap()  # every bot starts from the same heap to scan: none but its own new objects
    cpu = time.process_time()
    first = time.perf_counter()
    for i, user_id in enumerate(people):
        await watch.gate.acquire()
        message = messages[user_id]
        await fake.click(user_id, message, message.custom_ids[i % TWO_CALL_SCORES])
    await asyncio.wait_for(watch.done.wait(), timeout=600)
    wall = max(watch.end.values()) - first
    cpu = time.process_time() - cpu
    latencies = [(watch.end[i] - watch.start[i]) * 1000 for i in watch.end]
    return {
        "updates_per_s": round(len(people) / wall, 1),
        "wall_s": round(wall, 3),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "cpu_ms_per_tap": round(cpu * 1000 / len(people), 2),
    }


async def keyboards(client: discord.Client, fake: DiscordFake, people: list[int]) -> dict:
    """One score-keyboard message in each person's DM, sent before the clock starts."""
    # Laid out to Discord's limits as the adapter lays out a check-in (rows of five).
    [part] = render(Reply(QUESTION, score_keyboard()))

    async def one(user_id: int) -> None:
        channel = await client.create_dm(discord.Object(user_id))
        await channel.send(**part.kwargs())

    for start in range(0, len(people), 100):
        await asyncio.gather(*(one(u) for u in people[start : start + 100]))
    return {u: fake.dm_messages(u)[-1] for u in people}


class BareBot(discord.Client):
    """A discord.py client set up as ours is, whose only event handler is `handler`."""

    def __init__(self, handler: Handler, watch: Stopwatch) -> None:
        super().__init__(
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=READY_WAIT,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
        )
        self.handler = handler
        self.watch = watch

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.component:
            return
        async with self.watch.timing(interaction):
            await self.handler(interaction)


async def bare(
    fake: DiscordFake, people: list[int], handler: Handler
) -> tuple[dict[str, Any], dict[int, Message]]:
    """A bare discord.py bot answering every tap with `handler`: (figures, tapped messages)."""
    watch = Stopwatch()
    client = BareBot(handler, watch)
    with fake.point_discord_py():
        await client.login(TOKEN)
        task = asyncio.create_task(client.connect())
        try:
            await client.wait_until_ready()
            messages = await keyboards(client, fake, people)
            return await run_taps(fake, people, messages, watch), messages
        finally:
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def defer_only(interaction: discord.Interaction) -> None:
    """The least a bot can do for a tap: acknowledge it."""
    await interaction.response.defer()


async def same_calls(interaction: discord.Interaction) -> None:
    """Our Discord duty for a score tap in a DM and nothing else: acknowledge, take the
    keyboard off the tapped message, send the confirmation as a follow-up."""
    await interaction.response.defer()
    custom_id = str((interaction.data or {}).get("custom_id", ""))
    await interaction.edit_original_response(view=None)
    await interaction.followup.send(
        CONFIRMATION.format(score=custom_id.rsplit(":", 1)[-1]),
        ephemeral=False,
        allowed_mentions=NO_MENTIONS,
    )


class TimedAdapter(DiscordAdapter):
    """Ours, with each tap's handling timed (the adapter's own code runs unchanged)."""

    def __init__(self, *args: Any, watch: Stopwatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.watch = watch

    async def _on_tap(self, interaction: discord.Interaction, payload: str) -> None:
        async with self.watch.timing(interaction):
            await super()._on_tap(interaction, payload)


async def ours(fake: DiscordFake, people: list[int], db: str | None) -> dict[str, Any]:
    """The DiscordAdapter with the real engine and database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}",
            data_dir=Path(tmp),
            discord_token=SecretStr(TOKEN),
            discord_api_url=fake.api_base,
            discord_gateway_url=fake.gateway_url,
        )
        app = await open_app(settings)
        try:
            await seed_consented(app, "discord", people)
            watch = Stopwatch()
            adapter = TimedAdapter(app, guild_ready_timeout=READY_WAIT, watch=watch)
            await adapter.start()
            try:
                assert adapter.client is not None
                messages = await keyboards(adapter.client, fake, people)
                result = await run_taps(fake, people, messages, watch)
                await adapter.drain()
            finally:
                await adapter.stop()
            result["replies_sent"] = confirmations(fake, people)
            return result
        finally:
            await app.close()


def confirmations(fake: DiscordFake, people: list[int]) -> int:
    """How many of these people were answered with a score confirmation."""
    # Per person, not per message: a high first score also brings "ease off" advice.
    confirmed = {
        inter.user.id
        for inter in fake.interactions.values()
        for response in inter.responses
        if response.kind == "followup" and "/10" in (response.content or "")
    }
    return len(confirmed & set(people))


async def main(updates: int, db: str | None, rounds: int) -> None:
    """Rounds of the three bots against one fake, each round in a turned order; then the
    figures of each bot's median round."""
    async with DiscordFake(token=TOKEN, app_id=APP_ID, interaction_deadline=None) as fake:

        async def one(bot: str, people: list[int]) -> dict[str, Any]:
            for u in people:
                fake.user(u, f"runner{u}")
            if bot == "ours":
                return await ours(fake, people, db)
            figures, _ = await bare(fake, people, same_calls if bot == "same" else defer_only)
            if bot == "same":
                figures["replies_sent"] = confirmations(fake, people)
            return figures

        results = await run_rounds(updates, rounds, FIRST_USER, one)
    emit_taps("discord score taps", updates, db, results, "bare_discord_py")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1000, help="people tapping, one tap each")
    parser.add_argument("--db", default=None, help="DATABASE_URL (default: a temporary SQLite)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the three bots, each in a turned order"
    )
    args = parser.parse_args()
    asyncio.run(main(args.updates, Settings(database_url=args.db).database_url, args.rounds))
