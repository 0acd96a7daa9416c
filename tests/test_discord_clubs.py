"""Running clubs in Discord channels (issue 7), end to end: the real adapter and discord.py
client against the loopback Discord fake, with the real engine and scheduler on SQLite and
PostgreSQL. The channel only ever sees totals; everything about one person reaches only them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.discord import DMS_CLOSED, MAX_ROWS, MESSAGE_LIMIT, ROW_WIDTH, DiscordAdapter
from bot.app import App
from bot.clock import ManualClock
from bot.handlers.clubs import ONLY_ADMINS
from bot.settings import Settings
from bot.store import club_repo, repo
from bot.store.models import Club, ClubMember
from scheduler.club_posts import post_due_clubs
from tests.fakes.discord_server import DiscordFake, Interaction, Message
from tests.test_discord import (
    APP_ID,
    GUILD_READY_TIMEOUT,
    TODAY,
    TOKEN,
    answered,
    dm,
    onboard,
    scores,
)

ALICE = 700_000_000_000_000_001  # club admin (Manage Server)
BOB = 700_000_000_000_000_002
CAROL = 700_000_000_000_000_003
DAN = 700_000_000_000_000_004
CLUB = 800_000_000_000_000_001
GENERAL = 800_000_000_000_000_101
SOCIAL = 800_000_000_000_000_102


@pytest.fixture
async def fake() -> AsyncIterator[DiscordFake]:
    """The Trail Runners guild: Alice runs it; Bob, Carol and Dan are members."""
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as server:
        server.user(ALICE, "Alice")
        server.user(BOB, "Bob")
        server.user(CAROL, "Carol")
        server.user(DAN, "Dan")
        server.guild(
            CLUB,
            "Trail Runners",
            channels=[(GENERAL, "general"), (SOCIAL, "social")],
            members=[BOB, CAROL, DAN],
            admins=[ALICE],
        )
        yield server


@pytest.fixture
def settings(db_url: str, tmp_path: Path, fake: DiscordFake) -> Settings:
    """The app's settings pointing discord.py at the fake."""
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
    """The real adapter, started."""
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


# ------------------------------------------------------------------------ helpers


async def slash(
    fake: DiscordFake,
    bot: DiscordAdapter,
    user: int,
    name: str,
    options: dict[str, object] | None = None,
    *,
    guild: int | None = None,
    channel: int | None = None,
) -> tuple[Interaction, list[Message]]:
    """A person runs a slash command (in a guild channel, if given); returns what they saw."""
    interaction = await fake.slash(user, name, options, guild=guild, channel=channel)
    return interaction, await answered(fake, bot, interaction)


async def club_cmd(
    fake: DiscordFake, bot: DiscordAdapter, user: int, action: str, value: str | None = None
) -> str:
    """Someone runs /club in #general; returns what the bot then said in the channel."""
    before = len(channel_text(fake))
    options = {"action": action} | ({"value": value} if value else {})
    interaction, personal = await slash(fake, bot, user, "club", options, guild=CLUB)
    assert interaction.callback is not None and interaction.callback.elapsed < 3
    assert all(m.deleted or m.ephemeral for m in personal)
    [said] = channel_text(fake)[before:]
    return said


def channel_text(fake: DiscordFake, channel: int = GENERAL) -> list[str]:
    """Everything the bot said that the whole channel can see."""
    return [m.content for m in fake.messages(channel) if not m.ephemeral]


async def club_of(app: App, channel: int = GENERAL) -> Club:
    async with app.sessions() as s:
        club = await club_repo.find(s, "discord", str(channel))
    assert club is not None
    return club


async def post(app: App, fake: DiscordFake, bot: DiscordAdapter, channel: int = GENERAL) -> Message:
    """Move the clock to the club's next post time and let the scheduler post it."""
    club = await club_of(app, channel)
    assert club.next_post_at is not None
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.set(max(clock.now(), club.next_post_at))
    before = len(fake.messages(channel))
    assert await post_due_clubs(app, {"discord": bot}) >= 1
    [message] = fake.messages(channel)[before:]
    assert message.content.startswith("Club check-in") and not message.ephemeral
    return message


async def press(
    fake: DiscordFake, bot: DiscordAdapter, user: int, message: Message, label: str
) -> tuple[Interaction, list[Message]]:
    """A person taps a button; returns the interaction and what they were shown."""
    custom_id = next(c["custom_id"] for c in message.iter_components() if c.get("label") == label)
    interaction = await fake.click(user, message, custom_id)
    said = await answered(fake, bot, interaction)
    assert interaction.callback is not None and interaction.callback.elapsed < 3
    return interaction, said


async def tap_score(
    fake: DiscordFake, bot: DiscordAdapter, user: int, message: Message, score: int
) -> list[Message]:
    """A member taps a score on the club post; returns what only they were shown."""
    _, said = await press(fake, bot, user, message, str(score))
    assert said and all(m.ephemeral for m in said)
    return said


async def members(app: App) -> int:
    async with app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(ClubMember)) or 0


async def settled(fake: DiscordFake, bot: DiscordAdapter) -> None:
    """Wait until the bot has handled every gateway event sent so far.

    discord.py starts event handlers in the order the events arrive, so once a later DM is
    answered the earlier handlers have started, and drain() waits for them to finish.
    """
    await dm(fake, bot, ALICE, "/help")
    await bot.drain()


async def club_on(app: App, fake: DiscordFake, bot: DiscordAdapter, channel: int = GENERAL) -> None:
    """Alice turns on the daily 07:30 post (UTC, the default zone)."""
    options = {"action": "on", "value": "07:30"}
    await slash(fake, bot, ALICE, "club", options, guild=CLUB, channel=channel)
    assert (await club_of(app, channel)).enabled


# ------------------------------------------------------------------------ admin


async def test_an_admin_sets_up_the_club_and_a_non_admin_changes_nothing(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    said = await club_cmd(fake, bot, ALICE, "timezone", "Berlin")
    assert said == "Club time zone set to Europe/Berlin."
    said = await club_cmd(fake, bot, ALICE, "on", "07:30")
    assert said.startswith("Club check-ins are on: I'll post every day at 07:30 (Europe/Berlin)")

    for action, value in (("off", None), ("on", "05:00"), ("streaks", "on"), ("timezone", "UTC")):
        # A refusal is for the member who asked: only they see it, the channel sees nothing.
        before = len(channel_text(fake))
        options = {"action": action, "value": value} if value else {"action": action}
        _, personal = await slash(fake, bot, BOB, "club", options, guild=CLUB)
        assert [m.content for m in personal if not m.deleted] == [ONLY_ADMINS]
        assert all(m.ephemeral for m in personal) and channel_text(fake)[before:] == []
    club = await club_of(app)
    assert club.enabled and not club.streaks
    assert (club.tz, f"{club.post_time:%H:%M}") == ("Europe/Berlin", "07:30")
    async with app.sessions() as s:
        assert await repo.find_person(s, "discord", str(BOB)) is None  # a refusal stores nothing

    assert (await club_cmd(fake, bot, ALICE, "off")).startswith("Club check-ins are off")
    assert not (await club_of(app)).enabled


async def test_the_daily_post_fires_at_the_clubs_local_time_with_the_score_buttons(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await club_cmd(fake, bot, ALICE, "timezone", "Berlin")
    await club_cmd(fake, bot, ALICE, "on", "07:30")
    club = await club_of(app)
    # START is Monday 07:00 UTC, 08:00 in Berlin: the first post is Tuesday 07:30 CET.
    assert club.next_post_at is not None
    assert club.next_post_at.isoformat() == "2026-03-03T06:30:00+00:00"
    before = len(channel_text(fake))
    assert (
        await post_due_clubs(app, {"discord": bot}, now=club.next_post_at - timedelta(minutes=1))
        == 0
    )
    assert len(channel_text(fake)) == before

    message = await post(app, fake, bot)
    assert message.custom_ids == [f"1:k:{club.id}:{n}" for n in range(11)]
    assert len(message.content) <= MESSAGE_LIMIT
    assert 0 < len(message.components) <= MAX_ROWS
    assert all(len(row["components"]) <= ROW_WIDTH for row in message.components)
    assert await post_due_clubs(app, {"discord": bot}) == 0  # one post a day
    assert (await club_of(app)).next_post_at.isoformat() == "2026-03-04T06:30:00+00:00"


# ------------------------------------------------------------------------ members


async def test_members_tap_privately_and_the_channel_sees_only_counts(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, BOB)
    await onboard(fake, bot, CAROL)
    await club_on(app, fake, bot)
    message = await post(app, fake, bot)

    for user, score in ((BOB, 2), (CAROL, 5)):
        said = await tap_score(fake, bot, user, message, score)
        assert said[0].content.startswith(f"Recorded {score}/10 for today.")
        assert said[0].content.endswith("Only you can see this.")
        assert await scores(app, user) == {TODAY: score}
    assert await members(app) == 2

    # Dan has never used the bot: consent first, only to him, and nothing stored before it.
    # 8 is high: the red-flag screen comes first, then the consent question, both to him only.
    screen, consent = await tap_score(fake, bot, DAN, message, 8)
    assert "A quick safety check" in screen.content
    assert consent.content.startswith("I'll record 8/10 as soon as you say yes")
    assert consent.button_labels == ["I agree", "No thanks"]
    async with app.sessions() as s:
        assert await repo.find_person(s, "discord", str(DAN)) is None
    assert await members(app) == 2
    _, said = await press(fake, bot, DAN, consent, "I agree")
    assert all(m.ephemeral for m in said)
    assert any(m.content.startswith("Recorded 8/10 for today") for m in said)
    assert consent.components == []  # the consent keyboard is single-use
    assert await scores(app, DAN) == {TODAY: 8}
    assert await members(app) == 3  # the club tap that asked for consent joined him
    assert message.components != []  # the post's keyboard stays for everyone else

    summary = await club_cmd(fake, bot, CAROL, "summary")
    assert "3 members checked in this week." in summary
    assert "/10" not in summary  # today is still open: no figure moves with a tap
    await post(app, fake, bot)  # the next day's post closes the day
    summary = await club_cmd(fake, bot, CAROL, "summary")
    assert "Average pain on days with 3+ check-ins, the 7 days to Mon 2 Mar: 5.0/10." in summary
    public = "\n".join(channel_text(fake))
    for name in ("Bob", "Carol", "Dan"):
        assert name not in public
    for score in (2, 8):
        assert f"{score}/10" not in public
    assert "Recorded" not in public
    assert fake.dm_messages(DAN) == []  # nothing to say by DM on a first score


async def test_a_worsening_member_gets_advice_by_dm_and_the_channel_sees_nothing(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, BOB)
    await club_on(app, fake, bot)
    dms_before = len(fake.dm_messages(BOB))
    for score in (2, 2, 2):
        await tap_score(fake, bot, BOB, await post(app, fake, bot), score)
    assert len(fake.dm_messages(BOB)) == dms_before

    said = await tap_score(fake, bot, BOB, await post(app, fake, bot), 6)
    assert [m.content for m in said] == ["Recorded 6/10 for today. Only you can see this."]
    dms = fake.dm_messages(BOB)[dms_before:]
    assert any("Ease off today" in m.content for m in dms)
    [screen] = [m for m in dms if "A quick safety check" in m.content]
    assert screen.button_labels[-1] == "None of these" and not screen.ephemeral

    public = "\n".join(channel_text(fake))
    for private in ("6/10", "Ease off", "safety check", "Bob"):
        assert private not in public
    assert all(m.ephemeral for m in fake.messages(GENERAL) if "Recorded" in m.content)

    # The screen works where it landed: in the DM.
    _, answer = await press(fake, bot, BOB, screen, "None of these")
    assert answer and not any(m.ephemeral for m in answer)


async def test_a_member_with_closed_dms_is_told_privately_and_still_gets_the_advice(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await onboard(fake, bot, CAROL)
    await club_on(app, fake, bot)
    for score in (2, 2, 2):
        await tap_score(fake, bot, CAROL, await post(app, fake, bot), score)
    fake.close_dms(CAROL)
    dms_before = len(fake.dm_messages(CAROL))
    public_before = channel_text(fake)

    said = await tap_score(fake, bot, CAROL, await post(app, fake, bot), 6)
    texts = [m.content for m in said]
    assert texts[0] == "Recorded 6/10 for today. Only you can see this."
    assert DMS_CLOSED in texts
    assert any("Ease off today" in t for t in texts)
    [screen] = [m for m in said if "A quick safety check" in m.content]
    assert screen.ephemeral and screen.button_labels[-1] == "None of these"
    assert texts.count(DMS_CLOSED) == 1  # said once, however many DMs were due
    assert len(fake.dm_messages(CAROL)) == dms_before
    assert channel_text(fake)[: len(public_before)] == public_before
    assert len(channel_text(fake)) == len(public_before) + 1  # only the day's club post
    assert await scores(app, CAROL) == {
        TODAY + timedelta(days=d): s for d, s in ((0, 2), (1, 2), (2, 2), (3, 6))
    }


async def test_a_member_who_shares_their_streak_appears_by_name_without_a_score(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    for user in (BOB, CAROL, DAN):
        await onboard(fake, bot, user)
    await club_on(app, fake, bot)
    assert (await club_cmd(fake, bot, ALICE, "streaks", "on")).startswith("Streaks are on")
    for _ in range(3):
        message = await post(app, fake, bot)
        for user, score in ((BOB, 2), (CAROL, 4), (DAN, 6)):
            await tap_score(fake, bot, user, message, score)
    assert "streak" not in (await club_cmd(fake, bot, DAN, "summary")).lower()

    public_before = len(channel_text(fake))
    interaction, said = await slash(fake, bot, BOB, "streak", {"choice": "share"}, guild=CLUB)
    assert interaction.callback is not None and interaction.callback.elapsed < 3
    assert said and all(m.ephemeral for m in said)
    assert said[0].content.startswith("You'll appear in club streaks")
    assert len(channel_text(fake)) == public_before

    summary = await club_cmd(fake, bot, DAN, "summary")
    assert "Check-in streaks: Bob 3 days." in summary
    assert "Carol" not in summary and "Dan" not in summary
    assert "2/10" not in summary and "6/10" not in summary

    await slash(fake, bot, BOB, "streak", {"choice": "hide"}, guild=CLUB)
    assert "Bob" not in await club_cmd(fake, bot, DAN, "summary")


# ------------------------------------------------------------------------ the bot removed


async def test_the_bot_removed_from_the_guild_stops_the_club(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await club_on(app, fake, bot)
    await club_on(app, fake, bot, SOCIAL)
    await post(app, fake, bot)
    posts = len(channel_text(fake))

    await fake.remove_bot(CLUB)
    await settled(fake, bot)

    assert not (await club_of(app, SOCIAL)).enabled
    club = await club_of(app)
    assert not club.enabled
    assert club.next_post_at is None and club.post_time is not None  # settings are kept
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=2))
    assert await post_due_clubs(app, {"discord": bot}) == 0
    assert len(channel_text(fake)) == posts


async def test_a_deleted_channel_stops_only_its_own_club(
    app: App, fake: DiscordFake, bot: DiscordAdapter
) -> None:
    await club_on(app, fake, bot)
    await club_on(app, fake, bot, SOCIAL)

    await fake.delete_channel(SOCIAL)
    await settled(fake, bot)

    assert not (await club_of(app, SOCIAL)).enabled
    assert (await club_of(app)).enabled
    await post(app, fake, bot)  # #general still gets its post


@pytest.mark.parametrize(("gone", "status"), [("bot removed", 403), ("channel deleted", 404)])
async def test_a_club_gone_while_the_bot_was_offline_is_stopped_by_its_next_post(
    app: App, fake: DiscordFake, gone: str, status: int
) -> None:
    first = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await first.start()
    try:
        await club_on(app, fake, first)
    finally:
        await first.stop()
    # Nobody connected: the GUILD_DELETE / CHANNEL_DELETE never reaches us.
    if gone == "bot removed":
        await fake.remove_bot(CLUB)
    else:
        await fake.delete_channel(GENERAL)

    second = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await second.start()
    try:
        assert second.client is not None and second.client.get_channel(GENERAL) is None
        club = await club_of(app)
        assert club.enabled and club.next_post_at is not None
        posted = await post_due_clubs(app, {"discord": second}, now=club.next_post_at)
    finally:
        await second.stop()
    assert posted == 0
    club = await club_of(app)
    assert not club.enabled and club.next_post_at is None  # Unreachable: deactivated
    assert fake.requests_to("POST /channels/{channel_id}/messages")[-1].status == status
