"""Queries: the only place that reads and writes rows. Callers own the session and commit."""

from __future__ import annotations

import weakref
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Date,
    Integer,
    SmallInteger,
    String,
    and_,
    bindparam,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, manager_of_class, set_committed_value
from sqlalchemy.orm.util import identity_key

from bot.runs import Run
from bot.store.models import (
    PERSONAL_TABLES,
    Activity,
    Base,
    CheckIn,
    ClubMember,
    Delivery,
    Escalation,
    LadderRun,
    PainContext,
    Person,
    Reminder,
    RunDetail,
    SymptomReport,
    UTCDateTime,
)
from bot.trends import Tier

DAILY = "daily"
RUN_KINDS = {"during": "run_during", "after": "run_after"}


# Built once: every event looks its person up, and a statement built per call costs more CPU
# than the lookup itself (the compiled form is cached either way).
_FIND_PERSON = select(Person).where(
    Person.platform == bindparam("platform"), Person.user_id == bindparam("user_id")
)


async def find_person(s: AsyncSession, platform: str, user_id: str) -> Person | None:
    """The person with this platform identity, if they have consented."""
    driver = await _sqlite_driver(s)
    if driver is None:
        person = await s.scalar(_FIND_PERSON, {"platform": platform, "user_id": user_id})
        return person
    # Every event starts here. On SQLite the ORM's query is four calls to the driver
    # (cursor, execute, fetch, close), each an await across SQLAlchemy's greenlet bridge, and
    # an ORM load; the driver's own read is one call, and the row becomes the session's
    # Person just as the ORM's load would make it.
    rows = await driver.execute_fetchall(_PEOPLE.sql, (platform, user_id))
    return _as_person(s, rows[0]) if rows else None


@dataclass(frozen=True)
class _PersonColumns:
    """The people table's columns in one SELECT, and how SQLite's values become Python's."""

    keys: tuple[str, ...]
    sql: str

    def readers(self, dialect: Dialect) -> tuple[Any, ...]:
        """Each column's result processor on this dialect (None: the value is used as is)."""
        found = _PERSON_READERS.get(dialect)
        if found is None:
            table = Person.__table__
            found = _PERSON_READERS[dialect] = tuple(
                c.type.dialect_impl(dialect).result_processor(dialect, None) for c in table.columns
            )
        return found


def _person_columns() -> _PersonColumns:
    table = Person.__table__
    keys = tuple(Person.__mapper__.get_property_by_column(c).key for c in table.columns)
    names = ", ".join(c.name for c in table.columns)
    return _PersonColumns(keys, f"SELECT {names} FROM people WHERE platform = ? AND user_id = ?")


_PEOPLE = _person_columns()
_PERSON_MANAGER = manager_of_class(Person)
_PERSON_READERS: weakref.WeakKeyDictionary[Dialect, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def _as_person(s: AsyncSession, row: Sequence[Any]) -> Person:
    """A people row read by the driver as the session's Person: the one the session holds
    already, or a new persistent one with nothing changed."""
    sync = s.sync_session
    known = sync.identity_map.get(identity_key(Person, row[0]))
    if known is not None:
        return known
    readers = _PEOPLE.readers(s.get_bind().dialect)
    person = _PERSON_MANAGER.new_instance()
    # A new instance has no history, nothing expired and no loaders: its loaded values are its
    # dict, as the ORM's own load fills it (set_committed_value per column does the same for
    # each column again, at 28 columns a read).
    instance_dict(person).update(
        zip(
            _PEOPLE.keys,
            (read(v) if read is not None else v for read, v in zip(readers, row, strict=True)),
            strict=True,
        )
    )
    make_transient_to_detached(person)
    sync.add(person)
    return person


async def add_person(
    s: AsyncSession, platform: str, user_id: str, chat_id: str, tz: str, now: datetime
) -> tuple[Person, bool]:
    """Create a person at the moment they consent: (the row, whether this call created it).

    One INSERT ... ON CONFLICT DO NOTHING: a concurrent consent waits for the other and then
    finds its row, rather than failing on the unique key.
    """
    stmt = (
        _insert(s, Person)
        .values(
            platform=platform,
            user_id=user_id,
            chat_id=chat_id,
            tz=tz,
            consent_at=now,
            created_at=now,
            reachable=True,
            stopped=False,
            episode_rest=False,
        )
        .on_conflict_do_nothing(index_elements=["platform", "user_id"])
    )
    created = bool(_rowcount(await s.execute(stmt)))
    person = await find_person(s, platform, user_id)
    assert person is not None
    return person, created


def _insert(s: AsyncSession, model: type[Base]) -> Any:
    """INSERT with ON CONFLICT support for the session's dialect."""
    dialect = s.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _rowcount(result: Result[Any]) -> int:
    """Rows an INSERT, UPDATE or DELETE touched."""
    # execute() is typed to return a plain Result whatever the statement; for these it is a
    # CursorResult, the kind that has a rowcount.
    return cast("CursorResult[Any]", result).rowcount


# The score's upsert, built once. SQLAlchemy cannot cache the compiled form of a dialect's
# INSERT ... ON CONFLICT, so the construct was compiled again on every tap; this text is the
# same statement on SQLite and PostgreSQL, and its compiled form is cached. In ON CONFLICT DO
# UPDATE the table's own columns are the row as it was, `excluded` the one proposed.
_UPSERT_SCORE_SQL = (
    "INSERT INTO checkins (person_id, day, kind, score, source, recorded_at)"
    " VALUES (:person_id, :day, :kind, :score, :source, :now)"
    " ON CONFLICT (person_id, day, kind) DO UPDATE SET score = excluded.score,"
    " source = excluded.source, recorded_at = excluded.recorded_at,"
    " previous_score = checkins.score, previous_at = checkins.recorded_at"
    " WHERE checkins.score <> excluded.score"
)
_UPSERT_SCORE = text(_UPSERT_SCORE_SQL).bindparams(
    bindparam("person_id", type_=Integer()),
    bindparam("day", type_=Date()),
    bindparam("kind", type_=String()),
    bindparam("score", type_=SmallInteger()),
    bindparam("source", type_=String()),
    bindparam("now", type_=UTCDateTime()),
)


# Every answer ends a back-off: one plain statement, built once, and no ORM flush of the row.
_MARK_ANSWERED_SQL = "UPDATE people SET unanswered = 0, answered_at = :now WHERE id = :id"
_MARK_ANSWERED = text(_MARK_ANSWERED_SQL).bindparams(
    bindparam("now", type_=UTCDateTime()), bindparam("id", type_=Integer())
)


async def mark_answered(s: AsyncSession, person: Person, now: datetime) -> None:
    """The person answered at `now`: no check-in is unanswered any more (in the database and
    on the loaded row, which stays clean)."""
    await _write(s, _MARK_ANSWERED_SQL, _MARK_ANSWERED, {"now": now, "id": person.id})
    set_committed_value(person, "unanswered", 0)
    set_committed_value(person, "answered_at", now)


async def upsert_checkin(
    s: AsyncSession,
    person_id: int,
    day: date,
    kind: str,
    score: int,
    source: str,
    now: datetime,
    note: str | None = None,
) -> None:
    """Store one score for (person, day, kind), replacing a different earlier one (one statement).

    A changed score keeps its note (unless a new one is given) and remembers the score it
    replaced, for /undo; the same score again changes nothing.
    """
    if note is None:
        params = {
            "person_id": person_id,
            "day": day,
            "kind": kind,
            "score": score,
            "source": source,
            "now": now,
        }
        await _write(s, _UPSERT_SCORE_SQL, _UPSERT_SCORE, params)
        return
    stmt = _insert(s, CheckIn).values(
        person_id=person_id,
        day=day,
        kind=kind,
        score=score,
        source=source,
        recorded_at=now,
        note=note,
        note_at=now if note is not None else None,
    )
    changes: dict[str, Any] = {
        "score": score,
        "source": source,
        "recorded_at": now,
        # In ON CONFLICT DO UPDATE the table's own columns are the row as it was.
        "previous_score": CheckIn.score,
        "previous_at": CheckIn.recorded_at,
    }
    if note is not None:
        changes |= {"note": note, "note_at": now}
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id", "day", "kind"],
        set_=changes,
        where=CheckIn.score != score if note is None else None,
    )
    await s.execute(stmt)


async def set_note(
    s: AsyncSession, person_id: int, day: date, note: str, now: datetime, limit: int
) -> tuple[str, bool] | None:
    """Add a note to the daily score of `day`, after any note on it already, the whole kept
    within `limit` characters: (the note as stored, whether one was there); None when there
    is no score that day."""
    found = (
        await s.execute(
            select(CheckIn.id, CheckIn.note).where(
                CheckIn.person_id == person_id, CheckIn.day == day, CheckIn.kind == DAILY
            )
        )
    ).first()
    if found is None:
        return None
    row, before = found
    stored = (f"{before}; {note}" if before else note)[:limit]
    await s.execute(update(CheckIn).where(CheckIn.id == row).values(note=stored, note_at=now))
    return stored, bool(before)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One thing a person recorded, as /undo names and finds it again.

    `what` is "s" (a score: `kind` is daily or run_*), "n" (the note on a daily score) or
    "f" (a red-flag screen answer: `kind` is its code); `row` is the row's id.
    """

    what: str
    row: int
    day: date
    kind: str
    at: datetime
    score: int | None = None
    previous: int | None = None
    note: str | None = None


# When two things share an instant, the one that can only follow the other counts as later:
# a note needs its score, and the screen follows the score that asked for it.
_LATER = {"s": 0, "f": 1, "n": 2}


async def recorded_since(s: AsyncSession, person_id: int, since: datetime) -> list[Recorded]:
    """Scores, notes and red-flag answers recorded from `since` on, the latest first."""
    found: list[Recorded] = []
    rows = await s.scalars(
        select(CheckIn).where(
            CheckIn.person_id == person_id,
            or_(CheckIn.recorded_at >= since, CheckIn.note_at >= since),
        )
    )
    for c in rows:
        if c.recorded_at >= since:
            found.append(
                Recorded("s", c.id, c.day, c.kind, c.recorded_at, c.score, c.previous_score, c.note)
            )
        if c.note is not None and c.note_at is not None and c.note_at >= since:
            found.append(Recorded("n", c.id, c.day, c.kind, c.note_at, c.score, note=c.note))
    answers = await s.scalars(
        select(SymptomReport).where(
            SymptomReport.person_id == person_id, SymptomReport.recorded_at >= since
        )
    )
    found += [Recorded("f", a.id, a.day, a.code, a.recorded_at) for a in answers]
    found.sort(key=lambda r: (r.at, _LATER[r.what], r.row), reverse=True)
    return found


async def undo_score(s: AsyncSession, person_id: int, row: int) -> int | None:
    """Take back a score's last change: the score before it when there was one (returned),
    else the whole row with its note."""
    checkin = await s.get(CheckIn, row)
    if checkin is None or checkin.person_id != person_id:
        return None
    previous = checkin.previous_score
    if previous is None or checkin.previous_at is None:
        day, kind = checkin.day, checkin.kind
        await s.execute(delete(CheckIn).where(CheckIn.id == row))
        if kind in RUN_KINDS.values():
            await _drop_run_without_scores(s, person_id, day)
        return None
    checkin.score = previous
    checkin.recorded_at = checkin.previous_at
    checkin.previous_score = None
    checkin.previous_at = None
    return previous


async def _drop_run_without_scores(s: AsyncSession, person_id: int, day: date) -> None:
    """A run whose pain scores were all taken back is no run: its distance, time and surface
    go too, so the week's load does not count it."""
    left = await s.scalar(
        select(CheckIn.id)
        .where(
            CheckIn.person_id == person_id,
            CheckIn.day == day,
            CheckIn.kind.in_(RUN_KINDS.values()),
        )
        .limit(1)
    )
    if left is None:
        await s.execute(
            delete(RunDetail).where(RunDetail.person_id == person_id, RunDetail.day == day)
        )


async def remove_note(s: AsyncSession, person_id: int, row: int) -> None:
    """Take a note off its score."""
    await s.execute(
        update(CheckIn)
        .where(CheckIn.id == row, CheckIn.person_id == person_id)
        .values(note=None, note_at=None)
    )


async def remove_answer(s: AsyncSession, person_id: int, row: int) -> None:
    """Remove one red-flag screen answer."""
    await s.execute(
        delete(SymptomReport).where(SymptomReport.id == row, SymptomReport.person_id == person_id)
    )


async def reminder_sent_between(
    s: AsyncSession, person_id: int, kinds: Collection[str], start: datetime, end: datetime
) -> bool:
    """Whether a reminder of one of `kinds` went out to the person in [start, end)."""
    found = await s.scalar(
        select(Delivery.id)
        .where(
            Delivery.person_id == person_id,
            Delivery.kind.in_(sorted(kinds)),
            Delivery.sent_at >= start,
            Delivery.sent_at < end,
        )
        .limit(1)
    )
    return found is not None


async def notes_since(s: AsyncSession, person_id: int, since: date) -> dict[date, str]:
    """Notes on daily scores from `since` on."""
    rows = await s.execute(
        select(CheckIn.day, CheckIn.note).where(
            CheckIn.person_id == person_id,
            CheckIn.kind == DAILY,
            CheckIn.day >= since,
            CheckIn.note.is_not(None),
        )
    )
    return {d: n for d, n in rows}


async def recent_checkins(
    s: AsyncSession, person_id: int, since: date, first_days: int
) -> list[tuple[date, str, int]]:
    """Every score from `since` on plus the person's first `first_days` daily scores, in one read.

    The first scores are needed by "no improvement on the first week's baseline" long after
    they have left the recent window; one statement keeps a check-in to a few round trips.
    """
    first = (
        select(CheckIn.day)
        .where(CheckIn.person_id == person_id, CheckIn.kind == DAILY)
        .order_by(CheckIn.day)
        .limit(first_days)
        .scalar_subquery()
    )
    rows = await s.execute(
        select(CheckIn.day, CheckIn.kind, CheckIn.score).where(
            CheckIn.person_id == person_id,
            or_(CheckIn.day >= since, and_(CheckIn.kind == DAILY, CheckIn.day.in_(first))),
        )
    )
    return [(d, k, sc) for d, k, sc in rows]


async def recent_checkins_of(
    s: AsyncSession, person_ids: Sequence[int], since: date, first_days: int
) -> dict[int, list[tuple[date, str, int, bool]]]:
    """recent_checkins for many people in two reads: {person: [(day, kind, score, first)]}.

    `first` marks one of the person's first `first_days` daily scores. Rows from `since` on
    are all returned, so a caller whose people have different "today"s (time zones) passes
    the earliest and trims per person.
    """
    out: dict[int, list[tuple[date, str, int, bool]]] = {pid: [] for pid in person_ids}
    if not person_ids:
        return out
    ids = sorted(person_ids)
    ranked = (
        select(
            CheckIn.person_id,
            CheckIn.day,
            CheckIn.score,
            func.row_number().over(partition_by=CheckIn.person_id, order_by=CheckIn.day).label("n"),
        )
        .where(CheckIn.person_id.in_(ids), CheckIn.kind == DAILY)
        .subquery()
    )
    firsts = await s.execute(
        select(ranked.c.person_id, ranked.c.day, ranked.c.score).where(ranked.c.n <= first_days)
    )
    first_days_of: set[tuple[int, date]] = set()
    for pid, d, score in firsts:
        first_days_of.add((pid, d))
        if d < since:
            out[pid].append((d, DAILY, score, True))
    recent = await s.execute(
        select(CheckIn.person_id, CheckIn.day, CheckIn.kind, CheckIn.score).where(
            CheckIn.person_id.in_(ids), CheckIn.day >= since
        )
    )
    for pid, d, kind, score in recent:
        out[pid].append((d, kind, score, kind == DAILY and (pid, d) in first_days_of))
    return out


async def flags_since_of(
    s: AsyncSession, person_ids: Sequence[int], symptoms_since: date, escalations_since: date
) -> dict[int, tuple[list[tuple[date, str]], list[tuple[date, str]]]]:
    """flags_since for many people in one read: {person: ([(day, code)], [(day, tier)])}.

    Both lists are in the order they were stored; like recent_checkins_of, callers trim
    per person when their dates differ.
    """
    out: dict[int, tuple[list[tuple[date, str]], list[tuple[date, str]]]] = {
        pid: ([], []) for pid in person_ids
    }
    if not person_ids:
        return out
    ids = sorted(person_ids)
    symptoms = select(
        literal("s").label("what"),
        SymptomReport.person_id,
        SymptomReport.day,
        SymptomReport.code.label("value"),
        SymptomReport.id,
    ).where(SymptomReport.person_id.in_(ids), SymptomReport.day >= symptoms_since)
    escalations = select(
        literal("e").label("what"),
        Escalation.person_id,
        Escalation.day,
        Escalation.tier.label("value"),
        Escalation.id,
    ).where(Escalation.person_id.in_(ids), Escalation.day >= escalations_since)
    rows = sorted(await s.execute(union_all(symptoms, escalations)), key=lambda r: (r[2], r[4]))
    for what, pid, d, value, _ in rows:
        out[pid][0 if what == "s" else 1].append((d, value))
    return out


async def flags_since(
    s: AsyncSession, person_id: int, symptoms_since: date, escalations_since: date
) -> tuple[dict[date, frozenset[str]], list[tuple[date, str]]]:
    """Red-flag answers and announced tiers, in one read: (symptoms by day, [(day, tier)])."""
    symptoms, announced = (await flags_since_of(s, [person_id], symptoms_since, escalations_since))[
        person_id
    ]
    return symptoms_by_day(symptoms), announced


# recent_checkins, flags_since and the runs' distances in one statement: (what, day, value,
# number) rows, what "c" a score (value its kind, number the score), "s" a red-flag answer or
# "e" an announced tier (number the row's id, for the order they were stored in), "r" a run's
# distance in metres (the load rule reads it).
_HISTORY_SQL = (
    "SELECT 'c' AS what, day, kind AS value, score AS number FROM checkins"
    " WHERE person_id = :person_id AND (day >= :since OR (kind = 'daily' AND day IN"
    " (SELECT day FROM checkins WHERE person_id = :person_id AND kind = 'daily'"
    " ORDER BY day LIMIT :first_days)))"
    " UNION ALL SELECT 's', day, code, id FROM symptom_reports"
    " WHERE person_id = :person_id AND day >= :symptoms_since"
    " UNION ALL SELECT 'e', day, tier, id FROM escalations"
    " WHERE person_id = :person_id AND day >= :since"
    " UNION ALL SELECT 'r', day, '', distance_m FROM runs"
    " WHERE person_id = :person_id AND day >= :since AND distance_m IS NOT NULL"
)
_HISTORY = (
    text(_HISTORY_SQL)
    .bindparams(
        bindparam("person_id", type_=Integer()),
        bindparam("since", type_=Date()),
        bindparam("first_days", type_=Integer()),
        bindparam("symptoms_since", type_=Date()),
    )
    .columns(
        column("what", String()),
        column("day", Date()),
        column("value", String()),
        column("number", Integer()),
    )
)


async def score_history(
    s: AsyncSession, person_id: int, since: date, first_days: int, symptoms_since: date
) -> tuple[
    list[tuple[date, str, int]],
    dict[date, frozenset[str]],
    list[tuple[date, str]],
    dict[date, float],
]:
    """recent_checkins(since, first_days), flags_since(symptoms_since, since) and the runs'
    distances since `since` in one round trip: (scores, symptoms by day, [(day, tier)] in the
    order stored, km by day)."""
    rows: Iterable[Sequence[Any]]
    driver = await _sqlite_driver(s)
    if driver is None:
        params: dict[str, Any] = {
            "person_id": person_id,
            "since": since,
            "first_days": first_days,
            "symptoms_since": symptoms_since,
        }
        rows = await s.execute(_HISTORY, params)
    else:
        params = {
            "person_id": person_id,
            "since": since.isoformat(),
            "first_days": first_days,
            "symptoms_since": symptoms_since.isoformat(),
        }
        # SQLite keeps a date as its ISO text (how SQLAlchemy's Date stores it there).
        rows = [
            (what, date.fromisoformat(d), value, number)
            for what, d, value, number in await driver.execute_fetchall(_HISTORY_SQL, params)
        ]
    scores: list[tuple[date, str, int]] = []
    flags: list[tuple[date, int, str, str]] = []
    km: dict[date, float] = {}
    for what, d, value, number in rows:
        if what == "c":
            scores.append((d, value, number))
        elif what == "r":
            km[d] = number / 1000
        else:
            flags.append((d, number, what, value))
    flags.sort()
    symptoms = symptoms_by_day((d, v) for d, _, what, v in flags if what == "s")
    return scores, symptoms, [(d, v) for d, _, what, v in flags if what == "e"], km


async def _sqlite_driver(s: AsyncSession) -> Any | None:
    """The aiosqlite connection under the session's transaction; None on other databases.

    For the statements every score makes: SQLAlchemy's aiosqlite adapter makes four calls to
    the driver per statement (cursor, execute, fetch, close), each an await across its
    greenlet bridge; the driver's own execute makes one. The statement runs in the same
    transaction (SQLite's, on this connection), which the session commits or rolls back as
    usual.
    """
    if s.get_bind().dialect.name != "sqlite":
        return None
    if s.new or s.deleted or s.dirty:
        await s.flush()  # what the ORM holds goes first, as SQLAlchemy's autoflush would
    # The same connection serves the whole transaction: looked up once per transaction, as
    # each lookup is several switches between the event loop and SQLAlchemy's greenlets.
    transaction = s.sync_session.get_transaction()
    known = s.info.get(_DRIVER)
    if transaction is not None and transaction.is_active and known and known[0] is transaction:
        return known[1]
    # One hop into SQLAlchemy's greenlet for both the transaction's connection and its driver.
    driver = await s.run_sync(_driver_of)
    s.info[_DRIVER] = (s.sync_session.get_transaction(), driver)
    return driver


def _driver_of(session: Session) -> Any:
    """The driver connection under the session's transaction (begun if need be)."""
    return session.connection().connection.driver_connection


_DRIVER = "sqlite_driver"  # Session.info key: (the transaction, its aiosqlite connection)


# How SQLite stores a UTCDateTime, per dialect (SQLAlchemy's own bind processing).
_UTC_BINDS: weakref.WeakKeyDictionary[Dialect, Any] = weakref.WeakKeyDictionary()


def _sqlite_instant(s: AsyncSession, value: datetime) -> Any:
    dialect = s.get_bind().dialect
    bind = _UTC_BINDS.get(dialect)
    if bind is None:
        bind = _UTC_BINDS[dialect] = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    return bind(value) if bind is not None else value


async def _write(s: AsyncSession, sql: str, stmt: Any, params: dict[str, Any]) -> int:
    """Run one of the score's writes (`sql`, `stmt` its typed form): the rows it touched."""
    driver = await _sqlite_driver(s)
    if driver is None:
        return _rowcount(await s.execute(stmt, params))
    raw = {
        k: v.isoformat()
        if type(v) is date
        else _sqlite_instant(s, v)
        if isinstance(v, datetime)
        else v
        for k, v in params.items()
    }
    cursor = await driver.execute(sql, raw)
    return int(cursor.rowcount)


def symptoms_by_day(rows: Iterable[tuple[date, str]]) -> dict[date, frozenset[str]]:
    """Red-flag answers (day, code) grouped by day."""
    by_day: dict[date, set[str]] = {}
    for d, code in rows:
        by_day.setdefault(d, set()).add(code)
    return {d: frozenset(codes) for d, codes in by_day.items()}


async def daily_scores(s: AsyncSession, person_id: int, since: date) -> dict[date, int]:
    """Daily scores from `since` on, by local date."""
    rows = await s.execute(
        select(CheckIn.day, CheckIn.score).where(
            CheckIn.person_id == person_id, CheckIn.kind == DAILY, CheckIn.day >= since
        )
    )
    return {d: sc for d, sc in rows}


async def run_scores(s: AsyncSession, person_id: int, since: date) -> list[tuple[date, int, str]]:
    """Run scores from `since` on as (day, score, 'during'|'after')."""
    rows = await s.execute(
        select(CheckIn.day, CheckIn.score, CheckIn.kind)
        .where(
            CheckIn.person_id == person_id,
            CheckIn.kind.in_(RUN_KINDS.values()),
            CheckIn.day >= since,
        )
        .order_by(CheckIn.day)
    )
    return [(d, sc, k.removeprefix("run_")) for d, sc, k in rows]


async def upsert_run(
    s: AsyncSession,
    person_id: int,
    day: date,
    now: datetime,
    *,
    km: float | None = None,
    unit: str | None = None,
    band: str | None = None,
    minutes: float | None = None,
    surface: str | None = None,
) -> None:
    """Store a run's details for (person, day) in one statement: what is given fills in or
    replaces what was there, what is not given stays (a typed distance drops a range)."""
    given: dict[str, Any] = {}
    if km is not None:
        given |= {"distance_m": round(km * 1000), "unit": unit, "band": band}
    if minutes is not None:
        given["duration_s"] = round(minutes * 60)
    if surface is not None:
        given["surface"] = surface
    stmt = _insert(s, RunDetail).values(person_id=person_id, day=day, recorded_at=now, **given)
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id", "day"], set_={**given, "recorded_at": now}
    )
    await s.execute(stmt)


async def runs_since(s: AsyncSession, person_id: int, since: date) -> list[Run]:
    """Runs from `since` on, one per day, oldest first: pain during and after, distance (km),
    minutes and surface; a day with a run score or run details is a run."""
    by_day: dict[date, dict[str, Any]] = {}
    for d, score, phase in await run_scores(s, person_id, since):
        by_day.setdefault(d, {})[phase] = score
    details = await s.scalars(
        select(RunDetail).where(RunDetail.person_id == person_id, RunDetail.day >= since)
    )
    for r in details:
        by_day.setdefault(r.day, {}).update(
            km=None if r.distance_m is None else r.distance_m / 1000,
            minutes=None if r.duration_s is None else r.duration_s / 60,
            surface=r.surface,
            unit=r.unit,
            band=r.band,
        )
    return [Run(day=d, **fields) for d, fields in sorted(by_day.items())]


async def distance_unit(s: AsyncSession, person_id: int) -> str | None:
    """The unit of the person's last run with a distance ("km" or "mi"), None before any."""
    found = await s.scalar(
        select(RunDetail.unit)
        .where(RunDetail.person_id == person_id, RunDetail.unit.is_not(None))
        .order_by(RunDetail.day.desc())
        .limit(1)
    )
    return found


async def run_export_rows(s: AsyncSession, person_id: int) -> list[Sequence[object]]:
    """The person's run details as export rows: distance (km), minutes, surface."""
    rows: list[Sequence[object]] = []
    for r in await s.scalars(
        select(RunDetail).where(RunDetail.person_id == person_id).order_by(RunDetail.day)
    ):
        day, at = r.day.isoformat(), r.recorded_at.isoformat()
        if r.distance_m is not None:
            detail = f"as {r.unit or 'km'}" + (f", range {r.band}" if r.band else "")
            rows.append(("run", day, "distance_km", f"{r.distance_m / 1000:g}", detail, at))
        if r.duration_s is not None:
            rows.append(("run", day, "minutes", f"{r.duration_s / 60:g}", "", at))
        if r.surface is not None:
            rows.append(("run", day, "surface", r.surface, "", at))
    return rows


async def add_symptom(s: AsyncSession, person_id: int, day: date, code: str, now: datetime) -> bool:
    """Record a red-flag screen answer once per day; False when it was already recorded."""
    stmt = (
        _insert(s, SymptomReport)
        .values(person_id=person_id, day=day, code=code, recorded_at=now)
        .on_conflict_do_nothing(index_elements=["person_id", "day", "code"])
    )
    result = await s.execute(stmt)
    return bool(_rowcount(result))


async def remove_symptoms(
    s: AsyncSession, person_id: int, day: date, codes: Collection[str]
) -> None:
    """Remove a day's red-flag answers ("none of these" after a flag; a flag cleared)."""
    await s.execute(
        delete(SymptomReport).where(
            SymptomReport.person_id == person_id,
            SymptomReport.day == day,
            SymptomReport.code.in_(sorted(codes)),
        )
    )


async def add_escalation(
    s: AsyncSession, person_id: int, day: date, tier: str, reasons: str, now: datetime
) -> bool:
    """Remember an announced tier, once per day (the unique key decides, not a read first).

    False when that tier was already stored for the day, e.g. by a tap at the same instant.
    """
    params = {"person_id": person_id, "day": day, "tier": tier, "reasons": reasons, "now": now}
    return bool(await _write(s, _ADD_ESCALATION_SQL, _ADD_ESCALATION, params))


# Built once, as text for the reason _UPSERT_SCORE is: a high score's advice is stored per tap.
_ADD_ESCALATION_SQL = (
    "INSERT INTO escalations (person_id, day, tier, reasons, created_at)"
    " VALUES (:person_id, :day, :tier, :reasons, :now)"
    " ON CONFLICT (person_id, day, tier) DO NOTHING"
)
_ADD_ESCALATION = text(_ADD_ESCALATION_SQL).bindparams(
    bindparam("person_id", type_=Integer()),
    bindparam("day", type_=Date()),
    bindparam("tier", type_=String()),
    bindparam("reasons", type_=String()),
    bindparam("now", type_=UTCDateTime()),
)


async def remove_escalations_above(s: AsyncSession, person_id: int, day: date, tier: Tier) -> bool:
    """Withdraw a day's get-help advice above `tier`; True if any went."""
    above = [t.key for t in (Tier.URGENT, Tier.EMERGENCY) if t > tier]
    if not above:
        return False
    result = await s.execute(
        delete(Escalation).where(
            Escalation.person_id == person_id, Escalation.day == day, Escalation.tier.in_(above)
        )
    )
    return bool(_rowcount(result))


async def remove_escalations(
    s: AsyncSession, person_id: int, day: date, tiers: Collection[str]
) -> None:
    """Withdraw a day's announcements of these tiers (their reason is gone)."""
    await s.execute(
        delete(Escalation).where(
            Escalation.person_id == person_id,
            Escalation.day == day,
            Escalation.tier.in_(sorted(tiers)),
        )
    )


async def escalations_since(s: AsyncSession, person_id: int, since: date) -> list[tuple[date, str]]:
    """Announced tiers as (day, tier), oldest first."""
    return [(d, t) for d, t, _ in await escalation_notes_since(s, person_id, since)]


async def escalation_notes_since(
    s: AsyncSession, person_id: int, since: date
) -> list[tuple[date, str, str]]:
    """Announced tiers with their reasons as (day, tier, reasons), oldest first."""
    rows = await s.execute(
        select(Escalation.day, Escalation.tier, Escalation.reasons)
        .where(Escalation.person_id == person_id, Escalation.day >= since)
        .order_by(Escalation.day, Escalation.id)
    )
    return [(d, t, r) for d, t, r in rows]


async def park_unreachable(s: AsyncSession, person_ids: Collection[int]) -> None:
    """Mark people unreachable and hold all their reminders (and only theirs) until they write.

    A reminder whose send is under way keeps nothing: its lease goes too, so the sender's
    late record is refused by the token check.
    """
    if not person_ids:
        return
    ids = sorted(person_ids)
    await s.execute(update(Person).where(Person.id.in_(ids)).values(reachable=False))
    await s.execute(
        update(Reminder)
        .where(Reminder.person_id.in_(ids))
        .values(next_send_at=None, claimed_by=None, claimed_until=None)
    )


async def set_activity(
    s: AsyncSession, person_id: int, day: date, kind: str, now: datetime
) -> bool:
    """Mark core work done/skipped for a day; False if it was already marked."""
    stmt = (
        _insert(s, Activity)
        .values(person_id=person_id, day=day, kind=kind, recorded_at=now)
        .on_conflict_do_nothing(index_elements=["person_id", "day", "kind"])
    )
    result = await s.execute(stmt)
    return bool(_rowcount(result))


async def activity_days(s: AsyncSession, person_id: int, kind: str, since: date) -> frozenset[date]:
    """Days with the given activity."""
    rows = await s.scalars(
        select(Activity.day).where(
            Activity.person_id == person_id, Activity.kind == kind, Activity.day >= since
        )
    )
    return frozenset(rows)


async def counts(s: AsyncSession, person_id: int) -> dict[str, int]:
    """How many rows of each kind the person has (for the delete confirmation)."""
    out = {}
    for model in PERSONAL_TABLES:
        out[model.__tablename__] = (
            await s.scalar(
                select(func.count()).select_from(model).where(model.person_id == person_id)
            )
            or 0
        )
    return out


async def delete_person(s: AsyncSession, person_id: int) -> None:
    """Erase every row about the person. Explicit deletes, not only FK cascades, on every engine."""
    for model in PERSONAL_TABLES:
        await s.execute(delete(model).where(model.person_id == person_id))
    await s.execute(delete(Person).where(Person.id == person_id))


async def flush_erased(s: AsyncSession) -> None:
    """After an erasure: on SQLite, move the WAL into the database and empty it, so deleted
    rows do not linger in the -wal file (secure_delete has zeroed them in their pages)."""
    if s.get_bind().dialect.name == "sqlite":
        await s.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


async def export_rows(s: AsyncSession, person_id: int) -> list[Sequence[object]]:
    """Everything stored about a person as CSV rows (header first)."""
    rows: list[Sequence[object]] = [("record", "day", "kind", "value", "detail", "recorded_at")]
    person = await s.get(Person, person_id)
    if person is not None:
        rows.append(
            (
                "person",
                "",
                "platform",
                person.platform,
                f"tz={person.tz}",
                person.consent_at.isoformat(),
            )
        )
        if person.stopped:
            rows.append(("person", "", "reminders_stopped", "yes", "", ""))
        if person.nudge:
            rows.append(("person", "", "nudge_if_no_score", "on", "", ""))
        if person.paused_until:
            rows.append(("person", "", "paused_until", person.paused_until.isoformat(), "", ""))
        if person.quiet_start and person.quiet_end:
            quiet = f"{person.quiet_start:%H:%M}-{person.quiet_end:%H:%M}"
            rows.append(("person", "", "quiet_hours", quiet, "", ""))
        if person.strength_started:
            rows.append(
                ("person", person.strength_started.isoformat(), "strength_started", "", "", "")
            )
        # Everything stored means the identifiers too, and the state of an episode.
        rows.append(("person", "", "user_id", person.user_id, f"chat_id={person.chat_id}", ""))
        if person.episode_tier and person.episode_opened:
            detail = "told to rest" if person.episode_rest else "not yet checked"
            opened = person.episode_opened.isoformat()
            rows.append(("person", opened, "episode_open", person.episode_tier, detail, ""))
        if person.cleared_on:
            rows.append(("person", person.cleared_on.isoformat(), "cleared_to_train", "", "", ""))
    for m in await s.scalars(
        select(ClubMember).where(ClubMember.person_id == person_id).order_by(ClubMember.id)
    ):
        shares = "shares streak" if m.share_streak else "streak hidden"
        name = f"{shares}, name={m.display_name}" if m.display_name else shares
        rows.append(("club_member", "", "club", m.club_id, name, m.joined_at.isoformat()))
    for c in await s.scalars(
        select(CheckIn).where(CheckIn.person_id == person_id).order_by(CheckIn.day, CheckIn.kind)
    ):
        rows.append(
            ("checkin", c.day.isoformat(), c.kind, c.score, c.note or "", c.recorded_at.isoformat())
        )
        if c.previous_score is not None and c.previous_at is not None:
            # The score before its last change, kept so /undo can put it back: stored, so shown.
            before = c.previous_at.isoformat()
            rows.append(
                ("checkin_before_change", c.day.isoformat(), c.kind, c.previous_score, "", before)
            )
    rows += await run_export_rows(s, person_id)
    for sr in await s.scalars(
        select(SymptomReport)
        .where(SymptomReport.person_id == person_id)
        .order_by(SymptomReport.day)
    ):
        rows.append(("symptom", sr.day.isoformat(), sr.code, "", "", sr.recorded_at.isoformat()))
    rows += await _pain_context_rows(s, person_id)
    for e in await s.scalars(
        select(Escalation).where(Escalation.person_id == person_id).order_by(Escalation.day)
    ):
        rows.append(
            ("escalation", e.day.isoformat(), e.tier, "", e.reasons, e.created_at.isoformat())
        )
    for a in await s.scalars(
        select(Activity).where(Activity.person_id == person_id).order_by(Activity.day)
    ):
        rows.append(("activity", a.day.isoformat(), a.kind, "", "", a.recorded_at.isoformat()))
    rows += await ladder_export_rows(s, person_id, person)
    for r in await reminders_of(s, person_id):
        detail = ("weekdays" if r.weekdays_only else "every day") + ("" if r.enabled else ", off")
        rows.append(("reminder", "", r.kind, r.times, detail, ""))
    for d in await s.scalars(
        select(Delivery).where(Delivery.person_id == person_id).order_by(Delivery.slot)
    ):
        rows.append(
            ("reminder_sent", d.slot.date().isoformat(), d.kind, "", "", d.sent_at.isoformat())
        )
    return rows


async def reminders_of(s: AsyncSession, person_id: int) -> list[Reminder]:
    """The person's reminder rows (checkin, core, posture), in a stable order."""
    return list(
        await s.scalars(
            select(Reminder).where(Reminder.person_id == person_id).order_by(Reminder.id)
        )
    )


async def add_reminder(
    s: AsyncSession, person_id: int, kind: str, times: str, weekdays_only: bool
) -> Reminder:
    """A new, not yet scheduled reminder row for the person."""
    reminder = Reminder(
        person_id=person_id,
        kind=kind,
        times=times,
        weekdays_only=weekdays_only,
        enabled=True,
        sent_count=0,
    )
    s.add(reminder)
    await s.flush()
    return reminder


async def ladder_runs_since(s: AsyncSession, person_id: int, since: date) -> list[LadderRun]:
    """The person's return-to-run ladder runs from `since` on, oldest first."""
    return list(
        await s.scalars(
            select(LadderRun)
            .where(LadderRun.person_id == person_id, LadderRun.day >= since)
            .order_by(LadderRun.day)
        )
    )


async def add_ladder_run(
    s: AsyncSession,
    person_id: int,
    day: date,
    stage: int,
    now: datetime,
    pain: str | None = None,
    outcome: str | None = None,
) -> LadderRun:
    """The ladder run of `day`: stored once (the unique key decides), else the one there."""
    stmt = (
        _insert(s, LadderRun)
        .values(
            person_id=person_id, day=day, stage=stage, pain=pain, outcome=outcome, recorded_at=now
        )
        .on_conflict_do_nothing(index_elements=["person_id", "day"])
    )
    await s.execute(stmt)
    run = await s.scalar(
        select(LadderRun).where(LadderRun.person_id == person_id, LadderRun.day == day)
    )
    assert run is not None
    return run


async def symptom_days(s: AsyncSession, person_id: int, code: str, since: date) -> list[date]:
    """Days from `since` on with this red-flag answer."""
    rows = await s.scalars(
        select(SymptomReport.day).where(
            SymptomReport.person_id == person_id,
            SymptomReport.code == code,
            SymptomReport.day >= since,
        )
    )
    return sorted(rows)


async def ladder_export_rows(
    s: AsyncSession, person_id: int, person: Person | None
) -> list[Sequence[object]]:
    """The return-to-run ladder as export rows: where the person is, then each run."""
    rows: list[Sequence[object]] = []
    if person is not None and person.ladder_stage is not None and person.ladder_started:
        detail = f"good runs at this stage={person.ladder_good_runs}"
        if person.ladder_paused:
            detail += f", paused ({person.ladder_paused})"
        started = person.ladder_started.isoformat()
        rows.append(("person", started, "ladder_stage", person.ladder_stage, detail, ""))
    if person is not None and person.ladder_finished is not None:
        rows.append(("person", person.ladder_finished.isoformat(), "ladder_finished", "", "", ""))
    for r in await ladder_runs_since(s, person_id, date.min):
        answers = f"pain during={r.pain or '-'}, trouble={r.trouble or '-'}"
        answers += f", next morning={r.morning or '-'}"
        rows.append(
            (
                "ladder_run",
                r.day.isoformat(),
                f"stage {r.stage}",
                r.outcome or "open",
                answers,
                r.recorded_at.isoformat(),
            )
        )
    return rows


# --- where it hurts, what set it off, morning stiffness (after a rise of 2 or more) ---------


@dataclass(frozen=True, slots=True)
class PainContextDay:
    """The answers about one day with a rise: places, triggers (codes) and morning stiffness."""

    day: date
    places: frozenset[str] = frozenset()
    triggers: frozenset[str] = frozenset()
    stiffness: str | None = None

    @property
    def answered(self) -> bool:
        """Whether any question was answered that day."""
        return bool(self.places or self.triggers or self.stiffness)


def _codes(value: str | None) -> frozenset[str]:
    return frozenset(c for c in (value or "").split(",") if c)


def _joined(codes: Iterable[str]) -> str | None:
    return ",".join(sorted(codes)) or None


def _context_day(row: PainContext) -> PainContextDay:
    return PainContextDay(row.day, _codes(row.places), _codes(row.triggers), row.stiffness)


async def ask_pain_context(s: AsyncSession, person_id: int, day: date, now: datetime) -> bool:
    """Note that the questions about `day` are asked; False when they were already asked."""
    stmt = (
        _insert(s, PainContext)
        .values(person_id=person_id, day=day, asked_at=now)
        .on_conflict_do_nothing(index_elements=["person_id", "day"])
    )
    return bool(_rowcount(await s.execute(stmt)))


async def pain_context_on(s: AsyncSession, person_id: int, day: date) -> PainContextDay | None:
    """The answers about one day, None when the questions were never asked about it."""
    row = await s.scalar(
        select(PainContext).where(PainContext.person_id == person_id, PainContext.day == day)
    )
    return None if row is None else _context_day(row)


async def set_pain_context(
    s: AsyncSession,
    person_id: int,
    day: date,
    now: datetime,
    *,
    places: Collection[str] | None = None,
    triggers: Collection[str] | None = None,
    stiffness: str | None = None,
) -> PainContextDay:
    """Store the answers given about `day` (its row made if a stale question had none); the
    day's answers as they now stand."""
    await ask_pain_context(s, person_id, day, now)
    changes: dict[str, Any] = {"answered_at": now}
    if places is not None:
        changes["places"] = _joined(places)
    if triggers is not None:
        changes["triggers"] = _joined(triggers)
    if stiffness is not None:
        changes["stiffness"] = stiffness
    await s.execute(
        update(PainContext)
        .where(PainContext.person_id == person_id, PainContext.day == day)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    found = await pain_context_on(s, person_id, day)
    assert found is not None
    return found


async def pain_context_since(s: AsyncSession, person_id: int, since: date) -> list[PainContextDay]:
    """Every day from `since` on that the questions were asked about, oldest first.

    For /history's counts and the physio report; a day asked about and left unanswered has
    empty answers (`answered` is False).
    """
    rows = await s.scalars(
        select(PainContext)
        .where(PainContext.person_id == person_id, PainContext.day >= since)
        .order_by(PainContext.day)
    )
    return [_context_day(r) for r in rows]


async def _pain_context_rows(s: AsyncSession, person_id: int) -> list[Sequence[object]]:
    """export_rows' lines for the questions after a rise: when asked, then each answer."""
    rows: list[Sequence[object]] = []
    for r in await s.scalars(
        select(PainContext).where(PainContext.person_id == person_id).order_by(PainContext.day)
    ):
        day, answered = r.day.isoformat(), r.answered_at.isoformat() if r.answered_at else ""
        rows.append(("pain_context", day, "asked", "", "", r.asked_at.isoformat()))
        for kind, value in (
            ("where", r.places),
            ("set_off_by", r.triggers),
            ("morning_stiffness", r.stiffness),
        ):
            if value:
                rows.append(("pain_context", day, kind, value.replace(",", " "), "", answered))
    return rows
