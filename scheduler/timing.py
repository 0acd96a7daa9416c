"""When a reminder is due: pure schedule arithmetic in a person's time zone.

Instants in, instants out: every returned instant is timezone-aware UTC, and nothing
here reads a clock or a database. APScheduler's CronTrigger does the calendar work;
zoneinfo maps local wall-clock time to instants (see ``next_fire``).

Ledger key: a reminder's delivery is keyed by its *slot*, the scheduled instant
before quiet hours shift it. Shifting only changes when it is sent (``send_at``),
never which slot it is, so a shift cannot create a second slot or a second send.
Advance a reminder from its slot (``next_due(..., after=slot)``), not from its
send time, or slots that quiet hours pushed together would be skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger


@dataclass(frozen=True)
class Schedule:
    """Local wall-clock times a reminder fires at, every day or on weekdays only."""

    times: tuple[time, ...]
    weekdays_only: bool = False

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("a schedule needs at least one time")
        if any(t.tzinfo is not None for t in self.times):
            raise ValueError("schedule times are local wall-clock times, without tzinfo")
        if any(t.microsecond for t in self.times):
            raise ValueError("schedule times have whole seconds (cron has no microseconds)")


DEFAULT_CHECKIN = Schedule((time(8, 0),))
DEFAULT_CORE = Schedule((time(18, 0),))
DEFAULT_POSTURE = Schedule((time(10, 30), time(13, 30), time(16, 0)), weekdays_only=True)
# Missed reminders older than this after downtime are dropped, not flooded.
DEFAULT_GRACE = timedelta(minutes=30)

# One gentle nudge after a missed check-in, but never late in the evening
# or on the next day: a late-night nudge about a morning score helps nobody.
NUDGE_DELAY = timedelta(hours=4)
NUDGE_LATEST = time(21, 0)

_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ONE_MICROSECOND = timedelta(microseconds=1)
# A wall-clock fire maps to a slot at or before ``after`` at most once per time
# in a repeated hour or a gap; this bounds the stepping over them.
_MAX_STEPS_PER_TRIGGER = 64


@lru_cache(maxsize=256)
def _wall_triggers(schedule: Schedule) -> tuple[CronTrigger, ...]:
    """CronTriggers over local wall-clock time, one per distinct (minute, second)."""
    # One cron expression cannot say "10:30 and 16:00" without also meaning 10:00
    # and 16:30, so times are grouped by their minute and second.
    hours_by_ms: dict[tuple[int, int], set[int]] = {}
    for t in schedule.times:
        hours_by_ms.setdefault((t.minute, t.second), set()).add(t.hour)
    day_of_week = "mon-fri" if schedule.weekdays_only else "*"
    # The triggers run in UTC, a zone without daylight saving, on *wall-clock*
    # time: CronTrigger(timezone=<zone with DST>) skips the day after a 23-hour
    # day (agronholm/apscheduler#529, #606), fires a repeated hour twice, and
    # cannot reach a time in a gap at midnight (Africa/Cairo, America/Havana).
    # The library does the calendar; zoneinfo maps wall time to instants.
    return tuple(
        CronTrigger(
            hour=",".join(str(h) for h in sorted(hours)),
            minute=minute,
            second=second,
            day_of_week=day_of_week,
            timezone=UTC,
        )
        for (minute, second), hours in sorted(hours_by_ms.items())
    )


def _gap_end(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant the spring-forward gap containing the naive wall time ends."""
    # In a gap, fold=1 maps to an instant before the transition and fold=0 to
    # one after it; bisect between them for the transition.
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(microsecond=0)
    hi = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    target = hi.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = (lo + (hi - lo) / 2).replace(microsecond=0)
        if mid.astimezone(tz).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    # Transitions fall on whole seconds; hi is past it by less than a second.
    return hi if hi.microsecond == 0 else hi.replace(microsecond=0) + timedelta(seconds=1)


def _resolve(wall: datetime, tz: tzinfo) -> datetime:
    """UTC instant of a naive local wall time: first occurrence if repeated, gap end if skipped."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        # It exists; fold=0 is the earlier of the two instants on a fall-back night.
        return first
    return _gap_end(wall, tz)


def _next_from_trigger(trigger: CronTrigger, tz: tzinfo, after: datetime) -> datetime | None:
    """The first slot of one wall-clock trigger strictly after ``after`` (UTC)."""
    # Wall times only later than after's own can map to a later instant, because
    # mapping wall time to instants never goes backwards; some still map to an
    # earlier one (the second pass of a fall-back hour, two times in one gap).
    wall = after.astimezone(tz).replace(tzinfo=UTC)
    for _ in range(_MAX_STEPS_PER_TRIGGER):
        fire = trigger.get_next_fire_time(None, wall + _ONE_MICROSECOND)
        if fire is None:
            return None
        slot = _resolve(fire.replace(tzinfo=None), tz)
        if slot > after:
            return slot
        wall = fire
    raise RuntimeError(f"no slot found for {trigger} after {after.isoformat()}")


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def next_fire(schedule: Schedule, tz: tzinfo, after: datetime) -> datetime | None:
    """The first fire instant (UTC) of ``schedule`` in zone ``tz`` strictly after ``after``.

    Daylight saving neither skips nor doubles a reminder: a time inside a
    spring-forward gap fires once, at the end of the gap (02:30 -> 03:00 on the
    day Berlin moves to summer time); a time in the repeated hour of a fall-back
    night fires once, at its first occurrence. Two times in the same gap fire as
    one slot that day.
    """
    _require_aware(after, "after")
    after = after.astimezone(UTC)
    slots = (_next_from_trigger(trigger, tz, after) for trigger in _wall_triggers(schedule))
    return min((slot for slot in slots if slot is not None), default=None)


def _in_window(local: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= local < end
    # The window wraps midnight (22:00-07:00).
    return local >= start or local < end


def apply_quiet_hours(instant: datetime, tz: tzinfo, quiet: tuple[time, time] | None) -> datetime:
    """Move an instant inside the local quiet window [start, end) to the window's end (UTC).

    A window may wrap midnight (22:00-07:00). An empty window (start == end) or
    None means no quiet hours.
    """
    _require_aware(instant, "instant")
    instant = instant.astimezone(UTC)
    if quiet is None:
        return instant
    start, end = quiet
    local = instant.astimezone(tz)
    wall = local.time()
    if start == end or not _in_window(wall, start, end):
        return instant
    end_date = local.date()
    if start > end and wall >= start:
        # Late evening part of a window that wraps: it ends tomorrow morning.
        end_date += timedelta(days=1)
    return _resolve(datetime.combine(end_date, end), tz)


def next_due(
    schedule: Schedule,
    tz: tzinfo,
    after: datetime,
    *,
    quiet: tuple[time, time] | None = None,
    paused_until: datetime | None = None,
) -> tuple[datetime, datetime] | None:
    """The next (slot, send_at) strictly after ``after``, or while paused after ``paused_until``.

    The slot is the ledger key; send_at is the slot moved out of quiet hours.
    """
    _require_aware(after, "after")
    start = after if paused_until is None else max(after, paused_until)
    slot = next_fire(schedule, tz, start)
    if slot is None:
        return None
    return slot, apply_quiet_hours(slot, tz, quiet)


def catch_up(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Whether a reminder due at ``due_at`` may still be sent at ``now`` (late by at most grace)."""
    return now - due_at <= grace


def nudge_at(
    checkin_slot: datetime, tz: tzinfo, *, quiet: tuple[time, time] | None = None
) -> datetime | None:
    """When to nudge about a missed check-in (UTC), or None if that would be too late that day.

    Pass the check-in's slot (or its send time, if quiet hours moved it). The nudge
    is NUDGE_DELAY later, on the same local date, no later than NUDGE_LATEST, and
    not inside quiet hours: moving it to the end of them would land on another day.
    """
    _require_aware(checkin_slot, "checkin_slot")
    slot = checkin_slot.astimezone(UTC)
    candidate = slot + NUDGE_DELAY
    local = candidate.astimezone(tz)
    if local.date() != slot.astimezone(tz).date() or local.time() > NUDGE_LATEST:
        return None
    if apply_quiet_hours(candidate, tz, quiet) != candidate:
        return None
    return candidate


def local_date(instant: datetime, tz: tzinfo) -> date:
    """The person's local calendar date at ``instant``."""
    _require_aware(instant, "instant")
    return instant.astimezone(tz).date()


def format_local(instant: datetime, tz: tzinfo) -> str:
    """``instant`` as local "YYYY-MM-DD HH:MM"."""
    _require_aware(instant, "instant")
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def describe_next(instant: datetime, tz: tzinfo, now: datetime) -> str:
    """Local wording for a settings screen: "today 18:00", "tomorrow 08:00", "Mon 24 Nov 10:30"."""
    _require_aware(instant, "instant")
    _require_aware(now, "now")
    local = instant.astimezone(tz)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    days_ahead = (local.date() - now.astimezone(tz).date()).days
    if days_ahead == 0:
        return f"today {clock}"
    if days_ahead == 1:
        return f"tomorrow {clock}"
    # Fixed English names: strftime's %a/%b follow the process locale.
    weekday = _WEEKDAY_NAMES[local.weekday()]
    month = _MONTH_NAMES[local.month - 1]
    return f"{weekday} {local.day} {month} {clock}"
