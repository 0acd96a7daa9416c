"""Bot tokens never reach a log line."""

from __future__ import annotations

import logging

from bot.logs import REDACTED, RedactingFormatter

TG = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DC = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GhIjKl.abcdefghijklmnopqrstuvwxyz012345"


def _format(msg: str, *args: object, secrets: tuple[str, ...] = ()) -> str:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, None)
    return RedactingFormatter("%(message)s", secrets).format(record)


def test_telegram_token_in_a_request_url_is_redacted() -> None:
    line = _format('HTTP Request: POST https://api.telegram.org/bot%s/getUpdates "200 OK"', TG)
    assert TG not in line and "bot" + REDACTED + "/getUpdates" in line


def test_discord_token_and_configured_secrets_are_redacted() -> None:
    assert DC not in _format("Authorization: Bot %s", DC)
    assert "s3cret-webhook" not in _format(
        "secret=%s", "s3cret-webhook", secrets=("s3cret-webhook",)
    )


def test_ordinary_lines_are_left_alone() -> None:
    assert _format("recorded a check-in in %d ms", 12) == "recorded a check-in in 12 ms"
