"""Where it hurts and what set it off: optional questions after a score that rose by 2 or more,
through the real engine and console adapter, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import actions
from bot.app import App
from bot.events import ChatKind, Incoming
from bot.handlers.pain_context import BadDayCounts, count_bad_days, count_lines, rose
from bot.store import repo
from bot.store.models import Person
from content.loader import ContentError, default_content, load_content
from tests.conftest import START, Chat, row_counts
from tests.test_console_cli import run_console
from tests.test_content import broken_copy

WHERE = "Where does it hurt? Tap each place, then Next."
SET_OFF = "What set it off?"
STIFF = "Were you stiff this morning?"
DAY1 = START.date()


async def answers_of(app: App, user: str) -> dict[date, repo.PainContextDay]:
    """What is stored about each day the questions asked about."""
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == user))
        if person is None:
            return {}
        return {a.day: a for a in await repo.pain_context_since(s, person.id, date(2000, 1, 1))}


async def rise(chat: Chat, before: int = 3, after: int = 5) -> str:
    """A score, then one 2 or more higher the next day; what the second one got."""
    await chat.say(str(before))
    chat.later(days=1)
    return await chat.say(str(after))


async def test_a_rise_of_two_asks_where_after_the_screen_then_one_question_at_a_time(
    app: App,
) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    first = await ann.say("3")
    assert WHERE not in first  # no rise without a score before it
    ann.later(days=1)
    reply = await ann.say("5")
    # The red-flag screen comes first; the optional question is a message of its own after it.
    assert reply.index("A quick safety check") < reply.index("[None of these]") < reply.index(WHERE)
    assert "Optional" in reply and "[Skip] [Not now]" in reply
    assert "[Left SI] [Right SI]" in reply and "[Down the leg]" in reply

    # More than one place, without a second screen: each tap ticks a place in the same question.
    left = await ann.say("Left SI")
    assert "Noted: left SI." in left and "[✓ Left SI] [Right SI]" in left and "[Next]" in left
    right = await ann.say("Right SI")
    assert "[✓ Left SI] [✓ Right SI]" in right
    buttock = await ann.say("Buttock")
    assert "[✓ Buttock] [Groin]" in buttock
    undone = await ann.say("✓ Buttock")  # a mis-tap is taken back with one more tap
    assert "Taken back: buttock." in undone and "[Buttock] [Groin]" in undone

    nxt = await ann.say("Next")
    assert "Where: left SI, right SI." in nxt and SET_OFF in nxt
    assert "[Getting out of a car]" in nxt  # a long label has a row of its own
    sitting = await ann.say("Sitting")
    assert "Noted: sitting." in sitting and STIFF in sitting
    assert "[Under 30 min] [Over 30 min]" in sitting
    done = await ann.say("Over 30 min")
    assert done.strip() == (
        "Thanks, noted for today: where: left SI, right SI; set off by: sitting; morning "
        "stiffness: over 30 minutes. /history counts these on bad days."
    )
    stored = (await answers_of(app, "ann"))[DAY1 + timedelta(days=1)]
    assert stored.places == {"left_si", "right_si"}
    assert stored.triggers == {"sitting"}
    assert stored.stiffness == "over_30"  # kept day by day, for a rule about months of it


async def test_skip_moves_on_and_not_now_stops_with_nothing_stored(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await rise(ann)
    skipped = await ann.say("Skip")
    assert SET_OFF in skipped and "Where:" not in skipped
    stopped = await ann.say("Not now")
    assert stopped.strip() == "OK, no more questions today."
    [asked] = (await answers_of(app, "ann")).values()
    assert not asked.answered

    bob = Chat(app, "bob")
    await bob.onboard()
    await rise(bob)
    await bob.say("Skip")
    await bob.say("Skip")
    assert (await bob.say("Skip")).strip() == "OK, nothing noted for today."


async def test_no_question_for_a_rise_of_one_and_only_once_a_day(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert WHERE not in await rise(ann, 3, 4)
    ann.later(days=1)
    assert WHERE in await ann.say("6")
    again = await ann.say("7")  # still 2 or more up on yesterday: asked already today
    assert "Changed today's score" in again and WHERE not in again
    ann.later(days=1)
    assert WHERE not in await ann.say("7")  # no rise on yesterday's 7


async def test_no_question_under_get_help_advice(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    # 7 or more two days running, and up 2: see a doctor today.
    urgent = await rise(ann, 7, 9)
    assert "See a doctor today" in urgent
    assert WHERE not in urgent and "Optional" not in urgent

    bob = Chat(app, "bob")
    await bob.onboard()
    await bob.say("3")
    bob.later(days=1)
    emergency = await bob.say("5, and my groin is numb")
    assert emergency.startswith("Get help now")
    assert WHERE not in emergency
    assert await answers_of(app, "bob") == {}


async def test_no_question_beside_see_a_professional(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for _ in range(28):
        await ann.say("4")
        ann.later(days=1)
    # Four weeks on, no better than the first week, and up 2 today: see a physio.
    reply = await ann.say("6")
    assert "Book a physio or sports doctor" in reply
    assert WHERE not in reply
    assert await answers_of(app, "ann") == {}


async def test_no_question_for_a_score_tapped_in_a_group(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("3")
    ann.later(days=1)
    replies = await app.engine.handle(
        Incoming(
            platform="console",
            user_id="ann",
            chat_id="club",
            action=actions.encode("s", 5),
            chat_kind=ChatKind.GROUP,
        )
    )
    assert "Recorded 5/10" in replies[0].text
    assert not any(WHERE in r.text for r in replies)
    assert await answers_of(app, "ann") == {}


async def test_no_question_while_an_episode_is_open(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "See a doctor today" in await rise(ann, 7, 9)  # an episode opens
    ann.later(days=1)
    await ann.say("3")
    ann.later(days=1)
    reply = await ann.say("6")  # up 3, but they are waiting to be checked
    assert "Recorded 6/10" in reply
    assert WHERE not in reply
    assert await answers_of(app, "ann") == {}


async def test_advice_to_get_help_after_the_question_ends_the_questions(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert WHERE in await rise(ann)
    question = ann.console.labels["left si"]
    await ann.say("/symptoms")
    assert "Get help now" in await ann.say("Symptoms in both legs")
    # The old question's button, tapped now: the answer is kept, no more questions follow.
    replies = await app.engine.handle(
        Incoming(platform="console", user_id="ann", chat_id="ann", action=question)
    )
    [reply] = replies
    assert reply.text == (
        "Noted: left SI.\n\nNo more questions now: the advice I gave you comes first."
    )
    assert reply.buttons == ()


async def test_a_stale_question_records_for_the_day_it_asked_about(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await rise(ann)
    asked = DAY1 + timedelta(days=1)
    ann.later(days=1)
    late = await ann.say("Buttock")  # yesterday's question, tapped today
    assert "About yesterday: Noted: buttock." in late
    assert "About yesterday: Anywhere else?" in late
    assert (await ann.say("Next")).count("About yesterday: ") == 2
    stored = await answers_of(app, "ann")
    assert set(stored) == {asked}  # nothing filed under today
    assert stored[asked].places == {"buttock"}

    ann.later(days=20)  # beyond the 14 days a score may be filed
    old = await ann.say("Sitting")
    assert "more than 14 days ago, so I left them as they were" in old
    assert (await answers_of(app, "ann"))[asked].triggers == frozenset()


async def test_down_the_leg_points_to_the_leg_questions_unless_they_were_answered(
    app: App,
) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await rise(ann)
    leg = await ann.say("Down the leg")
    assert "Noted: down the leg." in leg
    assert "isn't a warning sign by itself" in leg and "send /symptoms now" in leg

    bob = Chat(app, "bob")
    await bob.onboard()
    await rise(bob)
    down_leg = bob.console.labels["down the leg"]
    await bob.say("/symptoms")
    assert "none of the warning signs" in await bob.say("None of these")
    [reply] = await app.engine.handle(
        Incoming(platform="console", user_id="bob", chat_id="bob", action=down_leg)
    )
    assert reply.text.startswith("Noted: down the leg.")
    assert "warning sign" not in reply.text  # the screen's leg questions were answered


async def test_nothing_is_asked_or_kept_before_consent(app: App) -> None:
    cat = Chat(app, "cat")
    await cat.say("3")  # waits in the consent button
    cat.later(days=1)
    assert WHERE not in await cat.say("5")
    payload = actions.encode("pc", (DAY1 + timedelta(days=1)).toordinal(), "w", "left_si")
    [reply] = await app.engine.handle(
        Incoming(platform="console", user_id="cat", chat_id="cat", action=payload)
    )
    assert "I kept nothing" in reply.text
    counts = await row_counts(app)
    assert counts["people"] == 0 and counts["pain_context"] == 0


async def bad_days_with_answers(ann: Chat) -> None:
    """Four bad days (3 -> 6, each after a 3): sitting twice, stairs once, one skipped."""
    await ann.say("3")
    for answers in (
        ["Left SI", "Next", "Sitting"],
        ["Left SI", "Buttock", "Next", "Stairs"],
        ["Skip", "Sitting"],
        ["Not now"],
    ):
        ann.later(days=1)
        assert WHERE in await ann.say("6")
        for label in answers:
            await ann.say(label)
        ann.later(days=1)
        await ann.say("3")


async def test_history_counts_what_set_it_off_on_the_bad_days(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await bad_days_with_answers(ann)
    history = await ann.say("/history")
    assert "Bad days (score up 2 or more from the one before), last 90 days: 4." in history
    assert "Sitting set it off on 2 of 4 bad days; stairs on 1." in history
    assert "Where it hurt: left SI on 2 of 4 bad days; buttock on 1." in history
    assert "Morning stiffness" not in history  # nothing to count


async def test_history_says_nothing_about_bad_days_without_answers(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await rise(ann)
    await ann.say("Not now")
    history = await ann.say("/history")
    assert "5/10" in history
    assert "Bad days" not in history and "set it off" not in history


async def test_export_has_the_answers_and_delete_erases_them(app: App, tmp_path: Path) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await rise(ann)
    for label in ("Groin", "Next", "A long run", "Under 30 min"):
        await ann.say(label)
    saved = (await ann.say("/export")).split("(file saved: ")[1].rstrip(")\n")
    rows = list(csv.reader(io.StringIO(Path(saved).read_text(encoding="utf-8"))))
    day = (DAY1 + timedelta(days=1)).isoformat()
    mine = [r[:4] for r in rows if r[0] == "pain_context"]
    assert mine == [
        ["pain_context", day, "asked", ""],
        ["pain_context", day, "where", "groin"],
        ["pain_context", day, "set_off_by", "long_run"],
        ["pain_context", day, "morning_stiffness", "under_30"],
    ]
    assert (await row_counts(app))["pain_context"] == 1
    await ann.say("/delete")
    assert "erased" in await ann.say("Delete everything")
    assert (await row_counts(app))["pain_context"] == 0


# --- the rule and the counts, alone ------------------------------------------------------------


def test_a_rise_is_against_the_last_score_within_28_days() -> None:
    d = date(2026, 3, 10)
    assert rose({d - timedelta(days=1): 3, d: 5}, d)
    assert not rose({d - timedelta(days=1): 4, d: 5}, d)
    assert rose({d - timedelta(days=5): 2, d: 4}, d)  # a gap of days: the last score before
    assert not rose({d - timedelta(days=29): 0, d: 6}, d)  # months-old scores say nothing
    assert not rose({d: 9}, d)


def test_counts_are_of_bad_days_and_answers_on_days_no_longer_bad_are_left_out() -> None:
    d = date(2026, 3, 10)
    daily = {d: 2, d + timedelta(days=1): 5, d + timedelta(days=2): 5, d + timedelta(days=3): 7}
    answers = [
        repo.PainContextDay(d + timedelta(days=1), frozenset({"groin"}), frozenset({"car"})),
        # its score was changed since, so it is no longer a bad day
        repo.PainContextDay(d + timedelta(days=2), triggers=frozenset({"car"})),
        repo.PainContextDay(d + timedelta(days=3), stiffness="over_30"),
    ]
    counts = count_bad_days(daily, answers, d, d + timedelta(days=3))
    assert counts == BadDayCounts(2, 2, counts.places, counts.triggers, counts.stiffness)
    assert dict(counts.triggers) == {"car": 1} and dict(counts.stiffness) == {"over_30": 1}
    assert count_lines(default_content().pain_context, counts) == [
        "Bad days (score up 2 or more from the one before), last 90 days: 2.",
        "Getting out of a car set it off on 1 of 2 bad days.",
        "Where it hurt: groin on 1 of 2 bad days.",
        "Morning stiffness: over 30 minutes on 1 of 2 bad days.",
    ]
    assert count_lines(default_content().pain_context, count_bad_days(daily, [], d, d)) == []


# --- the console itself ------------------------------------------------------------------------


def test_the_console_taps_through_the_questions(tmp_path: Path) -> None:
    done = run_console(
        [
            "/start",
            "I agree",
            "3",
            "/advance 1d",
            "6",
            "Right SI",
            "Down the leg",
            "Next",
            "Uphill",
            "Not stiff",
            "/history",
        ],
        tmp_path,
        "--user",
        "ann",
        "--clock",
        "2026-03-02T07:00+00:00",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.index("[None of these]") < out.index(WHERE)
    assert "[Left SI] [✓ Right SI]" in out
    assert "Where: right SI, down the leg." in out
    assert "Thanks, noted for today: where: right SI, down the leg; set off by: uphill" in out
    assert "Uphill set it off on 1 of 1 bad day." in out
    assert "Traceback" not in out + done.stderr


def test_content_may_relabel_the_answers_but_never_change_their_stored_codes(
    tmp_path: Path,
) -> None:
    def rename(data: dict) -> None:
        data["trigger"]["options"][0]["code"] = "desk"

    with pytest.raises(ContentError) as caught:
        load_content(broken_copy(tmp_path, "pain_context.yaml", rename))
    assert str(caught.value) == (
        "pain_context.yaml: question 'trigger': field 'options': codes must be sitting, stairs, "
        "car, uphill, long_run (each once), found desk, stairs, car, uphill, long_run"
    )
