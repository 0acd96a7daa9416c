"""Where it hurts and what set it off, tapped through on a phone: the real Telegram and Discord
adapters against their loopback fakes, with the real engine and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.app import App
from bot.store import repo
from tests.conftest import START
from tests.fakes.discord_server import DiscordFake
from tests.fakes.telegram_server import TelegramFake
from tests.test_discord import APP_ID, GUILD_READY_TIMEOUT, TOKEN, dm, onboard, tap
from tests.test_telegram import Phone, later, point_at

ADA = 1001
ALICE = 700_000_000_000_000_001
WHERE = "Where does it hurt?"
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


async def answers(app: App, platform: str, user: int) -> list[repo.PainContextDay]:
    async with app.sessions() as s:
        person = await repo.find_person(s, platform, str(user))
        assert person is not None
        return await repo.pain_context_since(s, person.id, START.date())


@pytest.fixture
async def tg(app: App) -> AsyncIterator[tuple[TelegramFake, TelegramAdapter]]:
    async with TelegramFake() as fake:
        point_at(app, fake)
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            yield fake, adapter
        finally:
            await adapter.stop()


@pytest.fixture
async def dc(app: App) -> AsyncIterator[tuple[DiscordFake, DiscordAdapter]]:
    async with DiscordFake(token=TOKEN, app_id=APP_ID) as fake:
        fake.user(ALICE, "alice")
        app.settings.discord_token = SecretStr(TOKEN)
        app.settings.discord_api_url = fake.api_base
        app.settings.discord_gateway_url = fake.gateway_url
        adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
        await adapter.start()
        try:
            yield fake, adapter
        finally:
            await adapter.stop()


async def test_on_telegram_each_answer_turns_the_question_into_the_next(
    app: App, tg: tuple[TelegramFake, TelegramAdapter]
) -> None:
    fake, _ = tg
    ada = Phone(fake, ADA)
    await ada.onboard()
    ada.say("3")
    await ada.sees("Recorded 3/10")
    later(app, days=1)
    ada.say("5")
    screen = await ada.sees("A quick safety check")
    question = await ada.sees(WHERE)
    assert screen.message_id < question.message_id  # the screen first, the question its own
    assert "None of these" in screen.button_labels
    assert question.buttons[0] == [
        {"text": "Left SI", "callback_data": question.callback_data("Left SI")},
        {"text": "Right SI", "callback_data": question.callback_data("Right SI")},
    ]

    ada.tap(question, "Left SI")
    await ada.edited(question, "Anywhere else?")
    assert question.button_labels[:2] == ["✓ Left SI", "Right SI"]  # ticked, in place
    ada.tap(question, "Right SI")
    await ada.edited(question, "Noted: right SI.")
    ada.tap(question, "Next")
    await ada.edited(question, "What set it off?")
    assert "Where: left SI, right SI." in question.content
    ada.tap(question, "Getting out of a car")
    await ada.edited(question, "Were you stiff this morning?")
    ada.tap(question, "Under 30 min")
    await ada.edited(question, "Thanks, noted for today")
    assert question.buttons == []
    assert "None of these" in screen.button_labels  # the screen is untouched throughout

    [day] = await answers(app, "telegram", ADA)
    assert (day.day, day.places, day.triggers, day.stiffness) == (
        START.date() + timedelta(days=1),
        {"left_si", "right_si"},
        {"car"},
        "under_30",
    )


async def test_on_discord_each_answer_follows_with_the_next_question(
    app: App, dc: tuple[DiscordFake, DiscordAdapter]
) -> None:
    fake, bot = dc
    await onboard(fake, bot, ALICE)
    await dm(fake, bot, ALICE, "3")
    later(app, days=1)
    said = await dm(fake, bot, ALICE, "5")
    assert "A quick safety check" in said[0] and WHERE in said[-1]
    question = fake.dm_messages(ALICE)[-1]
    assert question.button_labels[:2] == ["Left SI", "Right SI"]
    assert "None of these" in fake.dm_messages(ALICE)[-2].button_labels

    [again] = await tap(fake, bot, ALICE, question, "Buttock")
    assert question.components == []  # the used question goes; the next follows it
    assert "Noted: buttock." in again.content
    assert "✓ Buttock" in again.button_labels
    [trigger] = await tap(fake, bot, ALICE, again, "Next")
    assert "What set it off?" in trigger.content
    [stiff] = await tap(fake, bot, ALICE, trigger, "A long run")
    assert "Were you stiff this morning?" in stiff.content
    [done] = await tap(fake, bot, ALICE, stiff, "Skip")
    assert done.content == (
        "Thanks, noted for today: where: buttock; set off by: a long run. /history counts "
        "these on bad days."
    )

    [day] = await answers(app, "discord", ALICE)
    assert (day.places, day.triggers, day.stiffness) == ({"buttock"}, {"long_run"}, None)
