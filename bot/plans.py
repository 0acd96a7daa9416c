"""The rules of the tracked plans, as data in and data out: when a ladder run counts, what its
answers do to the ladder, and which week of the strength block a count of workouts is.

CLINICAL.md "Content": the return-to-run ladder (repeat each stage 2-3 times, at most 4 runs a
week, every other day, step back on sharp pain, pain that builds or a changed gait) and the
pain-monitoring model (during a run 0-3 is what we count as good, 4-5 acceptable, above 5 too
much, during or after it; pain must settle by the next morning).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.trends import RUN_PAIN_LIMIT

# Pain during a ladder run, as the buttons ask it and a during score is read.
LOW, MID, HIGH = "0-3", "4-5", "6-10"
PAIN_BANDS = (LOW, MID, HIGH)
# What else happened on the run; any of these steps back a stage.
NO_TROUBLE = "none"
TROUBLES = ("sharp", "built", "gait")
# The next morning, against the morning before the run.
SAME, WORSE = "same", "worse"

# The week of the strength block that may add load looks back this far for easing-off advice.
LOAD_LOOKBACK_DAYS = 7
STRENGTH_DONE = "strength_done"  # a workout marked done: an activity row, one a day


class Outcome(StrEnum):
    """What one ladder run did to the ladder."""

    GOOD = "good"  # counted towards the stage
    REPEAT = "repeat"  # pain 4-5 during: the stage is repeated, the run doesn't count
    BACK = "back"  # step back a stage
    TOO_SOON = "too_soon"  # the day after the last ladder run: not a ladder day
    TOO_MANY = "too_many"  # the week's ladder runs were done already
    UNANSWERED = "unanswered"  # its questions were never answered: it doesn't count


# Runs that were ladder runs (not too soon or too many): they set the rhythm.
NOT_LADDER_RUNS = frozenset({Outcome.TOO_SOON, Outcome.TOO_MANY})


def band(score: int) -> str:
    """A during-run score as the band the ladder reads."""
    if score <= 3:
        return LOW
    return MID if score <= 5 else HIGH


@dataclass(frozen=True, slots=True)
class RunAnswers:
    """A ladder run's answers so far (None: not answered yet)."""

    pain: str | None
    trouble: str | None
    morning: str | None
    # The score given for pain after the run, if any (it is no question of the ladder's own).
    after: int | None = None


def verdict(run: RunAnswers) -> Outcome | None:
    """What the answers so far say; None while a question that could still decide is open.

    Step back on pain above 5 during or after the run, sharp or building pain, a changed gait
    or a worse next morning; a run with pain 4-5 repeats the stage; a run at 0-3 with nothing
    else counts once the next morning is no worse.
    """
    if run.pain == HIGH or (run.trouble is not None and run.trouble != NO_TROUBLE):
        return Outcome.BACK
    if run.after is not None and run.after > RUN_PAIN_LIMIT:
        return Outcome.BACK
    if run.morning == WORSE:
        return Outcome.BACK
    if run.pain is None or run.trouble is None or run.morning is None:
        return None
    return Outcome.REPEAT if run.pain == MID else Outcome.GOOD


def next_question(run: RunAnswers) -> str | None:
    """Which question to ask next: 'pain', 'trouble', 'morning', or None when decided."""
    if verdict(run) is Outcome.BACK:
        return None
    if run.pain is None:
        return "pain"
    if run.trouble is None:
        return "trouble"
    return "morning" if run.morning is None else None


@dataclass(frozen=True, slots=True)
class Ladder:
    """Where someone is on the ladder."""

    stage: int
    good_runs: int


@dataclass(frozen=True, slots=True)
class Step:
    """The ladder after a run's outcome, and whether it moved up, back or finished."""

    ladder: Ladder
    moved: str  # "" | "up" | "back" | "finished"


def apply(ladder: Ladder, outcome: Outcome, stages: int, needed: int) -> Step:
    """Apply one run's outcome: good runs count up to `needed`, then the next stage."""
    if outcome is Outcome.BACK:
        return Step(Ladder(max(1, ladder.stage - 1), 0), "back")
    if outcome is not Outcome.GOOD:
        return Step(ladder, "")
    good = ladder.good_runs + 1
    if good < needed:
        return Step(Ladder(ladder.stage, good), "")
    if ladder.stage >= stages:
        return Step(Ladder(ladder.stage, good), "finished")
    return Step(Ladder(ladder.stage + 1, 0), "up")


def run_day_refusal(
    day: date, other_runs: Iterable[date], days_between: int, max_a_week: int
) -> Outcome | None:
    """Why a run on `day` is not a ladder run (too close to another, or too many this week),
    or None when it is one. `other_runs` are the other ladder runs' days; a run logged for
    yesterday after today's is too close to it as well."""
    others = [d for d in other_runs if d != day]
    if any(abs((day - d).days) < days_between for d in others):
        return Outcome.TOO_SOON
    week = [d for d in others if day - timedelta(days=7) < d < day]
    if len(week) >= max_a_week:
        return Outcome.TOO_MANY
    return None


def next_run_day(last_run: date | None, days_between: int) -> date | None:
    """The first day the next ladder run may be, after the last one."""
    return None if last_run is None else last_run + timedelta(days=days_between)


def hop_pause_ends(hop_days: Iterable[date], gate_days: int) -> date | None:
    """The day a ladder paused by a hop/sacrum report may go on, or None if it never paused."""
    days = list(hop_days)
    return max(days) + timedelta(days=gate_days) if days else None


def strength_week(done: int, per_week: int, weeks: int) -> int | None:
    """Week 1..weeks of the strength block after `done` workouts, None once it is finished."""
    week = done // per_week + 1
    return week if week <= weeks else None
