"""The /run reader over the corpus of phone-typed run details, and weekly load arithmetic."""

from __future__ import annotations

import timeit
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runs import Run, RunReading, distances, load_line, preferred_unit, read_run, weekly_load

CORPUS_PATH = Path(__file__).parent / "run_corpus.yaml"
MIN_READ_RIGHT = 0.97
KM_TOLERANCE = 0.01
MIN_TOLERANCE = 0.01

CORPUS: dict[str, list[list[Any]]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))
READS = [(text, want) for text, want in CORPUS["reads"]]
UNREADABLE = [text for text, _ in CORPUS["unreadable"]]


def as_expected(reading: RunReading) -> dict[str, Any]:
    """A reading in the corpus's short form (absent fields left out)."""
    out: dict[str, Any] = {}
    if reading.score is not None:
        out["s"] = reading.score
    if reading.phase is not None:
        out["p"] = reading.phase
    if reading.yesterday:
        out["y"] = True
    if reading.km is not None:
        out["km"] = reading.km
    if reading.unit is not None:
        out["u"] = reading.unit
    if reading.minutes is not None:
        out["min"] = reading.minutes
    if reading.surface is not None:
        out["sf"] = reading.surface
    return out


def read_right(text: str, want: dict[str, Any]) -> bool:
    reading = read_run(text)
    if reading.unread:
        return False
    got = as_expected(reading)
    if got.keys() != want.keys():
        return False
    for key, value in want.items():
        if key == "km" and abs(got[key] - value) > KM_TOLERANCE * max(1.0, value) + 0.05:
            return False
        if key == "min" and abs(got[key] - value) > MIN_TOLERANCE * value + 0.5:
            return False
        if key not in ("km", "min") and got[key] != value:
            return False
    return True


def usable(text: str) -> bool:
    """Whether /run would act on the reading (store something)."""
    reading = read_run(text)
    return not reading.unread and reading.said_anything


def test_the_corpus_is_big_and_well_formed() -> None:
    assert set(CORPUS) == {"reads", "unreadable"}
    assert len(READS) >= 120
    assert len(UNREADABLE) >= 20
    texts = [text for text, _ in READS] + UNREADABLE
    assert len(texts) == len(set(texts)), "duplicate corpus lines"
    keys = {"s", "p", "y", "km", "u", "min", "sf"}
    for text, want in READS:
        assert isinstance(want, dict) and want and set(want) <= keys, text
        assert ("km" in want) == ("u" in want), text


def test_share_read_right_and_false_reads_over_the_corpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wrong = [
        (text, want, as_expected(read_run(text)), read_run(text).unread)
        for text, want in READS
        if not read_right(text, want)
    ]
    false_reads = [(text, as_expected(read_run(text))) for text in UNREADABLE if usable(text)]
    share = 1 - len(wrong) / len(READS)
    with capsys.disabled():
        print(
            f"\nrun corpus: {share:.1%} read right ({len(READS) - len(wrong)}/{len(READS)}), "
            f"{len(wrong)} wrong, {len(false_reads)} false reads on {len(UNREADABLE)} "
            "unreadable lines"
        )
        for text, want, got, unread in wrong:
            print(
                f"  {text!r}: expected {want}, read {got}"
                + (f", unread {unread}" if unread else "")
            )
        for text, got in false_reads:
            print(f"  false read {text!r}: {got}")
    assert not false_reads
    assert share >= MIN_READ_RIGHT


def test_a_read_takes_well_under_a_millisecond(capsys: pytest.CaptureFixture[str]) -> None:
    texts = [text for text, _ in READS] + UNREADABLE
    seconds = timeit.timeit(lambda: [read_run(t) for t in texts], number=3)
    per_read = seconds / (3 * len(texts))
    with capsys.disabled():
        print(f"\nrun reader: {per_read * 1e6:.0f} µs per read")
    assert per_read < 1e-3


@pytest.mark.parametrize(
    ("text", "unread"),
    [
        ("4 after 8klm", ("8klm",)),  # the word it stopped at is named back
        ("4 8", ("8",)),
        ("4 after 8k 10k", ("two distances",)),
        ("4 after 800km", ("800 km",)),
    ],
)
def test_what_cannot_be_read_is_named(text: str, unread: tuple[str, ...]) -> None:
    assert read_run(text).unread == unread


def test_half_marathon_with_its_distance_is_one_distance_not_two() -> None:
    reading = read_run("5 after half marathon 21k")
    assert reading.unread == ()
    assert reading.km == pytest.approx(21.0975)


# ---------------------------------------------------------------------------------------
# Weekly load
# ---------------------------------------------------------------------------------------

TODAY = date(2026, 3, 30)


def test_weekly_load_counts_rolling_weeks_back_from_today() -> None:
    runs = [
        Run(TODAY, after=3, km=10.0, minutes=55.0),
        Run(TODAY - timedelta(days=6), km=8.0),  # still this week
        Run(TODAY - timedelta(days=7), km=5.0, minutes=30.0),  # last week
        Run(TODAY - timedelta(days=14), during=2),  # a run with a score only
    ]
    this_week, last_week, before = weekly_load(runs, TODAY, weeks=3)
    assert (this_week.km, this_week.minutes, this_week.runs) == (18.0, 55.0, 2)
    assert (last_week.first, last_week.last) == (
        TODAY - timedelta(days=13),
        TODAY - timedelta(days=7),
    )
    assert (last_week.km, last_week.minutes, last_week.runs) == (5.0, 30.0, 1)
    assert (before.km, before.runs) == (0.0, 1)
    assert load_line(this_week) == "18 km, 55 min over 2 runs"
    assert load_line(before) == "1 run"
    assert load_line(weekly_load([], TODAY, weeks=1)[0]) == "no runs logged"


def test_miles_are_shown_in_miles_for_someone_who_gave_miles() -> None:
    runs = [Run(TODAY - timedelta(days=1), km=8.04672, unit="mi"), Run(TODAY, km=5.0, unit="km")]
    assert preferred_unit(runs) == "km"  # the last distance given decides
    assert preferred_unit(runs[:1]) == "mi"
    week = weekly_load(runs[:1], TODAY, weeks=1)[0]
    assert load_line(week, "mi") == "5 mi over 1 run"
    assert distances(runs) == {TODAY - timedelta(days=1): 8.04672, TODAY: 5.0}
