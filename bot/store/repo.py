"""Queries: the only place that reads and writes rows. Callers own the session and commit."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import and_, delete, func, literal, or_, select, text, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import (
    PERSONAL_TABLES,
    Activity,
    Base,
    CheckIn,
    ClubMember,
    Delivery,
    Escalation,
    Person,
    Reminder,
    SymptomReport,
)
from bot.trends import Tier

DAILY = "daily"
RUN_KINDS = {"during": "run_during", "after": "run_after"}


async def find_person(s: AsyncSession, platform: str, user_id: str) -> Person | None:
    """The person with this platform identity, if they have consented."""
    person = await s.scalar(
        select(Person).where(Person.platform == platform, Person.user_id == user_id)
    )
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


async def set_note(s: AsyncSession, person_id: int, day: date, note: str, now: datetime) -> bool:
    """Attach a note to the daily score of `day`; False when there is no score that day."""
    result = await s.execute(
        update(CheckIn)
        .where(CheckIn.person_id == person_id, CheckIn.day == day, CheckIn.kind == DAILY)
        .values(note=note, note_at=now)
    )
    return bool(_rowcount(result))


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
        await s.execute(delete(CheckIn).where(CheckIn.id == row))
        return None
    checkin.score = previous
    checkin.recorded_at = checkin.previous_at
    checkin.previous_score = None
    checkin.previous_at = None
    return previous


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
    stmt = (
        _insert(s, Escalation)
        .values(person_id=person_id, day=day, tier=tier, reasons=reasons, created_at=now)
        .on_conflict_do_nothing(index_elements=["person_id", "day", "tier"])
    )
    result = await s.execute(stmt)
    return bool(_rowcount(result))


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
    for sr in await s.scalars(
        select(SymptomReport)
        .where(SymptomReport.person_id == person_id)
        .order_by(SymptomReport.day)
    ):
        rows.append(("symptom", sr.day.isoformat(), sr.code, "", "", sr.recorded_at.isoformat()))
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
