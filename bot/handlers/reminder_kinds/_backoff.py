"""Fewer nags for someone who stops answering: the rule, on the person's two columns.

`unanswered` counts the check-ins sent in a row with no answer; any answer (a score, a tap,
any message) sets it back to 0 (reminders.on_answer). After QUIET_AFTER of them the next
check-in says, once, that reminders go quiet; from then on every other send (the nudge, core
work, posture, the weekly recap) waits and the check-in goes on once a day. After
PAUSE_AFTER, about a week, it goes once a week, on the weekday of the last answer, as "still
here if you need me". The numbers are our own choice.

Never at the cost of safety: an open episode's question is asked every day and is not
counted, and a check-in that follows up advice goes out whatever the count.
"""

from __future__ import annotations

from datetime import date

QUIET_AFTER = 3  # unanswered check-ins before the one that says reminders go quiet
PAUSE_AFTER = 7  # unanswered check-ins (a week of them) before only a weekly one goes
WEEK = 7


def going_quiet(unanswered: int) -> bool:
    """Whether this check-in is the one that says reminders go quiet."""
    return unanswered == QUIET_AFTER


def told(unanswered: int) -> bool:
    """Whether reminders went quiet: every send but the check-in waits, and an answer is
    welcomed back."""
    return unanswered > QUIET_AFTER


def paused(unanswered: int) -> bool:
    """Whether the check-in goes only once a week."""
    return unanswered >= PAUSE_AFTER


def weekly_day(answered_on: date | None, day: date) -> bool:
    """Whether a paused check-in goes out on `day`: a week, or whole weeks, after the last
    answer (on Mondays for someone who never answered since these columns exist)."""
    if answered_on is None:
        return day.weekday() == 0
    return (day - answered_on).days % WEEK == 0
