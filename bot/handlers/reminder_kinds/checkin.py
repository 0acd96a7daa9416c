"""The morning check-in with the 0-10 keyboard, and one gentle nudge when no score came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import formatting
from bot.events import Reply
from bot.handlers import episodes
from bot.handlers.reminder_kinds import Due, Fact, ReminderKind, Send, Wanted, _backoff, reminder
from bot.handlers.reminder_kinds._facts import SCORED
from bot.schedule import Schedule, apply_quiet_hours, local_date, zone
from bot.store import repo
from bot.store.arrays import among
from bot.store.models import CheckIn, Escalation, Person, SymptomReport
from bot.trends import Tier, symptom

CHECKIN = "Check-in: how's your SI pain today, from 0 (none) to 10 (worst)? Tap a number."
FOLLOW_UP = "Yesterday I said: {said}."
FOLLOW_UP_RUN = (
    "How did the run, or the rest, go? If you ran, /run 3 after yesterday logs how it felt."
)
# After "ease off" that a logged run brought (or with a run logged that day anyway).
FOLLOW_UP_RAN = "Yesterday's run is logged: today's score shows how it settled."
FOLLOW_UP_LOG = "Keep logging, so you can show them the history."
BOOKED = "Three days ago I suggested a physio or sports doctor. Have you booked it?"
RESTING = (
    f"{episodes.CLEARED_QUESTION} {{when}} I said: {{said}}, and you were told to rest. "
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
# Backing off when nobody answers (_backoff.py): said once, then once a week.
GOING_QUIET = (
    "No answer for three days, and that's fine. I'll stop the daily nudges for now: just this "
    "question once a day, and once a week if it stays quiet. Any answer brings your reminders "
    "back."
)
QUESTION = "How's your SI pain today, from 0 (none) to 10 (worst)? Tap a number."
STILL_HERE = (
    "Still here if you need me. How's your SI pain today, from 0 (none) to 10 (worst)? One "
    "tap, or any message, brings your reminders back."
)

# One gentle nudge after a missed check-in, but never late in the evening
# or on the next day: a late-night nudge about a morning score helps nobody.
NUDGE_DELAY = timedelta(hours=4)
NUDGE_LATEST = time(21, 0)
# Tiers after which the next morning's check-in asks how the run or the rest went.
FOLLOW_UP_TIERS = frozenset({"modify", "professional", "urgent", "emergency"})
# Advice that opens an episode: the check-in names the latest day it was given.
GET_HELP_TIERS = frozenset({Tier.URGENT.key, Tier.EMERGENCY.key})
# The red flag whose advice is "stop running and see a sports doctor", said again the next day.
HOP_TENDER = "hop_tender"
# "See a professional" opens no episode; this many days later the check-in asks once
# whether it was booked (CLINICAL.md "Episodes").
BOOKED_AFTER_DAYS = 3


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

    said: str | None  # the highest follow-up tier given yesterday
    ask_booked: bool  # "see a professional" was said BOOKED_AFTER_DAYS ago
    ran: bool = False  # a run is logged for yesterday
    stop_running: bool = False  # pain on hopping with a tender sacrum was reported yesterday
    helped_on: date | None = None  # the latest day of get-help advice, up to the check-in's

    @property
    def follows_up(self) -> bool:
        """Whether the check-in carries advice's follow-up: it goes out whatever the back-off."""
        return self.said is not None or self.ask_booked


async def _advised(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], Advised]:
    ids = sorted({pid for pid, _ in wanted})
    earliest = min(day for _, day in wanted)
    announced = select(
        Escalation.person_id, Escalation.day, Escalation.tier, literal(False).label("flag")
    ).where(
        among(s, Escalation.person_id, ids),
        Escalation.day >= earliest - timedelta(days=BOOKED_AFTER_DAYS),
        Escalation.tier.in_(sorted(FOLLOW_UP_TIERS)),
    )
    # A warning sign reported again within days of its advice is not announced (and not
    # stored) again, but its advice is said with it: yesterday's flags count as advice given.
    flagged = select(
        SymptomReport.person_id, SymptomReport.day, SymptomReport.code, literal(True)
    ).where(
        among(s, SymptomReport.person_id, ids),
        SymptomReport.day >= earliest - timedelta(days=1),
    )
    highest: dict[tuple[int, date], str] = {}
    professional: set[tuple[int, date]] = set()
    hopped: set[tuple[int, date]] = set()
    helped: dict[int, list[date]] = {}
    for pid, day, name, flag in await s.execute(announced.union_all(flagged)):
        if flag and name == HOP_TENDER:
            hopped.add((pid, day))
        if not flag and name in GET_HELP_TIERS:
            helped.setdefault(pid, []).append(day)
        found = symptom(name) if flag else None
        tier = found.tier.key if found is not None else name
        if tier not in FOLLOW_UP_TIERS:
            continue  # "none of these"
        known = highest.get((pid, day))
        if known is None or Tier[tier.upper()] > Tier[known.upper()]:
            highest[(pid, day)] = tier
        if tier == Tier.PROFESSIONAL.key and not flag:
            professional.add((pid, day))
    # "If you ran, log it" only where no run is logged for the day the advice was given.
    eased = sorted({pid for (pid, day), tier in highest.items() if tier == Tier.MODIFY.key})
    ran: set[tuple[int, date]] = set()
    if eased:
        runs = select(CheckIn.person_id, CheckIn.day).where(
            among(s, CheckIn.person_id, eased),
            CheckIn.day >= earliest - timedelta(days=1),
            CheckIn.kind.in_(sorted(repo.RUN_KINDS.values())),
        )
        ran = {(pid, day) for pid, day in await s.execute(runs)}
    return {
        (pid, day): Advised(
            highest.get((pid, day - timedelta(days=1))),
            (pid, day - timedelta(days=BOOKED_AFTER_DAYS)) in professional,
            (pid, day - timedelta(days=1)) in ran,
            (pid, day - timedelta(days=1)) in hopped,
            max((d for d in helped.get(pid, ()) if d <= day), default=None),
        )
        for pid, day in wanted
    }


ADVISED: Fact[Advised] = Fact("advised", _advised)


def checkin(
    said: str | None,
    ask_booked: bool,
    ask_run: bool = True,
    day: date | None = None,
    head: str = CHECKIN,
    ran: bool = False,
) -> Reply:
    """The daily check-in with the 0-10 keyboard; it names yesterday's advice (`said`, a tier's
    title) and, three days after "see a professional", asks once whether it was booked.

    `head` opens it: the plain question, or while backing off the going-quiet or the weekly
    words (going_quiet, still_here). After "ease off" (`ask_run`) it asks for yesterday's run,
    unless one is logged (`ran`)."""
    parts = [head]
    if said is not None:
        # Only "ease off" invites a run report; after "see a professional" it would not fit.
        follow = FOLLOW_UP.format(said=formatting.in_sentence(said))
        run = FOLLOW_UP_RAN if ran else FOLLOW_UP_RUN
        parts.append(f"{follow} {run}" if ask_run else f"{follow} {FOLLOW_UP_LOG}")
    # The buttons carry the day they ask about: a tap after midnight files the score under
    # the evening that asked.
    buttons = formatting.score_keyboard(day=day)
    if ask_booked:
        parts.append(BOOKED)
        buttons = (*episodes.booked_buttons(), *buttons)
    return reminder("checkin", "\n\n".join(parts), buttons)


def episode_checkin(said: str, opened: date | None, today: date, resting: bool = False) -> Reply:
    """The check-in while an episode is open: "Have you been checked?" comes first (or, once
    they were told to rest, "Have you been cleared to train?")."""
    label = formatting.day(opened, today) if opened is not None else "recently"
    when = label.capitalize() if label in ("today", "yesterday", "recently") else f"On {label}"
    said = formatting.in_sentence(said)
    if resting:
        text = RESTING.format(when=when, said=said)
        buttons = (*episodes.cleared_buttons(), *formatting.score_keyboard(day=today))
    else:
        text = EPISODE.format(question=episodes.CHECKED_QUESTION, when=when, said=said)
        buttons = (*episodes.checked_buttons(), *formatting.score_keyboard(day=today))
    return reminder("checkin", text, buttons)


def going_quiet() -> str:
    """The head of the check-in that says reminders go quiet, with the day's question."""
    return f"{GOING_QUIET}\n\n{QUESTION}"


def nudge(day: date | None = None) -> Reply:
    """The one nudge after a check-in with no score."""
    return reminder("nudge", NUDGE, formatting.score_keyboard(day=day))


def _build_checkin(due: Due) -> Reply | None:
    person, tiers = due.person, due.library.tiers
    if person.episode_tier is not None:
        # After get-help advice the check-in first asks whether they were checked.
        said = tiers[person.episode_tier].title
        # Named by the latest day it was said: advice again this morning is today's, not the
        # day the episode opened.
        helped_on = due.fact(ADVISED).helped_on
        opened = person.episode_opened
        if helped_on is not None and (opened is None or helped_on > opened):
            opened = helped_on
        return episode_checkin(said, opened, due.day, resting=person.episode_rest)
    if due.fact(SCORED):
        return None  # today's score is in already: no question about it
    advised = due.fact(ADVISED)
    title = tiers[advised.said].title if advised.said else None
    if advised.stop_running:
        # Its advice is the professional tier's and more: stop running until checked.
        title = due.library.messages.sacral_stress_fracture.title
    count = person.unanswered
    if _backoff.paused(count) and not advised.follows_up:
        answered = person.answered_at
        answered_on = local_date(answered, zone(person.tz)) if answered is not None else None
        if not _backoff.weekly_day(answered_on, due.day):
            return None
    head = (
        going_quiet()
        if _backoff.going_quiet(count)
        else STILL_HERE
        if _backoff.paused(count)
        else CHECKIN
    )
    modify = advised.said == Tier.MODIFY.key
    return checkin(title, advised.ask_booked, modify, due.day, head, advised.ran)


async def _wants_nudge(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], bool]:
    ids = sorted({pid for pid, _ in wanted})
    rows = await s.execute(select(Person.id).where(among(s, Person.id, ids), Person.nudge))
    on = {pid for (pid,) in rows}
    return {pair: pair[0] in on for pair in wanted}


# The nudge is a second message that day: only for those who turned it on (/settings).
WANTS_NUDGE: Fact[bool] = Fact("wants_nudge", _wants_nudge)


def _build_nudge(due: Due) -> Reply | None:
    return None if due.fact(SCORED) or not due.fact(WANTS_NUDGE) else nudge(due.day)


KIND = ReminderKind(
    key="checkin",
    label="Check-in",
    default=Schedule((time(8, 0),)),
    usage="/remind checkin 07:30",
    words=("check-in", "check", "score"),
    send=Send("checkin", _build_checkin, (SCORED, ADVISED), asks=True, backs_off=False),
    # Nobody should be nagged for a score on their way to a doctor.
    extra=Send("nudge", _build_nudge, (SCORED, WANTS_NUDGE), held_by_episode=True),
    follow_up=nudge_at,
    on_by_default=True,
)
