"""The one log policy: with every logger at DEBUG, a conversation on Telegram (long polling and
webhook) and Discord leaves no note, name, token or webhook secret in any captured log output."""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.discord import DiscordAdapter
from adapters.telegram import TelegramAdapter, derived_secret, webhook_route
from bot import logs
from bot.app import App, open_app
from bot.clock import ManualClock
from bot.settings import Settings
from tests.conftest import START
from tests.fakes.discord_server import DiscordFake, Interaction
from tests.fakes.telegram_server import TelegramFake
from tests.test_discord import onboard, slash
from tests.test_telegram import ASK, Phone, point_at

MARKER = "marker-Q7xK2v"
NOTE = f"numb groin {MARKER}"
TG_NAME = "Zebediahquill"  # the Telegram person's first name: unusual, so any echo is found
DC_NAME = "quokkarunner"  # the Discord person's username and display name
ADA = 1001
ALICE = 700_000_000_000_000_001
APP_ID = 900_000_000_000_000_001
DC_TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.logpolicy-token_part-long-enough-xyz"
TG_SECRET = "whsec-Vr4nd0m-configured-secret"
# Texts the bot sends: message texts must not be logged either.
BOT_TEXTS = (ASK, "Your last 14 days", "Recorded 4/10")
LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "discord",
    "sqlalchemy",
    "aiosqlite",
    "apscheduler",
    "asyncio",
    "aiohttp",
    "tornado",
    "alembic",
)
REPO = Path(__file__).resolve().parents[1]
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Captured:
    """Everything logged in this process: the records as any handler sees them, and our stderr."""

    caplog: pytest.LogCaptureFixture
    stderr: io.StringIO

    def text(self) -> str:
        records = [
            f"{r.levelname} {r.name}: {r.getMessage()}\n{r.exc_text or ''}{r.stack_info or ''}"
            for r in self.caplog.records
        ]
        return "\n".join([self.caplog.text, *records, self.stderr.getvalue()])

    def debug_from(self) -> set[str]:
        """The top-level packages that logged DEBUG records."""
        return {r.name.split(".")[0] for r in self.caplog.records if r.levelno == logging.DEBUG}


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """`si-checkin run`'s logging at DEBUG, every logger at DEBUG, and pytest capturing it all."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_secrets = logs._secrets
    logs.setup_logging("DEBUG")  # our stderr handler, replacing pytest's...
    stderr = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stderr)  # (what it would write to stderr, kept past the test)
    root.addHandler(caplog.handler)  # ...which is put back to see every record
    caplog.handler.setLevel(logging.DEBUG)
    names = {*LIBRARIES, *logging.Logger.manager.loggerDict}
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield Captured(caplog, stderr)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logs.uninstall_policy()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        logs._secrets = saved_secrets


def assert_private(text: str, *secrets: str, names: tuple[str, ...]) -> None:
    """Nothing a person wrote or is called, no bot text, no token or secret is in the text."""
    assert text.strip(), "nothing was captured"
    folded = text.casefold()
    leaked = [n for n in (MARKER, "numb groin", *names, *BOT_TEXTS) if n.casefold() in folded]
    leaked += [f"secret {s[:6]}…" for s in secrets if s in text]
    assert not leaked, f"logged: {leaked}"


def tg_secrets(fake: TelegramFake) -> tuple[str, ...]:
    return (fake.token, fake.token.split(":", 1)[1])


async def telegram_conversation(fake: TelegramFake) -> None:
    """Consent, a score, a note that reads as a red flag, and the chart."""
    person = Phone(fake, ADA, TG_NAME)
    await person.onboard()
    for text in ("4", f"/note {NOTE}"):
        sent = len(fake.messages(ADA))
        person.say(text)
        await fake.wait_for(lambda n=sent: len(fake.messages(ADA)) > n, timeout=60)
    person.say("/history")
    await person.sees("Your last 14 days")


# ---- single records ---------------------------------------------------------------------------

TG_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def policed(name: str, level: int, msg: object, *args: object, exc: bool = False) -> str:
    """A record as any handler would see it once the policy has run."""
    exc_info = None
    if exc:
        try:
            raise ConnectionError("502 Bad Gateway")
        except ConnectionError:
            exc_info = sys.exc_info()
    record = logging.LogRecord(name, level, __file__, 1, msg, args or None, exc_info)
    logs.apply_policy(record)
    return record.getMessage() + (record.exc_text or "")


def test_library_payloads_are_hidden_but_methods_statuses_and_errors_stay() -> None:
    info, debug = logging.INFO, logging.DEBUG
    assert policed("sqlalchemy.engine.Engine", info, "[%s] %r", "cached", (NOTE, 4)) == (
        "[<hidden>] <hidden>"
    )
    call = functools.partial(print, "INSERT INTO notes VALUES (?)", (NOTE,))
    assert policed("aiosqlite", debug, "executing %s", call) == "executing <hidden>"
    url = "https://discord.com/api/v10/interactions/123/aW50ZXJhY3Rpb24abcdefghijklmnopqrstuvwxyz/x"
    assert policed(
        "discord.http", debug, "%s %s with %s has returned %s", "POST", url, {}, 200
    ) == (
        "POST https://discord.com/api/v10/interactions/123/[REDACTED]/x"
        " with <hidden> has returned 200"
    )
    assert policed("telegram.ext.Updater", debug, "Webhook received data: %s", NOTE) == (
        "Webhook received data: <hidden>"
    )
    assert policed("asyncio", logging.ERROR, f"Task failed\nfuture: <Task {NOTE}>") == (
        "Task failed …"
    )
    assert policed("telegram", debug, {"text": NOTE}) == "<hidden>"
    # Below WARNING an exception is its type; above, the (redacted) traceback stays.
    assert policed("httpcore", debug, "failed", exc=True) == "failed (ConnectionError)"
    error = policed("telegram.ext.Application", logging.ERROR, "Ignoring %s", NOTE, exc=True)
    assert error.startswith("Ignoring <hidden>Traceback") and "502 Bad Gateway" in error


def test_our_records_keep_their_words_and_lose_only_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(logs, "_secrets", ())
    logs.register_secret(TG_SECRET)
    logs.register_secret("short")  # too short to be a secret: would garble ordinary words
    line = policed("adapters.telegram", logging.INFO, "sent %s via %s", TG_SECRET, TG_TOKEN)
    assert line == "sent [REDACTED] via [REDACTED]"
    assert policed("bot.engine", logging.INFO, "a short message") == "a short message"
    assert policed("httpx", logging.INFO, "%s", f"http://h/bot{TG_TOKEN}/getMe") == (
        "http://h/bot[REDACTED]/getMe"
    )


# ---- Telegram, in this process ---------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[TelegramFake]:
    async with TelegramFake() as server:
        yield server


@sqlite_only
async def test_telegram_long_polling_logs_nothing_private(
    captured: Captured, app: App, fake: TelegramFake
) -> None:
    point_at(app, fake)
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        await telegram_conversation(fake)
    finally:
        await adapter.stop()
    text = captured.text()
    assert_private(text, *tg_secrets(fake), names=(TG_NAME,))
    assert {"telegram", "httpcore"} <= captured.debug_from()
    assert any(r.name == "httpx" for r in captured.caplog.records)
    # What operators need survives: the Bot API method, the HTTP method and status.
    assert "Calling Bot API endpoint `sendMessage` with parameters `<hidden>`" in text
    assert re.search(
        r'HTTP Request: POST http://127\.0\.0\.1:\d+/\S+/getMe "HTTP/1.1 200 OK"', text
    )


@sqlite_only
async def test_telegram_webhook_logs_no_secret_and_no_path(
    captured: Captured, app: App, fake: TelegramFake
) -> None:
    port = free_port()
    point_at(app, fake)
    app.settings.telegram_webhook_url = f"http://127.0.0.1:{port}"
    app.settings.port = port
    adapter = TelegramAdapter(app)
    await adapter.start()
    try:
        await telegram_conversation(fake)
        assert fake.webhook_deliveries
    finally:
        await adapter.stop()
    path, _ = webhook_route(app.settings.telegram_webhook_url, fake.token)
    secret = derived_secret(fake.token)
    assert fake.webhook_secret == secret
    assert_private(captured.text(), *tg_secrets(fake), secret, path, names=(TG_NAME,))
    assert {"telegram", "httpcore"} <= captured.debug_from()
    assert any(r.name == "httpx" for r in captured.caplog.records)


# ---- Discord, in this process ----------------------------------------------------------------


async def test_discord_logs_nothing_private(
    captured: Captured, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The policy alone hides discord.py's payloads: no filter may be left from elsewhere.
    for name in ("discord", "discord.gateway", "discord.http", "discord.webhook.async_"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "filters", [])
    tokens: list[str] = []
    async with DiscordFake(token=DC_TOKEN, app_id=APP_ID) as fake:
        fake.user(ALICE, DC_NAME)
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            data_dir=tmp_path / "data",
            default_timezone="UTC",
            discord_token=SecretStr(DC_TOKEN),
            discord_api_url=fake.api_base,
            discord_gateway_url=fake.gateway_url,
        )
        app = await open_app(settings, ManualClock(START))
        bot = DiscordAdapter(app, guild_ready_timeout=0.05)
        try:
            await bot.start()
            await onboard(fake, bot, ALICE)
            before = len(fake.dm_messages(ALICE))
            await fake.dm(ALICE, "4")
            await fake.wait_for(lambda: len(fake.dm_messages(ALICE)) > before)
            await bot.drain()
            await slash(fake, bot, ALICE, "note", {"text": NOTE})
            _, said = await slash(fake, bot, ALICE, "history")
            assert any("Your last 14 days" in m.content for m in said)
            tokens = [i.token for i in fake.interactions.values()]
        finally:
            await bot.stop()
            await app.close()
    assert tokens
    assert_private(captured.text(), DC_TOKEN, *tokens, names=(DC_NAME,))
    assert "discord" in captured.debug_from()


# ---- `si-checkin run` as a process, both platforms -------------------------------------------


def _answered(interaction: Interaction, contains: str) -> bool:
    return any(contains in (r.content or "") for r in interaction.responses)


async def discord_consent(dc: DiscordFake) -> None:
    """/start and tap I agree, with nothing but the fake to watch."""
    start = await dc.slash(ALICE, "start")
    consent = await dc.wait_for(
        lambda: next(
            (
                r.message
                for r in start.responses
                if r.message is not None and "I agree" in r.message.button_labels
            ),
            None,
        ),
        timeout=60,
    )
    agree = next(c["custom_id"] for c in consent.iter_components() if c.get("label") == "I agree")
    tap = await dc.click(ALICE, consent, agree)
    await dc.wait_for(lambda: _answered(tap, "set up") or "set up" in consent.content, timeout=60)


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_si_checkin_run_at_debug_logs_nothing_private(tmp_path: Path, mode: str) -> None:
    async with TelegramFake() as tg, DiscordFake(token=DC_TOKEN, app_id=APP_ID) as dc:
        dc.user(ALICE, DC_NAME)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TELEGRAM_", "DISCORD_", "DATABASE_URL", "SI_CHECKIN_"))
        }
        env |= {
            "TELEGRAM_TOKEN": tg.token,
            "TELEGRAM_API_URL": tg.base_url,
            "DISCORD_TOKEN": DC_TOKEN,
            "DISCORD_API_URL": dc.api_base,
            "DISCORD_GATEWAY_URL": dc.gateway_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "SI_CHECKIN_DATA_DIR": str(tmp_path / "data"),
            "SI_CHECKIN_LOG_LEVEL": "DEBUG",
            "PYTHONPATH": str(REPO),
        }
        secrets = [*tg_secrets(tg), DC_TOKEN]
        if mode == "webhook":
            port = free_port()
            public = "https://bot.example.org"  # settings insist on https
            env |= {
                "TELEGRAM_WEBHOOK_URL": public,
                "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
                "PORT": str(port),
            }
            secrets += [TG_SECRET, webhook_route(public, tg.token)[0]]
        stderr_path = tmp_path / "stderr.log"
        with stderr_path.open("wb") as stderr:
            # cwd outside the repository: no .env is picked up by accident.
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters", "run", env=env, cwd=tmp_path, stderr=stderr
            )
            try:
                if mode == "webhook":
                    await tg.wait_for(lambda: tg.webhook_url, timeout=60)
                    # The TLS-terminating proxy in front of the bot: deliver to its port.
                    tg.webhook_url = tg.webhook_url.replace(public, f"http://127.0.0.1:{port}")
                else:
                    await tg.wait_for(lambda: tg.polling, timeout=60)
                await dc.wait_for(lambda: dc.commands, timeout=60)
                await telegram_conversation(tg)
                await discord_consent(dc)
                for name, options, answer in (
                    ("checkin", {"score": 4}, ""),
                    ("note", {"text": NOTE}, ""),
                    ("history", None, ""),  # any answer: the captured log is what is checked
                ):
                    interaction = await dc.slash(ALICE, name, options)
                    await dc.wait_for(lambda i=interaction, a=answer: _answered(i, a), timeout=60)
                    secrets.append(interaction.token)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(proc.wait(), timeout=60)
    text = stderr_path.read_text(encoding="utf-8", errors="replace")
    assert code == 0, text[-2000:]
    assert_private(text, *secrets, names=(TG_NAME, DC_NAME))
    # httpx logs its request lines at INFO; the DEBUG records are its transport's (httpcore).
    for package in ("telegram", "httpcore", "discord"):
        assert re.search(rf" DEBUG {package}\b", text), f"no DEBUG record from {package}"
    assert re.search(r" INFO httpx\b", text)
