"""Reminder times for runners in real time zones: DST, quiet hours, pauses and catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.timing import (
    DEFAULT_CHECKIN,
    DEFAULT_CORE,
    DEFAULT_GRACE,
    DEFAULT_POSTURE,
    NUDGE_DELAY,
    Schedule,
    apply_quiet_hours,
    catch_up,
    describe_next,
    format_local,
    local_date,
    next_due,
    next_fire,
    nudge_at,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
QUIET_NIGHT = (time(22, 0), time(7, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires(schedule: Schedule, tz: ZoneInfo | timezone, after: datetime, n: int) -> list[datetime]:
    """The next n fire instants, each computed from the one before."""
    out: list[datetime] = []
    for _ in range(n):
        after = next_fire(schedule, tz, after)
        assert after is not None
        out.append(after)
    return out


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


# --- daylight saving ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "change_day"),
    [
        (BERLIN, utc(2025, 3, 27), date(2025, 3, 30)),  # spring forward
        (BERLIN, utc(2025, 10, 23), date(2025, 10, 26)),  # fall back
        (NEW_YORK, utc(2025, 3, 6), date(2025, 3, 9)),
        (NEW_YORK, utc(2025, 10, 30), date(2025, 11, 2)),
    ],
)
def test_checkin_stays_at_eight_local_across_a_clock_change(
    tz: ZoneInfo, start: datetime, change_day: date
) -> None:
    got = fires(DEFAULT_CHECKIN, tz, start, 7)
    local = [f.astimezone(tz) for f in got]
    assert all(f.tzinfo is UTC for f in got)
    assert [lt.time() for lt in local] == [time(8, 0)] * 7
    days = [lt.date() for lt in local]
    assert days == [days[0] + timedelta(days=i) for i in range(7)]
    assert change_day in days
    # The UTC instant moves by exactly the hour the clocks moved.
    offsets = {f.astimezone(tz).utcoffset() for f in got}
    assert len(offsets) == 2
    assert max(offsets) - min(offsets) == timedelta(hours=1)


def test_reminder_in_the_skipped_hour_fires_once_when_the_gap_ends() -> None:
    two_thirty = Schedule((time(2, 30),))
    got = fires(two_thirty, BERLIN, utc(2025, 3, 28), 4)
    on_change_day = [f for f in got if local_date(f, BERLIN) == date(2025, 3, 30)]
    # 02:00-03:00 does not exist that night; the reminder comes at 03:00 CEST.
    assert on_change_day == [utc(2025, 3, 30, 1, 0)]
    assert [local_date(f, BERLIN).day for f in got] == [28, 29, 30, 31]


def test_reminder_in_the_skipped_hour_in_new_york() -> None:
    got = fires(Schedule((time(2, 30),)), NEW_YORK, utc(2025, 3, 8), 3)
    assert [format_local(f, NEW_YORK) for f in got] == [
        "2025-03-08 02:30",
        "2025-03-09 03:00",
        "2025-03-10 02:30",
    ]


@pytest.mark.parametrize(
    ("tz", "at", "start", "change_day"),
    [
        (BERLIN, time(2, 30), utc(2025, 10, 24), date(2025, 10, 26)),
        (NEW_YORK, time(1, 30), utc(2025, 11, 1), date(2025, 11, 2)),
    ],
)
def test_reminder_in_the_repeated_hour_fires_once(
    tz: ZoneInfo, at: time, start: datetime, change_day: date
) -> None:
    got = fires(Schedule((at,)), tz, start, 4)
    days = [local_date(f, tz) for f in got]
    assert days.count(change_day) == 1
    assert days == [days[0] + timedelta(days=i) for i in range(4)]
    first = next(f for f in got if local_date(f, tz) == change_day)
    # The first of the two occurrences, still on summer time.
    assert first.astimezone(tz).fold == 0
    assert first.astimezone(tz).dst() == timedelta(hours=1)


def test_asking_during_the_repeated_hour_does_not_fire_the_repeat() -> None:
    # 02:40 CET on the second pass through 02:xx: today's 02:30 was an hour ago.
    second_pass = utc(2025, 10, 26, 1, 40)
    assert next_fire(Schedule((time(2, 30),)), BERLIN, second_pass) == utc(2025, 10, 27, 1, 30)


def test_a_moment_before_spring_forward_still_sees_the_gap_slot() -> None:
    # CronTrigger rounds up to whole seconds, which here crosses the transition.
    just_before = utc(2025, 3, 30, 0, 59, 59, 500_000)
    assert next_fire(Schedule((time(2, 30),)), BERLIN, just_before) == utc(2025, 3, 30, 1, 0)
    assert next_fire(Schedule((time(2, 30),)), BERLIN, utc(2025, 3, 30, 1, 0)) == utc(
        2025, 3, 31, 0, 30
    )


def test_a_later_time_on_the_change_night_is_not_lost_behind_the_gap_slot() -> None:
    schedule = Schedule((time(2, 30), time(3, 15)))
    got = fires(schedule, BERLIN, utc(2025, 3, 29, 23, 0), 2)
    assert [format_local(f, BERLIN) for f in got] == ["2025-03-30 03:00", "2025-03-30 03:15"]


def test_midnight_reminder_is_not_skipped_the_day_after_spring_forward() -> None:
    # CronTrigger(timezone=Europe/Berlin) alone jumps from 31 March to 2 April here.
    got = fires(Schedule((time(0, 0),)), BERLIN, utc(2024, 3, 30), 3)
    assert [format_local(f, BERLIN) for f in got] == [
        "2024-03-31 00:00",
        "2024-04-01 00:00",
        "2024-04-02 00:00",
    ]


def test_reminder_in_a_gap_at_midnight_fires_when_the_gap_ends() -> None:
    # Egypt springs forward from 00:00 to 01:00 on Friday 25 April 2025.
    cairo = ZoneInfo("Africa/Cairo")
    got = fires(Schedule((time(0, 30),)), cairo, utc(2025, 4, 23), 3)
    assert [format_local(f, cairo) for f in got] == [
        "2025-04-24 00:30",
        "2025-04-25 01:00",
        "2025-04-26 00:30",
    ]


# --- schedules ------------------------------------------------------------------------


def test_posture_nudges_skip_the_weekend() -> None:
    # Friday 2025-11-21 morning, Berlin.
    got = fires(DEFAULT_POSTURE, BERLIN, utc(2025, 11, 21, 6, 0), 6)
    assert [format_local(f, BERLIN) for f in got] == [
        "2025-11-21 10:30",
        "2025-11-21 13:30",
        "2025-11-21 16:00",
        "2025-11-24 10:30",
        "2025-11-24 13:30",
        "2025-11-24 16:00",
    ]


def test_next_fire_is_strictly_after() -> None:
    slot = next_fire(DEFAULT_CORE, BERLIN, utc(2025, 6, 1))
    assert slot == utc(2025, 6, 1, 16, 0)
    assert next_fire(DEFAULT_CORE, BERLIN, slot) == utc(2025, 6, 2, 16, 0)
    assert next_fire(DEFAULT_CORE, BERLIN, slot - timedelta(microseconds=1)) == slot


def test_fixed_offset_zone() -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    got = fires(DEFAULT_CHECKIN, india, utc(2025, 1, 1), 2)
    assert got == [utc(2025, 1, 1, 2, 30), utc(2025, 1, 2, 2, 30)]


def test_person_moving_zone_gets_the_next_fire_in_the_new_zone() -> None:
    now = utc(2025, 6, 10, 5, 0)  # 07:00 in Berlin, 01:00 in New York
    in_berlin = next_fire(DEFAULT_CHECKIN, BERLIN, now)
    in_new_york = next_fire(DEFAULT_CHECKIN, NEW_YORK, now)
    assert in_berlin == utc(2025, 6, 10, 6, 0)
    assert in_new_york == utc(2025, 6, 10, 12, 0)
    assert format_local(in_new_york, NEW_YORK) == "2025-06-10 08:00"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire(DEFAULT_CHECKIN, BERLIN, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="at least one"):
        Schedule(())


# --- quiet hours, pause, catch-up -----------------------------------------------------


def test_quiet_hours_wrapping_midnight_move_a_late_reminder_to_the_morning() -> None:
    late = datetime(2025, 6, 10, 23, 15, tzinfo=BERLIN).astimezone(UTC)
    early = datetime(2025, 6, 11, 6, 59, tzinfo=BERLIN).astimezone(UTC)
    morning = datetime(2025, 6, 11, 7, 0, tzinfo=BERLIN).astimezone(UTC)
    assert apply_quiet_hours(late, BERLIN, QUIET_NIGHT) == morning
    assert apply_quiet_hours(early, BERLIN, QUIET_NIGHT) == morning
    # The window is [start, end): 07:00 itself and 21:59 are outside it.
    assert apply_quiet_hours(morning, BERLIN, QUIET_NIGHT) == morning
    evening = datetime(2025, 6, 10, 21, 59, tzinfo=BERLIN).astimezone(UTC)
    assert apply_quiet_hours(evening, BERLIN, QUIET_NIGHT) == evening


def test_quiet_hours_not_wrapping() -> None:
    lunch = (time(12, 0), time(14, 0))
    inside = datetime(2025, 6, 10, 13, 30, tzinfo=BERLIN).astimezone(UTC)
    outside = datetime(2025, 6, 10, 14, 30, tzinfo=BERLIN).astimezone(UTC)
    end = datetime(2025, 6, 10, 14, 0, tzinfo=BERLIN).astimezone(UTC)
    assert apply_quiet_hours(inside, BERLIN, lunch) == end
    assert apply_quiet_hours(outside, BERLIN, lunch) == outside
    assert apply_quiet_hours(inside, BERLIN, None) == inside
    assert apply_quiet_hours(inside, BERLIN, (time(9, 0), time(9, 0))) == inside


def test_quiet_hours_ending_on_a_clock_change_morning() -> None:
    # Quiet until 02:30, which does not exist on 2025-03-30 in Berlin.
    late = datetime(2025, 3, 29, 23, 0, tzinfo=BERLIN).astimezone(UTC)
    assert apply_quiet_hours(late, BERLIN, (time(22, 0), time(2, 30))) == utc(2025, 3, 30, 1, 0)


def test_next_due_keeps_the_slot_and_shifts_only_the_send() -> None:
    early = Schedule((time(6, 0),))
    due = next_due(early, BERLIN, utc(2025, 6, 10), quiet=QUIET_NIGHT)
    assert due is not None
    slot, send_at = due
    assert format_local(slot, BERLIN) == "2025-06-10 06:00"
    assert format_local(send_at, BERLIN) == "2025-06-10 07:00"
    # Advancing from the slot gives the next day's slot, not a second one today.
    following = next_due(early, BERLIN, slot, quiet=QUIET_NIGHT)
    assert following is not None
    assert format_local(following[0], BERLIN) == "2025-06-11 06:00"


def test_paused_person_gets_nothing_until_the_pause_ends() -> None:
    now = utc(2025, 6, 10, 9, 0)
    paused_until = now + timedelta(days=3)
    due = next_due(DEFAULT_CHECKIN, BERLIN, now, paused_until=paused_until)
    assert due is not None
    assert format_local(due[0], BERLIN) == "2025-06-14 08:00"
    # A pause already over changes nothing.
    resumed = next_due(DEFAULT_CHECKIN, BERLIN, now, paused_until=now - timedelta(days=1))
    assert resumed is not None
    assert format_local(resumed[0], BERLIN) == "2025-06-11 08:00"


def test_catch_up_only_within_the_grace_window() -> None:
    due = utc(2025, 6, 10, 6, 0)
    assert catch_up(due, due + timedelta(minutes=29), DEFAULT_GRACE)
    assert catch_up(due, due + DEFAULT_GRACE, DEFAULT_GRACE)
    assert not catch_up(due, due + DEFAULT_GRACE + timedelta(seconds=1), DEFAULT_GRACE)
    assert not catch_up(due, due + timedelta(hours=9), DEFAULT_GRACE)


# --- nudge and display ----------------------------------------------------------------


def test_missed_checkin_gets_one_nudge_the_same_afternoon() -> None:
    slot = datetime(2025, 6, 10, 8, 0, tzinfo=BERLIN).astimezone(UTC)
    assert nudge_at(slot, BERLIN) == slot + NUDGE_DELAY
    assert format_local(slot + NUDGE_DELAY, BERLIN) == "2025-06-10 12:00"


def test_no_nudge_late_in_the_evening_or_in_quiet_hours() -> None:
    evening = datetime(2025, 6, 10, 18, 0, tzinfo=BERLIN).astimezone(UTC)
    assert nudge_at(evening, BERLIN) is None
    at_limit = datetime(2025, 6, 10, 17, 0, tzinfo=BERLIN).astimezone(UTC)
    assert nudge_at(at_limit, BERLIN) == at_limit + NUDGE_DELAY
    late_night = datetime(2025, 6, 10, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    assert nudge_at(late_night, BERLIN) is None
    morning = datetime(2025, 6, 10, 8, 0, tzinfo=BERLIN).astimezone(UTC)
    assert nudge_at(morning, BERLIN, quiet=(time(11, 0), time(13, 0))) is None


def test_describe_next_for_the_settings_screen() -> None:
    now = datetime(2025, 11, 20, 9, 0, tzinfo=BERLIN)  # a Thursday
    assert describe_next(datetime(2025, 11, 20, 18, 0, tzinfo=BERLIN), BERLIN, now) == (
        "today 18:00"
    )
    assert describe_next(datetime(2025, 11, 21, 8, 0, tzinfo=BERLIN), BERLIN, now) == (
        "tomorrow 08:00"
    )
    assert describe_next(datetime(2025, 11, 24, 10, 30, tzinfo=BERLIN), BERLIN, now) == (
        "Mon 24 Nov 10:30"
    )
    # "Today" is the person's date, not UTC's: 00:30 Berlin is still yesterday in UTC.
    assert describe_next(utc(2025, 11, 20, 23, 30), BERLIN, utc(2025, 11, 20, 22, 0)) == (
        "tomorrow 00:30"
    )


# --- property: one fire per local day, in any zone ------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
    "Africa/Cairo",  # springs forward at midnight
    "America/St_Johns",  # -03:30
    "Australia/Lord_Howe",  # 30-minute DST
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Chatham",  # +12:45 with DST
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Asia/Kolkata",
]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    at=st.times().map(lambda t: t.replace(microsecond=0)),
)
def test_daily_schedule_fires_once_per_local_day(zone: str, start: datetime, at: time) -> None:
    tz = ZoneInfo(zone)
    got = fires(Schedule((at,)), tz, start, 60)
    assert all(b > a for a, b in pairwise(got))
    days = [local_date(f, tz) for f in got]
    assert days == [days[0] + timedelta(days=i) for i in range(60)]
    assert days[0] - local_date(start, tz) in (timedelta(0), timedelta(days=1))
    for fire, day in zip(got, days, strict=True):
        wall = fire.astimezone(tz).replace(tzinfo=None)
        # Either the asked-for wall time, or (that time skipped) the end of the gap.
        assert wall.time() == at or not exists(datetime.combine(day, at), tz)
