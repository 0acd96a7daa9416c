"""Every knob, from the environment or a .env file (pydantic-settings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return user_data_path("si-checkin", appauthor=False)


class Settings(BaseSettings):
    """Configuration for one bot process. Names are the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias=AliasChoices("SI_CHECKIN_DATA_DIR", "data_dir"),
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("SI_CHECKIN_LOG_LEVEL", "log_level")
    )
    default_timezone: str = Field(
        default="UTC", validation_alias=AliasChoices("SI_CHECKIN_DEFAULT_TZ", "default_timezone")
    )
    grace_minutes: int = Field(
        default=30,
        ge=0,
        le=24 * 60,
        validation_alias=AliasChoices("SI_CHECKIN_GRACE_MINUTES", "grace_minutes"),
    )

    telegram_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_TOKEN", "telegram_token")
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "telegram_api_url"),
    )
    telegram_file_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_FILE_URL", "telegram_file_url")
    )
    telegram_webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "telegram_webhook_url")
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"),
    )
    # Minutes of lateness past which a reminder goes as a paid broadcast (allow_paid_broadcast:
    # up to 1000 messages/s, Stars from the bot's balance; README "Paid broadcasts on
    # Telegram"). Unset: never paid.
    telegram_paid_broadcast_after: float | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices(
            "TELEGRAM_PAID_BROADCAST_AFTER", "telegram_paid_broadcast_after"
        ),
    )
    port: int = Field(default=8443, validation_alias=AliasChoices("PORT", "port"))

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token")
    )
    discord_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_API_URL", "discord_api_url")
    )
    discord_gateway_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_GATEWAY_URL", "discord_gateway_url")
    )
    # Sharding: a count alone runs every shard in this process (AutoShardedClient); with ids
    # ("0,1") this process runs only those, so shards can be spread over several processes.
    discord_shard_count: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("DISCORD_SHARD_COUNT", "discord_shard_count"),
    )
    discord_shard_ids: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_SHARD_IDS", "discord_shard_ids")
    )

    def shard_ids(self) -> list[int] | None:
        """DISCORD_SHARD_IDS as integers (None when unset)."""
        if not self.discord_shard_ids:
            return None
        return [int(x) for x in self.discord_shard_ids.replace(" ", "").split(",") if x]

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        # People paste plain URLs from their host; we only speak the async drivers.
        if not url:
            return None
        for plain, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, url: str | None) -> str | None:
        # Telegram only delivers webhooks over HTTPS; catch it here, not in a setWebhook error.
        if not url:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "https" or not parts.hostname:
            # The value is not repeated: a path may carry something secret.
            raise ValueError(
                "must be an https:// URL with a host name, e.g. https://bot.example.org/telegram"
                " (Telegram only delivers webhooks over HTTPS)"
            )
        return url.strip()

    @property
    def grace(self) -> timedelta:
        """How late a missed reminder may still be sent after downtime."""
        return timedelta(minutes=self.grace_minutes)

    @property
    def paid_broadcast_after(self) -> timedelta | None:
        """How late a Telegram reminder may get before it goes as a paid broadcast (None: never)."""
        if self.telegram_paid_broadcast_after is None:
            return None
        return timedelta(minutes=self.telegram_paid_broadcast_after)

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'si-checkin.sqlite3'}"
