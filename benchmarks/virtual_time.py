"""Virtual time for simulations: an event loop whose clock jumps to the next timer when idle.

The dispatcher waits in two ways and decides in a third: its limiter (scheduler/ratelimit.py,
or any aiolimiter) and ``asyncio.sleep`` read ``loop.time()`` and wake through
``loop.call_later``, and its decisions (leases, lateness) read the injected clock.
``VirtualTimeLoop``
is an ordinary selector loop whose ``time()`` is a number it keeps itself, and
``LoopClock`` reads the injected clock off that same number, so both agree to the
microsecond. Whenever the loop would block waiting for a timer, it moves its time to that
timer at once instead: a day of pacing runs in the seconds the code itself takes.

Why a loop and not a limiter that reads the injected clock: every wait then stays the
production code's own (the limiter, ``asyncio.sleep`` on a 429, the backoff), nothing in the
dispatcher changes for the simulation, and timers set by libraries are simulated too: the
same loop ran the dispatcher as it was, on aiolimiter, for the "before" figures.

The one thing a virtual clock must not do is jump while real work is under way elsewhere.
SQLite's statements run on the loop's own thread (bot.store.loopsqlite), so time cannot move
during one; but a connection is still opened (and its isolation level set) on aiosqlite's
thread, which answers through ``call_soon_threadsafe``. Jumping then would bill the
database's real milliseconds as minutes of virtual time, or make the work look instant before
the thread has finished it. So the loop counts such work in flight (futures aiosqlite makes
with ``loop.create_future()``, and anything sent to an executor) and, while any is pending,
blocks for real until the thread answers. Time spent computing or in
the database thus costs no virtual time at all: lateness comes only from pacing and queueing,
which is what a simulation of send ceilings should measure. (An asyncpg connection answers on
a socket, which this loop cannot tell from idle, so simulations run on SQLite.)
"""

from __future__ import annotations

import asyncio
import selectors
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")

# Libraries whose futures are resolved from another thread: waiting for them is real waiting.
THREADED_MODULES = ("aiosqlite",)
# The least a timer waits. A real loop's clock moves on between iterations, so a timer set
# for "now" (or a rounding error after it, as a leaky bucket computes) fires once; here time
# stands still while anything runs, so such a timer would fire and re-arm for ever.
QUANTUM_S = 1e-6


class _VirtualSelector(selectors.BaseSelector):
    """A selector that, instead of sleeping until a timer, tells its loop to jump there."""

    def __init__(self) -> None:
        self._inner = selectors.DefaultSelector()
        self.loop: VirtualTimeLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0 or self.loop is None:
            return ready
        if self.loop.threads_busy():
            # A thread will answer through the loop's self-pipe: wait for it for real.
            return self._inner.select(None)
        if timeout is None:
            # Nothing is scheduled: only outside input can wake the loop.
            return self._inner.select(None)
        self.loop.jump(timeout)
        return []

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop on virtual time: idle waits for timers cost nothing."""

    def __init__(self) -> None:
        selector = _VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self._virtual = 0.0
        self._threaded: set[asyncio.Future[Any]] = set()

    def time(self) -> float:
        """Virtual seconds since the loop was made."""
        return self._virtual

    def jump(self, seconds: float) -> None:
        """Move virtual time forward (only the selector does this, when the loop is idle)."""
        self._virtual += max(0.0, seconds)

    def threads_busy(self) -> bool:
        """Whether work handed to another thread has yet to answer."""
        self._threaded = {f for f in self._threaded if not f.done()}
        return bool(self._threaded)

    def call_at(  # type: ignore[override]
        self, when: float, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        return super().call_at(
            max(when, self._virtual + QUANTUM_S), callback, *args, context=context
        )

    def create_future(self) -> asyncio.Future[Any]:
        future = super().create_future()
        maker = sys._getframe(1).f_globals.get("__name__", "")
        if maker.startswith(THREADED_MODULES):
            self._threaded.add(future)
        return future

    def run_in_executor(  # type: ignore[override]
        self, executor: Executor | None, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self._threaded.add(future)
        return future


class LoopClock:
    """The injected clock (bot.clock.Clock) read off the running loop's virtual time."""

    def __init__(self, start: datetime, loop: asyncio.AbstractEventLoop) -> None:
        if start.tzinfo is None:
            raise ValueError("LoopClock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._loop = loop
        self._origin = loop.time()

    def now(self) -> datetime:
        """The start instant plus the loop's elapsed time."""
        return self._start + timedelta(seconds=self._loop.time() - self._origin)

    def elapsed(self) -> float:
        """Seconds since the start instant."""
        return self._loop.time() - self._origin

    def at(self, instant: datetime) -> float:
        """The loop time of an instant (for sleeping until it)."""
        return self._origin + (instant - self._start).total_seconds()
