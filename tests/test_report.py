"""/report: the one-page PDF a runner hands their physio, read back as a clinician's PDF
reader would (pypdf): its words, its pages, and nothing about who the person is."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

from pypdf import PdfReader

from bot.app import App
from bot.report import ReportData, render_report
from bot.runs import Run, weekly_load
from tests.conftest import Chat

END = date(2026, 12, 6)
DAY = timedelta(days=1)


def read(pdf: bytes) -> list[str]:
    """The text of each page."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces as single spaces."""
    return re.sub(r"\s+", " ", text)


def ninety_days(notes: dict[date, str] | None = None) -> ReportData:
    """Three months of a runner's check-ins: a bad spell in October, better since."""
    daily = {}
    for i in range(90):
        day = END - i * DAY
        if i % 9 == 4:
            continue  # a missed day now and then
        daily[day] = 7 if 38 <= i <= 39 else (2 if i < 20 else 4)
    return ReportData(
        end=END,
        daily=daily,
        runs=[(END - i * DAY, 3, "during") for i in range(0, 60, 4)]
        + [(END - 10 * DAY, 6, "after")],
        escalations=[
            (END - 38 * DAY, "urgent", "7/10 or more on 2 days in a row (7 yesterday, 7 today)"),
            (END - 12 * DAY, "improving", "2 points below your usual for 3 days"),
        ],
        flags=[(END - 38 * DAY, "night_pain"), (END - 30 * DAY, "none")],
        core_done=frozenset(END - i * DAY for i in range(0, 90, 2)),
        notes=notes
        if notes is not None
        else {END - DAY: "felt fine on the bike", END - 41 * DAY: "sore after hill reps"},
        strength_started=END - 15 * DAY,
        cleared_on=END - 36 * DAY,
        weeks=weekly_load([Run(END - i * DAY, km=8, minutes=45) for i in range(0, 60, 4)], END, 12),
        context=(
            "Bad days (score up 2 or more from the one before), last 90 days: 3.",
            "Sitting set it off on 2 of 3 bad days; stairs on 1.",
        ),
        strength_done=5,
        ladder_stage=2,
    )


def test_ninety_days_fit_one_page_with_the_facts_a_physio_reads() -> None:
    [page] = read(render_report(ninety_days()))
    text = flat(page)
    assert "SI joint pain: 90-day summary" in text
    assert "Period 8 Sep – 6 Dec 2026" in text and "generated 6 Dec 2026" in text
    assert "Patient-reported scores" in text and "not a diagnosis" in text
    # The table: days logged, each 4-week block's mean and median, the highest score.
    assert "Days logged 80 of 90" in text
    assert "9 Nov – 6 Dec mean 2.6, median 2, range 2–4 (25 of 28 days logged)" in text
    assert "Highest 7/10 on 28 Oct, 29 Oct" in text
    # The advice given, with its date and reason; the check that followed.
    assert "29 Oct See a doctor today: 7/10 or more on 2 days in a row" in text
    assert "24 Nov Improving: 2 points below your usual for 3 days" in text
    assert "reported as checked and cleared to train on 31 Oct" in text
    # Warning signs with dates, and the screens answered "none of these".
    assert "29 Oct pain worse at night or at rest" in text
    assert "'none of these' answered on 1 day" in text
    # Runs, core work and the strength block.
    assert "Pain during a run mean 3, highest 3/10 (15 scores; above 5/10 on 0)" in text
    assert "Pain after a run mean 6, highest 6/10 (1 score; above 5/10 on 1)" in text
    assert "Core work done on 45 of 90 days (last 4 weeks: 14 of 28)" in text
    assert "Strength block started 21 Nov 2026: 5 workouts done" in text
    assert "Back to running return-to-run ladder, stage 2 of 7" in text
    # The running load, the period's and the last weeks', and what set the pain off.
    assert "Load, 90 days 120 km, 11 h 15 min over 15 runs" in text
    assert "Load, 4 weeks 56 km, 5 h 15 min over 7 runs" in text
    assert "Sitting set it off on 2 of 3 bad days; stairs on 1." in text
    # Notes, newest first.
    assert text.index("5 Dec: felt fine on the bike") < text.index("26 Oct: sore after hill reps")
    # The chart's own words are text too: its legend and date labels.
    assert "Baseline ± 1" in text and "See a doctor today" in text and "Core work" in text


def test_notes_that_do_not_fit_spill_onto_a_second_page_never_cut_off() -> None:
    long = "stiff getting out of the car after work, eased after a short walk " * 5
    notes = {END - i * DAY: f"note {i}: {long}" for i in range(0, 70, 2)}
    pages = read(render_report(ninety_days(notes)))
    assert len(pages) == 2
    first, second = flat(pages[0]), flat(pages[1])
    assert "Notes (newest first)" in first and "6 Dec: note 0:" in first
    assert "(continued)" in second and "Notes (continued)" in second
    assert "29 Sep: note 68:" in second  # the oldest note made it
    # Every note is there once, cut to two lines with an ellipsis.
    everything = first + second
    for i in range(0, 70, 2):
        assert everything.count(f"note {i}:") == 1
    assert "…" in everything
    assert "Page 2" in second


def test_a_short_history_stays_on_one_page() -> None:
    notes = {END - i * DAY: f"note {i}" for i in range(0, 12)}
    assert len(read(render_report(ninety_days(notes)))) == 1


def test_an_empty_history_still_reads_plainly() -> None:
    [page] = read(render_report(ReportData(end=END, daily={})))
    text = flat(page)
    assert "No check-ins in this period" in text
    assert "Days logged none of 90" in text
    assert "Advice none needed: no escalation in this period" in text
    assert "Reported none" in text
    assert "Run pain no run scores logged" in text
    assert "Core work done on 0 of 90 days" in text
    assert "No notes in this period." in text


def saved_pdf(out: str) -> Path:
    [path] = [Path(p) for p in re.findall(r"\(file saved: (.+\.pdf)\)", out)]
    return path


async def test_a_runner_in_an_episode_saves_a_report_in_the_console(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("/report")
    assert "Nothing to report yet" in said and "saved" not in said
    for score in (3, 4, 3, 5, 4):
        ann.later(days=1)
        assert "Recorded" in await ann.say(str(score))
    await ann.say("/note stiff after a long drive")
    assert "Get help now" in await ann.say("I can't feel my groin")
    await ann.say("Numb saddle area (groin, buttocks)")

    said = await ann.say("/report")
    assert "Your last 90 days on one page" in said
    assert "not a diagnosis" in said
    path = saved_pdf(said)
    assert path.name == "si-checkin-report-ann-2026-03-07-0700.pdf"
    assert path.parent.parent == app.settings.data_dir / "files"
    [page] = read(path.read_bytes())
    text = flat(page)
    assert "Period 8 Dec 2025 – 7 Mar 2026" in text  # a period across the new year
    assert "Days logged 5 of 90" in text
    assert "7 Mar Emergency: you wrote about: numb saddle area (groin, buttocks)" in text
    assert "Open now Emergency since 7 Mar: not yet reported as checked" in text
    assert "7 Mar numb saddle area (groin, buttocks)" in text
    assert "7 Mar: stiff after a long drive" in text
    # Health data leaving the app carries no name and no platform id.
    assert "ann" not in text.lower().split()
    assert "console" not in text.lower()


async def test_the_report_holds_the_runs_load_what_set_it_off_and_workouts_done(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Run: 8 km, 45 min, trail" in await ann.say("/run 2 after 8k 45min trail")
    started = await ann.say("/strength")
    assert "[Done: workout 1]" in started, started
    assert "Workout 1 done" in await ann.say("Done: workout 1")
    await ann.say("2")
    ann.later(days=1)
    rose = await ann.say("5")
    assert "Where does it hurt?" in rose, rose
    await ann.say("Skip")
    await ann.say("Sitting")
    ann.later(days=1)
    [page] = read(saved_pdf(await ann.say("/report")).read_bytes())
    text = flat(page)
    assert "Load, 90 days 8 km, 45 min over 1 run" in text
    assert "Sitting set it off on 1 of 1 bad day." in text
    assert "1 workout done" in text
