"""The weekly recap as a runner lives it, through the real dispatcher on a simulated clock;
and every registered reminder kind as complete data."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.events import Address, Kind, Reply
from bot.handlers import reminder_kinds
from bot.handlers.reminder_kinds import Fact, ReminderKind, Send, weekly
from bot.schedule import EVERY_DAY, Schedule
from bot.store import repo
from bot.store.models import Delivery, Reminder
from bot.trends import Announcement, HistoryView, Tier
from content.loader import load_content
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


PNG = b"\x89PNG"


async def test_turned_on_it_comes_on_sunday_evening_with_a_chart_and_three_lines(
    app: App,
) -> None:
    ann = Runner(app, "ann")
    await only_the_weekly(ann)
    assert "Weekly recap: off (/remind weekly on)" in await ann.say("/settings")
    said = await ann.say("/remind weekly 19:00")
    assert "Weekly recap reminder: 19:00 on Sundays, next Sun 8 Mar 19:00." in said
    assert "Weekly recap: 19:00 on Sundays, next Sun 8 Mar 19:00" in await ann.say("/settings")
    await log_last_week(ann)
    # Core work done on two days (Monday and Sunday), and a run.
    await ann.say("/today")
    assert "core done" in await ann.say("Done")
    await score_this_week(ann)
    await ann.until(SUN, time(10, 0))
    await ann.say("/today")
    await ann.say("Done")
    assert "Recorded" in await ann.say("/run 3 after")
    assert ann.summaries() == []  # nothing before Sunday evening

    await ann.until(SUN, time(19, 30))
    [recap] = ann.summaries()
    assert (recap.kind, recap.reminder, recap.local_time) == (
        Kind.REMINDER,
        "weekly",
        "2026-03-08 19:00",
    )
    assert recap.private and recap.buttons == ()
    assert recap.text.splitlines() == [
        "Trend: this week averaged 2.8/10 over 6 check-ins, last week 5.4/10: better.",
        "Adherence: core work done on 2 of 7 days; 1 run logged.",
        "Next step: keep your running steady and aim for core work on 4 or more days this week.",
    ]
    assert recap.image is not None and recap.image.data.startswith(PNG)
    assert recap.image.filename == "si-checkin-week-2026-03-08.png"
    shown = ann.chat.out.getvalue()
    assert "[2026-03-08 19:00] Trend: this week averaged 2.8/10" in shown
    assert re.search(r"\(image saved: .+si-checkin-week-ann-[0-9-]+\.png\)", shown)

    # A week without a single score brings no recap: there is nothing to sum up.
    await ann.until(SUN + timedelta(days=7), time(22, 0))
    assert len(ann.summaries()) == 1
    async with app.sessions() as s:
        kinds = list(await s.scalars(select(Delivery.kind)))
    assert kinds == ["weekly"]
    assert "next Sun 22 Mar 19:00" in await ann.say("/settings")


async def test_each_person_in_a_batch_gets_their_own_week(app: App) -> None:
    """The facts are read once for the whole batch; nobody gets another person's chart."""
    people = {name: Runner(app, name) for name in ("fay", "gus")}
    for runner in people.values():
        await only_the_weekly(runner)
        await runner.say("/remind weekly on")
    received: dict[str, list[Reply]] = {"fay": [], "gus": []}
    chats = {}

    class Both:
        async def send(self, address: Address, reply: Reply) -> None:
            received[chats[address.chat_id]].append(reply)

    async with app.sessions() as s:
        for name in people:
            person = await repo.find_person(s, "console", name)
            assert person is not None
            chats[person.chat_id] = name
    both = Dispatcher(app.engine, {"console": Both()}, concurrency=1)
    for weekday in range(7):
        await people["fay"].until(MON + timedelta(days=weekday), time(9, 0))
        await people["fay"].say("2")
        await people["gus"].say("6" if weekday != 3 else "8")
    clock = app.clock
    assert isinstance(clock, ManualClock)
    target = datetime.combine(SUN, time(19, 30), tzinfo=BERLIN).astimezone(UTC)
    await advance(app, both, target - clock.now())
    [fay] = [r for r in received["fay"] if r.reminder == "weekly"]
    [gus] = [r for r in received["gus"] if r.reminder == "weekly"]
    assert fay.text.startswith("Trend: this week averaged 2/10 over 7 check-ins;")
    assert gus.text.startswith("Trend: this week averaged 6.3/10 over 7 check-ins;")
    assert fay.image is not None and gus.image is not None
    assert fay.image.data != gus.image.data


async def test_nothing_arrives_while_it_is_off(app: App) -> None:
    bob = Runner(app, "bob")
    await only_the_weekly(bob)
    await score_this_week(bob)
    await bob.until(SUN, time(23, 0))
    assert bob.summaries() == []
    async with app.sessions() as s:
        # Off by default: no row at all until the person turns it on.
        assert "weekly" not in set(await s.scalars(select(Reminder.kind)))

    assert "Weekly recap reminder: 19:00 on Sundays" in await bob.say("/remind weekly on")
    assert "Weekly recap reminders off" in await bob.say("/remind weekly off")
    assert "Weekly recap: off (/remind weekly on)" in await bob.say("/settings")
    for weekday, score in THIS_WEEK.items():
        await bob.until(SUN + timedelta(days=1 + weekday), time(9, 0))
        await bob.say(str(score))
    await bob.until(SUN + timedelta(days=7), time(23, 0))
    assert bob.summaries() == []


async def test_quiet_hours_send_it_on_monday_morning_about_the_week_before(app: App) -> None:
    dan = Runner(app, "dan")
    await only_the_weekly(dan)
    await dan.say("/remind recap on")
    assert "waits until 08:00" in await dan.say("/quiet 18:00-08:00")
    await score_this_week(dan)
    await dan.until(SUN + timedelta(days=1), time(9, 0))
    [recap] = dan.summaries()
    assert recap.local_time == "2026-03-09 08:00"
    # Too few scores the week before for a comparison, and it says so instead of guessing.
    assert recap.text.splitlines()[0] == (
        "Trend: this week averaged 2.8/10 over 6 check-ins; too few scores the week before "
        "to compare."
    )
    # The chart is of the week it is about, not of the Monday it arrives on.
    assert recap.image is not None and recap.image.filename == "si-checkin-week-2026-03-08.png"


TRAINING_WORDS = ("run", "core work on", "ease off", "progress", "add a little", "keep it up")


async def test_during_an_episode_the_next_step_is_the_help_and_never_training(
    app: App,
) -> None:
    cat = Runner(app, "cat")
    await cat.chat.onboard()
    for kind in ("core", "posture"):
        await cat.say(f"/remind {kind} off")
    await cat.say("/remind weekly 19:00")
    await score_this_week(cat)
    await cat.say("/symptoms")
    assert "emergency" in (await cat.say("Numb saddle area (groin, buttocks)")).lower()

    await cat.until(SUN, time(20, 0))
    [recap] = cat.summaries()
    lines = recap.text.splitlines()
    assert len(lines) == 3
    # Emergency advice comes first, plainly, and then the week's figures.
    assert lines[0] == (
        "Next step: Get help now. Call emergency services or go to the emergency department "
        "now. Do not wait for an appointment. Then send /checked."
    )
    assert lines[1].startswith("Trend: this week averaged 2.8/10 over 6 check-ins;")
    assert lines[2] == (
        "Adherence: core work done on 0 of 7 days (on hold until you've been checked); "
        "no runs logged."
    )
    assert not any(word in lines[0].lower() for word in TRAINING_WORDS)
    assert recap.buttons == () and recap.image is not None

    # Told to rest: the next step is that rest, still no training.
    await cat.until(SUN + timedelta(days=1), time(9, 0))
    assert "Have you been checked" in cat.received[-1].text
    await cat.say("Yes, told to rest")
    for weekday in range(1, 4):
        await cat.until(SUN + timedelta(days=1 + weekday), time(9, 30))
        await cat.say("3")
    await cat.until(SUN + timedelta(days=7), time(20, 0))
    rest = cat.summaries()[-1].text.splitlines()
    assert rest[2] == (
        "Next step: rest as your doctor or physio told you, and send /checked once you're "
        "cleared to train."
    )
    assert not any(word in rest[2].lower() for word in TRAINING_WORDS)

    # Cleared to train: a week at the "ease off" level, as the check-in's rules say.
    await cat.until(SUN + timedelta(days=8), time(9, 0))
    assert "you've been checked" in await cat.say("Yes, cleared to train")
    for weekday in range(1, 4):
        await cat.until(SUN + timedelta(days=8 + weekday), time(9, 30))
        await cat.say("2")
    await cat.until(SUN + timedelta(days=14), time(20, 0))
    cleared = cat.summaries()[-1].text.splitlines()
    assert cleared[2].startswith("Next step: ease off this week. Go shorter, slower")
    assert "(on hold" not in cleared[1]


async def test_a_hop_and_sacrum_report_means_stop_running(app: App) -> None:
    eli = Runner(app, "eli")
    await only_the_weekly(eli)
    await eli.say("/remind weekly on")
    await score_this_week(eli)
    await eli.say("/symptoms")
    await eli.say("Pain on hop/impact + tender sacrum")
    await eli.until(SUN, time(20, 0))
    [recap] = eli.summaries()
    step = recap.text.splitlines()[-1]
    assert step.startswith("Next step: stop running and see a sports doctor within days")
    assert "Sun 8 Mar" in step


def test_see_a_professional_points_to_the_report() -> None:
    sun = date(2026, 3, 8)
    view = HistoryView(
        daily={sun - timedelta(days=i): 5 for i in range(7)},
        announcements=[Announcement(sun - timedelta(days=1), Tier.PROFESSIONAL)],
    )
    step, get_help = weekly.next_step(view, sun, False, 5, load_content())
    assert step.startswith("Next step: book a physio or sports doctor")
    assert "/report" in step and not get_help


async def test_one_time_only_and_the_usage_names_every_kind(app: App) -> None:
    eve = Runner(app, "eve")
    await eve.chat.onboard()
    assert "One time for the weekly recap reminder, e.g. /remind weekly 19:00." in (
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
    assert {"core", "snooze", "posture", "nudge"} <= held
    # The check-in asks whether they were checked; the recap's next step is then the help.
    assert "checkin" not in held and "weekly" not in held
