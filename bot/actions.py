"""Button action payloads: short, versioned, validated.

A payload is `1:<kind>[:<arg>...]`, well under Telegram's 64-byte callback_data
and Discord's 100-character custom_id. Anything that does not decode to a known
action is treated as an expired button and records nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "1"
MAX_PAYLOAD = 60
MAX_ID = 2**31 - 1  # row ids are 32-bit integers on every engine; dates as ordinals fit too

# kind -> regex for its arguments (joined by ':')
_KINDS: dict[str, re.Pattern[str]] = {
    # daily score 0..10 and the day the buttons asked about, as a date ordinal (buttons made
    # before they carried a day record for the day they are tapped)
    "s": re.compile(r"(?:[0-9]|10)(?::[1-9][0-9]{5})?"),
    # consent yes/no, optional pending score and the club whose post it came from, or a red
    # flag reported before consent
    # (and, since the day it was typed matters, that day as a date ordinal: y:SCORE:CLUB:DAY
    # with CLUB 0 for none)
    "c": re.compile(
        r"(?:y|n)(?::(?:[0-9]|10)(?::[0-9]{1,10})?)?|y:f:[a-z_]{2,20}"
        r"|y:(?:[0-9]|10):[0-9]{1,10}:[0-9]{6}"
    ),
    # delete confirm (the day it was asked and, since they can erase and agree again, when
    # the person it asked had consented, in whole seconds) / cancel
    "d": re.compile(r"y(?::[0-9]{6}(?::[0-9]{1,11})?)?|n"),
    "f": re.compile(r"[a-z_]{2,20}"),  # red-flag screen option code
    # core-work reminder buttons; a snooze into quiet hours: before they start, or tomorrow
    "r": re.compile(r"done|snooze(?::(?:before|tomorrow))?|skip"),
    "k": re.compile(r"[0-9]{1,10}:(?:[0-9]|10)"),  # club post: club id, score
    "u": re.compile(r"today"),  # clear today's red flags: they were a mistake
    "e": re.compile(r"cleared|rest|notyet"),  # "Have you been checked?" during an episode
    "b": re.compile(r"y|n"),  # "Did you book the physio?" three days after the advice
    # onboarding's answers: a zone, a kind's time (HHMM, or d for its usual ones), another
    # time or city, no thanks, and the location button of a platform that cannot ask for it
    "o": re.compile(
        r"z:[A-Za-z][A-Za-z0-9_+\-/]{1,40}|l|t:[a-z]{2,12}:(?:d|[0-2][0-9][0-5][0-9])"
        r"|[xn]:[a-z]{2,12}"
    ),
    # /settings' buttons: a question to open, the nudge on/off, quiet hours, a pause (0: resume)
    "g": re.compile(
        r"zone|quiet|pause|k:[a-z]{2,12}|n:[01]|p:[0-9]{1,2}"
        r"|q:(?:off|[0-2][0-9][0-5][0-9]-[0-2][0-9][0-5][0-9])"
    ),
    # /undo's confirmation: what goes (a score, a note, a red-flag answer), its row, its day
    # and the second of the day it was recorded, so a stale button cannot take something
    # else; / keep it
    "x": re.compile(r"y:[snf]:[0-9]{1,10}:[1-9][0-9]{5}:[0-9]{1,5}|n"),
    # after a rise of 2 or more: the day asked about (date ordinal), the question (w where,
    # t what set it off, m morning stiffness) and the answer: a code, -code to take a place
    # back, skip or stop
    "pc": re.compile(r"[1-9][0-9]{5}:[wtm]:-?[a-z][a-z0-9_]{1,11}"),
    # the tracked plans: start/stop the ladder; a ladder run's answers (pain during, trouble,
    # next morning) for the run's day as a date ordinal; strength workout N done
    "pl": re.compile(
        r"st|sp|p:[1-9][0-9]{5}:[lmh]|t:[1-9][0-9]{5}:[sbgn]|m:[1-9][0-9]{5}:[yw]|sd:[0-9]{1,2}"
    ),
    # a run: its pain score tapped (a after, d during) for the run's day as a date ordinal,
    # or its distance range (k in km, i in miles, range 0-4) for that day
    "rn": re.compile(r"[ad]:(?:[0-9]|10):[1-9][0-9]{5}|[ki][0-4]:[1-9][0-9]{5}"),
}


# Keyboards that stay after a tap ("tap any that apply"): adapters remove every other keyboard
# once it is used, so an old keyboard cannot record twice.
MULTI_TAP_KINDS = frozenset({"f"})


def keeps_keyboard(payload: str | None) -> bool:
    """Whether the keyboard a tapped button belongs to stays usable after the tap."""
    action = decode(payload)
    return action is not None and action.kind in MULTI_TAP_KINDS


@dataclass(frozen=True, slots=True)
class Action:
    """A decoded button press."""

    kind: str
    args: tuple[str, ...]


def encode(kind: str, *args: object) -> str:
    """Build a payload for a button; raises ValueError on anything we would not accept back."""
    payload = ":".join([VERSION, kind, *(str(a) for a in args)])
    if decode(payload) is None:
        raise ValueError(f"not a valid action: {payload!r}")
    return payload


def decode(payload: str | None) -> Action | None:
    """Decode and validate a payload; None for forged, stale or malformed ones."""
    if not payload or len(payload) > MAX_PAYLOAD:
        return None
    parts = payload.split(":")
    if len(parts) < 2 or parts[0] != VERSION:
        return None
    kind, args = parts[1], ":".join(parts[2:])
    pattern = _KINDS.get(kind)
    if pattern is None or not pattern.fullmatch(args):
        return None
    # A forged id beyond the database's integer would fail as a database error, not expire.
    if any(a.isdigit() and len(a) > 2 and int(a) > MAX_ID for a in parts[2:]):
        return None
    return Action(kind, tuple(parts[2:]))
