"""The statements every score makes, on each engine: the one read gives what the separate
reads give, a changed score keeps what it replaced, advice is stored once a day; a tap is one
transaction; and the engine bounds how many events are in the database at once."""

from __future__ import annotations

import asyncio
import gc
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select

from bot import actions, trends
from bot.actions import Action
from bot.app import SQLITE_EVENTS_AT_ONCE, App
from bot.context import Ctx, Handlers
from bot.engine import BROKEN, Engine
from bot.events import Incoming, Reply
from bot.handlers.scores import record_score
from bot.store import repo
from bot.store.models import CheckIn, Person
from tests.conftest import START

TODAY = START.date()


async def test_one_read_gives_what_the_separate_reads_give(app: App) -> None:
    since = TODAY - timedelta(days=60)
    symptoms_since = TODAY - timedelta(days=trends.HOP_GATE_DAYS)
    async with app.sessions() as s:
        person, _ = await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        other, _ = await repo.add_person(s, "console", "bob", "bob", "UTC", START)
        # The first week's daily scores long ago (the baseline rules keep them), then a gap,
        # then recent daily and run scores; someone else's rows must not come back.
        for offset in [*range(200, 190, -1), *range(20, -1, -1)]:
            day = TODAY - timedelta(days=offset)
            await repo.upsert_checkin(s, person.id, day, "daily", offset % 11, "chat", START)
            await repo.upsert_checkin(s, other.id, day, "daily", 9, "chat", START)
        await repo.upsert_checkin(s, person.id, TODAY, "run_after", 5, "chat", START)
        await repo.upsert_checkin(
            s, person.id, since - timedelta(days=1), "run_during", 2, "chat", START
        )
        for offset, code in ((30, "fever"), (10, "hop_tender"), (0, "numbness"), (0, "fever")):
            await repo.add_symptom(s, person.id, TODAY - timedelta(days=offset), code, START)
        for offset, tier in ((90, "modify"), (3, "professional"), (1, "modify")):
            await repo.add_escalation(s, person.id, TODAY - timedelta(days=offset), tier, "", START)
        await s.commit()

        scores, symptoms, announced, _ = await repo.score_history(
            s, person.id, since, trends.BASELINE_WINDOW, symptoms_since
        )
        apart = await repo.recent_checkins(s, person.id, since, trends.BASELINE_WINDOW)
        flags = await repo.flags_since(s, person.id, symptoms_since, since)

    assert sorted(scores) == sorted(apart)
    assert len(scores) == trends.BASELINE_WINDOW + 21 + 1
    assert (symptoms, announced) == flags
    assert symptoms == {
        TODAY - timedelta(days=10): frozenset({"hop_tender"}),
        TODAY: frozenset({"numbness", "fever"}),
    }
    assert announced == [
        (TODAY - timedelta(days=3), "professional"),
        (TODAY - timedelta(days=1), "modify"),
    ]


async def test_a_changed_score_keeps_what_it_replaced(app: App) -> None:
    later = START + timedelta(hours=2)
    async with app.sessions() as s:
        person, _ = await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await repo.upsert_checkin(s, person.id, TODAY, "daily", 4, "button", START)
        await repo.upsert_checkin(s, person.id, TODAY, "daily", 6, "chat", later)
        await repo.upsert_checkin(s, person.id, TODAY, "daily", 6, "button", later + timedelta(1))
        await s.commit()
    async with app.sessions() as s:
        row = await s.scalar(select(CheckIn).where(CheckIn.person_id == person.id))
    assert row is not None
    # The same score again changes nothing; the change remembers the score and its instant.
    assert (row.score, row.source, row.recorded_at) == (6, "chat", later)
    assert (row.previous_score, row.previous_at) == (4, START)
    assert (row.note, row.note_at) == (None, None)


async def test_a_score_is_found_from_the_instant_it_was_recorded(app: App) -> None:
    """Stored as SQLAlchemy stores an instant, so comparisons in SQL see it exactly."""
    async with app.sessions() as s:
        person, _ = await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await repo.upsert_checkin(s, person.id, TODAY, "daily", 4, "button", START)
        await s.commit()
        found = await repo.recorded_since(s, person.id, START)
    assert [(r.what, r.score, r.at) for r in found] == [("s", 4, START)]


async def test_the_person_found_is_the_sessions_own_and_saves_its_changes(app: App) -> None:
    async with app.sessions() as s:
        added, _ = await repo.add_person(s, "console", "ann", "ann", "Europe/Berlin", START)
        added.quiet_start, added.quiet_end = time(22, 0), time(7, 0)
        added.strength_started = TODAY
        await s.commit()
    async with app.sessions() as s:
        person = await repo.find_person(s, "console", "ann")
        assert person is not None
        assert await repo.find_person(s, "console", "ann") is person
        assert await repo.find_person(s, "console", "bob") is None
        assert (person.tz, person.consent_at, person.reachable) == ("Europe/Berlin", START, True)
        assert (person.quiet_start, person.quiet_end) == (time(22, 0), time(7, 0))
        assert (person.strength_started, person.episode_tier, person.unanswered) == (
            TODAY,
            None,
            0,
        )
        assert not s.dirty
        person.unanswered = 3
        person.answered_at = START + timedelta(hours=1)
        await s.commit()
    async with app.sessions() as s:
        again = await s.scalar(select(Person).where(Person.user_id == "ann"))
    assert again is not None
    assert (again.unanswered, again.answered_at) == (3, START + timedelta(hours=1))


SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
async def test_the_person_read_by_the_driver_is_the_one_the_orm_would_load(app: App) -> None:
    """On SQLite an event's person is read by the driver: every column, of every type, comes
    back as SQLAlchemy's own load gives it."""
    async with app.sessions() as s:
        added, _ = await repo.add_person(s, "console", "ann", "ann", "Europe/Berlin", START)
        for key, value in {
            "strength_started": TODAY,
            "paused_until": START + timedelta(days=3, microseconds=7),
            "stopped": True,
            "quiet_start": time(22, 15),
            "quiet_end": time(6, 45),
            "episode_tier": "urgent",
            "episode_opened": TODAY,
            "episode_rest": True,
            "cleared_on": TODAY + timedelta(days=2),
            "asking": "checkin:739000",
            "nudge": True,
            "unanswered": 2,
            "answered_at": START + timedelta(hours=5),
            "ladder_stage": 3,
            "ladder_good_runs": 1,
            "ladder_started": TODAY,
            "ladder_finished": TODAY,
            "ladder_paused": "hop",
        }.items():
            setattr(added, key, value)
        await s.commit()
    columns = [c.key for c in Person.__table__.columns]
    async with app.sessions() as s:
        loaded = await s.scalar(select(Person).where(Person.user_id == "ann"))
        assert loaded is not None
        expected = [(getattr(loaded, k), type(getattr(loaded, k))) for k in columns]
    async with app.sessions() as s:
        person = await repo.find_person(s, "console", "ann")
        assert person is not None
        assert [(getattr(person, k), type(getattr(person, k))) for k in columns] == expected
        assert person.consent_at.tzinfo is not None and person.paused_until is not None
        assert person.paused_until.utcoffset() == timedelta(0)
        assert not s.dirty and not s.new


@SQLITE_ONLY
async def test_a_score_tap_is_five_statements_each_one_call_to_the_driver(app: App) -> None:
    """On SQLite each call to the driver costs an await across SQLAlchemy's greenlet bridge: a
    tap reads its person (the driver's own read, not the ORM's four calls) and history, writes
    its score and the answer, and commits; nothing is rolled back after the commit."""
    async with app.sessions() as s:
        await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await s.commit()
    traced: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(lambda driver: driver.set_trace_callback(traced.append))

    event.listen(app.db.sync_engine, "connect", trace)
    await app.db.dispose()  # every connection from here on is traced
    tap = Incoming("console", "ann", "ann", action=actions.encode("s", 4))
    replies = await app.engine.handle(tap)
    await asyncio.sleep(0)  # let the pool take the connection back

    assert replies[0].text.startswith("Recorded 4/10 for today.")
    kinds = [" ".join(sql.split()[:1]).upper() for sql in traced if not sql.startswith("PRAGMA")]
    assert "ROLLBACK" not in kinds
    assert [k for k in kinds if k != "BEGIN"] == ["SELECT", "SELECT", "INSERT", "UPDATE", "COMMIT"]
    first = next(sql for sql in traced if sql.upper().startswith("SELECT"))
    assert "FROM people WHERE platform = 'console' AND user_id = 'ann'" in first  # the driver's


@SQLITE_ONLY
async def test_a_connection_given_back_inside_a_transaction_is_rolled_back(app: App) -> None:
    """The pool rolls back only what is still open, such as a write made on the driver
    without SQLAlchemy's transaction: it must not stay locked or be committed later."""
    async with app.db.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(
            "INSERT INTO people (platform, user_id, chat_id, tz, consent_at, created_at, "
            "reachable) VALUES ('console', 'ann', 'ann', 'UTC', '2026-03-02 07:30:00.000000', "
            "'2026-03-02 07:30:00.000000', 1)"
        )
        assert raw.driver_connection.in_transaction
    async with app.sessions() as s:
        assert await repo.find_person(s, "console", "ann") is None
        await repo.add_person(s, "console", "bob", "bob", "UTC", START)  # not locked out
        await s.commit()
    async with app.sessions() as s:
        assert await repo.find_person(s, "console", "bob") is not None


async def test_advice_is_stored_once_a_day(app: App) -> None:
    async with app.sessions() as s:
        person, _ = await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        first = await repo.add_escalation(s, person.id, TODAY, "modify", "why", START)
        again = await repo.add_escalation(s, person.id, TODAY, "modify", "why", START)
        other_day = await repo.add_escalation(s, person.id, date(2026, 3, 1), "modify", "", START)
        await s.commit()
    assert (first, again, other_day) == (True, False, True)


def _engine(app: App, handlers: Handlers, db_slots: int | None = None) -> Engine:
    """An engine on the app's database and content running `handlers`."""
    return Engine(
        app.sessions, app.engine.content, app.clock, app.settings, handlers, db_slots=db_slots
    )


async def test_a_tap_that_fails_after_the_score_leaves_it_unrecorded(app: App) -> None:
    """The score is committed with the rest of the tap: an error after it stores nothing, so
    "nothing was changed" is true."""
    async with app.sessions() as s:
        await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await s.commit()

    async def fails_after_recording(ctx: Ctx, action: Action) -> list[Reply]:
        await record_score(ctx, int(action.args[0]), ctx.today, "daily", "button")
        raise RuntimeError("a later step broke")

    engine = _engine(app, Handlers(commands=(), actions={"s": fails_after_recording}))
    replies = await engine.handle(Incoming("console", "ann", "ann", action=actions.encode("s", 4)))

    assert [r.text for r in replies] == [BROKEN]
    async with app.sessions() as s:
        assert await s.scalar(select(CheckIn.id)) is None


async def test_events_in_the_database_at_once_are_bounded(app: App) -> None:
    inside = 0
    most = 0

    async def slow(ctx: Ctx, action: Action) -> list[Reply]:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1
        return [Reply("ok")]

    engine = _engine(app, Handlers(commands=(), actions={"s": slow}), db_slots=2)
    taps = [Incoming("console", f"p{i}", f"p{i}", action=actions.encode("s", 1)) for i in range(6)]
    answers = await asyncio.gather(*(engine.handle(t) for t in taps))

    assert [[r.text for r in a] for a in answers] == [["ok"]] * 6
    assert most == 2
    # The app's own engine is bounded on SQLite (one writer at a time) and not on PostgreSQL.
    assert SQLITE_EVENTS_AT_ONCE > 1
    assert (app.engine._db_slots is not None) == (app.db.dialect.name == "sqlite")


async def test_an_event_leaves_no_reference_cycles_of_the_database_behind(app: App) -> None:
    """A new Session is a web of objects pointing at each other, freed only by the garbage
    collector: the engine keeps its closed sessions for the next events instead."""
    async with app.sessions() as s:
        for i in range(12):
            await repo.add_person(s, "console", f"p{i}", f"p{i}", "UTC", START)
        await s.commit()
    taps = [Incoming("console", f"p{i}", f"p{i}", action=actions.encode("s", 3)) for i in range(12)]
    await asyncio.gather(*(app.engine.handle(t) for t in taps[:2]))  # sessions made, then kept
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for tap in taps[2:6]:
            await app.engine.handle(tap)
        answers = await asyncio.gather(*(app.engine.handle(t) for t in taps[6:]))
        gc.collect()
        left = [type(o) for o in gc.garbage if type(o).__module__.startswith("sqlalchemy")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert all(a[0].text.startswith("Recorded 3/10") for a in answers)
    assert left == []


async def test_a_kept_session_forgets_what_its_last_event_loaded(app: App) -> None:
    """Someone erased between two of their taps (/delete from another device) is a stranger
    at the second: nothing of them lives on in the session the first one used."""
    async with app.sessions() as s:
        await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await s.commit()
    tap = Incoming("console", "ann", "ann", action=actions.encode("s", 4))
    assert (await app.engine.handle(tap))[0].text.startswith("Recorded 4/10")
    async with app.sessions() as s:
        await s.execute(delete(CheckIn))
        await s.execute(delete(Person))
        await s.commit()

    again = await app.engine.handle(tap)

    assert again[0].text.startswith("I'll record 4/10 as soon as you say yes.")  # consent anew
    async with app.sessions() as s:
        assert await s.scalar(select(CheckIn.id)) is None
        assert await s.scalar(select(Person.id)) is None


async def test_what_a_failed_event_wrote_is_never_committed_by_a_later_one(app: App) -> None:
    """A session whose event failed is closed (rolled back) and not kept for the next event."""
    async with app.sessions() as s:
        await repo.add_person(s, "console", "ann", "ann", "UTC", START)
        await s.commit()
    failed = False

    async def fails_the_first_time(ctx: Ctx, action: Action) -> list[Reply]:
        nonlocal failed
        replies = await record_score(ctx, int(action.args[0]), ctx.today, "daily", "button")
        if not failed:
            failed = True
            raise RuntimeError("a later step broke")
        return replies

    engine = _engine(app, Handlers(commands=(), actions={"s": fails_the_first_time}))
    # 4 brings no advice (advice is committed as it is stored, before the rest of the event).
    first = await engine.handle(Incoming("console", "ann", "ann", action=actions.encode("s", 4)))
    second = await engine.handle(Incoming("console", "ann", "ann", action=actions.encode("s", 2)))

    assert [r.text for r in first] == [BROKEN]
    assert second[0].text.startswith("Recorded 2/10 for today.")  # no 4 before it
    async with app.sessions() as s:
        assert (await s.scalars(select(CheckIn.score))).all() == [2]
