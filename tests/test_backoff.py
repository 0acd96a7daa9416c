"""Fewer nags for someone who stops answering: one going-quiet message after three unanswered
check-ins, a weekly "still here" after a week, and everything back on the first answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.handlers.episodes import CHECKED_QUESTION
from bot.handlers.reminder_kinds.checkin import BOOKED, GOING_QUIET, STILL_HERE
from bot.handlers.reminders import WELCOME_BACK
from bot.store.models import Person
from scheduler.dispatch import Dispatcher
from tests.test_core_routine_batch import Recorder, count_statements
from tests.test_reminders import Person_, at, kinds


def day(offset: int) -> str:
    """The date `offset` days after the fixture's Monday."""
    return (datetime(2026, 3, 2) + timedelta(days=offset)).date().isoformat()


async def test_three_unanswered_check_ins_then_quiet_then_weekly_and_any_answer_resumes(
    app: App,
) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind core on")
    first = kinds(await ann.wait(days=3))  # to Thu 07:00: three check-ins, none answered
    assert first["checkin"] == [(day(i), "08:00") for i in range(3)]
    assert first["core"] == [(day(i), "18:00") for i in range(3)]

    quiet = await ann.wait(days=4)  # Thu to Sun
    said = ann.chat.out.getvalue()
    assert said.count(GOING_QUIET) == 1  # said once, on the fourth morning, never again
    assert [(d, t, text.startswith(GOING_QUIET)) for d, t, text in quiet] == [
        (day(3), "08:00", True),
        # The check-in still comes once a day; the core-work reminder waits.
        *((day(i), "08:00", False) for i in (4, 5, 6)),
    ]
    assert kinds(quiet) == {"checkin": [(day(i), "08:00") for i in range(3, 7)]}
    thursday = said.split(f"[{day(3)} 08:00] ")[1].split(f"[{day(4)} ")[0]
    assert "[0] [1] [2]" in thursday  # one tap answers it

    paused = await ann.wait(days=14)  # a week without an answer: once a week, no more
    assert [(d, t, text.startswith(STILL_HERE[:20])) for d, t, text in paused] == [
        (day(7), "08:00", True),
        (day(14), "08:00", True),
    ]
    assert "[0] [1] [2]" in ann.chat.out.getvalue()  # with the score buttons

    back = await ann.say("hi")  # any message at all
    assert back.count(WELCOME_BACK) == 1
    assert WELCOME_BACK not in await ann.say("/settings")  # once
    resumed = kinds(await ann.wait(days=1))
    assert resumed == {"checkin": [(day(21), "08:00")], "core": [(day(21), "18:00")]}


async def test_a_score_tapped_on_the_weekly_message_brings_everything_back(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind core on")
    await ann.wait(days=7, hours=2)  # to Mon 9 Mar 09:00: the first "still here" went at 08:00
    assert STILL_HERE in ann.chat.out.getvalue()
    tapped = await ann.say("3")
    assert "Recorded 3/10" in tapped
    assert tapped.count(WELCOME_BACK) == 1
    assert kinds(await ann.wait(days=1)) == {
        "core": [(day(7), "18:00")],
        "checkin": [(day(8), "08:00")],
    }


async def test_an_answer_that_stops_reminders_gets_no_welcome_back(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.wait(days=4, hours=2)  # the going-quiet message went on Thu
    assert GOING_QUIET in ann.chat.out.getvalue()
    stopped = await ann.say("/stop")
    assert WELCOME_BACK not in stopped
    assert "no reminders at all" in stopped
    assert await ann.wait(days=8) == []


async def test_an_open_episode_keeps_its_daily_question_through_the_back_off(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    assert "See a doctor today" in await ann.say("Pain worse at night or at rest")
    stamps = await ann.wait(days=12)  # no answer for twelve days
    assert [(d, t) for d, t, text in stamps if text.startswith(CHECKED_QUESTION)] == [
        (day(i), "08:00") for i in range(12)
    ]
    said = ann.chat.out.getvalue()
    assert GOING_QUIET not in said
    assert STILL_HERE not in said


async def test_the_booked_question_is_still_asked_on_the_going_quiet_morning(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    assert "see a professional" in (await ann.say("Pain stopping daily activities")).lower()
    await ann.wait(days=3, hours=2)  # Mon, Tue and Wed's check-ins unanswered: Thu 09:00
    thursday = ann.chat.out.getvalue().split(f"[{day(3)} 08:00] ")[1]
    assert thursday.startswith(GOING_QUIET)
    assert BOOKED in thursday
    assert "[Booked] [Not yet]" in thursday
    assert "Keep logging" in await ann.say("Booked")


async def test_going_quiet_is_batched_whatever_the_number_of_people(app: App) -> None:
    """The back-off reads nothing per person: a pass of 12 costs what a pass of 3 does."""
    few = [Person_(app, f"few{i}") for i in range(3)]
    many = [Person_(app, f"many{i}") for i in range(12)]
    for person in few + many:
        await person.chat.onboard()
    for person in many:
        await person.say("/remind checkin 09:00")
    recorder = Recorder()
    groups = {
        name: Dispatcher(
            app.engine, {"console": recorder}, user_ids=[p.chat.console.user for p in people]
        )
        for name, people in (("few", few), ("many", many))
    }
    counts: dict[str, list[int]] = {"few": [], "many": []}
    for offset in range(8):  # Mon to Mon: plain, going quiet, plain, then the weekly one
        for group, hour in (("few", 8), ("many", 9)):
            at(app, datetime(2026, 3, 2, hour, tzinfo=UTC) + timedelta(days=offset))
            statements = count_statements(app)
            stats = await groups[group].run_once()
            assert stats.sent == (3 if group == "few" else 12), (offset, group)
            counts[group].append(statements[0])
    assert counts["few"] == counts["many"]
    texts = [reply.text for reply in recorder.sent["many0"]]
    assert [t.startswith(GOING_QUIET) for t in texts] == [i == 3 for i in range(8)]
    assert texts[7].startswith(STILL_HERE)
    async with app.sessions() as s:
        waiting = await s.scalars(select(Person.unanswered).order_by(Person.id))
        assert set(waiting) == {8}
