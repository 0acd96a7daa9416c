"""A score lands on the day it is about: the evening check-in answered after midnight, a typed
score just after midnight, old buttons; a changed score keeps its note; "your usual" is one
number wherever it is shown."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot import actions, formatting
from bot.app import App
from bot.events import Incoming
from bot.store.models import CheckIn, Person
from tests.conftest import Chat
from tests.test_reminders import Person_, kinds

MON, TUE = date(2026, 3, 2), date(2026, 3, 3)


async def daily(app: App, user: str = "ann") -> dict[date, tuple[int, str | None]]:
    """The person's daily scores with their notes, by day."""
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == user))
        if person is None:
            return {}
        rows = await s.execute(
            select(CheckIn.day, CheckIn.score, CheckIn.note).where(
                CheckIn.person_id == person.id, CheckIn.kind == "daily"
            )
        )
        return {d: (score, note) for d, score, note in rows}


async def evening_person(app: App) -> Person_:
    """Ann in Berlin with only a 23:30 check-in, which arrives on Monday evening unanswered."""
    ann = Person_(app, "ann", tz="Europe/Berlin")  # Mon 2 Mar 08:00 in Berlin
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    await ann.say("/remind core off")
    assert "23:30" in await ann.say("/remind checkin 23:30")
    sent = await ann.wait(hours=15, minutes=31)
    assert kinds(sent) == {"checkin": [("2026-03-02", "23:30")]}
    assert not any("Morning" in text for _, _, text in sent)  # it is 23:30 where she is
    return ann


async def test_the_evening_check_in_tapped_after_midnight_counts_for_the_evening(
    app: App,
) -> None:
    ann = await evening_person(app)
    await ann.wait(hours=1, minutes=9)  # Tue 3 Mar 00:40 in Berlin
    reply = await ann.say("4")  # a tap on Monday evening's keyboard
    assert "Recorded 4/10 for yesterday" in reply
    assert await daily(app) == {MON: (4, None)}


async def test_a_typed_score_just_after_midnight_asks_which_day_it_is_for(app: App) -> None:
    ann = await evening_person(app)
    await ann.wait(hours=1, minutes=9)  # 00:40
    asked = await ann.say("pain 4")
    assert "[For yesterday] [For today]" in asked
    assert "4/10" in asked
    assert await daily(app) == {}  # nothing stored until they say which day
    assert "Recorded 4/10 for yesterday" in await ann.say("For yesterday")
    assert await daily(app) == {MON: (4, None)}


async def test_just_after_midnight_for_today_records_the_new_day(app: App) -> None:
    ann = await evening_person(app)
    await ann.wait(hours=2)  # 01:31
    asked = await ann.say("/checkin 5")
    assert "[For yesterday] [For today]" in asked
    assert "Recorded 5/10 for today" in await ann.say("For today")
    assert await daily(app) == {TUE: (5, None)}


async def test_a_typed_score_is_for_today_when_nothing_asked_about_last_night(app: App) -> None:
    # The default 08:00 check-in, answered: a score typed at 00:40 is for the new day.
    ann = Person_(app, "ann", tz="Europe/Berlin")
    await ann.chat.onboard()
    await ann.say("3")
    await ann.wait(hours=16, minutes=40)  # Tue 00:40
    assert "Recorded 4/10 for today" in await ann.say("pain 4")
    assert await daily(app) == {MON: (3, None), TUE: (4, None)}


async def test_after_three_in_the_morning_a_typed_score_is_for_today(app: App) -> None:
    ann = await evening_person(app)
    await ann.wait(hours=4)  # Tue 03:31
    assert "Recorded 4/10 for today" in await ann.say("pain 4")
    assert await daily(app) == {TUE: (4, None)}


async def test_a_score_button_from_more_than_two_weeks_ago_records_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    old = (MON - timedelta(days=20)).toordinal()
    tap = Incoming("console", "ann", "ann", action=actions.encode("s", 4, old))
    (reply,) = await app.engine.handle(tap)
    assert "Tue 10 Feb" in reply.text and "14 days" in reply.text
    assert len(reply.text.splitlines()) == 1
    assert await daily(app) == {}


async def test_a_score_button_made_before_buttons_carried_a_day_records_today(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    tap = Incoming("console", "ann", "ann", action="1:s:3")
    replies = await app.engine.handle(tap)
    assert "Recorded 3/10 for today" in replies[0].text
    assert await daily(app) == {MON: (3, None)}


async def test_a_changed_score_keeps_its_note_and_says_it_changed(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("4")
    await ann.say("/note stiff after a long drive")
    ann.later(hours=3)
    reply = await ann.say("6")
    assert "Changed today's score from 4 to 6/10" in reply
    assert await daily(app) == {MON: (6, "stiff after a long drive")}
    assert "Mon 2 Mar: 6/10 (stiff after a long drive)" in await ann.say("/history")


async def test_the_same_score_again_changes_nothing_and_keeps_the_note(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("pain 4")
    await ann.say("/note stiff")
    ann.later(hours=1)
    assert "Already had 4/10 for today; nothing changed" in await ann.say("pain 4")
    assert await daily(app) == {MON: (4, "stiff")}


async def test_your_usual_is_the_same_number_in_the_advice_and_in_history(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for value in (3, 4, 5):
        await ann.say(f"pain {value}")
        ann.later(days=1)
    advice = await ann.say("pain 8")
    assert "above your usual (4/10)" in advice
    history = await ann.say("/history")
    usual = [line for line in history.splitlines() if line.startswith("Your usual")]
    assert usual and usual[0].endswith(": 4/10"), usual


def test_one_rounding_for_every_usual_and_mean() -> None:
    assert formatting.score(4) == "4/10"
    assert formatting.score(4.0) == "4/10"
    assert formatting.score(4.5) == "4.5/10"
    assert formatting.number(4.25) == "4.3"  # halves go up, not to the nearest even
    assert formatting.number(31 / 7) == "4.4"
