"""What people type on a phone, and what the bot reads out of it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import (
    NOTE_LIMIT,
    Command,
    check_backfill,
    clean_text,
    looks_like_score_attempt,
    parse_clock_time,
    parse_command,
    parse_days,
    parse_duration,
    parse_log_date,
    parse_score,
    parse_time_list,
    parse_time_range,
    parse_timezone,
    suggest_timezones,
    zone,
)
from bot.redflags import read

TODAY = date(2026, 3, 10)
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]

# ---------------------------------------------------------------------------
# clean_text
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (None, ""),
        ("  sore   after\t\tthe long run  ", "sore after the long run"),
        ("line one\r\n\r\n  line two", "line one\nline two"),
        ("fe\u200bver", "fever"),
        ("\u202eevil\u202c note\u2066", "evil note"),
        ("\ufeffbell\x07", "bell"),
        ("４ ｐａｉｎ", "4 pain"),
    ],
)
def test_clean_text_strips_invisible_characters_and_tidies_whitespace(raw, cleaned):
    assert clean_text(raw) == cleaned


def test_a_long_note_is_cut_to_the_note_limit():
    assert len(clean_text("slow 10k, " * 100, NOTE_LIMIT)) <= NOTE_LIMIT


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_clean_text_is_idempotent_and_within_the_limit(text, limit):
    once = clean_text(text, limit)
    assert len(once) <= limit
    assert clean_text(once, limit) == once


# ---------------------------------------------------------------------------
# parse_score
# ---------------------------------------------------------------------------

ACCEPTED = [
    ("4", 4),
    (" 4 ", 4),
    ("4/10", 4),
    ("4 / 10", 4),
    ("4 out of 10", 4),
    ("pain 4", 4),
    ("Pain: 4", 4),
    ("pain is 4 today", 4),
    ("pain=4", 4),
    ("my pain is a 4", 4),
    ("it’s a 4", 4),
    ("four", 4),
    ("Four", 4),
    ("four out of ten", 4),
    ("ten", 10),
    ("zero", 0),
    ("0", 0),
    ("10", 10),
    ("10/10", 10),
    ('"4."', 4),
    ("4.", 4),
    ("4!", 4),
    ("4\ufe0f\u20e3", 4),
    ("\U0001f51f", 10),
    ("４", 4),
    ("4 😣", 4),
]

REJECTED = [
    "11",
    "-1",
    "3.5",
    "3,5",
    "4-5",
    "4 or 5",
    "banana",
    "",
    "   ",
    "4" * 10_000,
    "4 " + "pain " * 2_000,
    "😀😀",
    "'; DROP TABLE checkins;--",
    "4/5",
    "4 out of 5",
    "100",
    "1e1",
    "0x4",
    "2026-03-04",
    "7:30",
    "I ran 5 km",
    "4 today, 5 yesterday",
    "/4",
]


@pytest.mark.parametrize(("text", "score"), ACCEPTED)
def test_a_clear_pain_report_is_read_as_its_score(text, score):
    assert parse_score(text) == score


@pytest.mark.parametrize("text", REJECTED)
def test_anything_ambiguous_is_not_a_score(text):
    assert parse_score(text) is None


FORMATS = ["{}", " {} ", "{}/10", "{} / 10", "{} out of 10", "pain {}", "Pain: {}", "pain={}"]
FORMATS += ["pain is {} today", "my pain is a {}", "{}.", "{}!", "{}\ufe0f\u20e3"]


@given(st.integers(min_value=0, max_value=10), st.sampled_from(FORMATS))
def test_every_score_in_every_accepted_format_reads_as_itself(score, fmt):
    if "\u20e3" in fmt and score == 10:
        fmt = "{}"  # there is no keycap 10 made of digits; 🔟 is tested above
    assert parse_score(fmt.format(score)) == score


@given(st.integers(min_value=0, max_value=10), st.sampled_from(["{}", "pain {}", "{} out of ten"]))
def test_every_score_word_reads_as_its_number(score, fmt):
    assert parse_score(fmt.format(WORDS[score])) == score
    assert parse_score(fmt.format(WORDS[score]).upper()) == score


@given(st.integers().filter(lambda n: not 0 <= n <= 10), st.sampled_from(FORMATS[:6]))
def test_a_whole_number_outside_the_scale_is_not_a_score(number, fmt):
    assert parse_score(fmt.format(number)) is None


@given(st.decimals(min_value=-20, max_value=20, places=2).filter(lambda d: d != int(d)))
def test_a_decimal_is_not_a_score_but_is_a_score_attempt(value):
    assert parse_score(str(value)) is None
    assert looks_like_score_attempt(str(value))


@given(st.text())
def test_arbitrary_text_never_raises_and_yields_a_score_on_the_scale_or_none(text):
    score = parse_score(text)
    assert score is None or 0 <= score <= 10
    assert isinstance(looks_like_score_attempt(text), bool)


@pytest.mark.parametrize("text", ["11", "-1", "3.5", "3,5", "4-5", "4 or 5", "4/5", "100"])
def test_a_mistyped_score_is_recognised_as_an_attempt(text):
    assert looks_like_score_attempt(text)


@pytest.mark.parametrize("text", ["4", "banana", "I ran 5 km", "", "😀", "how are you?"])
def test_a_valid_score_or_ordinary_chat_is_not_a_failed_attempt(text):
    assert not looks_like_score_attempt(text)


# ---------------------------------------------------------------------------
# parse_command
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/checkin 4", Command("checkin", ("4",), "4")),
        ("/checkin@SiCheckinBot 4", Command("checkin", ("4",), "4")),
        ("/Help", Command("help", (), "")),
        ("  /log 4   yesterday ", Command("log", ("4", "yesterday"), "4 yesterday")),
        (
            "/note felt tight\non the hills",
            Command("note", ("felt", "tight", "on", "the", "hills"), "felt tight\non the hills"),
        ),
        ("/time_zone Europe/Berlin", Command("time_zone", ("Europe/Berlin",), "Europe/Berlin")),
        ("/undo!", Command("undo", (), "")),
        ("/help?? ", Command("help", (), "")),
        # A name with a digit is a name (Telegram allows them): unknown, so a suggestion.
        ("/checkin4", Command("checkin4", (), "")),
    ],
)
def test_a_slash_command_is_split_into_name_and_arguments(text, command):
    assert parse_command(text) == command


@pytest.mark.parametrize(
    "text", ["4", "checkin 4", "/", "/ 4", "/4", "!checkin", "/!undo", "/" + "a" * 33, ""]
)
def test_text_that_is_not_a_command_is_none(text):
    assert parse_command(text) is None


# ---------------------------------------------------------------------------
# parse_log_date and check_backfill
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "day"),
    [
        (None, TODAY),
        ("", TODAY),
        ("today", TODAY),
        ("Yesterday", date(2026, 3, 9)),
        ("2026-03-04", date(2026, 3, 4)),
        ("-2", date(2026, 3, 8)),
        ("2d", date(2026, 3, 8)),
        ("2 days ago", date(2026, 3, 8)),
        ("1 day ago", date(2026, 3, 9)),
    ],
)
def test_a_log_date_is_read_relative_to_today(arg, day):
    assert parse_log_date(arg, TODAY) == day


@pytest.mark.parametrize("arg", ["2026-02-30", "tomorrowish", "3", "03/04/2026", "-99999"])
def test_a_log_argument_that_is_not_a_date_gets_a_one_line_explanation(arg):
    answer = parse_log_date(arg, TODAY)
    assert isinstance(answer, str)
    assert "\n" not in answer


def test_backfill_allows_today_and_the_last_fourteen_days():
    assert check_backfill(TODAY, TODAY) is None
    assert check_backfill(TODAY - timedelta(days=14), TODAY) is None


def test_backfill_refuses_the_future_and_older_days():
    assert check_backfill(TODAY + timedelta(days=1), TODAY).startswith("That date is in the future")
    assert check_backfill(TODAY - timedelta(days=15), TODAY).startswith(
        "I can only backfill the last 14 days"
    )


# ---------------------------------------------------------------------------
# Time zones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New_York", "America/New_York"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("NYC", "America/New_York"),
        ("LA", "America/Los_Angeles"),
        ("San Francisco", "America/Los_Angeles"),
        ("Washington", "America/New_York"),
        ("Boston", "America/New_York"),
        ("Seattle", "America/Los_Angeles"),
        ("Dallas", "America/Chicago"),
        ("Mumbai", "Asia/Kolkata"),
        ("Delhi", "Asia/Kolkata"),
        ("Beijing", "Asia/Shanghai"),
        ("UK", "Europe/London"),
        ("UTC", "UTC"),
        ("GMT", "UTC"),
        ("Indianapolis", "America/Indiana/Indianapolis"),
        ("+02:00", "UTC+02:00"),
        ("+2", "UTC+02:00"),
        ("-0530", "UTC-05:30"),
        ("UTC+5:30", "UTC+05:30"),
        ("GMT-3", "UTC-03:00"),
        ("utc+14", "UTC+14:00"),
        ("-12:00", "UTC-12:00"),
        ("-0", "UTC+00:00"),
    ],
)
def test_a_zone_city_or_offset_becomes_a_canonical_key(text, key):
    assert parse_timezone(text) == key


@pytest.mark.parametrize("text", ["", "Atlantis", "+15", "-13", "+05:75", "../../etc/passwd", "4"])
def test_an_unknown_zone_is_none(text):
    assert parse_timezone(text) is None


def test_an_iana_key_gives_a_zone_that_follows_daylight_saving():
    berlin = zone("Europe/Berlin")
    assert datetime(2026, 1, 15, 12, tzinfo=berlin).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 7, 15, 12, tzinfo=berlin).utcoffset() == timedelta(hours=2)


def test_an_offset_key_gives_a_fixed_zone():
    assert datetime(2026, 7, 15, tzinfo=zone("UTC-05:30")).utcoffset() == -timedelta(
        hours=5, minutes=30
    )


@pytest.mark.parametrize("key", ["Mars/Olympus", "../etc/passwd", "UTC+15:00", "", "berlin"])
def test_an_unknown_key_is_a_value_error(key):
    with pytest.raises(ValueError):
        zone(key)


@given(st.text(max_size=40))
def test_every_parsed_zone_key_can_be_turned_into_a_zone(text):
    key = parse_timezone(text)
    if key is not None:
        assert zone(key) is not None


def test_autocomplete_suggests_matching_zones_best_first():
    assert suggest_timezones("berl")[0] == "Europe/Berlin"
    assert "America/New_York" in suggest_timezones("new y")
    assert "America/Argentina/Buenos_Aires" in suggest_timezones("buenos")
    assert len(suggest_timezones("a", limit=5)) == 5
    assert suggest_timezones("") == []


def test_autocomplete_only_offers_keys_that_make_zones():
    for key in suggest_timezones("america", limit=50):
        assert zone(key) is not None


# ---------------------------------------------------------------------------
# Durations, clock times, pause days
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("90m", timedelta(minutes=90)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1 hour and 30 minutes", timedelta(hours=1, minutes=30)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
        ("3 days", timedelta(days=3)),
    ],
)
def test_a_duration_is_read_with_its_units(text, duration):
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["", "90", "0m", "5 parsecs", "soon", "-1h", "1h30"])
def test_a_duration_without_clear_units_is_none(text):
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("19:00", time(19, 0)),
        ("0730", time(7, 30)),
        ("7pm", time(19, 0)),
        ("7 PM", time(19, 0)),
        ("7:30am", time(7, 30)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("noon", time(12, 0)),
        ("7", time(7, 0)),
        ("seven", time(7, 0)),
    ],
)
def test_a_clock_time_is_read_in_24_or_12_hour_form(text, when):
    assert parse_clock_time(text) == when


@pytest.mark.parametrize("text", ["", "24", "24:00", "7:60", "13pm", "0am", "2400", "seventy"])
def test_an_impossible_or_ambiguous_clock_time_is_none(text):
    assert parse_clock_time(text) is None


@pytest.mark.parametrize(
    ("text", "times"),
    [
        ("10:00,14:00", [time(10), time(14)]),
        ("14:00 10:00", [time(10), time(14)]),
        ("7 pm, 7am, 19:00", [time(7), time(19)]),
    ],
)
def test_a_list_of_times_is_sorted_without_repeats(text, times):
    assert parse_time_list(text) == times


@pytest.mark.parametrize("text", ["", "10:00, later", "25:00"])
def test_a_time_list_with_anything_unreadable_is_none(text):
    assert parse_time_list(text) is None


def test_a_quiet_window_may_wrap_past_midnight():
    assert parse_time_range("22:00-07:00") == (time(22), time(7))
    assert parse_time_range("10pm to 7am") == (time(22), time(7))


@pytest.mark.parametrize("text", ["22:00", "22:00-22:00", "22:00-07:00-09:00", "late-early"])
def test_a_window_that_is_not_two_different_times_is_none(text):
    assert parse_time_range(text) is None


@pytest.mark.parametrize(
    ("text", "days"), [("3", 3), ("3d", 3), ("3 days", 3), ("1 day", 1), ("2w", 14), ("90", 90)]
)
def test_a_pause_length_is_read_in_days(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["0", "91", "-3", "13w", "forever", ""])
def test_a_pause_outside_one_to_ninety_days_is_none(text):
    assert parse_days(text) is None


# ---------------------------------------------------------------------------
# Red-flag words
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("numb between my legs", {"saddle"}),
        ("Saddle numbness since this morning", {"saddle"}),
        ("numb groin", {"saddle"}),
        ("I can’t pee properly", {"bladder_bowel"}),
        ("cant pee", {"bladder_bowel"}),
        ("some incontinence", {"bladder_bowel"}),
        ("I wet myself", {"bladder_bowel"}),
        ("bowel feels off", {"bladder_bowel"}),
        ("pain down both legs", {"both_legs"}),
        ("both my legs are numb", {"both_legs"}),
        ("my left leg is weak", {"weak_one_leg"}),
        ("legs weak on the stairs", {"both_legs"}),
        ("foot drop", {"leg_weakness"}),
        ("my leg gave way", {"leg_weakness"}),
        ("left leg numb", {"numb_one_leg"}),
        ("tingling down my calf", {"numb_one_leg"}),
        ("PINS AND NEEDLES", {"numb_one_leg"}),
        ("fever", {"fever"}),
        ("feeling feverish", {"fever"}),
        ("I have a temperature", {"fever"}),
        ("worse at night", {"night_pain"}),
        ("hurts even at rest", {"night_pain"}),
        ("it wakes me up", {"night_pain"}),
        ("I fell on the trail", {"fall"}),
        ("bike crash", {"fall"}),
        ("car accident yesterday", {"fall"}),
        ("got hit by a cyclist", {"fall"}),
        ("fell and now I can't pee", {"fall", "bladder_bowel"}),
    ],
)
def test_red_flag_words_are_spotted_in_free_text(text, codes):
    assert read(text).codes == codes


@pytest.mark.parametrize(
    "text", ["4", "pain 4 today", "7/10", "easy 5k, felt fine", "", "hip weakness drills today"]
)
def test_an_ordinary_report_has_no_red_flags(text):
    assert read(text).codes == frozenset()


@given(st.integers(min_value=0, max_value=10), st.sampled_from(FORMATS[:8]))
def test_no_plain_score_ever_raises_a_red_flag(score, fmt):
    assert read(fmt.format(score)).codes == frozenset()
