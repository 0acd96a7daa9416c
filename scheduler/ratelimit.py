"""Keep reminder fan-out at each platform's message ceilings: exactly at them, never beyond.

A ceiling is a sliding window: at most N messages in any span of P seconds, overall and in
each chat. Pacing at exactly that is as fast as a platform allows, so a long queue drains
in the least time there is (benchmarks.lateness measures it against that bound), and never
a message more, so the platform has no reason to answer 429. A leaky bucket that allows a
burst of N and then drips at N/P lets up to 2N - 1 messages into one window, which a server
counting "N per P" refuses.

Waiters are served first come, first served (asyncio.Lock is fair), so the dispatcher's
sends go out in the order it hands them over: earliest due first. A message holds its
chat's window while it waits for the overall one and both record the same instant, the
moment it goes, so a chat's next message is timed from when the last one really left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque

# A rate is (max messages, period in seconds): at most `max` in any span of `period`.
Rate = tuple[int, float]

# Telegram Bot API FAQ, "My bot is hitting limits, how do I avoid this?":
# about 30 messages per second overall, 1 per second in one chat, 20 per minute
# in one group.
TELEGRAM_OVERALL_PER_S = 30
TELEGRAM_PER_CHAT_PER_S = 1
TELEGRAM_PER_GROUP_PER_MIN = 20
# Bot API, "Paid Broadcasts": with allow_paid_broadcast a bot may send up to 1000 messages
# per second, for a fee in Stars (README, "Paid broadcasts on Telegram").
TELEGRAM_PAID_PER_S = 1000

# Discord developer docs, "Rate Limits": a global limit of 50 requests per second
# per bot. Per-route limits are not published (they arrive in X-RateLimit headers),
# so per channel we stay at 5 messages per 5 s, the figure commonly observed for
# message sends; a RetryLater from the adapter covers anything tighter.
DISCORD_GLOBAL_PER_S = 50
DISCORD_PER_CHANNEL = 5
DISCORD_PER_CHANNEL_PERIOD_S = 5

SECOND = 1.0
MINUTE = 60.0

# Per-chat windows kept at most; beyond this the least recently used go. At
# platform speeds only a few dozen chats are ever mid-period, so this is plenty.
DEFAULT_MAX_CHATS = 1024


class Window:
    """At most `limit` messages in any span of `period` seconds, on the event loop's clock."""

    __slots__ = ("limit", "lock", "period", "sent")

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate needs at least one message per positive period")
        self.limit = limit
        self.period = period
        self.sent: deque[float] = deque(maxlen=limit)  # the last `limit` send instants
        self.lock = asyncio.Lock()  # the head of the line; fair, so first come first served

    def wait(self, now: float) -> float:
        """Seconds until one more message fits (0 when it fits now)."""
        if len(self.sent) < self.limit:
            return 0.0
        return max(0.0, self.sent[0] + self.period - now)

    def idle(self, now: float) -> bool:
        """Nobody waits and nothing sent is still inside the window: as good as new."""
        return not self.lock.locked() and (not self.sent or now - self.sent[-1] >= self.period)


async def _take(windows: list[Window]) -> None:
    """Wait until every window allows one more message, then count it in each at once."""
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as stack:
        # Always chat, then overall, then the paid ceiling: one order, so no two waiters can
        # each hold what the other needs. Each window is waited for before the next is taken,
        # so a message waiting for its chat never holds up everyone else's at the overall
        # one; a window already passed only gets freer while the next is waited for.
        for window in windows:
            await stack.enter_async_context(window.lock)
            while True:
                wait = window.wait(loop.time())
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
        now = loop.time()
        for window in windows:
            window.sent.append(now)


class RateLimiter:
    """An overall ceiling plus lazily created per-chat (private) and per-group windows.

    With a `paid` rate (Telegram's paid broadcasts), `acquire(..., paid=True)` is held only
    to that higher ceiling, and every message counts towards it.
    """

    def __init__(
        self,
        overall: Rate | None,
        per_chat: Rate | None,
        per_group: Rate | None,
        *,
        paid: Rate | None = None,
        max_chats: int = DEFAULT_MAX_CHATS,
    ) -> None:
        if max_chats < 1:
            raise ValueError("max_chats must be at least 1")
        self._overall = Window(*overall) if overall else None
        self._paid = Window(*paid) if paid else None
        self._per_chat = per_chat
        self._per_group = per_group
        self._max_chats = max_chats
        # Keyed by (group?, chat_key); order is least recently used first.
        self._chats: OrderedDict[tuple[bool, str], Window] = OrderedDict()

    def __len__(self) -> int:
        """How many per-chat windows are held right now."""
        return len(self._chats)

    @property
    def per_second(self) -> float:
        """The free overall ceiling in messages a second (0 when there is none)."""
        return self._overall.limit / self._overall.period if self._overall else 0.0

    @property
    def has_paid_lane(self) -> bool:
        """Whether this platform sells a higher ceiling (Telegram's paid broadcasts)."""
        return self._paid is not None

    async def acquire(self, chat_key: str, *, group: bool = False, paid: bool = False) -> None:
        """Wait until the overall and this chat's (or group's) ceilings allow one more message.

        `paid`: the message goes as a paid broadcast, held to the paid ceiling instead of the
        free one (ignored where there is none).
        """
        windows: list[Window] = []
        chat = self._chat_window(chat_key, group)
        if chat is not None:
            windows.append(chat)
        if self._paid is not None and paid:
            windows.append(self._paid)
        else:
            if self._overall is not None:
                windows.append(self._overall)
            if self._paid is not None:
                windows.append(self._paid)
        if windows:
            await _take(windows)

    def _chat_window(self, chat_key: str, group: bool) -> Window | None:
        rate = self._per_group if group else self._per_chat
        if rate is None:
            return None
        key = (group, chat_key)
        window = self._chats.get(key)
        if window is not None:
            self._chats.move_to_end(key)
            return window
        self._evict()
        window = self._chats[key] = Window(*rate)
        return window

    def _evict(self) -> None:
        # An idle window behaves exactly like a new one, so dropping it changes nothing;
        # the least recently used are the likeliest idle.
        now = asyncio.get_running_loop().time()
        while self._chats:
            oldest = next(iter(self._chats.values()))
            if not oldest.idle(now):
                break
            self._chats.popitem(last=False)
        # Memory stays bounded even if many chats are mid-period at once.
        while len(self._chats) >= self._max_chats:
            self._chats.popitem(last=False)


def limiter_for(platform: str) -> RateLimiter | None:
    """A fresh limiter for a platform's ceilings; None means unlimited (console, benchmark sink)."""
    if platform == "telegram":
        return RateLimiter(
            overall=(TELEGRAM_OVERALL_PER_S, SECOND),
            per_chat=(TELEGRAM_PER_CHAT_PER_S, SECOND),
            per_group=(TELEGRAM_PER_GROUP_PER_MIN, MINUTE),
            paid=(TELEGRAM_PAID_PER_S, SECOND),
        )
    if platform == "discord":
        channel = (DISCORD_PER_CHANNEL, float(DISCORD_PER_CHANNEL_PERIOD_S))
        return RateLimiter(
            overall=(DISCORD_GLOBAL_PER_S, SECOND),
            per_chat=channel,
            per_group=channel,
        )
    return None
