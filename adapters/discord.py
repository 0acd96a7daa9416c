"""Discord edge (discord.py 2.7): slash commands, payload buttons, DMs, and reminder sends.

Everything a person does becomes one `Incoming` for the engine; every `Reply` is rendered
within Discord's limits. Interactions are deferred at once and answered by follow-ups, so
the 3-second deadline holds however slow the database is. In a guild every personal answer
is ephemeral (only the person who ran the command or tapped the button sees it) or a DM;
only a club's totals are posted in its channel. A guild that removes the bot, or a deleted
channel, stops that channel's club.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import io
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord import app_commands

from adapters import base
from bot.actions import keeps_keyboard
from bot.app import App
from bot.commands import public_commands
from bot.commandspec import CommandSpec, Option
from bot.delivery import DeliveryError, RetryLater, TransientError, Unreachable
from bot.events import Address, Attachment, Button, ChatKind, Incoming, Kind, Reply, Role
from bot.handlers.clubs import bot_removed
from bot.parsing import suggest_timezones

PLATFORM = "discord"

# Discord's limits, named once (https://discord.com/developers/docs).
MESSAGE_LIMIT = 2000  # characters of content per message
ROW_WIDTH = 5  # buttons per action row
MAX_ROWS = 5  # action rows per message
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100  # characters of a button's custom_id (our payloads are ASCII)
FILES_LIMIT = 10  # attachments per message
LIMITS = base.PlatformLimits(
    text=MESSAGE_LIMIT,
    caption=MESSAGE_LIMIT,
    row_width=ROW_WIDTH,
    max_rows=MAX_ROWS,
    label=BUTTON_LABEL_LIMIT,
    payload=CUSTOM_ID_LIMIT,
    files_per_message=FILES_LIMIT,
)
DESCRIPTION_LIMIT = 100  # command and option descriptions
AUTOCOMPLETE_LIMIT = 25  # choices per autocomplete answer

# Forbidden / NotFound codes meaning "this person cannot get our messages": DMs closed or no
# shared server (50007), blocked (50278), the account or channel gone (10013, 10003).
UNREACHABLE_CODES = frozenset({50007, 50278, 10013, 10003})

# A personal reply meant for the DM (club tap advice, the red-flag screen) when the DM is
# closed: it is shown to the person alone, here, with how to open their DMs.
DMS_CLOSED = (
    "I couldn't send you a direct message, so here it is, visible only to you. To get these "
    "privately from now on, allow direct messages from this server's members (server name > "
    "Privacy Settings) or open a DM with me."
)

# Waits discord.py may sleep out inside one send; a longer 429 comes back as RetryLater so a
# reminder worker is never parked for minutes (discord.py refuses less than 30 s).
MAX_RATELIMIT_WAIT = 30.0
READY_TIMEOUT = 60.0  # login to READY; past this, start() fails instead of hanging
GUILD_READY_TIMEOUT = 2.0  # discord.py's default wait for GUILD_CREATEs after READY
DRAIN_TIMEOUT = 10.0  # stop() lets events in flight finish (and commit) this long

# The bot never pings anyone: no @everyone, role or user mention in anything it sends, whatever
# a display name or a note says. Set on the client (edits, follow-ups) and on every send.
NO_MENTIONS = discord.AllowedMentions.none()

# A button's custom_id is the engine's versioned payload ("1:s:4"); any version is routed to
# the engine, which answers a stale or forged one with "This button has expired".
PAYLOAD = re.compile(r"[0-9]+:.+")

log = logging.getLogger(__name__)


def intents() -> discord.Intents:
    """Guilds (for the cache discord.py expects) and DMs; no privileged intent.

    DM content arrives without the message_content intent, and guild chatter is not for us.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.dm_messages = True
    return wanted


# ---------------------------------------------------------------------------- rendering


@dataclass
class _Part:
    """One Discord message: content, a keyboard and files (at least one of them)."""

    content: str | None = None
    rows: list[list[Button]] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        """Arguments for Messageable.send / Webhook.send (files fresh on every call)."""
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            out["content"] = self.content
        if self.rows:
            out["view"] = Keyboard(self.rows)
        if self.files:
            out["files"] = [
                discord.File(io.BytesIO(a.data), filename=a.filename) for a in self.files
            ]
        return out


# A button's role as Discord colours it: going ahead stands out, what cannot be undone is red.
STYLES = {
    Role.ANSWER: discord.ButtonStyle.secondary,
    Role.CONFIRM: discord.ButtonStyle.primary,
    Role.CANCEL: discord.ButtonStyle.secondary,
    Role.DANGER: discord.ButtonStyle.danger,
}


class Keyboard(discord.ui.View):
    """Buttons whose custom_ids are the engine's payloads; taps come back via on_interaction."""

    def __init__(self, rows: Sequence[Sequence[Button]]) -> None:
        super().__init__(timeout=None)
        for index, row in enumerate(rows):
            for button in row:
                self.add_item(
                    discord.ui.Button(
                        label=button.label,
                        custom_id=button.action,
                        style=STYLES[button.role],
                        row=index,
                    )
                )

    def is_dispatchable(self) -> bool:
        # The payload alone routes a tap, before and after a restart; keeping this object in
        # discord.py's view store (one per reminder, forever) would only grow memory.
        return False


def plain(text: str) -> str:
    """Plain text as Discord shows it literally: no markdown, masked links or mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def render(reply: Reply, *, public: bool = False) -> list[_Part]:
    """A reply as Discord messages, cut to Discord's limits by adapters.base."""
    # Text for a whole channel may quote members (streak names): escaped, no display name can
    # format, link or mention anything there.
    return [
        _Part(content=plain(p.text) if public else p.text, rows=p.rows, files=p.files)
        for p in base.parts(reply, LIMITS)
    ]


# ---------------------------------------------------------------------------- slash commands


def _annotation(option: Option) -> Any:
    """The discord.py type of one catalogue option (typed, ranged, with choices)."""
    if option.kind == "int":
        if option.min_value is None and option.max_value is None:
            return int
        return app_commands.Range[int, option.min_value, option.max_value]
    if option.choices:
        return Literal[option.choices]
    return str


async def _zone_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """IANA zone names matching what the person typed so far."""
    return [
        app_commands.Choice(name=key, value=key)
        for key in suggest_timezones(current, limit=AUTOCOMPLETE_LIMIT)
    ]


AUTOCOMPLETERS = {"timezone": _zone_choices}


def command_text(spec: CommandSpec, values: dict[str, Any]) -> str:
    """A slash command as the text the engine parses: '/log 5 yesterday'."""
    args = [str(values[o.name]).strip() for o in spec.options if values.get(o.name) is not None]
    return " ".join([f"/{spec.name}", *(a for a in args if a)])


# ---------------------------------------------------------------------------- the adapter


class _Handlers:
    """Event handlers and the command tree, shared by the plain and the sharded client."""

    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float, **shards: Any) -> None:
        # We never join voice: without this, every start warns about missing voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(  # type: ignore[call-arg]
            intents=intents(),
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            **shards,
        )
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.error(adapter._on_tree_error)

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter._on_message(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.adapter._on_interaction(interaction)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.adapter._on_guild_remove(guild)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.adapter._stop_clubs([channel.id])


class _Client(_Handlers, discord.Client):
    """One gateway connection (small bots)."""


class _ShardedClient(_Handlers, discord.AutoShardedClient):
    """Several shards in this process (DISCORD_SHARD_COUNT / DISCORD_SHARD_IDS)."""


class DiscordAdapter:
    """The Discord platform edge: receives into the engine, renders replies, sends reminders."""

    platform = PLATFORM

    def __init__(self, app: App, *, guild_ready_timeout: float = GUILD_READY_TIMEOUT) -> None:
        self.app = app
        self.guild_ready_timeout = guild_ready_timeout
        self.client: _Client | _ShardedClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._saved_urls: tuple[str, yarl.URL] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Log in, connect, wait for READY and sync the slash commands."""
        token = self.app.settings.discord_token
        if token is None:
            raise RuntimeError("DISCORD_TOKEN is not set")
        self._point_at_settings()
        client = self.client = self._make_client()
        for spec in public_commands():
            client.tree.add_command(self._slash_command(spec))
        try:
            await client.login(token.get_secret_value())
            self._task = asyncio.create_task(client.connect(), name="discord-gateway")
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {self._task, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if self._task in done:
                    self._task.result()  # connect() ended before READY: raise its error
                raise TimeoutError("Discord gateway did not become ready")
            synced = await client.tree.sync()
            log.info("discord: ready, %d slash commands synced", len(synced))
        except BaseException:
            await self.stop()
            raise

    def _make_client(self) -> _Client | _ShardedClient:
        settings = self.app.settings
        ids = settings.shard_ids()
        if settings.discord_shard_count is None and ids is None:
            return _Client(self, self.guild_ready_timeout)
        return _ShardedClient(
            self,
            self.guild_ready_timeout,
            shard_count=settings.discord_shard_count,
            shard_ids=ids,
        )

    async def stop(self) -> None:
        """Let events in flight finish, then close the gateway and HTTP session."""
        await self.drain()
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        self._restore_urls()

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> None:  # noqa: ASYNC109
        """Wait (at most `timeout` seconds) until every event in flight has been answered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._inflight and loop.time() < deadline:
            await asyncio.wait(set(self._inflight), timeout=deadline - loop.time())

    def _point_at_settings(self) -> None:
        # discord.py reads its REST base and gateway from class attributes.
        settings = self.app.settings
        if not (settings.discord_api_url or settings.discord_gateway_url):
            return
        self._saved_urls = (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        )
        if settings.discord_api_url:
            discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
        if settings.discord_gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
                settings.discord_gateway_url
            )

    def _restore_urls(self) -> None:
        if self._saved_urls is not None:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = (
                self._saved_urls
            )
            self._saved_urls = None

    # ------------------------------------------------------------------ reminders (Sender)

    async def send(self, address: Address, reply: Reply) -> None:
        """Deliver a bot-initiated reply: to a channel (a club post) or a person's DM."""
        client = self.client
        if client is None or client.is_closed():
            raise TransientError("discord is not connected")
        async with _delivery_errors():
            channel = await self._destination(int(address.chat_id), reply)
            public = not isinstance(channel, discord.DMChannel)
            for part in render(reply, public=public):
                await channel.send(**part.kwargs())

    async def _destination(self, chat_id: int, reply: Reply) -> discord.abc.Messageable:
        """A channel we know, a club's channel we don't, else the DM with the user of that id."""
        assert self.client is not None
        # Snowflakes are unique across users and channels: a cached channel is that channel.
        channel = self.client.get_channel(chat_id)
        if isinstance(channel, discord.abc.Messageable):
            if reply.private and not isinstance(channel, discord.DMChannel):
                raise DeliveryError("a private reply addressed to a channel")
            return channel
        if reply.kind is Kind.CLUB_POST and not reply.private:
            # A club's channel not in our cache (another shard's guild, or one that removed
            # the bot while we were offline): posted blind, it works or fails as Unreachable.
            # Its id is never taken for a user id.
            return self.client.get_partial_messageable(chat_id)
        return await self._dm(chat_id)

    async def _dm(self, user_id: int) -> discord.DMChannel:
        """The DM with a person (discord.py caches it); Unreachable when there is no such user."""
        assert self.client is not None
        try:
            return await self.client.create_dm(discord.Object(user_id))
        except discord.HTTPException as exc:
            if exc.status not in (400, 404):
                raise
            raise Unreachable(f"discord {exc.status} code {exc.code}") from None

    # ------------------------------------------------------------------ events in

    async def _on_message(self, message: discord.Message) -> None:
        """A DM from a person: text to the engine, replies in the same DM."""
        assert self.client is not None
        if message.author.bot or message.guild is not None:
            return  # our own echoes, other bots, and guild chatter are not for us
        if not message.content:
            return
        inc = Incoming(
            platform=PLATFORM,
            user_id=str(message.author.id),
            chat_id=str(message.author.id),
            text=message.content,
            chat_kind=ChatKind.PRIVATE,
            display_name=message.author.display_name,
        )
        async with self._tracked():
            replies = await self.app.engine.handle(inc)
            try:
                for reply in replies:
                    await self._deliver_elsewhere_or(reply, inc, message.channel)
            except discord.HTTPException as exc:
                log.warning("discord: reply to a DM failed: %s %s", exc.status, exc.code)
            except DeliveryError as exc:
                log.warning("discord: reply to a DM failed: %s", type(exc).__name__)

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        """A button tap: commands and autocomplete go through the command tree instead."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if not PAYLOAD.fullmatch(custom_id):
            return
        async with self._tracked():
            try:
                await self._on_tap(interaction, custom_id)
            except discord.HTTPException as exc:
                log.warning("discord: answering a button tap failed: %s %s", exc.status, exc.code)

    async def _on_tap(self, interaction: discord.Interaction, payload: str) -> None:
        # Acknowledge first (no visible change yet): the deadline holds whatever follows.
        await interaction.response.defer()
        inc = self._incoming(interaction, action=payload)
        replies = await self.app.engine.handle(inc)
        message = interaction.message
        own = self._in_bot_dm(interaction) or (message is not None and message.flags.ephemeral)
        if message is not None and message.components and own and not keeps_keyboard(payload):
            await interaction.edit_original_response(view=None)
        await self._follow_up(interaction, inc, replies, placeholder=False)

    async def _on_guild_remove(self, guild: discord.Guild) -> None:
        """Kicked from a guild (not an outage: that is guild_unavailable): its clubs stop.

        discord.py hands us the guild as it was cached, channels and threads included.
        """
        await self._stop_clubs([c.id for c in guild.channels] + [t.id for t in guild.threads])

    async def _stop_clubs(self, channel_ids: Sequence[int]) -> None:
        """Deactivate the club of each channel the bot can no longer post in."""
        async with self._tracked():
            try:
                stopped = 0
                for channel_id in channel_ids:
                    stopped += await bot_removed(self.app.sessions, PLATFORM, str(channel_id))
                if stopped:
                    log.info("discord: %d club(s) stopped: channel gone or bot removed", stopped)
            except Exception as exc:
                # Type only; the next daily post fails as Unreachable and stops the club anyway.
                log.error("discord: stopping clubs failed: %s", type(exc).__name__)

    async def _on_slash(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        """A slash command: defer at once, run it as typed text, answer by follow-ups."""
        async with self._tracked():
            try:
                # Ephemeral "thinking..." everywhere but the bot's DM: whatever the engine
                # says next, nothing personal can end up in the channel.
                await interaction.response.defer(
                    ephemeral=not self._in_bot_dm(interaction), thinking=True
                )
                group = interaction.guild_id is not None and spec.group_ok
                inc = self._incoming(interaction, text=command_text(spec, values), group=group)
                replies = await self.app.engine.handle(inc)
                await self._follow_up(interaction, inc, replies, placeholder=True)
            except discord.HTTPException as exc:
                log.warning("discord: answering /%s failed: %s %s", spec.name, exc.status, exc.code)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Type only: arguments and tracebacks could quote what the person typed.
        log.error("discord: slash command failed: %s", type(error).__name__)

    # ------------------------------------------------------------------ helpers

    def _slash_command(self, spec: CommandSpec) -> app_commands.Command[Any, ..., Any]:
        """A typed discord.py command built from one catalogue entry."""

        async def callback(interaction: discord.Interaction, **values: Any) -> None:
            await self._on_slash(interaction, spec, values)

        params = [
            inspect.Parameter(
                "interaction",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=discord.Interaction,
            )
        ]
        for option in spec.options:
            params.append(
                inspect.Parameter(
                    option.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=_annotation(option),
                    default=inspect.Parameter.empty if option.required else None,
                )
            )
        # discord.py reads options from the callback's signature; ours come from the catalogue.
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            o.name: o.description[:DESCRIPTION_LIMIT] for o in spec.options
        }
        command: app_commands.Command[Any, ..., Any] = app_commands.Command(
            name=spec.name, description=spec.description[:DESCRIPTION_LIMIT], callback=callback
        )
        for option in spec.options:
            if option.autocomplete in AUTOCOMPLETERS:
                command.autocomplete(option.name)(AUTOCOMPLETERS[option.autocomplete])
        return command

    @staticmethod
    def _in_bot_dm(interaction: discord.Interaction) -> bool:
        return interaction.guild_id is None and bool(interaction.context.dm_channel)

    def _incoming(
        self,
        interaction: discord.Interaction,
        *,
        text: str | None = None,
        action: str | None = None,
        group: bool = False,
    ) -> Incoming:
        """An interaction as the engine's event.

        A command with a meaning for the whole channel (/club, /help) is a group event of that
        channel. Anything else run or tapped in a guild is answered only to the person
        (ephemeral), so it is a private conversation with them, addressed by their user id:
        their DM, where reminders go.
        """
        user = interaction.user
        perms = interaction.permissions
        admin = interaction.guild_id is not None and (perms.manage_guild or perms.manage_channels)
        return Incoming(
            platform=PLATFORM,
            user_id=str(user.id),
            chat_id=str(interaction.channel_id if group else user.id),
            text=text,
            action=action,
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            is_admin=admin,
            display_name=user.display_name,
            # The language of the person's Discord app: it suggests their time zone.
            locale=interaction.locale.value if interaction.locale else None,
        )

    async def _follow_up(
        self,
        interaction: discord.Interaction,
        inc: Incoming,
        replies: list[Reply],
        *,
        placeholder: bool,
    ) -> None:
        """Answer a deferred interaction: personal replies only to the person, in order.

        A group event's non-private replies (club totals) are meant for the channel and are
        posted there; `placeholder` is the deferred "thinking..." message a slash command
        left, filled by the first personal reply or removed when there is none.
        """
        in_dm = self._in_bot_dm(interaction)
        ephemeral = not in_dm
        filled = False
        dm_closed = False
        for reply in replies:
            # In a guild even the person's own address (their DM) is somewhere else.
            if reply.to is not None and (reply.to != inc.address or not in_dm):
                if not dm_closed:
                    try:
                        await self.send(reply.to, reply)
                        continue
                    except Unreachable:
                        dm_closed = filled = True
                        await interaction.followup.send(
                            DMS_CLOSED, ephemeral=True, allowed_mentions=NO_MENTIONS
                        )
                    except DeliveryError as exc:
                        log.warning("discord: a DM failed (%s); shown in place", type(exc).__name__)
                # Undeliverable by DM: still the person's alone, so it is shown only to them.
                reply = dataclasses.replace(reply, private=True, to=None)
            # A refusal or an error is the business of the person who caused it alone.
            public = (
                inc.chat_kind is ChatKind.GROUP
                and not reply.private
                and reply.kind is not Kind.ERROR
            )
            for part in render(reply, public=public):
                if public and interaction.channel is not None:
                    await interaction.channel.send(**part.kwargs())  # type: ignore[union-attr]
                else:
                    await interaction.followup.send(**part.kwargs(), ephemeral=ephemeral)
                    filled = True
        if placeholder and not filled:
            await interaction.delete_original_response()

    async def _deliver_elsewhere_or(
        self, reply: Reply, inc: Incoming, channel: discord.abc.Messageable
    ) -> None:
        if reply.to is not None and reply.to != inc.address:
            await self.send(reply.to, reply)
            return
        for part in render(reply):
            await channel.send(**part.kwargs())

    @contextlib.asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        """Count this event as in flight so stop() lets it finish."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._inflight.discard(task)


@contextlib.asynccontextmanager
async def _delivery_errors() -> AsyncIterator[None]:
    """Discord failures as the dispatcher's three outcomes."""
    try:
        yield
    except discord.RateLimited as exc:
        raise RetryLater(exc.retry_after) from None
    except (discord.Forbidden, discord.NotFound) as exc:
        if isinstance(exc, discord.Forbidden) or exc.code in UNREACHABLE_CODES:
            raise Unreachable(f"discord {exc.status} code {exc.code}") from None
        raise DeliveryError(f"discord {exc.status} code {exc.code}") from None
    except discord.HTTPException as exc:
        if exc.status == 429:
            raise RetryLater(_retry_after(exc)) from None
        if exc.status >= 500:
            raise TransientError(f"discord {exc.status}") from None
        # A 400 is our own bug (a limit broken): retrying the same message cannot help.
        raise DeliveryError(f"discord {exc.status} code {exc.code}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransientError(type(exc).__name__) from None


def _retry_after(exc: discord.HTTPException) -> float:
    try:
        return float(exc.response.headers.get("Retry-After", 1))
    except (TypeError, ValueError, AttributeError):
        return 1.0
