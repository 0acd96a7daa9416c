"""Score taps through the real Telegram Application, next to two bare PTB bots, in one run.

    python -m benchmarks.telegram [--updates 2000] [--db URL of a scratch database]

N different people each tap a score on a keyboard message. Three bots long-poll the same
loopback fake Bot API server (tests/fakes/telegram_server.py) with the same Application
setup (adapters.telegram.build_application), one after another, each with its own N people
and keyboard messages:

- ours: the TelegramAdapter with the real engine and database. A score tap costs two Bot
  API calls (answerCallbackQuery at once, and editMessageText turning the tapped keyboard
  message into the confirmation, so an old keyboard cannot record twice) plus recording
  the score (a durable database commit).
- bare_ptb: a handler that only answers the callback query, one Bot API call. `ratio` is
  ours / this bot: the whole cost of our bot over the least a PTB bot can do for a tap.
- bare_same_calls: a handler making the same two Bot API calls as ours (the answer
  concurrently with the work, then the tapped message edited into a confirmation text of
  the same length, HTML, no keyboard, no link preview) and nothing else. `ratio_same_calls`
  is ours / this bot: what our engine, database and adapter cost beyond the Telegram calls
  a score tap needs; bare_same_calls / bare_ptb is what the second call costs.

Telegram's send ceilings (30/s overall) are lifted for all three, since on loopback they
would measure the ceiling, not the bot. The fake server runs in this process, so its work
(about a tenth of the CPU per call) is counted against every bot alike. Wall time runs from
queuing the N updates until every one has been handled; latency is per update, from the
Application starting it to its handler finishing; `cpu_ms_per_tap` is the whole process's CPU
(every thread) per tap over the same span, and `cpu_ms_beyond_calls` ours minus
bare_same_calls. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Bot, Update, constants
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, TypeHandler

from adapters.telegram import (
    NO_PREVIEW,
    Limits,
    TelegramAdapter,
    build_application,
    escape,
    file_url,
    keyboard,
)
from benchmarks.common import emit_taps, frozen_heap, percentile, run_rounds, seed_consented
from bot.app import open_app
from bot.formatting import score_keyboard
from bot.settings import Settings
from tests.fakes.telegram_server import SentMessage, TelegramFake

# Telegram user ids drawn per run, so a run against a scratch PostgreSQL can be repeated.
FIRST_USER = random.randrange(10**9, 2 * 10**9, 10**6)
UNLIMITED = Limits(overall_per_s=0, group_per_min=0)


class Stopwatch:
    """Per-update start and end instants, taken by handlers around the bot's own."""

    def __init__(self) -> None:
        self.start: dict[int, float] = {}
        self.end: dict[int, float] = {}
        self.done = asyncio.Event()
        self.expected = 0

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Groups run in order for one update: -1 before the bot's handler, 1 after it."""

        async def started(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
            self.start[update.update_id] = time.perf_counter()

        async def finished(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
            self.end[update.update_id] = time.perf_counter()
            if len(self.end) >= self.expected:
                self.done.set()

        application.add_handler(TypeHandler(Update, started), group=-1)
        application.add_handler(TypeHandler(Update, finished), group=1)


async def run_taps(
    fake: TelegramFake, people: list[int], messages: dict[int, SentMessage], watch: Stopwatch
) -> dict[str, float]:
    """Queue one tap per person, wait until all are handled, and measure."""
    watch.expected = len(people)
    frozen_heap()  # every bot starts from the same heap to scan: none but its own new objects
    cpu = time.process_time()
    queued = time.perf_counter()
    for i, user_id in enumerate(people):
        message = messages[user_id]
        score = str(i % TWO_CALL_SCORES)
        fake.press(fake.user(user_id, f"Runner {i}"), message, message.callback_data(score))
    await asyncio.wait_for(watch.done.wait(), timeout=600)
    wall = max(watch.end.values()) - queued
    cpu = time.process_time() - cpu
    latencies = [(watch.end[u] - watch.start[u]) * 1000 for u in watch.end]
    return {
        "updates_per_s": round(len(people) / wall, 1),
        "wall_s": round(wall, 3),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        # The whole process (all threads, the fake server too) per tap, until the last is done.
        "cpu_ms_per_tap": round(cpu * 1000 / len(people), 2),
    }


async def bare(
    fake: TelegramFake,
    people: list[int],
    messages: dict[int, SentMessage],
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]],
) -> dict:
    """A PTB bot with our Application setup whose only handler is `handler`."""
    application = build_application(fake.token, fake.base_url, fake.base_file_url, UNLIMITED)
    application.add_handler(CallbackQueryHandler(handler))
    watch = Stopwatch()
    watch.attach(application)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        try:
            return await run_taps(fake, people, messages, watch)
        finally:
            await application.updater.stop()
            await application.stop()


async def answer_only(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    """The least a bot can do for a tap: stop the phone's spinner."""
    assert update.callback_query is not None
    await update.callback_query.answer()


# Scores 0-6: a first score of 7 or more also brings the red-flag screen into the edit and
# "ease off" advice as a third call, which the bare bots do not make. The measure is a tap's
# cost beyond its two calls, so the taps are those that make exactly two.
TWO_CALL_SCORES = 7
# What ours says for an early score (bot.handlers.advice), so the edit carries as many bytes.
CONFIRMATION = (
    "Recorded {score}/10 for today. Building your baseline: 3 more daily score(s) and I can "
    "compare each day with your usual."
)


async def same_calls(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
    """Our Bot API duty for a score tap and nothing else: answer, edit into a confirmation."""
    query = update.callback_query
    assert query is not None and query.message is not None and query.data is not None
    # Shaped like ours: the answer goes in a task while the work (none here) runs.
    answered = asyncio.create_task(query.answer())
    await answered
    await query.get_bot().edit_message_text(
        escape(CONFIRMATION.format(score=query.data.rsplit(":", 1)[-1])),
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        parse_mode=constants.ParseMode.HTML,
        reply_markup=None,
        link_preview_options=NO_PREVIEW,
    )


async def ours(
    fake: TelegramFake, people: list[int], messages: dict[int, SentMessage], db: str | None
) -> dict:
    """The TelegramAdapter with the real engine and database."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=db or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}",
            data_dir=Path(tmp),
            telegram_token=SecretStr(fake.token),
            telegram_api_url=fake.base_url,
        )
        app = await open_app(settings)
        try:
            await seed_consented(app, "telegram", people)
            adapter = TelegramAdapter(app, UNLIMITED)
            watch = Stopwatch()
            watch.attach(adapter.application)
            await adapter.start()
            try:
                result = await run_taps(fake, people, messages, watch)
            finally:
                await adapter.stop()
            result["replies_sent"] = confirmations(fake, people)
            return result
        finally:
            await app.close()


def confirmations(fake: TelegramFake, people: list[int]) -> int:
    """How many of these people's chats now show a score confirmation."""
    # Per chat, not per message: a high first score also brings "ease off" advice.
    return sum(1 for u in people if any("/10" in m.content for m in fake.messages(u)))


async def keyboards(fake: TelegramFake, people: list[int]) -> dict[int, SentMessage]:
    """One score-keyboard message in each person's chat, sent before the clock starts."""
    markup = keyboard(score_keyboard())
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=file_url(fake.base_url)) as b:
        for start in range(0, len(people), 200):
            await asyncio.gather(
                *(
                    b.send_message(u, "How's your SI pain right now?", reply_markup=markup)
                    for u in people[start : start + 200]
                )
            )
    return {u: fake.messages(u)[-1] for u in people}


async def main(updates: int, db: str | None, rounds: int) -> None:
    """Rounds of the three bots against one fake, each round in a turned order; then the
    figures of each bot's median round."""
    async with TelegramFake() as fake:

        async def one(bot: str, people: list[int]) -> dict[str, Any]:
            for u in people:
                fake.user(u)
            messages = await keyboards(fake, people)
            if bot == "ours":
                return await ours(fake, people, messages, db)
            handler = same_calls if bot == "same" else answer_only
            figures = await bare(fake, people, messages, handler)
            if bot == "same":
                figures["replies_sent"] = confirmations(fake, people)
            return figures

        results = await run_rounds(updates, rounds, FIRST_USER, one)
    emit_taps("telegram score taps", updates, db, results, "bare_ptb")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="people tapping, one tap each")
    parser.add_argument("--db", default=None, help="DATABASE_URL (default: a temporary SQLite)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the three bots, each in a turned order"
    )
    args = parser.parse_args()
    asyncio.run(main(args.updates, Settings(database_url=args.db).database_url, args.rounds))
