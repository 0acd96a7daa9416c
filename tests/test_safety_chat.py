"""Safety before everything, as people meet it: red flags in the words they type, help before
consent, and the episode after "get help". Each test is one thing a runner saw go wrong."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot import actions
from bot.app import App
from bot.engine import CUT, CUT_UNREAD, TEXT_LIMIT
from bot.events import Incoming
from bot.store.models import CheckIn, Escalation, Person, SymptomReport
from tests.conftest import Chat, row_counts
from tests.test_reminders import Person_

EMERGENCY = "Get help now. Call emergency services"
HEDGES = ("rule of thumb", "general training guidance")


async def ready(app: App, user: str = "ann") -> Chat:
    chat = Chat(app, user)
    await chat.onboard()
    return chat


async def days_of(chat: Chat, *values: int) -> str:
    reply = ""
    for i, value in enumerate(values):
        if i:
            chat.later(days=1)
        reply = await chat.say(str(value))
    return reply


def export_rows(reply: str) -> list[str]:
    path = reply.split("(file saved: ")[1].split(")")[0]
    return Path(path).read_text(encoding="utf-8").splitlines()


async def stored(app: App) -> int:
    counts = await row_counts(app)
    return sum(n for table, n in counts.items() if table != "alembic_version")


# --- help before consent ----------------------------------------------------------------


async def test_a_first_message_with_emergency_signs_gets_help_before_any_consent(app: App) -> None:
    eve = Chat(app, "eve")
    reply = await eve.say("I cant feel my groin and I peed myself")
    assert reply.startswith(EMERGENCY)
    assert "[None of these]" in reply  # the screen, to tap what applies
    assert not any(h in reply.split("Tap any that apply")[0] for h in HEDGES)
    assert await stored(app) == 0  # nothing is stored without consent
    await eve.say("/start")
    assert "I haven't stored anything" in await eve.say("No thanks")
    again = await eve.say("I cant feel my groin and I peed myself")
    assert again.startswith(EMERGENCY)
    assert await stored(app) == 0


async def test_symptoms_and_its_buttons_work_before_consent_and_the_flag_waits_in_the_button(
    app: App,
) -> None:
    eve = Chat(app, "eve")
    screen = await eve.say("/symptoms")
    assert "[Fever with back pain]" in screen
    assert "Nothing is stored unless you agree" in screen
    advice = await eve.say("Fever with back pain")
    assert advice.startswith("See a doctor today.")
    assert "I can't diagnose you" in advice  # the consent question carries the disclaimer
    assert "[I agree]" in advice
    assert await stored(app) == 0
    saved = await eve.say("I agree")
    assert "you're set up" in saved
    async with app.sessions() as s:
        codes = list(await s.scalars(select(SymptomReport.code)))
        person = await s.scalar(select(Person))
    assert codes == ["fever"]  # stored once they agreed
    assert person is not None and person.episode_tier == "urgent"


async def test_every_consent_question_says_what_the_bot_is_not(app: App) -> None:
    disclaimer = "I can't diagnose you or replace a physio or doctor."
    assert disclaimer in await Chat(app, "a").say("4")  # a first score
    assert disclaimer in await Chat(app, "b").say("/history")  # a slash command
    assert disclaimer in await Chat(app, "c").say("/start")
    tap = Incoming("console", "d", "d", action=actions.encode("s", 3))
    replies = await app.engine.handle(tap)
    assert disclaimer in replies[-1].text  # a score button


async def test_a_high_first_score_before_consent_brings_the_screen_first(app: App) -> None:
    eve = Chat(app, "eve")
    reply = await eve.say("9")
    assert reply.index("A quick safety check") < reply.index("I'll record 9/10")
    assert await stored(app) == 0
    # the same for a tap on an old 0-10 keyboard after /delete
    tap = Incoming("console", "dee", "dee", action=actions.encode("s", 9))
    replies = await app.engine.handle(tap)
    assert "A quick safety check" in replies[0].text
    assert "I'll record 9/10" in replies[-1].text


async def test_a_screen_answered_before_consent_is_not_asked_again_after_it(app: App) -> None:
    bob = Chat(app, "bob")
    assert "A quick safety check" in await bob.say("8")
    assert "I haven't stored anything" in await bob.say("None of these")
    agreed = await bob.say("I agree")
    assert "Recorded 8/10 for today" in agreed
    assert "A quick safety check" not in agreed and "[None of these]" not in agreed
    assert "Ease off today" in agreed
    # Had it not been answered, the screen would come again with the score.
    eve = Chat(app, "eve")
    await eve.say("8")
    assert "A quick safety check" in await eve.say("I agree")


# --- every text is read -----------------------------------------------------------------


async def test_a_note_is_read_for_red_flags(app: App) -> None:
    ann = await ready(app)
    await ann.say("3")
    reply = await ann.say("/note can't pee since this morning, groin numb")
    assert reply.startswith(EMERGENCY)
    assert "Note added to today's score" in reply
    assert "[None of these]" in reply


async def test_a_score_with_words_is_recorded_and_its_flags_handled(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("7, and my inner thighs feel numb")
    assert reply.startswith(EMERGENCY)
    assert "Recorded 7/10 for today" in reply
    assert "[Numb saddle area (groin, buttocks)]" in reply
    assert "/10" in (await ann.say("/history"))


async def test_an_emergency_mention_leads_with_the_emergency_line_not_a_checklist(
    app: App,
) -> None:
    ann = await ready(app)
    reply = await ann.say("my groin is numb and I can't pee properly")
    assert reply.startswith(EMERGENCY)
    assert reply.index(EMERGENCY) < reply.index("[Numb saddle area (groin, buttocks)]")


async def test_a_negated_mention_gets_no_emergency_line(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("4, no numbness and no problems peeing")
    assert "Recorded 4/10" in reply
    assert EMERGENCY not in reply


async def test_a_belt_question_gets_the_si_belt_note(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("should I wear an SI belt for running?")
    assert "guidelines do not recommend belts as treatment" in reply


# --- episodes ---------------------------------------------------------------------------


async def test_after_emergency_advice_no_core_or_posture_until_cleared(app: App) -> None:
    ann = Person_(app, "ann", tz="Europe/Berlin")
    await ann.chat.onboard()
    await ann.say("/remind core on")
    await ann.say("/remind posture 10:00,14:00")
    assert (await ann.say("numb saddle")).startswith(EMERGENCY)
    await ann.say("Numb saddle area (groin, buttocks)")
    day_one = await ann.wait(hours=23)  # 08:00 -> 07:00 next morning, Berlin
    texts = [t for _, _, t in day_one]
    assert not any(t.startswith(("Time for your core work", "Posture check")) for t in texts)
    morning = await ann.wait(hours=2)
    assert [t for _, _, t in morning] == [
        "Have you been checked by a doctor or physio? Yesterday I said: get help now. "
        "Tap below, then your pain score, from 0 (none) to 10 (worst)."
    ]
    not_yet = await ann.say("Not yet")
    assert not_yet.startswith(EMERGENCY)
    assert not any(h in not_yet for h in HEDGES)
    assert "[Snooze 1h]" not in not_yet
    assert not any(t.startswith("Time for your core") for _, _, t in await ann.wait(hours=12))
    ann.chat.out.seek(0)
    await ann.wait(hours=11)
    cleared = await ann.say("Yes, cleared to train")
    assert "Core-work and posture reminders are back on" in cleared
    later = [t for _, _, t in await ann.wait(hours=12)]
    assert any(t.startswith("Posture check") for t in later)
    assert any(t.startswith("Time for your core work") for t in later)
    today = await ann.say("/today")
    assert "(easy day)" in today  # a week at the modify level after "cleared"


async def test_told_to_rest_keeps_core_work_off_and_asks_again(app: App) -> None:
    ann = Person_(app, "ann", tz="Europe/Berlin")
    await ann.chat.onboard()
    await days_of(ann.chat, 7, 8)  # 7 or more two days in a row: see a doctor today
    await ann.wait(hours=24)
    rest = await ann.say("Yes, told to rest")
    assert "until you tell me you're cleared" in rest
    week = [t for _, _, t in await ann.wait(days=2)]
    assert not any(t.startswith("Time for your core work") for t in week)
    assert sum(t.startswith("Have you been cleared to train?") for t in week) == 2


async def test_the_ladder_is_not_offered_after_emergency_fever_or_hop_reports(app: App) -> None:
    for code, user in (
        ("Numb saddle area (groin, buttocks)", "a"),
        ("Fever with back pain", "b"),
        ("Pain on hop/impact + tender sacrum", "c"),
    ):
        chat = await ready(app, user)
        await days_of(chat, 1, 1, 1, 1, 1, 1)
        await chat.say("/symptoms")
        await chat.say(code)
        chat.later(days=1)
        reply = await chat.say("1")
        assert "Ready to try running?" not in reply, code
    # near miss: the same week without a report does offer it
    dan = await ready(app, "dan")
    assert "Ready to try running?" in await days_of(dan, 1, 1, 1, 1, 1, 1, 1)


async def test_a_hop_report_says_stop_running_every_time(app: App) -> None:
    ann = await ready(app)
    await ann.say("/symptoms")
    assert "Stop running" in await ann.say("Pain on hop/impact + tender sacrum")
    ann.later(days=1)
    await ann.say("/symptoms")
    assert "Stop running" in await ann.say("Pain on hop/impact + tender sacrum")


async def test_the_morning_follow_up_names_the_advice_given(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await days_of(ann.chat, 2, 2, 2, 5)  # ease off today
    stamps = await ann.wait(hours=25)
    checkins = [t for _, _, t in stamps if t.startswith("Check-in: how")]
    assert checkins
    full = ann.chat.out.getvalue()
    assert "Yesterday I said: ease off today." in full
    assert "/run 3 after yesterday" in full
    logged = await ann.say("/run 3 after yesterday")
    assert "after your run for yesterday" in logged


async def test_see_a_professional_is_followed_up_once_three_days_later(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    assert "Time to see a professional" in await ann.say("Pain stopping daily activities")
    await ann.wait(days=3, hours=2)
    full = ann.chat.out.getvalue()
    assert full.count("Have you booked it?") == 1
    assert "Good. Keep logging" in await ann.say("Booked")


# --- rules in conversation --------------------------------------------------------------


async def test_a_backfill_completes_two_high_days_and_names_the_day(app: App) -> None:
    ann = await ready(app)
    await ann.say("8")
    reply = await ann.say("/log 8 yesterday")
    assert "Recorded 8/10 for yesterday" in reply
    assert "See a doctor today" in reply
    assert "7/10 or more two days in a row" in reply


async def test_scores_from_months_ago_do_not_make_the_baseline(app: App) -> None:
    ann = await ready(app)
    await days_of(ann, 1, 1, 1)
    ann.later(days=298)
    reply = await ann.say("4")
    assert "above your usual" not in reply
    assert "Building your baseline" in reply


async def test_steady_low_pain_is_not_sent_to_a_professional(app: App) -> None:
    ann = await ready(app)
    said = [await ann.say("1")]
    for i in range(1, 30):
        ann.later(days=1)
        said.append(await ann.say(str(1 + i % 2)))
    assert not any("see a professional" in s for s in said)


async def test_a_first_day_ten_gets_ease_off_advice_not_building_your_baseline(app: App) -> None:
    ann = await ready(app)
    reply = await ann.say("10")
    assert "Building your baseline" not in reply
    assert "Ease off today" in reply
    assert "A quick safety check" in reply
    assert "Ease off today. Ease off today" not in reply  # no doubled heading


async def test_none_of_these_after_a_flag_does_not_erase_it(app: App) -> None:
    ann = await ready(app)
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")
    await ann.say("/symptoms")
    reply = await ann.say("None of these")
    assert "fever with back pain today, and that still stands" in reply
    assert "[That was a mistake: clear it]" in reply
    rows = [r for r in export_rows(await ann.say("/export")) if r.startswith("symptom,")]
    assert [r.split(",")[2] for r in rows] == ["fever"]
    cleared = await ann.say("That was a mistake: clear it")
    assert "Cleared: fever with back pain" in cleared
    rows = [r for r in export_rows(await ann.say("/export")) if r.startswith("symptom,")]
    assert [r.split(",")[2] for r in rows] == ["none"]
    async with app.sessions() as s:
        person = await s.scalar(select(Person))
    assert person is not None and person.episode_tier is None  # a mistake opens no episode


async def test_get_help_advice_is_never_hedged(app: App) -> None:
    ann = await ready(app)
    urgent = await days_of(ann, 7, 7)
    head = urgent.split("Recorded 7/10")[0]
    assert "See a doctor today" in head and not any(h in head for h in HEDGES)
    await ann.say("/symptoms")
    emergency = await ann.say("Symptoms in both legs")
    assert emergency.startswith(EMERGENCY)
    assert not any(h in emergency for h in HEDGES)


async def test_two_taps_at_the_same_instant_announce_once(app: App) -> None:
    ann = await ready(app)
    await ann.say("8")
    ann.later(days=1)
    tap = Incoming("console", "ann", "ann", action=actions.encode("s", 9))
    both = await asyncio.gather(app.engine.handle(tap), app.engine.handle(tap))
    said = [r.text for replies in both for r in replies]
    assert sum("See a doctor today" in t for t in said) == 1
    async with app.sessions() as s:
        tiers = list(await s.scalars(select(Escalation.tier).where(Escalation.tier == "urgent")))
    assert tiers == ["urgent"]


async def test_easy_days_show_mobility_work_and_posture_carries_runner_tips(app: App) -> None:
    ann = await ready(app)
    await days_of(ann, 2, 2, 2, 5)
    today = await ann.say("/today")
    assert "For mobility and control:" in today
    assert any(w in today for w in ("Yoga", "Pilates", "Tai chi"))
    from bot.handlers.reminder_kinds.posture import posture as posture_tip
    from content.loader import default_content

    library = default_content()
    posture = [posture_tip(library, n).text for n in range(6)]
    assert sum("Runner's tip:" in p for p in posture) == 2
    assert any("shoes" in p for p in posture)


def test_episode_checkin_has_no_snooze_or_skip() -> None:
    from datetime import date

    from bot.handlers.reminder_kinds.checkin import episode_checkin

    reply = episode_checkin("Get help now", date(2026, 3, 2), date(2026, 3, 3))
    labels = [b.label for row in reply.buttons for b in row]
    assert labels[:3] == ["Yes, cleared to train", "Yes, told to rest", "Not yet"]
    assert "Snooze 1h" not in labels and "Skip today" not in labels


# --- as a scripted console run, and the phrasings people really type ------------------


BERLIN = ("--tz", "Europe/Berlin", "--user", "ann")


def test_a_scripted_console_week_holds_core_and_posture_from_emergency_until_cleared(
    tmp_path: Path,
) -> None:
    import os
    import re
    import subprocess
    import sys

    env = {**os.environ, "SI_CHECKIN_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    script = (
        "/start\nI agree\n/remind core on\n/remind posture on\n3\n"
        "my groin has gone numb and I wet myself\n"
        "Numb saddle area (groin, buttocks)\n/advance 3d\nYes, cleared to train\n/advance 1d\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "adapters", "console", "--clock", "2026-03-02T09:00+01:00", *BERLIN],
        input=script,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    stamp = re.compile(r"^\[(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})\] (.*)$")
    sent = [m.groups() for m in map(stamp.match, done.stdout.splitlines()) if m]
    before = [s for s in sent if s[0] < "2026-03-05"]
    after = [s for s in sent if s[0] >= "2026-03-05"]
    assert before and after
    held = ("Time for your core work", "Posture check", "A gentle nudge")
    assert not any(text.startswith(held) for _, _, text in before)
    asked = [d for d, _, text in before if text.startswith("Have you been checked")]
    assert asked == ["2026-03-03", "2026-03-04"]  # each morning until cleared
    assert any(text.startswith("Time for your core work") for _, _, text in after)
    assert any(text.startswith("Posture check") for _, _, text in after)


PHONE_PHRASINGS = [
    "trouble peeing",
    "leaked pee",
    "groin feels dead",
    "pins & needles in my groin",
    "my legs are giving way",
    "my foot is dragging",
    "came off my bike",
    "night sweats",
    "woke up from the pain",
    "bilateral leg pain",
    "nummness",
    "incontinance",
]


async def test_ordinary_phone_phrasings_bring_the_screen(app: App) -> None:
    ann = await ready(app)
    for text in PHONE_PHRASINGS:
        reply = await ann.say(text)
        assert "A quick safety check" in reply, text
        assert "[None of these]" in reply, text


async def test_an_improving_stretch_is_never_a_reason_to_escalate(app: App) -> None:
    ann = await ready(app)
    await days_of(ann, 6, 6, 6, 6, 3, 3)
    ann.later(days=1)
    await ann.say("3")
    await ann.say("/symptoms")
    reply = await ann.say("Fever with back pain")
    assert reply.startswith("See a doctor today")
    assert "below your usual" not in reply


# --- found by playing runners over weeks --------------------------------------------------


async def test_emergency_words_beside_a_score_are_not_contradicted_by_weaker_advice(
    app: App,
) -> None:
    ann = await ready(app)
    await ann.say("7")
    await ann.say("None of these")
    ann.later(days=1)
    reply = await ann.say("8, my groin is numb")
    assert reply.startswith(EMERGENCY)
    assert "See a doctor today" not in reply and "Ease off today" not in reply
    bob = await ready(app, "bob")
    first = await bob.say("7, and my groin feels numb")
    assert first.startswith(EMERGENCY)
    assert "Ease off today" not in first
    assert not any(h in first for h in HEDGES)
    assert first.count(EMERGENCY) == 1


async def test_a_flag_tapped_before_consent_is_kept_whichever_agree_is_tapped(app: App) -> None:
    eve = Chat(app, "eve")
    await eve.say("/symptoms")
    await eve.say("Numb saddle area (groin, buttocks)")
    eve.later(hours=2)
    await eve.say("6")  # a newer consent question, carrying the score
    await eve.say("I agree")
    async with app.sessions() as s:
        reports = [(r.day.isoformat(), r.code) for r in await s.scalars(select(SymptomReport))]
        person = await s.scalar(select(Person))
    assert reports == [("2026-03-02", "saddle")]
    assert person is not None and person.episode_tier == "emergency"
    # and "No thanks" forgets it
    zed = Chat(app, "zed")
    await zed.say("/symptoms")
    await zed.say("Fever with back pain")
    await zed.say("No thanks")
    await zed.say("/start")
    await zed.say("I agree")
    async with app.sessions() as s:
        assert len(list(await s.scalars(select(SymptomReport)))) == 1


async def test_a_score_held_for_consent_is_kept_when_the_flags_agree_is_tapped(app: App) -> None:
    """Found playing someone new: 9, then a flag from the screen, then "I agree" on the newest
    question (the flag's). "I'll record 9/10 as soon as you say yes" must hold."""
    zed = Chat(app, "zed")
    assert "I'll record 9/10 as soon as you say yes" in await zed.say("9!!")
    await zed.say("Fever with back pain")
    agreed = await zed.say("I agree")  # the newest keyboard: the flag's question
    assert "Recorded 9/10 for today" in agreed
    async with app.sessions() as s:
        scores = [(c.day.isoformat(), c.score) for c in await s.scalars(select(CheckIn))]
        reports = [r.code for r in await s.scalars(select(SymptomReport))]
    assert scores == [("2026-03-02", 9)]
    assert reports == ["fever"]


async def test_none_of_these_does_not_undo_an_emergency_the_person_wrote(app: App) -> None:
    ann = await ready(app)
    await ann.say("4")
    assert (await ann.say("my groin is numb")).startswith(EMERGENCY)
    reply = await ann.say("None of these")
    assert "that still stands" in reply and "[That was a mistake: clear it]" in reply
    cleared = await ann.say("That was a mistake: clear it")
    assert "Cleared: what you wrote today" in cleared
    async with app.sessions() as s:
        person = await s.scalar(select(Person))
    assert person is not None and person.episode_tier is None


async def test_during_an_episode_a_run_is_met_with_the_advice_and_rest_means_rest(
    app: App,
) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("4")
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")
    run = await ann.say("/run 6 after")
    assert "Please don't run until you have been checked" in run
    await ann.wait(hours=25)
    assert "Yes, told to rest" in ann.chat.out.getvalue()
    await ann.say("Yes, told to rest")
    today = await ann.say("/today")
    assert today.startswith("Rest as your doctor or physio told you")
    assert "Get help now" not in today and "See a doctor today" not in today
    said = [await ann.say(str(s)) for s in (3, 2)]
    assert not any("You're improving" in s for s in said)
    await ann.wait(hours=24)
    assert "Have you been cleared to train?" in ann.chat.out.getvalue()


async def test_the_check_in_names_the_day_of_the_advice_it_names(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("4")
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")  # Monday: see a doctor today
    await ann.wait(hours=26)  # past Tuesday's check-in
    await ann.say("/symptoms")
    await ann.say("Numb saddle area (groin, buttocks)")  # Tuesday: get help now
    await ann.wait(hours=24)
    assert "Yesterday I said: get help now." in ann.chat.out.getvalue()


async def test_no_check_in_question_once_todays_score_is_in(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind posture off")
    await ann.say("3")  # 07:00, before the 08:00 check-in
    stamps = await ann.wait(hours=2)
    assert not any(text.startswith("Check-in: how") for _, _, text in stamps)
    stamps = await ann.wait(hours=24)
    assert any(text.startswith("Check-in: how") for _, _, text in stamps)


async def test_history_works_after_the_return_to_run_offer(app: App) -> None:
    ann = await ready(app)
    assert "Ready to try running?" in await days_of(ann, 1, 1, 1, 1, 1, 1, 1)
    reply = await ann.say("/history")
    assert "Your last 14 days" in reply and "(image saved:" in reply


async def test_a_first_message_we_cannot_use_is_a_greeting_with_the_disclaimer(app: App) -> None:
    reply = await Chat(app, "new").say("hey")
    assert "I can't diagnose you" in reply and "[I agree]" in reply
    assert await stored(app) == 0


async def test_a_professional_follow_up_does_not_invite_a_run(app: App) -> None:
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    await ann.say("Pain on hop/impact + tender sacrum")
    await ann.wait(hours=25)
    out = ann.chat.out.getvalue()
    assert "Yesterday I said: stop running and see a sports doctor." in out
    assert "/run 3 after yesterday" not in out


async def test_after_booked_the_bot_does_not_say_book_a_physio_again(app: App) -> None:
    ann = await ready(app)
    said = await days_of(ann, *[4] * 29)
    assert "Time to see a professional" in said  # four weeks with no improvement
    # [Booked] on the check-in three days later (the reminder itself is tested elsewhere)
    booked = Incoming("console", "ann", "ann", action=actions.encode("b", "y"))
    assert "Good. Keep logging" in (await app.engine.handle(booked))[0].text
    later = []
    for _ in range(10):
        ann.later(days=1)
        later.append(await ann.say("4"))
    assert not any("Time to see a professional" in s for s in later)


async def test_a_score_said_about_yesterday_lands_on_yesterday(app: App) -> None:
    ann = await ready(app)
    ann.later(days=1)
    assert "Recorded 5/10 for yesterday" in await ann.say("yesterday was 5")
    assert "Recorded 3/10 for today" in await ann.say("3 today")


async def test_a_warning_sign_reported_again_after_clearance_reopens_the_follow_up(
    app: App,
) -> None:
    """Cleared on Tuesday, fever again on Wednesday: the advice is said, stored, and followed up."""
    ann = Person_(app, "ann", tz="Europe/Berlin")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    assert (await ann.say("Fever with back pain")).startswith("See a doctor today")
    await ann.wait(hours=25)
    assert "been checked" in await ann.say("Yes, cleared to train")
    await ann.wait(hours=24)
    await ann.say("/symptoms")
    again = await ann.say("Fever with back pain")
    assert "See a doctor today" in again
    async with app.sessions() as s:
        person = (await s.execute(select(Person))).scalar_one()
        advised = (await s.execute(select(Escalation.day, Escalation.tier))).all()
    assert person.episode_tier == "urgent"
    assert len([a for a in advised if a.tier == "urgent"]) == 2  # the second report is on record
    morning = [t for _, _, t in await ann.wait(hours=24)]
    assert any(t.startswith("Have you been checked by a doctor or physio?") for t in morning)


async def test_cleared_names_only_the_reminders_the_person_chose(app: App) -> None:
    """Someone who never chose core work or posture tips is not told they are "back on"."""
    ann = Person_(app, "ann", tz="Europe/Berlin")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")
    await ann.wait(hours=25)
    cleared = await ann.say("Yes, cleared to train")
    assert "Good to hear you've been checked." in cleared
    assert "posture" not in cleared.lower() and "core-work" not in cleared.lower()

    bob = Person_(app, "bob", tz="Europe/Berlin")
    await bob.chat.onboard()
    await bob.say("/remind core on")
    await bob.say("/symptoms")
    await bob.say("Fever with back pain")
    await bob.wait(hours=25)
    assert "Core-work reminders are back on." in await bob.say("Yes, cleared to train")


async def test_checkin_above_the_scale_is_a_ten_with_the_safety_check(app: App) -> None:
    ann = await ready(app)
    said = await ann.say("/checkin 11")
    assert "The scale stops at 10, so I've taken that as 10/10." in said
    assert "10/10" in said.split("\n", 1)[1] and "A quick safety check" in said


async def test_above_the_scale_with_words_or_backfilled_is_still_the_ten(app: App) -> None:
    ann = await ready(app)
    said = await ann.say("11 and feverish")
    assert "The scale stops at 10, so I've taken that as 10/10." in said
    assert "Recorded 10/10 for today" in said and "A quick safety check" in said
    logged = await ann.say("/log 11 yesterday")
    assert "The scale stops at 10, so I've taken that as 10/10." in logged
    assert "Recorded 10/10 for yesterday" in logged
    history = await ann.say("/history")
    assert history.count("10/10") >= 2, history


async def test_a_red_flag_at_the_end_of_a_long_message_is_read(app: App) -> None:
    """A message as long as Telegram allows is read whole: the signs in its last line get
    the emergency line, however much comes before them."""
    ann = await ready(app)
    story = "Long day, drove for hours, then a short run. " * 88
    message = f"{story}Now I can't feel my groin and I peed myself"
    assert 4000 < len(message) <= TEXT_LIMIT
    reply = await ann.say(message)
    assert reply.startswith("Get help now"), reply
    assert CUT not in reply


async def test_a_message_longer_than_any_platform_sends_says_it_was_cut(app: App) -> None:
    """Only the console can send more than any platform: the person hears what was read."""
    ann = await ready(app)
    assert await ann.say("and more " * 600) == f"{CUT_UNREAD}\n"
    await ann.say("4")
    noted = await ann.say("/note " + "stiff and sore after the drive " * 140)
    assert "Note added to today's score" in noted and noted.endswith(f"{CUT}\n"), noted


async def test_none_of_these_after_advice_from_scores_alone_does_not_speak_of_warning_signs(
    app: App,
) -> None:
    """Found playing a runner: two days at 8 brought "see a doctor today"; "None of these" on
    the screen then said they had written about warning signs, and offered to clear advice
    that their scores, not anything written, had led to."""
    ann = await ready(app)
    await ann.say("8")
    await ann.say("None of these")
    ann.later(days=1)
    assert "See a doctor today" in await ann.say("8")
    reply = await ann.say("None of these")
    assert "wrote" not in reply and "clear it" not in reply
    assert "none of the warning signs: noted" in reply
    assert "See a doctor today" in reply  # what the scores led to still stands, said so
    async with app.sessions() as s:
        person = await s.scalar(select(Person))
        reports = [(r.day.isoformat(), r.code) for r in await s.scalars(select(SymptomReport))]
    assert person is not None and person.episode_tier == "urgent"
    assert reports == [("2026-03-02", "none"), ("2026-03-03", "none")]


async def test_clearing_today_keeps_advice_that_came_from_scores(app: App) -> None:
    """An old "That was a mistake: clear it" tapped on a day whose advice came from two high
    scores: nothing written is there to clear, and the advice is not said to be cleared."""
    ann = await ready(app)
    await ann.say("8")
    await ann.say("None of these")
    ann.later(days=1)
    await ann.say("8")
    clear = Incoming("console", "ann", "ann", action=actions.encode("u", "today"))
    [reply] = await app.engine.handle(clear)
    assert reply.text.startswith("Nothing to clear")
    assert "See a doctor today" in reply.text
    async with app.sessions() as s:
        person = await s.scalar(select(Person))
    assert person is not None and person.episode_tier == "urgent"


async def test_delete_before_consent_forgets_what_was_held_for_a_yes(app: App) -> None:
    """Found playing someone hostile: a score and a flag sent before agreeing, then /delete
    ("I don't store anything about you"), then "I agree" to a fresh question: the held score
    and flag came back as stored data and opened an emergency episode."""
    zed = Chat(app, "zed")
    await zed.say("/start")
    await zed.say("No thanks")
    await zed.say("8")
    await zed.say("Numb saddle area (groin, buttocks)")
    deleted = await zed.say("/delete")
    assert "forgotten" in deleted
    await zed.say("hello?")
    agreed = await zed.say("I agree")
    assert "you're set up" in agreed and "Recorded" not in agreed and "Get help" not in agreed
    async with app.sessions() as s:
        assert list(await s.scalars(select(CheckIn))) == []
        assert list(await s.scalars(select(SymptomReport))) == []
        person = await s.scalar(select(Person))
    assert person is not None and person.episode_tier is None


async def test_the_morning_after_a_hop_report_names_stop_running(app: App) -> None:
    """Found playing a runner: the day after "pain on hop + tender sacrum" (stop running, see
    a sports doctor within days) the check-in said only "Yesterday I said: time to see a
    professional", leaving out the part that matters most."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind checkin 07:30")
    await ann.say("3")
    await ann.say("/symptoms")
    assert "Stop running" in await ann.say("Pain on hop/impact + tender sacrum")
    await ann.wait(hours=25)
    morning = ann.chat.out.getvalue()
    assert "Yesterday I said: stop running and see a sports doctor." in morning


async def test_an_episode_check_in_names_the_day_of_the_latest_get_help_advice(app: App) -> None:
    """Found playing a runner: get-help advice on Monday, and again on Tuesday at 07:00 for a
    fall; the 07:30 check-in asked "Have you been checked? Yesterday I said: get help now",
    as if nothing had been said half an hour before."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/remind checkin 07:30")
    assert (await ann.say("my groin is numb")).startswith(EMERGENCY)
    await ann.wait(hours=24)
    assert (await ann.say("came off my bike, 4")).startswith(EMERGENCY)
    await ann.wait(hours=1)
    morning = ann.chat.out.getvalue()
    assert "Today I said: get help now" in morning, morning


async def test_checked_after_told_to_rest_asks_whether_they_were_cleared(app: App) -> None:
    """Found playing a runner: after "Yes, told to rest", /checked asked "Have you been
    checked?" again with all three answers, unlike the morning check-in."""
    ann = Person_(app, "ann")
    await ann.chat.onboard()
    await ann.say("/symptoms")
    await ann.say("Fever with back pain")
    await ann.wait(hours=25)
    await ann.say("Yes, told to rest")
    checked = await ann.say("/checked")
    assert checked.startswith("Have you been cleared to train?"), checked
    assert "[Yes, cleared to train] [Not yet]" in checked
    assert "told to rest]" not in checked


async def test_a_typed_stop_is_pointed_to_stop_and_pause(app: App) -> None:
    """Found playing someone fed up: "STOP" and "stop sending me messages" got "I didn't catch
    that. Send your pain score", the one answer that ignores what they asked."""
    ann = await ready(app)
    for said in ("STOP", "stop sending me messages", "Unsubscribe", "please stop!"):
        reply = await ann.say(said)
        assert "/stop" in reply and "/pause" in reply and "didn't catch" not in reply, said
    assert "/stop" not in await ann.say("bus stop")  # a stop that asks nothing of us
