"""A score tied to a run in a chat message is the run's: measured on a corpus of phrasings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.app import App
from bot.parsing import read_score
from bot.runs import read_run, tied_to_run
from bot.store.models import CheckIn
from tests.conftest import Chat

CORPUS_PATH = Path(__file__).parent / "run_mention_corpus.yaml"
MIN_RUNS_READ = 0.95
MAX_DAILY_TAKEN = 0.0

CORPUS: dict[str, list[list[Any]]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))
RUNS = [(text, phase) for text, phase in CORPUS["runs"]]
DAILY = [text for text, _ in CORPUS["daily"]]


def tied(text: str) -> str | None:
    """/run's words for a message with a score, as the chat hands it on."""
    return tied_to_run(text, read_score(text).score)


def read_as_run(text: str, phase: str) -> bool:
    """Tied to a run, and /run reads its words whole: a score and the phase expected."""
    words = tied(text)
    if words is None:
        return False
    reading = read_run(words)
    return not reading.unread and reading.score is not None and reading.phase == phase


def test_the_corpus_figures(capsys: pytest.CaptureFixture[str]) -> None:
    missed = [text for text, phase in RUNS if not read_as_run(text, phase)]
    taken = [text for text in DAILY if tied(text) is not None]
    runs_read = 1 - len(missed) / len(RUNS)
    daily_taken = len(taken) / len(DAILY)
    with capsys.disabled():
        print(
            f"\nrun mentions: {len(RUNS) - len(missed)}/{len(RUNS)} read as the run's score "
            f"({runs_read:.1%}); {len(taken)}/{len(DAILY)} day's scores taken for a run "
            f"({daily_taken:.1%})"
        )
        for text in missed:
            print(f"  missed: {text!r} -> {tied(text)!r}")
        for text in taken:
            print(f"  taken: {text!r} -> {tied(text)!r}")
    assert runs_read >= MIN_RUNS_READ
    assert daily_taken <= MAX_DAILY_TAKEN


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("5 after my 7:30 run", {"score": 5, "phase": "after", "minutes": None}),
        ("ran 8k this morning, pain was 6 after", {"score": 6, "phase": "after", "km": 8.0}),
        ("2/10 after a 20 min jog", {"score": 2, "phase": "after", "minutes": 20.0}),
        ("after the long run yesterday it was 5", {"score": 5, "yesterday": True}),
    ],
)
def test_what_the_run_was_is_kept_and_when_it_was_is_not_a_duration(
    text: str, want: dict[str, Any]
) -> None:
    words = tied(text)
    assert words is not None
    reading = read_run(words)
    assert {key: getattr(reading, key) for key in want} == want


async def test_pain_after_a_run_typed_in_words_keeps_the_days_score(app: App) -> None:
    """Found playing a runner: "pain 6 after my run" in the evening changed the morning's 2 to
    6, logged no run, and so never brought the advice for pain after a run above 5."""
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("2")
    ann.later(hours=10)
    reply = await ann.say("pain 6 after my run")
    assert "Changed" not in reply
    assert "6/10 after your run" in reply
    assert "Ease off" in reply  # pain after a run above 5 (CLINICAL.md, modify training)
    async with app.sessions() as s:
        rows = await s.execute(select(CheckIn.kind, CheckIn.score).order_by(CheckIn.kind))
        assert [tuple(r) for r in rows] == [("daily", 2), ("run_after", 6)]


async def test_a_run_score_the_daily_reader_could_not_place_is_recorded(app: App) -> None:
    """ "after my run its a 4" was "I didn't catch that": the score reader leaves a number
    after a run's name alone; tied to the run, it is the run's score."""
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("after my run its a 4")
    assert "4/10 after your run" in reply
    async with app.sessions() as s:
        assert [tuple(r) for r in await s.execute(select(CheckIn.kind, CheckIn.score))] == [
            ("run_after", 4)
        ]


async def test_before_consent_a_high_score_tied_to_a_run_still_brings_the_screen(
    app: App,
) -> None:
    """Found on a last read: "9 after my run" from someone new got only the consent question.
    Before consent a score is held for the yes, and a high one brings the red-flag screen at
    once, whatever it was tied to."""
    zed = Chat(app, "zed")
    reply = await zed.say("9 after my run")
    assert "[None of these]" in reply
    assert "I'll record 9/10 as soon as you say yes" in reply


async def test_a_high_run_score_brings_the_red_flag_screen_once(app: App) -> None:
    """Found on a read of CLINICAL.md against the run path: the screen is asked when the score
    is 7 or more, and "8 during my run" brought none; the day's score of 2 that morning was
    all the rules looked at. Once answered, a later score that day does not ask again."""
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("2")
    ann.later(hours=10)
    reply = await ann.say("8 during my run")
    assert "8/10 during your run" in reply
    assert "8/10 during your run is high. A quick safety check" in reply
    assert "[None of these]" in reply
    await ann.say("None of these")
    reply = await ann.say("/run 7 after")
    assert "7/10 after your run" in reply
    assert "safety check" not in reply
