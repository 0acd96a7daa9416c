"""A real discord.py 2.7 client against the loopback Discord fake: proof the fake is faithful."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_server import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_UPDATE_MESSAGE,
    FLAG_EPHEMERAL,
    RESUME_GATEWAY_PATH,
    DiscordFake,
)

TOKEN = "test-bot-token"
APP_ID = 900_000_000_000_000_001
ALICE = 700_000_000_000_000_001
BOB = 700_000_000_000_000_002
CLUB = 800_000_000_000_000_001
GENERAL = 800_000_000_000_000_101
# Short enough to keep each connect quick; READY otherwise waits 2 s for more guilds.
GUILD_READY_TIMEOUT = 0.05


@pytest.fixture
async def fake() -> AsyncIterator[DiscordFake]:
    """A fake Discord with Alice, Bob and a club guild, discord.py pointed at it."""
    async with DiscordFake(token=TOKEN, app_id=APP_ID, heartbeat_interval=1.0) as server:
        server.user(ALICE, "alice")
        server.user(BOB, "bob")
        server.guild(
            CLUB, "Trail Runners", channels=[(GENERAL, "general")], members=[BOB], admins=[ALICE]
        )
        with server.point_discord_py():
            yield server
    await assert_no_leaked_tasks()


async def assert_no_leaked_tasks() -> None:
    """Every client and server task must be finished once a test has closed everything."""
    await asyncio.sleep(0)  # let just-cancelled tasks run their cleanup
    leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leaked == []


def intents() -> discord.Intents:
    """The intents the bot will use: DMs and guild messages with their content."""
    wanted = discord.Intents.default()
    wanted.message_content = True
    return wanted


class Bot(discord.Client):
    """A minimal client with a command tree, the shape the adapter will have."""

    def __init__(self, views: list[discord.ui.View] | None = None) -> None:
        super().__init__(intents=intents(), guild_ready_timeout=GUILD_READY_TIMEOUT)
        self.tree = app_commands.CommandTree(self)
        self.views = views or []
        self.inbox: list[discord.Message] = []
        self.got_message = asyncio.Event()

    async def setup_hook(self) -> None:
        """Register persistent views before connecting, as a restarted bot must."""
        for view in self.views:
            self.add_view(view)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Re-IDENTIFY at once; the default waits 5 s to respect Discord's identify limit."""

    async def on_message(self, message: discord.Message) -> None:
        """Keep what people write; the bot's own echoes are ignored like in production."""
        if message.author.id != self.user.id:
            self.inbox.append(message)
            self.got_message.set()


@contextlib.asynccontextmanager
async def running(client: discord.Client) -> AsyncIterator[discord.Client]:
    """Log in, connect until READY, and always close the client and its task."""
    await client.login(TOKEN)
    task = asyncio.create_task(client.connect())
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # connect() ended before READY: raise its error
        assert ready in done, "client did not become ready"
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def score_command(tree: app_commands.CommandTree, seen: list[Any]) -> None:
    """Add /checkin score:<0-10> answering ephemerally, as the real bot will."""

    @tree.command(name="checkin", description="Record today's SI pain score")
    @app_commands.describe(score="Pain from 0 (none) to 10 (worst)")
    async def checkin(interaction: discord.Interaction, score: app_commands.Range[int, 0, 10]):
        seen.append(score)
        await interaction.response.send_message(f"Logged {score!r}/10", ephemeral=True)


class ScoreView(discord.ui.View):
    """A persistent view: no timeout and fixed custom_ids, so it survives restarts."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="4", custom_id="checkin:v1:score:4")
    async def four(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="Logged 4/10 from a tap", view=None)


# ------------------------------------------------------------------------ connecting


async def test_login_connect_and_ready_see_the_guild_and_heartbeats(fake: DiscordFake) -> None:
    async with running(Bot()) as client:
        assert client.user.id == APP_ID
        assert client.application_id == APP_ID
        guild = client.get_guild(CLUB)
        assert guild is not None and guild.name == "Trail Runners"
        assert guild.get_channel(GENERAL).name == "general"
        alice = await guild.fetch_member(ALICE)
        assert alice.guild_permissions.administrator
        assert not (await guild.fetch_member(BOB)).guild_permissions.administrator
        await fake.wait_for(lambda: fake.heartbeats >= 1)

    first = fake.connections[0]
    assert first.identified and first.compress == "zlib-stream"
    assert first.query["v"] == "10" and first.query["encoding"] == "json"
    assert first.close_code is not None  # the client closed its socket on close()
    assert [r.key for r in fake.requests[:2]] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    ]


async def test_wrong_token_is_refused_at_login(fake: DiscordFake) -> None:
    client = Bot()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fake.requests[-1].status == 401


async def test_privileged_intent_not_enabled_closes_the_gateway_with_4014() -> None:
    async with DiscordFake(token=TOKEN, app_id=APP_ID, privileged_intents=0) as server:
        with server.point_discord_py():
            client = Bot()
            await client.login(TOKEN)
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await client.connect()
            await client.close()
        assert server.connections[0].server_close_code == 4014
    await assert_no_leaked_tasks()


# ------------------------------------------------------------------------ app commands


async def test_sync_records_commands_with_typed_options_and_descriptions(
    fake: DiscordFake,
) -> None:
    client = Bot()
    score_command(client.tree, [])
    async with running(client):
        synced = await client.tree.sync()

    [command] = fake.commands
    assert command["name"] == "checkin"
    assert command["description"] == "Record today's SI pain score"
    [option] = command["options"]
    assert option["name"] == "score" and option["type"] == 4  # INTEGER
    assert option["required"] is True
    assert (option["min_value"], option["max_value"]) == (0, 10)
    assert option["description"] == "Pain from 0 (none) to 10 (worst)"
    assert [c.id for c in synced] == [int(command["id"])]


async def test_slash_command_answered_with_an_ephemeral_message_in_time(
    fake: DiscordFake,
) -> None:
    seen: list[Any] = []
    client = Bot()
    score_command(client.tree, seen)
    async with running(client):
        await client.tree.sync()
        interaction = await fake.slash(ALICE, "checkin", options={"score": 4})
        reply = await fake.response(interaction)

    assert seen == [4]  # typed as int all the way into the handler
    assert reply.type == CALLBACK_CHANNEL_MESSAGE
    assert reply.flags & FLAG_EPHEMERAL and reply.ephemeral
    assert reply.content == "Logged 4/10"
    assert 0 <= reply.elapsed < 3
    assert fake.dm_messages(ALICE)[-1].content == "Logged 4/10"
    with pytest.raises(ValueError):
        await fake.slash(ALICE, "checkin", options={"score": 11})  # outside max_value


async def test_slash_command_in_a_guild_carries_the_members_permissions(
    fake: DiscordFake,
) -> None:
    perms: dict[int, bool] = {}
    client = Bot()

    @client.tree.command(name="club", description="Club settings")
    async def club(interaction: discord.Interaction) -> None:
        perms[interaction.user.id] = interaction.permissions.administrator
        await interaction.response.send_message("ok")

    async with running(client):
        await client.tree.sync()
        for person in (ALICE, BOB):
            await fake.response(await fake.slash(person, "club", guild=CLUB))

    assert perms == {ALICE: True, BOB: False}
    assert [m.content for m in fake.messages(GENERAL)] == ["ok", "ok"]
    assert not any(m.ephemeral for m in fake.messages(GENERAL))


async def test_deferred_response_then_follow_ups(fake: DiscordFake) -> None:
    client = Bot()

    @client.tree.command(name="history", description="Show the trend")
    async def history(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("Your week: 3, 4, 4")
        await interaction.followup.send("Ease off a little", ephemeral=True)

    async with running(client):
        await client.tree.sync()
        interaction = await fake.slash(ALICE, "history")
        await fake.wait_for(lambda: len(interaction.responses) == 3)

    defer, first, second = fake.interaction_responses(interaction)
    assert defer.type == CALLBACK_DEFERRED_CHANNEL_MESSAGE and defer.ephemeral
    assert first.kind == second.kind == "followup"
    # The first follow-up fills the "thinking" placeholder, keeping its ephemerality.
    assert first.message is interaction.original
    assert first.message.content == "Your week: 3, 4, 4" and not first.message.loading
    assert first.message.ephemeral
    assert second.message is not interaction.original and second.message.ephemeral
    assert [m.content for m in fake.dm_messages(ALICE)] == [
        "Your week: 3, 4, 4",
        "Ease off a little",
    ]


async def test_autocomplete_offers_matching_choices(fake: DiscordFake) -> None:
    zones = ["Europe/Berlin", "Europe/Bern", "America/New_York"]
    client = Bot()

    @client.tree.command(name="timezone", description="Set your time zone")
    async def timezone(interaction: discord.Interaction, zone: str) -> None:
        await interaction.response.send_message(zone, ephemeral=True)

    @timezone.autocomplete("zone")
    async def zone_choices(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=z, value=z) for z in zones if current in z]

    async with running(client):
        await client.tree.sync()
        interaction = await fake.autocomplete(ALICE, "timezone", "zone", "Ber")
        reply = await fake.response(interaction)

    assert reply.type == CALLBACK_AUTOCOMPLETE_RESULT
    assert [c["value"] for c in interaction.choices] == ["Europe/Berlin", "Europe/Bern"]


async def test_answering_too_late_finds_the_interaction_gone() -> None:
    errors: list[discord.HTTPException] = []
    async with DiscordFake(token=TOKEN, app_id=APP_ID, interaction_deadline=0.05) as server:
        server.user(ALICE, "alice")
        with server.point_discord_py():
            client = Bot()

            @client.tree.command(name="slow", description="Too slow")
            async def slow(interaction: discord.Interaction) -> None:
                await asyncio.sleep(0.2)  # well past the shortened deadline
                try:
                    await interaction.response.send_message("late")
                except discord.NotFound as exc:
                    errors.append(exc)

            async with running(client):
                await client.tree.sync()
                interaction = await server.slash(ALICE, "slow")
                await server.wait_for(lambda: errors)

    assert errors[0].code == 10062
    assert interaction.responses == []
    await assert_no_leaked_tasks()


# ------------------------------------------------------------------------ components


async def test_persistent_button_clicked_after_a_restart(fake: DiscordFake) -> None:
    async with running(Bot(views=[ScoreView()])) as first:
        user = await first.fetch_user(ALICE)
        await user.send("How is your SI joint today?", view=ScoreView())
    [prompt] = fake.dm_messages(ALICE)
    assert prompt.custom_ids == ["checkin:v1:score:4"]

    # A brand-new process: only the view registered in setup_hook can answer the tap.
    async with running(Bot(views=[ScoreView()])):
        interaction = await fake.click(ALICE, prompt, "checkin:v1:score:4")
        reply = await fake.response(interaction)

    assert reply.type == CALLBACK_UPDATE_MESSAGE
    assert prompt.content == "Logged 4/10 from a tap"
    assert prompt.components == [] and prompt.edits == 1
    assert len(fake.connections) == 2 and fake.connections[1].identified


async def test_button_deferred_then_original_message_edited(fake: DiscordFake) -> None:
    class SlowView(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=None)

        @discord.ui.button(label="Done", custom_id="core:v1:done")
        async def done(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            await interaction.response.defer()  # type 6 for a component
            await interaction.edit_original_response(content="Core work logged", view=None)

    async with running(Bot(views=[SlowView()])) as client:
        channel = client.get_channel(GENERAL)
        await channel.send("Did you do your core work?", view=SlowView())
        [prompt] = fake.messages(GENERAL)
        interaction = await fake.click(BOB, prompt, "core:v1:done")
        await fake.wait_for(lambda: len(interaction.responses) == 2)

    defer, edit = interaction.responses
    assert (defer.kind, defer.type, edit.kind) == ("callback", 6, "edit_original")
    assert edit.message is prompt
    assert (prompt.content, prompt.components) == ("Core work logged", [])


# ------------------------------------------------------------------------ messages


async def test_dm_reaches_on_message_with_its_content(fake: DiscordFake) -> None:
    async with running(Bot()) as client:
        await fake.dm(ALICE, "4")
        await asyncio.wait_for(client.got_message.wait(), 5)

    [message] = client.inbox
    assert message.content == "4"
    assert message.author.id == ALICE
    assert isinstance(message.channel, discord.DMChannel)
    assert message.channel.id == fake.dm_channel(ALICE).id


async def test_guild_message_content_needs_the_message_content_intent() -> None:
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as server:
        server.guild(CLUB, "Trail Runners", channels=[(GENERAL, "general")], members=[BOB])
        with server.point_discord_py():
            client = Bot()
            client._connection._intents.message_content = False
            async with running(client):
                await server.channel_message(CLUB, GENERAL, BOB, "pain 6")
                await asyncio.wait_for(client.got_message.wait(), 5)

    assert client.inbox[0].content == ""
    assert client.inbox[0].guild.id == CLUB
    await assert_no_leaked_tasks()


async def test_sending_a_dm_with_a_file(fake: DiscordFake) -> None:
    chart = b"\x89PNG\r\n\x1a\nfake chart bytes"
    async with running(Bot()) as client:
        user = await client.fetch_user(ALICE)
        sent = await user.send("Your week", file=discord.File(io.BytesIO(chart), "week.png"))
        downloaded = await sent.attachments[0].read()

    [message] = fake.dm_messages(ALICE)
    assert message.content == "Your week"
    [attachment] = message.attachments
    assert (attachment.filename, attachment.data) == ("week.png", chart)
    assert downloaded == chart
    assert fake.requests_to("POST /users/@me/channels")[0].json == {"recipient_id": ALICE}


async def test_closed_dms_surface_as_forbidden_50007(fake: DiscordFake) -> None:
    fake.close_dms(ALICE)
    async with running(Bot()) as client:
        user = await client.fetch_user(ALICE)
        with pytest.raises(discord.Forbidden) as caught:
            await user.send("Time for your check-in")

    assert caught.value.code == 50007
    assert caught.value.status == 403
    assert fake.dm_messages(ALICE) == []


async def test_rate_limit_is_waited_out_and_the_message_delivered_once(
    fake: DiscordFake,
) -> None:
    route = "POST /channels/{channel_id}/messages"
    fake.throttle(1, retry_after=0.2, route=route)
    async with running(Bot()) as client:
        channel = client.get_channel(GENERAL)
        await channel.send("Club reminder: core work today")

    assert [r.status for r in fake.requests_to(route)] == [429, 200]
    assert [m.content for m in fake.messages(GENERAL)] == ["Club reminder: core work today"]


async def test_global_rate_limit_is_waited_out(fake: DiscordFake) -> None:
    async with running(Bot()) as client:
        fake.throttle(1, retry_after=0.1, global_=True)
        user = await client.fetch_user(ALICE)

    assert user.name == "alice"
    assert [r.status for r in fake.requests_to("GET /users/{user_id}")] == [429, 200]


async def test_discord_limits_come_back_as_invalid_form_body(fake: DiscordFake) -> None:
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="x", custom_id="c" * 101))
    async with running(Bot()) as client:
        channel = client.get_channel(GENERAL)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        with pytest.raises(discord.HTTPException) as bad_id:
            await channel.send("pick", view=view)

    assert too_long.value.code == 50035 and too_long.value.status == 400
    assert "content" in too_long.value.text
    assert bad_id.value.code == 50035
    assert "components.0.components.0.custom_id" in bad_id.value.text
    assert fake.messages(GENERAL) == []


# ------------------------------------------------------------------------ gateway resilience


async def test_reconnect_resumes_and_loses_nothing(fake: DiscordFake) -> None:
    client = Bot()
    score_command(client.tree, [])
    async with running(client):
        await client.tree.sync()
        await fake.reconnect()
        # Sent while the client may be between sockets: it must be replayed on RESUME.
        await fake.dm(ALICE, "7")
        await fake.wait_for(lambda: any(c.resumed for c in fake.connections))
        await asyncio.wait_for(client.got_message.wait(), 5)
        reply = await fake.response(await fake.slash(ALICE, "checkin", options={"score": 2}))

    assert [m.content for m in client.inbox] == ["7"]
    assert reply.content == "Logged 2/10"
    first, second = fake.connections
    assert second.path == RESUME_GATEWAY_PATH and second.resumed and not second.identified
    assert second.session_id == first.session_id


async def test_invalidated_session_identifies_again(fake: DiscordFake) -> None:
    async with running(Bot()) as client:
        ready_again = asyncio.ensure_future(client.wait_for("ready", timeout=5))
        await fake.invalidate_sessions()
        await ready_again  # wait_until_ready() would return at once: READY fired before
        await fake.dm(BOB, "3")
        await asyncio.wait_for(client.got_message.wait(), 5)

    assert [m.content for m in client.inbox] == ["3"]
    assert fake.connections[0].invalidated
    assert fake.connections[1].session_id != fake.connections[0].session_id


# ------------------------------------------------------------------------ raw REST shapes


async def raw(
    fake: DiscordFake, method: str, path: str, json: Any = None, token: str | None = TOKEN
) -> tuple[int, Any]:
    """One REST call without discord.py, to check the fake's wire format directly."""
    headers = {"Authorization": f"Bot {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.api_base + path, json=json, headers=headers) as resp,
    ):
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


async def test_unknown_route_and_wrong_token_shapes(fake: DiscordFake) -> None:
    assert await raw(fake, "GET", "/no/such/route") == (
        404,
        {"message": "404: Not Found", "code": 0},
    )
    assert await raw(fake, "GET", "/users/@me", token="wrong") == (
        401,
        {"message": "401: Unauthorized", "code": 0},
    )
    status, body = await raw(fake, "GET", "/gateway/bot")
    assert status == 200 and body["url"] == fake.gateway_url and body["shards"] == 1


async def test_component_limits_rejected_like_discord(fake: DiscordFake) -> None:
    def button(i: int, label: str = "ok") -> dict[str, Any]:
        return {"type": 2, "style": 1, "label": label, "custom_id": f"b{i}"}

    rows = [{"type": 1, "components": [button(i)]} for i in range(6)]
    wide = [{"type": 1, "components": [button(i) for i in range(6)]}]
    long_label = [{"type": 1, "components": [button(0, "L" * 81)]}]
    path = f"/channels/{GENERAL}/messages"

    status, body = await raw(fake, "POST", path, {"content": "x", "components": rows})
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body")
    assert body["errors"]["components"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    status, body = await raw(fake, "POST", path, {"content": "x", "components": wide})
    assert "_errors" in body["errors"]["components"]["0"]["components"]
    status, body = await raw(fake, "POST", path, {"content": "x", "components": long_label})
    assert "label" in body["errors"]["components"]["0"]["components"]["0"]
    status, body = await raw(fake, "POST", path, {})
    assert (status, body["code"]) == (400, 50006)
    assert fake.messages(GENERAL) == []


async def test_an_interaction_answered_twice_gets_40060(fake: DiscordFake) -> None:
    client = Bot()
    unanswered: list[Exception] = []
    seen_error = asyncio.Event()

    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        unanswered.append(error)
        seen_error.set()

    client.tree.on_error = on_error
    async with running(client):
        # A raw command interaction nobody in discord.py answers (the tree has no commands).
        await raw(
            fake, "PUT", f"/applications/{APP_ID}/commands", [{"name": "x", "description": "x"}]
        )
        interaction = await fake.slash(BOB, "x")
        callback = f"/interactions/{interaction.id}/{interaction.token}/callback"
        reply = {"type": 4, "data": {"content": "first", "flags": FLAG_EPHEMERAL}}
        first = await raw(fake, "POST", callback, reply, token=None)
        second = await raw(fake, "POST", callback, reply, token=None)
        await asyncio.wait_for(seen_error.wait(), 5)

    assert first == (204, None)
    assert second == (
        400,
        {"message": "Interaction has already been acknowledged.", "code": 40060},
    )
    assert [r.content for r in interaction.responses] == ["first"]
    assert isinstance(unanswered[0], app_commands.CommandNotFound)
