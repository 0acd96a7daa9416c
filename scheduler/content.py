"""The words and buttons of each reminder, for the scheduler's callers: they live with their
kinds in bot/handlers/reminder_kinds/, beside the schedule and the facts each message reads."""

from __future__ import annotations

from bot.handlers.reminder_kinds.checkin import (
    BOOKED,
    CHECKIN,
    EPISODE,
    FOLLOW_UP,
    FOLLOW_UP_LOG,
    FOLLOW_UP_RUN,
    NUDGE,
    RESTING,
    checkin,
    episode_checkin,
    nudge,
)
from bot.handlers.reminder_kinds.core import CORE, SNOOZED, core
from bot.handlers.reminder_kinds.posture import POSTURE, RUNNER_TIP_EVERY, posture

__all__ = [
    "BOOKED",
    "CHECKIN",
    "CORE",
    "EPISODE",
    "FOLLOW_UP",
    "FOLLOW_UP_LOG",
    "FOLLOW_UP_RUN",
    "NUDGE",
    "POSTURE",
    "RESTING",
    "RUNNER_TIP_EVERY",
    "SNOOZED",
    "checkin",
    "core",
    "episode_checkin",
    "nudge",
    "posture",
]
