"""Core work: today's routine for the person's tier, with Done / Snooze 1h / Skip today."""

from __future__ import annotations

from datetime import time

from bot import actions
from bot.events import Button, Reply
from bot.handlers import advice
from bot.handlers.reminder_kinds import Due, ReminderKind, Send, reminder
from bot.handlers.reminder_kinds._facts import CORE_MARKED, VIEW
from bot.schedule import Schedule
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


def _build(due: Due) -> Reply | None:
    if due.fact(CORE_MARKED):
        return None  # done or skipped already today: no reminder about it
    view = advice.with_episode(due.fact(VIEW), due.person)
    tier = advice.tier_of(view, due.day)
    if advice.get_help(tier):
        return None  # no Snooze or Skip ever sits under get-help advice
    week = advice.strength_week(due.person.strength_started, due.day)
    routine = loader.routine_for(due.library, due.day, tier.key, week).text()
    return core(routine, due.extra)


KIND = ReminderKind(
    key="core",
    label="Core work",
    default=Schedule((time(18, 0),)),
    usage="/remind core 19:00",
    words=("routine",),
    send=Send("core", _build, (CORE_MARKED, VIEW), held_by_episode=True),
    # The [Snooze 1h] button sets it: one more reminder an hour later.
    extra=Send("snooze", _build, (CORE_MARKED, VIEW), held_by_episode=True),
)
