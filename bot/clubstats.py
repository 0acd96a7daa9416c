"""What a club may see: counts, a trend and opt-in streaks, never one person's score. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import fmean

from bot import trends

# Averages need at least this many reporters, so no one's score can be worked out
# (with two, each of them could subtract their own).
MIN_REPORTERS = 3
WEEK = 7


@dataclass(frozen=True, slots=True)
class DayStats:
    """A club's day: how many checked in and did core work; the average only when safe."""

    day: date
    checked_in: int
    core_done: int
    average: float | None


def day_stats(
    scores: Mapping[int, Mapping[date, int]], core: Mapping[int, frozenset[date]], day: date
) -> DayStats:
    """Counts for one day over the members' own histories."""
    values = [s[day] for s in scores.values() if day in s]
    done = sum(1 for days in core.values() if day in days)
    avg = round(fmean(values), 1) if len(values) >= MIN_REPORTERS else None
    return DayStats(day, len(values), done, avg)


def _week_mean(scores: Mapping[int, Mapping[date, int]], last: date) -> float | None:
    first = last - timedelta(days=WEEK - 1)
    reporters = [[v for d, v in s.items() if first <= d <= last] for s in scores.values()]
    reporters = [r for r in reporters if r]
    if len(reporters) < MIN_REPORTERS:
        return None
    return fmean(v for r in reporters for v in r)


def club_trend(scores: Mapping[int, Mapping[date, int]], today: date) -> str:
    """↑ worse, ↓ better, → steady (1-point band), "" with too few reporters either week."""
    this = _week_mean(scores, today)
    last = _week_mean(scores, today - timedelta(days=WEEK))
    if this is None or last is None:
        return ""
    if this - last >= trends.WEEKLY_BAND:
        return "↑"
    if last - this >= trends.WEEKLY_BAND:
        return "↓"
    return "→"


def streak(days: frozenset[date] | set[date], today: date) -> int:
    """Consecutive days with a check-in ending today (or yesterday, if today is still open)."""
    day = today if today in days else today - timedelta(days=1)
    n = 0
    while day in days:
        n += 1
        day -= timedelta(days=1)
    return n


TREND_WORDS = {"↑": "pain up on last week", "↓": "pain down on last week", "→": "steady"}


def summary_text(
    title: str,
    scores: Mapping[int, Mapping[date, int]],
    core: Mapping[int, frozenset[date]],
    today: date,
    streaks: Mapping[str, int] | None = None,
) -> str:
    """The week's club summary, aggregate only."""
    days = [today - timedelta(days=i) for i in range(WEEK)]
    stats = [day_stats(scores, core, d) for d in days]
    active = sum(1 for s in scores.values() if any(d in s for d in days))
    lines = [f"{title}: the last 7 days"]
    lines.append(f"{active} member{'s' if active != 1 else ''} checked in this week.")
    y = stats[1]
    lines.append(f"Yesterday: {y.checked_in} checked in, {y.core_done} did their core work.")
    averaged = [s.average for s in stats if s.average is not None]
    if averaged:
        lines.append(
            f"Average pain on days with {MIN_REPORTERS}+ check-ins: {fmean(averaged):.1f}/10."
        )
    arrow = club_trend(scores, today)
    if arrow:
        lines.append(f"Club trend: {arrow} {TREND_WORDS[arrow]}.")
    if streaks:
        top = sorted(streaks.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        shown = [f"{name} {n} day{'s' if n != 1 else ''}" for name, n in top if n > 0]
        if shown:
            lines.append("Check-in streaks: " + ", ".join(shown) + ".")
    return "\n".join(lines)
