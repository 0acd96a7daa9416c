"""The command line: `si-checkin console | run | db upgrade` (also `python -m adapters ...`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import AliasChoices, ValidationError

from adapters.console import ConsoleAdapter, files_home
from bot import parsing
from bot.app import App, StartupError, open_app
from bot.clock import Clock, ManualClock, SystemClock
from bot.logs import setup_logging
from bot.settings import Settings
from bot.store.db import DatabaseUnavailable, current_revision, make_engine, os_problem, upgrade
from scheduler.dispatch import Dispatcher

log = logging.getLogger("si-checkin")

# On the real clock the console looks for due reminders this often while it waits for input
# (and at the next due instant when that comes sooner).
REMINDER_POLL_S = 5.0
# ...but never sooner than this after a look, so a row that stays due cannot spin the loop.
REMINDER_MIN_WAIT_S = 0.1
# On the way out, a reminder pass in flight gets this long to record what it sent.
STOP_TIMEOUT_S = 30.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="si-checkin", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("console", help="chat with the bot in this terminal (SQLite by default)")
    c.add_argument(
        "--user", default="you", help="who is talking (different names, different people)"
    )
    c.add_argument("--tz", help="preset your time zone (IANA name, city or +HH:MM)")
    c.add_argument(
        "--db",
        help="SQLite file path or database URL (default: the data directory). Charts and "
        "exports are saved in a files folder beside a SQLite file, or in the data directory",
    )
    c.add_argument(
        "--clock",
        help="start a simulated clock at this ISO instant, e.g. "
        "2026-03-28T06:00+01:00 (then /advance 1d moves it)",
    )
    sub.add_parser("run", help="serve Telegram and/or Discord (set TELEGRAM_TOKEN / DISCORD_TOKEN)")
    d = sub.add_parser("db", help="database maintenance")
    d.add_argument("action", choices=["upgrade", "current"])
    d.add_argument("--db", help="SQLite file path or database URL")
    return p


class _Fatal(Exception):
    """A startup problem reported as one line on stderr with exit code 2."""


def _setting_name(field: object) -> str:
    """The environment variable behind a settings field (the field name when unknown)."""
    info = Settings.model_fields.get(str(field))
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return str(field).upper()


def _invalid_settings(exc: ValidationError) -> str:
    """Pydantic's report as one line, never echoing a value (it may be a secret)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        name = _setting_name(error["loc"][0]) if error["loc"] else "a setting"
        problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return f"invalid setting: {'; '.join(problems)}. Fix it in the environment or in .env."


def _check_data_dir(settings: Settings) -> None:
    """Fail in one line when the data directory (holding the default database) is unusable."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Root ignores permission bits, so only a real write tells whether it is writable.
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise _Fatal(
            f"cannot use the data directory {data_dir}: {os_problem(exc)}."
            " Set SI_CHECKIN_DATA_DIR to a writable directory (or --db / DATABASE_URL)."
        ) from None


def _settings(db: str | None) -> Settings:
    settings = Settings()
    if db:
        url = db if "://" in db else f"sqlite+aiosqlite:///{Path(db).expanduser().resolve()}"
        settings = settings.model_copy(
            update={"database_url": Settings(database_url=url).database_url}
        )
    return settings


def _clock(spec: str | None) -> Clock:
    if not spec:
        return SystemClock()
    start = datetime.fromisoformat(spec)
    if start.tzinfo is None:
        raise SystemExit("--clock needs a UTC offset, e.g. 2026-03-28T06:00+01:00")
    return ManualClock(start)


class _Reminders:
    """The console person's reminders on the real clock, sent as they fall due."""

    def __init__(self, app: App, console: ConsoleAdapter) -> None:
        self.clock = app.clock
        # One at a time, so reminders due together print in their order.
        self.dispatcher = Dispatcher(
            app.engine, {console.platform: console}, concurrency=1, user_ids=[console.user]
        )
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while not self.stopping.is_set():
            wait = REMINDER_POLL_S
            try:
                await self.dispatcher.run_once()
                due = await self.dispatcher.next_due_at()
            except Exception as exc:
                # The database may be briefly away; the next look tries again.
                log.error("reminder pass failed: %s", type(exc).__name__)
            else:
                if due is not None:
                    until_due = (due - self.clock.now()).total_seconds()
                    wait = min(wait, max(REMINDER_MIN_WAIT_S, until_due))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), wait)

    async def stop(self) -> None:
        """Claim nothing more, and let the pass in flight record what it sent."""
        self.stopping.set()
        self.dispatcher.request_stop()
        done, _ = await asyncio.wait([self.task], timeout=STOP_TIMEOUT_S)
        if not done:
            self.task.cancel()
            await asyncio.wait([self.task])


async def _console(args: argparse.Namespace, settings: Settings) -> int:
    if args.tz and parsing.parse_timezone(args.tz) is None:
        print(
            f"Unknown time zone {args.tz!r}: try Europe/Berlin, Berlin or +02:00.", file=sys.stderr
        )
        return 2
    # Ctrl-C and SIGTERM end the conversation alike: the message being answered is dropped, a
    # reminder being sent is recorded, the database is closed, and the exit code says which.
    loop = asyncio.get_running_loop()
    this = asyncio.current_task()
    assert this is not None
    received: list[int] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        this.cancel()

    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not where signals cannot be handled by the loop (another thread, another OS): there
        # Ctrl-C still ends the run as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal, sig)
            handled.append(sig)
    try:
        app = await open_app(settings, _clock(args.clock))
        try:
            console = ConsoleAdapter(app.engine, args.user, files_home(settings), tz=args.tz)
            if isinstance(app.clock, ManualClock):
                # Here, not at the top: the APScheduler it brings takes tens of milliseconds to
                # import, and the console on the real clock does without it.
                from scheduler.runtime import attach_console

                await attach_console(app, console)
                return await console.run()
            reminders = _Reminders(app, console)
            try:
                return await console.run()
            finally:
                await reminders.stop()
        finally:
            await app.close()
    except asyncio.CancelledError:
        if received:
            return 128 + received[0]
        raise
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


async def _run(settings: Settings) -> int:
    # Here, not at the top: the platform libraries take most of a second to import, and
    # `console` and `db` never use them.
    from adapters.serve import serve

    return await serve(settings)


async def _db(action: str, settings: Settings) -> int:
    engine = make_engine(settings.resolved_database_url())
    try:
        if action == "upgrade":
            await upgrade(engine)
        print(f"database at revision {await current_revision(engine)}")
    finally:
        await engine.dispose()
    return 0


def _main(args: argparse.Namespace) -> int:
    try:
        settings = _settings(getattr(args, "db", None))
    except ValidationError as exc:
        raise _Fatal(_invalid_settings(exc)) from None
    secrets = [
        s.get_secret_value()
        for s in (settings.telegram_token, settings.discord_token, settings.telegram_webhook_secret)
        if s
    ]
    # The console's stdout is the conversation; keep logs to warnings on stderr there.
    setup_logging("WARNING" if args.cmd == "console" else settings.log_level, secrets)
    if args.cmd == "console":
        # One person's chat on their own machine: the folders, database and files it creates
        # hold their health data, so nobody else on the machine may read them.
        os.umask(0o077)
    if settings.database_url is None:
        _check_data_dir(settings)
    if args.cmd == "console":
        return asyncio.run(_console(args, settings))
    if args.cmd == "run":
        return asyncio.run(_run(settings))
    return asyncio.run(_db(args.action, settings))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `si-checkin` command."""
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except (_Fatal, StartupError, DatabaseUnavailable) as exc:
        # What to fix, in one line: a traceback here would bury it (and could show secrets).
        print(f"si-checkin: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        # A second Ctrl-C while the first one's clean-up runs: leave now, quietly.
        return 128 + signal.SIGINT
