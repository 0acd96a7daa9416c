"""The tracked plans on the platforms, end to end: the real adapters and clients against the
loopback fakes, the real engine and database. A runner taps through a ladder run on Telegram;
a runner marks strength workouts done on Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.app import App
from bot.clock import ManualClock
from bot.store import repo
from bot.store.models import Person
from tests.fakes.discord_server import DiscordFake
from tests.fakes.telegram_server import TelegramFake
from tests.test_discord import ALICE, GUILD_READY_TIMEOUT, TOKEN, onboard, slash, tap
from tests.test_discord import fake as fake  # the Discord fake server, as a fixture
from tests.test_telegram import Phone, point_at

ADA = 1001
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


def later(app: App, **delta: float) -> None:
    assert isinstance(app.clock, ManualClock)
    app.clock.advance(timedelta(**delta))


async def ladder_of(app: App, platform: str, user: str) -> tuple[int | None, int]:
    async with app.sessions() as s:
        person = await repo.find_person(s, platform, user)
        assert person is not None
        return person.ladder_stage, person.ladder_good_runs


@sqlite_only
async def test_a_ladder_run_tapped_through_on_telegram(app: App) -> None:
    async with TelegramFake() as tg_fake:
        point_at(app, tg_fake)
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            ada = Phone(tg_fake, ADA)
            await ada.onboard()
            ada.say("/ladder")
            shown = await ada.sees("The return-to-run ladder: 7 stages")
            assert shown.button_labels == ["Start the ladder"]
            ada.tap(shown, "Start the ladder")
            await ada.edited(shown, "Return-to-run ladder started, stage 1 of 7")
            ada.say("/run 2 during")
            asked = await ada.sees("During the run, did you have any of these?")
            assert asked.button_labels == [
                "Sharp pain",
                "Pain that built up as I ran",
                "A limp or a change in how I ran",
                "None of these",
            ]
            ada.tap(asked, "None of these")
            await ada.edited(asked, "I'll check whether your pain is back")
            later(app, days=1)
            ada.say("1")
            morning = await ada.sees("this morning, is your pain no worse")
            assert morning.button_labels == ["No worse", "Worse"]
            ada.tap(morning, "No worse")
            await ada.edited(morning, "Good run: 1 of 2 at stage 1.")
        finally:
            await adapter.stop()
    assert await ladder_of(app, "telegram", str(ADA)) == (1, 1)


@pytest.fixture
async def discord_bot(app: App, fake: DiscordFake) -> AsyncIterator[DiscordAdapter]:
    app.settings.discord_token = SecretStr(TOKEN)
    app.settings.discord_api_url = fake.api_base
    app.settings.discord_gateway_url = fake.gateway_url
    adapter = DiscordAdapter(app, guild_ready_timeout=GUILD_READY_TIMEOUT)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop()


@sqlite_only
async def test_strength_workouts_marked_done_on_discord_move_the_week(
    app: App,
    fake: DiscordFake,
    discord_bot: DiscordAdapter,
) -> None:
    await onboard(fake, discord_bot, ALICE)
    _, shown = await slash(fake, discord_bot, ALICE, "strength")
    workout = next(m for m in shown if "Done: workout 1" in m.button_labels)
    assert "week 1 of 6" in workout.content
    said = await tap(fake, discord_bot, ALICE, workout, "Done: workout 1")
    assert any("Workout 1 done: 1 of 2 this week." in m.content for m in said)
    later(app, days=2)
    _, shown = await slash(fake, discord_bot, ALICE, "strength")
    workout = next(m for m in shown if "Done: workout 2" in m.button_labels)
    said = await tap(fake, discord_bot, ALICE, workout, "Done: workout 2")
    texts = " ".join(m.content for m in said)
    assert "Workout 2 done: week 1 complete." in texts
    assert "week 2 of 6" in texts
    assert any("Done: workout 3" in m.button_labels for m in said)
    async with app.sessions() as s:
        person = await s.scalar(select(Person).where(Person.user_id == str(ALICE)))
        assert person is not None and person.strength_started is not None
        done = await repo.activity_days(s, person.id, "strength_done", person.strength_started)
    assert len(done) == 2
