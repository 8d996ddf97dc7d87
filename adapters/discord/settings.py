"""``DiscordSettings``: the ``DISCORD_*`` variables (documented in ``.env.example``)."""

from __future__ import annotations

from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from adapters.contract import AdapterSettings
from core.config import check_http_url


class DiscordSettings(AdapterSettings):
    """Discord bot settings; env var = ``DISCORD_`` + upper-cased field name."""

    model_config = SettingsConfigDict(env_prefix="DISCORD_")

    bot_token: SecretStr | None = None
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    dev_guild_id: int | None = None
    application_id: int | None = None

    def enabled(self) -> bool:
        """The Discord bot starts when ``DISCORD_BOT_TOKEN`` is set."""
        return bool(self.token)

    @property
    def token(self) -> str:
        """The plain bot token ('' when unset)."""
        return self.bot_token.get_secret_value() if self.bot_token else ""

    @field_validator("api_base")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_http_url(value)

    @field_validator("gateway_url")
    @classmethod
    def _check_ws_url(cls, value: str) -> str:
        return check_http_url(value, ("ws", "wss"))
