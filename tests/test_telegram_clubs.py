"""Running clubs in Telegram groups: the real adapter, real python-telegram-bot, the real engine,
scheduler and database, against the loopback fake Bot API server.

Admins are whoever Telegram says they are; a member's tap is answered by an alert only they
see, everything personal goes by DM, and the group only ever sees totals.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select

from adapters.telegram import MAX_CALLBACK_ANSWER, TelegramAdapter
from bot.alerts import OPEN_CHAT, OPEN_CHAT_FIRST, SENT_PRIVATELY, alert_text
from bot.app import App
from bot.clock import ManualClock
from bot.handlers.clubs import ONLY_ADMINS
from bot.store import club_repo
from bot.store.models import Club, ClubMember
from scheduler.club_posts import post_due_clubs
from tests.fakes.telegram_server import CallbackAnswer, FakeUser, SentMessage, TelegramFake
from tests.test_telegram import Phone, person_exists, point_at, scores, today

ADA, ANN, BOB, CY, DAN = 2001, 2002, 2003, 2004, 2005
CLUB = -1002000000001
POST = "Club check-in: how's your SI pain today?"
T = TypeVar("T")
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


@pytest.fixture
async def tg(app: App, fake: TelegramFake) -> AsyncIterator[TelegramAdapter]:
    point_at(app, fake)
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


class Group:
    """A Telegram group as its people see it: who says what in it, what the bot posts there."""

    def __init__(self, fake: TelegramFake, chat_id: int) -> None:
        self.fake = fake
        self.id = chat_id

    def say(self, who: FakeUser, text: str) -> None:
        self.fake.send_text(who, text, chat=self.fake.chat(self.id))

    async def sees(self, contains: str) -> SentMessage:
        """The next bot message in the group containing `contains`."""
        return await self.fake.wait_for_message(self.id, contains)

    def shown(self) -> list[str]:
        """Everything the bot has posted in the group, as the members see it."""
        return [m.content for m in self.fake.messages(self.id)]

    async def tap(self, who: FakeUser, post: SentMessage, label: str) -> CallbackAnswer:
        """A member taps a button on a group post; the answer only they see."""
        update = self.fake.press(who, post, post.callback_data(label))
        return await self.fake.wait_for(lambda: self.fake.answer_for(update))


async def club_at(app: App, chat_id: int) -> Club | None:
    async with app.sessions() as s:
        return await club_repo.find(s, "telegram", str(chat_id))


async def eventually(check: Callable[[], Awaitable[T]], attempts: int = 200) -> T:
    """The first truthy result of an async check that an update handler makes true."""
    for _ in range(attempts):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.025)
    raise AssertionError("the bot never got there")


async def post_due(
    app: App, tg: TelegramAdapter, group: Group, club_chat: int | None = None
) -> SentMessage:
    """Move the clock to the club's next post and let the scheduler post it in the group."""
    club = await club_at(app, club_chat or group.id)
    assert club is not None and club.next_post_at is not None
    assert isinstance(app.clock, ManualClock)
    app.clock.set(max(app.clock.now(), club.next_post_at))
    assert await post_due_clubs(app, {"telegram": tg}) == 1
    return await group.sees(POST)


def no_score_of(shown: list[str], *values: int) -> bool:
    """No group message shows any of these scores."""
    return not any(re.search(rf"(?<![\d.]){v}/10", text) for text in shown for v in values)


# ---- setting a club up ---------------------------------------------------------------------


async def test_an_admin_sets_up_the_club_a_member_is_refused_and_it_posts_at_local_time(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada, bob = fake.user(ADA, "Ada"), fake.user(BOB, "Bob")
    fake.group(CLUB, "Tuesday trail runners", admins=[ada], members=[bob])
    group = Group(fake, CLUB)
    group.say(ada, "/club timezone Berlin")
    await group.sees("Club time zone set to Europe/Berlin")
    group.say(ada, "/club on 07:30")
    await group.sees("I'll post every day at 07:30 (Europe/Berlin)")
    group.say(bob, "/club off")
    await group.sees(ONLY_ADMINS)
    club = await club_at(app, CLUB)
    assert club is not None and club.enabled
    # Telegram was asked once per person: Ada's second command used the remembered answer.
    asked = [c.params["user_id"] for c in fake.calls("getChatMember") if c.ok]
    assert asked == [ADA, BOB]

    # START is Monday 07:00 UTC = 08:00 in Berlin: the first post is Tuesday 07:30 CET.
    assert club.next_post_at is not None
    assert club.next_post_at.isoformat() == "2026-03-03T06:30:00+00:00"
    assert isinstance(app.clock, ManualClock)
    app.clock.set(club.next_post_at - timedelta(minutes=1))
    assert await post_due_clubs(app, {"telegram": tg}) == 0
    post = await post_due(app, tg, group)
    assert post.button_labels == [str(n) for n in range(11)]
    assert [len(row) for row in post.buttons] == [6, 5]
    assert post.callback_data("4") == f"1:k:{club.id}:4"
    assert await post_due_clubs(app, {"telegram": tg}) == 0  # one post a day
    assert len(group.shown()) == 4


@sqlite_only
async def test_an_anonymous_admin_counts_as_an_admin(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    chat = fake.group(CLUB, "Tuesday trail runners")
    # An admin posting "as the group": Telegram sends it from a stand-in bot, sender_chat = group.
    stand_in = FakeUser(1087968824, "Group", username="GroupAnonymousBot", is_bot=True)
    fake.queue_update(
        {
            "message": {
                "message_id": 1,
                "from": stand_in.to_api(),
                "sender_chat": chat.to_api(),
                "chat": chat.to_api(),
                "date": 1772434800,
                "text": "/club on 06:45",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
        }
    )
    await Group(fake, CLUB).sees("I'll post every day at 06:45")
    assert fake.calls("getChatMember") == []


# ---- members tapping -----------------------------------------------------------------------


async def test_members_tap_privately_and_the_group_sees_only_totals(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = fake.user(ADA, "Ada")
    ann, bob = Phone(fake, ANN, "Ann"), Phone(fake, BOB, "Bob")
    cy = Phone(fake, CY, "Cy")  # opened a chat with the bot once, never agreed to storage
    dan = FakeUser(DAN, "Dan")  # in the club, never opened a chat with the bot
    fake.group(CLUB, "Tuesday trail runners", admins=[ada], members=[ann.user, bob.user, dan])
    group = Group(fake, CLUB)
    group.say(ada, "/club on 07:30")
    await asyncio.gather(ann.onboard(), bob.onboard(), group.sees("Club check-ins are on"))
    post = await post_due(app, tg, group)

    for phone, score in ((ann, 2), (bob, 5)):
        answer = await group.tap(phone.user, post, str(score))
        assert answer.show_alert and answer.user_id == phone.id  # only the tapper sees it
        assert answer.text is not None and answer.text.startswith(f"Recorded {score}/10 for today")
        assert "Only you can see this" in answer.text
        assert len(answer.text) <= MAX_CALLBACK_ANSWER
    assert await scores(app, ANN) == {today(app): 2} and await scores(app, BOB) == {today(app): 5}

    group.say(ann.user, "/club summary")
    summary = await group.sees("the last 7 days")
    assert "2 members checked in this week" in summary.content
    assert "/10" not in summary.content  # no average with fewer than three reporters

    # Cy is asked privately first; nothing is stored until she agrees.
    answer = await group.tap(cy.user, post, "8")
    assert answer.show_alert and answer.text == SENT_PRIVATELY
    consent = await cy.sees("I'll record 8/10 as soon as you say yes")
    assert consent.button_labels == ["I agree", "No thanks"]
    assert not await person_exists(app, CY)
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(ClubMember)))) == 2
    cy.tap(consent, "I agree")
    await fake.wait_for(lambda: any("Recorded 8/10" in m.content for m in fake.messages(CY)))
    assert await scores(app, CY) == {today(app): 8}

    # Dan cannot be messaged: he is told how to open a chat, and nothing is stored.
    answer = await group.tap(dan, post, "6")
    assert answer.show_alert
    assert answer.text == OPEN_CHAT_FIRST.format(bot=fake.bot.username)
    assert not await person_exists(app, DAN)

    group.say(bob.user, "/club summary")
    summary = await group.sees("the last 7 days")
    assert "3 members checked in this week" in summary.content
    assert "/10" not in summary.content  # today is still open: no figure moves with a tap
    await post_due(app, tg, group)  # the next day's post closes the day
    group.say(bob.user, "/club summary")
    summary = await group.sees("the last 7 days")
    assert "Average pain on days with 3+ check-ins, the 7 days to Mon 2 Mar: 5.0/10" in (
        summary.content
    )
    assert post.button_labels  # the club keyboard stays for everyone
    assert no_score_of(group.shown(), 2, 5, 6, 8)
    assert not any("Only you can see this" in text for text in group.shown())


@sqlite_only
async def test_a_worsening_member_gets_advice_by_dm_and_the_group_sees_nothing_of_it(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = fake.user(ADA, "Ada")
    ann, bob = Phone(fake, ANN, "Ann"), Phone(fake, BOB, "Bob")
    fake.group(CLUB, "Tuesday trail runners", admins=[ada], members=[ann.user, bob.user])
    group = Group(fake, CLUB)
    group.say(ada, "/club on 07:30")
    await asyncio.gather(ann.onboard(), bob.onboard(), group.sees("Club check-ins are on"))
    before = {ANN: len(fake.messages(ANN)), BOB: len(fake.messages(BOB))}
    for _ in range(3):
        post = await post_due(app, tg, group)
        for phone in (ann, bob):
            answer = await group.tap(phone.user, post, "2")
            assert answer.text is not None and answer.text.startswith("Recorded 2/10")
    # Three calm days leave nothing in either DM: each answer was an alert.
    assert {ANN: len(fake.messages(ANN)), BOB: len(fake.messages(BOB))} == before

    fake.block(BOB)  # Bob has since blocked the bot
    post = await post_due(app, tg, group)
    answer = await group.tap(ann.user, post, "6")
    assert answer.show_alert and answer.text is not None
    assert answer.text.startswith("Recorded 6/10 for today") and SENT_PRIVATELY in answer.text
    advice = await ann.sees("Ease off today")
    check = await ann.sees("safety check")
    assert "None of these" in check.button_labels and advice.chat_id == ANN
    answer = await group.tap(bob.user, post, "6")
    assert answer.text is not None and answer.text.startswith("Recorded 6/10 for today")
    assert answer.text.endswith(OPEN_CHAT.format(bot=fake.bot.username))
    assert "Ease off today." in answer.text  # the advice he could not receive is named
    assert len(answer.text) <= MAX_CALLBACK_ANSWER
    assert await scores(app, BOB) == {today(app) - timedelta(days=n): 2 for n in (1, 2, 3)} | {
        today(app): 6
    }

    # Streaks are opt-in and show names, never scores.
    group.say(ada, "/club streaks on")
    await group.sees("Streaks are on")
    group.say(ann.user, "/streak share")
    await ann.sees("You'll appear in club streaks")
    group.say(ada, "/club summary")
    summary = await group.sees("the last 7 days")
    assert "Check-in streaks: Ann 4 days." in summary.content
    assert "Bob" not in summary.content
    shown = group.shown()
    assert not any("Ease off" in text or "safety check" in text for text in shown)
    assert no_score_of(shown, 2, 6)

    # Bob, still unreachable by DM, scores 8 two days running: advice that cannot wait
    # comes in his alert itself (only he sees it), not as "open a chat".
    for _ in range(2):
        post = await post_due(app, tg, group)
        answer = await group.tap(bob.user, post, "8")
    assert answer.show_alert and answer.text is not None
    assert answer.text.startswith("See a doctor today. Get a same-day appointment")
    assert len(answer.text) <= MAX_CALLBACK_ANSWER
    assert not any("doctor" in text for text in group.shown())

    # Told a private message waits, Bob opens the chat and presses Start: the advice is
    # there, whole, before the welcome.
    fake.unblock(BOB)
    bob.say("/start")
    welcome = await bob.sees("Welcome back")
    standing = fake.messages(BOB)[-2]
    assert standing.content.startswith("See a doctor today. Get a same-day appointment")
    assert "I gave you this advice today, and it still stands." in standing.content
    assert "7/10 or more two days in a row" in standing.content
    assert welcome.message_id > standing.message_id
    assert not any("doctor" in text for text in group.shown())


def test_an_alert_keeps_the_notice_whole_and_fits_telegrams_limit() -> None:
    ack = "Recorded 6/10 for today. " + "Building your baseline, " * 10 + "Only you can see this."
    notice = OPEN_CHAT.format(bot="a" * 32)
    text = alert_text(ack, notice, MAX_CALLBACK_ANSWER)
    assert len(text) <= MAX_CALLBACK_ANSWER
    assert text.startswith("Recorded 6/10 for today.") and text.endswith(notice)
    assert len(alert_text(ack, "", MAX_CALLBACK_ANSWER)) <= MAX_CALLBACK_ANSWER
    assert len(alert_text(ack * 3, "", MAX_CALLBACK_ANSWER)) <= MAX_CALLBACK_ANSWER


# ---- the group changes -----------------------------------------------------------------


async def test_a_migrated_group_keeps_its_club_and_the_next_post_goes_there(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    old, new = -4001, -1004001
    ada = fake.user(ADA, "Ada")
    fake.group(old, "Tuesday trail runners", admins=[ada])
    Group(fake, old).say(ada, "/club on 07:30")
    confirmation = await Group(fake, old).sees("Club check-ins are on")
    fake.migrate_group(old, new)  # a basic group became a supergroup
    moved = await eventually(lambda: club_at(app, new))
    assert moved.enabled and await club_at(app, old) is None
    post = await post_due(app, tg, Group(fake, new))
    assert post.button_labels == [str(n) for n in range(11)]
    assert fake.messages(old) == [confirmation]


async def test_a_post_to_a_group_that_moved_unseen_follows_it(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    old, new = -4002, -1004002
    ada = fake.user(ADA, "Ada")
    fake.group(old, "Tuesday trail runners", admins=[ada])
    Group(fake, old).say(ada, "/club on 07:30")
    await Group(fake, old).sees("Club check-ins are on")
    updater = tg.application.updater
    assert updater is not None
    await updater.stop()  # the migration notice never reaches the bot
    fake.migrate_group(old, new)
    # The club still has the old id: Telegram's ChatMigrated answer is followed.
    await post_due(app, tg, Group(fake, new), club_chat=old)
    moved = await eventually(lambda: club_at(app, new))
    assert moved.enabled and moved.next_post_at is not None
    await post_due(app, tg, Group(fake, new))
    refused = [c.params["chat_id"] for c in fake.calls("sendMessage") if not c.ok]
    assert refused == [old]  # only the first post was refused, the next went straight there


@sqlite_only
async def test_a_group_that_removes_the_bot_stops_its_club(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = fake.user(ADA, "Ada")
    chat = fake.group(CLUB, "Tuesday trail runners", admins=[ada])
    group = Group(fake, CLUB)
    group.say(ada, "/club on 07:30")
    await group.sees("Club check-ins are on")
    assert fake.allowed_updates is not None and "my_chat_member" in fake.allowed_updates
    fake.bot_removed(chat, by=ada)

    async def stopped() -> bool:
        club = await club_at(app, CLUB)
        return club is not None and not club.enabled

    await eventually(stopped)
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(days=2))
    assert await post_due_clubs(app, {"telegram": tg}) == 0
    assert len(group.shown()) == 1
