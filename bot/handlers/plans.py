"""Plans that track themselves: the return-to-run ladder and the 6-week strength block.

The ladder (/ladder) follows each run logged while on it with that stage's questions, and the
next morning, with the check-in, asks whether the pain settled; it moves up after good runs,
back on the warning signs, and pauses while an episode is open or after a hop/sacrum report.
The strength block (/strength) moves on by workouts marked done, and adds load only when the
pain rules allow. The rules themselves are in bot/plans.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot import actions, formatting, plans, trends
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, Reply, Role
from bot.handlers import advice
from bot.handlers.prompts import consent_prompt
from bot.handlers.scores import BACKFILL_DAYS
from bot.parsing import Command
from bot.plans import Ladder, Outcome, RunAnswers
from bot.store import repo
from bot.store.models import LadderRun, Person
from bot.trends import Tier

KIND = "pl"
START_LABEL = "Start the ladder"
STOP_LABEL = "Stop the ladder"
NO_WORSE_LABEL = "No worse"
WORSE_LABEL = "Worse"
PAIN_LABELS = {"l": plans.LOW, "m": plans.MID, "h": plans.HIGH}
TROUBLE_BUTTONS = (
    ("s", "sharp", "Sharp pain"),
    ("b", "built", "Pain that built up as I ran"),
    ("g", "gait", "A limp or a change in how I ran"),
    ("n", plans.NO_TROUBLE, "None of these"),
)
TROUBLE_WORDS = {
    "sharp": "sharp pain",
    "built": "pain that built up during the run",
    "gait": "a change in how you ran",
}
STRENGTH_DONE = plans.STRENGTH_DONE
# Advice given, as a plan says why it waits ("I told you to ease off on Thu 5 Mar").
ADVICE_WORDS = {
    Tier.MODIFY: "ease off",
    Tier.PROFESSIONAL: "see a physio or sports doctor",
    Tier.URGENT: "see a doctor",
    Tier.EMERGENCY: "get help now",
}
RUN_USAGE = "After each run, log it with /run SCORE during, for example /run 2 during."


# ---- the return-to-run ladder -------------------------------------------------------------


def _stage_line(ctx: Ctx, stage: int) -> str:
    ladder = ctx.content.return_to_run
    return f"stage {stage} of {len(ladder.stages)}: {ladder.stages[stage - 1].describe()}"


async def _blocked(ctx: Ctx) -> tuple[str, str] | None:
    """Why the ladder may not run today, as (key, reason), or None.

    CLINICAL.md "Episodes": never while an episode is open, nor within 14 days of a
    hop/sacrum report.
    """
    person = ctx.person
    assert person is not None
    if person.episode_tier is not None:
        said = ADVICE_WORDS[Tier[person.episode_tier.upper()]]
        return (
            "episode",
            f"I told you to {said}. It goes on once you tell me you've been checked and "
            "cleared to train (/checked).",
        )
    today = ctx.today
    since = today - timedelta(days=trends.HOP_GATE_DAYS - 1)
    hops = await repo.symptom_days(ctx.session, person.id, "hop_tender", since)
    ends = plans.hop_pause_ends(hops, trends.HOP_GATE_DAYS)
    if ends is not None and ends > today:
        return (
            "hop",
            f"you reported pain on hopping with a tender sacrum "
            f"{_on(max(hops), today)}. Stop running until a doctor has checked it; the "
            f"ladder waits at least until {formatting.day(ends)}.",
        )
    return None


def _on(day: date, today: date) -> str:
    label = formatting.day(day, today)
    return label if day >= today - timedelta(days=1) else f"on {label}"


def _start_button() -> tuple[tuple[Button, ...], ...]:
    return ((Button(START_LABEL, actions.encode(KIND, "st"), Role.CONFIRM),),)


def _stop_button() -> tuple[tuple[Button, ...], ...]:
    return ((Button(STOP_LABEL, actions.encode(KIND, "sp"), Role.CANCEL),),)


async def cmd_ladder(ctx: Ctx, command: Command) -> list[Reply]:
    """/ladder shows the return-to-run ladder; /ladder start and /ladder stop."""
    arg = command.raw_args.strip().lower()
    if arg in ("stop", "off"):
        return await _stop(ctx)
    if arg == "start":
        return await _start(ctx)
    if arg:
        return [
            Reply("Use /ladder to see the return-to-run ladder, /ladder start or /ladder stop.")
        ]
    return await _show(ctx)


async def _show(ctx: Ctx) -> list[Reply]:
    person = ctx.person
    assert person is not None
    ladder = ctx.content.return_to_run
    if person.ladder_stage is None:
        parts = []
        if person.ladder_finished is not None:
            parts.append(
                f"You finished the return-to-run ladder {_on(person.ladder_finished, ctx.today)}."
            )
        first, last = ladder.stages[0], ladder.stages[-1]
        parts.append(
            f"The return-to-run ladder: {len(ladder.stages)} stages, from "
            f"{first.describe()} to {last.describe()}, {ladder.frequency}. {ladder.entry}"
        )
        blocked = await _blocked(ctx)
        if blocked is not None:
            parts.append(f"Not now: {blocked[1]}")
            return [Reply("\n\n".join(parts), private=True)]
        return [Reply("\n\n".join(parts), buttons=_start_button(), private=True)]
    stage = person.ladder_stage
    lines = [
        f"Return-to-run ladder, {_stage_line(ctx, stage)}.",
        f"Good runs at this stage: {person.ladder_good_runs} of {ladder.good_runs_to_advance}.",
    ]
    paused = await _note_pause(ctx)
    if paused is not None:
        lines.append(f"Paused: {paused}")
        await ctx.commit()
        return [Reply("\n".join(lines), buttons=_stop_button(), private=True)]
    runs = await _runs(ctx, person)
    ladder_days = [r.day for r in runs if r.outcome not in plans.NOT_LADDER_RUNS]
    nxt = plans.next_run_day(max(ladder_days, default=None), ladder.days_between_runs)
    when = "today" if nxt is None or nxt <= ctx.today else formatting.day(nxt, ctx.today)
    tier = await advice.current_tier(ctx) if when == "today" else Tier.NONE
    if tier >= Tier.MODIFY:
        # The ladder never disagrees with the advice beside it: no "run today" on this day.
        lines.append(
            f"Your next ladder run: not today. My advice today is to {ADVICE_WORDS[tier]}; "
            "run again once your pain has settled."
        )
    else:
        lines.append(
            f"Your next ladder run: {when} or later ({ladder.frequency}, at most "
            f"{ladder.max_runs_a_week} a week)."
        )
    lines.append(RUN_USAGE)
    await ctx.commit()
    out = [Reply("\n".join(lines), buttons=_stop_button(), private=True)]
    # A question still open is asked again here; the next-morning one only once it is morning.
    waiting = [
        r
        for r in runs
        if r.outcome is None
        and (plans.next_question(_answers(r)) != "morning" or r.day < ctx.today)
    ]
    if waiting:
        out += await _progress(ctx, waiting[-1], "")
    return out


async def _note_pause(ctx: Ctx) -> str | None:
    """Why the ladder is paused (remembered, so that going on again is said once)."""
    person = ctx.person
    assert person is not None
    blocked = await _blocked(ctx)
    person.ladder_paused = blocked[0] if blocked else None
    return blocked[1] if blocked else None


async def _runs(ctx: Ctx, person: Person) -> list[LadderRun]:
    """This ladder's runs of the last two weeks (enough for its rhythm and open questions)."""
    since = ctx.today - timedelta(days=14)
    if person.ladder_started is not None:
        since = max(since, person.ladder_started)
    return await repo.ladder_runs_since(ctx.session, person.id, since)


async def _start(ctx: Ctx) -> list[Reply]:
    person = ctx.person
    assert person is not None
    if person.ladder_stage is not None:
        return [
            Reply(
                f"You're already on the ladder, {_stage_line(ctx, person.ladder_stage)}. "
                "Send /ladder to see where you are.",
                private=True,
            )
        ]
    blocked = await _blocked(ctx)
    if blocked is not None:
        return [Reply(f"Not now: {blocked[1]}", private=True)]
    tier = await advice.current_tier(ctx)
    if tier >= Tier.MODIFY:
        said = ADVICE_WORDS[tier]
        return [
            Reply(
                f"Not today: with your recent scores my advice is to {said}. Start the ladder "
                "once your pain has settled.",
                private=True,
            )
        ]
    person.ladder_stage = 1
    person.ladder_good_runs = 0
    person.ladder_started = ctx.today
    person.ladder_finished = None
    person.ladder_paused = None
    await ctx.commit()
    ladder = ctx.content.return_to_run
    text = (
        f"Return-to-run ladder started, {_stage_line(ctx, 1)}.\n"
        f"Run {ladder.frequency}, at most {ladder.max_runs_a_week} runs a week. {RUN_USAGE} "
        f"I'll ask a few questions. {ladder.good_runs_to_advance} good runs move you up a stage "
        "(our choice within the usual 2-3 repeats); sharp pain, pain that builds, a change in "
        "how you run or a worse next morning move you back one."
    )
    return [Reply(text, buttons=_stop_button(), private=True)]


async def _stop(ctx: Ctx) -> list[Reply]:
    person = ctx.person
    assert person is not None
    if person.ladder_stage is None:
        return [Reply("You're not on the return-to-run ladder. Send /ladder to see it.")]
    person.ladder_stage = None
    person.ladder_good_runs = 0
    person.ladder_paused = None
    await ctx.commit()
    return [Reply("Return-to-run ladder stopped. Send /ladder to start again from stage 1.")]


async def after_run(ctx: Ctx, day: date, kind: str, value: int) -> list[Reply]:
    """A run logged while on the ladder: that stage's questions, or why it doesn't count."""
    person = ctx.person
    if person is None or person.ladder_stage is None:
        return []
    if person.ladder_started is not None and day < person.ladder_started:
        return []
    during = kind == repo.RUN_KINDS["during"]
    was_paused = person.ladder_paused
    blocked = await _note_pause(ctx)
    await ctx.commit()
    if blocked is not None:
        # No questions, no buttons: the advice that paused it is what matters now.
        return [
            Reply(
                f"Your return-to-run ladder is paused, so this run doesn't count on it: {blocked}",
                private=True,
            )
        ]
    intro = ""
    if was_paused:
        intro = f"Your ladder goes on again, {_stage_line(ctx, person.ladder_stage)}. "
    runs = await _runs(ctx, person)
    run = next((r for r in runs if r.day == day), None)
    if run is not None:
        if during and run.pain is not None and run.pain != plans.band(value):
            # The score during the run put right (a 6 meant as a 3): read the run again.
            intro = _reopen(ctx, run, runs) + intro
            run.pain = None
        if run.outcome is not None:
            return []  # that day's run is settled already; a second score changes nothing
        if during and run.pain is None:
            run.pain = plans.band(value)
        await ctx.commit()
        return await _progress(ctx, run, intro)
    ladder = ctx.content.return_to_run
    others = [r.day for r in runs if r.outcome not in plans.NOT_LADDER_RUNS]
    refusal = plans.run_day_refusal(day, others, ladder.days_between_runs, ladder.max_runs_a_week)
    if refusal is not None:
        await repo.add_ladder_run(
            ctx.session, person.id, day, person.ladder_stage, ctx.now, outcome=refusal.value
        )
        await ctx.commit()
        nearest = min(others, key=lambda d: abs((day - d).days), default=day)
        why = (
            f"the ladder runs {ladder.frequency}, and you had a ladder run "
            f"{_on(nearest, ctx.today)}"
            if refusal is Outcome.TOO_SOON
            else f"that makes more than {ladder.max_runs_a_week} runs in a week"
        )
        return [
            Reply(
                f"{intro}This run doesn't count on the ladder: {why}. Rest days are part of it.",
                private=True,
            )
        ]
    dropped = [r for r in runs if r.outcome is None and r.day < day]
    for old in dropped:
        old.outcome = Outcome.UNANSWERED.value
    if dropped:
        intro += "Your last ladder run's questions went unanswered, so it doesn't count. "
    run = await repo.add_ladder_run(
        ctx.session,
        person.id,
        day,
        person.ladder_stage,
        ctx.now,
        pain=plans.band(value) if during else None,
    )
    await ctx.commit()
    label = "Ladder run" if day == ctx.today else f"Ladder run {formatting.day(day, ctx.today)}"
    return await _progress(ctx, run, f"{intro}{label}, {_stage_line(ctx, run.stage)}.")


# What a settled run did to the ladder, and so what /undo of its score takes back.
MOVES_LADDER = frozenset({Outcome.GOOD, Outcome.REPEAT, Outcome.BACK})


async def after_undo(ctx: Ctx, day: date, kind: str, *, run_goes: bool) -> str:
    """A run score taken back with /undo: what it did to the ladder goes with it. The day's
    ladder run goes with the run's last score; a score during the run that others stay
    beside reopens the run, to be asked about again. A settled run's move (a good run
    counted, a stage up or back, the ladder finished) is undone while it is the latest, and
    the ladder has not been stopped since. Returns what to add to /undo's answer."""
    person = ctx.person
    assert person is not None
    runs = await repo.ladder_runs_since(ctx.session, person.id, day)
    run = next((r for r in runs if r.day == day), None)
    if run is None or not (run_goes or kind == repo.RUN_KINDS["during"]):
        return ""  # an after score alone settles nothing: the run and its answers stay
    said = _reopen(ctx, run, runs)
    if run_goes:
        await ctx.session.delete(run)
    else:
        run.pain = None
    await ctx.commit()
    return f" {said}".rstrip()


def _reopen(ctx: Ctx, run: LadderRun, runs: list[LadderRun]) -> str:
    """Open a settled run again, taking back what it did to the ladder while it is the
    latest and the ladder has not been stopped since; what to tell the person, or ""."""
    person = ctx.person
    assert person is not None
    said = ""
    latest = not any(r.day > run.day and r.outcome in MOVES_LADDER for r in runs)
    on_ladder = person.ladder_stage is not None or person.ladder_finished is not None
    if run.outcome in MOVES_LADDER and latest and on_ladder:
        person.ladder_stage = run.stage
        person.ladder_good_runs = run.good_runs_before or 0
        person.ladder_finished = None
        said = f"Your return-to-run ladder is back where it was: {_stage_line(ctx, run.stage)}. "
    run.outcome = run.good_runs_before = None
    return said


def _answers(run: LadderRun) -> RunAnswers:
    return RunAnswers(run.pain, run.trouble, run.morning)


async def _progress(ctx: Ctx, run: LadderRun, intro: str) -> list[Reply]:
    """Settle the run if its answers decide it, else ask its next question."""
    answers = replace(_answers(run), after=await _after_score(ctx, run))
    outcome = plans.verdict(answers)
    if outcome is not None:
        return [await _settle(ctx, run, outcome, intro, answers.after)]
    question = plans.next_question(answers)
    ordinal = run.day.toordinal()
    lead = [intro.strip()] if intro.strip() else []
    if question == "pain":
        pain_row = tuple(
            Button(band, actions.encode(KIND, "p", ordinal, code))
            for code, band in PAIN_LABELS.items()
        )
        text = " ".join([*lead, "How much did it hurt during the run, out of 10?"])
        return [Reply(text, buttons=(pain_row,), private=True)]
    if question == "trouble":
        if run.pain == plans.MID:
            lead.append(
                "Pain of 4-5 during the run is acceptable, but this stage is repeated: "
                "this run doesn't count towards the next one."
            )
        rows = tuple(
            (Button(label, actions.encode(KIND, "t", ordinal, code)),)
            for code, _, label in TROUBLE_BUTTONS
        )
        text = " ".join([*lead, "During the run, did you have any of these?"])
        return [Reply(text, buttons=rows, private=True)]
    if run.day < ctx.today:
        run.asked_on = ctx.today
        said = await _morning_from_scores(ctx, run)
        await ctx.commit()
        if said is not None:  # told a day or more late: its next morning is known already
            return await _progress(ctx, run, " ".join([*lead, said]))
        return [morning_question(run, ctx.today, " ".join(lead))]
    lead.append(
        "Thanks. Tomorrow, with your check-in, I'll check whether your pain is back to where it "
        "was before the run."
    )
    return [Reply(" ".join(lead), private=True)]


def morning_question(run: LadderRun, today: date, intro: str = "") -> Reply:
    """The next-morning question about a ladder run: no worse than before it?"""
    ordinal = run.day.toordinal()
    text = (
        f"Your ladder run {_on(run.day, today)}: this morning, is your pain no worse than "
        "it was before that run?"
    )
    row = (
        Button(NO_WORSE_LABEL, actions.encode(KIND, "m", ordinal, "y")),
        Button(WORSE_LABEL, actions.encode(KIND, "m", ordinal, "w")),
    )
    return Reply(f"{intro} {text}".strip(), buttons=(row,), private=True)


async def _after_score(ctx: Ctx, run: LadderRun) -> int | None:
    """The score given for pain after the run, if there is one."""
    assert ctx.person is not None
    scores = await repo.run_scores(ctx.session, ctx.person.id, run.day)
    return next((sc for d, sc, phase in scores if d == run.day and phase == "after"), None)


def _back_reason(run: LadderRun, after: int | None = None) -> str:
    if run.pain == plans.HIGH:
        return "pain above 5/10 during the run"
    if after is not None and after > trends.RUN_PAIN_LIMIT:
        return f"pain {formatting.score(after)} after the run, above {trends.RUN_PAIN_LIMIT}/10"
    if run.trouble in TROUBLE_WORDS:
        return TROUBLE_WORDS[run.trouble]
    return "pain worse the next morning"


async def _settle(
    ctx: Ctx, run: LadderRun, outcome: Outcome, intro: str, after: int | None = None
) -> Reply:
    """Record what the run did to the ladder and say so (`after`: its after-run score)."""
    person = ctx.person
    assert person is not None and person.ladder_stage is not None
    ladder = ctx.content.return_to_run
    run.outcome = outcome.value
    run.good_runs_before = person.ladder_good_runs
    before = Ladder(person.ladder_stage, person.ladder_good_runs)
    step = plans.apply(before, outcome, len(ladder.stages), ladder.good_runs_to_advance)
    person.ladder_stage = step.ladder.stage
    person.ladder_good_runs = step.ladder.good_runs
    lead = [intro.strip()] if intro.strip() else []
    if step.moved == "finished":
        person.ladder_stage = None
        person.ladder_good_runs = 0
        person.ladder_finished = ctx.today
        lead.append(
            f"Good run. You've finished the return-to-run ladder: {ladder.stages[-1].describe()}. "
            "Build up gently from here, no more than one change at a time, and keep up your "
            "core and glute work."
        )
    elif outcome is Outcome.BACK:
        where = (
            f"Back to {_stage_line(ctx, step.ladder.stage)}"
            if before.stage > 1
            else f"Back to the start of {_stage_line(ctx, 1)}"
        )
        lead.append(
            f"{where}. Why: {_back_reason(run, after)}. Rest for a day or two, and stop a run "
            "if it starts to hurt sharply."
        )
    elif outcome is Outcome.REPEAT:
        thanks = "" if lead else "Thanks. "  # after "...so it settled." it would read oddly
        lead.append(
            f"{thanks}Pain of 4-5 during the run: repeat {_stage_line(ctx, before.stage)}; "
            "this run doesn't count towards the next stage."
        )
    elif step.moved == "up":
        lead.append(
            f"Good run: that's {ladder.good_runs_to_advance} at stage {before.stage}. Up to "
            f"{_stage_line(ctx, step.ladder.stage)}."
        )
    else:
        lead.append(
            f"Good run: {step.ladder.good_runs} of {ladder.good_runs_to_advance} at stage "
            f"{before.stage}. Next ladder run: "
            f"{formatting.day(run.day + timedelta(days=ladder.days_between_runs), ctx.today)}"
            " or later."
        )
    await ctx.commit()
    return Reply(" ".join(lead), private=True)


async def _answer(ctx: Ctx, action: Action) -> list[Reply]:
    """A tap on one of a ladder run's questions."""
    person = ctx.person
    assert person is not None
    what, ordinal, code = action.args
    day = date.fromordinal(int(ordinal))
    if person.ladder_stage is None:
        return [Reply("You're not on the return-to-run ladder now, so I haven't noted that.")]
    blocked = await _note_pause(ctx)
    await ctx.commit()
    if blocked is not None:
        return [Reply(f"Your return-to-run ladder is paused: {blocked}", private=True)]
    runs = await _runs(ctx, person)
    run = next((r for r in runs if r.day == day), None)
    if run is None or run.outcome is not None:
        return [
            Reply("Already noted: that ladder run is settled. Send /ladder to see where you are.")
        ]
    if what == "p" and run.pain is None:
        run.pain = PAIN_LABELS[code]
    elif what == "t" and run.pain is not None and run.trouble is None:
        run.trouble = next(word for c, word, _ in TROUBLE_BUTTONS if c == code)
    elif what == "m" and run.trouble is not None and run.morning is None and day < ctx.today:
        run.morning = plans.SAME if code == "y" else plans.WORSE
    else:
        return [Reply("Already noted. Send /ladder to see where you are.", private=True)]
    await ctx.commit()
    return await _progress(ctx, run, "")


async def ask_morning(ctx: Ctx) -> list[Reply]:
    """With the check-in the morning after a ladder run: is the pain no worse than before it?

    Asked once a day, after today's score is in, never while the ladder is paused (an open
    episode: get-help advice stands alone).
    """
    person = ctx.person
    if person is None or person.ladder_stage is None or person.episode_tier is not None:
        return []
    tapped = actions.decode(ctx.inc.action)
    if tapped is not None and tapped.kind == KIND:
        return []  # a tap on the ladder's own buttons is answered by what it asks next
    today = ctx.today
    daily = await repo.daily_scores(ctx.session, person.id, today - timedelta(days=BACKFILL_DAYS))
    runs = await _runs(ctx, person)
    read_again = await _read_morning_again(ctx, runs, daily)
    if read_again is not None:
        return read_again
    if today not in daily:
        return []
    waiting = [
        r
        for r in runs
        if r.day < today
        and r.outcome is None
        and plans.next_question(_answers(r)) == "morning"
        and r.asked_on != today
    ]
    if not waiting or await _blocked(ctx) is not None:
        return []
    run = waiting[-1]
    run.asked_on = today
    said = _morning_answer(run, daily, today)
    if said is None:
        return [morning_question(run, today)]
    await ctx.commit()
    return await _progress(ctx, run, said)


def _morning_answer(run: LadderRun, daily: dict[date, int], today: date) -> str | None:
    """Both the run day's score and the next morning's are in: the morning answers itself, as
    the "ease off" rule reads the same two numbers, so the ladder never disagrees with the
    advice beside it. Sets the run's answer and says it; None when a score is missing."""
    after_day = run.day + timedelta(days=1)
    before, after = daily.get(run.day), daily.get(after_day)
    if before is None or after is None:
        return None
    run.morning = plans.WORSE if after > before else plans.SAME
    morning = "this morning" if after_day == today else "the next morning"
    said = (
        f"Your ladder run {_on(run.day, today)}: {formatting.score(before)} that day, "
        f"{formatting.score(after)} {morning}"
    )
    return said + (", so it hadn't settled." if after > before else ", so it settled.")


async def _morning_from_scores(ctx: Ctx, run: LadderRun) -> str | None:
    """_morning_answer with the person's scores of the run's day and the morning after."""
    assert ctx.person is not None
    daily = await repo.daily_scores(ctx.session, ctx.person.id, run.day)
    return _morning_answer(run, daily, ctx.today)


async def _read_morning_again(
    ctx: Ctx, runs: list[LadderRun], daily: dict[date, int]
) -> list[Reply] | None:
    """This morning's score answered a ladder run's morning question; when that score has
    been changed or taken back since, the run is read again with what is there now (its
    move on the ladder taken back first). None when nothing changed."""
    today = ctx.today
    for run in runs:
        before = daily.get(run.day)
        after_day = run.day + timedelta(days=1)
        if run.asked_on != today or run.morning is None or before is None or after_day > today:
            continue  # not answered by a morning's score today (a tapped answer stays)
        now = daily.get(after_day)
        if now is None or (plans.WORSE if now > before else plans.SAME) == run.morning:
            continue  # no morning score: a tapped answer stands, and so does one a score gave
        _reopen(ctx, run, runs)
        said = _morning_answer(run, daily, today)
        assert said is not None
        await ctx.commit()
        # The verdict that follows says where the ladder is now: no "back where it was" first.
        return await _progress(ctx, run, said)
    return None


# ---- the strength block -------------------------------------------------------------------


def _block_workouts(ctx: Ctx) -> int:
    block = ctx.content.strength_block
    return block.sessions_per_week * len(block.weeks)


async def _workouts_done(ctx: Ctx) -> int:
    person = ctx.person
    assert person is not None and person.strength_started is not None
    days = await repo.activity_days(ctx.session, person.id, STRENGTH_DONE, person.strength_started)
    return len(days)


def _strength_paused(ctx: Ctx) -> Reply | None:
    """The strength block waits during an episode, as the core routine does."""
    person = ctx.person
    assert person is not None
    if person.episode_tier is None:
        return None
    said = ADVICE_WORDS[Tier[person.episode_tier.upper()]]
    return Reply(
        f"Your strength block is paused: I told you to {said}. It goes on once you tell me "
        "you've been checked and cleared to train (/checked).",
        private=True,
    )


async def _hold_load(ctx: Ctx) -> str | None:
    """Why this week's load must hold, or None when the pain rules allow adding load: no
    easing-off (or higher) advice in the last 7 days and today's tier below it."""
    person = ctx.person
    assert person is not None
    today = ctx.today
    since = today - timedelta(days=plans.LOAD_LOOKBACK_DAYS - 1)
    given = [
        (day, Tier[tier.upper()])
        for day, tier in await repo.escalations_since(ctx.session, person.id, since)
        if tier in advice.TIER_KEYS and Tier[tier.upper()] >= Tier.MODIFY
    ]
    if given:
        day, tier = given[-1]
        said = ADVICE_WORDS[tier]
        return (
            f"I told you to {said} {_on(day, today)}, and load waits "
            f"{plans.LOAD_LOOKBACK_DAYS} days after that."
        )
    tier = await advice.current_tier(ctx)
    if tier >= Tier.MODIFY:
        said = ADVICE_WORDS[tier]
        return f"with your recent scores my advice today is to {said}."
    return None


async def _workout(ctx: Ctx, done: int) -> Reply:
    """The next workout of the block, with its Done button."""
    block = ctx.content.strength_block
    per_week = block.sessions_per_week
    week = plans.strength_week(done, per_week, len(block.weeks))
    assert week is not None
    plan = block.weeks[week - 1]
    number = done + 1
    lines = [
        f"{block.title}, week {week} of {len(block.weeks)}: {plan.sets} × {plan.reps} each "
        f"(workout {number} of {_block_workouts(ctx)}, {done % per_week + 1} of {per_week} this "
        "week)",
        *[f"- {ex.name}: {ex.how}" for ex in block.exercises],
    ]
    hold = await _hold_load(ctx) if week > 1 else None
    if hold is None:
        lines.append(plan.load)
    else:
        lines.append(f"Hold this week's load: keep the weights you used last week. Why: {hold}")
    lines += [
        block.sessions,
        "",
        "Tap Done when you've finished it. Send /strength stop to end the block.",
    ]
    button = Button(f"Done: workout {number}", actions.encode(KIND, "sd", number), Role.CONFIRM)
    return Reply("\n".join(lines), buttons=((button,),), private=True)


async def cmd_strength(ctx: Ctx, command: Command) -> list[Reply]:
    """Start the 6-week strength block, or show its next workout."""
    person = ctx.person
    assert person is not None
    arg = command.raw_args.strip().lower()
    if arg in ("stop", "off"):
        person.strength_started = None
        await ctx.commit()
        return [Reply("Strength block stopped. Send /strength to start again.")]
    if arg not in ("", "start", "restart"):
        # A typo must not start (or restart) a block.
        return [
            Reply(
                "Use /strength to start or show the 6-week strength block, /strength restart "
                "to begin it again, or /strength stop."
            )
        ]
    paused = _strength_paused(ctx)
    if paused is not None:
        return [paused]
    if person.strength_started is None or arg == "restart":
        if await advice.current_tier(ctx) >= Tier.PROFESSIONAL:
            return [
                Reply(
                    "Not now: with your recent scores, get checked by a physio or "
                    "doctor before you start loading. Send /today for gentle work."
                )
            ]
        person.strength_started = ctx.today
        await ctx.commit()
        return [await _workout(ctx, await _workouts_done(ctx))]
    done = await _workouts_done(ctx)
    if done >= _block_workouts(ctx):
        return [
            Reply(
                "You've finished the 6-week strength block. Keep 1-2 strength sessions a week; "
                "send /strength restart to go through it again.",
                private=True,
            )
        ]
    return [await _workout(ctx, done)]


async def _strength_done(ctx: Ctx, number: int) -> list[Reply]:
    """[Done: workout N]: one workout a day; the week moves on when its workouts are done."""
    person = ctx.person
    assert person is not None
    if person.strength_started is None:
        return [Reply("You're not on the strength block now. Send /strength to start it.")]
    paused = _strength_paused(ctx)
    if paused is not None:
        return [paused]
    done = await _workouts_done(ctx)
    if number <= done:
        return [Reply(f"Already noted: workout {number} is done.", private=True)]
    if number > done + 1:
        return [Reply("That button has expired. Send /strength for your next workout.")]
    today = ctx.today
    days = await repo.activity_days(ctx.session, person.id, STRENGTH_DONE, person.strength_started)
    if today in days:
        return [
            Reply(
                "You've already done a workout today. One a day, with a rest day between: "
                "send /strength tomorrow or later for the next.",
                private=True,
            )
        ]
    await repo.set_activity(ctx.session, person.id, today, STRENGTH_DONE, ctx.now)
    await ctx.commit()
    done += 1
    block = ctx.content.strength_block
    per_week = block.sessions_per_week
    if done >= _block_workouts(ctx):
        return [
            Reply(
                f"Workout {number} done: that's the 6-week strength block finished. Well done! "
                "Keep 1-2 strength sessions a week to hold on to it.",
                private=True,
            )
        ]
    rest = (
        " Next time, leave a rest day between workouts."
        if today - timedelta(days=1) in days
        else ""
    )
    if done % per_week:
        return [
            Reply(
                f"Workout {number} done: {done % per_week} of {per_week} this week.{rest} "
                "Rest a day, then send /strength for the next one.",
                private=True,
            )
        ]
    week = done // per_week
    return [
        Reply(f"Workout {number} done: week {week} complete.{rest}", private=True),
        await _workout(ctx, done),
    ]


async def on_plan_button(ctx: Ctx, action: Action) -> list[Reply]:
    """The plans' buttons: start or stop the ladder, a ladder run's answers, a workout done."""
    if ctx.person is None:
        return consent_prompt(ctx, None)
    what = action.args[0]
    if what == "st":
        return await _start(ctx)
    if what == "sp":
        return await _stop(ctx)
    if what == "sd":
        return await _strength_done(ctx, int(action.args[1]))
    return await _answer(ctx, action)


ACTIONS = {KIND: on_plan_button}
ON_ANSWER = (ask_morning,)
