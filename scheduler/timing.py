"""The dispatcher's catch-up rule after downtime, beside the schedule arithmetic it runs on.

The arithmetic itself (schedules, next due, quiet hours, local dates) lives in bot/schedule.py,
where the conversation uses it too, and each kind's default schedule and follow-up with its
kind in bot/handlers/reminder_kinds/; their names are also here for the scheduler's callers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.handlers import reminder_kinds
from bot.handlers.reminder_kinds.checkin import NUDGE_DELAY, NUDGE_LATEST, nudge_at
from bot.schedule import (
    Schedule,
    apply_quiet_hours,
    describe_next,
    format_local,
    local_date,
    next_due,
    next_fire,
)

__all__ = [
    "DEFAULT_CHECKIN",
    "DEFAULT_CORE",
    "DEFAULT_GRACE",
    "DEFAULT_POSTURE",
    "NUDGE_DELAY",
    "NUDGE_LATEST",
    "Schedule",
    "apply_quiet_hours",
    "catch_up",
    "describe_next",
    "format_local",
    "local_date",
    "next_due",
    "next_fire",
    "nudge_at",
]

DEFAULT_CHECKIN = reminder_kinds.get("checkin").default
DEFAULT_CORE = reminder_kinds.get("core").default
DEFAULT_POSTURE = reminder_kinds.get("posture").default
# Missed reminders older than this after downtime are dropped, not flooded.
DEFAULT_GRACE = timedelta(minutes=30)


def catch_up(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a reminder due at ``due_at`` may still be sent at ``now`` (late by at most grace)."""
    return now - due_at <= grace
