"""The Telegram edge on python-telegram-bot 22: updates in as Incoming, Replies out as messages.

Receives with a long-polling (or webhook) `Application`: text messages and inline-button taps
become `Incoming` for the engine, and each `Reply` is rendered as HTML text (escaped), an
inline keyboard, a photo or a document. `send(address, reply)` delivers reminders and club
posts and maps Telegram's failures onto bot.delivery's errors. In groups the edge asks
Telegram who is an admin, turns a club tap's acknowledgement into an alert only the tapper
sees, and reports a migrated group or a removed bot to the core. Nothing here decides
anything about pain, content or timing; the handlers are stateless (state lives in the
database; the admin cache only saves calls), so several webhook replicas can serve one bot.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cachetools import TTLCache
from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
    constants,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters import base
from bot import alerts, logs
from bot.actions import decode, keeps_keyboard
from bot.alerts import DM_ME, SENT_PRIVATELY
from bot.app import App
from bot.commands import public_commands
from bot.delivery import RetryLater, TransientError, Unreachable
from bot.events import Address, Button, ChatKind, Incoming, Kind, Reply, Role
from bot.handlers.clubs import bot_removed, chat_migrated
from bot.handlers.reminders import person_blocked

PLATFORM = "telegram"
log = logging.getLogger(__name__)
T = TypeVar("T")

# ---- Telegram's limits, named once (Bot API docs and FAQ, via telegram.constants) -----------
MAX_TEXT = constants.MessageLimit.MAX_TEXT_LENGTH  # 4096 characters after entity parsing
MAX_CAPTION = constants.MessageLimit.CAPTION_LENGTH  # 1024
MAX_CALLBACK_DATA = constants.InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
MAX_CALLBACK_ANSWER = constants.CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH  # 200
MAX_COMMAND_DESCRIPTION = constants.BotCommandLimit.MAX_DESCRIPTION  # 256
OVERALL_PER_S = constants.FloodLimit.MESSAGES_PER_SECOND  # 30 messages/s to all chats
PER_CHAT_PER_S = constants.FloodLimit.MESSAGES_PER_SECOND_PER_CHAT  # 1 message/s in one chat
GROUP_PER_MIN = constants.FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP  # 20 messages/min in a group

# ---- Our choices within those limits ---------------------------------------------------
BUTTONS_PER_ROW = 6  # a phone shows six buttons a row without truncating labels
LIMITS = base.PlatformLimits(
    text=MAX_TEXT,
    caption=MAX_CAPTION,
    row_width=BUTTONS_PER_ROW,
    payload=MAX_CALLBACK_DATA,
    location=True,
)
CONCURRENT_UPDATES = 32  # updates handled at once; bounded so a flood cannot exhaust memory
# A tap answers and handles concurrently. getUpdates has its own one-connection pool. The size
# is a ceiling, not a cost: 8 to 64 at 32 concurrent updates measured the same CPU per tap.
CONNECTION_POOL = 2 * CONCURRENT_UPDATES
# Pacing and retries, one layer per path (docs/architecture.md, "Pacing"):
# - answers to what a person did go through PTB's AIORateLimiter alone: 30/s overall, 20/min
#   per group, a 429 waited out (pausing every other answer meanwhile) up to this many times;
#   Telegram allows a short burst in one chat, so a reply's parts arrive together;
# - reminders and club posts are paced and retried by the dispatcher alone
#   (scheduler/ratelimit.py): here each is one attempt, its failure mapped for the dispatcher.
RETRY_AFTER_RETRIES = 3
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 30.0  # uploads (chart, export) take longer than text
POOL_TIMEOUT_S = 10.0
POLL_TIMEOUT_S = 30  # long-poll wait; Telegram answers at once when an update arrives
BOOTSTRAP_RETRIES = 5  # deleteWebhook/setWebhook attempts at start before giving up
# Who is a group admin is asked of Telegram per command; an answer is reused this long
# (a demoted admin keeps the rights at most this long) and for at most this many pairs.
ADMIN_CACHE_S = 60.0
ADMIN_CACHE_SIZE = 4096
# my_chat_member is not in Telegram's default set once allowed_updates is given.
ALLOWED_UPDATES = (
    constants.UpdateType.MESSAGE,
    constants.UpdateType.CALLBACK_QUERY,
    constants.UpdateType.MY_CHAT_MEMBER,
)

# Platform wording: what the edge says when it cannot route a reply, never health content.
NOT_YOURS = "This button isn't for you."

GROUP_TYPES = frozenset({constants.ChatType.GROUP, constants.ChatType.SUPERGROUP})
ADMIN_STATUSES = frozenset(
    {constants.ChatMemberStatus.ADMINISTRATOR, constants.ChatMemberStatus.OWNER}
)
GONE_STATUSES = frozenset({constants.ChatMemberStatus.LEFT, constants.ChatMemberStatus.BANNED})
# The action kind of a tap on a club post (bot.handlers.clubs.ACTIONS): answered by alert.
CLUB_TAP = "k"


@dataclass(frozen=True, slots=True)
class Limits:
    """Send ceilings for answers; 0 disables one (the benchmark lifts them to measure handling)."""

    overall_per_s: float = OVERALL_PER_S
    group_per_min: float = GROUP_PER_MIN


# The rate_limit_args that marks a send the dispatcher paces and retries itself.
DISPATCHED = -1


class AnswerLimiter(AIORateLimiter):
    """AIORateLimiter for answers; a reminder or club post (DISPATCHED) goes straight through.

    The dispatcher has already paced a reminder under the same ceilings and retries it on
    RetryLater, so throttling or retrying it here as well would multiply the waits.
    """

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if rate_limit_args == DISPATCHED:
            return await callback(*args, **kwargs)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


def escape(text: str) -> str:
    """The one place text is escaped for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard from rows already laid out to Telegram's limits (adapters.base)."""
    out = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in rows]
    return InlineKeyboardMarkup(out) if out else None


def asks_location(rows: Sequence[Sequence[Button]]) -> bool:
    """Whether the buttons include a location request (only a reply keyboard can ask)."""
    return any(b.role is Role.LOCATION for row in rows for b in row)


def reply_keyboard(rows: Sequence[Sequence[Button]]) -> ReplyKeyboardMarkup:
    """A keyboard in place of the phone's: each button sends its label as text (the core reads
    the labels of such a reply as typed), a location button the person's location. It hides
    once used; the next plain answer takes it away (ReplyKeyboardRemove)."""
    out = [
        [
            KeyboardButton(b.label, request_location=True if b.role is Role.LOCATION else None)
            for b in row
        ]
        for row in rows
    ]
    return ReplyKeyboardMarkup(out, resize_keyboard=True, one_time_keyboard=True)


def markup(
    rows: Sequence[Sequence[Button]], clear: bool
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    """A part's keyboard: inline, or a reply keyboard when it asks for a location; with `clear`
    and no buttons, the removal of any reply keyboard still showing."""
    if asks_location(rows):
        return reply_keyboard(rows)
    if rows:
        return keyboard(rows)
    return ReplyKeyboardRemove() if clear else None


def editable(reply: Reply) -> bool:
    """Whether a reply may replace the tapped message in place.

    Only a confirmation: advice about a tier always arrives as a new message, so it cannot
    go unseen in an edit further up the chat.
    """
    return (
        reply.image is None
        and reply.document is None
        and reply.kind is not Kind.ADVICE
        and 0 < len(reply.text) <= MAX_TEXT
        # An edit keeps an inline keyboard only; a location request needs a new message.
        and not asks_location(reply.buttons)
    )


def chat_kind(chat: Chat) -> ChatKind | None:
    """Private or group; None for channels, which the bot does not serve."""
    if chat.type == constants.ChatType.PRIVATE:
        return ChatKind.PRIVATE
    if chat.type in GROUP_TYPES:
        return ChatKind.GROUP
    return None


def in_alert(reply: Reply) -> bool:
    """Whether a reply to a club tap can be said in a callback alert (text only, no new chat)."""
    return (
        reply.to is None
        and not reply.buttons
        and reply.image is None
        and reply.document is None
        and bool(reply.text.strip())
    )


def is_club_tap(payload: str | None) -> bool:
    """Whether a tap is on a club post."""
    action = decode(payload)
    return action is not None and action.kind == CLUB_TAP


def file_url(api_url: str) -> str:
    """The file download base that goes with a Bot API base URL (…/bot -> …/file/bot)."""
    base, sep, _ = api_url.rstrip("/").rpartition("/bot")
    return f"{base}/file/bot" if sep else f"{api_url.rstrip('/')}/file/bot"


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after becomes a timedelta; both carry the same wait.
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def reason(exc: TelegramError) -> str:
    """An error's kind for logs: Telegram's reason without anything quoted from our message."""
    # "Can't parse entities: unsupported start tag ... at byte offset 12" quotes our text.
    return f"{type(exc).__name__}({exc.message.split(':', 1)[0]})"


class TelegramAdapter:
    """One bot token served through python-telegram-bot; also the Sender for reminders."""

    platform = PLATFORM

    def __init__(self, app: App, limits: Limits | None = None) -> None:
        settings = app.settings
        if settings.telegram_token is None:
            raise ValueError("TelegramAdapter needs TELEGRAM_TOKEN")
        self.app = app
        self.limits = limits or Limits()
        # (group, person) -> whether Telegram said they administer it, kept briefly.
        self.admins: TTLCache[tuple[int, int], bool] = TTLCache(ADMIN_CACHE_SIZE, ADMIN_CACHE_S)
        self._background: set[asyncio.Task[None]] = set()
        self._token = settings.telegram_token.get_secret_value()
        self.application: Application[Any, Any, Any, Any, Any, Any] = build_application(
            self._token,
            settings.telegram_api_url,
            settings.telegram_file_url or file_url(settings.telegram_api_url),
            self.limits,
        )
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message)
        )
        self.application.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.LOCATION & filters.ChatType.PRIVATE,
                self._on_location,
            )
        )
        self.application.add_handler(CallbackQueryHandler(self._on_tap))
        self.application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        self.application.add_handler(
            ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        self.application.add_error_handler(self._on_error)

    # ---- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Identify the bot, publish the command menu and start receiving updates."""
        await self.application.initialize()
        await self._publish_commands()
        await self.application.start()
        updater = self.application.updater
        assert updater is not None
        settings = self.app.settings
        if settings.telegram_webhook_url:
            url_path, webhook_url = webhook_route(settings.telegram_webhook_url, self._token)
            secret = (
                settings.telegram_webhook_secret.get_secret_value()
                if settings.telegram_webhook_secret
                else derived_secret(self._token)
            )
            # Whoever knows these can forge updates: no log line may ever show them.
            logs.register_secret(secret)
            logs.register_secret(url_path)
            await updater.start_webhook(
                listen="0.0.0.0",
                port=settings.port,
                url_path=url_path,
                webhook_url=webhook_url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=BOOTSTRAP_RETRIES,
            )
            log.info("telegram: receiving updates by webhook on port %d", settings.port)
        else:
            await updater.start_polling(
                timeout=timedelta(seconds=POLL_TIMEOUT_S),
                allowed_updates=list(ALLOWED_UPDATES),
                bootstrap_retries=BOOTSTRAP_RETRIES,
                error_callback=self._on_poll_error,
            )
            log.info("telegram: receiving updates by long polling")

    async def stop(self) -> None:
        """Stop receiving, let running handlers finish, close connections."""
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.application.shutdown()

    async def _publish_commands(self) -> None:
        commands = [
            BotCommand(c.name, c.description[:MAX_COMMAND_DESCRIPTION]) for c in public_commands()
        ]
        try:
            await self.application.bot.set_my_commands(commands)
        except TelegramError as exc:
            # The menu is a convenience; typed commands work without it.
            log.warning("telegram: could not publish the command menu: %s", reason(exc))

    # ---- receiving --------------------------------------------------------------------

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        kind = chat_kind(message.chat)
        # An admin posting anonymously writes as the group itself (the user is a stand-in bot).
        anonymous_admin = (
            kind is ChatKind.GROUP
            and message.sender_chat is not None
            and message.sender_chat.id == message.chat.id
        )
        if kind is None or (user.is_bot and not anonymous_admin):
            return
        if self._for_another_bot(message.text):
            return
        admin = False
        if kind is ChatKind.GROUP and message.text.startswith("/"):
            admin = anonymous_admin or await self._is_admin(message.chat.id, user.id)
        inc = Incoming(
            PLATFORM,
            str(user.id),
            str(message.chat.id),
            text=message.text,
            chat_kind=kind,
            is_admin=admin,
            display_name=None if anonymous_admin else user.first_name,
            locale=None if anonymous_admin else user.language_code,
        )
        replies = await self.app.engine.handle(inc)
        # A typed answer (or a reply keyboard's label) takes away a reply keyboard left open.
        if not await self._deliver(inc, replies, clear=kind is ChatKind.PRIVATE):
            # The person never started a chat with the bot: say so in the group, nothing more.
            await self._send_safely(message.chat.id, Reply(DM_ME), mention=user)

    async def _on_tap(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        message = query.message
        if message is None:  # a button on an inline-mode message: not ours
            await self._answer(query.id, NOT_YOURS)
            return
        chat = message.chat
        kind = chat_kind(chat)
        # Only the person can tap in their private chat; anything else is forged.
        if kind is None or (kind is ChatKind.PRIVATE and chat.id != user.id):
            await self._answer(query.id, NOT_YOURS, alert=True)
            return
        inc = Incoming(
            PLATFORM,
            str(user.id),
            str(chat.id),
            action=query.data or "",
            chat_kind=kind,
            display_name=user.first_name,
            locale=user.language_code,
        )
        if kind is ChatKind.PRIVATE:
            # Stop the phone's spinner at once, while the engine works.
            answered = asyncio.create_task(self._answer(query.id))
            replies = await self.app.engine.handle(inc)
            await answered
            # A used keyboard goes, so it cannot record a second time (the core names the few
            # that stay, like the red-flag screen's "tap any that apply"). When the answer is
            # a plain confirmation, the tapped message becomes it: one call instead of two.
            if (
                isinstance(message, Message)
                and message.reply_markup is not None
                and not keeps_keyboard(query.data)
            ):
                if (
                    replies
                    and editable(replies[0])
                    and await self._edit_into(chat.id, message.message_id, replies[0])
                ):
                    replies = replies[1:]
                else:
                    await self._drop_keyboard(chat.id, message.message_id)
            await self._deliver(inc, replies)
            return
        # In a group the keyboard stays for everyone else; personal replies go by DM.
        replies = await self.app.engine.handle(inc)
        if is_club_tap(query.data):
            await self._answer_club_tap(inc, query.id, replies)
            return
        if decode(query.data) is None:
            # A stale or forged button: the tapper alone hears it has expired, in an alert.
            said = "\n".join(r.text for r in replies if in_alert(r))
            await self._answer(query.id, alerts.shorten(said, MAX_CALLBACK_ANSWER), alert=True)
            return
        reached = await self._deliver(inc, replies)
        sent_dm = any(self._destination(inc, r) != chat.id for r in replies)
        if not reached:
            await self._answer(query.id, DM_ME, alert=True)
        else:
            await self._answer(query.id, SENT_PRIVATELY if sent_dm else None)

    async def _on_location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A location the person shared in their private chat: read for its time zone alone.

        The coordinates go to the engine and no further: nothing here logs or keeps them.
        """
        message, user = update.message, update.effective_user
        if message is None or user is None or message.location is None or user.is_bot:
            return
        inc = Incoming(
            PLATFORM,
            str(user.id),
            str(message.chat.id),
            display_name=user.first_name,
            locale=user.language_code,
            location=(message.location.latitude, message.location.longitude),
        )
        replies = await self.app.engine.handle(inc)
        await self._deliver(inc, replies, clear=True)

    async def _answer_club_tap(self, inc: Incoming, query_id: str, replies: list[Reply]) -> None:
        """A tap on a club post: the acknowledgement is an alert only the tapper sees.

        What cannot be an alert (the consent step with its buttons, advice and the safety
        check, which the core addresses to the DM) goes by DM; when the DM is closed, the
        alert says how to open it. Nothing about the tap is ever posted in the group.
        """
        said = [r for r in replies if in_alert(r)]
        direct = [r for r in replies if not in_alert(r)]
        reached = await self._deliver(inc, direct)
        text = alerts.club_tap_alert(said, direct, reached, self._username, MAX_CALLBACK_ANSWER)
        await self._answer(query_id, text, alert=True)

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether Telegram says this person administers the group (owner or admin)."""
        known = self.admins.get((chat_id, user_id))
        if known is not None:
            return known
        try:
            member = await self.application.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            # Unknown means no: settings stay as they are, the person hears "only admins".
            log.warning("telegram: could not check a group admin: %s", reason(exc))
            return False
        admin = member.status in ADMIN_STATUSES
        self.admins[(chat_id, user_id)] = admin
        return admin

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A group became a supergroup with a new id: its club follows (both notices work)."""
        message = update.message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            await self._follow_migration(message.chat.id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id is not None:
            await self._follow_migration(message.migrate_from_chat_id, message.chat.id)

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot's own standing changed: blocked by a person, or removed from a group.

        A person who blocks the bot ("kicked" in their private chat) gets no more reminders
        from now on; writing again resumes them. A group that removes the bot stops its club.
        Being added back changes nothing until the person writes or an admin sends /club on.
        """
        change = update.my_chat_member
        if change is None or change.new_chat_member.status not in GONE_STATUSES:
            return
        kind = chat_kind(change.chat)
        if kind is ChatKind.PRIVATE:
            if await person_blocked(self.app.sessions, PLATFORM, str(change.chat.id)):
                log.info("telegram: a person blocked the bot; their reminders stop")
        elif kind is ChatKind.GROUP and await bot_removed(
            self.app.sessions, PLATFORM, str(change.chat.id)
        ):
            log.info("telegram: removed from a group; its club check-ins stop")

    async def _follow_migration(self, old_chat: int, new_chat: int) -> None:
        if await chat_migrated(self.app.sessions, PLATFORM, str(old_chat), str(new_chat)):
            log.info("telegram: a group moved to a new id; its club follows")

    def _follow_later(self, old_chat: int, new_chat: int) -> None:
        """Record a group's new id once the caller is done (see _render_following)."""

        async def follow() -> None:
            try:
                await self._follow_migration(old_chat, new_chat)
            except Exception as exc:  # the next post meets ChatMigrated and tries again
                log.error("telegram: could not record a group's new id: %s", type(exc).__name__)

        task = asyncio.create_task(follow())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @property
    def _username(self) -> str:
        return self.application.bot.username or "the bot"

    def _for_another_bot(self, text: str) -> bool:
        # "/start@OtherBot" in a group is addressed to another bot.
        command = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        _, at, name = command.partition("@")
        return bool(at) and name.casefold() != (self.application.bot.username or "").casefold()

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Type only: exception text can quote a message.
        error = context.error
        log.error("telegram: handling an update failed: %s", type(error).__name__)

    def _on_poll_error(self, exc: TelegramError) -> None:
        log.warning("telegram: getUpdates failed (will retry): %s", reason(exc))

    # ---- replying ---------------------------------------------------------------------

    def _destination(self, inc: Incoming, reply: Reply) -> int:
        return int(base.destination(inc, reply).chat_id)

    async def _deliver(self, inc: Incoming, replies: Sequence[Reply], clear: bool = False) -> bool:
        """Send the engine's replies in order; False when a private reply could not reach the DM.

        With `clear`, plain text parts take away a reply keyboard still showing.
        """
        for reply in replies:
            destination = self._destination(inc, reply)
            try:
                await self._render_following(destination, reply, clear=clear)
            except (Forbidden, BadRequest) as exc:
                if destination != int(inc.chat_id) and reply.private:
                    # Never fall back to the group: the reply may hold health data.
                    log.info("telegram: cannot reach a person by DM: %s", reason(exc))
                    return False
                log.warning("telegram: a reply was not delivered: %s", reason(exc))
            except TelegramError as exc:
                log.warning("telegram: a reply was not delivered: %s", reason(exc))
        return True

    async def _send_safely(self, chat_id: int, reply: Reply, mention: User | None = None) -> None:
        text = escape(reply.text)
        if mention is not None:
            text = f'<a href="tg://user?id={mention.id}">{escape(mention.first_name)}</a>, ' + text
        try:
            await self.application.bot.send_message(
                chat_id, text, parse_mode=constants.ParseMode.HTML
            )
        except TelegramError as exc:
            log.warning("telegram: a notice was not delivered: %s", reason(exc))

    async def _render_following(
        self,
        chat_id: int,
        reply: Reply,
        *,
        record_now: bool = True,
        rate: int | None = None,
        clear: bool = False,
    ) -> None:
        """_render, following a group that has become a supergroup to its new id.

        With `record_now` False the club's move is recorded once the caller is done: the
        scheduler holds the club's row while it sends, and waiting for it here would deadlock.
        """
        try:
            await self._render(chat_id, reply, rate, clear)
        except ChatMigrated as exc:
            if record_now:
                await self._follow_migration(chat_id, exc.new_chat_id)
            else:
                self._follow_later(chat_id, exc.new_chat_id)
            await self._render(exc.new_chat_id, reply, rate, clear)

    async def _render(
        self, chat_id: int, reply: Reply, rate: int | None = None, clear: bool = False
    ) -> None:
        """One Reply as Telegram messages: attachment (text as caption when it fits), text parts.

        `rate` is the rate_limit_args of every call (DISPATCHED for a reminder).
        """
        bot = self.application.bot
        # None leaves the parameter out; the dispatcher marks only what the queue made late.
        paid = True if reply.paid_broadcast else None
        for part in base.parts(reply, LIMITS):
            if part.file is not None:
                send = bot.send_photo if part.file is reply.image else bot.send_document
                await send(
                    chat_id,
                    part.file.data,
                    caption=escape(part.text) if part.text else None,
                    parse_mode=constants.ParseMode.HTML if part.text else None,
                    reply_markup=markup(part.rows, clear=False),
                    filename=part.file.filename,
                    allow_paid_broadcast=paid,
                    rate_limit_args=rate,
                )
                continue
            await bot.send_message(
                chat_id,
                escape(part.text),
                parse_mode=constants.ParseMode.HTML,
                reply_markup=markup(part.rows, clear),
                link_preview_options=NO_PREVIEW,
                allow_paid_broadcast=paid,
                rate_limit_args=rate,
            )

    async def _answer(self, query_id: str, text: str | None = None, alert: bool = False) -> None:
        try:
            await self.application.bot.answer_callback_query(
                query_id, text=text[:MAX_CALLBACK_ANSWER] if text else None, show_alert=alert
            )
        except TelegramError as exc:
            # An expired query (older than Telegram keeps it) only leaves a spinner.
            log.info("telegram: a button tap was not acknowledged: %s", reason(exc))

    async def _edit_into(self, chat_id: int, message_id: int, reply: Reply) -> bool:
        """Turn the tapped message into the reply (its keyboard replaced); False if refused."""
        try:
            await self.application.bot.edit_message_text(
                escape(reply.text),
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=constants.ParseMode.HTML,
                reply_markup=keyboard(next(iter(base.layout(reply.buttons, LIMITS)), [])),
                link_preview_options=NO_PREVIEW,
            )
        except TelegramError as exc:
            log.info("telegram: tapped message not edited: %s", reason(exc))
            return False
        return True

    async def _drop_keyboard(self, chat_id: int, message_id: int) -> None:
        try:
            await self.application.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except BadRequest as exc:
            # "message is not modified": a second quick tap, the keyboard is already gone.
            log.debug("telegram: keyboard not removed: %s", reason(exc))
        except TelegramError as exc:
            log.info("telegram: keyboard not removed: %s", reason(exc))

    # ---- Sender: reminders and club posts ---------------------------------------------

    async def send(self, address: Address, reply: Reply) -> None:
        """Deliver a reminder or club post; raise Unreachable, RetryLater or TransientError.

        One attempt: the dispatcher paced it under Telegram's ceilings (overall, per chat, 20
        a minute per group) and retries it on RetryLater and TransientError.
        """
        try:
            await self._render_following(
                int(address.chat_id), reply, record_now=False, rate=DISPATCHED
            )
        except Forbidden as exc:
            raise Unreachable(reason(exc)) from None
        except RetryAfter as exc:
            raise RetryLater(retry_seconds(exc)) from None
        except BadRequest as exc:
            # This message can never go as it is; everyone else's reminders carry on.
            log.warning("telegram: a reminder was refused: %s", reason(exc))
        except TelegramError as exc:
            raise TransientError(reason(exc)) from None


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def build_application(
    token: str, api_url: str, files_url: str, limits: Limits
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB Application: Bot API base URLs, rate limiter, concurrency and timeouts."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .base_file_url(files_url)
        .rate_limiter(
            AnswerLimiter(
                overall_max_rate=limits.overall_per_s,
                group_max_rate=limits.group_per_min,
                max_retries=RETRY_AFTER_RETRIES,
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL)
        .connect_timeout(CONNECT_TIMEOUT_S)
        .read_timeout(READ_TIMEOUT_S)
        .write_timeout(WRITE_TIMEOUT_S)
        .pool_timeout(POOL_TIMEOUT_S)
        .get_updates_read_timeout(POLL_TIMEOUT_S + READ_TIMEOUT_S)
        .build()
    )


def webhook_route(url: str, token: str) -> tuple[str, str]:
    """The local path to listen on and the public URL to register.

    The path of TELEGRAM_WEBHOOK_URL is used as given (a reverse proxy forwards it); with no
    path, one derived from the token keeps the endpoint unguessable and the same on replicas.
    """
    path = urlsplit(url).path.strip("/")
    if path:
        return path, url
    path = "telegram-" + hashlib.sha256(f"path:{token}".encode()).hexdigest()[:32]
    return path, f"{url.rstrip('/')}/{path}"


def derived_secret(token: str) -> str:
    """A webhook secret_token every replica derives alike, so any of them may call setWebhook."""
    return hmac.new(token.encode(), b"si-checkin webhook", hashlib.sha256).hexdigest()
