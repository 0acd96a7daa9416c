"""Reminders as a person lives them: through the console, on a simulated clock, both engines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.handlers.reminder_kinds import checkin as checkin_kind
from bot.handlers.reminder_kinds import core as core_kind
from bot.handlers.reminder_kinds.checkin import GOING_QUIET, STILL_HERE
from bot.store import repo
from bot.store.models import Person
from scheduler.dispatch import Dispatcher
from scheduler.runtime import advance
from tests.conftest import Chat, row_counts

ROOT = Path(__file__).resolve().parents[1]
TZ_ANN = ("--tz", "Europe/Berlin", "--user", "ann")
STAMP = re.compile(r"^\[(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})\] (.*)$")


class Person_:
    """A chat whose reminders arrive in the same console, driven by `/advance`-style steps."""

    def __init__(self, app: App, user: str, tz: str | None = None) -> None:
        self.chat = Chat(app, user, tz=tz)
        self.app = app
        self.dispatcher = Dispatcher(
            app.engine, {"console": self.chat.console}, concurrency=1, user_ids=[user]
        )

    async def say(self, line: str) -> str:
        return await self.chat.say(line)

    async def wait(self, **delta: float) -> list[tuple[str, str, str]]:
        """Let time pass; returns the reminders printed as (local date, HH:MM, first line)."""
        self.chat.out.seek(0)
        self.chat.out.truncate()
        await advance(self.app, self.dispatcher, timedelta(**delta))
        return [m.groups() for m in map(STAMP.match, self.chat.out.getvalue().splitlines()) if m]


def at(app: App, instant: datetime) -> None:
    """Jump the clock forward to an instant (the fixture starts on Mon 2 Mar 2026 07:00 UTC)."""
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.set(instant)


def kinds(stamps: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Reminders by kind, from their text."""
    out: dict[str, list[tuple[str, str]]] = {}
    for day, hhmm, text in stamps:
        kind = (
            "checkin"
            # Backing off changes what the check-in says, not which reminder it is.
            if text.startswith((checkin_kind.CHECKIN[:20], GOING_QUIET, STILL_HERE[:20]))
            else "nudge"
            if text.startswith(checkin_kind.NUDGE[:20])
            else "core"
            if text.startswith((core_kind.CORE, core_kind.SNOOZED))
            else "posture"
            if text.startswith("Posture check")
            else text
        )
        out.setdefault(kind, []).append((day, hhmm))
    return out


def test_a_week_in_the_console_across_the_spring_change_each_reminder_once(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "SI_CHECKIN_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "adapters", "console", "--clock", "2026-03-28T06:00+01:00", *TZ_ANN],
        # Every kind chosen in onboarding, and the nudge turned on in /settings.
        input="/start\nI agree\n08:00\nYes, at 18:00\nYes, 10:30, 13:30 and 16:00\nNo thanks\n"
        "/settings\nNudge if no score: turn on\n"
        # A look at the settings now and then: someone who answers is not backed off.
        "/advance 3d\n/settings\n/advance 3d\n/settings\n/advance 1d\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    stamps = [m.groups() for m in map(STAMP.match, done.stdout.splitlines()) if m]
    by_kind = kinds(stamps)
    days = [(date(2026, 3, 28) + timedelta(days=i)).isoformat() for i in range(7)]
    assert by_kind["checkin"] == [(d, "08:00") for d in days]  # 29 March is the 23-hour day
    assert by_kind["core"] == [(d, "18:00") for d in days]
    weekdays = [d for d in days if date.fromisoformat(d).weekday() < 5]
    assert weekdays == ["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03"]
    assert by_kind["posture"] == [(d, t) for d in weekdays for t in ("10:30", "13:30", "16:00")]
    assert by_kind["nudge"] == [(d, "12:00") for d in days]  # one gentle nudge a day, no more
    assert Counter(stamps).most_common(1)[0][1] == 1
    assert "(clock moved to 2026-04-04 07:00 Europe/Berlin)" in done.stdout


@pytest.mark.parametrize(
    ("zone", "start", "change"),
    [
        ("Europe/Berlin", datetime(2026, 3, 27, 12, tzinfo=UTC), date(2026, 3, 29)),
        ("Europe/Berlin", datetime(2026, 10, 23, 12, tzinfo=UTC), date(2026, 10, 25)),
        ("America/New_York", datetime(2026, 3, 6, 18, tzinfo=UTC), date(2026, 3, 8)),
        ("America/New_York", datetime(2026, 10, 30, 18, tzinfo=UTC), date(2026, 11, 1)),
    ],
)
async def test_daylight_saving_neither_skips_nor_doubles(
    app: App, zone: str, start: datetime, change: date
) -> None:
    at(app, start)
    ann = Person_(app, "ann", tz=zone)
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    await ann.say("/remind core 01:30")  # inside the repeated hour / next to the gap
    by_kind = kinds(await ann.wait(days=5))
    days = [(start.date() + timedelta(days=i)).isoformat() for i in range(1, 5)]
    assert change.isoformat() in days
    assert [d for d, _ in by_kind["checkin"]][:4] == days
    assert {t for _, t in by_kind["checkin"]} == {"08:00"}
    assert len(by_kind["core"]) == len({d for d, _ in by_kind["core"]})  # once a day
    assert {t for _, t in by_kind["core"]} == {"01:30"}


async def test_settings_show_each_reminder_with_its_next_local_time(app: App) -> None:
    ann = Person_(app, "ann", tz="Europe/Berlin")  # Mon 2 Mar 08:00 in Berlin
    await ann.chat.onboard()
    await ann.say("/remind core on")
    await ann.say("/remind posture on")
    shown = await ann.say("/settings")
    assert "Time zone: Europe/Berlin (it's Mon 08:00 there)" in shown
    assert "Check-in: 08:00 every day, next tomorrow 08:00" in shown
    assert "Core work: 18:00 every day, next today 18:00" in shown
    assert "Posture: 10:30, 13:30, 16:00 on weekdays, next today 10:30" in shown
    assert "Quiet hours: none" in shown
    assert "Reminders are on" in shown
    await ann.say("/quiet 22:00-07:00")
    await ann.say("/pause 2")
    shown = await ann.say("/settings")
    assert "Quiet hours: 22:00-07:00" in shown
    assert "Reminders are paused until Wed 4 Mar 00:00" in shown
    assert "Check-in: 08:00 every day, next Wed 4 Mar 08:00" in shown


async def test_remind_changes_a_time_and_bad_arguments_change_nothing(app: App) -> None:
    ann = Person_(app, "ann")  # UTC, Mon 07:00
    await ann.chat.onboard()
    assert "Check-in reminder: 07:30 every day, next today 07:30" in await ann.say(
        "/remind checkin 07:30"
    )
    before = await ann.say("/settings")
    for bad, hint in [
        ("/remind checkin banana", "couldn't read that time"),
        ("/remind lunch 12:00", "Use /remind checkin 07:30"),
        ("/remind core 19:00,20:00", "One time for the core work reminder"),
        ("/remind", "Use /remind checkin 07:30"),
        ("/quiet 25:00-07:00", "Use /quiet 22:00-07:00"),
        ("/pause 500", "Use /pause 3"),
    ]:
        reply = await ann.say(bad)
        assert hint in reply, (bad, reply)
        assert len(reply.strip().splitlines()) == 1
    assert await ann.say("/settings") == before
    await ann.say("/remind posture 10:00,14:00")
    await ann.say("/remind core off")
    by_kind = kinds(await ann.wait(hours=24))
    assert by_kind["checkin"] == [("2026-03-02", "07:30")]
    assert by_kind["posture"] == [("2026-03-02", "10:00"), ("2026-03-02", "14:00")]
    assert "core" not in by_kind
    assert "Core work: off" in await ann.say("/settings")
    await ann.say("/remind core on")
    assert kinds(await ann.wait(hours=12))["core"] == [("2026-03-03", "18:00")]


async def test_a_new_time_zone_moves_every_reminder(app: App) -> None:
    ann = Person_(app, "ann")  # UTC
    await ann.chat.onboard()
    await ann.say("/remind core on")
    await ann.wait(hours=2)  # 09:00 UTC: today's 08:00 UTC check-in is done
    assert "Time zone set to America/New_York" in await ann.say("/timezone New York")
    assert "Check-in: 08:00 every day, next today 08:00" in await ann.say("/settings")
    by_kind = kinds(await ann.wait(days=2))
    assert by_kind["checkin"] == [("2026-03-02", "08:00"), ("2026-03-03", "08:00")]
    assert by_kind["core"] == [("2026-03-02", "18:00"), ("2026-03-03", "18:00")]


async def test_quiet_hours_hold_a_reminder_until_they_end(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind checkin 06:30")
    await ann.say("/remind core 23:00")
    assert "waits until 07:15" in await ann.say("/quiet 22:00-07:15")
    by_kind = kinds(await ann.wait(days=2, hours=1))
    assert by_kind["checkin"] == [("2026-03-03", "07:15"), ("2026-03-04", "07:15")]
    assert by_kind["core"] == [("2026-03-03", "07:15"), ("2026-03-04", "07:15")]
    assert "Quiet hours off" in await ann.say("/quiet off")
    assert kinds(await ann.wait(days=1))["checkin"] == [("2026-03-05", "06:30")]


async def test_snooze_sends_the_core_reminder_once_an_hour_later(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind core on")
    assert ("2026-03-02", "18:00") in kinds(await ann.wait(hours=11, minutes=1))["core"]
    assert "I'll remind you again at 19:01" in await ann.say("Snooze 1h")
    by_kind = kinds(await ann.wait(hours=2))
    assert by_kind["core"] == [("2026-03-02", "19:01")]
    assert "core work" in ann.chat.out.getvalue()
    assert "Nice work" in await ann.say("Done")
    # Done for today: tomorrow's reminder still comes, once.
    assert kinds(await ann.wait(days=1))["core"] == [("2026-03-03", "18:00")]


async def test_pause_resume_and_stop(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind core on")
    await ann.say("/remind posture on")
    assert "paused until Thu 5 Mar 00:00" in await ann.say("/pause 3")
    assert await ann.wait(days=2, hours=17) == []  # to Thu 5 Mar 00:00 (the pause's end)
    assert kinds(await ann.wait(hours=9))["checkin"] == [("2026-03-05", "08:00")]
    assert "no reminders at all until you send /resume" in await ann.say("/stop")
    assert "Reminders are stopped" in await ann.say("/settings")
    assert await ann.wait(days=7) == []
    # /resume at Thu 12 Mar 09:00: nothing owed from the stopped week, the next slots only.
    assert "Reminders back on. Next: posture today 10:30" in await ann.say("/resume")
    by_kind = kinds(await ann.wait(hours=23))
    assert by_kind["checkin"] == [("2026-03-13", "08:00")]
    assert by_kind["core"] == [("2026-03-12", "18:00")]


async def test_a_missed_check_in_gets_one_nudge_and_a_score_cancels_it(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/settings")
    assert "Nudge on" in await ann.say("Nudge if no score: turn on")
    assert kinds(await ann.wait(hours=24)) == {
        "checkin": [("2026-03-02", "08:00")],
        "nudge": [("2026-03-02", "12:00")],
    }
    assert kinds(await ann.wait(hours=2, minutes=30)) == {"checkin": [("2026-03-03", "08:00")]}
    assert "Recorded 3/10" in await ann.say("3")  # a tap on the reminder's keyboard
    assert await ann.wait(hours=12) == []


async def test_after_an_ease_off_day_the_next_check_in_asks_how_it_went(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        await repo.add_escalation(s, person.id, date(2026, 3, 2), "modify", "test", app.clock.now())
        await s.commit()
    await ann.wait(hours=25)
    texts = ann.chat.out.getvalue()
    assert "Yesterday I said: ease off today." in texts  # the advice actually given
    await ann.wait(hours=24)
    assert "Yesterday I said" not in ann.chat.out.getvalue()


async def test_after_a_run_brought_ease_off_the_check_in_does_not_ask_to_log_it(app: App) -> None:
    """The run that brought the advice is logged already: the morning after says so, and
    does not ask for it again."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    ran = await ann.say("/run 6 after 8k")
    assert "Recorded 6/10 after your run for today" in ran and "Ease off today" in ran
    await ann.wait(hours=25)  # Tue 08:00: the check-in
    texts = ann.chat.out.getvalue()
    assert "Yesterday I said: ease off today." in texts
    assert "/run 3 after yesterday" not in texts
    assert checkin_kind.FOLLOW_UP_RAN in texts


async def test_after_ease_off_without_a_logged_run_the_check_in_asks_for_it(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    assert "Ease off today" in await ann.say("7")
    await ann.say("None of these")
    await ann.wait(hours=25)
    texts = ann.chat.out.getvalue()
    assert f"Yesterday I said: ease off today. {checkin_kind.FOLLOW_UP_RUN}" in texts
    assert checkin_kind.FOLLOW_UP_RAN not in texts


async def test_delete_erases_reminders_and_ledger_and_export_lists_them(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.wait(hours=2)
    exported = await ann.say("/export")
    path = next(ln for ln in exported.splitlines() if ln.startswith("(file saved: "))
    csv_text = Path(path.removeprefix("(file saved: ").rstrip(")")).read_text(encoding="utf-8")
    assert "reminder,,checkin,08:00,every day," in csv_text
    assert "reminder_sent,2026-03-02,checkin" in csv_text
    counts = await row_counts(app)
    assert counts["reminders"] == 1  # the check-in: no row for a kind never turned on
    assert counts["deliveries"] == 1
    await ann.say("/delete")
    await ann.say("Delete everything")
    counts = await row_counts(app)
    assert counts["reminders"] == counts["deliveries"] == counts["people"] == 0


async def test_a_new_person_gets_one_daily_check_in_and_nothing_else_until_chosen(
    app: App,
) -> None:
    from bot.handlers import reminder_kinds

    assert [k.key for k in reminder_kinds.kinds() if k.on_by_default] == ["checkin"]
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    shown = await ann.say("/settings")
    assert "Check-in: 08:00 every day" in shown
    for label in ("Core work", "Posture", "Weekly recap"):
        assert f"{label}: off" in shown
    assert kinds(await ann.wait(days=2)) == {
        "checkin": [("2026-03-02", "08:00"), ("2026-03-03", "08:00")]
    }
    assert (await row_counts(app))["reminders"] == 1  # no row for a kind never chosen


async def test_the_follow_up_names_the_highest_advice_given_yesterday(app: App) -> None:
    ann = Person_(app, "ann")  # UTC, Mon 07:00
    await ann.chat.onboard()
    await ann.say("/symptoms")
    assert "See a doctor today" in await ann.say("Pain worse at night or at rest")
    await ann.say("/checked")
    assert "Good to hear" in await ann.say("Yes, cleared to train")
    await ann.wait(days=1, hours=3)  # Tue 10:00
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        # Tuesday's score was told to ease off...
        await repo.add_escalation(s, person.id, date(2026, 3, 3), "modify", "test", app.clock.now())
        await s.commit()
    # ...and the same warning sign again was told to see a doctor today.
    await ann.say("/symptoms")
    assert "See a doctor today" in await ann.say("Pain worse at night or at rest")
    await ann.wait(days=1)  # Wed 10:00: Wednesday's check-in went at 08:00
    wednesday = ann.chat.out.getvalue()
    assert "Yesterday I said: see a doctor today." in wednesday
    assert "ease off" not in wednesday


async def test_the_next_check_in_named_is_one_that_will_come(app: App) -> None:
    """Found playing a runner: the 07:30 check-in answered, "/remind checkin 06:45" said "next
    today 11:30" (the nudge's time, though the nudge was off) and "/remind checkin 09:00" said
    "next today 09:00"; neither came, as today's score was in."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind checkin 07:30")
    sent = await ann.wait(minutes=45)
    assert kinds(sent) == {"checkin": [("2026-03-02", "07:30")]}
    await ann.say("3")
    assert "next tomorrow 06:45" in await ann.say("/remind checkin 06:45")
    assert "next tomorrow 09:00" in await ann.say("/remind checkin 09:00")
    assert "Check-in: 09:00 every day, next tomorrow 09:00" in await ann.say("/settings")
    assert await ann.wait(hours=12) == []
    # With the nudge on and no score yet, the nudge is the next thing that comes that day.
    assert "next tomorrow 07:30" in await ann.say("/remind checkin 07:30")
    await ann.say("/settings")
    assert "Nudge on" in await ann.say("Nudge if no score: turn on")
    assert kinds(await ann.wait(hours=12, minutes=30)) == {"checkin": [("2026-03-03", "07:30")]}
    settings = await ann.say("/settings")
    assert re.search(r"Check-in: 07:30 every day, next today 1\d:\d\d", settings), settings
