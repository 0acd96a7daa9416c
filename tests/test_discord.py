"""The Discord adapter end to end: the real adapter and discord.py client against the loopback
Discord fake, with the real engine on SQLite and PostgreSQL. Tests read like people using it."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.base import layout
from adapters.discord import (
    BUTTON_LABEL_LIMIT,
    LIMITS,
    MAX_ROWS,
    MESSAGE_LIMIT,
    ROW_WIDTH,
    DiscordAdapter,
    render,
)
from bot import formatting, logs
from bot.app import App
from bot.clock import ManualClock
from bot.commands import public_commands
from bot.delivery import RetryLater, Unreachable
from bot.events import Address, Button, Reply
from bot.handlers import reminder_kinds
from bot.handlers.clubs import ONLY_ADMINS
from bot.settings import Settings
from bot.store import repo
from bot.trends import SYMPTOMS
from scheduler.club_posts import post_due_clubs
from scheduler.dispatch import Dispatcher
from scheduler.runtime import start_scheduler
from tests.conftest import START
from tests.fakes.discord_server import (
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    RESUME_GATEWAY_PATH,
    DiscordFake,
    Interaction,
    Message,
)

# Shaped like a real bot token (three dot-separated parts), so log redaction is really tested.
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GhJkLm.s3cr3t-T0k3n_part-that-is-long-enough-xyz"
APP_ID = 1_000_000_000_000_001
ALICE = 700_000_000_000_000_001
BOB = 700_000_000_000_000_002
CLUB = 800_000_000_000_000_001
GENERAL = 800_000_000_000_000_101
# READY otherwise waits 2 s for more GUILD_CREATEs on every connect.
GUILD_READY_TIMEOUT = 0.05


@pytest.fixture
async def fake() -> AsyncIterator[DiscordFake]:
    """Discord on loopback: Alice (club admin), Bob, and the Trail Runners guild."""
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as server:
        server.user(ALICE, "alice")
        server.user(BOB, "bob")
        server.guild(
            CLUB, "Trail Runners", channels=[(GENERAL, "general")], members=[BOB], admins=[ALICE]
        )
        yield server


@pytest.fixture
def settings(db_url: str, tmp_path: Path, fake: DiscordFake) -> Settings:
    """The app's settings with DISCORD_TOKEN and the fake's URLs, as `si-checkin run` reads them."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        default_timezone="UTC",
        discord_token=TOKEN,
        discord_api_url=fake.api_base,
        discord_gateway_url=fake.gateway_url,
    )


@pytest.fixture
async def bot(app: App) -> AsyncIterator[DiscordAdapter]:
    """The real adapter, started (logged in, READY, commands synced)."""
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


# ------------------------------------------------------------------------ helpers


async def dm(fake: DiscordFake, bot: DiscordAdapter, user: int, text: str) -> list[str]:
    """A person DMs the bot; returns the texts of the bot's answers."""
    before = len(fake.dm_messages(user))
    await fake.dm(user, text)
    await fake.wait_for(lambda: len(fake.dm_messages(user)) > before)
    await bot.drain()
    return [m.content for m in fake.dm_messages(user)[before:]]


def answers(interaction: Interaction) -> list[Message]:
    """The messages the bot produced for an interaction, in order, each once."""
    seen: dict[int, Message] = {}
    for response in interaction.responses:
        if response.message is not None and response.kind in ("callback", "followup"):
            seen.setdefault(response.message.id, response.message)
    return list(seen.values())


async def answered(
    fake: DiscordFake, bot: DiscordAdapter, interaction: Interaction
) -> list[Message]:
    """Wait until the adapter has acknowledged and fully answered an interaction."""
    await fake.response(interaction)
    await bot.drain()
    return answers(interaction)


async def slash(
    fake: DiscordFake,
    bot: DiscordAdapter,
    user: int,
    name: str,
    options: dict[str, object] | None = None,
    *,
    guild: int | None = None,
) -> tuple[Interaction, list[Message]]:
    """A person runs a slash command; returns the interaction and the answers."""
    interaction = await fake.slash(user, name, options, guild=guild)
    return interaction, await answered(fake, bot, interaction)


async def tap(
    fake: DiscordFake, bot: DiscordAdapter, user: int, message: Message, label: str
) -> list[Message]:
    """A person taps the button with this label; returns the answers."""
    custom_id = next(c["custom_id"] for c in message.iter_components() if c.get("label") == label)
    interaction = await fake.click(user, message, custom_id)
    return await answered(fake, bot, interaction)


async def onboard(fake: DiscordFake, bot: DiscordAdapter, user: int) -> None:
    """/start in DM, agree, and answer the zone question with UTC (the tests' clock is UTC;
    an en-US app would otherwise start in New York)."""
    _, messages = await slash(fake, bot, user, "start")
    consent = next(m for m in messages if "I agree" in m.button_labels)
    said = await tap(fake, bot, user, consent, "I agree")
    assert any("you're set up" in m.content for m in said)
    await slash(fake, bot, user, "timezone", {"zone": "UTC"})


async def scores(app: App, user: int) -> dict[date, int]:
    """The daily scores stored for a Discord user."""
    async with app.sessions() as s:
        person = await repo.find_person(s, "discord", str(user))
        assert person is not None, "no consent recorded"
        return await repo.daily_scores(s, person.id, START.date() - timedelta(days=30))


def later(app: App, **delta: float) -> None:
    """Move the app's clock forward."""
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(**delta))


TODAY = START.date()


# ------------------------------------------------------------------------ commands


async def test_every_public_command_is_synced_with_typed_options(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    synced = {c["name"]: c for c in fake.commands}
    assert set(synced) == {c.name for c in public_commands()}
    assert "advance" not in synced  # console-only
    [score] = synced["checkin"]["options"]
    assert (score["type"], score["min_value"], score["max_value"]) == (4, 0, 10)
    assert score["required"] is False
    log_opts = {o["name"]: o for o in synced["log"]["options"]}
    assert log_opts["score"]["required"] and log_opts["score"]["type"] == 4
    assert log_opts["date"]["type"] == 3 and not log_opts["date"]["required"]
    kind = next(o for o in synced["remind"]["options"] if o["name"] == "kind")
    # Every reminder kind the core registers, and nothing else.
    assert [c["value"] for c in kind["choices"]] == list(reminder_kinds.KEYS)
    assert {"checkin", "core", "posture"} <= set(reminder_kinds.KEYS)
    [zone] = synced["timezone"]["options"]
    assert zone["autocomplete"] is True
    for command in synced.values():
        assert 0 < len(command["description"]) <= 100
        assert all(o["description"] and o["description"] != "…" for o in command["options"])


async def test_timezone_autocomplete_offers_iana_names(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    interaction = await fake.autocomplete(ALICE, "timezone", "zone", "Berl")
    await fake.response(interaction)
    assert interaction.choices is not None
    assert "Europe/Berlin" in [c["value"] for c in interaction.choices]
    assert len(interaction.choices) <= 25


async def test_start_in_a_guild_asks_consent_only_to_the_person(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    interaction, messages = await slash(fake, bot, BOB, "start", guild=CLUB)
    assert interaction.callback is not None
    assert interaction.callback.type == CALLBACK_DEFERRED_CHANNEL_MESSAGE
    assert interaction.callback.elapsed < 3  # Discord's deadline for the first answer
    assert all(m.ephemeral for m in messages)
    assert "I can't diagnose you" in messages[0].content
    consent = messages[-1]
    assert consent.button_labels == ["I agree", "No thanks"]

    said = await tap(fake, bot, BOB, consent, "I agree")
    assert all(m.ephemeral for m in said)
    assert "you're set up" in said[0].content
    assert consent.components == []  # the consent keyboard is single-use
    async with app.sessions() as s:
        person = await repo.find_person(s, "discord", str(BOB))
    assert person is not None and person.chat_id == str(BOB)  # reminders go by DM
    assert [m for m in fake.messages(GENERAL) if not m.ephemeral] == []


async def test_slash_checkin_with_a_score_is_recorded_and_answered_ephemerally_in_a_guild(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    interaction, messages = await slash(fake, bot, ALICE, "checkin", {"score": 4}, guild=CLUB)
    assert interaction.callback is not None and interaction.callback.elapsed < 3
    assert messages[0].content.startswith("Recorded 4/10 for today")
    assert all(m.ephemeral for m in messages)
    assert await scores(app, ALICE) == {TODAY: 4}
    assert [m for m in fake.messages(GENERAL) if not m.ephemeral] == []


async def test_slash_log_backfills_yesterday(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    _, messages = await slash(fake, bot, ALICE, "log", {"score": 5, "date": "yesterday"})
    assert "Recorded 5/10 for yesterday" in messages[0].content
    assert await scores(app, ALICE) == {TODAY - timedelta(days=1): 5}


async def test_checkin_keyboard_tap_is_recorded_and_the_keyboard_removed(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    _, [question] = await slash(fake, bot, ALICE, "checkin", guild=CLUB)
    assert question.ephemeral
    assert question.button_labels == [str(n) for n in range(11)]
    assert len(question.components) <= MAX_ROWS
    assert all(len(row["components"]) <= ROW_WIDTH for row in question.components)

    said = await tap(fake, bot, ALICE, question, "6")
    assert said[0].content.startswith("Recorded 6/10 for today")
    assert said[0].ephemeral
    assert question.components == []  # an old keyboard cannot answer twice
    assert await scores(app, ALICE) == {TODAY: 6}


async def test_a_tap_on_a_shared_keyboard_is_recorded_for_whoever_tapped(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    await onboard(fake, bot, BOB)
    # A keyboard posted in the club channel (as a club post would be): everyone sees it.
    await bot.send(
        Address("discord", str(GENERAL)), Reply("Club check-in", formatting.score_keyboard())
    )
    [post] = fake.messages(GENERAL)
    assert not post.ephemeral

    said = await tap(fake, bot, BOB, post, "3")
    assert said[0].ephemeral and said[0].content.startswith("Recorded 3/10")
    assert await scores(app, BOB) == {TODAY: 3}
    assert await scores(app, ALICE) == {}
    assert post.components != []  # a shared keyboard stays for the rest of the club


async def test_a_forged_button_records_nothing_and_says_it_expired(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    for label, payload in (("9", "1:s:99"), ("x", "2:s:4")):
        await bot.send(Address("discord", str(ALICE)), Reply("Old", ((Button(label, payload),),)))
        message = fake.dm_messages(ALICE)[-1]
        said = await tap(fake, bot, ALICE, message, label)
        assert said[0].content.startswith("This button has expired")
        assert message.components == []  # a dead keyboard is taken away
    assert await scores(app, ALICE) == {}


# ------------------------------------------------------------------------ restarts, reconnects


async def test_a_reminder_keyboard_still_works_after_a_restart(app: App, fake: DiscordFake) -> None:
    first = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await first.start()
    try:
        await onboard(fake, first, ALICE)
        await first.send(
            Address("discord", str(ALICE)),
            Reply("How's your SI pain today?", formatting.score_keyboard()),
        )
    finally:
        await first.stop()
    reminder = fake.dm_messages(ALICE)[-1]
    assert reminder.content == "How's your SI pain today?" and not reminder.ephemeral

    second = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await second.start()
    try:
        said = await tap(fake, second, ALICE, reminder, "2")
    finally:
        await second.stop()
    assert said[0].content.startswith("Recorded 2/10 for today")
    assert not said[0].ephemeral  # in a DM: a normal message the person can scroll back to
    assert reminder.components == []
    assert await scores(app, ALICE) == {TODAY: 2}
    assert fake.connections[-1].identified  # a new process, a new session
    await asyncio.sleep(0)  # let just-cancelled tasks finish their cleanup
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current and not t.done()] == []


async def test_a_gateway_reconnect_loses_no_check_in_and_answers_once(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    before = len(fake.dm_messages(ALICE))
    await fake.reconnect()
    # Written while the client may be between sockets: replayed on RESUME, handled once.
    await fake.dm(ALICE, "5")
    await fake.wait_for(lambda: any(c.resumed for c in fake.connections))
    await fake.wait_for(lambda: len(fake.dm_messages(ALICE)) > before)
    await bot.drain()
    texts = [m.content for m in fake.dm_messages(ALICE)[before:]]
    assert sum(t.startswith("Recorded 5/10") for t in texts) == 1
    assert await scores(app, ALICE) == {TODAY: 5}
    assert fake.connections[-1].path == RESUME_GATEWAY_PATH
    _, messages = await slash(fake, bot, ALICE, "checkin", {"score": 6})  # still serving
    assert messages[0].content.startswith("Changed today's score from 5 to 6/10")


# ------------------------------------------------------------------------ DMs


async def test_a_dm_score_is_recorded(app: App, fake: DiscordFake, bot: DiscordAdapter) -> None:
    await onboard(fake, bot, ALICE)
    said = await dm(fake, bot, ALICE, "pain 4")
    assert said[0].startswith("Recorded 4/10 for today")
    assert await scores(app, ALICE) == {TODAY: 4}


async def test_a_dm_score_before_consent_rides_on_the_consent_button(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    said = await dm(fake, bot, BOB, "4")
    assert "I'll record 4/10 as soon as you say yes" in said[0]
    consent = fake.dm_messages(BOB)[-1]
    answers_ = await tap(fake, bot, BOB, consent, "I agree")
    assert any(m.content.startswith("Recorded 4/10") for m in answers_)
    assert await scores(app, BOB) == {TODAY: 4}


# ------------------------------------------------------------------------ escalation


async def test_two_sevens_say_see_a_doctor_first_and_a_red_flag_gets_emergency_advice(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    await dm(fake, bot, ALICE, "7")
    later(app, days=1)
    said = "\n".join(await dm(fake, bot, ALICE, "7"))
    assert said.index("See a doctor today") < said.index("Recorded 7/10")

    later(app, days=1)
    await dm(fake, bot, ALICE, "8")
    screen = fake.dm_messages(ALICE)[-1]
    assert "A quick safety check" in screen.content
    assert screen.button_labels[0] == "Numb saddle area (groin, buttocks)"
    assert screen.button_labels[-1] == "None of these"
    assert len(screen.button_labels) == len(SYMPTOMS) + 1  # every option, and "None of these"
    assert len(screen.components) <= MAX_ROWS
    assert all(len(row["components"]) <= ROW_WIDTH for row in screen.components)

    said_ = await tap(fake, bot, ALICE, screen, "Numb saddle area (groin, buttocks)")
    assert said_[0].content.startswith("Get help now")
    assert screen.button_labels[-1] == "None of these"  # "tap any that apply": it stays


# ------------------------------------------------------------------------ files


async def test_history_sends_the_chart_and_export_a_csv(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    for value in (3, 4, 5):
        await dm(fake, bot, ALICE, str(value))
        later(app, days=1)

    _, messages = await slash(fake, bot, ALICE, "history", guild=CLUB)
    assert all(m.ephemeral for m in messages)
    [chart] = [a for m in messages for a in m.attachments]
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    assert "Your last 14 days" in messages[0].content

    _, messages = await slash(fake, bot, ALICE, "export")
    [export] = [a for m in messages for a in m.attachments]
    assert export.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8"))))
    assert sum(1 for r in rows if "3" in r or "4" in r or "5" in r) >= 3


# ------------------------------------------------------------------------ sending reminders


async def test_a_reminder_is_delivered_by_dm_with_buttons(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await bot.send(
        Address("discord", str(BOB)),
        Reply("Time for your check-in", formatting.score_keyboard()),
    )
    [message] = fake.dm_messages(BOB)
    assert message.content == "Time for your check-in"
    assert message.custom_ids == [f"1:s:{n}" for n in range(11)]


async def test_closed_dms_make_the_person_unreachable(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    fake.close_dms(BOB)
    with pytest.raises(Unreachable):
        await bot.send(Address("discord", str(BOB)), Reply("Time for your check-in"))
    assert fake.dm_messages(BOB) == []


async def test_a_short_429_is_waited_out_and_the_message_delivered_once(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    route = "POST /channels/{channel_id}/messages"
    fake.throttle(1, retry_after=0.2, route=route)
    await bot.send(Address("discord", str(BOB)), Reply("Time for your core work"))
    assert [r.status for r in fake.requests_to(route)] == [429, 200]
    assert [m.content for m in fake.dm_messages(BOB)] == ["Time for your core work"]


async def test_a_long_429_comes_back_as_retry_later_with_nothing_sent(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    fake.throttle(1, retry_after=120, route="POST /channels/{channel_id}/messages")
    with pytest.raises(RetryLater) as caught:
        await bot.send(Address("discord", str(BOB)), Reply("Time for your core work"))
    assert caught.value.retry_after >= 30
    assert fake.dm_messages(BOB) == []


async def test_long_text_is_split_under_discords_limit(
    fake: DiscordFake, bot: DiscordAdapter
) -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(8))
    await bot.send(Address("discord", str(BOB)), Reply(text, formatting.score_keyboard()))
    messages = fake.dm_messages(BOB)
    assert len(messages) >= 3
    assert all(len(m.content) <= MESSAGE_LIMIT for m in messages)
    assert " ".join(" ".join(m.content for m in messages).split()) == " ".join(text.split())
    assert [bool(m.components) for m in messages] == [False] * (len(messages) - 1) + [True]


async def test_a_scheduled_check_in_reminder_arrives_by_dm_at_its_time(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)  # at 07:00 UTC; the default check-in reminder is 08:00
    before = len(fake.dm_messages(ALICE))
    later(app, hours=1)
    runtime = await start_scheduler(app, {"discord": bot}, poll_seconds=0.2)
    try:
        reminder = await fake.wait_for(
            lambda: next((m for m in fake.dm_messages(ALICE)[before:] if m.custom_ids), None)
        )
    finally:
        await runtime.stop()
    assert not reminder.ephemeral
    # each button carries the day it asks about
    assert reminder.custom_ids == [f"1:s:{n}:{TODAY.toordinal()}" for n in range(11)]
    said = await tap(fake, bot, ALICE, reminder, "3")
    assert said[0].content.startswith("Recorded 3/10 for today")
    assert await scores(app, ALICE) == {TODAY: 3}
    # One reminder for the slot: a second pass at the same instant sends nothing more.
    stats = await Dispatcher(app.engine, {"discord": bot}).run_once()
    assert stats.claimed == 0
    assert sum(1 for m in fake.dm_messages(ALICE) if m.custom_ids) == 1


async def test_closed_dms_park_the_persons_reminders(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, BOB)
    fake.close_dms(BOB)
    later(app, hours=1)
    await Dispatcher(app.engine, {"discord": bot}).run_once()
    async with app.sessions() as s:
        person = await repo.find_person(s, "discord", str(BOB))
        assert person is not None and not person.reachable
        assert all(r.next_send_at is None for r in await repo.reminders_of(s, person.id))
    # Writing again makes them reachable: the engine resumes what the dispatcher parked.
    fake.open_dms(BOB)
    await dm(fake, bot, BOB, "2")
    async with app.sessions() as s:
        person = await repo.find_person(s, "discord", str(BOB))
        assert person is not None and person.reachable


# ------------------------------------------------------------------------ clubs


async def test_club_mode_posts_totals_in_the_channel_and_keeps_taps_private(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    interaction, _ = await slash(
        fake, bot, ALICE, "club", {"action": "on", "value": "07:30"}, guild=CLUB
    )
    [announcement] = [m for m in fake.messages(GENERAL) if not m.ephemeral]
    assert announcement.content.startswith("Club check-ins are on")
    assert all(m.deleted for m in answers(interaction))  # the "thinking..." placeholder
    _, refused = await slash(fake, bot, BOB, "club", {"action": "off"}, guild=CLUB)
    # The refusal is for Bob alone; the channel still shows only the announcement.
    assert [m.content for m in refused if not m.deleted] == [ONLY_ADMINS]
    assert all(m.ephemeral for m in refused)
    assert [m for m in fake.messages(GENERAL) if not m.ephemeral] == [announcement]

    later(app, minutes=30)
    assert await post_due_clubs(app, {"discord": bot}) == 1
    post = fake.messages(GENERAL)[-1]
    assert post.content.startswith("Club check-in") and not post.ephemeral

    consent = await tap(fake, bot, BOB, post, "4")  # Bob has not consented yet
    assert consent[0].ephemeral and "I agree" in consent[-1].button_labels
    said = await tap(fake, bot, BOB, consent[-1], "I agree")
    assert all(m.ephemeral for m in said)
    assert any(m.content.startswith("Recorded 4/10") for m in said)
    assert await scores(app, BOB) == {TODAY: 4}
    public = [m.content for m in fake.messages(GENERAL) if not m.ephemeral]
    assert not any("4/10" in text for text in public)  # the channel never sees a score
    assert post.components != []  # the club post's keyboard stays for everyone else


# ------------------------------------------------------------------------ logs


async def test_the_token_and_what_people_write_never_reach_the_logs(
    app: App, fake: DiscordFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("discord", "discord.http", "discord.gateway", "discord.client"):
        caplog.set_level(logging.DEBUG, logger=name)
    # The one log policy `si-checkin run` installs at start keeps discord.py's payloads out.
    logs.install_policy()
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    try:
        await adapter.start()
        try:
            await onboard(fake, adapter, ALICE)
            await dm(fake, adapter, ALICE, "pain 4 and my hamstring aches")
            await slash(fake, adapter, ALICE, "checkin", {"score": 5}, guild=CLUB)
            fake.throttle(1, retry_after=0.1, route="POST /channels/{channel_id}/messages")
            await adapter.send(Address("discord", str(ALICE)), Reply("Reminder"))
        finally:
            await adapter.stop()
    finally:
        logs.uninstall_policy()
    assert caplog.records, "nothing was logged at all: the capture is not working"
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert TOKEN not in logged
    assert TOKEN.split(".")[-1] not in logged
    assert "hamstring" not in logged
    interaction_tokens = [i.token for i in fake.interactions.values()]
    assert not any(t in logged for t in interaction_tokens)


async def test_si_checkin_run_serves_discord_and_stops_cleanly_on_sigterm(
    fake: DiscordFake, db_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SI_CHECKIN_DATA_DIR": str(tmp_path / "data"),
        "SI_CHECKIN_LOG_LEVEL": "DEBUG",
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    env.pop("TELEGRAM_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters",
        "run",
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await fake.wait_for(lambda: fake.commands, timeout=60)  # logged in, READY, synced
        await fake.dm(ALICE, "pain 4")
        await fake.wait_for(lambda: fake.dm_messages(ALICE), timeout=30)
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert "I'll record 4/10 as soon as you say yes" in fake.dm_messages(ALICE)[0].content
    assert proc.returncode == 0, stderr.decode()
    log_text = stderr.decode()
    assert "serving discord" in log_text
    assert TOKEN not in log_text and "pain 4" not in log_text


# ------------------------------------------------------------------------ rendering (pure)


def test_keyboards_keep_rows_that_fit_and_reflow_the_rest() -> None:
    two = (Button("I agree", "1:c:y"), Button("No thanks", "1:c:n"))
    assert layout((two,), LIMITS) == [[list(two)]]
    score = formatting.score_keyboard()  # rows of six: too wide for Discord
    [keyboard] = layout(score, LIMITS)
    assert [len(r) for r in keyboard] == [5, 5, 1]
    assert [b.label for r in keyboard for b in r] == [str(n) for n in range(11)]
    many = tuple((Button(str(i), f"1:s:{i % 11}"),) for i in range(30))
    first, second = layout(many, LIMITS)  # over 25 buttons spill onto a second message
    assert sum(map(len, first)) == 25 and sum(map(len, second)) == 5


def test_render_puts_the_keyboard_and_files_on_the_last_part_and_caps_labels() -> None:
    reply = Reply("x " * 1500, ((Button("L" * 200, "1:s:1"),),))
    parts = render(reply)
    assert len(parts) == 2 and not parts[0].rows and parts[1].rows
    view = parts[1].kwargs()["view"]
    assert len(view.children[0].label) == BUTTON_LABEL_LIMIT


@contextlib.asynccontextmanager
async def checkins_locked(app: App) -> AsyncIterator[None]:
    """Hold a write lock on the check-ins table from another connection: a slow database."""
    url = make_url(app.settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # writers wait for it (WAL readers do not)
        try:
            yield
        finally:
            conn.execute("COMMIT")
            conn.close()
        return
    pg = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        async with pg.transaction():
            await pg.execute("LOCK TABLE checkins IN ACCESS EXCLUSIVE MODE")
            yield
    finally:
        await pg.close()


async def test_a_slow_database_still_meets_the_three_second_deadline(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, ALICE)
    async with checkins_locked(app):
        interaction = await fake.slash(ALICE, "checkin", {"score": 3}, guild=CLUB)
        await fake.response(interaction)
        await asyncio.sleep(3.5)  # the database stays busy past Discord's deadline
        assert answers(interaction)[0].loading  # "thinking...", nothing claimed yet
    messages = await answered(fake, bot, interaction)
    assert interaction.callback is not None and interaction.callback.elapsed < 3
    assert messages[0].content.startswith("Recorded 3/10")
    assert messages[0].ephemeral
    assert await scores(app, ALICE) == {TODAY: 3}
