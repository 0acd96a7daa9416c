"""handle(Incoming) -> list[Reply]: routing, the consent gate, and the one place errors stop."""

from __future__ import annotations

import asyncio
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
from bot.handlers.prompts import OVER_SCALE, consent_prompt
from bot.parsing import Command
from bot.settings import Settings
from bot.store import repo
from content.loader import Content

log = logging.getLogger(__name__)

PENDING_FLAGS_MAX = 10_000
PENDING_FLAGS_TTL_S = 24 * 3600
PENDING_CONSENT_TTL_S = 24 * 3600
# Closed sessions kept for the next events: at most as many as can be busy at once.
IDLE_SESSIONS_MAX = 32
# The longest message we read: Telegram's longest (Discord's is 2,000, or 4,000 with Nitro),
# so no message from a platform is cut and a red flag at the end of a long one is read. Only
# the console can send more; that is cut before parsing, and the person is told.
TEXT_LIMIT = 4096
CUT = f"That message was long: I read its first {TEXT_LIMIT:,} characters. Send the rest apart."
CUT_UNREAD = (
    f"That message is longer than I read ({TEXT_LIMIT:,} characters) and I found nothing in it "
    "to use. Send your pain score from 0 to 10, for example 4, or /help."
)
SAVE_FAILED = "I could not save that, please send it again in a minute."
BROKEN = "Something went wrong on my side and nothing was changed. Please try again."
EXPIRED = "This button has expired. Send /checkin for fresh buttons."
GROUP_ONLY_PRIVATE = "Let's keep your health data private: send me that in a direct message."
TOP_SCORE = str(parsing.MAX_SCORE)
CONSENT = "c"  # the consent buttons' action kind (bot.handlers.core)
# The console adapter's platform name: console-only commands are suggested only there.
CONSOLE = "console"


class Engine:
    """The conversation, platform-neutral. Adapters call handle(); the scheduler uses the store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        clock: Clock,
        settings: Settings,
        handlers: Handlers,
        db_slots: int | None = None,
    ) -> None:
        self.sessions = sessions
        # Sessions closed at the end of an event, reused by the next ones. A new Session is a
        # web of objects pointing at each other (its transaction, event dispatch and identity
        # map), which only the garbage collector frees: about 40 objects an event, measured.
        # A closed session holds nothing (no objects, no connection, no transaction).
        self._idle_sessions: list[AsyncSession] = []
        # At most this many events in the database at once (None: no bound). SQLite takes one
        # writer at a time: more events at once only wait in its busy handler, sleeping and
        # retrying, while their driver threads compete with the event loop for the GIL. Four
        # measured about a third less CPU per score tap than 32 and more taps per second.
        self._db_slots = asyncio.Semaphore(db_slots) if db_slots else None
        # Red flags tapped before consent, kept in memory only (never stored) for a day, so
        # whichever "I agree" the person taps records them: {(platform, user): {code: day}}.
        self.pending_flags: TTLCache[tuple[str, str], dict[str, date]] = TTLCache(
            maxsize=PENDING_FLAGS_MAX, ttl=PENDING_FLAGS_TTL_S
        )
        # The "I agree" payload last shown to each person, in memory only for a day, so a typed
        # "yes" answers the question exactly as the tap would: {(platform, user): payload}.
        self.pending_consent: TTLCache[tuple[str, str], str] = TTLCache(
            maxsize=PENDING_FLAGS_MAX, ttl=PENDING_CONSENT_TTL_S
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

    async def on_answer(self, ctx: Ctx) -> list[Reply]:
        """Run the hooks for anything a person said or tapped that was answered (it ends a
        back-off of their reminders); what they add goes after the answer."""
        added: list[Reply] = []
        for hook in self.handlers.on_answer:
            added += await hook(ctx)
        return added

    async def handle(self, inc: Incoming) -> list[Reply]:
        """Answer one thing a person did. Never raises; never confirms what was not saved."""
        if self._db_slots is None:
            return await self._handle(inc)
        async with self._db_slots:
            return await self._handle(inc)

    async def _handle(self, inc: Incoming) -> list[Reply]:
        try:
            session = self._idle_sessions.pop() if self._idle_sessions else self.sessions()
            try:
                replies = await self._committed(session, inc)
            except BaseException:
                await _closed(session)  # what is open is rolled back; not kept, to start clean
                raise
            await self._keep_idle(session)
            return replies
        except (TimeoutError, SQLAlchemyError, OSError) as exc:
            # Type only: driver messages can quote the statement and its values.
            log.error("database unavailable while handling an event: %s", type(exc).__name__)
            return [Reply(SAVE_FAILED, kind=Kind.ERROR)]
        except Exception as exc:
            tb = "".join(traceback.format_tb(exc.__traceback__))
            log.error("handler failed: %s\n%s", type(exc).__name__, tb)
            return [Reply(BROKEN, kind=Kind.ERROR)]

    async def _committed(self, session: AsyncSession, inc: Incoming) -> list[Reply]:
        """The event's replies, once everything it changed is committed."""
        person = await repo.find_person(session, inc.platform, inc.user_id)
        ctx = Ctx(self, session, inc, person, self.clock.now())
        if person is not None and not person.reachable:
            person.reachable = True  # they wrote again: reminders may resume
            await self.on_reachable_again(ctx)
        replies = await self._route(ctx)
        if replies and ctx.person is not None:
            replies = [*replies, *await self.on_answer(ctx)]
        await session.commit()
        self._remember_consent(ctx, replies)
        return replies

    async def _keep_idle(self, session: AsyncSession) -> None:
        """Close a session after its event's commit and keep it for the next events.

        A commit ends the session's transaction and gives its connection back, so closing
        it is only forgetting the objects it loaded (close() would do the same, through a
        task and one more hop into SQLAlchemy's greenlet).
        """
        if session.in_transaction():
            await _closed(session)
        else:
            session.expunge_all()
        if len(self._idle_sessions) < IDLE_SESSIONS_MAX:
            session.info.clear()  # what the event noted about its transaction
            self._idle_sessions.append(session)

    async def _route(self, ctx: Ctx) -> list[Reply]:
        inc = ctx.inc
        if inc.action is not None:
            action = actions.decode(inc.action)
            handler = self.handlers.actions.get(action.kind) if action else None
            if action is None or handler is None:
                # Private: an old or forged button tapped in a group is the tapper's business.
                return [Reply(EXPIRED, private=True, kind=Kind.ERROR)]
            replies = await handler(ctx, action)
            if action.kind == CONSENT:
                # Answered; kept until then, so a tapped "I agree" that carries no score
                # still finds one held for an earlier question.
                self.pending_consent.pop((inc.platform, inc.user_id), None)
            return replies
        text = parsing.clean_text(inc.text, TEXT_LIMIT)
        replies = await self._read(ctx, text)
        if replies and len(inc.text or "") > TEXT_LIMIT and len(text) >= TEXT_LIMIT:
            if [r.text for r in replies] == [parsing_hint(text)]:
                return [Reply(CUT_UNREAD)]  # still one line for input that is no use
            replies = [*replies, Reply(CUT, private=True)]
        return replies

    async def _read(self, ctx: Ctx, text: str) -> list[Reply]:
        """A message's text (cleaned and capped) through commands and the readers."""
        inc = ctx.inc
        command = parsing.parse_command(text)
        if command is not None:
            return await self._command(ctx, command)
        if inc.chat_kind is ChatKind.GROUP:
            return []  # group chatter is not for us; club taps arrive as actions
        if ctx.person is None and (answer := parsing.read_yes_no(text)) is not None:
            typed = await self._typed_consent(ctx, answer)
            if typed is not None:
                return typed
        if ctx.person is not None and parsing.asks_to_stop(text):
            return [Reply(STOP_HINT)]  # before any reader: not a place, a score or a time
        # A shared location has no text: the readers see it on the event.
        readable = text or inc.location is not None
        replies = await self.read_message(ctx, text) if readable else None
        if replies is not None:
            return replies
        if text and (over := await self._over_scale(ctx, text)):
            return over
        if ctx.person is None and not parsing.looks_like_score_attempt(text):
            # First contact says what the bot is and is not, and asks for consent.
            return await self._command(ctx, Command("start", (), ""))
        return [Reply(parsing_hint(text))]

    async def _command(self, ctx: Ctx, command: Command) -> list[Reply]:
        found = self.handlers.command(command.name)
        if found is None:
            return [Reply(self._unknown_command(ctx, command), kind=Kind.ERROR)]
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

    def _unknown_command(self, ctx: Ctx, command: Command) -> str:
        """The answer to a command we don't have: the one it most likely meant, if any."""
        names = [
            spec.name
            for spec, _ in self.handlers.commands
            # A console command is only worth suggesting where it works.
            if not spec.console_only or ctx.inc.platform == CONSOLE
        ]
        meant = parsing.suggest_command(command.name, names, next(iter(command.args), ""))
        if meant is not None:
            return f"I don't know /{command.name}. Did you mean /{meant}?"
        return f"I don't know /{command.name}. Send /help to see what I can do."

    async def _typed_consent(self, ctx: Ctx, agreed: bool) -> list[Reply] | None:
        """A typed yes or no to the consent question last shown, answered as its buttons would;
        None when no question is waiting (a first "yes" gets the welcome, not consent)."""
        inc = ctx.inc
        if inc.chat_kind is not ChatKind.PRIVATE:
            return None  # in a group, a "yes" is anyone's: consent is only ever one's own
        key = (inc.platform, inc.user_id)
        # A yes leaves the payload in place until the person is stored (a failed save can be
        # answered again); a no is done at once.
        payload = self.pending_consent.get(key) if agreed else self.pending_consent.pop(key, None)
        action = actions.decode(payload)
        handler = self.handlers.actions.get(CONSENT)
        if action is None or handler is None:
            return None
        return await handler(ctx, action if agreed else actions.Action(CONSENT, ("n",)))

    def _remember_consent(self, ctx: Ctx, replies: list[Reply]) -> None:
        """Keep the "I agree" payload shown in these replies for a typed yes to answer, and
        forget it once the person is stored.

        A question that carries a score is not forgotten for a later one that carries none (the
        plain question after /start, the one after a tapped red flag): those flags are kept in
        pending_flags whichever payload is used, and the score would be lost.
        """
        key = (ctx.inc.platform, ctx.inc.user_id)
        if ctx.person is not None:
            self.pending_consent.pop(key, None)  # set up: nothing waits for a yes any more
            return
        for reply in replies:
            for row in reply.buttons:
                for button in row:
                    action = actions.decode(button.action)
                    if action is None or action.kind != CONSENT or action.args[0] != "y":
                        continue
                    known = actions.decode(self.pending_consent.get(key))
                    if _carries_score(action) or known is None or not _carries_score(known):
                        self.pending_consent[key] = button.action

    async def _over_scale(self, ctx: Ctx, text: str) -> list[Reply] | None:
        """A score above the scale ("11", "15/10") taken as 10, with the safety screen a 10
        brings; None for anything else."""
        said = parsing.read_score(text)
        if not said.over_scale:
            return None
        # Read again as the 10 it means, on the day it was about: the text had no red flags
        # and no other score, or the readers would have answered it already.
        replies = await self.read_message(
            ctx, f"yesterday {TOP_SCORE}" if said.yesterday else TOP_SCORE
        )
        return [Reply(OVER_SCALE, private=True), *replies] if replies else None


async def _closed(session: AsyncSession) -> None:
    """Close a session, rolling back what is open; finished even if the event is cancelled
    meanwhile (AsyncSession's own exit runs its close to completion)."""
    async with session:
        pass


def _carries_score(action: actions.Action) -> bool:
    """Whether a consent payload carries a score given before consent (y:SCORE:CLUB:DAY)."""
    return len(action.args) > 1 and action.args[1] != "f"


# "STOP", "stop sending me messages": told how, rather than asked for a score. Nothing is
# turned off by a word that could be meant for someone else.
STOP_HINT = (
    "To stop the reminders, send /stop (or /pause 3 for a few days off); /delete erases everything."
)


def parsing_hint(text: str) -> str:
    """The one-line answer to a message we cannot use."""
    if parsing.looks_like_score_attempt(text):
        return "Scores are a whole number from 0 to 10, for example 4."
    return (
        "I didn't catch that. Send your pain score as a whole number from 0 to 10, "
        "for example 4, or /help."
    )
