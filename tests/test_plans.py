"""Plans that track themselves, in conversation on a manual clock: the return-to-run ladder
(up after good runs, back on sharp pain, paused by an episode or a hop/sacrum report) and the
strength block (weeks move on by workouts done; load holds after a pain rise)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from bot import plans
from bot.app import App
from bot.events import Incoming
from bot.plans import Outcome
from bot.store import repo
from bot.store.models import Person
from tests.conftest import Chat, row_counts
from tests.test_console_cli import run_console
from tests.test_reminders import Person_

NONE_OF_THESE = "None of these"
MORNING = "this morning, is your pain no worse than it was before that run?"
SETTLED = "this morning, so it settled."


async def ladder_runner(app: App, user: str = "ann") -> Chat:
    """Someone set up, with a low score today, who has started the ladder from /ladder."""
    chat = Chat(app, user)
    await chat.onboard()
    await chat.say("1")
    shown = await chat.say("/ladder")
    assert "Start only when a 30-minute brisk walk is pain-free." in shown
    assert "[Start the ladder]" in shown
    started = await chat.say("Start the ladder")
    assert "Return-to-run ladder started, stage 1 of 7: walk 4 min / run 1 min × 4" in started
    return chat


async def good_run(chat: Chat, score: int = 2) -> str:
    """A ladder run with low pain and none of the warning signs, then next morning's check-in:
    no higher than the run day's score, which settles it, or (with no score that day) the
    question answered "no worse". Returns what settled it; leaves the clock on the morning
    after."""
    asked = await chat.say(f"/run {score} during")
    assert "During the run, did you have any of these?" in asked, asked
    assert "I'll check whether your pain is back" in await chat.say(NONE_OF_THESE)
    chat.later(days=1)
    checkin = await chat.say("1")
    if MORNING in checkin:
        return await chat.say("No worse")
    assert SETTLED in checkin, checkin
    return checkin


async def stage(app: App, user: str = "ann") -> tuple[int | None, int]:
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == user))
        assert person is not None
        return person.ladder_stage, person.ladder_good_runs


async def test_a_runner_climbs_the_ladder_two_good_runs_a_stage_and_finishes_it(app: App) -> None:
    ann = await ladder_runner(app)
    first = await good_run(ann)
    assert "Good run: 1 of 2 at stage 1. Next ladder run: Wed 4 Mar or later." in first
    assert await stage(app) == (1, 1)
    ann.later(days=1)
    assert "Up to stage 2 of 7: walk 3 min / run 2 min × 4 (20 min)." in await good_run(ann)
    for n in range(2, 7):
        ann.later(days=1)
        await good_run(ann)
        ann.later(days=1)
        assert f"Up to stage {n + 1} of 7" in await good_run(ann)
    ann.later(days=1)
    await good_run(ann)
    ann.later(days=1)
    done = await good_run(ann)
    assert "You've finished the return-to-run ladder: run 30 min continuously." in done
    assert await stage(app) == (None, 0)
    assert "You finished the return-to-run ladder today." in await ann.say("/ladder")


async def test_the_ladder_runs_every_other_day_and_a_second_day_in_a_row_does_not_count(
    app: App,
) -> None:
    ann = await ladder_runner(app)
    await good_run(ann)  # Monday's run, answered on Tuesday morning
    too_soon = await ann.say("/run 1 during")
    assert "This run doesn't count on the ladder: the ladder runs every other day" in too_soon
    assert "you had a ladder run yesterday" in too_soon
    assert "During the run" not in too_soon and "[Sharp pain]" not in too_soon  # nothing asked
    assert "Your next ladder run: Wed 4 Mar or later" in await ann.say("/ladder")
    ann.later(days=1)
    await ann.say("/run 1 during")
    assert "During the run, did you have any of these?" in await ann.say("/ladder")  # still open
    await ann.say(NONE_OF_THESE)
    assert "this morning" not in await ann.say("/ladder")  # asked tomorrow, not today
    ann.later(days=1)
    assert MORNING in await ann.say("/ladder")
    assert await stage(app) == (1, 1)


async def test_yesterdays_run_logged_after_todays_is_too_close_to_count(app: App) -> None:
    ann = await ladder_runner(app)
    ann.later(days=1)
    assert "During the run" in await ann.say("/run 2 during")
    close = await ann.say("/run 2 during yesterday")
    assert "doesn't count on the ladder" in close and "you had a ladder run today" in close


def test_at_most_the_weeks_runs_count_whatever_the_rest_days() -> None:
    monday = date(2026, 3, 2)
    runs = [monday + timedelta(days=k) for k in range(4)]
    assert plans.run_day_refusal(monday + timedelta(days=4), runs, 1, 4) is Outcome.TOO_MANY
    assert plans.run_day_refusal(monday + timedelta(days=7), runs, 1, 4) is None
    assert plans.run_day_refusal(monday + timedelta(days=4), runs, 2, 4) is Outcome.TOO_SOON


async def test_the_ladder_waits_while_the_advice_is_to_ease_off(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for i, score in enumerate((2, 2, 2, 4)):
        if i:
            ann.later(days=1)
        await ann.say(str(score))
    refused = await ann.say("/ladder start")
    assert "Not today: with your recent scores my advice is to ease off." in refused
    assert await stage(app) == (None, 0)


async def test_a_low_week_on_the_ladder_is_good_news_not_an_offer_to_start(app: App) -> None:
    ann = await ladder_runner(app)
    reply = ""
    for _ in range(6):
        ann.later(days=1)
        reply = await ann.say("1")
    assert "Keep going with the return-to-run ladder (stage 1)" in reply
    assert "[Start the ladder]" not in reply


async def test_no_good_news_about_a_low_week_within_a_week_of_a_step_back(app: App) -> None:
    """Scores of 2 or below every day, but a ladder run stepped back on day 4: "your pain has
    been 2 or below, keep going" would read as if that run had not happened."""
    ann = await ladder_runner(app)  # day 0: a score of 1
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    said = {}
    for day in range(1, 8):
        ann.later(days=1)
        said[day] = await ann.say("1")
        if day in (2, 4):
            await ann.say("/run 2 during")
            said[day] += await ann.say("Sharp pain" if day == 4 else NONE_OF_THESE)
    assert "Up to stage 2 of 7" in said[3]
    assert "Back to stage 1 of 7" in said[4]
    assert await stage(app) == (1, 0)
    # Day 6 ends the first week of low scores; day 7 would be the next.
    assert not any("Keep going with the return-to-run ladder" in said[d] for d in range(4, 8))


async def test_pain_above_three_during_a_run_is_asked_when_only_an_after_score_is_given(
    app: App,
) -> None:
    ann = await ladder_runner(app)
    asked = await ann.say("/run 3 after")
    assert "How much did it hurt during the run, out of 10?" in asked
    assert "[0-3] [4-5] [6-10]" in asked
    repeat = await ann.say("4-5")
    assert "this stage is repeated" in repeat
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    settled = await ann.say("1")
    assert SETTLED in settled and MORNING not in settled
    assert "repeat stage 1 of 7" in settled and "doesn't count" in settled
    assert await stage(app) == (1, 0)


async def test_sharp_pain_steps_back_a_stage_at_once(app: App) -> None:
    ann = await ladder_runner(app)
    await good_run(ann)
    ann.later(days=1)
    await good_run(ann)
    assert await stage(app) == (2, 0)
    ann.later(days=1)
    await ann.say("/run 2 during")
    back = await ann.say("Sharp pain")
    assert "Back to stage 1 of 7: walk 4 min / run 1 min × 4 (20 min). Why: sharp pain." in back
    assert await stage(app) == (1, 0)
    ann.later(days=1)
    assert MORNING not in await ann.say("1")  # a settled run asks nothing the next morning


async def test_pain_above_five_or_a_worse_morning_steps_back(app: App) -> None:
    ann = await ladder_runner(app)
    await good_run(ann)
    ann.later(days=1)
    await good_run(ann)
    ann.later(days=1)
    back = await ann.say("/run 6 during")
    assert "Back to stage 1 of 7" in back and "Why: pain above 5/10 during the run." in back
    ann.later(days=2)
    await ann.say("/run 1 during")
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    await ann.say("2")
    worse = await ann.say("Worse")
    assert (
        "Back to the start of stage 1 of 7" in worse
        and "Why: pain worse the next morning." in worse
    )


async def test_pain_above_five_after_a_ladder_run_steps_back_not_up(app: App) -> None:
    """Found in play, noted since: 2 during a ladder run, then 7 after it, and the next
    morning's check-in said "Good run" and counted it towards the next stage, while the same
    7 brought "ease off: hold, don't progress". Above 5 after a run is too much, as during."""
    ann = await ladder_runner(app)
    await good_run(ann)
    ann.later(days=1)
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(hours=2)
    after = await ann.say("/run 7 after")
    assert "7/10 after your run" in after
    assert "Back to the start of stage 1 of 7" in after  # at once, as for 6 during it
    assert "Why: pain 7/10 after the run, above 5/10." in after
    ann.later(days=1)
    morning = await ann.say("1")
    assert "Good run" not in morning and "Up to stage 2" not in morning
    ladder = await ann.say("/ladder")
    assert "stage 1 of 7" in ladder
    assert await stage(app) == (1, 0)


def test_pain_after_a_run_is_read_as_pain_during_it_is() -> None:
    low = plans.RunAnswers(plans.LOW, plans.NO_TROUBLE, plans.SAME)
    assert plans.verdict(low) is Outcome.GOOD
    assert plans.verdict(replace(low, after=5)) is Outcome.GOOD
    assert plans.verdict(replace(low, after=6)) is Outcome.BACK
    # Decided at once, as pain above 5 during it is: no question waits for the morning.
    assert plans.verdict(plans.RunAnswers(plans.LOW, None, None, after=8)) is Outcome.BACK


async def test_an_episode_pauses_the_ladder_and_it_goes_on_once_cleared(app: App) -> None:
    ann = await ladder_runner(app)
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    emergency = await ann.say("8, and my groin is numb")
    assert "Get help now" in emergency
    assert MORNING not in emergency  # no plan question under get-help advice
    ann.later(days=1)
    paused = await ann.say("/run 2 during")
    assert "Please don't run until you have been checked." in paused
    assert "Your return-to-run ladder is paused, so this run doesn't count on it" in paused
    assert "During the run" not in paused and "[Sharp pain]" not in paused
    shown = await ann.say("/ladder")
    assert "Paused: I told you to get help now." in shown
    await ann.say("/checked")
    await ann.say("Yes, cleared to train")
    ann.later(days=1)
    resumed = await ann.say("/run 2 during")
    assert "Your ladder goes on again, stage 1 of 7" in resumed
    assert "During the run, did you have any of these?" in resumed


async def test_a_hop_and_sacrum_report_pauses_the_ladder_for_fourteen_days(app: App) -> None:
    ann = await ladder_runner(app)
    await ann.say("/symptoms")
    await ann.say("Pain on hop/impact + tender sacrum")
    paused = await ann.say("/run 2 during")
    assert "paused" in paused and "tender sacrum today" in paused
    assert "the ladder waits at least until Mon 16 Mar" in paused
    ann.later(days=13)
    assert "Paused:" in await ann.say("/ladder")
    ann.later(days=1)
    resumed = await ann.say("/run 2 during")
    assert "Your ladder goes on again" in resumed
    assert "During the run, did you have any of these?" in resumed


async def test_the_ladder_cannot_start_within_fourteen_days_of_a_hop_report(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("/symptoms")
    await ann.say("Pain on hop/impact + tender sacrum")
    ann.later(days=2)
    refused = await ann.say("/ladder")
    assert "Not now: you reported pain on hopping with a tender sacrum on Mon 2 Mar." in refused
    assert "[Start the ladder]" not in refused
    assert "Not now:" in await ann.say("/ladder start")
    assert await stage(app) == (None, 0)


async def test_the_offer_after_a_low_week_has_a_start_button(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = ""
    for i in range(7):
        if i:
            ann.later(days=1)
        reply = await ann.say("1")
    assert "Ready to try running?" in reply
    assert "[Start the ladder]" in reply
    assert "Return-to-run ladder started, stage 1 of 7" in await ann.say("Start the ladder")


async def test_the_ladder_is_exported_and_erased(app: App) -> None:
    ann = await ladder_runner(app)
    await good_run(ann)
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        rows = await repo.export_rows(s, person.id)
    kinds = {(r[0], r[2]) for r in rows}
    assert ("person", "ladder_stage") in kinds
    run = next(r for r in rows if r[0] == "ladder_run")
    assert run[1:4] == ("2026-03-02", "stage 1", "good")
    assert run[4] == "pain during=0-3, trouble=none, next morning=same"
    assert (await row_counts(app))["ladder_runs"] == 1
    await ann.say("/delete")
    await ann.say("Delete everything")
    assert (await row_counts(app))["ladder_runs"] == 0


# ---- the strength block -------------------------------------------------------------------


async def strength_starter(app: App) -> Chat:
    chat = Chat(app, "bo")
    await chat.onboard()
    shown = await chat.say("/strength")
    assert "6-week strength block, week 1 of 6: 2 × 10 each (workout 1 of 12" in shown
    assert "[Done: workout 1]" in shown
    return chat


async def test_the_strength_week_moves_on_by_workouts_done_not_the_calendar(app: App) -> None:
    bo = await strength_starter(app)
    assert "Workout 1 done: 1 of 2 this week." in await bo.say("Done: workout 1")
    again = await bo.say("/strength")
    assert "week 1 of 6" in again and "[Done: workout 2]" in again
    assert "already done a workout today" in await bo.say("Done: workout 2")
    bo.later(days=10)  # time alone moves nothing
    assert "week 1 of 6" in await bo.say("/strength")
    finished_week = await bo.say("Done: workout 2")
    assert "Workout 2 done: week 1 complete." in finished_week
    assert "week 2 of 6: 2 × 10 each (workout 3 of 12, 1 of 2 this week)" in finished_week
    assert "Add a little load if the pain rules allow." in finished_week
    assert "[Done: workout 3]" in finished_week


async def test_strength_load_holds_after_a_pain_rise_and_says_why(app: App) -> None:
    bo = await strength_starter(app)
    await bo.say("Done: workout 1")
    for score in (2, 2, 2):
        bo.later(days=1)
        await bo.say(str(score))
    bo.later(days=1)
    assert "Ease off today" in await bo.say("4")  # Friday: 2 above the usual 2
    held = await bo.say("/strength")
    assert "[Done: workout 2]" in held
    done = await bo.say("Done: workout 2")
    assert "week 2 of 6" in done
    assert "Hold this week's load: keep the weights you used last week." in done
    assert "Why: I told you to ease off today, and load waits 7 days after that." in done
    assert "Add a little load" not in done
    bo.later(days=7)
    await bo.say("2")
    assert "Add a little load if the pain rules allow." in await bo.say("/strength")


async def test_strength_waits_during_an_episode_and_refuses_to_start_at_see_a_professional(
    app: App,
) -> None:
    bo = await strength_starter(app)
    await bo.say("8, and my groin is numb")
    paused = await bo.say("/strength")
    assert "Your strength block is paused: I told you to get help now." in paused
    assert "[Done" not in paused
    cy = Chat(app, "cy")
    await cy.onboard()
    await cy.say("/symptoms")
    await cy.say("Pain on hop/impact + tender sacrum")
    refused = await cy.say("/strength")
    assert "Not now: with your recent scores, get checked by a physio or doctor" in refused


async def test_a_stale_done_button_records_nothing(app: App) -> None:
    bo = await strength_starter(app)
    await bo.say("Done: workout 1")
    tap = Incoming("console", "bo", "bo", action="1:pl:sd:1")
    replies = await app.engine.handle(tap)
    assert replies[0].text == "Already noted: workout 1 is done."
    future = await app.engine.handle(Incoming("console", "bo", "bo", action="1:pl:sd:5"))
    assert "expired" in future[0].text
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "bo"))
        assert person is not None
        assert (
            len(await repo.activity_days(s, person.id, "strength_done", person.created_at.date()))
            == 1
        )


# ---- the console, as a process -----------------------------------------------------------


def test_a_ladder_run_in_the_console_process(tmp_path: Path) -> None:
    done = run_console(
        [
            "/start",
            "I agree",
            "1",
            "/ladder",
            "Start the ladder",
            "/run 2 during",
            "None of these",
            "/advance 1d",
            "1",
            "/strength",
            "Done: workout 1",
        ],
        tmp_path,
        "--user",
        "ann",
        "--tz",
        "UTC",
        "--clock",
        "2026-03-02T07:00+00:00",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[Start the ladder]" in out
    assert "Return-to-run ladder started, stage 1 of 7" in out
    assert "[Sharp pain]" in out and "[None of these]" in out
    assert "1/10 that day, 1/10 this morning, so it settled." in out
    assert "Good run: 1 of 2 at stage 1." in out
    assert "Workout 1 done: 1 of 2 this week." in out
    assert "Traceback" not in out + done.stderr


async def test_a_run_score_tapped_on_the_keyboard_is_a_ladder_run_too(app: App) -> None:
    ann = await ladder_runner(app)
    keyboard = await ann.say("/run during")
    assert "[2]" in keyboard, keyboard
    asked = await ann.say("2")
    assert "During the run, did you have any of these?" in asked, asked
    assert "I'll check whether your pain is back" in await ann.say(NONE_OF_THESE)


async def test_the_next_morning_answers_itself_when_both_scores_are_in(app: App) -> None:
    """The ladder reads the same two numbers as the "ease off" rule: it never asks "no worse?"
    beside advice that says the pain went up after the run."""
    ann = await ladder_runner(app)  # 1/10 today
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    morning = await ann.say("3")
    assert "Ease off today" in morning
    assert MORNING not in morning and "[No worse]" not in morning
    assert "1/10 that day, 3/10 this morning, so it hadn't settled." in morning
    assert "Back to the start of stage 1 of 7" in morning
    assert "Why: pain worse the next morning." in morning


async def test_today_and_the_core_reminder_count_the_strength_week_by_workouts_done(
    app: App,
) -> None:
    bo = await strength_starter(app)
    bo.later(days=15)  # two calendar weeks on, no workout done: still week 1
    assert "strength block, week 1 of 6" in await bo.say("/today")
    for n in (1, 2):
        await bo.say("/strength")
        await bo.say(f"Done: workout {n}")
        bo.later(days=2)
    assert "strength block, week 2 of 6" in await bo.say("/today")
    # The core-work reminder reads the same week, from one read for its whole batch.
    reminded = Person_(app, "bo")
    await reminded.say("/remind core on")
    await reminded.wait(hours=24)
    assert "Time for your core work." in reminded.chat.out.getvalue()
    assert "strength block, week 2 of 6" in reminded.chat.out.getvalue()


async def test_an_undone_run_score_takes_back_what_it_did_to_the_ladder(app: App) -> None:
    """A mistyped 6 steps the ladder back at once; /undo of that score puts the ladder back
    where it was, and the run told again is asked about afresh."""
    ann = await ladder_runner(app)
    await good_run(ann)
    ann.later(days=1)
    await good_run(ann)
    ann.later(days=1)
    await good_run(ann)
    assert await stage(app) == (2, 1)
    ann.later(days=1)
    assert "Back to stage 1 of 7" in await ann.say("/run 6 during")
    assert await stage(app) == (1, 0)
    ann.later(minutes=1)
    assert "during your run, 6/10?" in await ann.say("/undo")
    undone = await ann.say("Undo it")
    assert "removed today's score during your run, 6/10" in undone
    assert "Your return-to-run ladder is back where it was: stage 2 of 7" in undone
    assert await stage(app) == (2, 1)
    again = await ann.say("/run 3 during")
    assert "Ladder run, stage 2 of 7" in again
    assert "During the run, did you have any of these?" in again


async def test_an_undone_score_of_an_open_ladder_run_leaves_no_run_behind(app: App) -> None:
    """A ladder run still waiting for its answers goes with its only score: the next run
    that day is the day's ladder run, asked about from the start."""
    ann = await ladder_runner(app)
    await ann.say("/run 5 during")  # 4-5: repeat the stage, and the trouble question
    ann.later(minutes=1)
    await ann.say("/undo")
    assert "ladder" not in (await ann.say("Undo it")).lower()
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert person is not None
        assert await repo.ladder_runs_since(s, person.id, date(2026, 3, 1)) == []
    again = await ann.say("/run 2 during")
    assert "Ladder run, stage 1 of 7" in again and "Pain of 4-5" not in again


async def test_a_corrected_run_score_reads_the_ladder_run_again(app: App) -> None:
    """Sending the run's score again (a 6 meant as a 3) is the other way to put it right:
    the ladder goes back to where it was and the run is asked about with the new score."""
    ann = await ladder_runner(app)
    await good_run(ann)
    ann.later(days=1)
    assert "Back to the start of stage 1" in await ann.say("/run 6 during")
    assert await stage(app) == (1, 0)
    ann.later(minutes=2)
    again = await ann.say("/run 3 during")
    assert "Changed today's score during your run from 6 to 3/10." in again
    assert "Your return-to-run ladder is back where it was: stage 1 of 7" in again
    assert "During the run, did you have any of these?" in again
    assert "  " not in again  # one space between the sentences joined
    assert await stage(app) == (1, 1)
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    assert MORNING in await ann.say("1")
    assert "Good run: that's 2 at stage 1. Up to stage 2 of 7" in await ann.say("No worse")


async def test_the_ladder_does_not_say_run_today_on_a_day_the_advice_is_to_ease_off(
    app: App,
) -> None:
    ann = await ladder_runner(app)
    ann.later(days=2)
    for value in (1, 1):
        await ann.say(str(value))
        ann.later(days=1)
    assert "Ease off today" in await ann.say("6")
    shown = await ann.say("/ladder")
    assert "today or later" not in shown
    assert "Your next ladder run: not today. My advice today is to ease off" in shown


async def test_a_morning_score_put_right_settles_the_ladder_run_again(app: App) -> None:
    """The morning's score settled yesterday's ladder run; sent again higher, or undone, the
    run is read again with it, so the ladder never keeps a good run the advice disagrees
    with."""
    ann = await ladder_runner(app)
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    assert SETTLED in await ann.say("1")
    assert await stage(app) == (1, 1)
    ann.later(minutes=2)
    worse = await ann.say("4")
    assert "1/10 that day, 4/10 this morning, so it hadn't settled." in worse
    assert "Back to the start of stage 1 of 7" in worse
    assert await stage(app) == (1, 0)
    ann.later(minutes=2)
    await ann.say("/undo")
    undone = await ann.say("Undo it")  # the 4 goes: the morning's score is 1 again
    assert "1/10 that day, 1/10 this morning, so it settled." in undone
    assert await stage(app) == (1, 1)
    ann.later(minutes=2)
    await ann.say("/undo")
    await ann.say("Undo it")  # no score this morning at all: the answer given stands
    assert await stage(app) == (1, 1)
    assert SETTLED not in await ann.say("1")  # the same answer again: counted once
    assert await stage(app) == (1, 1)


async def test_a_run_score_put_right_to_four_or_five_repeats_the_stage_next_morning(
    app: App,
) -> None:
    ann = await ladder_runner(app)
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(minutes=5)
    assert "from 2 to 5/10" in await ann.say("/run 5 during")
    ann.later(days=1)
    settled = await ann.say("1")
    assert "so it settled. Pain of 4-5 during the run: repeat stage 1 of 7" in settled
    assert await stage(app) == (1, 0)


async def test_a_ladder_run_told_the_next_day_is_judged_by_that_days_morning(app: App) -> None:
    """Logged a day late, with both days' scores in: the morning after the run answers
    itself (2 that day, 3 the next: not settled), and no later morning is taken for it."""
    ann = await ladder_runner(app)
    await ann.say("2")  # the run day's score (the ladder started on this day)
    ann.later(days=1)
    await ann.say("3")
    assert "During the run, did you have any of these?" in await ann.say("/run 2 during yesterday")
    told = await ann.say(NONE_OF_THESE)
    assert "[No worse]" not in told
    assert "2/10 that day, 3/10 this morning, so it hadn't settled." in told
    assert "Back to the start of stage 1" in told
    ann.later(days=1)
    assert "settled" not in await ann.say("1")  # judged already, on its own morning


async def no_worse_tapped_from_ladder(app: App) -> Chat:
    """A ladder run, and next morning "No worse" tapped from /ladder before any check-in."""
    ann = await ladder_runner(app)
    await ann.say("/run 2 during")
    await ann.say(NONE_OF_THESE)
    ann.later(days=1)
    assert MORNING in await ann.say("/ladder")
    await ann.say("No worse")
    assert await stage(app) == (1, 1)
    return ann


async def test_a_tapped_morning_answer_stands_with_no_score_that_morning(app: App) -> None:
    """Asked by /ladder before the check-in and answered with a tap: nothing takes the
    answer back while no score has come that morning."""
    ann = await no_worse_tapped_from_ladder(app)
    await ann.say("/ladder")
    await ann.say("/history")
    assert await stage(app) == (1, 1)


async def test_undoing_the_score_sent_after_a_tapped_morning_answer_keeps_the_answer(
    app: App,
) -> None:
    """Found playing a runner: "No worse" tapped from /ladder, then the check-in, then the
    check-in undone. The tap answered the question; taking back the score must not."""
    ann = await no_worse_tapped_from_ladder(app)
    await ann.say("1")
    ann.later(minutes=1)
    await ann.say("/undo")
    undone = await ann.say("Undo it")
    assert "ladder" not in undone.lower()
    assert await stage(app) == (1, 1)
