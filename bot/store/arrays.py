"""Predicates over a batch of values: one array parameter on PostgreSQL, not one per value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import DateTime, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from bot.store.models import UTCDateTime


def dialect(s: AsyncSession) -> str:
    """The database engine behind `s`: "sqlite" or "postgresql"."""
    return s.get_bind().dialect.name


def among(s: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY(array)``: one parameter, not one per value.

    A dispatcher's batch is hundreds of ids, and expanding an IN list costs it more CPU per
    statement than the database spends answering it.
    """
    found: ColumnElement[bool]
    if dialect(s) != "postgresql":
        found = column.in_(values)
    else:
        found = column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(plain(column))))
    return found


def plain(column: Any) -> Any:
    """The driver-level type of a column, for array parameters (no per-element processing)."""
    if isinstance(column.type, UTCDateTime):
        return DateTime(timezone=True)  # values are aware UTC datetimes already
    return column.type
