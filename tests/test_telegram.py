"""The bot on Telegram: the real adapter, real python-telegram-bot and the real engine and
database, against the loopback fake Bot API server. Each test plays people on their phones."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from adapters.telegram import (
    NOT_YOURS,
    TelegramAdapter,
    derived_secret,
    webhook_route,
)
from bot import formatting
from bot.alerts import DM_ME, SENT_PRIVATELY
from bot.app import App
from bot.clock import ManualClock
from bot.delivery import RetryLater, TransientError, Unreachable
from bot.events import Address, Reply
from bot.logs import RedactingFormatter
from bot.store import repo
from bot.store.models import CheckIn, Person
from scheduler.dispatch import Dispatcher
from scheduler.runtime import start_scheduler
from tests.fakes.telegram_server import SEND_METHODS, FakeUser, SentMessage, TelegramFake

ADA, BOB, CAROL = 1001, 1002, 1003
CLUB = -1001234567890
ASK = "How's your SI pain right now"
# The conversation tests run on both databases; transport tests need only one.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
# PTB itself warns while building a RetryAfter (its documented 22.x deprecation).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


def point_at(app: App, fake: TelegramFake) -> None:
    """Configure the core's settings for the fake, as TELEGRAM_TOKEN/TELEGRAM_API_URL would."""
    app.settings.telegram_token = SecretStr(fake.token)
    app.settings.telegram_api_url = fake.base_url


@pytest.fixture
async def tg(app: App, fake: TelegramFake) -> AsyncIterator[TelegramAdapter]:
    point_at(app, fake)
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


class Phone:
    """One person's Telegram app: types, taps, and reads what the bot sent them."""

    def __init__(self, fake: TelegramFake, user_id: int, name: str = "Ada") -> None:
        self.fake = fake
        self.user: FakeUser = fake.user(user_id, name)

    @property
    def id(self) -> int:
        return self.user.id

    def say(self, text: str, reply_to: SentMessage | None = None) -> None:
        """Type and send a message in the private chat."""
        self.fake.send_text(self.user, text, reply_to=reply_to)

    async def sees(self, contains: str) -> SentMessage:
        """The next bot message in this private chat containing `contains`."""
        return await self.fake.wait_for_message(self.id, contains)

    def tap(self, message: SentMessage, label: str) -> dict:
        """Tap a button the message shows (or showed)."""
        return self.fake.press(self.user, message, message.callback_data(label))

    async def edited(self, message: SentMessage, contains: str) -> SentMessage:
        """The tapped message, once the bot has turned it into the answer."""
        await self.fake.wait_for(lambda: contains in message.content)
        return message

    async def onboard(self) -> None:
        """/start, agree, and see onboarding's first question (the zone: it may go unanswered)."""
        self.say("/start")
        consent = await self.sees("Is that OK?")
        self.tap(consent, "I agree")
        await self.edited(consent, "you're set up")
        await self.sees("Which time zone are you in?")


async def scores(app: App, user_id: int) -> dict[date, int]:
    """Daily scores stored for a Telegram user."""
    async with app.sessions() as s:
        rows = await s.execute(
            select(CheckIn.day, CheckIn.score)
            .join(Person, Person.id == CheckIn.person_id)
            .where(Person.platform == "telegram", Person.user_id == str(user_id))
            .where(CheckIn.kind == "daily")
        )
        return {d: v for d, v in rows.all()}


async def person_exists(app: App, user_id: int) -> bool:
    async with app.sessions() as s:
        found = await s.scalar(
            select(Person.id).where(Person.platform == "telegram", Person.user_id == str(user_id))
        )
        return found is not None


def later(app: App, **delta: float) -> None:
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(**delta))


def today(app: App) -> date:
    return app.clock.now().date()  # the test people live in UTC


def no_refused_sends(fake: TelegramFake) -> bool:
    return all(c.ok for c in fake.requests if c.method in SEND_METHODS)


# ---- a conversation on a phone ------------------------------------------------------------


async def test_start_shows_the_menu_asks_consent_once_and_agreeing_sets_up(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    from bot.commands import public_commands

    menu = next(iter(fake.commands.values()))
    assert [c["command"] for c in menu] == [c.name for c in public_commands()]
    ada = Phone(fake, ADA)
    ada.say("/start")
    # one message on a phone: who the bot is, what it is not, and the consent question
    consent = await ada.sees("I can't diagnose you")
    assert "Is that OK?" in consent.content
    assert consent.button_labels == ["I agree", "No thanks"]
    tap = ada.tap(consent, "I agree")
    await ada.edited(consent, "you're set up")  # the question becomes the answer
    await ada.sees("Which time zone are you in?")
    assert fake.answer_for(tap) is not None
    assert consent.buttons == []  # the consent keyboard cannot be tapped again
    ada.say("/checkin")
    ask = await ada.sees(ASK)
    assert [len(row) for row in ask.buttons] == [6, 5]  # 0-10 fits a phone
    assert await person_exists(app, ADA)
    assert no_refused_sends(fake)


async def test_a_tap_is_acknowledged_the_keyboard_goes_and_the_score_is_the_tappers(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    ada.say("/checkin")
    ask = await ada.sees(ASK)
    tap = ada.tap(ask, "4")
    await ada.edited(ask, "Recorded 4/10 for today")
    assert fake.answer_for(tap) is not None
    assert ask.buttons == [] and len(ask.history) == 1
    assert await scores(app, ADA) == {today(app): 4}


@sqlite_only
async def test_nobody_else_can_tap_a_keyboard_in_someones_private_chat(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada, bob = Phone(fake, ADA), Phone(fake, BOB, "Bob")
    await ada.onboard()
    await bob.onboard()
    ada.say("/checkin")
    ask = await ada.sees(ASK)
    # Telegram never delivers this; a forged query must not record for either of them.
    tap = fake.press(bob.user, ask, ask.callback_data("9"))
    answer = await fake.wait_for(lambda: fake.answer_for(tap))
    assert answer.text == NOT_YOURS and answer.show_alert
    assert await scores(app, ADA) == {} and await scores(app, BOB) == {}
    assert ask.button_labels  # Ada's own keyboard still works
    ada.tap(ask, "3")
    await ada.edited(ask, "Recorded 3/10")
    assert await scores(app, ADA) == {today(app): 3} and await scores(app, BOB) == {}


async def test_in_a_group_a_tap_records_for_the_tapper_and_answers_only_them(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada, bob = Phone(fake, ADA), Phone(fake, BOB, "Bob")
    carol = FakeUser(CAROL, "Carol")  # in the club, never opened a chat with the bot
    club = fake.group(CLUB, "Sunday runners", members=[ada.user, bob.user, carol])
    await bob.onboard()
    await tg.send(
        Address("telegram", str(CLUB)), Reply("Club check-in", formatting.score_keyboard())
    )
    post = await fake.wait_for_message(CLUB, "Club check-in")

    tap = fake.press(bob.user, post, post.callback_data("5"))
    await bob.sees("Recorded 5/10")  # by DM, never in the group
    answer = await fake.wait_for(lambda: fake.answer_for(tap))
    assert answer.text == SENT_PRIVATELY
    assert await scores(app, BOB) == {today(app): 5} and await scores(app, ADA) == {}
    assert post.button_labels  # the club keyboard stays for everyone else

    tap = fake.press(carol, post, post.callback_data("6"))
    answer = await fake.wait_for(lambda: fake.answer_for(tap))
    assert answer.text == DM_ME and answer.show_alert
    assert not await person_exists(app, CAROL)
    assert [m.content for m in fake.messages(club.id)] == ["Club check-in"]


@sqlite_only
async def test_a_command_in_a_group_is_answered_by_dm_or_a_short_line(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA, "Ada <b>&")
    carol = FakeUser(CAROL, "Carol <i>")
    club = fake.group(CLUB, "Sunday runners", members=[ada.user, carol])
    fake.send_text(ada.user, "/history", chat=club)
    await ada.sees("direct message")
    fake.send_text(carol, "/history@si_checkin_test_bot", chat=club)
    line = await fake.wait_for_message(CLUB, DM_ME)
    assert line.content.startswith("Carol <i>, ")
    fake.send_text(carol, "/history@another_bot", chat=club)  # not for us
    fake.send_text(carol, "/help", chat=club)  # group_ok: answered in the group
    await fake.wait_for_message(CLUB, "Commands:")
    assert [m.content.split(",")[0] for m in fake.messages(CLUB)][:1] == ["Carol <i>"]
    assert len(fake.messages(CLUB)) == 2
    refused = [c for c in fake.requests if c.method in SEND_METHODS and not c.ok]
    assert [(c.params["chat_id"], c.status) for c in refused] == [(CAROL, 403)]


@sqlite_only
async def test_free_text_and_a_reply_to_a_reminder_are_scores(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    ada.say("pain 4")
    await ada.sees("Recorded 4/10 for today")
    later(app, days=1)
    await tg.send(Address("telegram", str(ADA)), Reply("Time for your check-in"))
    reminder = await ada.sees("Time for your check-in")
    ada.say("3", reply_to=reminder)
    await ada.sees("Recorded 3/10 for today")
    assert await scores(app, ADA) == {today(app) - timedelta(days=1): 4, today(app): 3}


async def test_days_of_rising_pain_escalate_and_the_emergency_comes_first(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    for value in (2, 2, 2):
        ada.say(str(value))
        await ada.sees(f"{value}/10")
        later(app, days=1)
    ada.say("4")
    await ada.sees("Ease off today")
    later(app, days=1)
    ada.say("7")
    await ada.sees("Recorded 7/10")
    later(app, days=1)
    ada.say("/checkin")
    ask = await ada.sees(ASK)
    ada.tap(ask, "8")
    recorded = await ada.sees("Recorded 8/10")
    urgent = await ada.sees("See a doctor today")  # 7+ two days running
    assert ask.message_id < urgent.message_id < recorded.message_id  # urgent advice first
    assert ask.buttons == []  # advice is never edited into an old message: the keyboard just goes
    screen = recorded  # the safety check rides in the confirmation: one message per tap
    assert "safety check" in screen.content
    assert "None of these" in screen.button_labels
    assert all(len(row) <= 6 for row in screen.buttons)

    ada.tap(screen, "Numb saddle area (groin, buttocks)")
    emergency = await ada.sees("Get help now")
    assert emergency.content.startswith("Get help now. Call emergency services")
    assert "None of these" in screen.button_labels  # "tap any that apply": it stays
    assert no_refused_sends(fake)


async def test_history_is_a_photo_with_a_caption_and_export_a_csv_document(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    for value in (3, 5):
        ada.say(str(value))
        await ada.sees(f"{value}/10")
        later(app, days=1)
    ada.say("/history")
    chart = await ada.sees("Your last 14 days")
    assert chart.method == "sendPhoto"
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG")
    assert chart.caption is not None and "5/10" in chart.caption
    ada.say("/export")
    export = await ada.sees("everything I store about you")
    assert export.method == "sendDocument"
    assert export.filename is not None and export.filename.endswith(".csv")
    assert export.mime_type == "text/csv"
    assert export.document is not None and b"daily" in export.document


@sqlite_only
async def test_what_people_type_is_shown_as_typed_and_never_breaks_a_message(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    ada.say("4")
    await ada.sees("Recorded 4/10")
    ada.say("/note stiff <b>& sore</b> after 10 < 12km")
    await ada.sees("Note added")
    ada.say("/history")
    chart = await ada.sees("Your last 14 days")
    assert "(stiff <b>& sore</b> after 10 < 12km)" in chart.content
    assert chart.entities == []  # nothing the person typed became formatting
    assert no_refused_sends(fake)


@sqlite_only
async def test_forged_and_stale_buttons_have_expired_and_record_nothing(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    for payload in ("1:s:99", "0:s:4", "1:s:4:extra", "x" * 64):
        ada.say("/checkin")
        ask = await ada.sees(ASK)
        tap = fake.press(ada.user, ask, payload, check=False)
        await ada.edited(ask, "This button has expired")  # the dead keyboard is replaced
        assert fake.answer_for(tap) is not None and ask.buttons == []
    assert await scores(app, ADA) == {}


@sqlite_only
async def test_a_long_reply_is_split_at_telegrams_limit(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    Phone(fake, ADA)
    text = ("a line about core work & posture\n" * 200).strip()
    await tg.send(Address("telegram", str(ADA)), Reply(text, formatting.score_keyboard()))
    parts = await fake.wait_for(lambda: len(fake.messages(ADA)) == 2 and fake.messages(ADA))
    assert all(len(m.content) <= 4096 for m in parts)
    assert "\n".join(m.content for m in parts) == text
    assert parts[0].buttons == [] and parts[1].button_labels  # the keyboard goes last


# ---- delivery: reminders and Telegram's failures ---------------------------------------


async def test_the_check_in_reminder_arrives_at_its_time_and_a_tap_answers_it(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()  # at 07:00 UTC; the default check-in reminder is at 08:00
    before = len(fake.messages(ADA))
    later(app, minutes=59)
    assert (await Dispatcher(app.engine, {"telegram": tg}).run_once()).claimed == 0
    later(app, minutes=1)
    runtime = await start_scheduler(app, {"telegram": tg}, poll_seconds=0.2)
    try:
        reminder = await fake.wait_for(
            lambda: next((m for m in fake.messages(ADA)[before:] if m.buttons), None)
        )
    finally:
        await runtime.stop()
    # each button carries the day it asks about
    assert [b["callback_data"] for row in reminder.buttons for b in row] == [
        f"1:s:{n}:{today(app).toordinal()}" for n in range(11)
    ]
    ada.tap(reminder, "6")
    await ada.edited(reminder, "Recorded 6/10 for today")
    assert reminder.buttons == []
    assert await scores(app, ADA) == {today(app): 6}
    assert (await Dispatcher(app.engine, {"telegram": tg}).run_once()).claimed == 0
    assert sum(1 for m in fake.messages(ADA)[before:] if m.history or m.buttons) == 1


@sqlite_only
async def test_blocking_the_bot_parks_reminders_until_the_person_writes_again(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    fake.bot_removed(fake.private_chat(ada.user))  # Ada blocks the bot
    later(app, hours=1)
    await Dispatcher(app.engine, {"telegram": tg}).run_once()  # nothing crashes
    async with app.sessions() as s:
        person = await repo.find_person(s, "telegram", str(ADA))
        assert person is not None and not person.reachable
        assert all(r.next_send_at is None for r in await repo.reminders_of(s, person.id))
    fake.bot_added(fake.private_chat(ada.user))
    ada.say("2")
    await ada.sees("Recorded 2/10")
    async with app.sessions() as s:
        person = await repo.find_person(s, "telegram", str(ADA))
        assert person is not None and person.reachable


@sqlite_only
async def test_a_block_stops_reminders_at_once_without_a_failed_send(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await ada.onboard()
    fake.bot_removed(fake.private_chat(ada.user))  # the my_chat_member update, "kicked"

    async def parked() -> bool:
        async with app.sessions() as s:
            person = await repo.find_person(s, "telegram", str(ADA))
            assert person is not None
            rows = await repo.reminders_of(s, person.id)
            return not person.reachable and all(r.next_send_at is None for r in rows)

    for _ in range(200):
        if await parked():
            break
        await asyncio.sleep(0.02)
    assert await parked()
    later(app, days=2)
    sends = len(fake.requests)
    assert (await Dispatcher(app.engine, {"telegram": tg}).run_once()).claimed == 0
    assert len(fake.requests) == sends  # not even a send that Telegram refuses
    fake.bot_added(fake.private_chat(ada.user))
    ada.say("/settings")
    assert "Check-in" in (await ada.sees("Reminders")).content
    assert not await parked()


# ---- Telegram's failures ---------------------------------------


@sqlite_only
async def test_a_blocked_person_is_unreachable(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    fake.block(ada.id)
    with pytest.raises(Unreachable):
        await tg.send(Address("telegram", str(ADA)), Reply("Time for your check-in"))
    assert fake.messages(ADA) == []


@sqlite_only
async def test_a_refused_message_does_not_stop_the_next(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    ada = Phone(fake, ADA)
    await tg.send(Address("telegram", "424242"), Reply("to nobody"))  # 400 chat not found
    await tg.send(Address("telegram", str(ADA)), Reply("Time for your check-in"))
    await ada.sees("Time for your check-in")


@sqlite_only
async def test_a_reminder_send_is_one_attempt_and_its_failure_goes_to_the_dispatcher(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    """The dispatcher paces and retries reminders; the edge adds no second layer of either."""
    ada = Phone(fake, ADA)
    fake.fail(1, status=502, method="sendMessage")
    with pytest.raises(TransientError):
        await tg.send(Address("telegram", str(ADA)), Reply("first"))
    fake.throttle(1, retry_after=7, method="sendMessage")
    with pytest.raises(RetryLater) as throttled:
        await tg.send(Address("telegram", str(ADA)), Reply("first"))
    assert throttled.value.retry_after == 7
    assert len(fake.calls("sendMessage")) == 2  # one call each, nothing retried here
    await tg.send(Address("telegram", str(ADA)), Reply("first"))
    await ada.sees("first")
    assert [m.content for m in fake.messages(ADA)] == ["first"]


@sqlite_only
async def test_a_429_storm_on_answers_is_waited_out_and_each_goes_exactly_once(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    people = [Phone(fake, ADA + i, f"Runner {i}") for i in range(3)]
    for p in people:
        await p.onboard()
    before = len(fake.calls("sendMessage"))
    fake.throttle(2, retry_after=1, method="sendMessage")
    for p in people:
        p.say("/help")
    for p in people:
        await p.sees("/checkin")
    calls = fake.calls("sendMessage")[before:]
    assert sum(c.status == 429 for c in calls) == 2
    assert sum(c.status == 200 for c in calls) == len(people)


@sqlite_only
async def test_the_parts_of_one_reply_arrive_together(
    app: App, fake: TelegramFake, tg: TelegramAdapter
) -> None:
    """Telegram allows a short burst in one chat: a long reply is not paced a second a part."""
    ada = Phone(fake, ADA)
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 700 for i in range(3))
    await tg.send(Address("telegram", str(ADA)), Reply(text))
    assert len(fake.messages(ada.id)) == 3
    assert fake.max_rate(ada.id, window_s=1.0) == 3


# ---- the token never reaches a log ------------------------------------------------------


class Capture(logging.Handler):
    """Every record, formatted the way `si-checkin run` formats them."""

    def __init__(self, token: str) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", [token]))
        self.lines: list[str] = []
        self.raw: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(record)
        self.lines.append(self.format(record))


@sqlite_only
async def test_the_token_is_in_no_log_line_at_any_level(app: App, fake: TelegramFake) -> None:
    capture = Capture(fake.token)
    root = logging.getLogger()
    saved = root.level, {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "telegram")}
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    for name in saved[1]:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        point_at(app, fake)
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            ada = Phone(fake, ADA)
            await ada.onboard()
            ada.say("/checkin")
            ask = await ada.sees(ASK)
            ada.tap(ask, "4")
            await ada.edited(ask, "Recorded 4/10")
            fake.fail(1, status=502, method="sendMessage")  # errors get logged too
            with pytest.raises(TransientError):
                await adapter.send(Address("telegram", str(ADA)), Reply("Time to check in"))
            fake.block(ADA)
            with pytest.raises(Unreachable):
                await adapter.send(Address("telegram", str(ADA)), Reply("Time to check in"))
        finally:
            await adapter.stop()
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)
    # The library does log request URLs with the token at DEBUG: the formatter must catch them.
    assert any(fake.token in r.getMessage() for r in capture.raw if r.name.startswith("httpx"))
    assert not [line for line in capture.lines if fake.token in line]
    ours = [r.getMessage() for r in capture.raw if r.name.startswith("adapters")]
    assert ours and not [m for m in ours if fake.token in m]


# ---- webhook mode ------------------------------------------------------------------------


@sqlite_only
async def test_webhook_mode_registers_an_unguessable_path_and_a_secret(
    app: App, fake: TelegramFake
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    point_at(app, fake)
    app.settings.telegram_webhook_url = f"http://127.0.0.1:{port}"
    app.settings.port = port
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        assert fake.webhook_url.startswith(f"http://127.0.0.1:{port}/telegram-")
        assert fake.webhook_secret and fake.token not in fake.webhook_secret
        assert fake.token.split(":")[1] not in fake.webhook_url
        ada = Phone(fake, ADA)
        await ada.onboard()
        assert fake.webhook_deliveries and all(d.status == 200 for d in fake.webhook_deliveries)
        # A second replica derives the same path and secret, so either may call setWebhook.
        assert webhook_route(app.settings.telegram_webhook_url, fake.token)[1] == fake.webhook_url
        assert derived_secret(fake.token) == fake.webhook_secret
    finally:
        await adapter.stop()
