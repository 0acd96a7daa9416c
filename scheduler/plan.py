"""A reminder's next (slot, send_at) from its row and its person's controls: pure and cached.

The handlers (on /remind, /quiet, /pause, a time-zone change) and the dispatcher (after each
send) both advance reminders through here, so the rules live in one place. Many people share
a schedule and a zone, so results are memoised on plain, hashable values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from bot import parsing
from scheduler import timing

KINDS = ("checkin", "core", "posture")
DEFAULTS: dict[str, timing.Schedule] = {
    "checkin": timing.DEFAULT_CHECKIN,
    "core": timing.DEFAULT_CORE,
    "posture": timing.DEFAULT_POSTURE,
}
# The most times one reminder may have in a day (posture nudges); more is nagging.
MAX_TIMES = 8


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


def controls_of(person: Any) -> Controls:
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
    weekdays_only: bool,
    tz: str,
    after: datetime,
    quiet: tuple[time, time] | None,
    paused_until: datetime | None,
) -> tuple[datetime, datetime] | None:
    schedule = timing.Schedule(parse_times(times), weekdays_only)
    return timing.next_due(schedule, zone(tz), after, quiet=quiet, paused_until=paused_until)


def next_due(
    times: str, weekdays_only: bool, c: Controls, after: datetime
) -> tuple[datetime, datetime] | None:
    """The next (slot, send_at) strictly after `after`, honouring pause and quiet hours."""
    paused = c.paused_until if c.paused_until is not None and c.paused_until > after else None
    return _due(times, weekdays_only, c.tz, after, c.quiet, paused)


def send_time(slot: datetime, c: Controls) -> datetime:
    """When a slot is sent: the slot moved out of quiet hours."""
    if c.quiet is None:
        return slot
    return timing.apply_quiet_hours(slot, zone(c.tz), c.quiet)


@dataclass(frozen=True, slots=True)
class Due:
    """A reminder row's scheduling columns."""

    next_slot: datetime | None
    next_send_at: datetime | None
    snoozed_until: datetime | None


def fresh(
    times: str,
    weekdays_only: bool,
    enabled: bool,
    snoozed_until: datetime | None,
    c: Controls,
    now: datetime,
) -> Due:
    """Schedule a reminder from scratch at `now`: old slots are never owed after a change."""
    if not c.active:
        return Due(None, None, None)
    extra = snoozed_until
    if extra is not None and (
        extra <= now or (c.paused_until is not None and extra < c.paused_until)
    ):
        extra = None
    if not enabled:
        return Due(None, extra, extra)
    due = next_due(times, weekdays_only, c, now)
    if due is None:
        return Due(None, extra, extra)
    slot, send_at = due
    return Due(slot, min(send_at, extra) if extra else send_at, extra)


def pause_end(today_local: datetime, days: int, tz: tzinfo) -> datetime:
    """The instant a pause of `days` days ends: local midnight `days` days after today."""
    day = today_local.date() + timedelta(days=days)
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
