"""The weekly summary as a runner lives it, through the real dispatcher on a simulated clock;
and every registered reminder kind as complete data."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.events import Address, Kind, Reply
from bot.handlers import reminder_kinds
from bot.handlers.reminder_kinds import Fact, ReminderKind, Send
from bot.schedule import EVERY_DAY, Schedule
from bot.store.models import Delivery, Reminder
from scheduler.dispatch import Dispatcher
from scheduler.runtime import advance
from tests.conftest import Chat

BERLIN = ZoneInfo("Europe/Berlin")
MON = date(2026, 3, 2)  # the fixture's clock starts on this Monday, 08:00 in Berlin
SUN = date(2026, 3, 8)
LAST_WEEK = (5, 6, 5, 6, 5, 6, 5)  # Mon 23 Feb to Sun 1 Mar: averages 5.4
THIS_WEEK = {0: 3, 1: 2, 3: 4, 4: 3, 5: 2, 6: 3}  # by weekday; nothing on Wednesday


class Runner:
    """A person in Berlin whose reminders arrive in their chat as the clock moves on."""

    platform = "console"

    def __init__(self, app: App, user: str) -> None:
        self.app = app
        self.chat = Chat(app, user, tz="Europe/Berlin")
        self.received: list[Reply] = []
        self.dispatcher = Dispatcher(app.engine, {"console": self}, concurrency=1, user_ids=[user])

    async def send(self, address: Address, reply: Reply) -> None:
        """The platform: keep the reply for the test, and show it in the chat."""
        self.received.append(reply)
        await self.chat.console.send(address, reply)

    async def say(self, line: str) -> str:
        return await self.chat.say(line)

    async def until(self, day: date, at: time) -> None:
        """Let time pass to a local day and time, every reminder due on the way arriving."""
        target = datetime.combine(day, at, tzinfo=BERLIN).astimezone(UTC)
        clock = self.app.clock
        assert isinstance(clock, ManualClock)
        await advance(self.app, self.dispatcher, target - clock.now())

    def summaries(self) -> list[Reply]:
        return [r for r in self.received if r.reminder == "weekly"]


async def only_the_weekly(runner: Runner) -> None:
    await runner.chat.onboard()
    for kind in ("checkin", "core", "posture"):
        await runner.say(f"/remind {kind} off")


async def log_last_week(runner: Runner) -> None:
    for back, score in zip(range(7, 0, -1), LAST_WEEK, strict=True):
        reply = await runner.say(f"/log {score} {MON - timedelta(days=back)}")
        assert "Recorded" in reply, reply


async def score_this_week(runner: Runner) -> None:
    for weekday, score in THIS_WEEK.items():
        await runner.until(MON + timedelta(days=weekday), time(9, 0))
        assert "Recorded" in await runner.say(str(score))


async def test_turned_on_it_comes_on_sunday_evening_with_the_weeks_figures(app: App) -> None:
    ann = Runner(app, "ann")
    await only_the_weekly(ann)
    assert "Weekly summary: off (/remind weekly on)" in await ann.say("/settings")
    said = await ann.say("/remind weekly 19:00")
    assert "Weekly summary reminder: 19:00 on Sundays, next Sun 8 Mar 19:00." in said
    assert "Weekly summary: 19:00 on Sundays, next Sun 8 Mar 19:00" in await ann.say("/settings")
    await log_last_week(ann)
    await score_this_week(ann)
    assert ann.summaries() == []  # nothing before Sunday evening

    await ann.until(SUN, time(19, 30))
    [summary] = ann.summaries()
    assert (summary.kind, summary.reminder, summary.local_time) == (
        Kind.REMINDER,
        "weekly",
        "2026-03-08 19:00",
    )
    assert summary.private and summary.buttons == ()
    assert summary.text.splitlines() == [
        "Your week, Mon 2 Mar to Sun 8 Mar: ▃▂·▄▃▂▃",
        "You checked in on 6 of 7 days.",
        "Average 2.8/10. Best day Tue 3 Mar (2/10), worst day Thu 5 Mar (4/10).",
        "The week before averaged 5.4/10: this week was better.",
        "Send /history for the chart.",
    ]
    assert "[2026-03-08 19:00] Your week, Mon 2 Mar to Sun 8 Mar" in ann.chat.out.getvalue()

    # A week without a single score brings no summary: there is nothing to sum up.
    await ann.until(SUN + timedelta(days=7), time(22, 0))
    assert len(ann.summaries()) == 1
    async with app.sessions() as s:
        kinds = list(await s.scalars(select(Delivery.kind)))
    assert kinds == ["weekly"]
    assert "next Sun 22 Mar 19:00" in await ann.say("/settings")


async def test_nothing_arrives_while_it_is_off(app: App) -> None:
    bob = Runner(app, "bob")
    await only_the_weekly(bob)
    await score_this_week(bob)
    await bob.until(SUN, time(23, 0))
    assert bob.summaries() == []
    async with app.sessions() as s:
        # Off by default: no row at all until the person turns it on.
        assert "weekly" not in set(await s.scalars(select(Reminder.kind)))

    assert "Weekly summary reminder: 19:00 on Sundays" in await bob.say("/remind weekly on")
    assert "Weekly summary reminders off" in await bob.say("/remind weekly off")
    assert "Weekly summary: off (/remind weekly on)" in await bob.say("/settings")
    for weekday, score in THIS_WEEK.items():
        await bob.until(SUN + timedelta(days=1 + weekday), time(9, 0))
        await bob.say(str(score))
    await bob.until(SUN + timedelta(days=7), time(23, 0))
    assert bob.summaries() == []


async def test_quiet_hours_send_it_on_monday_morning_about_the_week_before(app: App) -> None:
    dan = Runner(app, "dan")
    await only_the_weekly(dan)
    await dan.say("/remind weekly on")
    assert "waits until 08:00" in await dan.say("/quiet 18:00-08:00")
    await score_this_week(dan)
    await dan.until(SUN + timedelta(days=1), time(9, 0))
    [summary] = dan.summaries()
    assert summary.local_time == "2026-03-09 08:00"
    assert summary.text.startswith("Your week, Mon 2 Mar to Sun 8 Mar:")
    # Too few scores the week before for a comparison, and it says so instead of guessing.
    assert "Too few scores the week before to compare the two." in summary.text


async def test_an_open_episode_holds_it_until_they_are_cleared(app: App) -> None:
    cat = Runner(app, "cat")
    await cat.chat.onboard()
    for kind in ("core", "posture"):
        await cat.say(f"/remind {kind} off")
    await cat.say("/remind weekly 19:00")
    await score_this_week(cat)
    await cat.say("/symptoms")
    assert "emergency" in (await cat.say("Numb saddle area (groin, buttocks)")).lower()

    await cat.until(SUN + timedelta(days=1), time(9, 0))
    # No week in figures after "go to the emergency department"; the check-in still asks.
    assert cat.summaries() == []
    assert "Have you been checked" in cat.received[-1].text

    assert "you've been checked" in await cat.say("Yes, cleared to train")
    for weekday in range(3):
        await cat.until(SUN + timedelta(days=1 + weekday), time(9, 30))
        await cat.say("2")
    await cat.until(SUN + timedelta(days=7), time(20, 0))
    [summary] = cat.summaries()
    assert summary.text.startswith("Your week, Mon 9 Mar to Sun 15 Mar:")
    assert "You checked in on 3 of 7 days." in summary.text
    assert "2/10 on each of them." in summary.text


async def test_one_time_only_and_the_usage_names_every_kind(app: App) -> None:
    eve = Runner(app, "eve")
    await eve.chat.onboard()
    assert "One time for the weekly summary reminder, e.g. /remind weekly 19:00." in (
        await eve.say("/remind weekly 19:00,20:00")
    )
    usage = await eve.say("/remind")
    for kind in reminder_kinds.kinds():
        assert kind.usage in usage


def test_every_registered_kind_has_each_registry_field() -> None:
    kinds = reminder_kinds.kinds()
    assert tuple(k.key for k in kinds) == reminder_kinds.KEYS
    assert {"checkin", "core", "posture", "weekly"} <= set(reminder_kinds.KEYS)
    words: list[str] = []
    for kind in kinds:
        assert isinstance(kind, ReminderKind)
        module = importlib.import_module(f"bot.handlers.reminder_kinds.{kind.key}")
        assert module.KIND is kind  # one module per kind, named by its key
        assert kind.label and kind.label[0].isupper()
        assert isinstance(kind.default, Schedule)
        assert kind.default.days <= EVERY_DAY
        assert 1 <= len(kind.default.times) <= kind.max_times
        assert kind.usage.startswith(f"/remind {kind.key} ")
        assert isinstance(kind.on_by_default, bool)
        sends = [kind.send] if kind.extra is None else [kind.send, kind.extra]
        assert kind.send.key == kind.key
        for send in sends:
            assert isinstance(send, Send)
            assert send.key and callable(send.build)
            assert all(isinstance(f, Fact) and f.name and callable(f.load) for f in send.facts)
            assert isinstance(send.held_by_episode, bool)
        assert kind.follow_up is None or (kind.extra is not None and callable(kind.follow_up))
        words += [kind.key, *kind.words]
        for word in (kind.key, *kind.words):
            assert reminder_kinds.by_word(word) is kind
    assert len(words) == len(set(words))  # a word means one kind
    # Get-help advice is never followed by "time for your core work" or its like.
    held = {s.key for k in kinds for s in (k.send, k.extra) if s and s.held_by_episode}
    assert {"core", "snooze", "posture", "nudge", "weekly"} <= held
    assert "checkin" not in held
