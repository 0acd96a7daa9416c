"""What a handler is given (Ctx), what a handler is, and the set of them an engine runs.

Handler modules import this, never the engine: the engine routes to them without either
side importing the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot import parsing
from bot.actions import Action
from bot.commandspec import CommandSpec
from bot.events import Incoming, Reply
from bot.parsing import Command
from bot.settings import Settings
from bot.store.models import Person
from content.loader import Content


class Conversation(Protocol):
    """What a handler may use of the engine that runs it."""

    @property
    def content(self) -> Content:
        """The validated content library."""
        ...

    @property
    def settings(self) -> Settings:
        """The process's settings."""
        ...

    @property
    def handlers(self) -> Handlers:
        """Every command, button and reader the engine runs (what /help lists)."""
        ...

    @property
    def pending_flags(self) -> MutableMapping[tuple[str, str], dict[str, date]]:
        """Red flags tapped before consent, in memory only: {(platform, user): {code: day}}."""
        ...

    @property
    def pending_consent(self) -> MutableMapping[tuple[str, str], str]:
        """The "I agree" payload last shown to each person, in memory only."""
        ...

    async def on_new_person(self, ctx: Ctx) -> None:
        """Run the hooks for a person who just consented."""
        ...

    async def on_timezone_changed(self, ctx: Ctx) -> None:
        """Run the hooks after a time zone change."""
        ...


@dataclass
class Ctx:
    """Everything a handler needs for one incoming event."""

    engine: Conversation
    session: AsyncSession
    inc: Incoming
    person: Person | None
    now: datetime
    _today: tuple[tzinfo, date] | None = field(default=None, init=False, repr=False)

    @property
    def content(self) -> Content:
        return self.engine.content

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def tz(self) -> tzinfo:
        """The person's zone, or the hint/default before they have one."""
        key = self.person.tz if self.person else self.inc.tz_hint or self.settings.default_timezone
        try:
            return parsing.zone(key)
        except ValueError:
            return parsing.zone("UTC")

    @property
    def today(self) -> date:
        """The person's local date now (worked out once per zone: handlers ask often)."""
        tz = self.tz
        known = self._today
        if known is None or known[0] is not tz:
            known = self._today = (tz, self.now.astimezone(tz).date())
        return known[1]

    async def commit(self) -> None:
        """Commit now: a check-in is committed before the bot says it was recorded."""
        await self.session.commit()


CommandHandler = Callable[[Ctx, Command], Awaitable[list[Reply]]]
ActionHandler = Callable[[Ctx, Action], Awaitable[list[Reply]]]
TextHandler = Callable[[Ctx, str], Awaitable[list[Reply] | None]]
Hook = Callable[[Ctx], Awaitable[None]]
AnswerHook = Callable[[Ctx], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Handlers:
    """What an engine runs: each command's spec beside its handler (in the order menus and
    /help show them), a handler per button kind, the text readers in turn, and the hooks."""

    commands: tuple[tuple[CommandSpec, CommandHandler], ...]
    actions: Mapping[str, ActionHandler]
    text: tuple[TextHandler, ...] = ()
    on_new_person: tuple[Hook, ...] = ()
    on_timezone: tuple[Hook, ...] = ()
    on_reachable: tuple[Hook, ...] = ()
    on_answer: tuple[AnswerHook, ...] = ()
    _by_name: dict[str, tuple[CommandSpec, CommandHandler]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        names = [spec.name for spec, _ in self.commands]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            # The second would silently win: fail at import, where the mistake was made.
            raise ValueError(f"commands registered twice: {', '.join(twice)}")
        by_name = {spec.name: (spec, handler) for spec, handler in self.commands}
        object.__setattr__(self, "_by_name", by_name)

    def command(self, name: str) -> tuple[CommandSpec, CommandHandler] | None:
        """The spec and handler of a command, None when there is no such command."""
        return self._by_name.get(name)

    def public_commands(self) -> tuple[CommandSpec, ...]:
        """Commands to show in platform menus and /help."""
        return tuple(spec for spec, _ in self.commands if spec.in_help and not spec.console_only)
