"""The words and buttons of each reminder, built from data the dispatcher already has."""

from __future__ import annotations

from bot import actions, formatting
from bot.events import Button, Reply

CHECKIN = "Morning check-in: how's your SI pain today, from 0 (none) to 10 (worst)? Tap a number."
FOLLOW_UP = (
    "Yesterday I suggested you ease off. How did the run, or the rest, go? "
    "If you ran, /run 3 after logs how it felt."
)
NUDGE = (
    "A gentle nudge: no score from you yet today. Tap a number when you have a moment, "
    "it takes a second."
)
CORE = "Time for your core work."
SNOOZED = "Snoozed reminder: time for your core work."
POSTURE = "Posture check: {tip}"

_SCORE_KEYBOARD = formatting.score_keyboard()
_CORE_BUTTONS = (
    (
        Button("Done", actions.encode("r", "done")),
        Button("Snooze 1h", actions.encode("r", "snooze")),
        Button("Skip today", actions.encode("r", "skip")),
    ),
)


def checkin(follow_up: bool, meta: dict[str, str]) -> Reply:
    """The daily check-in with the 0-10 keyboard; after an ease-off day it asks how it went."""
    text = f"{CHECKIN}\n\n{FOLLOW_UP}" if follow_up else CHECKIN
    return Reply(text, buttons=_SCORE_KEYBOARD, private=True, meta=meta)


def nudge(meta: dict[str, str]) -> Reply:
    """The one nudge after a check-in with no score."""
    return Reply(NUDGE, buttons=_SCORE_KEYBOARD, private=True, meta=meta)


def core(routine_text: str, snoozed: bool, meta: dict[str, str]) -> Reply:
    """Today's routine with Done / Snooze 1h / Skip today."""
    head = SNOOZED if snoozed else CORE
    return Reply(f"{head}\n\n{routine_text}", buttons=_CORE_BUTTONS, private=True, meta=meta)


def posture(tip: str, meta: dict[str, str]) -> Reply:
    """A posture nudge with one tip."""
    return Reply(POSTURE.format(tip=tip), private=True, meta=meta)
