"""Running the dispatcher: APScheduler in the bot process, or a simulated clock in the console.

``start_scheduler`` is what ``si-checkin run`` uses: an AsyncIOScheduler job that runs a
dispatcher pass every few seconds and, between polls, wakes at the next due instant; its
first pass on start is the catch-up (inside the grace window sent once, older dropped).
``attach_console`` gives the terminal chat its reminders: with ``--clock`` the console-only
``/advance 1d`` moves the simulated clock and fires every reminder due on the way, in order;
with the real clock it starts the scheduler for the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot import parsing, schedule
from bot.app import App
from bot.clock import ManualClock
from bot.delivery import Sender
from bot.events import Address, Reply
from bot.store.models import Person
from scheduler.dispatch import Dispatcher, PassStats
from scheduler.ratelimit import RateLimiter

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
STOP_TIMEOUT_S = 30.0  # a pass in flight gets this long to record what it sent
JOB_ID = "dispatch-reminders"
ADVANCE_USAGE = "Use /advance DURATION, for example /advance 90m, /advance 1d or /advance 2w."


class Console(Protocol):
    """What attach_console needs of adapters.console.ConsoleAdapter."""

    platform: str
    user: str
    tz: str | None
    local_commands: dict[str, Callable[[str], Awaitable[list[str]]]]

    async def send(self, address: Address, reply: Reply) -> None: ...

    async def run(self, stdin: Any = None) -> int: ...


class Runtime:
    """The running scheduler; `stop()` finishes the pass in flight and shuts it down."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        poll_seconds: float = POLL_SECONDS,
        jobs: Iterable[Callable[[], Awaitable[int]]] = (),
    ) -> None:
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        # Other due work run on every tick after the reminders (the daily club posts).
        self.jobs = tuple(jobs)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.passes = 0
        # Every tick in flight: stop() waits for all of them, not just the one it happens to see.
        self._ticks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Start polling; the first pass (the catch-up) runs at once."""
        self.scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.start()

    async def _tick(self) -> None:
        if self._stopping:
            return  # a tick the scheduler had queued before stop(): touch nothing
        task = asyncio.current_task()
        assert task is not None
        self._ticks.add(task)
        try:
            stats = await self.dispatcher.run_once()
            self.passes += 1
            if stats.claimed:
                log.info("reminders: %s", stats)
            for job in self.jobs:
                if self._stopping:
                    break
                await job()
            await self._wake_at_next_due()
        except Exception as exc:
            # The database may be briefly away; the next poll tries again.
            log.error("reminder pass failed: %s", type(exc).__name__)
        finally:
            self._ticks.discard(task)

    async def _wake_at_next_due(self) -> None:
        due = await self.dispatcher.next_due_at()
        job = self.scheduler.get_job(JOB_ID)
        if due is None or job is None or job.next_run_time is None:
            return
        now = datetime.now(UTC)
        if now < due < job.next_run_time:
            job.modify(next_run_time=due)

    async def stop(self) -> None:
        """Stop claiming, let the passes in flight record what they sent, and shut down."""
        self._stopping = True
        self.dispatcher.request_stop()
        with contextlib.suppress(Exception):
            self.scheduler.shutdown(wait=False)
        pending = [t for t in self._ticks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=STOP_TIMEOUT_S)


async def start_scheduler(
    app: App,
    senders: Mapping[str, Sender],
    *,
    poll_seconds: float = POLL_SECONDS,
    user_ids: Iterable[str] | None = None,
) -> Runtime:
    """Start dispatching reminders and club posts through `senders` (by platform name)."""
    from scheduler.club_posts import post_due_clubs

    limiters: dict[str, RateLimiter | None] = {}

    async def club_posts() -> int:
        return await post_due_clubs(app, senders, limiters=limiters)

    runtime = Runtime(
        Dispatcher(app.engine, senders, user_ids=user_ids), poll_seconds, jobs=(club_posts,)
    )
    await runtime.start()
    return runtime


async def advance(app: App, dispatcher: Dispatcher, delta: timedelta) -> PassStats:
    """Move a ManualClock forward, running every reminder due on the way at its own instant."""
    clock = app.clock
    if not isinstance(clock, ManualClock):
        raise TypeError("advance needs a ManualClock")
    target = clock.now() + delta
    total = PassStats()
    while True:
        due = await dispatcher.next_due_at()
        if due is None or due > target:
            break
        if due > clock.now():
            clock.set(due)
        stats = await dispatcher.run_once()
        total.add(stats)
        if stats.claimed == 0 and due <= clock.now():
            break  # nothing claimable at this instant (should not happen): don't spin
    clock.set(target)
    return total


async def attach_console(app: App, console: Console) -> None:
    """Give the terminal chat reminders: `/advance` on a simulated clock, else the scheduler."""
    senders: dict[str, Sender] = {console.platform: console}
    if isinstance(app.clock, ManualClock):
        # One at a time, so reminders due at the same instant print in their order.
        dispatcher = Dispatcher(app.engine, senders, concurrency=1, user_ids=[console.user])

        async def cmd_advance(arg: str) -> list[str]:
            delta = parsing.parse_duration(arg)
            if delta is None:
                return [ADVANCE_USAGE]
            await advance(app, dispatcher, delta)
            key, tz = await _console_zone(app, console)
            return [f"(clock moved to {schedule.format_local(app.clock.now(), tz)} {key})"]

        console.local_commands["/advance"] = cmd_advance
        return
    runtime = await start_scheduler(app, senders, user_ids=[console.user])
    run = console.run

    async def run_then_stop(stdin: Any = None) -> int:
        try:
            return await run(stdin)
        finally:
            await runtime.stop()

    # The console's read loop ends the session; the scheduler ends with it.
    console.run = run_then_stop  # type: ignore[method-assign]


async def _console_zone(app: App, console: Console) -> tuple[str, tzinfo]:
    """The console person's zone, or the preset/default one before they consent."""
    async with app.sessions() as s:
        tz = await s.scalar(
            select(Person.tz).where(
                Person.platform == console.platform, Person.user_id == console.user
            )
        )
    key = tz or parsing.parse_timezone(console.tz or "") or app.settings.default_timezone
    return key, schedule.zone(key)
