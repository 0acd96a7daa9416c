"""handle(Incoming) -> list[Reply]: routing, the consent gate, and the one place errors stop."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from types import ModuleType

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import actions, parsing
from bot.actions import Action
from bot.clock import Clock
from bot.commands import BY_NAME
from bot.events import ChatKind, Incoming, Reply
from bot.parsing import Command
from bot.settings import Settings
from bot.store import repo
from bot.store.models import Person
from content.loader import Content

log = logging.getLogger(__name__)

PENDING_FLAGS_MAX = 10_000
PENDING_FLAGS_TTL_S = 24 * 3600
TEXT_LIMIT = 2000  # longest message we read; longer input is cut before parsing
SAVE_FAILED = "I could not save that, please send it again in a minute."
BROKEN = "Something went wrong on my side and nothing was changed. Please try again."
EXPIRED = "This button has expired. Send /checkin for fresh buttons."
GROUP_ONLY_PRIVATE = "Let's keep your health data private: send me that in a direct message."


@dataclass
class Ctx:
    """Everything a handler needs for one incoming event."""

    engine: Engine
    session: AsyncSession
    inc: Incoming
    person: Person | None
    now: datetime

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
        """The person's local date now."""
        return self.now.astimezone(self.tz).date()

    async def commit(self) -> None:
        """Commit now: a check-in is committed before the bot says it was recorded."""
        await self.session.commit()


CommandHandler = Callable[[Ctx, Command], Awaitable[list[Reply]]]
ActionHandler = Callable[[Ctx, Action], Awaitable[list[Reply]]]
TextHandler = Callable[[Ctx, str], Awaitable[list[Reply] | None]]
Hook = Callable[[Ctx], Awaitable[None]]


class Engine:
    """The conversation, platform-neutral. Adapters call handle(); the scheduler uses the store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Clock,
        settings: Settings,
        modules: tuple[ModuleType, ...] | None = None,
    ) -> None:
        self.sessions = sessions
        # Red flags tapped before consent, kept in memory only (never stored) for a day, so
        # whichever "I agree" the person taps records them: {(platform, user): {code: day}}.
        self.pending_flags: TTLCache[tuple[str, str], dict[str, date]] = TTLCache(
            maxsize=PENDING_FLAGS_MAX, ttl=PENDING_FLAGS_TTL_S
        )
        self.content = content
        self.clock = clock
        self.settings = settings
        self.commands: dict[str, CommandHandler] = {}
        self.actions: dict[str, ActionHandler] = {}
        self.text_handlers: list[TextHandler] = []
        for module in modules or _default_modules():
            self.commands.update(getattr(module, "COMMANDS", {}))
            self.actions.update(getattr(module, "ACTIONS", {}))
            self.text_handlers.extend(getattr(module, "TEXT", ()))
        self.hooks_new_person: list[Hook] = []
        self.hooks_timezone: list[Hook] = []
        self.hooks_reachable: list[Hook] = []
        for module in modules or _default_modules():
            self.hooks_new_person.extend(getattr(module, "ON_NEW_PERSON", ()))
            self.hooks_timezone.extend(getattr(module, "ON_TIMEZONE", ()))
            self.hooks_reachable.extend(getattr(module, "ON_REACHABLE", ()))

    def consent_prompt(
        self, ctx: Ctx, pending: int | None, club_id: int | None = None
    ) -> list[Reply]:
        """Ask for consent before anything is stored (pending: a score to record on 'yes')."""
        from bot.handlers.core import consent_prompt

        return consent_prompt(ctx, pending, club_id)

    async def read_message(self, ctx: Ctx, text: str) -> list[Reply] | None:
        """Free text (or a command's words before consent) through the text handlers."""
        for text_handler in self.text_handlers:
            replies = await text_handler(ctx, text)
            if replies is not None:
                return replies
        return None

    async def on_new_person(self, ctx: Ctx) -> None:
        """Run the hooks for a person who just consented (e.g. default reminders)."""
        for hook in self.hooks_new_person:
            await hook(ctx)

    async def on_timezone_changed(self, ctx: Ctx) -> None:
        """Run the hooks after a time zone change (e.g. recompute reminder times)."""
        for hook in self.hooks_timezone:
            await hook(ctx)

    async def on_reachable_again(self, ctx: Ctx) -> None:
        """Run the hooks for a person who was unreachable and wrote again (resume reminders)."""
        for hook in self.hooks_reachable:
            await hook(ctx)

    async def snooze(self, ctx: Ctx) -> list[Reply]:
        """Snooze the core-work reminder; the reminders module provides it."""
        handler = self.actions.get("snooze")
        if handler is None:
            return [Reply("Snoozing needs reminders, which are not set up here.")]
        return await handler(ctx, Action("snooze", ()))

    async def handle(self, inc: Incoming) -> list[Reply]:
        """Answer one thing a person did. Never raises; never confirms what was not saved."""
        try:
            async with self.sessions() as session:
                person = await repo.find_person(session, inc.platform, inc.user_id)
                ctx = Ctx(self, session, inc, person, self.clock.now())
                if person is not None and not person.reachable:
                    person.reachable = True  # they wrote again: reminders may resume
                    await self.on_reachable_again(ctx)
                replies = await self._route(ctx)
                await session.commit()
                return replies
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            # Type only: driver messages can quote the statement and its values.
            log.error("database unavailable while handling an event: %s", type(exc).__name__)
            return [Reply(SAVE_FAILED)]
        except Exception as exc:
            tb = "".join(traceback.format_tb(exc.__traceback__))
            log.error("handler failed: %s\n%s", type(exc).__name__, tb)
            return [Reply(BROKEN)]

    async def _route(self, ctx: Ctx) -> list[Reply]:
        inc = ctx.inc
        if inc.action is not None:
            action = actions.decode(inc.action)
            handler = self.actions.get(action.kind) if action else None
            if action is None or handler is None:
                # Private: an old or forged button tapped in a group is the tapper's business.
                return [Reply(EXPIRED, private=True)]
            return await handler(ctx, action)
        text = parsing.clean_text(inc.text, TEXT_LIMIT)
        command = parsing.parse_command(text)
        if command is not None:
            return await self._command(ctx, command)
        if inc.chat_kind is ChatKind.GROUP:
            return []  # group chatter is not for us; club taps arrive as actions
        replies = await self.read_message(ctx, text) if text else None
        if replies is not None:
            return replies
        start = self.commands.get("start")
        if ctx.person is None and start is not None and not parsing.looks_like_score_attempt(text):
            # First contact says what the bot is and is not, and asks for consent.
            return await start(ctx, Command("start", (), ""))
        return [Reply(parsing_hint(text))]

    async def _command(self, ctx: Ctx, command: Command) -> list[Reply]:
        spec = BY_NAME.get(command.name)
        handler = self.commands.get(command.name)
        if spec is not None and spec.console_only:
            # Reaching the engine means the console did not take it: no simulated clock.
            return [
                Reply(
                    f"/{command.name} works in the console started with --clock, e.g. "
                    "si-checkin console --clock 2026-03-28T06:00+01:00."
                )
            ]
        if spec is None or handler is None:
            return [Reply(f"I don't know /{command.name}. Send /help to see what I can do.")]
        if ctx.inc.chat_kind is ChatKind.GROUP and not spec.group_ok:
            return [Reply(GROUP_ONLY_PRIVATE, private=True)]
        if spec.needs_consent and ctx.person is None:
            if spec.reads_text and command.raw_args:
                read = await self.read_message(ctx, command.raw_args)
                if read is not None:
                    return read
            return self.consent_prompt(ctx, None)
        return await handler(ctx, command)


def parsing_hint(text: str) -> str:
    """The one-line answer to a message we cannot use."""
    if parsing.looks_like_score_attempt(text):
        return "Scores are a whole number from 0 to 10, for example 4."
    return (
        "I didn't catch that. Send your pain score as a whole number from 0 to 10, "
        "for example 4, or /help."
    )


def _default_modules() -> tuple[ModuleType, ...]:
    from bot.handlers import advice, clubs, core, episodes

    modules: list[ModuleType] = [core, advice, clubs, episodes]
    try:
        from bot.handlers import reminders
    except ImportError:
        pass
    else:
        modules.append(reminders)
    return tuple(modules)
