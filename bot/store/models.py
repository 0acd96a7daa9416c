"""SQLAlchemy 2.x models: everything the bot remembers about a person, keyed by Person.id."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints so Alembic migrations are stable across SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite forgets the zone, so we put it back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


def _person_fk() -> ForeignKey:
    return ForeignKey("people.id", ondelete="CASCADE")


class Person(Base):
    """Someone who agreed to store their check-ins. No row exists before consent."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    # Where reminders go: the private chat with the person (Telegram chat id, Discord user id).
    chat_id: Mapped[str] = mapped_column(String(64))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    strength_started: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Reminder controls: /pause N sets paused_until, /stop sets stopped, /quiet sets the window
    # (local wall-clock times; either both set or both None).
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    stopped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    quiet_start: Mapped[time | None] = mapped_column(Time, nullable=True)
    quiet_end: Mapped[time | None] = mapped_column(Time, nullable=True)
    # An episode (CLINICAL.md "Episodes"): opened by emergency or same-day advice, open until
    # the person says they have been checked. episode_tier is set while it is open;
    # episode_rest once they were told to rest; cleared_on is the day they were cleared.
    episode_tier: Mapped[str | None] = mapped_column(String(16), nullable=True)
    episode_opened: Mapped[date | None] = mapped_column(Date, nullable=True)
    episode_rest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cleared_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The question of onboarding or /settings a typed answer goes to ("checkin:739000": the
    # check-in time, asked that day); None when none is open.
    asking: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # One nudge when no score came by a few hours after the check-in; only if they asked.
    nudge: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Fewer nags for someone who stops answering (reminder_kinds/_backoff.py): check-ins sent
    # in a row with no answer, and when they last said or tapped anything.
    unanswered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The return-to-run ladder as a tracked plan (bot/handlers/plans.py): the stage they are on
    # (None when not on it), good runs counted at that stage, when it started or was finished,
    # and why it is paused ("episode" or "hop"), so that its resumption is said once.
    ladder_stage: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    ladder_good_runs: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    ladder_started: Mapped[date | None] = mapped_column(Date, nullable=True)
    ladder_finished: Mapped[date | None] = mapped_column(Date, nullable=True)
    ladder_paused: Mapped[str | None] = mapped_column(String(16), nullable=True)


class CheckIn(Base):
    """One score: the daily score for a local date, or a run score (during/after)."""

    __tablename__ = "checkins"
    # The unique key also serves history reads (person_id, day range).
    __table_args__ = (UniqueConstraint("person_id", "day", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk())
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # daily | run_during | run_after
    score: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(16))  # chat | button | log | club
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(280), nullable=True)
    # For /undo: the score this row held before its last change and when that was recorded
    # (a change undone goes back to it), and when the note was written.
    previous_score: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    previous_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunDetail(Base):
    """The run of a local date: distance, duration and surface, beside its pain scores.

    One row a day: a run's details told again (or a range tapped) fill in or replace what
    was there, so a run logged during and after is still one run.
    """

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("person_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk())
    day: Mapped[date] = mapped_column(Date)
    # Whole metres and seconds: exact on every engine, and finer than anyone types.
    distance_m: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(2), nullable=True)  # km | mi, as given
    # A distance from a range button is an estimate: the range it came from ("5-10 km").
    band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    surface: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SymptomReport(Base):
    """An answer on the red-flag screen (including 'none of these')."""

    __tablename__ = "symptom_reports"
    __table_args__ = (UniqueConstraint("person_id", "day", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    day: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(24))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PainContext(Base):
    """Where it hurt, what set it off and morning stiffness, on a day the score rose by 2+.

    The row is made when the optional questions are asked, so the unique key asks them once
    a day; each answer stays empty until given. Places and triggers are sets of codes joined
    by commas; stiffness is one code per day (under_30, over_30, none), kept day by day so a
    rule about stiffness over months can read it.
    """

    __tablename__ = "pain_context"
    # The unique key starts with person_id, so it serves the per-person reads too.
    __table_args__ = (UniqueConstraint("person_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk())
    day: Mapped[date] = mapped_column(Date)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    places: Mapped[str | None] = mapped_column(String(64), nullable=True)
    triggers: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stiffness: Mapped[str | None] = mapped_column(String(12), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Escalation(Base):
    """A tier the bot announced, with the reasons it gave: one row per tier and day.

    The unique key, not a read before the write, is what keeps two taps at the same instant
    from announcing (and storing) the same advice twice.
    """

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("person_id", "day", "tier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk())
    day: Mapped[date] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """Core work done or skipped on a local date."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("person_id", "day", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # core_done | core_skipped
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LadderRun(Base):
    """One run logged on the return-to-run ladder: its stage, the answers to its questions,
    and what it did to the ladder (one a day: a second score that day is the same run)."""

    __tablename__ = "ladder_runs"
    __table_args__ = (UniqueConstraint("person_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    day: Mapped[date] = mapped_column(Date)
    stage: Mapped[int] = mapped_column(SmallInteger)
    pain: Mapped[str | None] = mapped_column(String(8), nullable=True)  # 0-3 | 4-5 | 6-10
    trouble: Mapped[str | None] = mapped_column(String(8), nullable=True)  # none|sharp|built|gait
    morning: Mapped[str | None] = mapped_column(String(8), nullable=True)  # same | worse
    # The day the next-morning question was last asked: once a day at most.
    asked_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # good | repeat | back | too_soon | too_many | unanswered; None while questions are open.
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The good runs counted at `stage` when this run was settled: /undo of its score puts
    # the ladder back to (stage, good_runs_before). None before it is settled.
    good_runs_before: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Reminder(Base):
    """One kind of reminder for one person, and when it is next due (the scheduler's work queue).

    next_slot is the scheduled instant (the ledger key); next_send_at is when to send it (the
    slot moved out of quiet hours, or an earlier one-off extra send), NULL while parked
    (disabled, stopped, unreachable). snoozed_until is one extra one-off send: a snoozed core
    reminder or the check-in's nudge. claimed_until/claimed_by are a dispatcher's lease.
    """

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("person_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk())
    kind: Mapped[str] = mapped_column(String(16))  # a key of bot/handlers/reminder_kinds/
    times: Mapped[str] = mapped_column(String(120))  # local "HH:MM[,HH:MM...]"
    weekdays_only: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_slot: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(Base):
    """The ledger: one row per reminder slot delivered; the unique key forbids a second send."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("reminder_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))  # a send's key: checkin, nudge, snooze...
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Club(Base):
    """A group chat or channel running daily club check-ins. Holds no one's scores."""

    __tablename__ = "clubs"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    post_time: Mapped[time | None] = mapped_column(Time, nullable=True)  # local; None = off
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    streaks: Mapped[bool] = mapped_column(Boolean, default=False)
    next_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClubMember(Base):
    """A person who checked in through a club post; a display name only if they share streaks."""

    __tablename__ = "club_members"
    __table_args__ = (UniqueConstraint("club_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    share_streak: Mapped[bool] = mapped_column(Boolean, default=False)
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClubPost(Base):
    """The ledger of club posts: one of each kind per club and local date."""

    __tablename__ = "club_posts"
    # The kind is in the key, so another kind of post can go out on the day of the check-in.
    __table_args__ = (UniqueConstraint("club_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("clubs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="daily", server_default="daily")
    day: Mapped[date] = mapped_column(Date)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The day before closes with this post; its totals are frozen here, so nothing later (a
    # late /log, a member's /delete) can move a published figure and reveal one person.
    # score_sum is kept only with enough reporters to publish.
    closed_reporters: Mapped[int | None] = mapped_column(Integer, nullable=True)
    closed_score_sum: Mapped[int | None] = mapped_column(Integer, nullable=True)


# A row about one person: each of these has a person_id.
PersonalRow = (
    ClubMember
    | CheckIn
    | RunDetail
    | SymptomReport
    | PainContext
    | Escalation
    | Activity
    | LadderRun
    | Delivery
    | Reminder
)

# Every table that holds rows about a person: /delete and /export walk this list
# (deliveries before reminders: the ledger refers to them).
PERSONAL_TABLES: tuple[type[PersonalRow], ...] = (
    ClubMember,
    CheckIn,
    RunDetail,
    SymptomReport,
    PainContext,
    Escalation,
    Activity,
    LadderRun,
    Delivery,
    Reminder,
)
