"""SQLAlchemy 2.x models: everything the bot remembers about a person, keyed by Person.id."""

from __future__ import annotations

from datetime import UTC, date, datetime

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
    UniqueConstraint,
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


class SymptomReport(Base):
    """An answer on the red-flag screen (including 'none of these')."""

    __tablename__ = "symptom_reports"
    __table_args__ = (UniqueConstraint("person_id", "day", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
    day: Mapped[date] = mapped_column(Date)
    code: Mapped[str] = mapped_column(String(24))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Escalation(Base):
    """A tier the bot announced, with the reasons it gave."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(_person_fk(), index=True)
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


# Every table that holds rows about a person: /delete and /export walk this list.
PERSONAL_TABLES: tuple[type[Base], ...] = (CheckIn, SymptomReport, Escalation, Activity)
