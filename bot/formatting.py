"""Plain-text building blocks every reply shares: scores, days, sparklines, keyboards, splitting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from bot import actions
from bot.events import Button

SPARK = "▁▂▃▄▅▆▇█"
SCORE_ROW = 6  # a phone keyboard fits six buttons a row

# The bot speaks English whatever the server's locale, which strftime's %a and %b follow.
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def number(value: float) -> str:
    """A score, a median or a mean as people read it: whole numbers bare, others to one
    decimal, halves rounded up (4, 4.5, 4.3): the one rounding every reply uses."""
    tenths = Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return str(tenths.to_integral_value()) if tenths == tenths.to_integral_value() else str(tenths)


def score(value: float) -> str:
    """A score (or a median of scores, such as "your usual") as people write it: 4/10, 4.5/10."""
    return f"{number(value)}/10"


def day(d: date, today: date | None = None) -> str:
    """A date as a short, friendly label: 'today', 'yesterday', 'Thu 19 Nov'."""
    if today is not None:
        if d == today:
            return "today"
        if (today - d).days == 1:
            return "yesterday"
    return f"{WEEKDAY_NAMES[d.weekday()]} {d.day} {MONTH_NAMES[d.month - 1]}"


def in_sentence(title: str) -> str:
    """A title as it reads inside a sentence: "Get help now" -> "get help now"."""
    return title[:1].lower() + title[1:]


def sparkline(values: Iterable[int | None]) -> str:
    """0-10 scores as a one-line bar chart; a missing day is a middle dot."""
    out = []
    for v in values:
        out.append(
            "·" if v is None else SPARK[min(len(SPARK) - 1, round(v * (len(SPARK) - 1) / 10))]
        )
    return "".join(out)


def score_keyboard(
    kind: str = "s", prefix: tuple[object, ...] = (), day: date | None = None
) -> tuple[tuple[Button, ...], ...]:
    """Buttons 0-10 in rows of at most six: the one place the score keyboard is built.

    `day` is the date the buttons ask about: a tap after midnight on last night's check-in
    still records for the evening it asked about.
    """
    suffix = () if day is None else (day.toordinal(),)
    buttons = [Button(str(n), actions.encode(kind, *prefix, n, *suffix)) for n in range(11)]
    return tuple(tuple(buttons[i : i + SCORE_ROW]) for i in range(0, len(buttons), SCORE_ROW))


def split_text(text: str, limit: int) -> list[str]:
    """Split a long message at paragraph, line or word boundaries so each part fits `limit`."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, 0, limit)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
