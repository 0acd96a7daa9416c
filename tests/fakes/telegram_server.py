"""A fake Telegram Bot API server on loopback, for end-to-end tests of the Telegram adapter.

It speaks the Bot API over HTTP the way python-telegram-bot 22.x uses it: requests go to
``{base_url}{token}/{method}`` as query strings, form, multipart (file uploads) or JSON
bodies, and answers have the real ``ok``/``result``/``error_code``/``description``/
``parameters`` shape, so PTB raises its real exceptions (``BadRequest``, ``Forbidden``,
``RetryAfter``, ``ChatMigrated``, ``Conflict``, ``InvalidToken``, ``NetworkError``).

A test plays the people and reads what the bot did::

    async with TelegramFake() as fake:
        ada = fake.user(42, first_name="Ada")
        app = (
            ApplicationBuilder().token(fake.token)
            .base_url(fake.base_url).base_file_url(fake.base_file_url).build()
        )
        ...  # start the app polling (or start_webhook: the fake POSTs updates to it)
        fake.send_text(ada, "/start")
        reply = await fake.wait_for_message(ada.id, contains="Welcome")
        fake.press(ada, reply, reply.callback_data("4"))
        await fake.wait_for(lambda: fake.callback_answers)
        fake.throttle(1, retry_after=2, method="sendMessage")  # next send answers 429
        assert fake.max_rate(ada.id, window_s=1.0) <= 1

Deliberate differences from the real server, each in the stricter direction or documented:
- HTML: bare ``<``, ``>`` and ``&`` must be escaped (Telegram tolerates a bare ``>``); the
  wording after "can't parse entities: " is the fake's own for errors Telegram words vaguely.
- MarkdownV2 and Markdown text is accepted unparsed: the bot uses HTML.
- Webhook URLs may be plain http (tests run on loopback); no certificate handling.
- Photos must be PNG, JPEG, GIF, WebP or BMP bytes (else ``IMAGE_PROCESS_FAILED``); remote
  URLs are accepted without fetching.
- Message ids count per chat; inline messages (``inline_message_id``) are not supported.
- A reply keyboard (``keyboard``) is kept per chat, as a phone shows it, until a
  ``remove_keyboard`` arrives; a location or contact request in a group is refused as the
  real server refuses it. ``tap_reply_key`` sends a key's label as text; ``share_location``
  sends a location message (through the keyboard's location key when ``via`` names it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import re
import struct
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")
JSON = dict[str, Any]

# Telegram's limits, named once (the numbers come from the Bot API documentation).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_UPDATES_PER_CALL = 100
SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND_RE = re.compile(r"^[a-z0-9_]+$")

# Methods that count as "sends" for the rate observations.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
# Without an explicit method, injected failures skip the long poll: it runs all the time
# in the background and would consume the count at a random moment.
BACKGROUND_METHODS = frozenset({"getUpdates"})
# Telegram's default allowed_updates leaves these out.
NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Parameters whose type Telegram knows; form bodies carry every value as a string.
INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "message_thread_id",
    }
)
BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
    }
)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


# --------------------------------------------------------------------------------------
# HTML parse mode


class EntityParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"."""


_HTML_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_START_TAG_RE = re.compile(
    r"<([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z][A-Za-z0-9_-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?"
)
_END_TAG_RE = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(markup: str, index: int) -> int:
    return len(markup[:index].encode("utf-8"))


def _decode_char_ref(match: re.Match[str]) -> str:
    named, decimal, hexa = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexa, 16)
    if code > 0x10FFFF:
        raise EntityParseError("Unsupported HTML entity")
    return chr(code)


def _decode_attr(value: str) -> str:
    # Attribute values are unescaped leniently, as browsers do: only known references.
    return _CHAR_REF_RE.sub(lambda m: _decode_char_ref(m), value)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the parsed text
    language: str | None = None


def parse_html(markup: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-HTML into (plain text, MessageEntity dicts) or raise EntityParseError."""
    out: list[str] = []
    offset = 0  # UTF-16 length of `out`
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    i = 0
    while i < len(markup):
        ch = markup[i]
        if ch == "&":
            ref = _CHAR_REF_RE.match(markup, i)
            if ref is None:
                raise EntityParseError(
                    f"Character '&' must be escaped as &amp; at byte offset "
                    f"{_byte_offset(markup, i)}"
                )
            piece = _decode_char_ref(ref)
            i = ref.end()
        elif ch == ">":
            raise EntityParseError(
                f"Character '>' must be escaped as &gt; at byte offset {_byte_offset(markup, i)}"
            )
        elif ch == "<" and markup.startswith("</", i):
            end = _END_TAG_RE.match(markup, i)
            if end is None or not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(markup, i)}"
                )
            name = end.group(1).lower()
            if stack[-1].name != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(markup, i)}, expected "
                    f'"</{stack[-1].name}>", found "</{name}>"'
                )
            _close_tag(stack, offset, entities)
            i = end.end()
            continue
        elif ch == "<":
            start = _START_TAG_RE.match(markup, i)
            if start is None:
                raise EntityParseError(
                    f"Character '<' must be escaped as &lt; at byte offset "
                    f"{_byte_offset(markup, i)}"
                )
            name = start.group(1).lower()
            if name not in _HTML_TAG_TYPES:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(markup, i)}'
                )
            attrs = {
                a.group(1).lower(): _decode_attr(a.group(2) or a.group(3) or a.group(4) or "")
                for a in _ATTR_RE.finditer(start.group(2))
            }
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError('Tag "span" must have class "tg-spoiler"')
            if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
                raise EntityParseError('Tag "tg-emoji" must have a numeric attribute "emoji-id"')
            stack.append(_OpenTag(name, attrs, offset))
            i = start.end()
            continue
        else:
            piece = ch
            i += 1
        out.append(piece)
        offset += utf16_len(piece)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(stack: list[_OpenTag], offset: int, entities: list[JSON]) -> None:
    tag = stack.pop()
    language = tag.attrs.get("class", "")
    if (
        tag.name == "code"
        and stack
        and stack[-1].name == "pre"
        and language.startswith("language-")
    ):
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        stack[-1].language = language.removeprefix("language-")
        return
    length = offset - tag.start
    if length == 0:
        return
    entity: JSON = {"type": _HTML_TAG_TYPES[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        if "href" not in tag.attrs:
            return
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def format_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None
) -> tuple[str, list[JSON]]:
    """Apply a parse_mode as Telegram does: (shown text, entities) or a 400 ApiError."""
    if not parse_mode:
        return text, list(entities or [])
    mode = parse_mode.lower()
    if mode == "html":
        try:
            return parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    if mode in ("markdown", "markdownv2"):
        return text, []  # documented: not validated, the bot uses HTML
    raise bad_request("unsupported parse_mode")


# --------------------------------------------------------------------------------------
# People, chats and what the bot sent


@dataclass
class FakeUser:
    """A Telegram user played by a test."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_api(self) -> JSON:
        """The Bot API User object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class FakeChat:
    """A private chat or group known to the fake, with its members and the bot's standing."""

    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    owner_id: int | None = None
    admin_ids: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    bot_status: str = "member"  # "member", "administrator", "left" or "kicked"
    blocked: bool = False
    migrated_to: int | None = None
    # The reply keyboard the bot put in place of the phone's keyboard (None: the phone's own);
    # a one-time keyboard is hidden once used, but stays until the bot removes it.
    reply_keyboard: JSON | None = None
    reply_keyboard_hidden: bool = False

    def to_api(self) -> JSON:
        """The Bot API Chat object."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class StoredFile:
    """A file the bot uploaded: its bytes as received and the names Telegram gave it."""

    file_id: str
    file_unique_id: str
    data: bytes | None
    filename: str | None
    mime_type: str | None
    file_path: str


@dataclass
class SentMessage:
    """A message the bot sent, with edits applied; `history` keeps the earlier states."""

    chat_id: int
    message_id: int
    date: int
    method: str
    text: str | None = None  # as the person sees it (HTML parsed); None for media
    caption: str | None = None
    raw: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None  # an inline keyboard: the only kind a Message carries
    # A reply keyboard (or its removal) sent with the message: it shows in place of the phone's
    # keyboard, not on the message (FakeChat.reply_keyboard).
    phone_keyboard: JSON | None = None
    reply_to_message_id: int | None = None
    photo: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file: StoredFile | None = None
    history: list[JSON] = field(default_factory=list)
    deleted: bool = False
    sent_at: float = 0.0
    edit_date: int | None = None
    # Sent with allow_paid_broadcast (sendMessage, sendPhoto, sendDocument): Telegram lets such
    # messages past the free 30 a second and charges Stars for them.
    paid_broadcast: bool = False
    _from: JSON = field(default_factory=dict, repr=False)
    _chat: JSON = field(default_factory=dict, repr=False)
    _keyboards_seen: list[JSON] = field(default_factory=list, repr=False)

    @property
    def content(self) -> str:
        """Text or caption as shown, "" when there is neither."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[list[JSON]]:
        """The current inline keyboard rows ([] when none)."""
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard", [])

    @property
    def button_labels(self) -> list[str]:
        """The labels of all inline buttons, row by row."""
        return [b["text"] for row in self.buttons for b in row]

    def callback_data(self, label: str) -> str:
        """The callback_data of the inline button with this label (KeyError if none)."""
        for row in self.buttons:
            for button in row:
                if button["text"] == label and "callback_data" in button:
                    return str(button["callback_data"])
        raise KeyError(f"no callback button {label!r}; labels: {self.button_labels}")

    def to_api(self) -> JSON:
        """The Bot API Message object for this message as it is now."""
        data: JSON = {
            "message_id": self.message_id,
            "from": self._from,
            "chat": self._chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.caption is not None:
            data["caption"] = self.caption
            if self.entities:
                data["caption_entities"] = self.entities
        if self.file is not None and self.method == "sendPhoto":
            data["photo"] = _photo_sizes(self.file)
        elif self.file is not None:
            data["document"] = _document(self.file)
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class ApiCall:
    """One HTTP call the bot made: method, decoded parameters, uploads and the answer."""

    method: str
    params: JSON
    files: dict[str, StoredFile]
    time: float
    status: int = 0
    response: JSON = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether Telegram answered ok."""
        return self.status == 200


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery the bot made, with the query it answered."""

    callback_query_id: str
    user_id: int
    data: str | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook and what came back."""

    update_id: int
    url: str
    status: int | None  # None when the connection failed
    error: str | None = None


@dataclass
class _Rule:
    kind: str  # "throttle", "fail" or "delay"
    remaining: int | None  # None: forever
    method: str | None
    chat_id: int | None
    status: int = 0
    retry_after: int = 0
    seconds: float = 0.0

    def matches(self, method: str, params: JSON) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method is None:
            if method in BACKGROUND_METHODS:
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


def _inline(markup: JSON | None) -> JSON | None:
    return markup if markup is not None and "inline_keyboard" in markup else None


def _not_inline(markup: JSON | None) -> JSON | None:
    return markup if markup is not None and "inline_keyboard" not in markup else None


def _photo_sizes(stored: StoredFile) -> list[JSON]:
    width, height = _image_size(stored.data or b"")
    size = len(stored.data or b"")
    thumb_scale = min(1.0, 90 / max(width, height, 1))
    return [
        {
            "file_id": stored.file_id + "-s",
            "file_unique_id": stored.file_unique_id + "s",
            "width": max(1, round(width * thumb_scale)),
            "height": max(1, round(height * thumb_scale)),
            "file_size": min(size, 2048),
        },
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": size,
        },
    ]


def _document(stored: StoredFile) -> JSON:
    data: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data or b""),
    }
    if stored.filename:
        data["file_name"] = stored.filename
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


def _image_kind(data: bytes) -> str | None:
    signatures = {
        b"\x89PNG\r\n\x1a\n": "png",
        b"\xff\xd8\xff": "jpeg",
        b"GIF87a": "gif",
        b"GIF89a": "gif",
        b"BM": "bmp",
    }
    for magic, kind in signatures.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _image_size(data: bytes) -> tuple[int, int]:
    # PNG keeps its size in the IHDR chunk; other formats get a plausible default.
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 800, 600


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _coerce_params(raw: JSON) -> JSON:
    """Give form-encoded values the types Telegram knows each parameter has."""
    params: JSON = {}
    for key, value in raw.items():
        if key in JSON_PARAMS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if key == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {key} JSON object") from None
        elif key in INT_PARAMS and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise bad_request(f"invalid {key} specified") from None
        elif key in BOOL_PARAMS:
            value = _bool(value)
        elif key == "chat_id" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        params[key] = value
    return params


def _update_type(update: JSON) -> str:
    return next(key for key in update if key != "update_id")


# --------------------------------------------------------------------------------------
# The server


class TelegramFake:
    """A loopback Bot API server with a Python API for playing people and reading results."""

    def __init__(
        self,
        token: str = "123456789:TEST-fake-token_for-si-checkin",
        *,
        bot_username: str = "si_checkin_test_bot",
        bot_name: str = "SI Check-in",
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        webhook_retry_s: float = 0.1,
    ) -> None:
        self.token = token
        self.bot = FakeUser(
            int(token.split(":", 1)[0]), bot_name, username=bot_username, language_code=None
        )
        self.bot.is_bot = True
        self.webhook_retry_s = webhook_retry_s
        self._monotonic = monotonic
        self._wall_clock = wall_clock

        self.requests: list[ApiCall] = []
        self.server_errors: list[Exception] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.allowed_updates: list[str] | None = None

        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._messages: dict[int, list[SentMessage]] = {}
        self._user_messages: dict[tuple[int, int], JSON] = {}
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._pending: list[JSON] = []
        self._open_queries: dict[str, JSON] = {}
        self._send_log: list[tuple[float, int]] = []
        self._rules: list[_Rule] = []
        self._consumed: set[tuple[int, int]] = set()
        self._poll_generation = 0
        self._polls_waiting = 0
        self._changed_event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods: dict[
            str, tuple[str, Callable[[JSON, dict[str, StoredFile]], Awaitable[Any]]]
        ]
        self._methods = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "getChat": self._get_chat,
                "sendChatAction": self._send_chat_action,
                "leaveChat": self._leave_chat,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getFile": self._get_file,
            }.items()
        }

    # ---- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> TelegramFake:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_loop(), name="fake-webhook")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._changed()  # wakes long polls so they answer before the server stops
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.server_errors and exc_info[0] is None:
            raise RuntimeError(f"the fake Telegram server crashed: {self.server_errors!r}")

    @property
    def base_url(self) -> str:
        """Give this to PTB as base_url: it appends the token."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """Give this to PTB as base_file_url."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # ---- people and chats ------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Runner",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        """Make (or replace) a person; their private chat with the bot exists from now on."""
        person = FakeUser(user_id, first_name, last_name, username, language_code)
        self._users[user_id] = person
        self.private_chat(person)
        return person

    def private_chat(self, user: FakeUser) -> FakeChat:
        """The private chat of this person with the bot (id = user id, as on Telegram)."""
        self._users.setdefault(user.id, user)
        chat = self._chats.get(user.id)
        if chat is None:
            chat = FakeChat(
                user.id,
                "private",
                username=user.username,
                first_name=user.first_name,
                member_ids=[user.id],
            )
            self._chats[user.id] = chat
        return chat

    def group(
        self,
        chat_id: int,
        title: str,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        *,
        owner: FakeUser | None = None,
        bot_admin: bool = False,
        supergroup: bool | None = None,
    ) -> FakeChat:
        """Make a group with the bot in it; ids starting -100 are supergroups, as on Telegram."""
        if supergroup is None:
            supergroup = str(chat_id).startswith("-100")
        admins, members = list(admins), list(members)
        for person in [*admins, *members, *([owner] if owner else [])]:
            self._users.setdefault(person.id, person)
        chat = FakeChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            owner_id=owner.id if owner else None,
            admin_ids=[a.id for a in admins],
            member_ids=[m.id for m in members],
            bot_status="administrator" if bot_admin else "member",
        )
        self._chats[chat_id] = chat
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        """A chat known to the fake (KeyError otherwise)."""
        return self._chats[chat_id]

    # ---- what people do --------------------------------------------------------------

    def queue_update(self, payload: JSON) -> JSON:
        """Queue any update body (e.g. {"message": {...}}); the fake assigns update_id."""
        update = {"update_id": next(self._update_ids), **payload}
        self._pending.append(update)
        self._changed()
        return update

    def send_text(
        self,
        user: FakeUser,
        text: str,
        chat: FakeChat | None = None,
        reply_to: SentMessage | JSON | None = None,
    ) -> JSON:
        """Queue a text message from this person (private chat unless `chat`); return the update."""
        chat = chat or self.private_chat(user)
        if user.id not in chat.member_ids and user.id not in chat.admin_ids:
            chat.member_ids.append(user.id)
        message = self._user_message(user, chat, text=text)
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        if reply_to is not None:
            message["reply_to_message"] = (
                reply_to.to_api() if isinstance(reply_to, SentMessage) else reply_to
            )
        return self.queue_update({"message": message})

    def reply_keys(self, user: FakeUser) -> list[str]:
        """The labels on the reply keyboard in this person's private chat ([] when none)."""
        keyboard = self.private_chat(user).reply_keyboard
        if keyboard is None:
            return []
        return [b if isinstance(b, str) else b["text"] for row in keyboard["keyboard"] for b in row]

    def _reply_key(self, user: FakeUser, label: str) -> JSON | str:
        chat = self.private_chat(user)
        keyboard = chat.reply_keyboard
        if keyboard is None:
            raise ValueError(f"no reply keyboard in chat {chat.id}")
        for row in keyboard["keyboard"]:
            for button in row:
                if (button if isinstance(button, str) else button["text"]) == label:
                    if keyboard.get("one_time_keyboard"):
                        chat.reply_keyboard_hidden = True
                    return button
        raise ValueError(f"no reply keyboard button {label!r}; labels: {self.reply_keys(user)}")

    def tap_reply_key(self, user: FakeUser, label: str) -> JSON:
        """Tap a text button of the reply keyboard: the phone sends its label as a message."""
        button = self._reply_key(user, label)
        if isinstance(button, dict) and any(
            button.get(k) for k in ("request_location", "request_contact")
        ):
            raise ValueError(f"{label!r} asks for something: use share_location")
        return self.send_text(user, label)

    def share_location(
        self, user: FakeUser, latitude: float, longitude: float, *, via: str | None = None
    ) -> JSON:
        """The person shares their location; `via` is the reply keyboard's location button
        they tap (it must ask for a location), None when they attach it themselves."""
        if via is not None:
            button = self._reply_key(user, via)
            if not (isinstance(button, dict) and button.get("request_location")):
                raise ValueError(f"{via!r} does not ask for a location")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError("no such place")
        chat = self.private_chat(user)
        location = {"latitude": latitude, "longitude": longitude}
        return self.queue_update({"message": self._user_message(user, chat, location=location)})

    def press(self, user: FakeUser, message: SentMessage, data: str, *, check: bool = True) -> JSON:
        """Queue a tap on an inline button of a bot message; returns the callback_query update.

        With `check`, `data` must be on a keyboard the message has had (a phone can only tap
        buttons it was shown; an old keyboard may still be on screen).
        """
        if check and not any(
            button.get("callback_data") == data
            for markup in message._keyboards_seen
            for row in markup.get("inline_keyboard", [])
            for button in row
        ):
            raise ValueError(f"message {message.message_id} never had a button with data {data!r}")
        query_id = str(10**15 + next(self._query_ids))
        digest = hashlib.sha1(f"{self.bot.id}:{message.chat_id}".encode()).hexdigest()
        query: JSON = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": str(int(digest[:15], 16)),
            "data": data,
        }
        self._open_queries[query_id] = query
        return self.queue_update({"callback_query": query})

    def migrate_group(self, old_id: int, new_id: int) -> list[JSON]:
        """Upgrade a group to a supergroup: queues both service messages; old id then fails."""
        old = self._chats[old_id]
        new = FakeChat(
            new_id,
            "supergroup",
            title=old.title,
            owner_id=old.owner_id,
            admin_ids=list(old.admin_ids),
            member_ids=list(old.member_ids),
            bot_status=old.bot_status,
        )
        self._chats[new_id] = new
        old.migrated_to = new_id
        actor_id = old.owner_id or (old.admin_ids or old.member_ids or [self.bot.id])[0]
        actor = self._users.get(actor_id, self.bot)
        to_message = self._user_message(actor, old)
        to_message["migrate_to_chat_id"] = new_id
        from_message = self._user_message(actor, new)
        from_message["migrate_from_chat_id"] = old_id
        return [
            self.queue_update({"message": to_message}),
            self.queue_update({"message": from_message}),
        ]

    def bot_removed(self, chat: FakeChat, by: FakeUser | None = None) -> JSON:
        """The person blocks the bot (private) or an admin removes it (group): my_chat_member."""
        old_status = chat.bot_status
        chat.bot_status = "kicked"
        if chat.type == "private":
            chat.blocked = True
        return self._queue_my_chat_member(chat, by, old_status, "kicked")

    def bot_added(self, chat: FakeChat, by: FakeUser | None = None) -> JSON:
        """The person unblocks the bot or an admin adds it back: my_chat_member."""
        old_status = chat.bot_status
        chat.bot_status = "member"
        chat.blocked = False
        return self._queue_my_chat_member(chat, by, old_status, "member")

    # ---- what the bot did ------------------------------------------------------------

    def messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Bot messages (successful sends, edits applied) in a chat, or in all chats."""
        if chat_id is None:
            found = [m for msgs in self._messages.values() for m in msgs]
            found.sort(key=lambda m: m.sent_at)
        else:
            found = list(self._messages.get(chat_id, []))
        return [m for m in found if include_deleted or not m.deleted]

    def calls(self, method: str) -> list[ApiCall]:
        """All calls of one Bot API method, in order."""
        return [c for c in self.requests if c.method.lower() == method.lower()]

    def answer_for(self, update: JSON) -> CallbackAnswer | None:
        """The bot's answer to the callback query of this update, if it answered."""
        query_id = update["callback_query"]["id"]
        return next((a for a in self.callback_answers if a.callback_query_id == query_id), None)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting for an update right now."""
        return self._polls_waiting > 0

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates' offset or a webhook's 2xx."""
        return list(self._pending)

    # A `timeout` argument (not asyncio.timeout) keeps test lines short and reads like the brief.
    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until predicate() is truthy (re-checked on every change); return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            event = self._changed_event
            value = predicate()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}={c.status}" for c in self.requests[-8:])
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {recent}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SentMessage:
        """The next bot message in the chat, not yet returned by this method, with `contains`."""

        def find() -> SentMessage | None:
            for message in self._messages.get(chat_id, []):
                if (chat_id, message.message_id) in self._consumed:
                    continue
                if contains is None or contains in message.content:
                    return message
            return None

        try:
            message = await self.wait_for(find, timeout)
        except TimeoutError:
            seen = [m.content[:60] for m in self._messages.get(chat_id, [])]
            raise TimeoutError(
                f"no new bot message in chat {chat_id} containing {contains!r} within "
                f"{timeout}s; messages so far: {seen}"
            ) from None
        self._consumed.add((chat_id, message.message_id))
        return message

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """Monotonic instants of successful sends, in one chat or overall."""
        return [t for t, c in self._send_log if chat_id is None or c == chat_id]

    def max_rate(self, chat_id: int | None = None, window_s: float = 1.0) -> int:
        """The most sends in any half-open window [t, t + window_s), in one chat or overall."""
        times = sorted(self.send_times(chat_id))
        best, start = 0, 0
        for end, instant in enumerate(times):
            while instant - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def file(self, file_id: str) -> StoredFile:
        """An uploaded file by file_id (KeyError otherwise)."""
        return self._files[file_id]

    # ---- failure injection -----------------------------------------------------------

    def block(self, chat_id: int) -> None:
        """From now on sends to this chat answer 403 (no update is queued; see bot_removed)."""
        self._chats[chat_id].blocked = True

    def unblock(self, chat_id: int) -> None:
        """Undo block()."""
        self._chats[chat_id].blocked = False

    def throttle(
        self,
        n: int,
        retry_after: int = 1,
        method: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> None:
        """The next n matching calls answer 429 with parameters.retry_after (nothing is sent).

        method None matches every method but getUpdates; chat_id narrows to one chat.
        """
        self._rules.append(_Rule("throttle", n, method, chat_id, retry_after=retry_after))

    def fail(
        self, n: int, status: int = 500, method: str | None = None, *, chat_id: int | None = None
    ) -> None:
        """The next n matching calls answer this HTTP status and an error body (nothing sent)."""
        self._rules.append(_Rule("fail", n, method, chat_id, status=status))

    def delay(
        self,
        seconds: float,
        n: int | None = 1,
        method: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> None:
        """The next n matching calls (None: all) wait before being processed.

        The call still takes effect after the wait even if the client timed out meanwhile,
        as on the real server, so a retrying client can be caught sending twice.
        """
        self._rules.append(_Rule("delay", n, method, chat_id, seconds=seconds))

    def clear_failures(self) -> None:
        """Forget all throttle/fail/delay rules."""
        self._rules.clear()

    # ---- internals: plumbing ---------------------------------------------------------

    def _changed(self) -> None:
        self._changed_event.set()
        self._changed_event = asyncio.Event()

    async def _wait_changed(self, wait_s: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed_event.wait(), wait_s)

    def _now_date(self) -> int:
        return int(self._wall_clock())

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message_id[chat_id] = self._next_message_id.get(chat_id, 0) + 1
        return self._next_message_id[chat_id]

    def _user_message(self, user: FakeUser, chat: FakeChat, **extra: Any) -> JSON:
        message_id = self._new_message_id(chat.id)
        message: JSON = {
            "message_id": message_id,
            "from": user.to_api(),
            "chat": chat.to_api(),
            "date": self._now_date(),
            **extra,
        }
        self._user_messages[(chat.id, message_id)] = message
        return message

    def _queue_my_chat_member(
        self, chat: FakeChat, by: FakeUser | None, old: str, new: str
    ) -> JSON:
        actor = by or (self._users.get(chat.id) if chat.type == "private" else None) or self.bot
        member_extra: dict[str, JSON] = {"kicked": {"until_date": 0}}
        return self.queue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_api(),
                    "from": actor.to_api(),
                    "date": self._now_date(),
                    "old_chat_member": self._member(self.bot, old),
                    "new_chat_member": {
                        **self._member(self.bot, new),
                        **member_extra.get(new, {}),
                    },
                }
            }
        )

    def _member(self, person: FakeUser, status: str) -> JSON:
        member: JSON = {"status": status, "user": person.to_api()}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    def _status_in(self, chat: FakeChat, user_id: int) -> str:
        if user_id == self.bot.id:
            return chat.bot_status
        if user_id == chat.owner_id:
            return "creator"
        if user_id in chat.admin_ids:
            return "administrator"
        if user_id in chat.member_ids:
            return "member"
        return "left"

    # ---- internals: HTTP -------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        file_prefix = f"/file/bot{self.token}/"
        if path.startswith(file_prefix):
            return self._serve_file(path.removeprefix(file_prefix))
        match = re.fullmatch(r"/bot([^/]*)/([^/]+)", path)
        if match is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        if match.group(1) != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        name = match.group(2)
        known = self._methods.get(name.lower())
        method = known[0] if known else name
        call = ApiCall(method=method, params={}, files={}, time=self._monotonic())
        self.requests.append(call)
        self._changed()
        try:
            raw, call.files = await self._read_params(request)
            call.params = _coerce_params(raw)
            if known is None:
                raise ApiError(404, "Not Found")
            await self._apply_rules(method, call.params)
            result = await known[1](call.params, call.files)
            call.status, call.response = 200, {"ok": True, "result": result}
        except ApiError as exc:
            call.status, call.response = exc.status, exc.body()
        except Exception as exc:
            # A bug in the fake must fail the test, not pass as a flaky network error.
            self.server_errors.append(exc)
            call.status, call.response = 500, ApiError(500, f"fake server bug: {exc!r}").body()
        self._changed()
        return web.json_response(call.response, status=call.status)

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, StoredFile]]:
        params: JSON = dict(request.query)
        files: dict[str, StoredFile] = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            params.update(body)
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = self._store_file(
                    value.file.read(), value.filename, value.content_type, key
                )
            else:
                params[key] = value if isinstance(value, str) else bytes(value).decode()
        return params, files

    def _store_file(
        self, data: bytes, filename: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        number = next(self._file_counter)
        unique = hashlib.sha1(data).hexdigest()[:16]
        folder = "photos" if kind == "photo" else "documents"
        suffix = f"_{filename}" if filename else ""
        stored = StoredFile(
            file_id=f"FAKE{kind.upper()}{number:06d}",
            file_unique_id=f"U{unique}{number}",
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{folder}/file_{number}{suffix}",
        )
        return stored

    async def _apply_rules(self, method: str, params: JSON) -> None:
        for rule in self._rules:
            if not rule.matches(method, params):
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            if rule.kind == "delay":
                await asyncio.sleep(rule.seconds)
            elif rule.kind == "throttle":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {rule.retry_after}",
                    {"retry_after": rule.retry_after},
                )
            else:
                raise ApiError(rule.status, _reason(rule.status))

    def _serve_file(self, file_path: str) -> web.Response:
        for stored in self._files.values():
            if stored.file_path == file_path and stored.data is not None:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _webhook_loop(self) -> None:
        # Telegram's side of a webhook: POST the oldest pending update until a 2xx confirms it.
        assert self._session is not None
        while not self._closing:
            ready = self._deliverable() if self.webhook_url else []
            if not ready:
                await self._wait_changed(None)
                continue
            update, url = ready[0], self.webhook_url
            headers = {"Content-Type": "application/json"}
            if self.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            delivery = WebhookDelivery(update["update_id"], url, None)
            try:
                async with self._session.post(
                    url,
                    data=json.dumps(update),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    delivery.status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                delivery.error = repr(exc)
            self.webhook_deliveries.append(delivery)
            if delivery.status is not None and 200 <= delivery.status < 300:
                self._pending = [u for u in self._pending if u["update_id"] > update["update_id"]]
                self._changed()
            else:
                self._changed()
                await asyncio.sleep(self.webhook_retry_s)

    def _deliverable(self) -> list[JSON]:
        allowed = self.allowed_updates
        return [
            u
            for u in self._pending
            if (
                _update_type(u) in allowed
                if allowed
                else _update_type(u) not in NOT_DEFAULT_UPDATES
            )
        ]

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    # ---- internals: validation helpers -----------------------------------------------

    def _target_chat(self, params: JSON, *, sending: bool = True) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat = next((c for c in self._chats.values() if f"@{c.username}" == chat_id), None)
        else:
            chat = self._chats.get(int(chat_id))
        if chat is None:
            if isinstance(chat_id, int) and chat_id in self._users and sending:
                # A group member who never opened a private chat with the bot.
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending:
            self._check_reachable(chat)
        return chat

    def _check_reachable(self, chat: FakeChat) -> None:
        if chat.type == "private":
            if chat.blocked or chat.bot_status == "kicked":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.blocked or chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")

    def _check_reply_keyboard(self, markup: JSON, chat: FakeChat | None) -> JSON:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if not any(rows):
            raise bad_request("keyboard must be non-empty")
        for row in rows:
            for button in row:
                if isinstance(button, str):
                    continue
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse keyboard button: Text must be a String")
                if not button["text"].strip():
                    raise bad_request("keyboard button text must be non-empty")
                asks = [k for k in ("request_location", "request_contact") if button.get(k)]
                if len(asks) > 1:
                    raise bad_request("can't parse keyboard button: only one request is allowed")
                if asks and chat is not None and chat.type != "private":
                    what = "location" if asks[0] == "request_location" else "contact"
                    raise bad_request(f"{what} can be requested in a private chats only")
        return markup

    def _shows(self, chat: FakeChat, markup: JSON | None) -> None:
        """What a phone shows after a bot message: its reply keyboard, or the phone's own."""
        if markup is None:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
            chat.reply_keyboard_hidden = False
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
            chat.reply_keyboard_hidden = False

    def _check_markup(
        self, markup: Any, *, inline_only: bool = False, chat: FakeChat | None = None
    ) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only:
                raise bad_request("inline keyboard expected")
            if "keyboard" in markup:
                return self._check_reply_keyboard(markup, chat)
            if "remove_keyboard" in markup:
                if markup["remove_keyboard"] is not True:
                    raise bad_request("can't parse reply keyboard markup JSON object")
                return markup
            if "force_reply" in markup:
                return markup
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a String")
                actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                    if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                    raise bad_request("BUTTON_URL_INVALID")
        return markup

    def _reply_target(self, chat: FakeChat, params: JSON) -> int | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        exists = (chat.id, message_id) in self._user_messages or any(
            m.message_id == message_id and not m.deleted for m in self._messages.get(chat.id, [])
        )
        if exists:
            return int(message_id)
        if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")

    def _formatted(
        self, params: JSON, key: str, limit: int, too_long: str
    ) -> tuple[str, list[JSON]]:
        raw = params.get(key)
        entities_key = "entities" if key == "text" else "caption_entities"
        shown, entities = format_text(str(raw), params.get("parse_mode"), params.get(entities_key))
        if len(shown) > limit:
            raise bad_request(too_long)
        return shown, entities

    def _upload(self, params: JSON, files: dict[str, StoredFile], key: str) -> StoredFile:
        if key in files:
            stored = files[key]
        else:
            ref = params.get(key)
            if not isinstance(ref, str) or not ref:
                raise bad_request(f"there is no {key} in the request")
            if ref.startswith("attach://") and ref.removeprefix("attach://") in files:
                stored = files[ref.removeprefix("attach://")]
            elif ref in self._files:
                return self._files[ref]
            elif re.match(r"^https?://", ref):
                stored = self._store_file(b"", ref.rsplit("/", 1)[-1], None, key)
                stored.data = None
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.data is not None and len(stored.data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        if stored.data is not None and key == "photo":
            if _image_kind(stored.data) is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            if len(stored.data) > MAX_PHOTO_BYTES:
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return stored

    def _record_send(self, chat: FakeChat, method: str, params: JSON, **fields: Any) -> JSON:
        message = SentMessage(
            chat_id=chat.id,
            message_id=self._new_message_id(chat.id),
            date=self._now_date(),
            method=method,
            parse_mode=params.get("parse_mode"),
            sent_at=self._monotonic(),
            paid_broadcast=bool(params.get("allow_paid_broadcast")),
            _from=self.bot.to_api(),
            _chat=chat.to_api(),
            **fields,
        )
        if message.reply_markup:
            message._keyboards_seen.append(message.reply_markup)
        self._messages.setdefault(chat.id, []).append(message)
        self._send_log.append((message.sent_at, chat.id))
        data = message.to_api()
        if message.reply_to_message_id is not None:
            replied = self._user_messages.get((chat.id, message.reply_to_message_id))
            if replied is None:
                replied = next(
                    m.to_api()
                    for m in self._messages[chat.id]
                    if m.message_id == message.reply_to_message_id
                )
            data["reply_to_message"] = replied
        return data

    def _message_to_edit(self, params: JSON) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        for message in self._messages.get(chat.id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        if (chat.id, message_id) in self._user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")

    def _apply_edit(self, message: SentMessage, **changes: Any) -> JSON:
        # Telegram compares what the person would see, not the markup that produced it.
        shown = {k: v for k, v in changes.items() if k not in ("raw", "parse_mode")}
        if all(getattr(message, key) == value for key, value in shown.items()):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.history.append(message.to_api())
        for key, value in changes.items():
            setattr(message, key, value)
        if message.reply_markup:
            message._keyboards_seen.append(message.reply_markup)
        message.edit_date = self._now_date()
        return message.to_api()

    # ---- internals: methods ----------------------------------------------------------

    async def _get_me(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        return {
            **self.bot.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON, files: dict[str, StoredFile]) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        limit = min(max(int(params.get("limit") or MAX_UPDATES_PER_CALL), 1), MAX_UPDATES_PER_CALL)
        timeout = max(0.0, float(params.get("timeout") or 0))
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or []) or None
        self._confirm(params.get("offset"))
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            ready = self._deliverable()[:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing or self.webhook_url:
                return ready
            self._polls_waiting += 1
            self._changed()  # lets a test see that the long poll is now waiting
            try:
                await self._wait_changed(remaining)
            finally:
                self._polls_waiting -= 1

    async def _send_message(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        chat = self._target_chat(params)
        if not str(params.get("text") or "").strip():
            raise bad_request("message text is empty")
        text, entities = self._formatted(params, "text", MAX_TEXT_LENGTH, "message is too long")
        if not text.strip():
            raise bad_request("message text is empty")
        markup = self._check_markup(params.get("reply_markup"), chat=chat)
        reply_to = self._reply_target(chat, params)
        self._shows(chat, markup)
        return self._record_send(
            chat,
            "sendMessage",
            params,
            text=text,
            raw=str(params["text"]),
            entities=entities,
            reply_markup=_inline(markup),
            phone_keyboard=_not_inline(markup),
            reply_to_message_id=reply_to,
        )

    async def _send_media(
        self, method: str, key: str, params: JSON, files: dict[str, StoredFile]
    ) -> JSON:
        chat = self._target_chat(params)
        caption, entities = None, []
        if params.get("caption"):
            caption, entities = self._formatted(
                params, "caption", MAX_CAPTION_LENGTH, "message caption is too long"
            )
        markup = self._check_markup(params.get("reply_markup"), chat=chat)
        reply_to = self._reply_target(chat, params)
        stored = self._upload(params, files, key)
        self._files[stored.file_id] = stored
        self._shows(chat, markup)
        return self._record_send(
            chat,
            method,
            params,
            caption=caption,
            raw=params.get("caption"),
            entities=entities,
            reply_markup=_inline(markup),
            phone_keyboard=_not_inline(markup),
            reply_to_message_id=reply_to,
            file=stored,
            filename=stored.filename,
            mime_type=stored.mime_type,
            **{key: stored.data},
        )

    async def _send_photo(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        return await self._send_media("sendPhoto", "photo", params, files)

    async def _send_document(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        return await self._send_media("sendDocument", "document", params, files)

    async def _edit_message_text(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        message = self._message_to_edit(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        if not str(params.get("text") or "").strip():
            raise bad_request("message text is empty")
        text, entities = self._formatted(params, "text", MAX_TEXT_LENGTH, "message is too long")
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            message,
            text=text,
            entities=entities,
            reply_markup=markup,
            raw=str(params["text"]),
            parse_mode=params.get("parse_mode"),
        )

    async def _edit_message_caption(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        message = self._message_to_edit(params)
        if message.file is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = None, []
        if params.get("caption"):
            caption, entities = self._formatted(
                params, "caption", MAX_CAPTION_LENGTH, "message caption is too long"
            )
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(
            message,
            caption=caption,
            entities=entities,
            reply_markup=markup,
            raw=params.get("caption"),
            parse_mode=params.get("parse_mode"),
        )

    async def _edit_message_reply_markup(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        message = self._message_to_edit(params)
        markup = self._check_markup(params.get("reply_markup"), inline_only=True)
        return self._apply_edit(message, reply_markup=markup)

    async def _delete_message(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        chat = self._target_chat(params)
        for message in self._messages.get(chat.id, []):
            if message.message_id == params.get("message_id") and not message.deleted:
                message.deleted = True
                return True
        raise bad_request("message to delete not found")

    async def _answer_callback_query(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        query = self._open_queries.pop(str(params.get("callback_query_id")), None)
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            self._open_queries[query["id"]] = query  # a refused answer leaves the query open
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query["id"],
                user_id=query["from"]["id"],
                data=query.get("data"),
                text=text,
                show_alert=bool(params.get("show_alert", False)),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
            )
        )
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not (1 <= len(name) <= MAX_COMMAND_LENGTH and COMMAND_RE.match(name)):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION_LENGTH:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, StoredFile]) -> list[JSON]:
        return list(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat_member(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        chat = self._target_chat(params, sending=False)
        user_id = params.get("user_id")
        person = self.bot if user_id == self.bot.id else self._users.get(int(user_id or 0))
        if person is None:
            raise bad_request("user not found")
        return self._member(person, self._status_in(chat, person.id))

    async def _get_chat_administrators(
        self, params: JSON, files: dict[str, StoredFile]
    ) -> list[JSON]:
        chat = self._target_chat(params, sending=False)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        self._check_reachable(chat)
        ids = ([chat.owner_id] if chat.owner_id else []) + chat.admin_ids
        admins = [self._member(self._users[i], self._status_in(chat, i)) for i in ids]
        if chat.bot_status == "administrator":
            admins.append(self._member(self.bot, "administrator"))
        return admins

    async def _get_chat(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        chat = self._target_chat(params, sending=False)
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _send_chat_action(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        chat = self._target_chat(params)
        action = str(params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    async def _leave_chat(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        chat = self._target_chat(params, sending=False)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self._check_reachable(chat)
        chat.bot_status = "left"
        return True

    async def _set_webhook(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://[^/\s]+", url):
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or []) or None
        self.webhook_url = url
        self.webhook_secret = str(secret) if url and secret else None
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, StoredFile]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        return info

    async def _get_file(self, params: JSON, files: dict[str, StoredFile]) -> JSON:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id) or self._files.get(file_id.removesuffix("-s"))
        if stored is None or stored.data is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def _reason(status: int) -> str:
    reasons = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
        409: "Conflict",
    }
    return reasons.get(status, f"Error {status}")
