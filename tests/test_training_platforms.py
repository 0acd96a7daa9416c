"""/run with its details and a distance-range tap on a phone: the real Telegram and Discord
adapters against their loopback fakes, the real engine and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.app import App
from bot.runs import Run
from bot.store import repo
from tests.conftest import START
from tests.fakes.discord_server import DiscordFake, Interaction, Message
from tests.fakes.telegram_server import TelegramFake

ADA = 1001
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GhJkLm.s3cr3t-T0k3n_part-that-is-long-enough-xyz"
APP_ID = 1_000_000_000_000_001
ALICE = 700_000_000_000_000_001
GUILD_READY_TIMEOUT = 0.05
TODAY = START.date()
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def runs_of(app: App, platform: str, user: str) -> list[Run]:
    async with app.sessions() as s:
        person = await repo.find_person(s, platform, user)
        assert person is not None
        return await repo.runs_since(s, person.id, TODAY - timedelta(days=7))


# ------------------------------------------------------------------------------ Telegram


@pytest.fixture
async def telegram(app: App) -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as fake:
        app.settings.telegram_token = SecretStr(fake.token)
        app.settings.telegram_api_url = fake.base_url
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            yield fake
        finally:
            await adapter.stop()


@sqlite_only
async def test_telegram_run_with_details_then_a_score_tap_and_a_distance_range(
    app: App, telegram: TelegramFake
) -> None:
    fake = telegram
    ada = fake.user(ADA, "Ada")
    fake.send_text(ada, "/start")
    consent = await fake.wait_for_message(ADA, "Is that OK?")
    fake.press(ada, consent, consent.callback_data("I agree"))
    await fake.wait_for_message(ADA, "Which time zone are you in?")

    fake.send_text(ada, "/run 4 after yesterday 8k 45min trail")
    await fake.wait_for_message(
        ADA, "Recorded 4/10 after your run for yesterday. Run: 8 km, 45 min, trail."
    )

    fake.send_text(ada, "/run")
    ask = await fake.wait_for_message(ADA, "How was your SI pain after your run")
    fake.press(ada, ask, ask.callback_data("3"))
    # The keyboard's message becomes the answer, with the ranges in place of the scores.
    await fake.wait_for(lambda: "Recorded 3/10 after your run for today." in ask.content)
    offer = ask
    await fake.wait_for(lambda: "5-10 km" in offer.button_labels)
    assert "How far was it?" in offer.content
    assert offer.button_labels == ["Under 5 km", "5-10 km", "10-15 km", "15-21 km", "Over 21 km"]
    fake.press(ada, offer, offer.callback_data("10-15 km"))
    await fake.wait_for(
        lambda: any("Noted: 10-15 km for today's run." in m.content for m in fake.messages(ADA))
    )
    await fake.wait_for(lambda: offer.buttons == [])  # one tap: the ranges are gone
    yesterday, today = await runs_of(app, "telegram", str(ADA))
    assert (yesterday.after, yesterday.km, yesterday.minutes, yesterday.surface) == (
        4,
        8.0,
        45.0,
        "trail",
    )
    assert (today.after, today.km, today.band) == (3, 12.5, "10-15 km")


# ------------------------------------------------------------------------------- Discord


@pytest.fixture
async def discord_bot(app: App) -> AsyncIterator[DiscordFake]:
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as fake:
        fake.user(ALICE, "alice")
        app.settings.discord_token = SecretStr(TOKEN)
        app.settings.discord_api_url = fake.api_base
        app.settings.discord_gateway_url = fake.gateway_url
        adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
        await adapter.start()
        fake.adapter = adapter  # type: ignore[attr-defined]
        try:
            yield fake
        finally:
            await adapter.stop()


def answers(interaction: Interaction) -> list[Message]:
    seen: dict[int, Message] = {}
    for response in interaction.responses:
        if response.message is not None and response.kind in ("callback", "followup"):
            seen.setdefault(response.message.id, response.message)
    return list(seen.values())


async def answered(fake: DiscordFake, interaction: Interaction) -> list[Message]:
    await fake.response(interaction)
    await fake.adapter.drain()  # type: ignore[attr-defined]
    return answers(interaction)


async def slash(
    fake: DiscordFake, name: str, options: dict[str, object] | None = None
) -> list[Message]:
    return await answered(fake, await fake.slash(ALICE, name, options))


async def tap(fake: DiscordFake, message: Message, label: str) -> list[Message]:
    custom_id = next(c["custom_id"] for c in message.iter_components() if c.get("label") == label)
    return await answered(fake, await fake.click(ALICE, message, custom_id))


@sqlite_only
async def test_discord_run_with_details_then_a_distance_range_tap(
    app: App, discord_bot: DiscordFake
) -> None:
    fake = discord_bot
    consent = next(m for m in await slash(fake, "start") if "I agree" in m.button_labels)
    assert any("you're set up" in m.content for m in await tap(fake, consent, "I agree"))
    await slash(fake, "timezone", {"zone": "UTC"})

    said = await slash(fake, "run", {"score": 4, "when": "after", "details": "5 miles 45:30 road"})
    assert any(
        "Recorded 4/10 after your run for today. Run: 5 mi, 46 min, road." in m.content
        for m in said
    )
    assert not any("How far was it?" in m.content for m in said)

    said = await slash(fake, "run", {"score": 2, "when": "during", "details": "yesterday"})
    offer = next(m for m in said if "How far was it?" in m.content)
    assert "Recorded 2/10 during your run for yesterday." in offer.content
    # Miles were given before, so the ranges are in miles.
    assert offer.button_labels == ["Under 3 mi", "3-6 mi", "6-9 mi", "9-13 mi", "Over 13 mi"]
    noted = await tap(fake, offer, "3-6 mi")
    assert any("Noted: 3-6 mi for yesterday's run." in m.content for m in noted)
    yesterday, today = await runs_of(app, "discord", str(ALICE))
    assert (yesterday.during, yesterday.band, yesterday.unit) == (2, "3-6 mi", "mi")
    assert yesterday.km == pytest.approx(4.5 * 1.609344, abs=0.001)
    assert (today.after, today.unit, today.surface) == (4, "mi", "road")
    assert today.minutes == pytest.approx(45.5)
