"""One log policy: library records lose their payloads, and no line carries a token or secret."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

# Telegram tokens are "<bot id>:<35 chars>"; Discord tokens are three dot-separated base64 parts.
TOKEN_PATTERNS = (
    re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{20,}"),
    # Long hex runs are digests: the derived webhook secret and webhook path are made of them.
    re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])"),
)
REDACTED = "[REDACTED]"
HIDDEN = "<hidden>"
# Held at WARNING unless the level is DEBUG: at INFO they are noise (a line per request or
# statement); at DEBUG the operator asked for them, and the policy below makes them safe.
# discord.client is here so a rejected token's start is one line ("logging in using static
# token" would come first at INFO).
QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "aiosqlite",
    "alembic",
    "apscheduler.executors.default",
    "discord.client",
)
# Our own code logs ids and kinds, never what people write; every other logger is a library's.
TRUSTED_LOGGERS = ("bot", "adapters", "scheduler", "si-checkin")

_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>`\\]+")
# A URL path segment this short and plain is a route or an id; anything else may be a token.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~@-]{0,24}")
_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>.)"
)
# Free text from a library is cut where a payload usually starts (a colon, a bracket, a quote).
_PAYLOAD_START = re.compile(r"[:{\[<'\"=`\n]|\((?!\))")
_FREE_TEXT_MAX = 120
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_HTTP_VERSION = re.compile(r"HTTP/\d(?:\.\d)?")
_HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_HTTP_PHRASES = frozenset(s.phrase for s in HTTPStatus)
# Templates whose string arguments at these positions are library-chosen names (Bot API methods,
# event names), shown when they look like identifiers; every other string argument is hidden.
_NAME_SLOTS: dict[str, frozenset[int]] = {
    "Calling Bot API endpoint `%s` with parameters `%s`": frozenset({0}),
    "Call to Bot API endpoint `%s` finished with return value `%s`": frozenset({0}),
    "Dispatching event %s": frozenset({0}),
}
_DONE = "_si_checkin_log_policy"  # set on a record once the policy has run on it
_PREVIOUS = "_si_checkin_previous_factory"  # on our record factory: the one it wraps
_TRACEBACKS = logging.Formatter()

# Longest first, so a secret containing another is replaced whole; a tuple, swapped whole, so a
# thread logging while another registers never iterates a changing collection.
_secrets: tuple[str, ...] = ()
# Shorter values are not worth a secret's name and would garble ordinary words if replaced.
MIN_SECRET_LENGTH = 8


def register_secret(value: str | None) -> None:
    """Redact this value (a webhook secret, a webhook path) from every later log line."""
    global _secrets
    if value and len(value) >= MIN_SECRET_LENGTH and value not in _secrets:
        _secrets = tuple(sorted({*_secrets, value}, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove secrets, token shapes and URL path segments that may be tokens from a text."""
    for secret in (*_secrets, *secrets):
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _URL.sub(lambda m: _reduce_url(m.group(0)), text)


def _reduce_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    host = parts.netloc.rpartition("@")[2]
    segments = [
        s if REDACTED in s or _PLAIN_SEGMENT.fullmatch(s) else REDACTED
        for s in parts.path.split("/")
    ]
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{'/'.join(segments)}{query}"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes known secrets and anything shaped like a bot token."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        """Remove secrets from a formatted line."""
        return redact(text, self.secrets)


# ---------------------------------------------------------------------------- the policy


def trusted(name: str) -> bool:
    """Whether a logger is ours (logs only ids and kinds) rather than a library's."""
    return any(name == p or name.startswith(p + ".") for p in TRUSTED_LOGGERS)


def apply_policy(record: logging.LogRecord) -> None:
    """Make one record safe in place; a record already seen is left alone."""
    if getattr(record, _DONE, False):
        return
    setattr(record, _DONE, True)
    try:
        if trusted(record.name):
            text = record.getMessage()
            safe = redact(text)
            if safe != text:
                record.msg, record.args = safe, None
            return
        record.msg, record.args = _summary(record), None
        _reduce_exception(record)
    except Exception:
        # A record we cannot read is a record we cannot vouch for; never break the caller.
        record.msg, record.args = f"{record.name}: {HIDDEN}", None
        record.exc_info, record.exc_text = None, None


def _summary(record: logging.LogRecord) -> str:
    """The library's own wording, with every argument that may be a payload hidden."""
    msg = record.msg
    if not isinstance(msg, str):
        return HIDDEN
    if not record.args:
        return redact(_free_text(msg))
    return redact(_render(msg, record.args))


def _free_text(text: str) -> str:
    """A pre-formatted line: its first words, up to where a payload usually starts."""
    cut = _PAYLOAD_START.search(text)
    head = text[: cut.start()] if cut else text
    if len(head) > _FREE_TEXT_MAX:
        head = head[:_FREE_TEXT_MAX]
    head = head.rstrip()
    if head == text:
        return text
    return f"{head} …" if head else HIDDEN


def _render(template: str, args: Any) -> str:
    """Fill a %-template with safe renderings of its arguments."""
    names = _NAME_SLOTS.get(template, frozenset())
    mapping = args if isinstance(args, Mapping) else None
    positional = iter(args if isinstance(args, tuple) else (args,))
    out: list[str] = []
    last = 0
    for index, spec in enumerate(_SPEC.finditer(template)):
        out.append(template[last : spec.start()])
        last = spec.end()
        if spec.group("conv") == "%":
            out.append("%")
            continue
        key = spec.group("key")
        value = mapping[key] if mapping is not None and key is not None else next(positional)
        out.append(_safe(value, spec.group(0), index in names))
    out.append(template[last:])
    return "".join(out)


def _safe(value: object, spec: str, name_slot: bool) -> str:
    """An argument as shown: numbers, HTTP words, reduced URLs and exception types; else hidden."""
    if value is None or isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        try:
            return re.sub(r"\([^)]*\)", "", spec) % value
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, BaseException):
        return type(value).__name__
    if type(value).__name__ == "URL":  # httpx.URL, yarl.URL
        value = str(value)
    if isinstance(value, str):
        if value in _HTTP_METHODS or value in _HTTP_PHRASES or _HTTP_VERSION.fullmatch(value):
            return value
        if _URL.fullmatch(value):
            return redact(value)
        if name_slot and _IDENTIFIER.fullmatch(value):
            return value
    return HIDDEN


def _reduce_exception(record: logging.LogRecord) -> None:
    """Below WARNING an exception is its type name; at WARNING and above, a redacted traceback."""
    if not record.exc_info:
        return
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else record.exc_info
    if record.levelno < logging.WARNING:
        if isinstance(exc, BaseException):
            record.msg = f"{record.msg} ({type(exc).__name__})"
        record.exc_info, record.exc_text = None, None
        return
    if isinstance(record.exc_info, BaseException):
        exc_info = (type(exc), exc, exc.__traceback__)
    else:
        exc_info = record.exc_info
    record.exc_text = redact(_TRACEBACKS.formatException(exc_info))


class LogPolicy(logging.Filter):
    """Applies the log policy to every record a handler (or logger) sees; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        apply_policy(record)
        return True


def _policy_factory(previous: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        apply_policy(record)
        return record

    setattr(factory, _PREVIOUS, previous)
    return factory


def install_policy() -> None:
    """Apply the policy to every record from every logger, whatever handler receives it.

    The record factory makes records safe as they are created, before any handler (ours, a
    library's own, pytest's) sees them; the handler filters cover records made by a factory
    someone installs after us. Calling it again is harmless.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, _PREVIOUS, None) is None:
        logging.setLogRecordFactory(_policy_factory(current))
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, LogPolicy) for f in handler.filters):
                handler.addFilter(LogPolicy())


def uninstall_policy() -> None:
    """Undo install_policy (for tests that must see raw records afterwards)."""
    current = logging.getLogRecordFactory()
    previous = getattr(current, _PREVIOUS, None)
    if previous is not None:
        logging.setLogRecordFactory(previous)
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            for f in [f for f in handler.filters if isinstance(f, LogPolicy)]:
                handler.removeFilter(f)


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Log to stderr through the redacting formatter, under the one log policy."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    for secret in secrets:
        register_secret(secret)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    install_policy()
    quiet = logging.WARNING if root.level > logging.DEBUG else logging.NOTSET
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
