"""Engine and session setup, and migrations run from code (the bot migrates on start)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.store import loopsqlite

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same for every process migrating one database.
_MIGRATION_LOCK_KEY = 0x51C4EC
CONNECT_TIMEOUT_S = 5
COMMAND_TIMEOUT_S = 30
SQLITE_FIX = "Point --db or DATABASE_URL at a writable place"
# SQLite's own wording (sqlite3 messages) -> what it means for the person starting the bot.
_SQLITE_PROBLEMS = (
    (
        "file is not a database",
        "the file is not a SQLite database. Point --db or DATABASE_URL at a database file,"
        " or move this file away.",
    ),
    (
        "malformed",
        "the file is damaged (truncated or corrupted). Restore it from a backup, or point"
        " --db or DATABASE_URL at another file.",
    ),
    ("readonly", f"the file is read-only. Make it writable, or {SQLITE_FIX}."),
    ("disk i/o error", f"the disk reported an I/O error. {SQLITE_FIX}."),
    ("database or disk is full", "the disk is full. Free some space and start again."),
    ("locked", "another process holds it locked. Stop that process and start again."),
)
# PostgreSQL SQLSTATEs seen while connecting -> a reason in words.
_PG_STATES = {
    "28P01": "the password or user is wrong",
    "28000": "the user is not allowed to connect",
    "3D000": "the database does not exist",
    "57P03": "the server is not accepting connections yet",
    "53300": "the server has too many connections",
}


class DatabaseUnavailable(Exception):
    """The database cannot be opened, reached or migrated; str() is one line saying what to fix."""


def display_url(url: str | URL) -> str:
    """The URL with its password hidden, safe to print."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_path(url: str | URL) -> Path | None:
    """The SQLite file a URL names (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return None
    return Path(db)


def os_problem(exc: OSError) -> str:
    """An OSError as a few words, without the path (the message names it already)."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is in the way where a directory should be"
    if isinstance(exc, PermissionError) or exc.errno == 30:  # 30: EROFS
        return "it is not writable"
    return (exc.strerror or type(exc).__name__).lower()


def _quiet_orphaned_sqlite_workers() -> None:
    """Drop one known traceback: aiosqlite's worker outliving the loop after a failed connect.

    aiosqlite 0.22 stops the worker of a connection that never opened with a future nobody
    awaits; when the loop has closed by then, the thread dies with "Event loop is closed", and
    its traceback would bury the one-line startup error. Every other thread error still prints.
    """
    previous = threading.excepthook
    if getattr(previous, "_si_checkin", False):
        return

    def hook(args: threading.ExceptHookArgs) -> None:
        thread = args.thread.name if args.thread is not None else ""
        if (
            args.exc_type is RuntimeError
            and "Event loop is closed" in str(args.exc_value)
            and thread.endswith("(_connection_worker_thread)")
        ):
            return
        previous(args)

    hook._si_checkin = True  # type: ignore[attr-defined]
    threading.excepthook = hook


def make_engine(url: str) -> AsyncEngine:
    """An async engine for the URL; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(
                    f"cannot create the directory {path.parent} for the database {path}:"
                    f" {os_problem(exc)}. {SQLITE_FIX}."
                ) from None
        _quiet_orphaned_sqlite_workers()
        # A connection going back to the pool is rolled back only when it holds a transaction
        # (below): after a commit, SQLAlchemy's own reset would be one more needless call to
        # the driver for every event.
        # Statements run on the event loop's thread (bot.store.loopsqlite), not aiosqlite's.
        engine = create_async_engine(
            url,
            module=loopsqlite.dbapi(),
            connect_args={"timeout": 30},
            hide_parameters=True,
            pool_reset_on_return=None,
        )

        @event.listens_for(engine.sync_engine, "reset")
        def _rollback_if_open(dbapi_conn, record, state):  # type: ignore[no-untyped-def]
            if not state.asyncio_safe:
                return  # as SQLAlchemy's own reset: the connection is only closed
            try:
                open_transaction = record.driver_connection.in_transaction
            except (AttributeError, ValueError):
                return  # closed or invalidated: there is nothing to roll back
            if open_transaction:
                dbapi_conn.rollback()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            # Erased rows are overwritten with zeros, not left readable in free pages.
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # hide_parameters: SQL errors must never carry a score or an id into the logs.
    # Bounded timeouts: with the database gone, people hear "send it again" in seconds,
    # not after asyncpg's 60-second default.
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT_S, "command_timeout": COMMAND_TIMEOUT_S},
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our migrations, without an ini file on disk."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(conn: Connection, revision: str) -> None:
    if conn.dialect.name == "postgresql":
        # Several workers may start at once; one migrates, the others wait and find nothing to do.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what SQLAlchemy wrapped (`orig`) and its causes, outermost first."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop(0)
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _explain_sqlite(path: Path, exc: BaseException) -> str | None:
    for item in _chain(exc):
        if not isinstance(item, sqlite3.Error):
            continue
        message = str(item).lower()
        for needle, meaning in _SQLITE_PROBLEMS:
            if needle in message:
                return f"cannot open the database {path}: {meaning}"
        if "unable to open" in message:
            if path.is_dir():
                return f"cannot open the database {path}: it is a directory. {SQLITE_FIX}."
            return (
                f"cannot open the database {path}: SQLite cannot create or open the file"
                f" there. {SQLITE_FIX}."
            )
    return None


def _explain_postgres(url: URL, exc: BaseException) -> str | None:
    reason = None
    for item in _chain(exc):
        state = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if state in _PG_STATES:
            reason = _PG_STATES[state]
        elif isinstance(item, ConnectionRefusedError):
            reason = "the connection was refused (is PostgreSQL running on that host and port?)"
        elif isinstance(item, socket.gaierror):
            reason = "the host name is unknown"
        elif isinstance(item, TimeoutError):
            reason = f"no answer within {CONNECT_TIMEOUT_S} seconds"
        elif isinstance(item, OSError):
            reason = _first_line(item.strerror or str(item)).lower()
        if reason:
            break
    if reason is None:
        return None
    if url.password:
        # Belt and braces: nothing quoted from the server may carry the password.
        reason = reason.replace(str(url.password), "***")
    return f"cannot connect to the database {display_url(url)}: {reason}. Check DATABASE_URL."


def explain(url: str | URL, exc: BaseException) -> str | None:
    """One line saying what is wrong with the database and how to fix it (None: not known)."""
    path = _sqlite_path(url)
    if path is not None:
        return _explain_sqlite(path, exc)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _explain_postgres(parsed, exc)
    return None


@contextlib.asynccontextmanager
async def _explained(engine: AsyncEngine) -> AsyncIterator[None]:
    """Turn the failures someone starting the bot can fix into DatabaseUnavailable."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        message = explain(engine.url, exc)
        if message is None:
            raise
        raise DatabaseUnavailable(message) from None


@contextlib.asynccontextmanager
async def _sqlite_migration_lock(path: Path) -> AsyncIterator[None]:
    """Hold an exclusive lock on `<db>.migrate.lock`, so concurrent starts migrate one at a time.

    PostgreSQL has advisory locks for this; SQLite's own locks do not span Alembic's version
    check and its CREATE TABLEs, so two processes on a new file would both create tables.
    """
    lock_path = path.with_name(path.name + ".migrate.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if path.parent.is_dir():
            where = f"cannot write in its directory {path.parent}: {os_problem(exc)}"
        else:
            where = f"its directory {path.parent} is unusable: {os_problem(exc)}"
        raise DatabaseUnavailable(
            f"cannot open the database {path}: {where}. {SQLITE_FIX}."
        ) from None
    try:
        # Blocking flock in a thread: the event loop keeps running while another process migrates.
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (head by default)."""
    path = _sqlite_path(engine.url)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(_explained(engine))
        if path is not None:
            await stack.enter_async_context(_sqlite_migration_lock(path))
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, revision)


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None when empty)."""
    async with _explained(engine), engine.connect() as conn:
        return await conn.run_sync(_current)
