"""/report and the weekly recap on the real platforms: Telegram's document and photo, Discord's
attachments, through the real adapters, the real engine and dispatcher, against the loopback
fakes. One runner per platform, three days of scores, then the report and Sunday's recap."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from pypdf import PdfReader

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.app import App
from scheduler.dispatch import Dispatcher
from tests.fakes.discord_server import DiscordFake, Message
from tests.fakes.telegram_server import TelegramFake
from tests.test_discord import ALICE, APP_ID, GUILD_READY_TIMEOUT, TOKEN, dm, onboard, slash
from tests.test_telegram import ADA, Phone, later, point_at

# Transport tests: one database is enough.
pytestmark = [
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
    pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"),
]
RENDER_WAIT = 60.0  # a report takes about a second to draw; a loaded test machine, more


def pdf_text(data: bytes) -> tuple[int, str]:
    """The page count and the text of a PDF."""
    pages = PdfReader(io.BytesIO(data)).pages
    return len(pages), " ".join(" ".join(p.extract_text().split()) for p in pages)


@pytest.fixture
async def telegram(app: App) -> AsyncIterator[tuple[TelegramFake, TelegramAdapter]]:
    async with TelegramFake() as fake:
        point_at(app, fake)
        adapter = TelegramAdapter(app)
        await adapter.start()
        try:
            yield fake, adapter
        finally:
            await adapter.stop()


async def test_on_telegram_the_report_is_a_pdf_document_and_the_recap_a_photo(
    app: App, telegram: tuple[TelegramFake, TelegramAdapter]
) -> None:
    fake, tg = telegram
    ada = Phone(fake, ADA)
    await ada.onboard()
    ada.say("/remind weekly on")
    await ada.sees("Weekly recap reminder: 19:00 on Sundays")
    for value in (3, 5, 4):  # Monday to Wednesday
        ada.say(str(value))
        await ada.sees(f"Recorded {value}/10")
        later(app, days=1)

    ada.say("/report")
    report = await fake.wait_for_message(ADA, "Your last 90 days", timeout=RENDER_WAIT)
    assert report.method == "sendDocument"
    assert report.filename is not None and report.filename.endswith(".pdf")
    assert report.mime_type == "application/pdf"
    assert report.document is not None
    pages, text = pdf_text(report.document)
    assert pages == 1
    assert "Days logged 3 of 90" in text and "not a diagnosis" in text
    assert "Ada" not in text and str(ADA) not in text  # no name, no platform id

    later(app, days=3, hours=12)  # Sunday 19:00 UTC
    await Dispatcher(app.engine, {"telegram": tg}).run_once()
    recap = await fake.wait_for_message(ADA, "Trend:", timeout=RENDER_WAIT)
    assert recap.method == "sendPhoto"
    assert recap.photo is not None and recap.photo.startswith(b"\x89PNG")
    assert recap.caption is not None
    assert recap.caption.splitlines()[0] == (
        "Trend: this week averaged 4/10 over 3 check-ins; too few scores the week before "
        "to compare."
    )
    assert len(recap.caption.splitlines()) == 3


@pytest.fixture
async def discord(app: App) -> AsyncIterator[tuple[DiscordFake, DiscordAdapter]]:
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


async def test_on_discord_the_report_and_the_recap_arrive_as_attachments(
    app: App, discord: tuple[DiscordFake, DiscordAdapter]
) -> None:
    fake, bot = discord
    await onboard(fake, bot, ALICE)
    await slash(fake, bot, ALICE, "remind", {"kind": "weekly", "time": "on"})
    for value in (3, 5, 4):
        assert any(f"Recorded {value}/10" in t for t in await dm(fake, bot, ALICE, str(value)))
        later(app, days=1)

    _, messages = await slash(fake, bot, ALICE, "report")
    [report] = [a for m in messages for a in m.attachments]
    assert report.filename.endswith(".pdf")
    pages, text = pdf_text(report.data)
    assert pages == 1 and "Days logged 3 of 90" in text
    assert "alice" not in text.lower() and str(ALICE) not in text
    assert any("Your last 90 days" in m.content for m in messages)

    later(app, days=3, hours=12)  # Sunday 19:00 UTC
    await Dispatcher(app.engine, {"discord": bot}).run_once()

    def recap() -> Message | None:
        return next((m for m in fake.dm_messages(ALICE) if m.content.startswith("Trend:")), None)

    sent = await fake.wait_for(recap, timeout=RENDER_WAIT)
    [chart] = sent.attachments
    assert chart.filename.endswith(".png") and chart.data.startswith(b"\x89PNG")
    assert len(sent.content.splitlines()) == 3
