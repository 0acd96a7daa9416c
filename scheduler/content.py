"""The words and buttons of each reminder, built from data the dispatcher already has."""

from __future__ import annotations

from datetime import date

from bot import actions, formatting
from bot.events import Button, Reply
from bot.handlers import episodes
from content import loader
from content.loader import Content

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
RESTING = (
    "Have you been cleared to train? {when} I said: {said}, and you were told to rest. "
    "Tap below, then your pain score, from 0 (none) to 10 (worst)."
)
EPISODE = (
    "{question} {when} I said: {said}. Tap below, then your pain score, from 0 (none) "
    "to 10 (worst)."
)
RUNNER_TIP_EVERY = 3  # every third posture reminder also carries a runner's tip
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


def checkin(
    said: str | None, ask_booked: bool, meta: dict[str, str], ask_run: bool = True
) -> Reply:
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
    return Reply("\n\n".join(parts), buttons=buttons, private=True, meta=meta)


def episode_checkin(
    said: str, opened: date | None, today: date, meta: dict[str, str], resting: bool = False
) -> Reply:
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
    return Reply(text, buttons=buttons, private=True, meta=meta)


def nudge(meta: dict[str, str]) -> Reply:
    """The one nudge after a check-in with no score."""
    return Reply(NUDGE, buttons=_SCORE_KEYBOARD, private=True, meta=meta)


def core(routine_text: str, snoozed: bool, meta: dict[str, str]) -> Reply:
    """Today's routine with Done / Snooze 1h / Skip today."""
    head = SNOOZED if snoozed else CORE
    return Reply(f"{head}\n\n{routine_text}", buttons=_CORE_BUTTONS, private=True, meta=meta)


def posture(library: Content, n: int, meta: dict[str, str]) -> Reply:
    """The n-th posture nudge: one tip, and on every third a runner's tip from the library."""
    text = POSTURE.format(tip=loader.posture_tip(library, n))
    if n % RUNNER_TIP_EVERY == RUNNER_TIP_EVERY - 1 and library.messages.runner_tips:
        tips = library.messages.runner_tips
        text += f"\n\nRunner's tip: {tips[(n // RUNNER_TIP_EVERY) % len(tips)]}"
    return Reply(text, private=True, meta=meta)
