"""The morning check-in with the 0-10 keyboard, and one gentle nudge when no score came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import formatting
from bot.events import Reply
from bot.handlers import episodes
from bot.handlers.reminder_kinds import Due, Fact, ReminderKind, Send, Wanted, reminder
from bot.handlers.reminder_kinds._facts import SCORED
from bot.schedule import Schedule, apply_quiet_hours
from bot.store.arrays import among
from bot.store.models import Escalation
from bot.trends import Tier

CHECKIN = "Morning check-in: how's your SI pain today, from 0 (none) to 10 (worst)? Tap a number."
FOLLOW_UP = "Yesterday I said: {said}."
FOLLOW_UP_RUN = (
    "How did the run, or the rest, go? If you ran, /run 3 after yesterday logs how it felt."
)
FOLLOW_UP_LOG = "Keep logging, so you can show them the history."
BOOKED = "Three days ago I suggested a physio or sports doctor. Have you booked it?"
RESTING = (
    "Have you been cleared to train? {when} I said: {said}, and you were told to rest. "
    "Tap below, then your pain score, from 0 (none) to 10 (worst)."
)
EPISODE = (
    "{question} {when} I said: {said}. Tap below, then your pain score, from 0 (none) "
    "to 10 (worst)."
)
NUDGE = (
    "A gentle nudge: no score from you yet today. Tap a number when you have a moment, "
    "it takes a second."
)

# One gentle nudge after a missed check-in, but never late in the evening
# or on the next day: a late-night nudge about a morning score helps nobody.
NUDGE_DELAY = timedelta(hours=4)
NUDGE_LATEST = time(21, 0)
# Tiers after which the next morning's check-in asks how the run or the rest went.
FOLLOW_UP_TIERS = frozenset({"modify", "professional", "urgent", "emergency"})
# "See a professional" opens no episode; this many days later the check-in asks once
# whether it was booked (CLINICAL.md "Episodes").
BOOKED_AFTER_DAYS = 3

_SCORE_KEYBOARD = formatting.score_keyboard()


def nudge_at(
    checkin_slot: datetime, tz: tzinfo, quiet: tuple[time, time] | None = None
) -> datetime | None:
    """When to nudge about a missed check-in (UTC), or None if that would be too late that day.

    Pass the check-in's slot (or its send time, if quiet hours moved it). The nudge
    is NUDGE_DELAY later, on the same local date, no later than NUDGE_LATEST, and
    not inside quiet hours: moving it to the end of them would land on another day.
    """
    if checkin_slot.tzinfo is None or checkin_slot.utcoffset() is None:
        raise ValueError("checkin_slot must be timezone-aware")
    slot = checkin_slot.astimezone(UTC)
    candidate = slot + NUDGE_DELAY
    local = candidate.astimezone(tz)
    if local.date() != slot.astimezone(tz).date() or local.time() > NUDGE_LATEST:
        return None
    if apply_quiet_hours(candidate, tz, quiet) != candidate:
        return None
    return candidate


@dataclass(frozen=True, slots=True)
class Advised:
    """What a day's check-in follows up: yesterday's advice, and a professional to book."""

    said: str | None  # the highest follow-up tier announced yesterday
    ask_booked: bool  # "see a professional" was said BOOKED_AFTER_DAYS ago


async def _advised(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], Advised]:
    ids = sorted({pid for pid, _ in wanted})
    earliest = min(day for _, day in wanted)
    rows = await s.execute(
        select(Escalation.person_id, Escalation.day, Escalation.tier).where(
            among(s, Escalation.person_id, ids),
            Escalation.day >= earliest - timedelta(days=BOOKED_AFTER_DAYS),
            Escalation.tier.in_(sorted(FOLLOW_UP_TIERS)),
        )
    )
    highest: dict[tuple[int, date], str] = {}
    professional: set[tuple[int, date]] = set()
    for pid, day, tier in rows:
        known = highest.get((pid, day))
        if known is None or Tier[tier.upper()] > Tier[known.upper()]:
            highest[(pid, day)] = tier
        if tier == Tier.PROFESSIONAL.key:
            professional.add((pid, day))
    return {
        (pid, day): Advised(
            highest.get((pid, day - timedelta(days=1))),
            (pid, day - timedelta(days=BOOKED_AFTER_DAYS)) in professional,
        )
        for pid, day in wanted
    }


ADVISED: Fact[Advised] = Fact("advised", _advised)


def checkin(said: str | None, ask_booked: bool, ask_run: bool = True) -> Reply:
    """The daily check-in with the 0-10 keyboard; it names yesterday's advice (`said`, a tier's
    title) and, three days after "see a professional", asks once whether it was booked."""
    parts = [CHECKIN]
    if said is not None:
        # Only "ease off" invites a run report; after "see a professional" it would not fit.
        follow = FOLLOW_UP.format(said=formatting.in_sentence(said))
        parts.append(f"{follow} {FOLLOW_UP_RUN}" if ask_run else f"{follow} {FOLLOW_UP_LOG}")
    buttons = _SCORE_KEYBOARD
    if ask_booked:
        parts.append(BOOKED)
        buttons = (*episodes.booked_buttons(), *_SCORE_KEYBOARD)
    return reminder("checkin", "\n\n".join(parts), buttons)


def episode_checkin(said: str, opened: date | None, today: date, resting: bool = False) -> Reply:
    """The check-in while an episode is open: "Have you been checked?" comes first (or, once
    they were told to rest, "Have you been cleared to train?")."""
    label = formatting.day(opened, today) if opened is not None else "recently"
    when = label.capitalize() if label in ("today", "yesterday", "recently") else f"On {label}"
    said = formatting.in_sentence(said)
    if resting:
        text = RESTING.format(when=when, said=said)
        buttons = (*episodes.cleared_buttons(), *_SCORE_KEYBOARD)
    else:
        text = EPISODE.format(question=episodes.CHECKED_QUESTION, when=when, said=said)
        buttons = (*episodes.checked_buttons(), *_SCORE_KEYBOARD)
    return reminder("checkin", text, buttons)


def nudge() -> Reply:
    """The one nudge after a check-in with no score."""
    return reminder("nudge", NUDGE, _SCORE_KEYBOARD)


def _build_checkin(due: Due) -> Reply | None:
    person, tiers = due.person, due.library.tiers
    if person.episode_tier is not None:
        # After get-help advice the check-in first asks whether they were checked.
        said = tiers[person.episode_tier].title
        return episode_checkin(said, person.episode_opened, due.day, resting=person.episode_rest)
    if due.fact(SCORED):
        return None  # today's score is in already: no question about it
    advised = due.fact(ADVISED)
    title = tiers[advised.said].title if advised.said else None
    return checkin(title, advised.ask_booked, ask_run=advised.said == Tier.MODIFY.key)


def _build_nudge(due: Due) -> Reply | None:
    return None if due.fact(SCORED) else nudge()


KIND = ReminderKind(
    key="checkin",
    label="Check-in",
    default=Schedule((time(8, 0),)),
    usage="/remind checkin 07:30",
    words=("check-in", "check", "score"),
    send=Send("checkin", _build_checkin, (SCORED, ADVISED)),
    # Nobody should be nagged for a score on their way to a doctor.
    extra=Send("nudge", _build_nudge, (SCORED,), held_by_episode=True),
    follow_up=nudge_at,
)
