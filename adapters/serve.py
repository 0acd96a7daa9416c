"""`si-checkin run`: the platform adapters whose tokens are set, and the reminder scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from discord import LoginFailure
from telegram.error import InvalidToken

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter
from bot.app import App, StartupError, open_app
from bot.delivery import Adapter
from bot.settings import Settings
from scheduler.runtime import start_scheduler

log = logging.getLogger(__name__)


def build_adapters(app: App) -> list[Adapter]:
    """One adapter per platform whose token is configured."""
    adapters: list[Adapter] = []
    if app.settings.telegram_token:
        adapters.append(TelegramAdapter(app))
    if app.settings.discord_token:
        adapters.append(DiscordAdapter(app))
    return adapters


def rejected_token(platform: str, exc: BaseException) -> str | None:
    """One line when the platform refused our token (None for any other failure)."""
    # PTB's own message quotes the whole token; never let it reach a terminal or a log.
    if platform == "telegram" and isinstance(exc, InvalidToken):
        return "Telegram rejected the bot token (401 Unauthorized): check TELEGRAM_TOKEN"
    if platform == "discord" and isinstance(exc, LoginFailure):
        return "Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN"
    return None


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); returns the process exit code."""
    if not (settings.telegram_token or settings.discord_token):
        print(
            "Set TELEGRAM_TOKEN and/or DISCORD_TOKEN to serve a platform, "
            "or run `si-checkin console` to chat in this terminal.",
            file=sys.stderr,
        )
        return 2
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = await open_app(settings)
    adapters = build_adapters(app)
    scheduler = None
    try:
        for adapter in adapters:
            try:
                await adapter.start()
            except Exception as exc:
                if (reason := rejected_token(adapter.platform, exc)) is None:
                    raise
                raise StartupError(reason) from None
            log.info("serving %s", adapter.platform)
        scheduler = await start_scheduler(app, {a.platform: a for a in adapters})
        await stop.wait()
        return 0
    finally:
        if scheduler is not None:
            await scheduler.stop()
        for adapter in reversed(adapters):
            with contextlib.suppress(Exception):
                await adapter.stop()
        await app.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
