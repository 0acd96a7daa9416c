"""Core work: today's routine for the person's tier, with Done / Snooze 1h / Skip today."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import actions, plans
from bot.events import Button, Reply
from bot.handlers import advice
from bot.handlers.reminder_kinds import Due, Fact, ReminderKind, Send, Wanted, reminder
from bot.handlers.reminder_kinds._facts import CORE_MARKED, VIEW
from bot.schedule import Schedule
from bot.store.arrays import among
from bot.store.models import Activity, Person
from content import loader

CORE = "Time for your core work."
SNOOZED = "Snoozed reminder: time for your core work."

_CORE_BUTTONS = (
    (
        Button("Done", actions.encode("r", "done")),
        Button("Snooze 1h", actions.encode("r", "snooze")),
        Button("Skip today", actions.encode("r", "skip")),
    ),
)


def core(routine_text: str, snoozed: bool) -> Reply:
    """Today's routine with Done / Snooze 1h / Skip today."""
    head = SNOOZED if snoozed else CORE
    return reminder("snooze" if snoozed else "core", f"{head}\n\n{routine_text}", _CORE_BUTTONS)


async def _workouts_done(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], int]:
    """Workouts of each person's current strength block marked done (one read a batch)."""
    ids = sorted({pid for pid, _ in wanted})
    rows = await s.execute(
        select(Activity.person_id, func.count())
        .join(Person, Person.id == Activity.person_id)
        .where(
            among(s, Activity.person_id, ids),
            Activity.kind == plans.STRENGTH_DONE,
            Person.strength_started.is_not(None),
            Activity.day >= Person.strength_started,
        )
        .group_by(Activity.person_id)
    )
    done = {pid: n for pid, n in rows}
    return {(pid, day): done.get(pid, 0) for pid, day in wanted}


# The strength block's week moves on by workouts done, as /strength and /today count it.
WORKOUTS_DONE: Fact[int] = Fact("workouts_done", _workouts_done)


def _build(due: Due) -> Reply | None:
    if due.fact(CORE_MARKED):
        return None  # done or skipped already today: no reminder about it
    view = advice.with_episode(due.fact(VIEW), due.person)
    tier = advice.tier_of(view, due.day)
    if advice.get_help(tier):
        return None  # no Snooze or Skip ever sits under get-help advice
    week = advice.strength_week(due.library, due.person.strength_started, due.fact(WORKOUTS_DONE))
    routine = loader.routine_for(due.library, due.day, tier.key, week).text()
    return core(routine, due.extra)


KIND = ReminderKind(
    key="core",
    label="Core work",
    default=Schedule((time(18, 0),)),
    usage="/remind core 19:00",
    words=("routine",),
    send=Send("core", _build, (CORE_MARKED, VIEW, WORKOUTS_DONE), held_by_episode=True),
    # The [Snooze 1h] button sets it: one more reminder an hour later.
    extra=Send("snooze", _build, (CORE_MARKED, VIEW, WORKOUTS_DONE), held_by_episode=True),
)
