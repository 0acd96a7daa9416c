"""Whole conversations through the console adapter, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from bot.events import Incoming
from bot.store.models import CheckIn, Person
from tests.conftest import Chat, row_counts


async def scores(app: App, user: str) -> dict[date, int]:
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == user))
        if person is None:
            return {}
        rows = await s.execute(
            select(CheckIn.day, CheckIn.score).where(
                CheckIn.person_id == person.id, CheckIn.kind == "daily"
            )
        )
        return dict(rows.tuples().all())


async def test_start_explains_and_asks_consent_before_storing_anything(app: App) -> None:
    ann = Chat(app, "ann")
    hello = await ann.say("/start")
    assert "I can't diagnose you or replace a physio or doctor" in hello
    assert "[I agree] [No thanks]" in hello
    assert "4" not in [line.strip("[]") for line in hello.splitlines()]
    typed = await ann.say("4")
    assert "I'll record 4/10 as soon as you say yes" in typed
    assert (await row_counts(app))["people"] == 0
    assert (await row_counts(app))["checkins"] == 0
    agreed = await ann.say("I agree")
    assert "you're set up" in agreed
    assert "Recorded 4/10 for today" in agreed
    assert await scores(app, "ann") == {date(2026, 3, 2): 4}


async def test_declining_consent_stores_nothing(app: App) -> None:
    bob = Chat(app, "bob")
    await bob.say("/start")
    reply = await bob.say("No thanks")
    assert "haven't stored anything" in reply
    await bob.say("6")
    assert (await row_counts(app))["people"] == 0
    assert (await row_counts(app))["checkins"] == 0


@pytest.mark.parametrize(
    "typed", ["4", "4/10", "pain 4", "four", "pain is 4 today", "/checkin 4", "Pain: 4"]
)
async def test_a_score_is_recorded_from_one_word(app: App, typed: str) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say(typed)
    assert "Recorded 4/10 for today" in reply
    assert await scores(app, "ann") == {date(2026, 3, 2): 4}


async def test_tapping_a_button_records_the_score(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    keyboard = await ann.say("/checkin")
    assert "[0] [1] [2] [3] [4] [5]" in keyboard
    assert "[6] [7] [8] [9] [10]" in keyboard
    assert "Recorded 3/10" in await ann.say("3")
    assert await scores(app, "ann") == {date(2026, 3, 2): 3}


async def test_a_later_score_the_same_day_replaces_the_first_and_says_so(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("3")
    ann.later(hours=8)
    reply = await ann.say("5")
    assert "Changed today's score from 3 to 5/10" in reply
    assert await scores(app, "ann") == {date(2026, 3, 2): 5}


# "11" and "/checkin 11" are not here: they mean the worst pain and are taken as 10/10
# (tests/test_typed_answers.py, tests/test_safety_chat.py).
BAD_INPUT = [
    "-1",
    "3.5",
    "banana",
    "",
    "x" * 10_000,
    "😣😣😣",
    "'; DROP TABLE checkins;--",
    "4\u200b\u200b2",
    "\u202e4\u202c1",
    "/checkin 25",
    "/log banana",
    "/log 4 someday",
]


@pytest.mark.parametrize("typed", BAD_INPUT, ids=range(len(BAD_INPUT)))
async def test_bad_input_gets_a_one_line_hint_and_changes_nothing(app: App, typed: str) -> None:
    ann = Chat(app, "ann", tz="UTC")  # a zone given: no open zone question reads the input
    await ann.onboard()
    await ann.say("2")
    before = await row_counts(app)
    reply = await ann.say(typed)
    assert reply.strip(), "every message gets an answer"
    assert len(reply.strip().splitlines()) == 1, reply
    assert "Traceback" not in reply
    assert await row_counts(app) == before
    assert await scores(app, "ann") == {date(2026, 3, 2): 2}


async def test_backfill_yesterday_and_dates_and_refusals(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Recorded 5/10 for yesterday" in await ann.say("/log 5 yesterday")
    assert "Recorded 6/10 for Sat 28 Feb" in await ann.say("/log 6 2026-02-28")
    future = await ann.say("/log 3 2026-03-05")
    assert "future" in future
    old = await ann.say("/log 3 2026-02-01")
    assert "14 days" in old
    assert await scores(app, "ann") == {date(2026, 3, 1): 5, date(2026, 2, 28): 6}


async def test_run_scores_are_kept_apart_from_the_daily_score(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("3")
    assert "Recorded 4/10 during your run" in await ann.say("/run 4 during")
    assert "Recorded 2/10 after your run" in await ann.say("/run 2")
    assert await scores(app, "ann") == {date(2026, 3, 2): 3}
    assert (await row_counts(app))["checkins"] == 3


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Berlin", "Europe/Berlin"),
        ("New York", "America/New_York"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("+02:00", "UTC+02:00"),
    ],
)
async def test_timezone_accepts_cities_iana_names_and_offsets(
    app: App, typed: str, zone: str
) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say(f"/timezone {typed}")
    assert f"Time zone set to {zone}" in reply


async def test_unknown_timezone_is_refused_in_one_line(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    reply = await ann.say("/timezone Atlantis")
    assert "I don't know that time zone" in reply
    assert len(reply.strip().splitlines()) == 1


async def test_the_local_date_decides_which_day_a_score_belongs_to(app: App) -> None:
    # 07:00 UTC Monday is already evening in Auckland (+13), still Monday;
    # by 12:00 UTC it is Tuesday there.
    kiri = Chat(app, "kiri", tz="Pacific/Auckland")
    await kiri.onboard()
    kiri.later(hours=5)
    await kiri.say("pain 4")  # typed: the consent's keyboard still asks about Monday
    assert await scores(app, "kiri") == {date(2026, 3, 3): 4}
    utc = Chat(app, "uma")
    await utc.onboard()
    await utc.say("4")
    assert await scores(app, "uma") == {date(2026, 3, 2): 4}


async def test_history_shows_lines_a_sparkline_the_average_and_a_chart(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    for value in (2, 3, 4):
        await ann.say(str(value))
        ann.later(days=1)
    reply = await ann.say("/history")
    assert "Wed 4 Mar: 4/10" in reply and "Mon 2 Mar: 2/10" in reply
    assert "7-day average: 3.0/10" in reply
    # 2, 3 and 4 on the last three days, nothing yet today (Thursday)
    assert "Your last 14 days: " + "·" * 10 + "▂▃▄·" in reply
    saved = [line for line in reply.splitlines() if line.startswith("(image saved: ")]
    assert saved, reply
    png = Path(saved[0].removeprefix("(image saved: ").rstrip(")")).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_export_is_a_csv_of_everything_stored(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    await ann.say("5")
    await ann.say("/run 6 during")
    reply = await ann.say("/export")
    path = next(
        line.removeprefix("(file saved: ").rstrip(")")
        for line in reply.splitlines()
        if line.startswith("(file saved: ")
    )
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    assert rows[0] == ["record", "day", "kind", "value", "detail", "recorded_at"]
    kinds = {(r[0], r[2], r[3]) for r in rows[1:]}
    assert ("checkin", "daily", "5") in kinds
    assert ("checkin", "run_during", "6") in kinds


async def test_delete_asks_then_erases_every_row_about_the_person(app: App) -> None:
    ann = Chat(app, "ann")
    bob = Chat(app, "bob")
    for chat in (ann, bob):
        await chat.onboard()
        await chat.say("7")
        ann.later(days=1)
        await chat.say("8")
        await chat.say("Numb saddle area (groin, buttocks)")
    ask = await ann.say("/delete")
    assert "[Delete everything] [Cancel]" in ask
    assert "Cancelled" in await ann.say("Cancel")
    assert (await row_counts(app))["people"] == 2
    await ann.say("/delete")
    assert "erased" in await ann.say("Delete everything")
    async with app.sessions() as s:
        assert await s.scalar(select(Person).where(Person.user_id == "ann")) is None
    counts = await row_counts(app)
    assert counts["people"] == 1
    # bob's rows are untouched: exactly his, nothing of ann's left in any table
    bob_only = await row_counts(app)
    await bob.say("/delete")
    await bob.say("Delete everything")
    assert all(n == 0 for n in (await row_counts(app)).values()), await row_counts(app)
    assert bob_only["checkins"] > 0


async def test_forged_or_stale_buttons_record_nothing(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    before = await row_counts(app)
    for payload in ("1:s:11", "2:s:4", "1:zz:1", "", "x" * 200, "1:d:maybe"):
        replies = await app.engine.handle(
            Incoming(platform="console", user_id="ann", chat_id="ann", action=payload)
        )
        assert [r.text for r in replies] == [
            "This button has expired. Send /checkin for fresh buttons."
        ]
    assert await row_counts(app) == before


async def test_help_lists_every_command_with_one_line(app: App) -> None:
    reply = await Chat(app, "ann").say("/help")
    for name in ("checkin", "log", "run", "timezone", "history", "export", "delete", "help"):
        assert f"/{name} - " in reply
    assert "I can't diagnose you" in reply


async def test_people_are_kept_apart(app: App) -> None:
    ann, bob = Chat(app, "ann"), Chat(app, "bob")
    await ann.onboard()
    await bob.onboard()
    await ann.say("2")
    await bob.say("8")
    assert await scores(app, "ann") == {date(2026, 3, 2): 2}
    assert await scores(app, "bob") == {date(2026, 3, 2): 8}


async def test_a_note_is_capped_and_shown_in_history_and_export(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    assert "Send today's score first" in await ann.say("/note stiff")
    await ann.say("4")
    long = "stiff after a long drive " * 20
    assert "shortened to 280 characters" in await ann.say(f"/note {long}")
    async with app.sessions() as s:
        stored = await s.scalar(select(CheckIn.note))
    assert stored is not None and len(stored) <= 280 and stored.startswith("stiff after")
    assert "Mon 2 Mar: 4/10 (stiff after a long drive" in await ann.say("/history")
    export = await ann.say("/export")
    path = export.split("(file saved: ")[1].split(")")[0]
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    daily = [r for r in rows if r[:3] == ["checkin", "2026-03-02", "daily"]]
    assert daily and daily[0][4] == stored


async def test_advance_without_a_simulated_clock_says_what_it_needs(app: App) -> None:
    reply = await Chat(app, "ann").say("/advance 1d")
    assert "works in the console started with --clock" in reply
    assert len(reply.strip().splitlines()) == 1


async def test_pasted_markup_records_no_score(app: App) -> None:
    ann = Chat(app, "ann")
    await ann.onboard()
    said = await ann.say("<script>alert(1)</script>")
    assert "Recorded" not in said, said
    assert (await row_counts(app))["checkins"] == 0
