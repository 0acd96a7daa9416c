"""The weekly recap on Sunday evening: a chart of the last 4 weeks and three lines, the trend
(this week's mean against last week's), adherence (core work and runs) and the next step.
Off until the person turns it on (onboarding, /settings, /remind weekly on).

The next step follows the current tier and the episode: while get-help advice is open it is
that help, first in the message and never training advice; a hop/sacrum report in the last
two weeks means stop running until a doctor has checked it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import formatting, trends
from bot.events import Attachment, Reply
from bot.handlers import advice
from bot.handlers.reminder_kinds import Due, Fact, Recipient, ReminderKind, Send, Wanted, reminder
from bot.handlers.reminder_kinds._facts import VIEW
from bot.schedule import SUNDAY, Schedule
from bot.store import repo
from bot.store.arrays import among
from bot.store.models import Activity, CheckIn
from bot.trends import HistoryView, Tier
from bot.weekchart import DAYS, WeekChart
from content.loader import Content

WEEK_DAYS = 7
# trends.trend_arrow's verdict on this week's mean against last week's, in words.
COMPARED = {"↑": "worse", "↓": "better", "→": "about the same"}
CORE_TARGET = 4  # our own nudge: core work on at least this many days a week


@dataclass(frozen=True, slots=True)
class Weeks:
    """The recap's own fact: the week's core-work days and the 4-week chart, or no chart."""

    end: date
    core_days: frozenset[date]
    chart: bytes | None


def week_end(day: date) -> date:
    """The Sunday a recap sent on `day` is about: that day, or the one before (quiet hours)."""
    return day - timedelta(days=(day.weekday() - SUNDAY) % 7)


def _title(end: date) -> str:
    first = end - timedelta(days=WEEK_DAYS - 1)
    return f"Your week, {formatting.day(first)} to {formatting.day(end)}"


async def _weeks(s: AsyncSession, wanted: Wanted) -> dict[tuple[int, date], Weeks]:
    """Scores and core work for everyone in two reads; charts drawn in one worker thread."""
    ids = sorted({pid for pid, _ in wanted})
    since = week_end(min(day for _, day in wanted)) - timedelta(days=DAYS - 1)
    daily: dict[int, dict[date, int]] = {pid: {} for pid in ids}
    for pid, day, score in await s.execute(
        select(CheckIn.person_id, CheckIn.day, CheckIn.score).where(
            among(s, CheckIn.person_id, ids), CheckIn.day >= since, CheckIn.kind == repo.DAILY
        )
    ):
        daily[pid][day] = score
    core: dict[int, set[date]] = {pid: set() for pid in ids}
    for pid, day in await s.execute(
        select(Activity.person_id, Activity.day).where(
            among(s, Activity.person_id, ids), Activity.day >= since, Activity.kind == "core_done"
        )
    ):
        core[pid].add(day)

    def draw() -> dict[tuple[int, date], Weeks]:
        out: dict[tuple[int, date], Weeks] = {}
        chart: WeekChart | None = None  # built once for the batch, on the first week to draw
        for pid, day in wanted:
            end = week_end(day)
            first = end - timedelta(days=WEEK_DAYS - 1)
            png = None
            # No chart for a week without a score: no recap goes for it.
            if any(first <= d <= end for d in daily[pid]):
                chart = chart or WeekChart()
                png = chart.draw(daily[pid], core[pid], end, _title(end))
            out[(pid, day)] = Weeks(end, frozenset(core[pid]), png)
        return out

    # Drawing is CPU work: off the event loop, so answers and sends go on meanwhile.
    return await asyncio.to_thread(draw)


WEEKS: Fact[Weeks] = Fact("weeks", _weeks)


def trend_line(daily: Mapping[date, int], end: date) -> str:
    """This week's mean against last week's, with the numbers."""
    first = end - timedelta(days=WEEK_DAYS - 1)
    scores = [s for d, s in daily.items() if first <= d <= end]
    this_week, last_week = trends.weekly_means(daily, end)
    count = f"{len(scores)} check-in{'s' if len(scores) != 1 else ''}"
    if this_week is None:
        mean = formatting.score(sum(scores) / len(scores))
        return (
            f"Trend: {count} this week (average {mean}); it takes {trends.MIN_SCORES} to "
            "compare with last week."
        )
    if last_week is None:
        return (
            f"Trend: this week averaged {formatting.score(this_week)} over {count}; too few "
            "scores the week before to compare."
        )
    verdict = COMPARED[trends.trend_arrow(daily, end)]
    return (
        f"Trend: this week averaged {formatting.score(this_week)} over {count}, last week "
        f"{formatting.score(last_week)}: {verdict}."
    )


def adherence_line(
    core_days: Collection[date], run_days: Collection[date], end: date, on_hold: bool
) -> str:
    """Core work done on N of 7 days, and the runs logged."""
    first = end - timedelta(days=WEEK_DAYS - 1)
    core = sum(1 for d in core_days if first <= d <= end)
    runs = len({d for d in run_days if first <= d <= end})
    held = " (on hold until you've been checked)" if on_hold else ""
    logged = "no runs logged" if runs == 0 else f"{runs} run{'s' if runs != 1 else ''} logged"
    return f"Adherence: core work done on {core} of {WEEK_DAYS} days{held}; {logged}."


def next_step(
    view: HistoryView, today: date, rest: bool, core_done: int, library: Content
) -> tuple[str, bool]:
    """The next step and whether it is get-help advice (which then leads the message)."""
    tier = advice.tier_of(view, today)
    if view.episode is not None and rest:
        return (
            "Next step: rest as your doctor or physio told you, and send /checked once "
            "you're cleared to train.",
            False,
        )
    if advice.get_help(tier):
        notice = library.tiers[tier.key]
        return f"Next step: {notice.title}. {notice.advice} Then send /checked.", True
    hop = [
        d
        for d, codes in view.symptoms.items()
        if "hop_tender" in codes and (today - d).days < trends.HOP_GATE_DAYS
    ]
    if hop:
        title = library.messages.sacral_stress_fracture.title
        return (
            f"Next step: {formatting.in_sentence(title)} within days: you reported pain on "
            f"hopping with a tender sacrum on {formatting.day(max(hop))}.",
            False,
        )
    if tier is Tier.PROFESSIONAL:
        return (
            "Next step: book a physio or sports doctor, and send /report for a one-page "
            "summary of your last 90 days to take along.",
            False,
        )
    if tier is Tier.MODIFY or trends.trend_arrow(view.daily, today) == "↑":
        return f"Next step: ease off this week. {library.tiers['modify'].advice}", False
    if core_done < CORE_TARGET:
        return (
            f"Next step: keep your running steady and aim for core work on {CORE_TARGET} or "
            "more days this week.",
            False,
        )
    return (
        "Next step: keep it up. Add a little only while pain during runs stays at 5/10 or "
        "below and settles by the next morning.",
        False,
    )


def recap(
    view: HistoryView,
    core_days: Collection[date],
    end: date,
    today: date,
    person: Recipient,
    library: Content,
) -> str | None:
    """The three lines for the week ending on `end`, or None when it holds no daily score."""
    first = end - timedelta(days=WEEK_DAYS - 1)
    if not any(first <= d <= end for d in view.daily):
        return None
    core_done = sum(1 for d in core_days if first <= d <= end)
    step, get_help = next_step(view, today, person.episode_rest, core_done, library)
    lines = [
        trend_line(view.daily, end),
        adherence_line(core_days, [r.day for r in view.runs], end, view.episode is not None),
    ]
    # Get-help advice comes first in any message that carries it (CLINICAL.md "Wording").
    return "\n".join([step, *lines] if get_help else [*lines, step])


def _build(due: Due) -> Reply | None:
    # The week of the slot: quiet hours may send Sunday's recap on Monday morning.
    end = due.slot_day
    weeks = due.fact(WEEKS)
    view = advice.with_episode(due.fact(VIEW), due.person)
    text = recap(view, weeks.core_days, end, due.day, due.person, due.library)
    if text is None:
        return None
    image = None
    if weeks.chart is not None and weeks.end == end:
        image = Attachment(f"si-checkin-week-{end.isoformat()}.png", weeks.chart, "image/png")
    return replace(reminder("weekly", text), image=image)


KIND = ReminderKind(
    key="weekly",
    label="Weekly recap",
    default=Schedule((time(19, 0),), frozenset({SUNDAY})),
    usage="/remind weekly 19:00",
    words=("week", "summary", "recap"),
    # Not held by an open episode: its next step is then the help itself, and the figures
    # are what the person may want to show whoever checks them.
    # It goes only for a week with scores, so it never nags someone who stopped answering.
    send=Send("weekly", _build, (VIEW, WEEKS), held_by_episode=False, backs_off=False),
)
