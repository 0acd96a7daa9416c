"""A loopback fake of Discord (REST API + gateway websocket) for end-to-end tests.

A real discord.py 2.7 client talks to it over 127.0.0.1 exactly as it talks to Discord:
HTTP for REST, a zlib-stream compressed websocket for the gateway. Tests drive people's
actions (DMs, slash commands, autocomplete, button clicks) and read what the bot sent.

Pointing discord.py at the fake (the Discord adapter does the same two assignments from the
settings DISCORD_API_URL / DISCORD_GATEWAY_URL, before the client logs in)::

    discord.http.Route.BASE = fake.api_base                 # "http://127.0.0.1:PORT/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

Why both: every REST call, interaction callbacks and webhook follow-ups included, builds its
URL from ``Route.BASE`` when the Route is created. A plain ``discord.Client`` never asks
``GET /gateway/bot``: it connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` (also its fallback
after an INVALID_SESSION). ``AutoShardedClient`` without ``shard_count`` does ask
``/gateway/bot``, which the fake answers with ``gateway_url``. After READY, discord.py
resumes at READY's ``resume_gateway_url``; the fake points that at its own
``resume_gateway_url`` (a distinct path, so tests can see a RESUME went there).
``point_discord_py(api_base, gateway_url)`` sets both and restores them on exit.

Compression: ``Client.connect`` always asks for transport compression (there is no supported
switch to turn it off), ``compress=zlib-stream``, or ``zstd-stream`` when ``zstandard`` is
importable. The fake implements zlib-stream (one deflate context per connection, each payload
ended by a Z_SYNC_FLUSH), zstd-stream when ``zstandard`` is installed, and plain JSON text
frames when the URL has no ``compress``.

Things discord.py expects that are easy to miss (the fake does them): JSON responses carry
``Content-Type: application/json`` without a charset (discord.py compares the header
exactly); a 429 needs a ``Via`` header or discord.py takes it for a Cloudflare ban and
raises instead of waiting. ``Client(guild_ready_timeout=0.1)`` keeps READY from waiting the
default 2 s for more GUILD_CREATEs, and an empty ``before_identify_hook`` override keeps a
re-IDENTIFY (after an invalidated session) from sleeping 5 s.

Usage::

    async with DiscordFake(token="t0k3n", app_id=1001) as fake:
        alice = fake.user(2001, "alice")
        fake.guild(3001, "Club", channels=[(3101, "general")], members=[alice], admins=[alice])
        with fake.point_discord_py():
            await client.login("t0k3n")
            task = asyncio.create_task(client.connect())
            await client.wait_until_ready()
            await tree.sync()
            inter = await fake.slash(alice, "checkin", options={"score": 4})
            reply = await fake.response(inter)          # first callback, e.g. type 4
            assert reply.ephemeral and reply.elapsed < 3
            await fake.click(alice, fake.dm_messages(alice)[-1], "checkin:4")
            await client.close()
            await task

Realistic details tests may rely on: the bot's own messages come back as MESSAGE_CREATE
(non-ephemeral ones); guild message content is blanked without the MESSAGE_CONTENT intent
unless the bot is mentioned, DM content never is; a session stays resumable (events are kept
for replay) unless its socket was closed with 1000/1001 - note discord.py 2.7's
``Client.close()`` races its own poll loop and in practice closes with 4000, so a closed
client's session stays resumable, as it would on Discord; an interaction not answered within
``interaction_deadline`` seconds (3 by default, None to disable) is gone (404, code 10062);
the first follow-up after a deferred ("thinking") response fills that response in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import re
import secrets
import socket
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

try:  # discord.py asks for zstd-stream only when this import works, so must we
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

API_VERSION = 10
API_PREFIX = f"/api/v{API_VERSION}"
GATEWAY_PATH = "/gateway"
RESUME_GATEWAY_PATH = "/gateway/resume"
DISCORD_EPOCH_MS = 1420070400000

# Discord's limits, named once (https://discord.com/developers/docs).
MAX_CONTENT_LENGTH = 2000
MAX_EMBEDS = 10
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_CUSTOM_ID_LENGTH = 100
MAX_BUTTON_LABEL_LENGTH = 80
MAX_SELECT_OPTIONS = 25
MAX_AUTOCOMPLETE_CHOICES = 25
MAX_COMMAND_OPTIONS = 25
MAX_COMMAND_NAME_LENGTH = 32
MAX_COMMAND_DESCRIPTION_LENGTH = 100
INTERACTION_DEADLINE_SECONDS = 3.0
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Mentions in message content (a zero-width space after "@" is how one is written literally).
MENTION_TYPES = frozenset({"everyone", "users", "roles"})
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)")
USER_MENTION = re.compile(r"<@!?([0-9]+)>")
ROLE_MENTION = re.compile(r"<@&([0-9]+)>")

# Gateway intents (bit flags sent in IDENTIFY).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Application flags that say "this privileged intent is enabled" (limited = unverified bot).
APP_FLAG_PRESENCE_LIMITED = 1 << 13
APP_FLAG_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_MESSAGE_CONTENT_LIMITED = 1 << 19

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Gateway close codes.
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014
# A client closing with these ends its session; any other code keeps it resumable.
SESSION_ENDING_CLOSE_CODES = (1000, 1001)

# Interaction and callback types.
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9
CALLBACKS_ALLOWED = {
    INTERACTION_APPLICATION_COMMAND: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_MODAL,
    },
    INTERACTION_MESSAGE_COMPONENT: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_UPDATE_MESSAGE,
        CALLBACK_UPDATE_MESSAGE,
        CALLBACK_MODAL,
    },
    INTERACTION_AUTOCOMPLETE: {CALLBACK_AUTOCOMPLETE_RESULT},
}

# Message flags and types.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_IS_COMPONENTS_V2 = 1 << 15
MESSAGE_TYPE_DEFAULT = 0
MESSAGE_TYPE_CHAT_INPUT_COMMAND = 20

# Channel and component types.
CHANNEL_GUILD_TEXT = 0
CHANNEL_DM = 1
COMPONENT_ACTION_ROW = 1
COMPONENT_BUTTON = 2
COMPONENT_STRING_SELECT = 3
BUTTON_STYLE_LINK = 5
BUTTON_STYLE_PREMIUM = 6

# Command option types.
OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_NUMBER = 10

# Permissions.
PERMISSION_ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = (
    (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 31)  # use application commands
)
# Discord reports every permission bit for an administrator, not just bit 3.
ALL_PERMISSIONS = (1 << 52) - 1

COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")

T = TypeVar("T")


def snowflake_time_ms(snowflake: int) -> int:
    """Return the Unix time in milliseconds encoded in a Discord snowflake."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class _SnowflakeFactory:
    """Increasing snowflakes whose timestamps are now, so discord.py's created_at is sane."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


# ---------------------------------------------------------------------------- model


@dataclass
class FakeUser:
    """A Discord user the fake knows about (a person, or the bot itself)."""

    id: int
    name: str
    bot: bool = False
    # The language of the person's Discord app: interactions carry it as `locale`.
    locale: str = "en-US"

    def payload(self) -> dict[str, Any]:
        """Return the user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class FakeChannel:
    """A guild text channel or a DM channel."""

    id: int
    name: str
    type: int = CHANNEL_GUILD_TEXT
    guild_id: int | None = None
    recipient: FakeUser | None = None
    position: int = 0

    def payload(self) -> dict[str, Any]:
        """Return the channel object as Discord sends it."""
        if self.type == CHANNEL_DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": CHANNEL_DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.payload()],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass
class FakeGuild:
    """A guild (server) with text channels, members, an @everyone and an Admin role."""

    id: int
    name: str
    channels: list[FakeChannel]
    members: list[FakeUser]
    admin_ids: set[int]
    admin_role_id: int
    owner_id: int
    joined_at: str = field(default_factory=_now_iso)

    def permissions(self, user: FakeUser) -> int:
        """Return the user's guild-wide permission bits as Discord computes them."""
        return ALL_PERMISSIONS if user.id in self.admin_ids else EVERYONE_PERMISSIONS

    def roles_payload(self) -> list[dict[str, Any]]:
        """Return the guild's roles as Discord sends them."""
        base = {
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return [
            base
            | {"id": str(self.id), "name": "@everyone", "position": 0}
            | {"permissions": str(EVERYONE_PERMISSIONS)},
            base
            | {"id": str(self.admin_role_id), "name": "Admin", "position": 1}
            | {"permissions": str(EVERYONE_PERMISSIONS | PERMISSION_ADMINISTRATOR)},
        ]

    def member_payload(self, user: FakeUser, *, with_user: bool = True) -> dict[str, Any]:
        """Return the guild member object for a user."""
        data: dict[str, Any] = {
            "roles": [str(self.admin_role_id)] if user.id in self.admin_ids else [],
            "nick": None,
            "avatar": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = user.payload()
        return data

    def payload(self) -> dict[str, Any]:
        """Return the GUILD_CREATE object (channels, members and roles included)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": self.joined_at,
            "features": [],
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_flags": 0,
            "roles": self.roles_payload(),
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels],
            "members": [self.member_payload(u) for u in self.members],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class Attachment:
    """A file attached to a message, with the bytes the bot uploaded."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str
    description: str | None = None

    def payload(self) -> dict[str, Any]:
        """Return the attachment object as Discord sends it."""
        out: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            out["content_type"] = self.content_type
        if self.description:
            out["description"] = self.description
        return out


@dataclass
class Message:
    """A message in a channel, written by a person (inputs) or by the bot."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    components: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = MESSAGE_TYPE_DEFAULT
    via: str = "rest"  # rest | interaction | followup | gateway (a person's input)
    interaction: Interaction | None = None
    timestamp: str = field(default_factory=_now_iso)
    edited_timestamp: str | None = None
    edits: int = 0
    deleted: bool = False
    # The allowed_mentions the bot sent with it (None: none sent, so every mention notifies).
    allowed_mentions: dict[str, Any] | None = None

    @property
    def pings(self) -> set[str]:
        """Who this message notified: "everyone", "user:ID", "role:ID" (see pings())."""
        return pings(self.content, self.allowed_mentions)

    @property
    def ephemeral(self) -> bool:
        """Whether only the interacting user can see this message."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred "is thinking..." response not yet filled in."""
        return bool(self.flags & FLAG_LOADING)

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Yield every component, descending into action rows and containers."""
        stack = list(reversed(self.components))
        while stack:
            comp = stack.pop()
            yield comp
            stack.extend(reversed(comp.get("components", [])))
            if isinstance(comp.get("accessory"), dict):
                stack.append(comp["accessory"])

    @property
    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, in display order."""
        return [c["custom_id"] for c in self.iter_components() if "custom_id" in c]

    @property
    def button_labels(self) -> list[str]:
        """Every button label on the message, in display order."""
        return [
            c.get("label", "") for c in self.iter_components() if c.get("type") == COMPONENT_BUTTON
        ]

    def component(self, custom_id: str) -> dict[str, Any]:
        """Return the component with this custom_id, or raise LookupError."""
        for comp in self.iter_components():
            if comp.get("custom_id") == custom_id:
                return comp
        raise LookupError(f"no component {custom_id!r} on message {self.id}: {self.custom_ids}")

    def payload(self) -> dict[str, Any]:
        """Return the message object as Discord sends it."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        inter = self.interaction
        if inter is not None:
            data["webhook_id"] = str(inter.application_id)
            data["application_id"] = str(inter.application_id)
            meta: dict[str, Any] = {
                "id": str(inter.id),
                "type": inter.type,
                "user": inter.user.payload(),
                "authorizing_integration_owners": inter.integration_owners(),
            }
            if inter.message is not None:
                meta["interacted_message_id"] = str(inter.message.id)
            data["interaction_metadata"] = meta
        return data


@dataclass
class InteractionResponse:
    """One answer the bot gave to an interaction: a callback, a follow-up or an edit."""

    kind: str  # callback | followup | edit_original | delete_original | edit_followup
    type: int | None  # the callback type for kind == "callback"
    data: dict[str, Any]
    flags: int
    elapsed: float  # seconds between dispatching the interaction and this answer
    message: Message | None = None

    @property
    def ephemeral(self) -> bool:
        """Whether the answer (or the message it produced) is ephemeral."""
        if self.message is not None:
            return self.message.ephemeral
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def content(self) -> str | None:
        """The text of the produced message, or of the payload when there is none."""
        if self.message is not None:
            return self.message.content
        return self.data.get("content")


@dataclass
class Interaction:
    """An interaction the fake dispatched (slash command, autocomplete, component click)."""

    id: int
    token: str
    type: int
    application_id: int
    user: FakeUser
    guild_id: int | None
    channel_id: int
    data: dict[str, Any]
    dispatched_at: float
    message: Message | None = None  # the clicked message, for component interactions
    responses: list[InteractionResponse] = field(default_factory=list)
    original: Message | None = None  # the message created by a type 4/5 callback
    acknowledged: bool = False

    @property
    def callback(self) -> InteractionResponse | None:
        """The initial callback (there is at most one), or None."""
        return next((r for r in self.responses if r.kind == "callback"), None)

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """The autocomplete choices the bot answered with, or None."""
        cb = self.callback
        if cb is None or cb.type != CALLBACK_AUTOCOMPLETE_RESULT:
            return None
        return list(cb.data.get("choices", []))

    def integration_owners(self) -> dict[str, str]:
        """Who installed the app for this interaction: guild install (0) or user install (1)."""
        if self.guild_id is not None:
            return {"0": str(self.guild_id)}
        return {"1": str(self.user.id)}


@dataclass
class RecordedRequest:
    """One REST request the fake received, with its parsed body and the status it answered."""

    method: str
    path: str  # below the API prefix, e.g. "/channels/42/messages"
    route: str | None  # the template, e.g. "/channels/{channel_id}/messages"; None if unknown
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    status: int = 0
    at: float = 0.0

    @property
    def key(self) -> str:
        """The route as "METHOD /template", the form throttle() takes."""
        return f"{self.method} {self.route}"


@dataclass
class GatewayConnection:
    """One websocket connection to the fake gateway."""

    path: str
    query: dict[str, str]
    compress: str | None
    session_id: str | None = None
    identified: bool = False
    resumed: bool = False
    invalidated: bool = False
    close_code: int | None = None  # the code the client's close frame carried
    server_close_code: int | None = None  # set when the fake closed it (4004, 4014, ...)
    heartbeats: int = 0


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    conn: _Connection | None = None
    alive: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Throttle:
    remaining: int
    retry_after: float
    route: str | None
    global_: bool


@dataclass
class _Body:
    json: Any
    files: dict[int, tuple[str, bytes, str | None]]


_BODY_KEY = web.RequestKey("fake_body", _Body)


class _Connection:
    """The server side of one gateway websocket: ordered, compressed sends."""

    def __init__(self, ws: web.WebSocketResponse, record: GatewayConnection) -> None:
        self.ws = ws
        self.record = record
        self.session: _Session | None = None
        self._lock = asyncio.Lock()
        self._deflate: Any = None
        self._zstd: Any = None
        if record.compress == "zlib-stream":
            self._deflate = zlib.compressobj()
        elif record.compress == "zstd-stream" and zstandard is not None:
            self._zstd = zstandard.ZstdCompressor().compressobj()

    async def send(self, payload: dict[str, Any]) -> bool:
        """Send one gateway payload; False when the socket is already gone."""
        raw = json.dumps(payload, separators=(",", ":")).encode()
        # One lock per socket: the deflate stream must see payloads in send order.
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                if self._deflate is not None:
                    frame = self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(frame)
                elif self._zstd is not None:
                    frame = self._zstd.compress(raw) + self._zstd.flush(
                        zstandard.COMPRESSOBJ_FLUSH_BLOCK
                    )
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(raw.decode())
            except (ConnectionError, RuntimeError):
                return False
        return True


class DiscordError(Exception):
    """An error answer: HTTP status plus Discord's JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


def _json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim, a charset breaks it.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _put_error(errors: dict[str, Any], path: Sequence[str | int], code: str, message: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _form_error(path: Sequence[str | int], code: str, message: str) -> DiscordError:
    errors: dict[str, Any] = {}
    _put_error(errors, path, code, message)
    return _invalid_form_body(errors)


def _too_long(limit: int) -> tuple[str, str]:
    return "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."


def _bad_length(low: int, high: int) -> tuple[str, str]:
    return "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."


def _invalid_form_body(errors: dict[str, Any]) -> DiscordError:
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def message_form_errors(payload: dict[str, Any]) -> dict[str, Any]:
    """Return Discord's nested form errors for a message payload ({} when it is valid)."""
    errors: dict[str, Any] = {}
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT_LENGTH:
        _put_error(errors, ["content"], *_too_long(MAX_CONTENT_LENGTH))
    embeds = payload.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        _put_error(errors, ["embeds"], *_too_long(MAX_EMBEDS))
    _check_allowed_mentions(payload.get("allowed_mentions"), errors)
    components = payload.get("components") or []
    v2 = bool((payload.get("flags") or 0) & FLAG_IS_COMPONENTS_V2)
    if not v2 and len(components) > MAX_ACTION_ROWS:
        _put_error(errors, ["components"], *_bad_length(1, MAX_ACTION_ROWS))
    seen: set[str] = set()
    for i, top in enumerate(components):
        path: list[str | int] = ["components", i]
        if top.get("type") == COMPONENT_ACTION_ROW:
            children = top.get("components") or []
            width = sum(MAX_ROW_WIDTH if c.get("type") != COMPONENT_BUTTON else 1 for c in children)
            if not children or len(children) > MAX_ROW_WIDTH:
                _put_error(errors, [*path, "components"], *_bad_length(1, MAX_ROW_WIDTH))
            elif width > MAX_ROW_WIDTH:
                _put_error(
                    errors,
                    [*path, "components"],
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            for j, child in enumerate(children):
                _check_component(child, [*path, "components", j], seen, errors)
        elif not v2:
            _put_error(
                errors,
                [*path, "type"],
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
        else:
            _check_component(top, path, seen, errors)
    return errors


def _check_allowed_mentions(allowed: Any, errors: dict[str, Any]) -> None:
    """Discord's checks of allowed_mentions: known parse types, no type both parsed and listed."""
    if allowed is None:
        return
    parse = allowed.get("parse") or []
    for i, kind in enumerate(parse):
        if kind not in MENTION_TYPES:
            _put_error(
                errors,
                ["allowed_mentions", "parse", i],
                "BASE_TYPE_CHOICES",
                f"Value must be one of {sorted(MENTION_TYPES)}.",
            )
    for kind in ("users", "roles"):
        if kind in parse and allowed.get(kind):
            _put_error(
                errors,
                ["allowed_mentions"],
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def pings(content: str, allowed_mentions: dict[str, Any] | None) -> set[str]:
    """Who a message notifies, as Discord decides it: "everyone", "user:ID" and "role:ID".

    Without allowed_mentions every mention in the content notifies (@everyone and @here too);
    with it, only the parsed types and the users and roles it lists.
    """
    found = {"everyone" for _ in EVERYONE_MENTION.finditer(content)}
    found |= {f"user:{m[1]}" for m in USER_MENTION.finditer(content)}
    found |= {f"role:{m[1]}" for m in ROLE_MENTION.finditer(content)}
    if allowed_mentions is None:
        return found
    parse = set(allowed_mentions.get("parse") or [])
    listed = {f"user:{u}" for u in allowed_mentions.get("users") or []}
    listed |= {f"role:{r}" for r in allowed_mentions.get("roles") or []}
    return {
        p
        for p in found
        if p in listed
        or (p == "everyone" and "everyone" in parse)
        or (p.startswith("user:") and "users" in parse)
        or (p.startswith("role:") and "roles" in parse)
    }


def _check_component(
    comp: dict[str, Any], path: list[str | int], seen: set[str], errors: dict[str, Any]
) -> None:
    custom_id = comp.get("custom_id")
    if custom_id is not None:
        if len(custom_id) > MAX_CUSTOM_ID_LENGTH:
            _put_error(errors, [*path, "custom_id"], *_too_long(MAX_CUSTOM_ID_LENGTH))
        if custom_id in seen:
            _put_error(
                errors,
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    if comp.get("type") == COMPONENT_BUTTON:
        label = comp.get("label")
        if label is not None and len(label) > MAX_BUTTON_LABEL_LENGTH:
            _put_error(errors, [*path, "label"], *_too_long(MAX_BUTTON_LABEL_LENGTH))
        style = comp.get("style")
        if style == BUTTON_STYLE_LINK and not comp.get("url"):
            _put_error(errors, [*path, "url"], "BASE_TYPE_REQUIRED", "This field is required")
        if style not in (BUTTON_STYLE_LINK, BUTTON_STYLE_PREMIUM) and not custom_id:
            _put_error(errors, [*path, "custom_id"], "BASE_TYPE_REQUIRED", "This field is required")
    select_options = comp.get("options") or []
    if comp.get("type") == COMPONENT_STRING_SELECT and len(select_options) > MAX_SELECT_OPTIONS:
        _put_error(errors, [*path, "options"], *_bad_length(1, MAX_SELECT_OPTIONS))
    for k, child in enumerate(comp.get("components") or []):
        _check_component(child, [*path, "components", k], seen, errors)
    if isinstance(comp.get("accessory"), dict):
        _check_component(comp["accessory"], [*path, "accessory"], seen, errors)


def command_form_errors(commands: list[dict[str, Any]]) -> dict[str, Any]:
    """Return Discord's form errors for a bulk command overwrite ({} when it is valid)."""
    errors: dict[str, Any] = {}
    names: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        name = cmd.get("name", "")
        kind = cmd.get("type", 1)
        if kind == 1 and (not COMMAND_NAME_RE.match(name) or name != name.lower()):
            _put_error(
                errors,
                [i, "name"],
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        if (name, kind) in names:
            _put_error(
                errors,
                [i, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        names.add((name, kind))
        if kind == 1:
            description = cmd.get("description", "")
            if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION_LENGTH:
                _put_error(
                    errors, [i, "description"], *_bad_length(1, MAX_COMMAND_DESCRIPTION_LENGTH)
                )
        _check_options(cmd.get("options") or [], [i, "options"], errors)
    return errors


def _check_options(options: list[dict[str, Any]], path: list[str | int], errors: dict) -> None:
    if len(options) > MAX_COMMAND_OPTIONS:
        _put_error(errors, path, *_too_long(MAX_COMMAND_OPTIONS))
    optional_seen = False
    for j, opt in enumerate(options):
        if opt.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP):
            _check_options(opt.get("options") or [], [*path, j, "options"], errors)
            continue
        if not 1 <= len(opt.get("description", "")) <= MAX_COMMAND_DESCRIPTION_LENGTH:
            _put_error(
                errors, [*path, j, "description"], *_bad_length(1, MAX_COMMAND_DESCRIPTION_LENGTH)
            )
        if opt.get("required"):
            if optional_seen:
                _put_error(
                    errors,
                    [*path, j, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True


# ---------------------------------------------------------------------------- the fake


@contextlib.contextmanager
def point_discord_py(api_base: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at these URLs, restoring on exit."""
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


class DiscordFake:
    """Discord's REST API and gateway on 127.0.0.1, scriptable from a test."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        app_id: int = 1_000_000_000_000_001,
        bot_name: str = "si-checkin",
        heartbeat_interval: float = 1.0,
        interaction_deadline: float | None = INTERACTION_DEADLINE_SECONDS,
        privileged_intents: int = PRIVILEGED_INTENTS,
    ) -> None:
        self.token = token
        self.app_id = app_id
        self.bot = FakeUser(app_id, bot_name, bot=True)
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.privileged_intents = privileged_intents

        self.requests: list[RecordedRequest] = []
        self.connections: list[GatewayConnection] = []
        self.interactions: dict[int, Interaction] = {}
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}

        self._next_id = _SnowflakeFactory()
        self._messages: dict[int, Message] = {}
        self._history: dict[int, list[Message]] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._closed_dms: set[int] = set()
        self._left_guilds: set[int] = set()
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._throttles: list[_Throttle] = []
        self._sessions: dict[str, _Session] = {}
        self._conns: set[_Connection] = set()
        self._by_token: dict[str, Interaction] = {}
        self._changed = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> DiscordFake:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start serving on a free loopback port."""
        app = web.Application(middlewares=[self._middleware])
        api = API_PREFIX
        r = app.router
        r.add_get(GATEWAY_PATH, self._gateway)
        r.add_get(RESUME_GATEWAY_PATH, self._gateway)
        r.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._get_attachment)
        r.add_get(api + "/gateway", self._get_gateway)
        r.add_get(api + "/gateway/bot", self._get_gateway_bot)
        r.add_get(api + "/users/@me", self._get_me)
        r.add_post(api + "/users/@me/channels", self._create_dm)
        r.add_get(api + "/users/{user_id}", self._get_user)
        r.add_get(api + "/oauth2/applications/@me", self._get_application)
        r.add_get(api + "/applications/@me", self._get_application)
        cmds = api + "/applications/{application_id}/commands"
        gcmds = api + "/applications/{application_id}/guilds/{guild_id}/commands"
        r.add_get(cmds, self._get_commands)
        r.add_put(cmds, self._put_commands)
        r.add_get(gcmds, self._get_commands)
        r.add_put(gcmds, self._put_commands)
        r.add_get(api + "/channels/{channel_id}", self._get_channel)
        r.add_post(api + "/channels/{channel_id}/typing", self._typing)
        r.add_post(api + "/channels/{channel_id}/messages", self._create_message)
        msg = api + "/channels/{channel_id}/messages/{message_id}"
        r.add_get(msg, self._get_message)
        r.add_patch(msg, self._edit_message)
        r.add_delete(msg, self._delete_message)
        r.add_post(api + "/interactions/{interaction_id}/{token}/callback", self._callback)
        hook = api + "/webhooks/{webhook_id}/{token}"
        r.add_post(hook, self._execute_webhook)
        r.add_get(hook + "/messages/{message_id}", self._get_webhook_message)
        r.add_patch(hook + "/messages/{message_id}", self._edit_webhook_message)
        r.add_delete(hook + "/messages/{message_id}", self._delete_webhook_message)
        r.add_get(api + "/guilds/{guild_id}", self._get_guild)
        r.add_get(api + "/guilds/{guild_id}/channels", self._get_guild_channels)
        r.add_get(api + "/guilds/{guild_id}/roles", self._get_roles)
        r.add_get(api + "/guilds/{guild_id}/members/{user_id}", self._get_member)

        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Close every gateway socket and stop serving."""
        for conn in list(self._conns):
            await self._refuse(conn, code=1001, message=b"fake shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def http_base(self) -> str:
        """The fake's root URL, e.g. "http://127.0.0.1:PORT"."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What discord.http.Route.BASE must be, e.g. "http://127.0.0.1:PORT/api/v10"."""
        return self.http_base + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The gateway URL to connect to (GET /gateway/bot answers with it)."""
        return f"ws://127.0.0.1:{self._port}{GATEWAY_PATH}"

    @property
    def resume_gateway_url(self) -> str:
        """The URL READY names for resuming, a distinct path so tests can tell it apart."""
        return f"ws://127.0.0.1:{self._port}{RESUME_GATEWAY_PATH}"

    def point_discord_py(self) -> contextlib.AbstractContextManager[None]:
        """Point discord.py at this fake for the duration of a with block."""
        return point_discord_py(self.api_base, self.gateway_url)

    # ------------------------------------------------------------------ world setup

    def user(self, uid: int, name: str | None = None, *, locale: str | None = None) -> FakeUser:
        """Return the user with this id, creating (or renaming) them; `locale` is their app's
        language ("en-US" unless given)."""
        found = self.users.get(uid)
        if found is None:
            found = self.users[uid] = FakeUser(uid, name or f"user{uid}")
        elif name is not None:
            found.name = name
        if locale is not None:
            found.locale = locale
        return found

    def guild(
        self,
        gid: int,
        name: str,
        *,
        channels: Sequence[int | tuple[int, str]] = (),
        members: Sequence[FakeUser | int] = (),
        admins: Sequence[FakeUser | int] = (),
        announce: bool = True,
    ) -> FakeGuild:
        """Create a guild with text channels and members; admins get the Admin role.

        With announce=False a connected bot is not told (no GUILD_CREATE): its channels exist
        but are not in discord.py's cache, as for a guild served by another shard.
        """
        admin_users = [self._user(a) for a in admins]
        people = [self._user(m) for m in members]
        people += [a for a in admin_users if a not in people]
        chans = []
        for pos, spec in enumerate(channels or [(self._next_id(), "general")]):
            cid, cname = spec if isinstance(spec, tuple) else (spec, f"channel-{spec}")
            chan = FakeChannel(cid, cname, CHANNEL_GUILD_TEXT, gid, position=pos)
            self.channels[cid] = chan
            chans.append(chan)
        guild = FakeGuild(
            id=gid,
            name=name,
            channels=chans,
            members=[self.bot, *people],
            admin_ids={a.id for a in admin_users},
            admin_role_id=self._next_id(),
            owner_id=admin_users[0].id if admin_users else self.bot.id,
        )
        self.guilds[gid] = guild
        for session in self._live_sessions() if announce else ():
            if session.intents & INTENT_GUILDS:
                # A guild joined while connected arrives as GUILD_CREATE, like a real join.
                task = asyncio.get_running_loop().create_task(
                    self._send_event(session, "GUILD_CREATE", guild.payload())
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        return guild

    async def remove_bot(self, guild: FakeGuild | int) -> None:
        """The bot is kicked from a guild: GUILD_DELETE (without "unavailable", so not an
        outage), and from then on its channels refuse the bot with 403, code 50001."""
        g = self._guild(guild)
        self._left_guilds.add(g.id)
        g.members = [m for m in g.members if m.id != self.bot.id]
        await self._broadcast("GUILD_DELETE", {"id": str(g.id)}, INTENT_GUILDS, required=False)

    async def delete_channel(self, channel: FakeChannel | int) -> None:
        """A guild channel is deleted: CHANNEL_DELETE, and from then on it is 404, code 10003."""
        chan = self._channel(channel)
        assert chan.guild_id is not None, "DM channels are not deleted this way"
        guild = self._guild(chan.guild_id)
        guild.channels = [c for c in guild.channels if c.id != chan.id]
        del self.channels[chan.id]
        await self._broadcast("CHANNEL_DELETE", chan.payload(), INTENT_GUILDS, required=False)

    def dm_channel(self, user: FakeUser | int) -> FakeChannel:
        """Return the user's DM channel with the bot (one stable id per person)."""
        person = self._user(user)
        chan = self._dm_channels.get(person.id)
        if chan is None:
            chan = FakeChannel(self._next_id(), "", CHANNEL_DM, None, recipient=person)
            self._dm_channels[person.id] = chan
            self.channels[chan.id] = chan
        return chan

    # ------------------------------------------------------------------ failure injection

    def close_dms(self, user: FakeUser | int) -> None:
        """Make messages to this person's DM channel fail with 403, code 50007."""
        self._closed_dms.add(self._user(user).id)

    def open_dms(self, user: FakeUser | int) -> None:
        """Undo close_dms()."""
        self._closed_dms.discard(self._user(user).id)

    def throttle(
        self,
        n: int = 1,
        retry_after: float = 0.5,
        route: str | None = None,
        global_: bool = False,
    ) -> None:
        """Answer the next n matching REST requests with 429 and Discord's rate-limit headers.

        route is "METHOD /template" or "/template" using Discord's placeholders, e.g.
        "POST /channels/{channel_id}/messages"; None matches every REST route.
        """
        self._throttles.append(_Throttle(n, retry_after, route, global_))

    # ------------------------------------------------------------------ inputs

    async def dm(self, user: FakeUser | int, text: str) -> Message:
        """A person writes text to the bot in their DM: MESSAGE_CREATE on the gateway."""
        person = self._user(user)
        chan = self.dm_channel(person)
        msg = self._store(Message(self._next_id(), chan.id, None, person, text, via="gateway"))
        await self._broadcast_message("MESSAGE_CREATE", msg, required=True)
        return msg

    async def channel_message(
        self, guild: FakeGuild | int, channel: FakeChannel | int, user: FakeUser | int, text: str
    ) -> Message:
        """A person writes text in a guild channel: MESSAGE_CREATE on the gateway."""
        g = self._guild(guild)
        chan = self._channel(channel)
        author = self._user(user)
        msg = self._store(Message(self._next_id(), chan.id, g.id, author, text, via="gateway"))
        await self._broadcast_message("MESSAGE_CREATE", msg, required=True)
        return msg

    async def slash(
        self,
        user: FakeUser | int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        guild: FakeGuild | int | None = None,
        channel: FakeChannel | int | None = None,
    ) -> Interaction:
        """A person runs a synced slash command ("checkin" or "reminder set") with options."""
        cmd, path, defs = self._command(name, guild)
        opts, resolved = self._typed_options(defs, options or {}, guild, focused=None)
        data = self._command_data(cmd, path, opts, resolved)
        return await self._interact(user, INTERACTION_APPLICATION_COMMAND, data, guild, channel)

    async def autocomplete(
        self,
        user: FakeUser | int,
        name: str,
        option: str,
        partial: str,
        options: dict[str, Any] | None = None,
        *,
        guild: FakeGuild | int | None = None,
        channel: FakeChannel | int | None = None,
    ) -> Interaction:
        """A person types partial into an autocomplete option of a synced command."""
        cmd, path, defs = self._command(name, guild)
        target = next((d for d in defs if d["name"] == option), None)
        if target is None or not target.get("autocomplete"):
            raise ValueError(f"/{name} has no autocomplete option {option!r}")
        opts, resolved = self._typed_options(defs, options or {}, guild, focused=option)
        opts.append({"name": option, "type": target["type"], "value": partial, "focused": True})
        data = self._command_data(cmd, path, opts, resolved)
        return await self._interact(user, INTERACTION_AUTOCOMPLETE, data, guild, channel)

    async def click(
        self,
        user: FakeUser | int,
        message: Message | int,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
    ) -> Interaction:
        """A person taps a button (or picks select values) on a message the bot sent."""
        msg = message if isinstance(message, Message) else self._messages[message]
        comp = msg.component(custom_id)
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; nobody can click it")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] != COMPONENT_BUTTON:
            data["values"] = list(values or [])
        return await self._interact(
            user,
            INTERACTION_MESSAGE_COMPONENT,
            data,
            msg.guild_id,
            msg.channel_id,
            message=msg,
        )

    async def reconnect(self, *, wait: bool = False, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Send op 7 RECONNECT on every live socket; with wait, until each session resumed."""
        conns = [c for c in self._conns if c.session is not None and c.session.alive]
        before = sum(1 for c in self.connections if c.resumed)
        for conn in conns:
            await conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})
        if wait:
            await self.wait_for(
                lambda: sum(1 for c in self.connections if c.resumed) >= before + len(conns),
                timeout,
            )

    async def invalidate_sessions(self) -> None:
        """Send op 9 (not resumable) on every live socket, forcing a fresh IDENTIFY."""
        for conn in list(self._conns):
            if conn.session is not None:
                conn.session.alive = False
                conn.record.invalidated = True
                await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})

    # ------------------------------------------------------------------ observations

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The global application commands as last synced (with ids)."""
        return list(self._global_commands)

    def guild_commands(self, guild: FakeGuild | int) -> list[dict[str, Any]]:
        """The guild's application commands as last synced."""
        return list(self._guild_commands.get(self._gid(guild), []))

    def messages(self, channel: FakeChannel | int) -> list[Message]:
        """The bot's messages in a channel (ephemeral ones included), oldest first."""
        return [m for m in self.history(channel) if m.author.id == self.bot.id]

    def history(self, channel: FakeChannel | int) -> list[Message]:
        """Every live message in a channel, people's and the bot's, oldest first."""
        cid = channel.id if isinstance(channel, FakeChannel) else channel
        return [m for m in self._history.get(cid, []) if not m.deleted]

    def dm_messages(self, user: FakeUser | int) -> list[Message]:
        """The bot's messages in this person's DM channel, oldest first."""
        return self.messages(self.dm_channel(user))

    def message(self, message_id: int) -> Message:
        """Return any message by id (deleted ones included)."""
        return self._messages[message_id]

    def interaction_responses(self, interaction: Interaction | int) -> list[InteractionResponse]:
        """Every answer to an interaction: its callback, follow-ups and edits, in order."""
        inter = self._interaction(interaction)
        return list(inter.responses)

    @property
    def heartbeats(self) -> int:
        """How many heartbeats the fake acknowledged over all connections."""
        return sum(c.heartbeats for c in self.connections)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        """The recorded requests for "METHOD /template" (or "/template", any method)."""
        return [r for r in self.requests if self._route_matches(route, r.method, r.route)]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """Wait until predicate() is truthy (re-checked on every change) and return it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = predicate()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"condition not met within {timeout}s: {predicate}") from None

    async def response(
        self,
        interaction: Interaction | int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain seconds knob reads best in tests
    ) -> InteractionResponse:
        """Wait for the interaction's initial callback and return it."""
        inter = self._interaction(interaction)
        return await self.wait_for(lambda: inter.callback, timeout)

    # ------------------------------------------------------------------ internals: lookups

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _user(self, user: FakeUser | int) -> FakeUser:
        return self.user(user.id if isinstance(user, FakeUser) else user)

    def _gid(self, guild: FakeGuild | int) -> int:
        return guild.id if isinstance(guild, FakeGuild) else guild

    def _guild(self, guild: FakeGuild | int) -> FakeGuild:
        return self.guilds[self._gid(guild)]

    def _channel(self, channel: FakeChannel | int) -> FakeChannel:
        return self.channels[channel.id if isinstance(channel, FakeChannel) else channel]

    def _interaction(self, interaction: Interaction | int) -> Interaction:
        return (
            interaction if isinstance(interaction, Interaction) else self.interactions[interaction]
        )

    def _store(self, msg: Message) -> Message:
        self._messages[msg.id] = msg
        self._history.setdefault(msg.channel_id, []).append(msg)
        self._notify()
        return msg

    @property
    def identified_shards(self) -> list[tuple[int, int]]:
        """(shard id, shard count) of every live session that identified as a shard."""
        return sorted(tuple(s.shard) for s in self._live_sessions() if s.shard)  # type: ignore[misc]

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.alive]

    @staticmethod
    def _route_matches(spec: str | None, method: str, route: str | None) -> bool:
        if spec is None:
            return True
        if " " in spec:
            return spec == f"{method} {route}"
        return spec == route

    # ------------------------------------------------------------------ internals: gateway

    async def _send_event(self, session: _Session, name: str, data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": OP_DISPATCH, "t": name, "s": session.seq, "d": data}
            # Kept for RESUME: a client that missed it while reconnecting gets it replayed.
            session.events.append(payload)
            if session.conn is not None:
                await session.conn.send(payload)
        self._notify()

    async def _broadcast(
        self, name: str, data: dict[str, Any], intent: int, required: bool
    ) -> None:
        sessions = [s for s in self._live_sessions() if intent == 0 or s.intents & intent]
        if required and not sessions:
            raise RuntimeError(f"no connected bot session receives {name}; is the client ready?")
        for session in sessions:
            await self._send_event(session, name, data)

    async def _broadcast_message(self, name: str, msg: Message, *, required: bool = False) -> None:
        if msg.ephemeral:
            return  # ephemeral messages never reach the gateway
        intent = INTENT_GUILD_MESSAGES if msg.guild_id is not None else INTENT_DIRECT_MESSAGES
        sessions = [s for s in self._live_sessions() if s.intents & intent]
        if required and not sessions:
            raise RuntimeError(f"no connected bot session receives {name}; check the intents")
        for session in sessions:
            data = msg.payload()
            if msg.guild_id is not None:
                data["member"] = self._guild(msg.guild_id).member_payload(
                    msg.author, with_user=False
                )
                visible = (
                    session.intents & INTENT_MESSAGE_CONTENT
                    or msg.author.id == self.bot.id
                    or f"<@{self.bot.id}>" in msg.content
                )
                if not visible:
                    data.update(content="", embeds=[], attachments=[], components=[])
            await self._send_event(session, name, data)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        record = GatewayConnection(
            path=request.path, query=dict(request.query), compress=request.query.get("compress")
        )
        self.connections.append(record)
        conn = _Connection(ws, record)
        self._conns.add(conn)
        self._notify()
        try:
            if request.query.get("encoding", "json") != "json":
                await self._refuse(conn, code=CLOSE_DECODE_ERROR, message=b"only json encoding")
                return ws
            hello = {"heartbeat_interval": int(self.heartbeat_interval * 1000)}
            await conn.send({"op": OP_HELLO, "d": hello, "s": None, "t": None})
            async for frame in ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    payload = json.loads(frame.data)
                except ValueError:
                    await self._refuse(
                        conn, code=CLOSE_DECODE_ERROR, message=b"Error while decoding payload."
                    )
                    break
                await self._on_gateway_payload(conn, payload)
        finally:
            self._conns.discard(conn)
            record.close_code = ws.close_code
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in SESSION_ENDING_CLOSE_CODES:
                    session.alive = False
            self._notify()
        return ws

    async def _on_gateway_payload(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            conn.record.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            self._notify()
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            if conn.session is None:
                await self._refuse(
                    conn, code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated."
                )
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(conn, data or {})
        else:
            await self._refuse(conn, code=CLOSE_UNKNOWN_OPCODE, message=b"Unknown opcode.")

    async def _refuse(self, conn: _Connection, *, code: int, message: bytes) -> None:
        conn.record.server_close_code = code
        await conn.ws.close(code=code, message=message)

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await self._refuse(
                conn, code=CLOSE_ALREADY_AUTHENTICATED, message=b"Already authenticated."
            )
            return
        if data.get("token") != self.token:
            await self._refuse(
                conn, code=CLOSE_AUTHENTICATION_FAILED, message=b"Authentication failed."
            )
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._refuse(conn, code=CLOSE_INVALID_INTENTS, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await self._refuse(
                conn, code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s)."
            )
            return
        session = _Session(id=secrets.token_hex(16), intents=intents, shard=data.get("shard"))
        self._sessions[session.id] = session
        session.conn = conn
        conn.session = session
        conn.record.session_id = session.id
        conn.record.identified = True
        ready: dict[str, Any] = {
            "v": API_VERSION,
            "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [
                {"id": str(g), "unavailable": True}
                for g in self.guilds
                if g not in self._left_guilds
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.app_id), "flags": self._application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send_event(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for guild in list(self.guilds.values()):
                if guild.id not in self._left_guilds:
                    await self._send_event(session, "GUILD_CREATE", guild.payload())

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        session = self._sessions.get(data.get("session_id") or "")
        if data.get("token") != self.token or session is None or not session.alive:
            conn.record.invalidated = True
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        seq = data.get("seq") or 0
        async with session.lock:
            # Attach and replay under the lock so no new event slips in between.
            session.conn = conn
            conn.session = session
            conn.record.session_id = session.id
            for event in session.events:
                if event["s"] > seq:
                    await conn.send(event)
            session.seq += 1
            resumed = {"op": OP_DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}}
            session.events.append(resumed)
            await conn.send(resumed)
        conn.record.resumed = True
        self._notify()

    async def _request_members(self, conn: _Connection, data: dict[str, Any]) -> None:
        if conn.session is None:
            await self._refuse(conn, code=CLOSE_NOT_AUTHENTICATED, message=b"Not authenticated.")
            return
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        members = []
        if guild is not None:
            wanted = {int(u) for u in data.get("user_ids") or []}
            members = [
                guild.member_payload(u) for u in guild.members if not wanted or u.id in wanted
            ]
        chunk: dict[str, Any] = {
            "guild_id": str(data.get("guild_id")),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._send_event(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _application_flags(self) -> int:
        flags = 0
        if self.privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= APP_FLAG_PRESENCE_LIMITED
        if self.privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= APP_FLAG_GUILD_MEMBERS_LIMITED
        if self.privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= APP_FLAG_MESSAGE_CONTENT_LIMITED
        return flags

    # ------------------------------------------------------------------ internals: interactions

    def _command(
        self, name: str, guild: FakeGuild | int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        """Find a synced command and walk "group sub" names down to the leaf options."""
        head, *rest = name.split()
        pool = list(self._global_commands)
        if guild is not None:
            pool = self._guild_commands.get(self._gid(guild), []) + pool
        cmd = next((c for c in pool if c["name"] == head and c.get("type", 1) == 1), None)
        if cmd is None:
            raise LookupError(
                f"/{head} is not a synced command; synced: {[c['name'] for c in pool]}"
            )
        path: list[dict[str, Any]] = []
        defs = cmd.get("options") or []
        for part in rest:
            sub = next(
                (
                    d
                    for d in defs
                    if d["name"] == part
                    and d["type"] in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if sub is None:
                raise LookupError(f"/{name}: no subcommand {part!r}")
            path.append(sub)
            defs = sub.get("options") or []
        return cmd, path, defs

    def _command_data(
        self,
        cmd: dict[str, Any],
        path: list[dict[str, Any]],
        options: list[dict[str, Any]],
        resolved: dict[str, Any],
    ) -> dict[str, Any]:
        # Subcommands nest: {"name": "group", "options": [{"name": "sub", "options": [...]}]}.
        for sub in reversed(path):
            options = [{"name": sub["name"], "type": sub["type"], "options": options}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": cmd.get("type", 1)}
        if options:
            data["options"] = options
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    def _typed_options(
        self,
        defs: list[dict[str, Any]],
        given: dict[str, Any],
        guild: FakeGuild | int | None,
        focused: str | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Type the given option values as Discord's client would, refusing what it would."""
        by_name = {d["name"]: d for d in defs}
        unknown = set(given) - set(by_name)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; the command has {list(by_name)}")
        missing = [
            d["name"]
            for d in defs
            if d.get("required") and d["name"] not in given and d["name"] != focused
        ]
        if missing:
            raise ValueError(f"missing required options {missing}")
        out: list[dict[str, Any]] = []
        resolved: dict[str, dict[str, Any]] = {}
        g = self._guild(guild) if guild is not None else None
        for name, value in given.items():
            if name == focused:
                continue
            d = by_name[name]
            kind = d["type"]
            out.append(
                {"name": name, "type": kind, "value": self._typed_value(d, value, g, resolved)}
            )
        return out, resolved

    def _typed_value(
        self, d: dict[str, Any], value: Any, guild: FakeGuild | None, resolved: dict[str, Any]
    ) -> Any:
        kind = d["type"]
        name = d["name"]
        if kind == OPTION_STRING:
            if not isinstance(value, str):
                raise TypeError(f"option {name!r} takes a string, not {value!r}")
            if not d.get("min_length", 0) <= len(value) <= d.get("max_length", 6000):
                raise ValueError(f"option {name!r}: length out of range")
        elif kind == OPTION_INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"option {name!r} takes an integer, not {value!r}")
        elif kind == OPTION_NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"option {name!r} takes a number, not {value!r}")
        elif kind == OPTION_BOOLEAN:
            if not isinstance(value, bool):
                raise TypeError(f"option {name!r} takes a boolean, not {value!r}")
        elif kind == OPTION_USER:
            person = self._user(value)
            resolved.setdefault("users", {})[str(person.id)] = person.payload()
            if guild is not None and person in guild.members:
                member = guild.member_payload(person, with_user=False)
                member["permissions"] = str(guild.permissions(person))
                resolved.setdefault("members", {})[str(person.id)] = member
            return str(person.id)
        elif kind == OPTION_CHANNEL:
            chan = self._channel(value)
            resolved.setdefault("channels", {})[str(chan.id)] = chan.payload() | {
                "permissions": str(EVERYONE_PERMISSIONS)
            }
            return str(chan.id)
        elif kind == OPTION_ROLE:
            if guild is None:
                raise ValueError("role options need a guild")
            role = next((r for r in guild.roles_payload() if int(r["id"]) == int(value)), None)
            if role is None:
                raise ValueError(f"no role {value} in guild {guild.id}")
            resolved.setdefault("roles", {})[role["id"]] = role
            return role["id"]
        else:
            raise NotImplementedError(f"option type {kind} is not supported by the fake")
        if kind in (OPTION_INTEGER, OPTION_NUMBER):
            low, high = d.get("min_value"), d.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                raise ValueError(f"option {name!r}: {value} is outside [{low}, {high}]")
        choices = d.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"option {name!r}: {value!r} is not one of the choices")
        return value

    async def _interact(
        self,
        user: FakeUser | int,
        kind: int,
        data: dict[str, Any],
        guild: FakeGuild | int | None,
        channel: FakeChannel | int | None,
        *,
        message: Message | None = None,
    ) -> Interaction:
        person = self._user(user)
        g = self._guild(guild) if guild is not None else None
        if channel is not None:
            chan = self._channel(channel)
        elif g is not None:
            chan = g.channels[0]
        else:
            chan = self.dm_channel(person)
        inter = Interaction(
            id=self._next_id(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=kind,
            application_id=self.app_id,
            user=person,
            guild_id=g.id if g else None,
            channel_id=chan.id,
            data=data,
            dispatched_at=asyncio.get_running_loop().time(),
            message=message,
        )
        self.interactions[inter.id] = inter
        self._by_token[inter.token] = inter
        payload: dict[str, Any] = {
            "id": str(inter.id),
            "application_id": str(self.app_id),
            "type": kind,
            "token": inter.token,
            "version": 1,
            "data": data,
            "channel_id": str(chan.id),
            "channel": chan.payload(),
            "locale": person.locale,
            "entitlements": [],
            "authorizing_integration_owners": inter.integration_owners(),
            "context": 0 if g else 1,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if g is not None:
            payload["guild_id"] = str(g.id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(g.id), "locale": "en-US", "features": []}
            member = g.member_payload(person)
            member["permissions"] = str(g.permissions(person))
            payload["member"] = member
            payload["app_permissions"] = str(g.permissions(self.bot))
        else:
            payload["user"] = person.payload()
            payload["app_permissions"] = str(EVERYONE_PERMISSIONS)
        if message is not None:
            payload["message"] = message.payload()
        # One interaction goes to one session: the newest connected one, else the newest
        # resumable one (it gets the event replayed when it resumes).
        sessions = self._live_sessions()
        if not sessions:
            raise RuntimeError("no connected bot session receives INTERACTION_CREATE")
        connected = [s for s in sessions if s.conn is not None]
        await self._send_event((connected or sessions)[-1], "INTERACTION_CREATE", payload)
        return inter

    def _elapsed(self, inter: Interaction) -> float:
        return asyncio.get_running_loop().time() - inter.dispatched_at

    # ------------------------------------------------------------------ internals: HTTP plumbing

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        info = request.match_info
        route = None
        if info.http_exception is None and info.route.resource is not None:
            route = info.route.resource.canonical[len(API_PREFIX) :]
        record = RecordedRequest(
            method=request.method,
            path=request.path[len(API_PREFIX) :],
            route=route,
            query=dict(request.query),
            json=None,
            files=[],
            at=asyncio.get_running_loop().time(),
        )
        self.requests.append(record)
        try:
            body = await self._read_body(request)
            record.json = body.json
            record.files = [(name, data) for name, data, _ in body.files.values()]
            response = await self._answer(request, handler, record)
        except DiscordError as err:
            response = _json_response(err.body, err.status)
        record.status = response.status
        self._notify()
        return response

    async def _answer(
        self, request: web.Request, handler: Callable, record: RecordedRequest
    ) -> web.StreamResponse:
        exc = request.match_info.http_exception
        if exc is not None:
            if exc.status == 405:
                raise DiscordError(405, 0, "405: Method Not Allowed")
            raise DiscordError(404, 0, "404: Not Found")
        throttled = self._take_throttle(record)
        if throttled is not None:
            return throttled
        # Webhook and interaction routes authenticate by the token in the URL.
        token_in_url = record.path.startswith(("/webhooks/", "/interactions/"))
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        if not token_in_url and record.route != "/gateway" and not authorized:
            raise DiscordError(401, 0, "401: Unauthorized")
        response = await handler(request)
        if response.status < 300:
            bucket = (
                secrets.token_hex(16)
                if record.route is None
                else str(hash(record.key) & 0xFFFFFFFF)
            )
            response.headers.update(
                {
                    "X-RateLimit-Limit": "50",
                    "X-RateLimit-Remaining": "49",
                    "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                    "X-RateLimit-Bucket": bucket,
                    "Via": "1.1 google",
                }
            )
        return response

    def _take_throttle(self, record: RecordedRequest) -> web.Response | None:
        for throttle in self._throttles:
            if throttle.remaining > 0 and self._route_matches(
                throttle.route, record.method, record.route
            ):
                throttle.remaining -= 1
                break
        else:
            return None
        retry = throttle.retry_after
        headers = {
            "Retry-After": str(math.ceil(retry)),
            "Via": "1.1 google",  # without it discord.py assumes a Cloudflare ban
        }
        if throttle.global_:
            headers |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        else:
            headers |= {
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                "X-RateLimit-Reset-After": f"{retry:.3f}",
                "X-RateLimit-Bucket": str(hash(record.key) & 0xFFFFFFFF),
                "X-RateLimit-Scope": "user",
            }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry,
            "global": throttle.global_,
        }
        if throttle.global_:
            body["code"] = 0
        return _json_response(body, 429, headers)

    async def _read_body(self, request: web.Request) -> _Body:
        if _BODY_KEY in request:
            return request[_BODY_KEY]
        body = _Body(None, {})
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not hasattr(part, "read"):
                    continue
                name = part.name or ""
                if name == "payload_json":
                    body.json = json.loads(await part.text())
                elif name.startswith("files[") and name.endswith("]"):
                    data = bytes(await part.read(decode=False))
                    body.files[int(name[6:-1])] = (
                        part.filename or "",
                        data,
                        part.headers.get("Content-Type"),
                    )
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body.json = json.loads(raw)
                except ValueError:
                    request[_BODY_KEY] = body
                    raise DiscordError(
                        400, 50109, "The request body contains invalid JSON."
                    ) from None
        request[_BODY_KEY] = body
        return body

    async def _json(self, request: web.Request) -> Any:
        return (await self._read_body(request)).json

    # ------------------------------------------------------------------ internals: messages

    def _apply(
        self,
        msg: Message,
        payload: dict[str, Any],
        files: dict[int, tuple[str, bytes, str | None]],
        *,
        editing: bool,
    ) -> None:
        """Write a create/edit payload onto a message, attachments and all."""
        if "content" in payload:
            msg.content = payload["content"] or ""
        if "allowed_mentions" in payload or not editing:
            msg.allowed_mentions = payload.get("allowed_mentions")
        if "embeds" in payload:
            msg.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            msg.components = list(payload["components"] or [])
        flags = payload.get("flags")
        if flags is not None:
            keep = FLAG_EPHEMERAL if editing else 0
            msg.flags = (msg.flags & keep) | (int(flags) & ~FLAG_LOADING)
        attachments = payload.get("attachments")
        if attachments is None and not editing:
            attachments = [{"id": i, "filename": f[0]} for i, f in sorted(files.items())]
        if attachments is not None:
            existing = {a.id: a for a in msg.attachments}
            new_list: list[Attachment] = []
            for spec in attachments:
                aid = int(spec["id"])
                if aid in files:
                    filename, data, ctype = files[aid]
                    att_id = self._next_id()
                    filename = spec.get("filename") or filename
                    new_list.append(
                        Attachment(
                            id=att_id,
                            filename=filename,
                            data=data,
                            content_type=ctype if ctype != "application/octet-stream" else None,
                            url=f"{self.http_base}/attachments/{msg.channel_id}/{att_id}/{filename}",
                            description=spec.get("description"),
                        )
                    )
                elif aid in existing:
                    new_list.append(existing[aid])
            msg.attachments = new_list
        if editing:
            msg.edits += 1
            msg.edited_timestamp = _now_iso()

    def _validate(
        self, payload: dict[str, Any], files: dict, *, creating: bool, nest: str | None = None
    ) -> None:
        errors = message_form_errors(payload)
        if errors:
            raise _invalid_form_body({nest: errors} if nest else errors)
        if creating and not (
            payload.get("content")
            or payload.get("embeds")
            or payload.get("components")
            or payload.get("sticker_ids")
            or payload.get("poll")
            or files
        ):
            raise DiscordError(400, 50006, "Cannot send an empty message")

    def _bot_message(
        self, channel: FakeChannel, payload: dict[str, Any], files: dict, **extra: Any
    ) -> Message:
        msg = Message(self._next_id(), channel.id, channel.guild_id, self.bot, **extra)
        self._apply(msg, payload, files, editing=False)
        msg.flags |= extra.get("flags", 0)
        return self._store(msg)

    def _channel_or_404(self, channel_id: str) -> FakeChannel:
        chan = self.channels.get(int(channel_id)) if channel_id.isdigit() else None
        if chan is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return chan

    def _message_or_404(self, channel: FakeChannel, message_id: str) -> Message:
        msg = self._messages.get(int(message_id)) if message_id.isdigit() else None
        if msg is None or msg.deleted or msg.channel_id != channel.id:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    # ------------------------------------------------------------------ REST handlers

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response(
            self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        )

    async def _get_user(self, request: web.Request) -> web.Response:
        uid = request.match_info["user_id"]
        person = self.users.get(int(uid)) if uid.isdigit() else None
        if person is None:
            raise DiscordError(404, 10013, "Unknown User")
        return _json_response(person.payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = FakeUser(self.app_id + 1, "owner")
        return _json_response(
            {
                "id": str(self.app_id),
                "name": self.bot.name,
                "icon": None,
                "description": "Daily pain check-ins (fake)",
                "summary": "",
                "type": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": self._application_flags(),
                "owner": owner.payload(),
                "team": None,
                "bot": self.bot.payload(),
                "tags": [],
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
            }
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = await self._json(request) or {}
        rid = str(body.get("recipient_id", ""))
        if not rid.isdigit() or int(rid) not in self.users:
            raise _form_error(
                ["recipient_id"], "NUMBER_TYPE_COERCE", f'Value "{rid}" is not snowflake.'
            )
        return _json_response(self.dm_channel(int(rid)).payload())

    async def _get_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        gid = request.match_info.get("guild_id")
        cmds = self._guild_commands.get(int(gid), []) if gid else self._global_commands
        return _json_response(cmds)

    async def _put_commands(self, request: web.Request) -> web.Response:
        self._check_app(request)
        body = await self._json(request)
        if not isinstance(body, list):
            raise _form_error([], "BASE_TYPE_ARRAY", "Must be an array.")
        errors = command_form_errors(body)
        if errors:
            raise _invalid_form_body(errors)
        gid = request.match_info.get("guild_id")
        old = self._guild_commands.get(int(gid), []) if gid else self._global_commands
        old_ids = {(c["name"], c.get("type", 1)): c["id"] for c in old}
        stored = []
        for cmd in body:
            kind = cmd.get("type", 1)
            item = {
                "id": old_ids.get((cmd["name"], kind)) or str(self._next_id()),
                "application_id": str(self.app_id),
                "version": str(self._next_id()),
                "type": kind,
                "name": cmd["name"],
                "name_localizations": cmd.get("name_localizations"),
                "description": cmd.get("description", ""),
                "description_localizations": cmd.get("description_localizations"),
                "default_member_permissions": cmd.get("default_member_permissions"),
                "dm_permission": cmd.get("dm_permission", True),
                "contexts": cmd.get("contexts"),
                "integration_types": cmd.get("integration_types", [0]),
                "nsfw": cmd.get("nsfw", False),
                "options": cmd.get("options") or [],
            }
            if gid:
                item["guild_id"] = gid
            stored.append(item)
        if gid:
            self._guild_commands[int(gid)] = stored
        else:
            self._global_commands = stored
        self._notify()
        return _json_response(stored)

    def _check_app(self, request: web.Request) -> None:
        if request.match_info["application_id"] != str(self.app_id):
            raise DiscordError(403, 50001, "Missing Access")

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json_response(self._channel_or_404(request.match_info["channel_id"]).payload())

    async def _typing(self, request: web.Request) -> web.Response:
        self._channel_or_404(request.match_info["channel_id"])
        return web.Response(status=204)

    async def _create_message(self, request: web.Request) -> web.Response:
        chan = self._channel_or_404(request.match_info["channel_id"])
        body = await self._read_body(request)
        payload = body.json or {}
        if chan.recipient is not None and chan.recipient.id in self._closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        if chan.guild_id in self._left_guilds:
            raise DiscordError(403, 50001, "Missing Access")
        self._validate(payload, body.files, creating=True)
        # Only SUPPRESS_EMBEDS (and components v2) may be set on a plain channel message.
        payload = payload | {
            "flags": (payload.get("flags") or 0) & (FLAG_SUPPRESS_EMBEDS | FLAG_IS_COMPONENTS_V2)
        }
        msg = self._bot_message(chan, payload, body.files)
        await self._broadcast_message("MESSAGE_CREATE", msg)
        return _json_response(msg.payload())

    async def _get_message(self, request: web.Request) -> web.Response:
        chan = self._channel_or_404(request.match_info["channel_id"])
        return _json_response(
            self._message_or_404(chan, request.match_info["message_id"]).payload()
        )

    async def _edit_message(self, request: web.Request) -> web.Response:
        chan = self._channel_or_404(request.match_info["channel_id"])
        msg = self._message_or_404(chan, request.match_info["message_id"])
        if msg.author.id != self.bot.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        body = await self._read_body(request)
        payload = body.json or {}
        self._validate(payload, body.files, creating=False)
        self._apply(msg, payload, body.files, editing=True)
        self._notify()
        await self._broadcast_message("MESSAGE_UPDATE", msg)
        return _json_response(msg.payload())

    async def _delete_message(self, request: web.Request) -> web.Response:
        chan = self._channel_or_404(request.match_info["channel_id"])
        msg = self._message_or_404(chan, request.match_info["message_id"])
        if msg.author.id != self.bot.id and chan.type == CHANNEL_DM:
            raise DiscordError(403, 50003, "Cannot execute action on a DM channel")
        await self._delete(msg)
        return web.Response(status=204)

    async def _delete(self, msg: Message) -> None:
        msg.deleted = True
        self._notify()
        if msg.ephemeral:
            return
        data: dict[str, Any] = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        intent = INTENT_GUILD_MESSAGES if msg.guild_id is not None else INTENT_DIRECT_MESSAGES
        await self._broadcast("MESSAGE_DELETE", data, intent, required=False)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        aid = int(request.match_info["attachment_id"])
        for msg in self._history.get(int(request.match_info["channel_id"]), []):
            for att in msg.attachments:
                if att.id == aid:
                    return web.Response(
                        body=att.data, content_type=att.content_type or "application/octet-stream"
                    )
        raise DiscordError(404, 0, "404: Not Found")

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request.match_info["guild_id"])
        data = guild.payload()
        for key in ("channels", "members", "threads", "presences", "voice_states"):
            data.pop(key)
        return _json_response(data)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request.match_info["guild_id"])
        return _json_response([c.payload() for c in guild.channels])

    async def _get_roles(self, request: web.Request) -> web.Response:
        return _json_response(self._guild_or_404(request.match_info["guild_id"]).roles_payload())

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self._guild_or_404(request.match_info["guild_id"])
        uid = request.match_info["user_id"]
        person = next((u for u in guild.members if str(u.id) == uid), None)
        if person is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return _json_response(guild.member_payload(person))

    def _guild_or_404(self, guild_id: str) -> FakeGuild:
        guild = self.guilds.get(int(guild_id)) if guild_id.isdigit() else None
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    # ------------------------------------------------------------------ interaction handlers

    async def _callback(self, request: web.Request) -> web.Response:
        iid = request.match_info["interaction_id"]
        inter = self.interactions.get(int(iid)) if iid.isdigit() else None
        if inter is None or inter.token != request.match_info["token"]:
            raise DiscordError(404, 10062, "Unknown interaction")
        elapsed = self._elapsed(inter)
        if self.interaction_deadline is not None and elapsed > self.interaction_deadline:
            raise DiscordError(404, 10062, "Unknown interaction")
        if inter.acknowledged:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body = await self._read_body(request)
        payload = body.json or {}
        kind = payload.get("type")
        if kind not in CALLBACKS_ALLOWED[inter.type]:
            raise _form_error(
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {kind} is not valid for interaction type {inter.type}.",
            )
        data = payload.get("data") or {}
        flags = int(data.get("flags") or 0)
        message: Message | None = None
        chan = self._channel(inter.channel_id)
        msg_type = (
            MESSAGE_TYPE_CHAT_INPUT_COMMAND
            if inter.type == INTERACTION_APPLICATION_COMMAND
            else MESSAGE_TYPE_DEFAULT
        )
        if kind == CALLBACK_CHANNEL_MESSAGE:
            self._validate(data, body.files, creating=True, nest="data")
            message = self._bot_message(
                chan, data, body.files, via="interaction", interaction=inter, type=msg_type
            )
            inter.original = message
        elif kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            message = self._bot_message(
                chan,
                {"flags": flags & FLAG_EPHEMERAL},
                {},
                via="interaction",
                interaction=inter,
                type=msg_type,
                flags=FLAG_LOADING,
            )
            inter.original = message
        elif kind == CALLBACK_UPDATE_MESSAGE:
            self._validate(data, body.files, creating=False, nest="data")
            message = inter.message
            assert message is not None
            self._apply(message, data, body.files, editing=True)
            inter.original = message
        elif kind == CALLBACK_DEFERRED_UPDATE_MESSAGE:
            # For a component, "@original" is the message the component sits on.
            inter.original = inter.message
        elif kind == CALLBACK_AUTOCOMPLETE_RESULT:
            choices = data.get("choices") or []
            if len(choices) > MAX_AUTOCOMPLETE_CHOICES:
                raise _form_error(["data", "choices"], *_too_long(MAX_AUTOCOMPLETE_CHOICES))
        inter.acknowledged = True
        inter.responses.append(InteractionResponse("callback", kind, data, flags, elapsed, message))
        self._notify()
        if message is not None and not message.ephemeral:
            event = "MESSAGE_UPDATE" if kind == CALLBACK_UPDATE_MESSAGE else "MESSAGE_CREATE"
            await self._broadcast_message(event, message)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(inter.id),
                "type": inter.type,
                "response_message_loading": kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            result["interaction"]["response_message_id"] = str(message.id)
            result["resource"] = {"type": kind, "message": message.payload()}
        elif kind != CALLBACK_AUTOCOMPLETE_RESULT:
            result["resource"] = {"type": kind}
        return _json_response(result)

    def _webhook_interaction(self, request: web.Request) -> Interaction:
        inter = self._by_token.get(request.match_info["token"])
        if (
            inter is None
            or request.match_info["webhook_id"] != str(self.app_id)
            or not inter.acknowledged
        ):
            raise DiscordError(404, 10015, "Unknown Webhook")
        return inter

    def _webhook_message(self, inter: Interaction, message_id: str) -> Message:
        if message_id == "@original":
            msg = inter.original
        else:
            msg = self._messages.get(int(message_id)) if message_id.isdigit() else None
            if msg is not None and msg.interaction is not inter:
                msg = None
        if msg is None or msg.deleted:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        body = await self._read_body(request)
        payload = body.json or {}
        self._validate(payload, body.files, creating=True)
        flags = int(payload.get("flags") or 0)
        original = inter.original
        if original is not None and original.loading:
            # Discord fills the "thinking" placeholder with the first follow-up; its
            # ephemerality was fixed when the response was deferred.
            ephemeral = original.flags & FLAG_EPHEMERAL
            self._apply(
                original, payload | {"flags": flags & ~FLAG_EPHEMERAL}, body.files, editing=False
            )
            original.flags = (original.flags & ~FLAG_LOADING) | ephemeral
            message = original
            event = "MESSAGE_UPDATE"
        else:
            chan = self._channel(inter.channel_id)
            message = self._bot_message(
                chan,
                payload,
                body.files,
                via="followup",
                interaction=inter,
                flags=flags & FLAG_EPHEMERAL,
            )
            event = "MESSAGE_CREATE"
        inter.responses.append(
            InteractionResponse("followup", None, payload, flags, self._elapsed(inter), message)
        )
        self._notify()
        await self._broadcast_message(event, message)
        if request.query.get("wait") in ("1", "true", "True"):
            return _json_response(message.payload())
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        return _json_response(
            self._webhook_message(inter, request.match_info["message_id"]).payload()
        )

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        message_id = request.match_info["message_id"]
        msg = self._webhook_message(inter, message_id)
        body = await self._read_body(request)
        payload = body.json or {}
        self._validate(payload, body.files, creating=False)
        self._apply(msg, payload, body.files, editing=True)
        msg.flags &= ~FLAG_LOADING
        kind = "edit_original" if message_id == "@original" else "edit_followup"
        inter.responses.append(
            InteractionResponse(
                kind, None, payload, int(payload.get("flags") or 0), self._elapsed(inter), msg
            )
        )
        self._notify()
        await self._broadcast_message("MESSAGE_UPDATE", msg)
        return _json_response(msg.payload())

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        inter = self._webhook_interaction(request)
        msg = self._webhook_message(inter, request.match_info["message_id"])
        inter.responses.append(
            InteractionResponse("delete_original", None, {}, 0, self._elapsed(inter), msg)
        )
        await self._delete(msg)
        return web.Response(status=204)


__all__ = [
    "Attachment",
    "DiscordError",
    "DiscordFake",
    "FakeChannel",
    "FakeGuild",
    "FakeUser",
    "GatewayConnection",
    "Interaction",
    "InteractionResponse",
    "Message",
    "RecordedRequest",
    "command_form_errors",
    "message_form_errors",
    "point_discord_py",
    "snowflake_time_ms",
]
