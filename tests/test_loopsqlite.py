"""SQLite on the event loop's thread (bot.store.loopsqlite): statements run there, and a lock
held elsewhere is waited for without stopping the loop, up to the connection's timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import loopsqlite
from bot.store.db import make_engine


@asynccontextmanager
async def engine_on(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
        yield engine
    finally:
        await engine.dispose()


@contextmanager
def write_lock_held(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection (as another process would) holding the write lock until released."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def ticks_while(coro: asyncio.Future | asyncio.Task) -> int:  # type: ignore[type-arg]
    """How many times a 5 ms ticker ran on the loop while `coro` was pending."""
    count = 0
    while not coro.done():
        await asyncio.sleep(0.005)
        count += 1
    return count


async def test_statements_run_on_the_loops_thread(tmp_path: Path) -> None:
    loop_thread = threading.get_ident()
    async with engine_on(tmp_path / "a.sqlite3") as engine, engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, loopsqlite.LoopConnection)
        await driver.create_function("thread_id", 0, threading.get_ident)
        ran_on = (await conn.execute(text("SELECT thread_id()"))).scalar_one()
    assert ran_on == loop_thread


async def test_a_busy_write_waits_without_stopping_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    async with engine_on(path) as engine:
        with write_lock_held(path) as other:

            async def insert() -> None:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))

            task = asyncio.create_task(insert())
            # The lock is released 0.3 s on, from another thread, as another process would.
            threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
            started = time.monotonic()
            ticks = await ticks_while(task)
            await task
            waited = time.monotonic() - started
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one()
    assert stored == 1
    assert waited >= 0.25
    # The loop went on running while the insert waited: most 5 ms ticks got their turn.
    assert ticks >= 20, ticks


async def test_a_lock_held_past_the_timeout_fails_as_locked(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    async with engine_on(path) as engine, engine.connect() as conn:
        raw = await conn.get_raw_connection()
        raw.driver_connection.busy_timeout = 0.2  # type: ignore[union-attr]
        with write_lock_held(path):
            started = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                await conn.execute(text("INSERT INTO t VALUES (2)"))
            waited = time.monotonic() - started
        await conn.rollback()
    assert 0.2 <= waited < 1.0


async def test_a_stale_snapshot_fails_at_once(tmp_path: Path) -> None:
    """Waiting cannot help a transaction whose snapshot is old; SQLite's busy wait skips it too."""
    path = tmp_path / "d.sqlite3"
    async with engine_on(path) as engine, engine.connect() as conn:
        await conn.exec_driver_sql("BEGIN")
        await conn.execute(text("SELECT count(*) FROM t"))  # the read takes the snapshot
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("INSERT INTO t VALUES (3)")  # committed after that snapshot
        other.close()
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            await conn.execute(text("INSERT INTO t VALUES (4)"))
        assert time.monotonic() - started < 1.0
        await conn.rollback()
