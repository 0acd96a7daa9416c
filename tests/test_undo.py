"""/undo takes back the last thing recorded today, after a confirmation that names it: a
score (a changed one goes back to what it was), a run, a note, a red-flag screen answer.
Get-help advice already given stands until the person says they were checked."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.runs import Run
from bot.store import repo
from bot.store.models import CheckIn, Escalation, Person, SymptomReport
from tests.conftest import Chat

MON = date(2026, 3, 2)


async def ready(app: App) -> Chat:
    ann = Chat(app, "ann")
    await ann.onboard()
    return ann


async def stored(app: App) -> dict[str, object]:
    """What is stored about Ann: scores (day, kind) -> (score, note), answers, advice, episode."""
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        checkins = await s.execute(
            select(CheckIn.day, CheckIn.kind, CheckIn.score, CheckIn.note).where(
                CheckIn.person_id == person.id
            )
        )
        answers = await s.scalars(
            select(SymptomReport.code).where(SymptomReport.person_id == person.id)
        )
        advice = await s.scalars(select(Escalation.tier).where(Escalation.person_id == person.id))
        return {
            "scores": {(d, k): (sc, n) for d, k, sc, n in checkins},
            "answers": sorted(answers),
            "advice": sorted(advice),
            "episode": person.episode_tier,
        }


async def test_nothing_recorded_today_means_nothing_to_undo(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("/undo")
    assert reply.strip() == "Nothing to undo today."
    await ann.say("4")
    ann.later(days=1)
    assert "Nothing to undo today" in await ann.say("/undo")  # yesterday's score stays put
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, None)}


async def test_a_score_is_undone_only_after_the_confirmation(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    ann.later(minutes=5)
    asked = await ann.say("/undo")
    assert "today's score, 4/10" in asked
    assert "[Undo it] [Keep it]" in asked
    assert "nothing" in (await ann.say("Keep it")).lower()
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, None)}
    await ann.say("/undo")
    done = await ann.say("Undo it")
    assert "today's score, 4/10" in done
    assert (await stored(app))["scores"] == {}
    assert "Nothing to undo today" in await ann.say("/undo")


async def test_undoing_a_changed_score_puts_back_the_one_before_with_its_note(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    await ann.say("/note stiff")
    ann.later(hours=2)
    await ann.say("6")
    ann.later(minutes=1)
    asked = await ann.say("/undo")
    assert "6/10" in asked and "back to 4/10" in asked
    assert "back to 4/10" in await ann.say("Undo it")
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, "stiff")}


async def test_the_last_thing_goes_first_a_note_then_its_score(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    ann.later(minutes=1)
    await ann.say("/note stiff after the drive")
    ann.later(minutes=1)
    assert "note" in await ann.say("/undo")
    await ann.say("Undo it")
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, None)}
    assert "today's score, 4/10" in await ann.say("/undo")
    await ann.say("Undo it")
    assert (await stored(app))["scores"] == {}


async def test_a_run_score_is_undone(app: App) -> None:
    ann = await ready(app)
    await ann.say("2")
    ann.later(hours=3)
    await ann.say("/run 3 after")
    ann.later(minutes=1)
    assert "after your run, 3/10" in await ann.say("/undo")
    await ann.say("Undo it")
    assert (await stored(app))["scores"] == {(MON, "daily"): (2, None)}


async def runs(app: App) -> list[Run]:
    """Ann's runs as stored, from Monday on."""
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        return await repo.runs_since(s, person.id, MON)


async def test_an_undone_run_takes_its_distance_and_time_with_it(app: App) -> None:
    """A run taken back is no run: its 8 km must not stay in the week's load."""
    ann = await ready(app)
    await ann.say("2")
    ann.later(hours=3)
    await ann.say("/run 3 after 8k 45min trail")
    ann.later(minutes=1)
    question = await ann.say("/undo")
    # Both the question and the answer name what goes: not just a score, a whole run.
    assert "after your run, 3/10?" in question
    assert "The run's details go with it: 8 km, 45 min, trail." in question
    done = await ann.say("Undo it")
    assert "removed today's score after your run, 3/10, and the run (8 km, 45 min, trail)" in done
    assert await runs(app) == []
    history = await ann.say("/history")
    assert "8 km" not in history and "45 min" not in history


async def test_a_run_told_during_and_after_keeps_its_details_when_one_is_undone(
    app: App,
) -> None:
    ann = await ready(app)
    await ann.say("/run 0 during 10k")  # a 0 is a score too: the run stays
    ann.later(minutes=5)
    await ann.say("/run 3 after")
    ann.later(minutes=1)
    assert "details" not in await ann.say("/undo")  # the run stays, with its 10 km
    assert "10 km" not in await ann.say("Undo it")
    [run] = await runs(app)
    assert run.km == 10.0 and run.during == 0 and run.after is None


async def test_a_stale_confirmation_does_not_remove_what_came_after(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    ann.later(minutes=1)
    await ann.say("/undo")  # asks about 4/10
    ann.later(minutes=1)
    await ann.say("pain 6")  # changed meanwhile; the old buttons are still on screen
    reply = await ann.say("Undo it")
    assert "send /undo again" in reply
    assert (await stored(app))["scores"] == {(MON, "daily"): (6, None)}


async def test_a_confirmation_from_yesterday_has_expired(app: App) -> None:
    ann = await ready(app)
    ann.later(hours=16)  # Mon 23:00
    await ann.say("4")
    await ann.say("/undo")
    ann.later(hours=2)  # Tue 01:00
    assert "send /undo again" in await ann.say("Undo it")
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, None)}


async def test_undoing_a_score_reads_the_trend_again(app: App) -> None:
    ann = await ready(app)
    for value in (2, 2, 2):
        await ann.say(f"pain {value}")
        ann.later(days=1)
    assert "Ease off today" in await ann.say("pain 4")  # a slip of the thumb: it was 2
    ann.later(minutes=1)
    await ann.say("/undo")
    done = await ann.say("Undo it")
    assert "ease off" in done.lower()  # says the advice it led to is taken back
    assert (await stored(app))["advice"] == []
    ann.later(hours=1)
    # Nothing of the withdrawn advice holds the next real rise back from being announced.
    assert "Ease off today" in await ann.say("pain 4")


async def test_undoing_a_red_flag_answer_keeps_the_get_help_advice(app: App) -> None:
    ann = await ready(app)
    await ann.say("/symptoms")
    assert "See a doctor today" in await ann.say("Fever with back pain")
    ann.later(minutes=2)
    asked = await ann.say("/undo")
    assert "fever with back pain" in asked.lower()
    done = await ann.say("Undo it")
    assert "fever with back pain" in done.lower()
    assert "still stands" in done
    after = await stored(app)
    assert after["answers"] == []
    assert after["advice"] == ["urgent"]
    assert after["episode"] == "urgent"  # closed only when they say they were checked


async def test_undoing_a_score_keeps_get_help_advice_it_led_to(app: App) -> None:
    ann = await ready(app)
    await ann.say("pain 7")
    ann.later(days=1)
    assert "See a doctor today" in await ann.say("pain 8")
    ann.later(minutes=1)
    await ann.say("/undo")
    done = await ann.say("Undo it")
    assert "still stands" in done
    after = await stored(app)
    assert after["scores"] == {(MON, "daily"): (7, None)}
    assert after["episode"] == "urgent"


async def test_help_lists_undo(app: App) -> None:
    assert "/undo - " in await Chat(app, "ann").say("/help")


async def test_the_score_kept_for_undo_is_in_the_export(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    ann.later(hours=1)
    await ann.say("6")
    export = await ann.say("/export")
    path = export.split("(file saved: ")[1].split(")")[0]
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert ["checkin", "2026-03-02", "daily", "6"] in [r[:4] for r in rows]
    assert ["checkin_before_change", "2026-03-02", "daily", "4"] in [r[:4] for r in rows]


async def test_a_score_sent_again_lower_takes_back_the_advice_the_first_led_to(app: App) -> None:
    """Sending the right score is the other way to undo a slip: the advice the slip led to
    goes, as with /undo, and the next morning does not repeat it."""
    ann = await ready(app)
    for value in (2, 2, 2):
        await ann.say(f"pain {value}")
        ann.later(days=1)
    assert "Ease off today" in await ann.say("pain 4")
    ann.later(minutes=1)
    fixed = await ann.say("2")
    assert "Changed today's score from 4 to 2/10." in fixed
    assert "I've taken back the advice it led to (ease off today)." in fixed
    assert (await stored(app))["advice"] == []
    ann.later(hours=3)
    run = await ann.say("/run 6 during")
    assert "Ease off today" in run
    ann.later(minutes=1)
    fixed_run = await ann.say("/run 3 during")
    assert "from 6 to 3/10" in fixed_run and "taken back the advice" in fixed_run
    ann.later(days=1)
    assert "Yesterday I said" not in await ann.say("2")


async def test_a_second_note_is_added_to_the_first_and_undo_names_both(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    assert "Note added to today's score." in await ann.say("/note stiff after drive")
    added = await ann.say("/note also sore left glute")
    assert "Note added to today's score, after the one there." in added
    assert "(stiff after drive; also sore left glute)" in await ann.say("/history")
    assert "(“stiff after drive; also sore left glute”)?" in await ann.say("/undo")
    await ann.say("Undo it")
    assert (await stored(app))["scores"] == {(MON, "daily"): (4, None)}


async def test_the_same_run_score_with_new_details_does_not_say_nothing_changed(app: App) -> None:
    ann = await ready(app)
    await ann.say("/run 3 during 5k")
    again = await ann.say("/run 3 during 8k 45min")
    assert "nothing changed" not in again
    assert "Already had 3/10 during your run for today. Run: 8 km, 45 min." in again
    [run] = await runs(app)
    assert (run.km, run.minutes) == (8.0, 45.0)


async def test_a_run_for_tomorrow_is_not_filed_for_today(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("/run 3 during 8k tomorrow")
    assert "“tomorrow”" in reply and "Recorded" not in reply
    assert len(reply.strip().splitlines()) == 1
    assert await runs(app) == []
