"""handle(Incoming) -> list[Reply]: routing, the consent gate, and the one place errors stop."""

from __future__ import annotations

import logging
import traceback
from datetime import date

from cachetools import TTLCache
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import actions, parsing
from bot.clock import Clock
from bot.context import Ctx, Handlers
from bot.events import ChatKind, Incoming, Kind, Reply
from bot.handlers.prompts import consent_prompt
from bot.parsing import Command
from bot.settings import Settings
from bot.store import repo
from content.loader import Content

log = logging.getLogger(__name__)

PENDING_FLAGS_MAX = 10_000
PENDING_FLAGS_TTL_S = 24 * 3600
TEXT_LIMIT = 2000  # longest message we read; longer input is cut before parsing
SAVE_FAILED = "I could not save that, please send it again in a minute."
BROKEN = "Something went wrong on my side and nothing was changed. Please try again."
EXPIRED = "This button has expired. Send /checkin for fresh buttons."
GROUP_ONLY_PRIVATE = "Let's keep your health data private: send me that in a direct message."


class Engine:
    """The conversation, platform-neutral. Adapters call handle(); the scheduler uses the store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Clock,
        settings: Settings,
        handlers: Handlers,
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
        self.handlers = handlers

    async def read_message(self, ctx: Ctx, text: str) -> list[Reply] | None:
        """Free text (or a command's words before consent) through the text handlers."""
        for text_handler in self.handlers.text:
            replies = await text_handler(ctx, text)
            if replies is not None:
                return replies
        return None

    async def on_new_person(self, ctx: Ctx) -> None:
        """Run the hooks for a person who just consented (e.g. default reminders)."""
        for hook in self.handlers.on_new_person:
            await hook(ctx)

    async def on_timezone_changed(self, ctx: Ctx) -> None:
        """Run the hooks after a time zone change (e.g. recompute reminder times)."""
        for hook in self.handlers.on_timezone:
            await hook(ctx)

    async def on_reachable_again(self, ctx: Ctx) -> None:
        """Run the hooks for a person who was unreachable and wrote again (resume reminders)."""
        for hook in self.handlers.on_reachable:
            await hook(ctx)

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
            return [Reply(SAVE_FAILED, kind=Kind.ERROR)]
        except Exception as exc:
            tb = "".join(traceback.format_tb(exc.__traceback__))
            log.error("handler failed: %s\n%s", type(exc).__name__, tb)
            return [Reply(BROKEN, kind=Kind.ERROR)]

    async def _route(self, ctx: Ctx) -> list[Reply]:
        inc = ctx.inc
        if inc.action is not None:
            action = actions.decode(inc.action)
            handler = self.handlers.actions.get(action.kind) if action else None
            if action is None or handler is None:
                # Private: an old or forged button tapped in a group is the tapper's business.
                return [Reply(EXPIRED, private=True, kind=Kind.ERROR)]
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
        if ctx.person is None and not parsing.looks_like_score_attempt(text):
            # First contact says what the bot is and is not, and asks for consent.
            return await self._command(ctx, Command("start", (), ""))
        return [Reply(parsing_hint(text))]

    async def _command(self, ctx: Ctx, command: Command) -> list[Reply]:
        found = self.handlers.command(command.name)
        if found is None:
            return [
                Reply(
                    f"I don't know /{command.name}. Send /help to see what I can do.",
                    kind=Kind.ERROR,
                )
            ]
        spec, handler = found
        if spec.console_only:
            # It only says where it works, so it is answered in any chat, before consent.
            return await handler(ctx, command)
        if ctx.inc.chat_kind is ChatKind.GROUP and not spec.group_ok:
            return [Reply(GROUP_ONLY_PRIVATE, private=True, kind=Kind.ERROR)]
        if spec.needs_consent and ctx.person is None:
            if spec.reads_text and command.raw_args:
                read = await self.read_message(ctx, command.raw_args)
                if read is not None:
                    return read
            return consent_prompt(ctx, None)
        return await handler(ctx, command)


def parsing_hint(text: str) -> str:
    """The one-line answer to a message we cannot use."""
    if parsing.looks_like_score_attempt(text):
        return "Scores are a whole number from 0 to 10, for example 4."
    return (
        "I didn't catch that. Send your pain score as a whole number from 0 to 10, "
        "for example 4, or /help."
    )
