"""Logging that never prints a bot token: every record is redacted after formatting."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Telegram tokens are "<bot id>:<35 chars>"; Discord tokens are three dot-separated base64 parts.
TOKEN_PATTERNS = (
    re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}"),
)
REDACTED = "[REDACTED]"
QUIET_LOGGERS = ("httpx", "httpcore", "aiosqlite", "alembic", "apscheduler.executors.default")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes known secrets and anything shaped like a bot token."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        """Remove secrets from a formatted line."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr through the redacting formatter; quiet chatty HTTP client loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL, and Telegram URLs contain the token; aiosqlite logs every
    # statement with its parameters (scores) at DEBUG: keep them at WARNING whatever the level.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
