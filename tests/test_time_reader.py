"""Times of day as people type them wherever a time is asked: /remind, /quiet, /club on."""

from __future__ import annotations

from datetime import time

from bot.app import App
from bot.parsing import parse_clock_time, parse_time_list, parse_time_range
from tests.conftest import Chat
from tests.test_clubs import in_group

# What people type for a time on a phone, and the time it means. A bare hour is read on the
# 24-hour clock (8 is 08:00, 20 is 20:00); the answer names the time so a slip shows.
TIMES = {
    "8": time(8),
    "08": time(8),
    "20": time(20),
    "0": time(0),
    "8am": time(8),
    "8 am": time(8),
    "8AM": time(8),
    "8 AM": time(8),
    "8a.m.": time(8),
    "8 a.m.": time(8),
    "8am.": time(8),
    "8pm": time(20),
    "8 pm": time(20),
    "8 p.m.": time(20),
    "8p": time(20),
    "8a": time(8),
    "8.30": time(8, 30),
    "8:30": time(8, 30),
    "08:30": time(8, 30),
    "8:30pm": time(20, 30),
    "8.30pm": time(20, 30),
    "8:30 pm": time(20, 30),
    "8.30 P.M.": time(20, 30),
    "7:05am": time(7, 5),
    "20:00": time(20),
    "20.00": time(20),
    "2000": time(20),
    "0800": time(8),
    "0730": time(7, 30),
    "730": time(7, 30),
    "730am": time(7, 30),
    "930pm": time(21, 30),
    "20h": time(20),
    "20h30": time(20, 30),
    "7h30": time(7, 30),
    "noon": time(12),
    "Noon": time(12),
    "12 noon": time(12),
    "midday": time(12),
    "mid-day": time(12),
    "midnight": time(0),
    "12am": time(0),
    "12pm": time(12),
    "12:30am": time(0, 30),
    "7 o'clock": time(7),
    "7 oclock": time(7),
    "7o'clock": time(7),
    "half past 7": time(7, 30),
    "half past 7pm": time(19, 30),
    "half 7": time(7, 30),
    "quarter past 8": time(8, 15),
    "quarter to 8": time(7, 45),
    "quarter to 8 pm": time(19, 45),
    "at 8": time(8),
    "at 8pm": time(20),
    "@ 8": time(8),
    "@8am": time(8),
    "around 7": time(7),
    "7ish": time(7),
    "7pm-ish": time(19),
    "seven": time(7),
    "seven pm": time(19),
    "eight thirty": time(8, 30),
    "8 in the morning": time(8),
    "8 in the evening": time(20),
    "9 at night": time(21),
    "8 tonight": time(20),
    "7 this evening": time(19),
    "3 in the afternoon": time(15),
    "7am every day": time(7),
    "7:30 daily": time(7, 30),
}
# Not a time: refused, so nothing is set from a guess.
NOT_TIMES = [
    "",
    "25",
    "24",
    "24:00",
    "2400",
    "8:60",
    "7:60",
    "13pm",
    "0am",
    "0pm",
    "20pm",
    "99",
    "-1",
    "8.5",
    "8:5",
    "abc",
    "tomorrow",
    "soon",
    "later",
    "morning",
    "evening",
    "8 9",
    "1260",
    "12345",
    "1.5h",
    "8 30 45",
    "half past",
    "quarter to",
    "half past 13",
    "quarter to 0",
    "8 in the evening pm",
    "12 in the evening",
    "3 in the morning pm",
    "8km",
    "8 times",
    "twenty",
    "eleventy",
    "nine thirty five",
    "off",
    "on",
]


def test_times_as_people_type_them_measured_on_a_corpus(capsys) -> None:
    got = {text: parse_clock_time(text) for text in [*TIMES, *NOT_TIMES]}
    right = [t for t, want in TIMES.items() if got[t] == want]
    wrong = [(t, want, got[t]) for t, want in TIMES.items() if got[t] != want]
    false = [(t, got[t]) for t in NOT_TIMES if got[t] is not None]
    with capsys.disabled():
        print(
            f"\ntime corpus: {len(right)}/{len(TIMES)} read right, "
            f"{len(false)} times read from {len(NOT_TIMES)} non-times"
        )
        for text, want, read in wrong:
            print(f"  {text!r}: expected {want}, read {read}")
        for text, read in false:
            print(f"  {text!r}: read {read} from a non-time")
    assert false == []
    assert wrong == []


def test_a_list_of_times_takes_the_new_forms() -> None:
    assert parse_time_list("8, 12, 4pm") == [time(8), time(12), time(16)]
    assert parse_time_list("10 14 16") == [time(10), time(14), time(16)]
    assert parse_time_list("half past 7 and 8 pm") == [time(7, 30), time(20)]
    assert parse_time_list("noon and midnight") == [time(0), time(12)]
    assert parse_time_list("8, later") is None


def test_quiet_hours_read_as_people_type_them() -> None:
    assert parse_time_range("22-7") == (time(22), time(7))
    assert parse_time_range("10pm-7am") == (time(22), time(7))
    assert parse_time_range("10pm - 7") == (time(22), time(7))
    assert parse_time_range("10 to 7am") == (time(22), time(7))
    assert parse_time_range("11-6") == (time(23), time(6))
    assert parse_time_range("22:30-6:45") == (time(22, 30), time(6, 45))
    assert parse_time_range("midnight to 6") == (time(0), time(6))
    assert parse_time_range("1-5") == (time(1), time(5))
    assert parse_time_range("13-17") == (time(13), time(17))
    assert parse_time_range("8-8") is None
    assert parse_time_range("late-early") is None


async def test_remind_takes_a_bare_hour_and_says_which_time_it_understood(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("/remind checkin 8")
    assert "Check-in reminder: 08:00 every day" in reply
    reply = await ann.say("/remind checkin half past 7pm")
    assert "Check-in reminder: 19:30 every day" in reply
    reply = await ann.say("/remind checkin at 8.30")
    assert "Check-in reminder: 08:30 every day" in reply


async def test_remind_refuses_nonsense_and_changes_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    before = await ann.say("/settings")
    assert "I couldn't read that time" in await ann.say("/remind checkin 25")
    assert "I couldn't read that time" in await ann.say("/remind checkin 8:75")
    assert await ann.say("/settings") == before


async def test_quiet_hours_take_a_bare_range(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Quiet hours 22:00-07:00" in await ann.say("/quiet 22-7")
    assert "Quiet hours 22:00-07:00" in await ann.say("/quiet 10pm-7am")
    assert "Quiet hours 23:00-06:00" in await ann.say("/quiet 11-6")


async def test_club_posts_take_a_bare_hour(app: App) -> None:
    replies = await in_group(app, "ada", "/club on 7", admin=True)
    assert "I'll post every day at 07:00" in replies[0].text
    replies = await in_group(app, "ada", "/club on half past 6", admin=True)
    assert "I'll post every day at 06:30" in replies[0].text
