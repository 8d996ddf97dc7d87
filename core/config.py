"""Application settings from the environment and ``.env`` (pydantic-settings).

Every field is documented in ``.env.example``.  An empty value (``NAME=``) means "not
set" for every field (``env_ignore_empty``), so ``.env.example`` loads unchanged.
``load_settings`` turns a missing or invalid setting into one clear line naming the
variable (see ``bots.__main__``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.models.catalog import read_extra_models
from core.storage.urls import normalize_url


def site_root(url: str) -> str:
    """The site root of a gateway URL: ``https://h``, ``https://h/`` and ``https://h/v1/``
    all give ``https://h`` (the OpenAI SDK base is ``site_root + "/v1"``)."""
    root = url.strip().rstrip("/")
    if root.lower().endswith("/v1"):
        root = root[:-3].rstrip("/")
    return root


def check_http_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``value`` stripped of blanks and a trailing ``/``; ``ValueError`` unless it is a
    ``<scheme>://host[:port]...`` URL with one of ``schemes`` (validators of settings)."""
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
    try:
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ValueError("has an invalid port") from None
    return value.strip().rstrip("/")


class SettingsError(Exception):
    """A setting is missing or invalid; ``str()`` is one line naming the variable."""


class AppSettings(BaseSettings):
    """The core's settings; env var names are the upper-cased field names.

    Platform settings (``TELEGRAM_*``, ``DISCORD_*``) are the adapters' own classes, see
    ``adapters.contract.AdapterSettings``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        env_ignore_empty=True,
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
    """SQLite (a file, ``sqlite://`` in memory: lost at exit, or a ``file:`` URI filename
    with ``uri=true``) or PostgreSQL; every accepted form: ``core.storage.urls``."""

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
    image_daily_allowance: int = Field(default=20, ge=0)
    """Images per user per day (UTC) by default; 0 = unlimited (chat admins override
    it per chat: ``/settings image_daily_allowance <n> chat``)."""
    image_jobs_per_chat: int = Field(default=2, ge=0)
    image_jobs_per_user: int = Field(default=1, ge=0)

    mj_speed: str = ""
    mj_task_timeout: float = Field(default=600.0, gt=0)
    mj_refunds_failed: bool = True

    data_dir: Path = Path("./data")
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            ids = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            bad = [part for part in ids if not part.isdigit()]
            if bad:
                raise ValueError(f"{bad[0]!r} is not a numeric user id (comma-separated ids)")
            return ids
        if isinstance(value, int):
            return [str(value)]
        return value

    @field_validator("mj_speed")
    @classmethod
    def _check_mj_speed(cls, value: str) -> str:
        speed = value.strip().lower()
        if speed not in {"", "fast", "relax", "turbo"}:
            raise ValueError("must be fast, relax, turbo or empty (the gateway's default)")
        return speed

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("gateway_base_url")
    @classmethod
    def _check_gateway_url(cls, value: str) -> str:
        return site_root(check_http_url(value))

    @field_validator("default_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        if value.lower() not in {"en", "zh"}:
            raise ValueError("must be en or zh")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        normalize_url(value)  # ValueError: one line naming the problem (core.storage.urls)
        return value

    @field_validator("extra_models_file")
    @classmethod
    def _check_extra_models(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_extra_models(value)  # ValueError names the problem
        return value

    @field_validator("data_dir")
    @classmethod
    def _check_data_dir(cls, value: Path) -> Path:
        existing = value
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            raise ValueError(f"{existing} is not a directory")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ValueError(f"{existing} is not writable")
        return value

    @property
    def gateway_api_base(self) -> str:
        """The OpenAI-style base, ``<site root>/v1`` (``gateway_base_url`` is the root)."""
        return f"{self.gateway_base_url}/v1"

    def secret(self, field: SecretStr | None) -> str:
        """The plain value of a secret field ('' when unset)."""
        return field.get_secret_value() if field is not None else ""


Settings = TypeVar("Settings", bound=BaseSettings)


def load_settings_of(cls: type[Settings], **overrides: Any) -> Settings:
    """Load any settings class, raising ``SettingsError`` with one line naming the bad
    variable (its ``env_prefix`` + field name, upper-cased, e.g. ``TELEGRAM_BOT_TOKEN``)."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = str(cls.model_config.get("env_prefix") or "")
        name = (prefix + str(first["loc"][0])).upper() if first["loc"] else "?"
        message = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        raise SettingsError(f"invalid setting {name}: {message}") from None
    except (OSError, UnicodeDecodeError) as exc:  # .env unreadable (a folder, not UTF-8…)
        raise SettingsError(f"cannot read .env: {type(exc).__name__}: {exc}") from None


def load_settings(**overrides: Any) -> AppSettings:
    """Load the core's settings, raising ``SettingsError`` with one line naming the bad
    variable.  Platform settings live with their adapters (``adapters.contract``)."""
    return load_settings_of(AppSettings, **overrides)
