"""Posture nudges on weekdays: one tip each, and a runner's tip on every third."""

from __future__ import annotations

from datetime import time

from bot.events import Reply
from bot.handlers.reminder_kinds import Due, ReminderKind, Send, reminder
from bot.schedule import WEEKDAYS, Schedule
from content import loader
from content.loader import Content

POSTURE = "Posture check: {tip}"
RUNNER_TIP_EVERY = 3  # every third posture reminder also carries a runner's tip
# The most times a day; more is nagging.
MAX_TIMES = 8


def posture(library: Content, n: int) -> Reply:
    """The n-th posture nudge: one tip, and on every third a runner's tip from the library."""
    text = POSTURE.format(tip=loader.posture_tip(library, n))
    if n % RUNNER_TIP_EVERY == RUNNER_TIP_EVERY - 1 and library.messages.runner_tips:
        tips = library.messages.runner_tips
        text += f"\n\nRunner's tip: {tips[(n // RUNNER_TIP_EVERY) % len(tips)]}"
    return reminder("posture", text)


def _build(due: Due) -> Reply | None:
    return posture(due.library, due.sent_count)


KIND = ReminderKind(
    key="posture",
    label="Posture",
    default=Schedule((time(10, 30), time(13, 30), time(16, 0)), WEEKDAYS),
    usage="/remind posture 10:00,14:00",
    words=(),
    send=Send("posture", _build, held_by_episode=True),
    max_times=MAX_TIMES,
)
