"""Club privacy: no figure a group sees can be differenced down to one member's score, and no
member's display name formats, links or pings anything in a channel.

The core is played through the engine (as tests/test_clubs.py does); names and mentions are
checked end to end against the Discord and Telegram fakes.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import select

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot import clubstats
from bot.app import App
from bot.clock import ManualClock
from bot.events import Address, ChatKind, Incoming, Reply
from bot.handlers.clubs import club_today
from bot.store import club_repo, repo
from bot.store.models import CheckIn, Club, ClubMember
from scheduler.club_posts import post_due_clubs
from tests.conftest import START
from tests.fakes.discord_server import DiscordFake, FakeUser, Message
from tests.fakes.telegram_server import TelegramFake
from tests.test_clubs import Recorder, button
from tests.test_discord import APP_ID, GUILD_READY_TIMEOUT, TOKEN, onboard
from tests.test_discord_clubs import club_cmd, club_on, post, slash, tap_score
from tests.test_telegram import Phone, point_at
from tests.test_telegram_clubs import Group, post_due

AVERAGE = re.compile(r"Average pain on days with 3\+ check-ins, the 7 days to (.+?): ([\d.]+)/10\.")
TREND = re.compile(r"Club trend, the week to (.+?): (\S)")
BERLIN = ZoneInfo("Europe/Berlin")
_clubs = itertools.count(1)


# ------------------------------------------------------------------------ the core, by engine


async def in_chat(
    app: App, chat: str, user: str, text: str | None = None, action: str | None = None
) -> list[Reply]:
    """Someone writes or taps in a group chat (an admin, for /club settings)."""
    inc = Incoming(
        "telegram", user, chat, text=text, action=action, chat_kind=ChatKind.GROUP, is_admin=True
    )
    return await app.engine.handle(inc)


async def in_private(
    app: App, user: str, text: str | None = None, action: str | None = None
) -> list[Reply]:
    return await app.engine.handle(Incoming("telegram", user, user, text=text, action=action))


async def tap(app: App, chat: str, user: str, post_reply: Reply, score: int) -> None:
    """A member taps a score on the club post (agreeing to storage first if needed)."""
    first = await in_chat(app, chat, user, action=button(post_reply, str(score)))
    consent = [r for r in first if r.buttons and r.buttons[0][0].label == "I agree"]
    if consent:
        await in_chat(app, chat, user, action=button(consent[0], "I agree"))


async def onboard_privately(app: App, user: str) -> None:
    [ask] = [r for r in await in_private(app, user, "/start") if r.buttons]
    await in_private(app, user, action=button(ask, "I agree"))


async def summary(app: App, chat: str, user: str = "anyone") -> str:
    [reply] = await in_chat(app, chat, user, "/club summary")
    assert not reply.private
    return reply.text


async def the_club(app: App, chat: str) -> Club:
    async with app.sessions() as s:
        found = await club_repo.find(s, "telegram", chat)
    assert found is not None
    return found


async def post_until(app: App, chat: str, until: datetime) -> list[tuple[date, Reply]]:
    """Move the clock to `until`, posting every club post due on the way at its time."""
    clock = app.clock
    assert isinstance(clock, ManualClock)
    posted = []
    while True:
        club = await the_club(app, chat)
        if club.next_post_at is None or club.next_post_at > until:
            break
        due = club.next_post_at
        clock.set(max(clock.now(), due))
        out = Recorder()
        await post_due_clubs(app, {"telegram": out})
        [reply] = [r for a, r in out.sent if a == Address("telegram", chat)]
        posted.append((club_today(club, due), reply))
    clock.set(max(clock.now(), until))
    return posted


def score_lines(text: str) -> list[str]:
    """The lines of a group text derived from scores (averages, trends)."""
    return [line for line in text.splitlines() if "/10" in line or line.startswith("Club trend")]


async def test_a_fourth_tap_moves_no_figure_and_nothing_later_does(app: App) -> None:
    chat = "-100900"
    await in_chat(app, chat, "ada", "/club on 07:30")
    [(_, monday)] = await post_until(app, chat, app.clock.now() + timedelta(hours=1))
    for user, score in (("ann", 3), ("bob", 4), ("cy", 5)):
        await tap(app, chat, user, monday, score)
    three = await summary(app, chat)
    await tap(app, chat, "dan", monday, 9)
    four = await summary(app, chat)
    assert "3 members checked in" in three and "4 members checked in" in four  # counts are live
    # Monday is still open: nothing derived from its scores is shown, before or after Dan.
    assert score_lines(three) == score_lines(four) == []

    [(_, tuesday)] = await post_until(app, chat, app.clock.now() + timedelta(days=1))
    closed = await summary(app, chat)
    assert "the 7 days to Mon 2 Mar: 5.2/10." in closed  # (3 + 4 + 5 + 9) / 4, once closed
    await tap(app, chat, "eve", tuesday, 1)  # today's taps never reach a closed figure,
    await tap(app, chat, "eve", tuesday, 8)  # nor does a change of mind the same day
    assert score_lines(await summary(app, chat)) == score_lines(closed)
    # Dan changes Monday after it closed: the figure stays as frozen at the close, so the
    # before and after never differ by his score.
    await in_private(app, "dan", "/log 0 yesterday")
    assert score_lines(await summary(app, chat)) == score_lines(closed)
    # Cy erases everything: the figure still does not move, so her scores cannot be worked
    # out from the difference.
    confirm = (await in_private(app, "cy", "/delete"))[0]
    erased = await in_private(app, "cy", action=button(confirm, "Delete everything"))
    assert "erased" in erased[0].text
    assert score_lines(await summary(app, chat)) == score_lines(closed)


async def test_a_closed_day_counts_three_or_more_members_who_had_joined_by_then(
    app: App,
) -> None:
    chat = "-100901"
    await in_chat(app, chat, "ada", "/club on 07:30")
    await onboard_privately(app, "dee")
    await in_private(app, "dee", "/checkin 6")  # Dee's private history, not yet a member
    [(_, monday)] = await post_until(app, chat, app.clock.now() + timedelta(hours=1))
    for user, score in (("ann", 2), ("bob", 6)):
        await tap(app, chat, user, monday, score)
    [(_, tuesday)] = await post_until(app, chat, app.clock.now() + timedelta(days=1))
    assert "/10" not in await summary(app, chat)  # two reporters on Monday: no average
    await onboard_privately(app, "cy")
    await in_private(app, "cy", "/log 4 yesterday")
    for user, score in (("bob", 3), ("cy", 5), ("dee", 4)):
        await tap(app, chat, user, tuesday, score)
    # Cy and Dee joined after Monday closed: their Monday scores never complete it.
    assert "/10" not in await summary(app, chat)
    await post_until(app, chat, app.clock.now() + timedelta(days=1))
    text = await summary(app, chat)
    assert "Yesterday: 3 checked in" in text
    assert "the 7 days to Tue 3 Mar: 4.0/10." in text  # Tuesday alone: (3 + 5 + 4) / 3


# ------------------------------------------------------------------------ the property


@dataclass(frozen=True)
class Seen:
    """One group-visible text and what was stored when it was shown."""

    last_closed: date | None  # the day before the latest post's day
    text: str
    truth: dict[tuple[int, date], int]  # members' stored (person, day) -> score


async def truth(app: App, club_id: int) -> dict[tuple[int, date], int]:
    async with app.sessions() as s:
        rows = await s.execute(
            select(CheckIn.person_id, CheckIn.day, CheckIn.score)
            .join(ClubMember, ClubMember.person_id == CheckIn.person_id)
            .where(ClubMember.club_id == club_id, CheckIn.kind == repo.DAILY)
        )
        return {(pid, day): score for pid, day, score in rows}


def contribution(seen: Seen, kind: str) -> dict[tuple[str, int, date], int] | None:
    """The stored pairs a figure of this kind covers (by week for a trend), or None."""
    last = seen.last_closed
    if last is None:
        return None
    weeks = {"this": [last - timedelta(days=i) for i in range(7)]}
    if kind == "trend":
        weeks["before"] = [d - timedelta(days=7) for d in weeks["this"]]
    return {
        (week, pid, day): score
        for week, days in weeks.items()
        for (pid, day), score in seen.truth.items()
        if day in days
    }


def figure(seen: Seen, kind: str) -> str | None:
    """The figure's value as shown (None when withheld); its period must be the closed week."""
    found = (AVERAGE if kind == "average" else TREND).search(seen.text)
    if found is None:
        return None
    assert seen.last_closed is not None, seen.text
    assert found[1] == f"{seen.last_closed:%a} {seen.last_closed.day} {seen.last_closed:%b}"
    return found[2]


def one_persons_difference(a: dict, b: dict) -> bool:
    changed = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return len({pid for _, pid, _ in changed}) == 1


def check_differencing(seen: list[Seen]) -> None:
    """No figure moves within its period; no two differ by one member's contribution alone."""
    for kind in ("average", "trend"):
        shown: dict[date | None, str] = {}
        for a in seen:
            value = figure(a, kind)
            if value is not None:
                # A figure of a closed period never moves: it stays, or it is withheld.
                assert shown.setdefault(a.last_closed, value) == value, (kind, a.text)
        for a, b in itertools.combinations(seen, 2):
            ca, cb = contribution(a, kind), contribution(b, kind)
            if ca is None or cb is None or not one_persons_difference(ca, cb):
                continue
            fa, fb = figure(a, kind), figure(b, kind)
            assert fa is None or fb is None or fa == fb, (kind, a.text, b.text)


PEOPLE = 6  # rounds involve the first four: the other two join late, with a history
ROUND = 4
# What someone does during a club day, after its post, drawn by weight: late changes (/log
# yesterday) are rare enough for a fortnight's trend to show at times.
KINDS = ["tap"] * 2 + ["round"] * 3 + ["private"] * 3 + ["look"] * 3 + ["wait"] * 2 + ["log"]
# (kind, who: a person, or a bit mask of the round's members, score or hours)
event = st.tuples(st.sampled_from(KINDS), st.integers(0, 2**ROUND - 1), st.integers(0, 10))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(days=st.lists(st.lists(event, max_size=8), min_size=2, max_size=16))
async def test_no_two_group_texts_differ_by_one_members_contribution(
    app: App, days: list[list[tuple[str, int, int]]]
) -> None:
    # Each example gets its own club and people on the shared database and clock.
    n = next(_clubs)
    chat, people = f"-1007{n:05d}", [f"p{n}x{i}" for i in range(PEOPLE)]
    await in_chat(app, chat, "admin", "/club timezone Berlin")  # days close off UTC midnight
    await in_chat(app, chat, "admin", "/club on 07:30")
    club_id = (await the_club(app, chat)).id
    seen: list[Seen] = []
    latest: tuple[date, Reply] | None = None
    onboarded: set[str] = set()

    async def look(text: str) -> None:
        last = latest[0] - timedelta(days=1) if latest else None
        seen.append(Seen(last, text, await truth(app, club_id)))

    async def until(instant: datetime) -> None:
        nonlocal latest
        for posted in await post_until(app, chat, instant):
            latest = posted
            await look(posted[1].text)

    try:
        for events in days:
            club = await the_club(app, chat)
            assert club.next_post_at is not None
            await until(club.next_post_at)  # the day's post: it closes the day before
            assert latest is not None
            for kind, who, value in events:
                user = people[who % PEOPLE]
                if kind == "tap":
                    await tap(app, chat, user, latest[1], value)
                    onboarded.add(user)
                elif kind == "round":
                    for i, member in enumerate(people[:ROUND]):
                        if who >> i & 1:
                            await tap(app, chat, member, latest[1], (value + 3 * i) % 11)
                            onboarded.add(member)
                elif kind in ("private", "log"):
                    if user not in onboarded:
                        await onboard_privately(app, user)
                        onboarded.add(user)
                    text = f"/checkin {value}" if kind == "private" else f"/log {value} yesterday"
                    await in_private(app, user, text)
                elif kind == "wait":
                    await until(app.clock.now() + timedelta(hours=1 + value % 8))
                else:
                    await look(await summary(app, chat))
            await look(await summary(app, chat))
    finally:
        await in_chat(app, chat, "admin", "/club off")

    check_differencing(seen)


# The same property on the pure rules, fast enough for many more and longer histories: a
# model of the store (who joined when, each (person, day) score and when it was stored) and
# of the post ledger, read as the handlers read them.

POST_AT = time(7, 30)


@settings(max_examples=300, deadline=None)
@given(days=st.lists(st.lists(event, max_size=12), min_size=2, max_size=24))
def test_the_rules_never_give_one_members_contribution_away(
    days: list[list[tuple[str, int, int]]],
) -> None:
    now = START
    joined: dict[int, datetime] = {}
    stored: dict[tuple[int, date], tuple[int, datetime]] = {}
    posted: dict[date, datetime] = {}
    seen: list[Seen] = []

    def run_until(instant: datetime) -> None:
        nonlocal now
        while True:
            local = now.astimezone(BERLIN).date()
            due = datetime.combine(local, POST_AT, BERLIN)
            if due < now or local in posted:
                due = datetime.combine(local + timedelta(days=1), POST_AT, BERLIN)
            if due > instant:
                break
            now = due
            posted[due.date()] = due
            look(post=True)
        now = instant

    def look(post: bool = False) -> None:
        today = now.astimezone(BERLIN).date()
        since = today - timedelta(days=clubstats.HISTORY_DAYS)
        reports = [
            clubstats.Report(pid, day, value, at, joined[pid])
            for (pid, day), (value, at) in stored.items()
            if pid in joined and day >= since
        ]
        closed = clubstats.closings(posted, now)
        figs = clubstats.figures(reports, closed, since)
        lines = [clubstats.trend_line(figs)]
        if not post:  # the daily post shows the trend only, the summary both
            lines.insert(0, clubstats.average_line(figs))
        truth = {(pid, day): v for (pid, day), (v, _) in stored.items() if pid in joined}
        last = max(posted) - timedelta(days=1) if posted else None
        seen.append(Seen(last, "\n".join(line for line in lines if line), truth))

    for events in days:
        run_until(now + timedelta(days=1))  # on to the next day's post, and past it
        for kind, who, value in events:
            day = now.date()  # members keep UTC days; the club's are Berlin's
            one = who % PEOPLE
            if kind == "tap":
                joined.setdefault(one, now)
                stored[(one, day)] = (value, now)
            elif kind == "round":
                for i in range(ROUND):
                    if who >> i & 1:
                        joined.setdefault(i, now)
                        stored[(i, day)] = ((value + 3 * i) % 11, now)
            elif kind == "private":
                stored[(one, day)] = (value, now)
            elif kind == "log":
                stored[(one, day - timedelta(days=1))] = (value, now)
            elif kind == "wait":
                run_until(now + timedelta(hours=1 + value % 8))
            else:
                look()
            now += timedelta(minutes=1)
        look()
    check_differencing(seen)


# ------------------------------------------------------------------------ Discord, end to end

ALICE = 700_000_000_000_000_001  # the admin
BOB = 700_000_000_000_000_002
CAROL = 700_000_000_000_000_003
MALLORY = 700_000_000_000_000_009
CLUB = 800_000_000_000_000_001
GENERAL = 800_000_000_000_000_101
ELSEWHERE = 800_000_000_000_000_301  # a guild this process never heard of (another shard's)
FAR = 800_000_000_000_000_311
EVIL = "**bold** [x](https://evil.example) <@123> @everyone"
MESSAGE_ROUTES = (
    "POST /channels/{channel_id}/messages",
    "POST /webhooks/{webhook_id}/{token}",
    "PATCH /webhooks/{webhook_id}/{token}/messages/{message_id}",
)


@pytest.fixture
async def discord_fake() -> AsyncIterator[DiscordFake]:
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as server:
        for uid, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (MALLORY, EVIL)):
            server.user(uid, name)
        server.guild(
            CLUB,
            "Trail Runners",
            channels=[(GENERAL, "general")],
            members=[BOB, CAROL, MALLORY],
            admins=[ALICE],
        )
        yield server


@pytest.fixture
async def discord_bot(app: App, discord_fake: DiscordFake) -> AsyncIterator[DiscordAdapter]:
    app.settings.discord_token = SecretStr(TOKEN)
    app.settings.discord_api_url = discord_fake.api_base
    app.settings.discord_gateway_url = discord_fake.gateway_url
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


def sent_payloads(fake: DiscordFake) -> list[dict]:
    """Every message body the bot sent or edited with content: posts, DMs, follow-ups."""
    return [
        r.json
        for route in MESSAGE_ROUTES
        for r in fake.requests_to(route)
        if isinstance(r.json, dict) and r.json.get("content")
    ]


async def test_a_members_display_name_cannot_format_link_or_ping_in_the_channel(
    app: App, discord_fake: DiscordFake, discord_bot: DiscordAdapter
) -> None:
    fake, bot = discord_fake, discord_bot
    for user in (BOB, CAROL, MALLORY):
        await onboard(fake, bot, user)
    await club_on(app, fake, bot)
    await club_cmd(fake, bot, ALICE, "streaks", "on")
    message = await post(app, fake, bot)
    for user, score in ((BOB, 2), (CAROL, 4), (MALLORY, 6)):
        await tap_score(fake, bot, user, message, score)
    await slash(fake, bot, MALLORY, "streak", {"choice": "share"}, guild=CLUB)

    text = await club_cmd(fake, bot, BOB, "summary")
    [shown] = [m for m in fake.messages(GENERAL) if m.content == text]
    assert "Check-in streaks: " in text
    assert r"\*\*bold\*\* \[x](https://evil.example)" in text  # shown literally
    assert "**bold**" not in text and re.search(r"(?<!\\)\[x\]\(", text) is None
    assert "@everyone" not in text and "@\u200beveryone" in text
    [request] = [
        r
        for r in fake.requests_to("POST /channels/{channel_id}/messages")
        if r.path == f"/channels/{GENERAL}/messages" and r.json.get("content") == text
    ]
    assert request.json["allowed_mentions"] == {"parse": []}
    assert shown.allowed_mentions == {"parse": []} and shown.pings == set()

    # A reminder by DM carries the same guard, as does every other message the bot sent here.
    await bot.send(Address("discord", str(BOB)), Reply(f"{EVIL} <@{ALICE}>", private=True))
    dm = fake.dm_messages(BOB)[-1]
    assert dm.allowed_mentions == {"parse": []} and dm.pings == set()
    payloads = sent_payloads(fake)
    assert len(payloads) > 10
    assert all(p.get("allowed_mentions") == {"parse": []} for p in payloads), payloads
    assert all(not m.pings for m in fake.messages(GENERAL))


def test_the_fake_sees_the_pings_a_message_without_allowed_mentions_would_make() -> None:
    # The checks above mean something only if the fake would have seen the pings.
    bot = FakeUser(APP_ID, "si-checkin", bot=True)
    bare = Message(1, GENERAL, CLUB, bot, f"{EVIL} <@&42>")
    assert bare.pings == {"everyone", "user:123", "role:42"}
    bare.allowed_mentions = {"parse": ["users"]}
    assert bare.pings == {"user:123"}


async def test_a_post_to_an_uncached_channel_reaches_it_and_opens_no_dm(
    app: App, discord_fake: DiscordFake, discord_bot: DiscordAdapter
) -> None:
    fake, bot = discord_fake, discord_bot
    fake.guild(ELSEWHERE, "Other shard", channels=[(FAR, "far")], admins=[ALICE], announce=False)
    assert bot.client is not None and bot.client.get_channel(FAR) is None
    gone = FAR + 1  # a channel id Discord no longer knows
    now = app.clock.now()
    async with app.sessions() as s:
        for chat in (FAR, gone):
            club = await club_repo.get_or_create(s, "discord", str(chat), "UTC", now)
            club.enabled, club.next_post_at = True, now
        await s.commit()

    assert await post_due_clubs(app, {"discord": bot}) == 1
    [message] = fake.messages(FAR)
    assert message.content.startswith("Club check-in") and message.pings == set()
    assert fake.requests_to("POST /users/@me/channels") == []  # no DM opened with a channel id
    async with app.sessions() as s:
        stopped = await club_repo.find(s, "discord", str(gone))
    assert stopped is not None and not stopped.enabled  # Unreachable: that club stopped


# ------------------------------------------------------------------------ Telegram, end to end

TG_ADA, TG_EVE = 2001, 2009
TG_CLUB = -1002000000009
TG_EVIL = '<b>bold</b> <a href="https://evil.example">x</a> & co'


@pytest.fixture
async def telegram_fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


@pytest.fixture
async def tg(app: App, telegram_fake: TelegramFake) -> AsyncIterator[TelegramAdapter]:
    point_at(app, telegram_fake)
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_a_telegram_streak_name_is_shown_as_text_not_markup(
    app: App, telegram_fake: TelegramFake, tg: TelegramAdapter
) -> None:
    fake = telegram_fake
    ada = fake.user(TG_ADA, "Ada")
    eve = Phone(fake, TG_EVE, TG_EVIL)
    fake.group(TG_CLUB, "Trail runners", admins=[ada], members=[eve.user])
    group = Group(fake, TG_CLUB)
    group.say(ada, "/club on 07:30")
    await asyncio.gather(eve.onboard(), group.sees("Club check-ins are on"))
    group.say(ada, "/club streaks on")
    await group.sees("Streaks are on")
    post_message = await post_due(app, tg, group)
    await group.tap(eve.user, post_message, "3")
    group.say(eve.user, "/streak share")
    await eve.sees("You'll appear in club streaks")
    group.say(ada, "/club summary")
    shown = await group.sees("Check-in streaks")
    assert f"Check-in streaks: {TG_EVIL} 1 day." in shown.content  # literally, as typed
    assert shown.entities == []  # no bold, no link
