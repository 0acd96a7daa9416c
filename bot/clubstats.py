"""What a club may see: live counts, closed-period figures and opt-in streaks, never a score. Pure.

The privacy model. Counts (who checked in, who did their core work) may be live: a tap moves
them by one and says only that someone tapped. A figure derived from scores (an average, a
trend) must not move with any one person's action, or two requests a minute apart would give
that person's score away (three members at 3, 4, 5 average 4.0; after a fourth taps it reads
5.2, so the fourth scored 9). So a score-derived figure:

- covers closed days only. Day X closes when the club's post for day X+1 goes out: that
  instant is in the post ledger, where no later setting (a time zone change) can move it;
- counts, for day X, the scores of members who had joined before X closed, as stored when it
  closed. Someone who joins later never counts for X (their private history stays theirs);
- is computed from whole days with at least MIN_REPORTERS counted members, each day's average
  weighing the same, so a day with one or two reporters never enters any figure;
- is withheld as a whole, never recomputed without the day, when a counted member changed a
  day of its period after that day closed (a late /log): the stored row no longer says what
  the score was at closing, and leaving the day out would give its reporters away as well.

Within one publication period (between two club posts) a figure therefore either stays the
same or disappears; the next post brings in one whole closed day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean

from bot import formatting, trends

# Averages need at least this many reporters on a day, so no one's score can be worked out
# (with two, each of them could subtract their own).
MIN_REPORTERS = 3
WEEK = 7
# Reports loaded for a summary: two closed weeks for the trend, and room for the last closed
# day to lag a week behind today (posts missed) before the figures are withheld as stale.
HISTORY_DAYS = 3 * WEEK


@dataclass(frozen=True, slots=True)
class Report:
    """One member's daily score as the club sees it: when it was stored, when they joined."""

    person: int
    day: date
    score: int
    recorded_at: datetime
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class DayStats:
    """A club's day in counts only: how many checked in and how many did their core work."""

    day: date
    checked_in: int
    core_done: int


@dataclass(frozen=True, slots=True)
class Figures:
    """Score-derived figures of the last closed week; None or "" where withheld."""

    last_day: date | None  # the latest closed day: the period of every figure ends there
    average: float | None  # mean of the daily averages of the 7 days to last_day
    trend: str  # "↑" worse, "↓" better, "→" steady (1-point band), "" withheld


def day_stats(
    reports: Iterable[Report], core: Mapping[int, frozenset[date]], day: date
) -> DayStats:
    """Live counts for one day over the members' own histories."""
    checked = sum(1 for r in reports if r.day == day)
    done = sum(1 for days in core.values() if day in days)
    return DayStats(day, checked, done)


def closings(posted: Mapping[date, datetime], now: datetime) -> dict[date, datetime]:
    """When each day closed: the instant the club's post for the next day went out."""
    # A day counts only if it closed before every later day did, so a ledger row written out
    # of order (a time zone change revisiting a date) never reopens a period already published.
    out: dict[date, datetime] = {}
    earliest_later: datetime | None = None
    for post_day in sorted(posted, reverse=True):
        at = posted[post_day]
        if at > now:
            continue
        if earliest_later is None or at < earliest_later:
            out[post_day - timedelta(days=1)] = at
            earliest_later = at
    return out


def _day_average(
    reports: Sequence[Report], closed_at: datetime | None
) -> tuple[float | None, bool]:
    """A closed day's average (None under MIN_REPORTERS) and whether it changed after closing."""
    if closed_at is None:
        return None, False
    counted = [r for r in reports if r.joined_at < closed_at]
    if any(r.recorded_at >= closed_at for r in counted):
        return None, True
    if len(counted) < MIN_REPORTERS:
        return None, False
    return fmean(r.score for r in counted), False


def _period_mean(
    days: Sequence[date],
    by_day: Mapping[date, Sequence[Report]],
    closed: Mapping[date, datetime],
    frozen: Mapping[date, float | None],
) -> float | None:
    averages = []
    for day in days:
        if day in frozen and day in closed:
            # Frozen at its close: nothing later (a late /log, a /delete) can move it.
            if (average := frozen[day]) is not None:
                averages.append(average)
            continue
        average, changed = _day_average(by_day.get(day, ()), closed.get(day))
        if changed:
            return None
        if average is not None:
            averages.append(average)
    return fmean(averages) if averages else None


def figures(
    reports: Iterable[Report],
    closed: Mapping[date, datetime],
    since: date,
    frozen: Mapping[date, float | None] | None = None,
) -> Figures:
    """The last closed week's average and trend; `since` is the first day `reports` cover.

    `frozen` holds closed days' averages as stored at their close; days without one are
    worked out from `reports` (and withheld if any of them changed after the close).
    """
    frozen = frozen or {}
    if not closed:
        return Figures(None, None, "")
    last = max(closed)
    this_week = [last - timedelta(days=i) for i in range(WEEK)]
    last_week = [d - timedelta(days=WEEK) for d in this_week]
    if last_week[-1] < since:
        return Figures(last, None, "")  # stale: part of the period was not loaded
    by_day: dict[date, list[Report]] = {}
    for r in reports:
        by_day.setdefault(r.day, []).append(r)
    this = _period_mean(this_week, by_day, closed, frozen)
    before = _period_mean(last_week, by_day, closed, frozen)
    arrow = ""
    if this is not None and before is not None:
        if this - before >= trends.WEEKLY_BAND:
            arrow = "↑"
        elif before - this >= trends.WEEKLY_BAND:
            arrow = "↓"
        else:
            arrow = "→"
    return Figures(last, this, arrow)


def streak(days: frozenset[date] | set[date], today: date) -> int:
    """Consecutive days with a check-in ending today (or yesterday, if today is still open)."""
    day = today if today in days else today - timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


TREND_WORDS = {
    "↑": "pain up on the week before",
    "↓": "pain down on the week before",
    "→": "steady",
}


def period(day: date) -> str:
    """A closed day as the group reads it: 'Sun 1 Mar'."""
    return formatting.day(day)


def average_line(figs: Figures) -> str | None:
    """The closed week's average pain, naming its period; None when withheld."""
    if figs.last_day is None or figs.average is None:
        return None
    return (
        f"Average pain on days with {MIN_REPORTERS}+ check-ins, the 7 days to "
        f"{period(figs.last_day)}: {figs.average:.1f}/10."
    )


def trend_line(figs: Figures) -> str | None:
    """The closed week's trend on the week before, naming its period; None when withheld."""
    if figs.last_day is None or not figs.trend:
        return None
    return (
        f"Club trend, the week to {period(figs.last_day)}: {figs.trend} {TREND_WORDS[figs.trend]}."
    )


def summary_text(
    title: str,
    reports: Sequence[Report],
    core: Mapping[int, frozenset[date]],
    today: date,
    figs: Figures,
    streaks: Mapping[str, int] | None = None,
) -> str:
    """The club summary: live counts, closed-period figures, opt-in streaks."""
    week = {today - timedelta(days=i) for i in range(WEEK)}
    active = len({r.person for r in reports if r.day in week})
    lines = [f"{title}: the last 7 days"]
    lines.append(f"{active} member{'s' if active != 1 else ''} checked in this week.")
    y = day_stats(reports, core, today - timedelta(days=1))
    lines.append(f"Yesterday: {y.checked_in} checked in, {y.core_done} did their core work.")
    lines += [line for line in (average_line(figs), trend_line(figs)) if line]
    if streaks:
        top = sorted(streaks.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        shown = [f"{name} {n} day{'s' if n != 1 else ''}" for name, n in top if n > 0]
        if shown:
            lines.append("Check-in streaks: " + ", ".join(shown) + ".")
    return "\n".join(lines)
