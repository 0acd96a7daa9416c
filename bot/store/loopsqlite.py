"""SQLite driven from the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs each call (execute, fetch, commit) on one thread per connection and hands the
result back to the event loop. A score tap makes five such calls, and each is two thread
switches, a wake-up of the loop and a turn of it; in a busy bot process, where the loop is never
idle and the GIL is contended, the hand-offs cost more than the SQL. Our statements are short
(a person, a day's scores, one insert), so here they run on the loop's thread straight away.

What a thread gave for free is kept:
- Waiting for a lock held by another connection or process never blocks the loop. SQLite's own
  busy wait is off (timeout 0); a busy statement is tried again after an `asyncio.sleep`, on
  SQLite's own schedule of waits, until the connection's timeout has passed.
- Opening and closing still happen on aiosqlite's thread, as does anything SQLAlchemy queues
  there itself (setting the isolation level).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import types
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

# The waits of SQLite's own busy handler (sqliteDefaultBusyCallback), in seconds; the last
# one repeats until the timeout.
BUSY_WAITS_S = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.025, 0.025, 0.050, 0.050, 0.100)
# sqlite3's default timeout, when the URL's connect arguments give none.
DEFAULT_TIMEOUT_S = 5.0


def busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds a lock it may soon release.

    SQLITE_BUSY_SNAPSHOT is left out, as SQLite's busy handler leaves it out: a transaction
    that read an older snapshot cannot write until it starts again, so waiting cannot help.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        code is not None
        and code & 0xFF == sqlite3.SQLITE_BUSY
        and code != sqlite3.SQLITE_BUSY_SNAPSHOT
    )


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the event loop, with a non-blocking busy wait."""

    def __init__(
        self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int, timeout: float
    ) -> None:
        super().__init__(connector, iter_chunk_size)
        self.busy_timeout = timeout

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not busy(exc):
                raise
        return await self._when_free(fn, *args, **kwargs)

    async def _when_free(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Try a busy call again after each of SQLite's waits, until the timeout has passed."""
        deadline = time.monotonic() + self.busy_timeout
        waits = iter(BUSY_WAITS_S)
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(next(waits, BUSY_WAITS_S[-1]), left))
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not busy(exc) or time.monotonic() >= deadline:
                    raise
        return fn(*args, **kwargs)  # out of time (or a timeout of 0): a last try, as it comes


def connect(
    database: str, *, timeout: float = DEFAULT_TIMEOUT_S, iter_chunk_size: int = 64, **kwargs: Any
) -> LoopConnection:
    """As `aiosqlite.connect`, for a connection used from the event loop's thread."""
    # The connection is opened on aiosqlite's thread and used on the loop's.
    kwargs["check_same_thread"] = False
    connector = partial(sqlite3.connect, database, timeout=0, **kwargs)
    return LoopConnection(connector, iter_chunk_size, timeout)


# aiosqlite as SQLAlchemy's dialect sees it (its errors and version), with this connection.
_DRIVER = types.ModuleType("loopsqlite_driver")
_DRIVER.__dict__.update(
    {k: v for k, v in vars(aiosqlite).items() if not k.startswith("__")},
    Connection=LoopConnection,
    connect=connect,
)


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module for `create_async_engine(..., module=...)` on a sqlite+aiosqlite URL."""
    return AsyncAdapt_aiosqlite_dbapi(_DRIVER, sqlite3)
