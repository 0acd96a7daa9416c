"""The weekly summary on Sunday evening: the week's scores, its best and worst day, and how it
compares with the week before. Off until the person turns it on (/remind weekly on).

Figures only: the comparison is trends.trend_arrow's, the one /history shows, and it gives no
advice; advice comes with the scores that call for it, by the escalation rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta

from bot import formatting, trends
from bot.events import Reply
from bot.handlers.reminder_kinds import Due, ReminderKind, Send, reminder
from bot.handlers.reminder_kinds._facts import VIEW
from bot.schedule import SUNDAY, Schedule

WEEK_DAYS = 7
# trends.trend_arrow's verdict on this week's mean against last week's, in words.
COMPARED = {"↑": "worse", "↓": "better", "→": "about the same"}


def summary(daily: Mapping[date, int], last_day: date) -> str | None:
    """The week ending on `last_day` in words, or None when it holds no daily score."""
    week = [last_day - timedelta(days=WEEK_DAYS - 1 - i) for i in range(WEEK_DAYS)]
    scores = {d: daily[d] for d in week if d in daily}
    if not scores:
        return None
    lines = [
        f"Your week, {formatting.day(week[0])} to {formatting.day(last_day)}: "
        f"{formatting.sparkline(daily.get(d) for d in week)}",
        f"You checked in on {len(scores)} of {WEEK_DAYS} days.",
    ]
    low, high = min(scores.values()), max(scores.values())
    if len(scores) == 1:
        [(day, score)] = scores.items()
        lines.append(f"Your score: {formatting.score(score)} on {formatting.day(day)}.")
    elif low == high:
        lines.append(f"{formatting.score(low)} on each of them.")
    else:
        mean = sum(scores.values()) / len(scores)
        # On a tie, the earlier day.
        best = min(scores, key=lambda d: (scores[d], d))
        worst = min(scores, key=lambda d: (-scores[d], d))
        lines.append(
            f"Average {mean:.1f}/10. Best day {formatting.day(best)} "
            f"({formatting.score(scores[best])}), worst day {formatting.day(worst)} "
            f"({formatting.score(scores[worst])})."
        )
    this_week, last_week = trends.weekly_means(daily, last_day)
    arrow = trends.trend_arrow(daily, last_day)
    if arrow and last_week is not None:
        lines.append(
            f"The week before averaged {last_week:.1f}/10: this week was {COMPARED[arrow]}."
        )
    elif this_week is None:
        lines.append(
            f"It takes {trends.MIN_SCORES} scores in a week to compare it with the week before."
        )
    else:
        lines.append("Too few scores the week before to compare the two.")
    lines.append("Send /history for the chart.")
    return "\n".join(lines)


def _build(due: Due) -> Reply | None:
    # The week of the slot: quiet hours may send Sunday's summary on Monday morning.
    text = summary(due.fact(VIEW).daily, due.slot_day)
    return None if text is None else reminder("weekly", text)


KIND = ReminderKind(
    key="weekly",
    label="Weekly summary",
    default=Schedule((time(19, 0),), frozenset({SUNDAY})),
    usage="/remind weekly 19:00",
    words=("week", "summary"),
    # A week's figures after "get help" would read as if training went on as usual.
    # It goes only for a week with scores, so it never nags someone who stopped answering.
    send=Send("weekly", _build, (VIEW,), held_by_episode=True, backs_off=False),
)
