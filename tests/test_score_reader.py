"""The score reader over the corpus of phone-typed answers, and its rules for tricky cases."""

from __future__ import annotations

import timeit
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from bot.parsing import ScoreReading, looks_like_score_attempt, parse_score, read_score, score_in

CORPUS_PATH = Path(__file__).parent / "score_corpus.yaml"
MIN_READ_RIGHT = 0.97

CORPUS: dict[str, list[list]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))
ENTRIES = [(text, expected) for entries in CORPUS.values() for text, expected in entries]


def test_the_corpus_is_big_and_well_formed():
    assert set(CORPUS) == {"scores", "negatives", "ambiguous"}
    assert len(ENTRIES) >= 300
    assert len(CORPUS["negatives"]) >= 100
    texts = [text for text, _ in ENTRIES]
    assert len(texts) == len(set(texts)), "duplicate corpus lines"
    for group, entries in CORPUS.items():
        for text, expected in entries:
            assert isinstance(text, str) and text, (group, text)
            if group == "scores":
                assert isinstance(expected, int) and 0 <= expected <= 10, text
            else:
                assert expected is None, text


def test_share_read_right_and_false_scores_over_the_corpus(capsys):
    wrong = [(text, want, score_in(text)) for text, want in ENTRIES if score_in(text) != want]
    nulls = [text for group in ("negatives", "ambiguous") for text, _ in CORPUS[group]]
    false_scores = [(text, score_in(text)) for text in nulls if score_in(text) is not None]
    share = 1 - len(wrong) / len(ENTRIES)
    with capsys.disabled():
        print(
            f"\nscore corpus: {share:.1%} read right ({len(ENTRIES) - len(wrong)}/{len(ENTRIES)}),"
            f" {len(false_scores)} false scores on {len(nulls)} null lines"
        )
        for text, want, got in wrong:
            print(f"  {text!r}: expected {want}, read {got}")
    assert not false_scores
    assert share >= MIN_READ_RIGHT


def test_a_read_takes_well_under_a_millisecond(capsys):
    texts = [text for text, _ in ENTRIES]
    seconds = timeit.timeit(lambda: [score_in(t) for t in texts], number=5)
    per_read = seconds / (5 * len(texts))
    with capsys.disabled():
        print(f"\nscore reader: {per_read * 1e6:.0f} µs per read")
    assert per_read < 1e-3


# ---------------------------------------------------------------------------------------
# Rules for the tricky cases
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("ran 10k, pain 5", 5),  # the runner number is skipped, the pain number read
        ("pain 7 at mile 5", 7),
        ("7/10 after 10 miles", 7),
        ("4/10 3 days in a row now", 4),  # a count after a score is not a range
        ("sitting at 4", 4),  # "at" after a state is a level, not a clock time
        ("pain went up to 6", 6),
        ("a solid 6/10", 6),
        ("worst ever 10", 10),  # a number closing the message
        ("6 ugh", 6),  # a number opening the message
        ("feeling good, 2", 2),  # a number alone in its clause
        ("a six", 6),
        ("4 x", 4),  # a trailing kiss, not "4 x 400m"
        ("5ish", 5),
    ],
)
def test_a_score_among_other_words_is_found(text, score):
    assert score_in(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "ran 6",  # activity earlier in the clause: a distance
        "long run was 8",
        "up at 6",  # "at" with no state: a clock time
        "7 at night",
        "2 kids to school",  # a plural after the number counts things
        "one of those days",
        "the one on my left",
        "stood on one leg",
        "L4/L5",
        "no. 5",
        "what's a 10?",  # a question about the scale
        "15/10",  # over the scale, even with "/10"
        "pain 12",
        "3.5",
        "4/5",
    ],
)
def test_a_runner_number_or_out_of_scale_number_is_not_a_score(text):
    assert score_in(text) is None


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("none", 0),
        ("no pain, just a bit stiff", 0),
        ("pain-free today", 0),
        ("zero pain", 0),
        ("ran 5 miles no pain", 0),
        ("not pain free yet", None),  # denied
        ("wish i was pain free", None),
        ("no pain meds today", None),  # about medicine
        ("no pain at night", None),  # about one situation (a red-flag answer), not the day
        ("none of my runs hurt", None),
        ("nothing to report", None),
    ],
)
def test_zero_is_read_from_words_only_when_they_mean_no_pain_today(text, score):
    assert score_in(text) == score


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("was 3 now 6", ScoreReading(6)),  # now wins
        ("yesterday 8, today 4", ScoreReading(4)),
        ("4 today, 5 yesterday", ScoreReading(4)),
        ("it was a 7 yesterday but 4 now", ScoreReading(4)),
        ("yesterday was 5", ScoreReading(5, yesterday=True)),  # the caller picks the day
        ("yday 6", ScoreReading(6, yesterday=True)),
        ("4, sorry i mean 5", ScoreReading(5)),  # a correction wins
        ("4 or 5", ScoreReading(None)),  # a choice: ask
        ("5, 6", ScoreReading(None)),
        ("4-5", ScoreReading(None)),
        ("went from 3 to 6", ScoreReading(None)),
        ("3 during, 6 after", ScoreReading(None)),  # rivals with nothing marking one
        ("2 sitting, 7 standing", ScoreReading(None)),
    ],
)
def test_rival_scores_are_settled_by_now_or_a_correction_or_not_at_all(text, reading):
    assert read_score(text) == reading


def test_a_story_longer_than_a_note_is_not_read():
    assert score_in("pain 4 " + "and then we ran on " * 30) is None


@pytest.mark.parametrize(
    "text", ["4", "4/10", "pain is 4 today", "my pain is a 4", "four out of ten", "4 😣", "🔟"]
)
def test_every_bare_score_is_read_the_same_by_both_readers(text):
    assert score_in(text) == parse_score(text) is not None


@pytest.mark.parametrize("text", ["11", "15/10", "-1", "3.5", "4-5", "4/5"])
def test_an_out_of_scale_score_is_still_a_score_attempt(text):
    assert score_in(text) is None
    assert looks_like_score_attempt(text)


@given(st.text(max_size=120))
@example("⓵")  # a digit to str.isdigit() that int() cannot read
@example("pain ²")
def test_arbitrary_text_never_raises_and_reads_on_the_scale_or_none(text):
    score = score_in(text)
    assert score is None or 0 <= score <= 10
