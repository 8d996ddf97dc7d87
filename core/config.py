"""Application settings from the environment and ``.env`` (pydantic-settings).

Every field is documented in ``.env.example``.  ``load_settings`` turns a missing or
invalid setting into one clear line naming the variable (see ``bots.__main__``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or invalid; ``str()`` is one line naming the variable."""


class AppSettings(BaseSettings):
    """All chatbridge settings; env var names are the upper-cased field names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    gateway_base_url: str = "https://api.gaiasc.com"
    gateway_api_key: SecretStr = SecretStr("")
    default_model: str = "gpt-3.5-turbo"
    request_timeout: float = Field(default=120.0, gt=0)
    gateway_max_retries: int = Field(default=3, ge=0, le=10)
    gateway_stream_usage: bool = True
    gateway_retry_backoff: float = Field(default=0.5, ge=0)
    models_refresh_interval: float = Field(default=3600.0, ge=0)
    extra_models_file: Path | None = None

    database_url: str = "sqlite+aiosqlite:///./data/chatbridge.db"

    admin_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_language: str = "en"
    default_persona: str = ""
    burst_window: float = Field(default=0.0, ge=0)
    """Seconds an ordinary message waits for followers (0: answered at once; adapters flag
    possible split parts with ``expect_more``, which wait up to ``burst_max_wait``)."""
    burst_max_wait: float = Field(default=2.0, ge=0)
    max_input_chars: int = Field(default=32000, gt=0)
    max_image_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_document_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    max_output_tokens: int = Field(default=2048, gt=0)

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "0.0.0.0"
    telegram_webhook_port: int = Field(default=8080, gt=0, lt=65536)
    telegram_webhook_path: str = "/telegram/webhook"

    discord_bot_token: SecretStr | None = None
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    discord_dev_guild_id: int | None = None
    discord_application_id: int | None = None

    data_dir: Path = Path("./data")
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [str(value)]
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("gateway_base_url", "telegram_api_url", "discord_api_base")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite+aiosqlite:/// or postgresql+asyncpg:// URL")
        return value

    def secret(self, field: SecretStr | None) -> str:
        """The plain value of a secret field ('' when unset)."""
        return field.get_secret_value() if field is not None else ""


def load_settings(**overrides: Any) -> AppSettings:
    """Load settings, raising ``SettingsError`` with one line naming the bad variable."""
    try:
        return AppSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "?"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
