"""Runs: /run's details stored beside the run's pain, the run keyboard, optional distance
ranges, the load rule of thumb's advice and the weekly load /history shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

from bot import actions, formatting, parsing, redflags, runs, trends
from bot.actions import Action
from bot.context import Ctx
from bot.events import Button, Kind, Reply
from bot.handlers import advice, plans
from bot.handlers.scores import BACKFILL_DAYS, record_score
from bot.store import repo
from bot.trends import Tier

USAGE = (
    "Use /run SCORE [during or after] [distance] [time] [surface], "
    "for example /run 4 after 8k 45min trail or /run 3 5mi."
)
ACTION = "rn"
PHASE_CODES = {"after": "a", "during": "d"}
PHASES = {code: phase for phase, code in PHASE_CODES.items()}
# Distance ranges offered after a run score: (label, the distance stored for it in km, its
# middle, or a round figure for the open range). Miles for someone who gave miles before.
BANDS: Mapping[str, tuple[tuple[str, float], ...]] = {
    "km": (
        ("Under 5 km", 3.0),
        ("5-10 km", 7.5),
        ("10-15 km", 12.5),
        ("15-21 km", 18.0),
        ("Over 21 km", 25.0),
    ),
    "mi": (
        ("Under 3 mi", 2 * runs.KM_PER_MILE),
        ("3-6 mi", 4.5 * runs.KM_PER_MILE),
        ("6-9 mi", 7.5 * runs.KM_PER_MILE),
        ("9-13 mi", 11 * runs.KM_PER_MILE),
        ("Over 13 mi", 15 * runs.KM_PER_MILE),
    ),
}
BAND_UNITS = {"k": "km", "i": "mi"}
UNIT_CODES = {unit: code for code, unit in BAND_UNITS.items()}
DISTANCE_QUESTION = "How far was it? Tap a range if you like; it's optional."
# The load rule compares this week with the 4 before it.
LOAD_READ_DAYS = 7 * (trends.LOAD_WEEKS + 1)
HISTORY_WEEKS = 2


def ask_run_score(day: date, phase: str, today: date) -> Reply:
    """The 0-10 keyboard for a run's pain, for the run's day."""
    when = "" if day == today else f" ({formatting.day(day, today)})"
    text = f"How was your SI pain {phase} your run{when}, from 0 (none) to 10?"
    if phase == "after":
        text += " (For pain during it: /run 4 during.)"
    keyboard = formatting.score_keyboard(ACTION, (PHASE_CODES[phase],), day=day)
    return Reply(text, buttons=keyboard, private=True)


def cannot_read(reading: runs.RunReading) -> Reply:
    """The one-line answer to /run words that could not be read; nothing is stored."""
    if any(w.isdigit() and 10 < int(w) < 100 for w in reading.unread):
        return Reply(f"Scores are a whole number from 0 to 10. {USAGE}", private=True)
    if reading.unread:
        quoted = ", ".join(f"“{w}”" for w in reading.unread)
        return Reply(f"I couldn't read {quoted}. {USAGE}", private=True)
    return Reply(USAGE, private=True)


def details_text(reading: runs.RunReading | runs.Run) -> str:
    """A run's details as the person gave them: "8 km, 45 min, trail"."""
    parts = []
    if reading.band is not None:
        parts.append(reading.band)  # a range given stays a range, not its middle
    elif reading.km is not None:
        parts.append(runs.distance_text(reading.km, reading.unit))
    if reading.minutes is not None:
        parts.append(runs.duration_text(reading.minutes))
    if reading.surface is not None:
        parts.append(reading.surface)
    return ", ".join(parts)


async def log_run(
    ctx: Ctx, reading: runs.RunReading, day: date, flags: redflags.Reading
) -> list[Reply]:
    """Store what /run said (details first, then the score) and answer: the confirmation,
    a question for the score when none was given, and the load advice when it is due."""
    person = ctx.person
    assert person is not None
    if reading.has_details:
        await repo.upsert_run(
            ctx.session,
            person.id,
            day,
            ctx.now,
            km=reading.km,
            unit=reading.unit,
            minutes=reading.minutes,
            surface=reading.surface,
            band=reading.band,
        )
        await ctx.commit()
    phase = reading.phase or "after"
    kind = repo.RUN_KINDS[phase]
    load: list[Reply] = []
    if reading.has_details and not flags.emergency:
        # Read with the new score in place, so one announcement gives every reason.
        load = await load_advice(ctx, day, kind, reading.score)
    when = formatting.day(day, ctx.today)
    if reading.score is None:
        noted = Reply(f"Noted your run for {when}: {details_text(reading)}.", private=True)
        return [noted, ask_run_score(day, phase, ctx.today), *load]
    replies = await record_score(ctx, reading.score, day, kind, "chat", flags.emergency_codes)
    if reading.has_details and replies and replies[0].kind is Kind.ANSWER:
        # Right after the sentence that names the score, before what the trend adds.
        # The score may be the one there already, but the details just told are stored.
        first = replies[0].text.replace("; nothing changed.", ".", 1)
        said, dot, rest = first.partition(". ")
        run = f"Run: {details_text(reading)}."
        text = f"{said}. {run} {rest}" if dot else f"{said} {run}"
        replies[0] = replace(replies[0], text=text)
    return [*replies, *load]


async def load_advice(
    ctx: Ctx, day: date, kind: str | None = None, score: int | None = None
) -> list[Reply]:
    """The "hold your mileage" rule of thumb, announced like any "ease off" trigger: once
    (not within 3 days of "ease off" or higher), with its numbers, never during an episode."""
    person = ctx.person
    assert person is not None
    if person.episode_tier is not None:
        return []
    today = ctx.today
    view = await advice.history_view(ctx, today)
    if kind is not None and score is not None:
        view = advice.with_score(view, day, kind, score)
    found = await repo.runs_since(ctx.session, person.id, today - timedelta(days=LOAD_READ_DAYS))
    view = replace(view, distances=runs.distances(found))
    result = trends.assess(view, today)
    if result.tier is not Tier.MODIFY or not result.announce:
        return []
    if not any(r.startswith(trends.LOAD_RULE_LEAD) for r in result.reasons):
        return []  # the score's own rules announce what is not about load
    if not await advice.record_advice(ctx, today, result.tier, advice.why(result.reasons)):
        return []
    return [advice.advice_reply(advice.tier_message(ctx, result), result.tier)]


def _is_optional(reply: Reply) -> bool:
    """A reply that only asks about a run (its keyboard): left out beside get-help advice."""
    return bool(reply.buttons) and all(
        b.action.startswith(f"{actions.VERSION}:{ACTION}:") for row in reply.buttons for b in row
    )


def settle(
    ctx: Ctx, replies: list[Reply], offer: date | None, unit: str, *, asked: bool = False
) -> list[Reply]:
    """The answer as sent: the distance ranges ride on the confirmation when offered; beside
    get-help advice, the red-flag screen or an open episode, no optional question at all.

    `asked`: the run keyboard is what the person asked for (/run alone), so only get-help
    advice or the screen in the same answer takes it away.
    """
    person = ctx.person
    blocked = any(r.urgent or r.kind is Kind.SCREEN for r in replies) or (
        not asked and (person is None or person.episode_tier is not None)
    )
    if blocked:
        return [r for r in replies if not _is_optional(r)]
    if offer is None or not replies or replies[0].kind is not Kind.ANSWER or replies[0].buttons:
        return replies
    first = replies[0]
    code = UNIT_CODES[unit]
    row = tuple(
        Button(label, actions.encode(ACTION, f"{code}{i}", offer.toordinal()))
        for i, (label, _) in enumerate(BANDS[unit])
    )
    return [
        replace(first, text=f"{first.text}\n\n{DISTANCE_QUESTION}", buttons=(row,)),
        *replies[1:],
    ]


def episode_note(ctx: Ctx, replies: Sequence[Reply] = ()) -> list[Reply]:
    """A run logged while they wait to be checked (or were told to rest) gets the advice,
    unless the answer already gives it (the run's own words just opened the episode)."""
    person = ctx.person
    if person is None or person.episode_tier is None or any(r.urgent for r in replies):
        return []
    tier = Tier[person.episode_tier.upper()]
    note = (
        "You were told to rest: please don't run until you're cleared to train."
        if person.episode_rest
        else f"Please don't run until you have been checked. {advice.headline(ctx, tier)}"
    )
    return [advice.advice_reply(note, tier)]


async def offer_for(ctx: Ctx, day: date) -> tuple[date | None, str]:
    """(the day to offer distance ranges for, or None when its distance is known; the unit)."""
    person = ctx.person
    assert person is not None
    unit = await repo.distance_unit(ctx.session, person.id) or "km"
    found = await repo.runs_since(ctx.session, person.id, day)
    known = any(r.day == day and r.km is not None for r in found)
    return (None if known else day), unit


async def on_run_button(ctx: Ctx, action: Action) -> list[Reply]:
    """A tap on the run keyboard (its pain) or on a distance range."""
    what, rest = action.args[0], action.args[1:]
    if ctx.person is None:
        return [Reply("Send /start first: I keep runs only with your consent.", private=True)]
    day = min(date.fromordinal(int(rest[-1])), ctx.today)
    refusal = parsing.check_backfill(day, ctx.today, BACKFILL_DAYS)
    if refusal is not None:
        return [Reply(f"Those buttons asked about {formatting.day(day)}. {refusal}", private=True)]
    if what in PHASES:
        kind = repo.RUN_KINDS[PHASES[what]]
        score = int(rest[0])
        replies = await record_score(ctx, score, day, kind, "button")
        replies += episode_note(ctx, replies)
        offer, unit = await offer_for(ctx, day)
        # A tapped run score is a ladder run like a typed one: its stage's questions follow.
        return [*settle(ctx, replies, offer, unit), *await plans.after_run(ctx, day, kind, score)]
    unit = BAND_UNITS[what[0]]
    label, km = BANDS[unit][int(what[1])]
    await repo.upsert_run(ctx.session, ctx.person.id, day, ctx.now, km=km, unit=unit, band=label)
    await ctx.commit()
    noted = Reply(f"Noted: {label} for {formatting.day(day, ctx.today)}'s run.", private=True)
    return [noted, *await load_advice(ctx, day)]


async def history_lines(ctx: Ctx, daily: Mapping[date, int]) -> list[str]:
    """/history's weekly load (distance and time) beside that week's average pain."""
    person = ctx.person
    assert person is not None
    today = ctx.today
    found = await repo.runs_since(ctx.session, person.id, today - timedelta(days=LOAD_READ_DAYS))
    found = [r for r in found if r.day <= today]
    if not any(r.km is not None or r.minutes is not None for r in found):
        return []
    unit = runs.preferred_unit(found)
    weeks = runs.weekly_load(found, today, weeks=HISTORY_WEEKS)
    means = trends.weekly_means(daily, today)
    lines = ["Running load and average pain:"]
    for name, week, mean in zip(("Last 7 days", "7 days before"), weeks, means, strict=True):
        pain = f"pain {formatting.score(mean)}" if mean is not None else "too few scores for pain"
        lines.append(f"{name}: {runs.load_line(week, unit)}; {pain}")
    jump = trends.load_jump(runs.distances(found), today)
    if jump is not None:
        this_week, average = jump
        lines.append(
            f"That's {round(100 * (this_week - average) / average)}% above your average week "
            f"of the 4 before ({runs.distance_text(average, unit)})."
        )
    return lines


ACTIONS = {ACTION: on_run_button}
