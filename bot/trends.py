"""Escalation rules: a person's pain history in, a tier with its reasons out.

Pure functions only: no I/O, no clock (today is a parameter), no platform or database.
shared/CLINICAL.md ("The score", "Escalation tiers", "Red-flag screen") is the spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum
from statistics import median
from typing import Literal

from bot import formatting


class Tier(IntEnum):
    """How strongly to act on the trend; a higher value wins over a lower one."""

    NONE = 0
    IMPROVING = 1
    MODIFY = 2
    PROFESSIONAL = 3
    URGENT = 4
    EMERGENCY = 5

    @property
    def key(self) -> str:
        """A stable lower-case name for content lookups and storage."""
        return self.name.lower()


@dataclass(frozen=True)
class Symptom:
    """One red-flag screen option: its code, its button text and the tier it triggers."""

    code: str
    label: str
    tier: Tier


# Display order follows the screen in CLINICAL.md: the most serious options first,
# so the buttons a person must not miss sit at the top.
SYMPTOMS: tuple[Symptom, ...] = (
    Symptom("saddle", "Numb saddle area (groin, buttocks)", Tier.EMERGENCY),
    Symptom("bladder_bowel", "New bladder or bowel changes", Tier.EMERGENCY),
    Symptom("erection", "New erection problems", Tier.EMERGENCY),
    Symptom("both_legs", "Symptoms in both legs", Tier.EMERGENCY),
    Symptom("leg_weakness", "Severe or worsening leg weakness", Tier.EMERGENCY),
    Symptom("fall", "Pain after a serious fall or accident", Tier.EMERGENCY),
    Symptom("weak_one_leg", "New weakness in one leg", Tier.URGENT),
    Symptom("numb_one_leg", "New numbness or tingling in one leg", Tier.URGENT),
    Symptom("fever", "Fever with back pain", Tier.URGENT),
    Symptom("night_pain", "Pain worse at night or at rest", Tier.URGENT),
    Symptom("weight_loss", "Unexplained weight loss", Tier.URGENT),
    Symptom("cancer_history", "History of cancer, new back pain", Tier.URGENT),
    Symptom("daily_activities", "Pain stopping daily activities", Tier.PROFESSIONAL),
    Symptom("hop_tender", "Pain on hop/impact + tender sacrum", Tier.PROFESSIONAL),
)
NONE_OF_THESE = "none"
NONE_OF_THESE_LABEL = "None of these"

_BY_CODE: dict[str, Symptom] = {s.code: s for s in SYMPTOMS}

# NPRS measurement error is about 1 point, so 2 points is the smallest real change
# for a single score (Childs 2005; Ostelo 2008).
REAL_CHANGE = 2
# Clinically important relative change (Ostelo 2008): 30%, kept as a fraction of 10 so
# the comparison stays in exact arithmetic.
RELATIVE_CHANGE_TENTHS = 3
# Our own choice for week-to-week comparisons: a weekly mean must move by at least one
# point (one NPRS measurement error) to count as a rise or a fall. A smaller move is
# within the noise of single readings; the same band drives the trend arrow, so the
# arrow shows "↑" exactly when a rising week is used as a reason.
WEEKLY_BAND = 1.0
BASELINE_WINDOW = 7
# Scores older than this never make the baseline: after a long gap it is built again.
BASELINE_DAYS = 28
MIN_SCORES = 3
HIGH_SCORE = 7  # our own cut-off for "urgent" on two days in a row
RUN_PAIN_LIMIT = 5  # Silbernagel: > 5/10 during or after activity is too much
NO_IMPROVEMENT_DAYS = 28
# Low, steady pain is fine: no "see a professional" while this week's mean is at or below it.
LOW_PAIN_FLOOR = 2.0
IMPROVING_DAYS = 3
RETURN_TO_RUN_DAYS = 7
RETURN_TO_RUN_MAX = 2  # Silbernagel: 0-2 is the safe zone
DEDUP_DAYS = 3
# The return-to-run ladder waits this long after a report of pain on hopping with a tender
# sacrum (CLINICAL.md "Episodes").
HOP_GATE_DAYS = 14
# After "cleared to train", training advice stays at "modify" for a week.
CLEARED_MODIFY_DAYS = 7


def symptom(code: str) -> Symptom | None:
    """The red-flag option with this code, or None for an unknown code or "none"."""
    return _BY_CODE.get(code)


@dataclass(frozen=True)
class RunScore:
    """A pain score given during or after a run on one local date."""

    day: date
    score: int
    phase: Literal["during", "after"]


@dataclass(frozen=True)
class Announcement:
    """A tier already told to the person on one local date."""

    day: date
    tier: Tier


@dataclass(frozen=True)
class HistoryView:
    """Everything the rules look at for one person."""

    daily: Mapping[date, int]
    runs: Sequence[RunScore] = ()
    symptoms: Mapping[date, frozenset[str]] = field(default_factory=dict)
    announcements: Sequence[Announcement] = ()
    # The person's episode state (CLINICAL.md "Episodes"): an open episode's tier key, and
    # the day they said they were cleared to train.
    episode: str | None = None
    cleared_on: date | None = None
    # Kilometres run on each day with a logged distance (the load rule of thumb reads them).
    distances: Mapping[date, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Assessment:
    """The outcome of the rules for one day: the tier, why, and what to offer."""

    tier: Tier
    reasons: tuple[str, ...]
    own_rule: bool
    announce: bool
    baseline: float | None
    building_baseline: bool
    ask_screen: bool
    offer_return_to_run: bool
    hop_tender: bool


@dataclass(frozen=True)
class _Finding:
    tier: Tier
    reason: str
    own: bool = False


def _ago(today: date, day: date) -> str:
    days = (today - day).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def _before(daily: Mapping[date, int], today: date) -> list[tuple[date, int]]:
    return sorted((d, s) for d, s in daily.items() if d < today)


def _window(daily: Mapping[date, int], last: date, days: int) -> list[int]:
    first = last - timedelta(days=days - 1)
    return [s for d, s in daily.items() if first <= d <= last]


def baseline(daily: Mapping[date, int], today: date) -> float | None:
    """Median of the last 7 daily scores of the previous 28 days; None with fewer than 3."""
    # Recorded scores, not calendar days: a person who skips days still gets a baseline
    # from their most recent week of answers, but never from scores over 28 days old.
    oldest = today - timedelta(days=BASELINE_DAYS)
    previous = [s for d, s in _before(daily, today) if d >= oldest][-BASELINE_WINDOW:]
    if len(previous) < MIN_SCORES:
        return None
    return float(median(previous))


def average(daily: Mapping[date, int], today: date, days: int = 7) -> float | None:
    """Mean of the daily scores over the last `days` days up to today; None without any."""
    scores = _window(daily, today, days)
    return sum(scores) / len(scores) if scores else None


def _week_mean(daily: Mapping[date, int], last: date) -> float | None:
    scores = _window(daily, last, 7)
    return sum(scores) / len(scores) if len(scores) >= MIN_SCORES else None


def weekly_means(daily: Mapping[date, int], today: date) -> tuple[float | None, float | None]:
    """(mean of today-6..today, mean of today-13..today-7); None for a week with < 3 scores."""
    return _week_mean(daily, today), _week_mean(daily, today - timedelta(days=7))


def _rose(later: float, earlier: float) -> bool:
    return later - earlier >= WEEKLY_BAND


def trend_arrow(daily: Mapping[date, int], today: date) -> str:
    """ "↑" worse, "↓" better, "→" steady, "" unknown: this week's mean against last week's."""
    this_week, last_week = weekly_means(daily, today)
    if this_week is None or last_week is None:
        return ""
    if _rose(this_week, last_week):
        return "↑"
    if _rose(last_week, this_week):
        return "↓"
    return "→"


def _symptom_findings(codes: frozenset[str]) -> list[_Finding]:
    # Walk SYMPTOMS, not the answer set, so reasons come out in a stable order.
    return [
        _Finding(s.tier, f"you reported: {s.label.lower()}") for s in SYMPTOMS if s.code in codes
    ]


def _high_two_days(daily: Mapping[date, int], today: date) -> list[_Finding]:
    now, before = daily.get(today), daily.get(today - timedelta(days=1))
    if now is None or before is None or now < HIGH_SCORE or before < HIGH_SCORE:
        return []
    reason = f"yesterday {before}/10, today {now}/10: {HIGH_SCORE}/10 or more two days in a row"
    return [_Finding(Tier.URGENT, reason, own=True)]


def _fell_enough(later: float, earlier: float) -> bool:
    """A fall of at least the smallest real change, or of the clinically important 30%."""
    return earlier - later >= REAL_CHANGE or (
        earlier > 0 and 10 * (earlier - later) >= RELATIVE_CHANGE_TENTHS * earlier
    )


def _no_improvement(daily: Mapping[date, int], today: date) -> list[_Finding]:
    recorded = sorted((d, s) for d, s in daily.items() if d <= today)
    this_week = _week_mean(daily, today)
    if this_week is None or not recorded:
        return []
    first_day = recorded[0][0]
    if (today - first_day).days < NO_IMPROVEMENT_DAYS:
        return []
    # The first week is the first 7 recorded scores, so a person who missed days in their
    # first week is still covered by this rule.
    first_scores = [s for _, s in recorded[:BASELINE_WINDOW]]
    if len(first_scores) < MIN_SCORES:
        return []
    first_week = sum(first_scores) / len(first_scores)
    # Low, steady pain is fine; and a fall of 2 points or 30% is the improvement we look for.
    if this_week <= LOW_PAIN_FLOOR or _fell_enough(this_week, first_week):
        return []
    weeks = (today - first_day).days // 7
    reason = (
        f"{weeks} weeks since your first score: this week's average is "
        f"{formatting.score(this_week)} against {formatting.score(first_week)} in your first "
        "week, less than the 2 points or 30% fall that counts as real improvement"
    )
    return [_Finding(Tier.PROFESSIONAL, reason)]


def _rising_weeks(daily: Mapping[date, int], today: date) -> list[_Finding]:
    means = [_week_mean(daily, today - timedelta(days=7 * k)) for k in range(3)]
    this_week, last_week, week_before = means
    if this_week is None or last_week is None or week_before is None:
        return []
    if not (_rose(this_week, last_week) and _rose(last_week, week_before)):
        return []
    reason = (
        f"weekly average pain rose two weeks in a row: {formatting.number(week_before)}, "
        f"then {formatting.number(last_week)}, now {formatting.score(this_week)}"
    )
    return [_Finding(Tier.PROFESSIONAL, reason, own=True)]


def _above_baseline(
    daily: Mapping[date, int], today: date, now: int, base: float | None
) -> list[_Finding]:
    if base is None or now < base + REAL_CHANGE:
        return []
    previous = _before(daily, today)
    lead = ""
    if previous:
        day, score = previous[-1]
        lead = f"{_ago(today, day)} {score}/10, "
    above = formatting.number(now - base)
    reason = f"{lead}today {now}/10: {above} points above your usual ({formatting.score(base)})"
    return [_Finding(Tier.MODIFY, reason)]


def _high_before_baseline(now: int, base: float | None) -> list[_Finding]:
    if base is not None or now < HIGH_SCORE:
        return []
    reason = f"today {now}/10: {HIGH_SCORE}/10 or more, before I know your usual"
    return [_Finding(Tier.MODIFY, reason, own=True)]


def _run_findings(history: HistoryView, today: date) -> list[_Finding]:
    found = []
    for run in history.runs:
        if run.day == today and run.score > RUN_PAIN_LIMIT:
            found.append(
                _Finding(Tier.MODIFY, f"pain {run.phase} today's run {run.score}/10 (above 5/10)")
            )
    return found


def _next_morning(history: HistoryView, today: date, now: int) -> list[_Finding]:
    yesterday = today - timedelta(days=1)
    before = history.daily.get(yesterday)
    ran = any(run.day == yesterday for run in history.runs)
    if not ran or before is None or now <= before:
        return []
    reason = f"after yesterday's run: {before}/10 before, {now}/10 the next day"
    return [_Finding(Tier.MODIFY, reason)]


def _weekly_rise(daily: Mapping[date, int], today: date) -> list[_Finding]:
    this_week, last_week = weekly_means(daily, today)
    if this_week is None or last_week is None or not _rose(this_week, last_week):
        return []
    reason = (
        f"this week's average {formatting.score(this_week)} is above "
        f"last week's {formatting.score(last_week)}"
    )
    return [_Finding(Tier.MODIFY, reason)]


# Our own rule of thumb for training load: this week's distance more than 30% above the
# average week of the 4 before it, while pain rises, means "hold your mileage".
LOAD_JUMP_PERCENT = 30
LOAD_WEEKS = 4
LOAD_RULE_LEAD = "rule of thumb"


def pain_rising(daily: Mapping[date, int], today: date) -> str | None:
    """Why pain counts as rising for the load rule, or None when it does not.

    Rising means either today's score is at least 2 above the usual (baseline + 2, the
    smallest real change), or this week's mean (today-6..today, 3 scores or more) is above
    last week's (today-13..today-7) by any amount: a small rise is within the noise alone,
    but beside a jump in mileage it is the early sign the pain-monitoring model asks about.
    """
    now = daily.get(today)
    base = baseline(daily, today)
    if now is not None and base is not None and now >= base + REAL_CHANGE:
        return f"today {now}/10 against your usual {formatting.score(base)}"
    this_week, last_week = weekly_means(daily, today)
    if this_week is not None and last_week is not None and this_week > last_week:
        return (
            f"this week's average {formatting.score(this_week)} against "
            f"{formatting.score(last_week)} the week before"
        )
    return None


def load_jump(distances: Mapping[date, float], today: date) -> tuple[float, float] | None:
    """(this week's km, the 4 weeks before's weekly average km) when this week is more than
    30% above that average; None otherwise, or before 4 weeks of distances are logged."""
    week_first = today - timedelta(days=6)
    earliest = week_first - timedelta(days=7 * LOAD_WEEKS)
    logged = [d for d, km in distances.items() if km > 0 and earliest <= d <= today]
    # Distances must go back into the oldest of the 4 weeks: a new logger's first weeks
    # would otherwise look like a jump from nothing.
    if not logged or min(logged) > earliest + timedelta(days=6):
        return None
    this_week = sum(km for d, km in distances.items() if week_first <= d <= today)
    average = sum(km for d, km in distances.items() if earliest <= d < week_first) / LOAD_WEEKS
    if average <= 0 or 100 * this_week <= (100 + LOAD_JUMP_PERCENT) * average:
        return None
    return this_week, average


def _load_rule(history: HistoryView, daily: Mapping[date, int], today: date) -> list[_Finding]:
    jump = load_jump(history.distances, today)
    if jump is None:
        return []
    rising = pain_rising(daily, today)
    if rising is None:
        return []
    this_week, average = jump
    above = round(100 * (this_week - average) / average)
    reason = (
        f"{LOAD_RULE_LEAD}: you ran {formatting.number(this_week)} km in the last 7 days, "
        f"{above}% above your average week of {formatting.number(average)} km over the 4 "
        f"weeks before, while your pain is rising ({rising}); hold your mileage, don't add more"
    )
    return [_Finding(Tier.MODIFY, reason, own=True)]


def _is_lower(score: int, base: float) -> bool:
    """Down by the smallest real change, or by the clinically important 30%."""
    # Integers times ten keep the 30% test exact (base is whole or a half).
    return _fell_enough(score, base)


def _improving(daily: Mapping[date, int], today: date) -> list[_Finding]:
    days = [today - timedelta(days=k) for k in reversed(range(IMPROVING_DAYS))]
    pairs = []
    for day in days:
        score, base = daily.get(day), baseline(daily, day)
        if score is None or base is None or not _is_lower(score, base):
            return []
        pairs.append((score, base))
    scores = ", ".join(f"{s}/10" for s, _ in pairs)
    bases = {b for _, b in pairs}
    usual = (
        ", ".join(formatting.score(b) for _, b in pairs)
        if len(bases) > 1
        else formatting.score(pairs[0][1])
    )
    reason = (
        f"last {IMPROVING_DAYS} days {scores}: each at least 2 points or 30% "
        f"below your usual ({usual})"
    )
    return [_Finding(Tier.IMPROVING, reason)]


def _ask_screen(daily: Mapping[date, int], today: date, now: int | None) -> bool:
    if now is None:
        return False
    if now >= HIGH_SCORE:
        return True
    # A rise is measured from a recent score: one from months ago says nothing about today.
    oldest = today - timedelta(days=BASELINE_DAYS)
    previous = [(d, s) for d, s in _before(daily, today) if d >= oldest]
    return bool(previous) and now - previous[-1][1] >= REAL_CHANGE


def high_runs(history: HistoryView, day: date) -> list[RunScore]:
    """The day's run scores of 7 or more: "when it is >= 7" asks the red-flag screen whichever
    score it is (CLINICAL.md), so pain during or after a run asks too."""
    return [r for r in history.runs if r.day == day and r.score >= HIGH_SCORE]


def _low_for_a_week(daily: Mapping[date, int], today: date) -> bool:
    days = [today - timedelta(days=k) for k in range(RETURN_TO_RUN_DAYS)]
    scores = [daily.get(d) for d in days]
    return all(s is not None and s <= RETURN_TO_RUN_MAX for s in scores)


def _hop_recently(history: HistoryView, today: date) -> bool:
    since = today - timedelta(days=HOP_GATE_DAYS)
    return any(
        since < d <= today and "hop_tender" in codes for d, codes in history.symptoms.items()
    )


def may_offer_return(history: HistoryView, tier: Tier, today: date) -> bool:
    """The return-to-run ladder: after 7 days at 2/10 or below, never beside a warning tier,
    never while an episode is open, and not within 14 days of a hop/sacrum report."""
    cleared = history.cleared_on
    return (
        tier <= Tier.IMPROVING
        and history.episode is None
        # the week at "modify" after "cleared to train" comes first, then 7 days at 2 or less
        and (cleared is None or (today - cleared).days >= CLEARED_MODIFY_DAYS)
        and not _hop_recently(history, today)
        and _low_for_a_week(history.daily, today)
    )


def _announce(tier: Tier, announcements: Sequence[Announcement], today: date) -> bool:
    if tier == Tier.NONE:
        return False
    # Safety over quiet: an emergency is said again every day it stands (and on every report
    # of a flag, which the screen's handler does), but not after each score of the same day.
    if tier == Tier.EMERGENCY:
        return not any(a.day == today and a.tier >= tier for a in announcements)
    since = today - timedelta(days=DEDUP_DAYS)
    return not any(since < a.day <= today and a.tier >= tier for a in announcements)


def assess(history: HistoryView, today: date) -> Assessment:
    """Run every rule on the history as of `today` and pick the highest tier."""
    daily = {d: s for d, s in history.daily.items() if d <= today}
    now = daily.get(today)
    base = baseline(daily, today)
    codes = history.symptoms.get(today, frozenset())

    findings = _symptom_findings(codes)
    findings += _run_findings(history, today)
    findings += _load_rule(history, daily, today)
    if now is not None:
        findings += _high_two_days(daily, today)
        findings += _high_before_baseline(now, base)
        findings += _no_improvement(daily, today)
        findings += _rising_weeks(daily, today)
        findings += _above_baseline(daily, today, now, base)
        findings += _next_morning(history, today, now)
        findings += _weekly_rise(daily, today)
        findings += _improving(daily, today)

    tier = max((f.tier for f in findings), default=Tier.NONE)
    # Highest tier first; within a tier, sourced rules before our own.
    ordered = sorted(findings, key=lambda f: (-f.tier, f.own))
    winning = [f for f in ordered if f.tier == tier]
    return Assessment(
        tier=tier,
        # Only the announced tier's triggers: an improving day is never a reason to escalate.
        reasons=tuple(f.reason for f in winning),
        # The bot calls it a rule of thumb only when no sourced rule backs the tier.
        own_rule=bool(winning) and all(f.own for f in winning),
        announce=_announce(tier, history.announcements, today),
        baseline=base,
        building_baseline=base is None,
        ask_screen=_ask_screen(daily, today, now) or bool(high_runs(history, today)),
        offer_return_to_run=may_offer_return(history, tier, today),
        hop_tender="hop_tender" in codes,
    )
