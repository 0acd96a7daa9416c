"""Escalation advice in conversation: each tier fires on the right history and not on a near
miss; red flags win; /today follows the tier. Weeks are played on a manual clock."""

from __future__ import annotations

from bot import formatting
from bot.app import App
from bot.handlers import advice
from tests.conftest import Chat


async def days_of(chat: Chat, *values: int) -> str:
    """One score a day, returning what the bot said to the last one."""
    reply = ""
    for i, value in enumerate(values):
        if i:
            chat.later(days=1)
        reply = await chat.say(str(value))
    return reply


async def ready(app: App, user: str = "ann") -> Chat:
    chat = Chat(app, user)
    await chat.onboard()
    return chat


async def test_two_points_above_usual_is_told_to_ease_off_with_the_numbers(app: App) -> None:
    ann = await ready(app)
    reply = await days_of(ann, 2, 2, 2, 4)
    assert "Ease off today" in reply
    assert "4/10" in reply and "2/10" in reply  # the numbers behind it
    assert "cross-training" in reply
    assert "I can't diagnose you" in reply


async def test_one_point_above_usual_is_a_near_miss(app: App) -> None:
    ann = await ready(app)
    reply = await days_of(ann, 2, 2, 2, 3)
    assert "Ease off" not in reply
    assert "Recorded 3/10 for today" in reply


async def test_a_tier_is_not_repeated_within_three_days_unless_it_rises(app: App) -> None:
    ann = await ready(app)
    assert "Ease off today" in await days_of(ann, 2, 2, 2, 4)
    ann.later(days=1)
    assert "Ease off today" not in await ann.say("4")
    ann.later(days=1)
    assert "Ease off today" not in await ann.say("7")  # still "ease off": said already
    ann.later(days=1)
    rising = await ann.say("7")  # 7 two days running: a higher tier is announced at once
    assert "See a doctor today" in rising


async def test_start_repeats_advice_still_in_force_and_only_that(app: App) -> None:
    ann, bob = await ready(app, "ann"), await ready(app, "bob")
    await days_of(ann, 2, 2, 2, 4)  # ease off, announced today
    assert (await bob.say("/start")).startswith("Welcome back")  # nothing announced to Bob
    ann.later(days=1)
    reply = await ann.say("/start")
    assert reply.startswith("Ease off today.")
    assert "I gave you this advice yesterday, and it still stands." in reply
    assert "Why: " in reply and "4/10" in reply
    assert reply.index("I can't diagnose you") < reply.index("Welcome back")
    ann.later(days=1)
    assert "on Thu 5 Mar, and it still stands" in await ann.say("/start")
    ann.later(days=1)  # three days on, it no longer stands
    assert (await ann.say("/start")).startswith("Welcome back")


async def test_seven_two_days_running_is_urgent_first_and_never_hedged(app: App) -> None:
    ann = await ready(app)
    reply = await days_of(ann, 7, 7)
    assert reply.index("See a doctor today") < reply.index("Recorded 7/10")
    # CLINICAL.md "Wording": no rule-of-thumb or training-guidance line after same-day advice
    assert "rule of thumb" not in reply
    assert "general training guidance" not in reply


async def test_seven_on_two_days_apart_is_not_urgent(app: App) -> None:
    ann = await ready(app)
    reply = await days_of(ann, 7, 3, 7)
    assert "See a doctor today" not in reply


async def test_a_high_score_offers_the_red_flag_screen_as_buttons(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("8")
    assert "A quick safety check" in reply
    assert "[Numb saddle area (groin, buttocks)]" in reply
    assert "[None of these]" in reply


async def test_a_rise_of_two_offers_the_screen_and_a_rise_of_one_does_not(app: App) -> None:
    ann = await ready(app)
    assert "safety check" in await days_of(ann, 3, 5)
    bob = await ready(app, "bob")
    assert "safety check" not in await days_of(bob, 3, 4)


async def test_a_red_flag_wins_over_an_improving_trend_and_comes_first(app: App) -> None:
    ann = await ready(app)
    await days_of(ann, 6, 6, 6, 6, 3, 3, 3)
    await ann.say("/symptoms")
    reply = await ann.say("Numb saddle area (groin, buttocks)")
    assert reply.startswith("Get help now. Call emergency services")
    # pressed again: recorded once, and the emergency advice is still given every time
    again = await ann.say("Numb saddle area (groin, buttocks)")
    assert again.startswith("Get help now")
    export = await ann.say("/export")
    path = export.split("(file saved: ")[1].split(")")[0]
    from pathlib import Path

    rows = Path(path).read_text(encoding="utf-8").splitlines()
    assert sum(1 for r in rows if r.startswith("symptom,") and ",saddle," in r) == 1
    # said every time, stored once per day: the record does not double
    assert sum(1 for r in rows if r.startswith("escalation,") and ",emergency," in r) == 1


async def test_free_text_mentioning_a_red_flag_word_opens_the_screen(app: App) -> None:
    ann = await ready(app)
    for text in ("my left leg feels numb", "I fell on the ice", "I can't pee properly"):
        reply = await ann.say(text)
        assert "You mentioned something I should check" in reply, text
        assert "[None of these]" in reply


async def test_none_of_these_is_recorded_once(app: App) -> None:
    ann = await ready(app)
    await ann.say("/symptoms")
    assert "none of the warning signs" in await ann.say("None of these")
    assert "Already noted" in await ann.say("None of these")


async def test_hop_pain_with_a_tender_sacrum_says_stop_running(app: App) -> None:
    ann = await ready(app)
    await ann.say("/symptoms")
    reply = await ann.say("Pain on hop/impact + tender sacrum")
    assert "Time to see a professional" in reply
    assert "Stop running and see a sports doctor" in reply


async def test_today_follows_the_tier(app: App) -> None:
    ann = await ready(app)
    await ann.say("2")
    calm = await ann.say("/today")
    assert "About " in calm and "Instead of today's run" not in calm
    await days_of(ann, 2, 2, 2, 5)
    eased = await ann.say("/today")
    assert "Instead of today's run" in eased
    ann.later(days=1)
    await days_of(ann, 8, 8)
    urgent = await ann.say("/today")
    assert "See a doctor today" in urgent
    assert "About " not in urgent  # no exercises, only the advice


async def test_improving_then_the_return_to_run_offer(app: App) -> None:
    ann = await ready(app)
    await days_of(ann, 6, 6, 6, 6, 6, 6, 6)
    ann.later(days=1)
    improving = await days_of(ann, 2, 2, 2)
    assert "You're improving" in improving
    ann.later(days=1)
    offer = await days_of(ann, 1, 1, 1, 1)
    assert "Ready to try running?" in offer
    assert "walk 4 min" in offer.lower() or "4 min" in offer
    ann.later(days=1)
    assert "Ready to try running?" not in await ann.say("1")  # offered once, not every day


async def test_exercise_lookup_is_forgiving_and_suggests_close_names(app: App) -> None:
    ann = Chat(app, "ann")
    for name in ("birddog", "bird-dog", "Bird Dog"):
        assert (await ann.say(f"/exercise {name}")).startswith("Bird dog")
    unknown = await ann.say("/exercise plnk")
    assert unknown.startswith("I don't know that exercise. Closest: ")
    assert len(unknown.split("Closest: ")[1].split(", ")) == 3
    library = await ann.say("/exercises")
    for name in ("Bird dog", "Dead bug", "Side plank", "Glute bridge", "Child's pose"):
        assert name in library


async def test_strength_block_tracks_its_week(app: App) -> None:
    # A week of the block is its workouts marked done (tests/test_plans.py), not 7 days.
    ann = await ready(app)
    assert "week 1 of 6" in await ann.say("/strength")
    await ann.say("Done: workout 1")
    ann.later(days=2)
    await ann.say("/strength")
    assert "week 2 of 6" in await ann.say("Done: workout 2")
    assert "week 2 of 6" in await ann.say("/strength")
    assert "stopped" in await ann.say("/strength stop")


async def test_strength_reads_only_its_own_words_and_says_the_week_once(app: App) -> None:
    ann = await ready(app)
    for typo in ("/strength foo", "/strength week 3", "/strength stpo"):
        reply = await ann.say(typo)
        assert "Use /strength" in reply, typo
        assert len(reply.strip().splitlines()) == 1
    started = await ann.say("/strength")
    assert started.count("week 1 of 6") == 1
    assert "6-week strength block, week 1 of 6" in started
    await ann.say("Done: workout 1")
    ann.later(days=2)
    await ann.say("/strength")
    await ann.say("Done: workout 2")
    assert "Use /strength" in await ann.say("/strength foo")  # nothing restarted
    assert "week 2 of 6" in await ann.say("/strength")


async def test_core_done_is_recorded_once_a_day(app: App) -> None:
    ann = await ready(app)
    await ann.say("/today")
    assert "core done for today" in await ann.say("Done")
    assert "Already noted" in await ann.say("Done")


def test_long_text_is_split_within_each_platform_limit() -> None:
    text = "\n\n".join(f"Paragraph {i}: " + "word " * 150 for i in range(12))
    for limit in (2000, 4096):
        parts = formatting.split_text(text, limit)
        assert all(len(p) <= limit for p in parts)
        assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_each_reason_after_the_first_reads_as_its_own_sentence() -> None:
    reasons = [
        "yesterday 2/10, today 3/10: 2 points above your usual (1/10)",
        "after yesterday's run: 1/10 before, 3/10 the next day",
    ]
    assert advice.why(reasons) == (
        "yesterday 2/10, today 3/10: 2 points above your usual (1/10). "
        "After yesterday's run: 1/10 before, 3/10 the next day."
    )
    assert advice.why(["pain during today's run 7/10 (above 5/10)."]) == (
        "pain during today's run 7/10 (above 5/10)."
    )


async def test_the_baseline_count_after_a_backfilled_day_counts_toward_today(app: App) -> None:
    """Found playing a runner: "2 more daily score(s)" on Tuesday, then yesterday's score put
    right with /log said "3 more": the count was of the days before the backfilled one."""
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("2")
    ann.later(days=1)
    assert "2 more daily score(s)" in await ann.say("2")
    changed = await ann.say("/log 3 yesterday")
    assert "Changed yesterday's score from 2 to 3/10" in changed
    assert "2 more daily score(s)" in changed, changed
