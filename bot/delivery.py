"""The outbound contract every adapter implements, and the errors a send may raise."""

from __future__ import annotations

from typing import Protocol

from bot.events import Address, Reply


class DeliveryError(Exception):
    """A send failed; subclasses say what the dispatcher should do about it."""


class Unreachable(DeliveryError):
    """The person blocked the bot, closed their DMs or left: stop sending until they write again."""


class RetryLater(DeliveryError):
    """The platform throttled us; try the same message again after `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message}; retry after {retry_after:g}s")
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """A timeout or server error: retry with backoff."""


class Sender(Protocol):
    """What the scheduler needs from an adapter to deliver a reminder."""

    platform: str

    async def send(self, address: Address, reply: Reply) -> None:
        """Deliver one reply; raise Unreachable, RetryLater or TransientError on failure."""
        ...


class Adapter(Sender, Protocol):
    """A platform edge run by `si-checkin run`: receives events into the engine, sends replies."""

    async def start(self) -> None:
        """Connect and begin receiving (returns once running)."""
        ...

    async def stop(self) -> None:
        """Disconnect cleanly."""
        ...
