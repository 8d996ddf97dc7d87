"""``TelegramSettings``: the ``TELEGRAM_*`` variables (documented in ``.env.example``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from adapters.contract import AdapterSettings
from core.config import check_http_url


class TelegramSettings(AdapterSettings):
    """Telegram bot settings; env var = ``TELEGRAM_`` + upper-cased field name."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    bot_token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, gt=0, lt=65536)
    webhook_path: str = "/telegram/webhook"

    def enabled(self) -> bool:
        """The Telegram bot starts when ``TELEGRAM_BOT_TOKEN`` is set."""
        return bool(self.token)

    @property
    def token(self) -> str:
        """The plain bot token ('' when unset)."""
        return self.bot_token.get_secret_value() if self.bot_token else ""

    @field_validator("api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str) -> str:
        return check_http_url(value, ("https",)) if value else value

    @field_validator("webhook_path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value
