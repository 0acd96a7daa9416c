"""When a reminder is due: pure schedule arithmetic in a person's time zone.

Instants in, instants out: every returned instant is timezone-aware UTC, and nothing here
reads a clock or a database. APScheduler's CronTrigger does the calendar work; zoneinfo maps
local wall-clock time to instants (see ``next_fire``). The conversation (on /remind, /quiet,
/pause, a time-zone change, a club's post time) and the dispatcher (after each send) both
schedule through here, so the rules live in one place. Many people share a schedule and a
zone, so a row's next slot is memoised on plain, hashable values.

Ledger key: a reminder's delivery is keyed by its *slot*, the scheduled instant before quiet
hours shift it. Shifting only changes when it is sent (``send_at``), never which slot it is,
so a shift cannot create a second slot or a second send. Advance a reminder from its slot
(``next_due(..., after=slot)``), not from its send time, or slots that quiet hours pushed
together would be skipped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol

from apscheduler.triggers.cron import CronTrigger

from bot import parsing

# Days of the week as date.weekday() numbers: Monday is 0.
EVERY_DAY: frozenset[int] = frozenset(range(7))
WEEKDAYS: frozenset[int] = frozenset(range(5))
SUNDAY = 6

_CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PLURAL_DAYS = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ONE_MICROSECOND = timedelta(microseconds=1)
# A wall-clock fire maps to a slot at or before ``after`` at most once per time
# in a repeated hour or a gap; this bounds the stepping over them.
_MAX_STEPS_PER_TRIGGER = 64


@dataclass(frozen=True)
class Schedule:
    """Local wall-clock times a reminder fires at, on some days of the week."""

    times: tuple[time, ...]
    days: frozenset[int] = EVERY_DAY

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("a schedule needs at least one time")
        if any(t.tzinfo is not None for t in self.times):
            raise ValueError("schedule times are local wall-clock times, without tzinfo")
        if any(t.microsecond for t in self.times):
            raise ValueError("schedule times have whole seconds (cron has no microseconds)")
        if not self.days or not self.days <= EVERY_DAY:
            raise ValueError("a schedule needs at least one day, as weekday numbers 0-6")


@lru_cache(maxsize=256)
def _wall_triggers(schedule: Schedule) -> tuple[CronTrigger, ...]:
    """CronTriggers over local wall-clock time, one per distinct (minute, second)."""
    # One cron expression cannot say "10:30 and 16:00" without also meaning 10:00
    # and 16:30, so times are grouped by their minute and second.
    hours_by_ms: dict[tuple[int, int], set[int]] = {}
    for t in schedule.times:
        hours_by_ms.setdefault((t.minute, t.second), set()).add(t.hour)
    day_of_week = (
        "*"
        if schedule.days == EVERY_DAY
        else ",".join(_CRON_DAYS[d] for d in sorted(schedule.days))
    )
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


def quiet_began(instant: datetime, tz: tzinfo, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours holding ``instant`` began (UTC), or None when it is outside them."""
    _require_aware(instant, "instant")
    if quiet is None:
        return None
    start, end = quiet
    local = instant.astimezone(tz)
    wall = local.time()
    if start == end or not _in_window(wall, start, end):
        return None
    start_date = local.date()
    if start > end and wall < start:
        # Early-morning part of a window that wraps: it began yesterday evening.
        start_date -= timedelta(days=1)
    return _resolve(datetime.combine(start_date, start), tz)


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


def describe_days(days: Collection[int]) -> str:
    """Days as a settings screen says them: "every day", "on weekdays", "on Sundays"."""
    chosen = frozenset(days)
    if chosen == EVERY_DAY:
        return "every day"
    if chosen == WEEKDAYS:
        return "on weekdays"
    names = [_PLURAL_DAYS[d] for d in sorted(chosen)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"on {listed}"


# -- a reminder row's schedule -------------------------------------------------------------


@lru_cache(maxsize=1024)
def zone(key: str) -> tzinfo:
    """The person's zone; an unknown key (should not happen) falls back to UTC."""
    try:
        return parsing.zone(key)
    except ValueError:
        return parsing.zone("UTC")


def format_times(times: tuple[time, ...] | list[time]) -> str:
    """Times as stored and shown: '10:30,13:30,16:00' (seconds only when set)."""
    return ",".join(t.strftime("%H:%M:%S" if t.second else "%H:%M") for t in times)


@lru_cache(maxsize=1024)
def parse_times(stored: str) -> tuple[time, ...]:
    """The stored form back into times."""
    return tuple(time.fromisoformat(part) for part in stored.split(",") if part)


@dataclass(frozen=True, slots=True)
class Controls:
    """What about a person changes when reminders go out."""

    tz: str
    quiet: tuple[time, time] | None = None
    paused_until: datetime | None = None
    stopped: bool = False
    reachable: bool = True

    @property
    def active(self) -> bool:
        """Whether reminders go out at all (not stopped, not known to be unreachable)."""
        return not self.stopped and self.reachable


class HasControls(Protocol):
    """A person's reminder columns, on an ORM Person or a Core row."""

    @property
    def tz(self) -> str: ...

    @property
    def quiet_start(self) -> time | None: ...

    @property
    def quiet_end(self) -> time | None: ...

    @property
    def paused_until(self) -> datetime | None: ...

    @property
    def stopped(self) -> bool: ...

    @property
    def reachable(self) -> bool: ...


def controls(
    tz: str,
    quiet_start: time | None,
    quiet_end: time | None,
    paused_until: datetime | None,
    stopped: bool,
    reachable: bool,
) -> Controls:
    """Controls from a person's columns."""
    quiet = (quiet_start, quiet_end) if quiet_start is not None and quiet_end is not None else None
    return Controls(tz, quiet, paused_until, bool(stopped), bool(reachable))


def controls_of(person: HasControls) -> Controls:
    """Controls from anything with a person's columns (an ORM Person or a Core row)."""
    return controls(
        person.tz,
        person.quiet_start,
        person.quiet_end,
        person.paused_until,
        person.stopped,
        person.reachable,
    )


@lru_cache(maxsize=65536)
def _due(
    times: str,
    days: frozenset[int],
    tz: str,
    after: datetime,
    quiet: tuple[time, time] | None,
    paused_until: datetime | None,
) -> tuple[datetime, datetime] | None:
    schedule = Schedule(parse_times(times), days)
    return next_due(schedule, zone(tz), after, quiet=quiet, paused_until=paused_until)


def due_after(
    times: str, days: frozenset[int], c: Controls, after: datetime
) -> tuple[datetime, datetime] | None:
    """A row's next (slot, send_at) strictly after `after`, honouring pause and quiet hours."""
    paused = c.paused_until if c.paused_until is not None and c.paused_until > after else None
    return _due(times, days, c.tz, after, c.quiet, paused)


def send_time(slot: datetime, c: Controls) -> datetime:
    """When a slot is sent: the slot moved out of quiet hours."""
    if c.quiet is None:
        return slot
    return apply_quiet_hours(slot, zone(c.tz), c.quiet)


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A reminder row's scheduling columns."""

    next_slot: datetime | None
    next_send_at: datetime | None
    snoozed_until: datetime | None


def fresh(
    times: str,
    days: frozenset[int],
    enabled: bool,
    snoozed_until: datetime | None,
    c: Controls,
    now: datetime,
) -> Scheduled:
    """Schedule a reminder from scratch at `now`: old slots are never owed after a change."""
    if not c.active:
        return Scheduled(None, None, None)
    extra = snoozed_until
    if extra is not None and (
        extra <= now or (c.paused_until is not None and extra < c.paused_until)
    ):
        extra = None
    if not enabled:
        return Scheduled(None, extra, extra)
    due = due_after(times, days, c, now)
    if due is None:
        return Scheduled(None, extra, extra)
    slot, send_at = due
    return Scheduled(slot, min(send_at, extra) if extra else send_at, extra)


def pause_end(today_local: datetime, days: int, tz: tzinfo) -> datetime:
    """The instant a pause of `days` days ends: local midnight `days` days after today."""
    day = today_local.date() + timedelta(days=days)
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
