"""Keep reminder fan-out under each platform's message ceilings, built on aiolimiter."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

# A rate is (max messages, period in seconds); up to `max` may go out in a burst.
Rate = tuple[float, float]

# Telegram Bot API FAQ, "My bot is hitting limits, how do I avoid this?":
# about 30 messages per second overall, 1 per second in one chat, 20 per minute
# in one group.
TELEGRAM_OVERALL_PER_S = 30
TELEGRAM_PER_CHAT_PER_S = 1
TELEGRAM_PER_GROUP_PER_MIN = 20

# Discord developer docs, "Rate Limits": a global limit of 50 requests per second
# per bot. Per-route limits are not published (they arrive in X-RateLimit headers),
# so per channel we stay at 5 messages per 5 s, the figure commonly observed for
# message sends; a RetryLater from the adapter covers anything tighter.
DISCORD_GLOBAL_PER_S = 50
DISCORD_PER_CHANNEL = 5
DISCORD_PER_CHANNEL_PERIOD_S = 5

SECOND = 1.0
MINUTE = 60.0

# Per-chat limiters kept at most; beyond this the least recently used go. At
# platform speeds only a few dozen chats are ever mid-period, so this is plenty.
DEFAULT_MAX_CHATS = 1024


class RateLimiter:
    """An overall limit plus lazily created per-chat (private) and per-group limits."""

    def __init__(
        self,
        overall: Rate | None,
        per_chat: Rate | None,
        per_group: Rate | None,
        *,
        max_chats: int = DEFAULT_MAX_CHATS,
    ) -> None:
        if max_chats < 1:
            raise ValueError("max_chats must be at least 1")
        self._overall = AsyncLimiter(*overall) if overall else None
        self._per_chat = per_chat
        self._per_group = per_group
        self._max_chats = max_chats
        # Keyed by (group?, chat_key); order is least recently used first.
        self._chats: OrderedDict[tuple[bool, str], AsyncLimiter] = OrderedDict()

    def __len__(self) -> int:
        """How many per-chat limiters are held right now."""
        return len(self._chats)

    async def acquire(self, chat_key: str, *, group: bool = False) -> None:
        """Wait until the overall and this chat's (or group's) limits allow one more message."""
        chat = self._chat_limiter(chat_key, group)
        # Chat first, overall last: the overall limit is the one whose breach
        # throttles the whole bot, so its token is taken right before the send.
        # The same order as python-telegram-bot's AIORateLimiter.
        if chat is not None:
            await chat.acquire()
        if self._overall is not None:
            await self._overall.acquire()

    def _chat_limiter(self, chat_key: str, group: bool) -> AsyncLimiter | None:
        rate = self._per_group if group else self._per_chat
        if rate is None:
            return None
        key = (group, chat_key)
        limiter = self._chats.get(key)
        if limiter is not None:
            self._chats.move_to_end(key)
            return limiter
        self._evict()
        limiter = self._chats[key] = AsyncLimiter(*rate)
        return limiter

    def _evict(self) -> None:
        # A fully drained limiter with nobody waiting behaves exactly like a new
        # one, so dropping it changes nothing; the oldest are the likeliest drained.
        while self._chats:
            oldest = next(iter(self._chats.values()))
            if not oldest.has_capacity(oldest.max_rate):
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
        )
    if platform == "discord":
        channel = (DISCORD_PER_CHANNEL, DISCORD_PER_CHANNEL_PERIOD_S)
        return RateLimiter(
            overall=(DISCORD_GLOBAL_PER_S, SECOND),
            per_chat=channel,
            per_group=channel,
        )
    return None
