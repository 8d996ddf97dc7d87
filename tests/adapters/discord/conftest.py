"""End-to-end harness: fake gateway + fake Discord + a real ChatCore + a DiscordBot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord.http
import pytest

from adapters.discord import DiscordBot
from adapters.discord.settings import DiscordSettings
from core.app import ChatCore
from core.config import AppSettings
from tests.fakes.discord import FakeDiscord, FakeInteraction, FakeMessage
from tests.fakes.gateway import FakeGateway

USER = 4242
ADMIN = 1  # the fake guild's owner_id: Discord gives the owner every permission
EDIT_INTERVAL = 0.25
"""Tests scale Discord's 5 writes / 5 s per channel down to 5 / 1 s (see ``world``), so
0.25 s between writes mirrors production's 1.2 s."""


@dataclass
class DiscordWorld:
    """Everything a transcript test touches."""

    dc: FakeDiscord
    gateway: FakeGateway
    core: ChatCore
    bot: DiscordBot
    settings: DiscordSettings
    tmp_path: Path

    @property
    def channel(self) -> int:
        """The guild text channel."""
        return self.dc.text_channel_id

    def bot_messages(self, channel_id: int) -> list[FakeMessage]:
        """The bot's visible messages in a channel (current state)."""
        return self.dc.channel_messages(channel_id)

    async def wait_final(self, channel_id: int, text: str, *, timeout: float = 5.0
                         ) -> list[FakeMessage]:
        """Wait until a bot message contains ``text`` and no message shows a button."""
        def done() -> list[FakeMessage] | None:
            messages = self.bot_messages(channel_id)
            if any(text in m.content for m in messages) and not any(
                    m.components for m in messages):
                return messages
            return None

        result: list[FakeMessage] = await self.dc.wait_until(done, timeout=timeout)
        return result

    async def wait_ephemeral(self, inter: FakeInteraction, timeout: float = 5.0) -> str:
        """Wait for an ephemeral follow-up (or ephemeral original) and return its text."""
        def found() -> str | None:
            for response in inter.responses:
                if response.kind == "followup" and response.ephemeral and response.content:
                    return response.content
            original = inter.original
            if inter.ephemeral and original is not None and not original.loading:
                return original.content
            return None

        result: str = await self.dc.wait_until(found, timeout=timeout)
        return result

    async def wait_original(self, inter: FakeInteraction,
                            predicate: Callable[[str], bool] = bool,
                            timeout: float = 5.0) -> str:
        """Wait until the original response is no longer loading and matches ``predicate``."""
        def ready() -> str | None:
            original = inter.original
            if original is not None and not original.loading and predicate(original.content):
                return original.content
            return None

        result: str = await self.dc.wait_until(ready, timeout=timeout)
        return result

    def chat_bodies(self) -> list[dict[str, Any]]:
        """Chat-completion request bodies the gateway received."""
        return self.gateway.chat_requests()


def make_settings(gateway: FakeGateway, dc: FakeDiscord, tmp_path: Path,
                  **overrides: Any) -> AppSettings:
    """Settings pointing the core at the fake gateway and the bot at the fake Discord."""
    values: dict[str, Any] = {
        "gateway_base_url": gateway.url, "gateway_api_key": "gw-key",
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/d.db",
        "data_dir": tmp_path, "burst_window": 0.05, "burst_max_wait": 0.5,
        "models_refresh_interval": 0, "gateway_max_retries": 0,
        "default_model": "gpt-3.5-turbo",
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)  # type: ignore[call-arg]


def make_bot_settings(dc: FakeDiscord, **overrides: Any) -> DiscordSettings:
    """``DISCORD_*`` settings pointing the bot at the fake Discord."""
    values: dict[str, Any] = {"bot_token": dc.token, "api_base": dc.api_base,
                              "gateway_url": dc.gateway_url, "dev_guild_id": dc.guild_id,
                              **overrides}
    return DiscordSettings(_env_file=None, **values)  # type: ignore[call-arg]


async def start_bot(core: ChatCore, settings: DiscordSettings,
                    edit_interval: float = EDIT_INTERVAL) -> DiscordBot:
    """A started DiscordBot with fast test timings."""
    bot = DiscordBot(core, settings, edit_interval=edit_interval, guild_ready_timeout=0.1,
                     ready_timeout=10.0)
    await bot.start()
    return bot


@pytest.fixture
def edit_interval() -> float:
    """Override to change the bot's per-channel write interval."""
    return EDIT_INTERVAL


@pytest.fixture
async def world(fake_gateway: FakeGateway, fake_discord: FakeDiscord, tmp_path: Path,
                edit_interval: float) -> AsyncIterator[DiscordWorld]:
    """The running world; Route.BASE is restored afterwards."""
    base = discord.http.Route.BASE
    fake_discord.limits.window = 1.0  # 5 writes per channel per second
    fake_discord.add_member(USER, "ann")
    fake_discord.add_member(ADMIN, "owner")
    core = await ChatCore.create(make_settings(fake_gateway, fake_discord, tmp_path))
    settings = make_bot_settings(fake_discord)
    bot = await start_bot(core, settings, edit_interval)
    try:
        yield DiscordWorld(fake_discord, fake_gateway, core, bot, settings, tmp_path)
    finally:
        await bot.stop()
        await core.close()
        discord.http.Route.BASE = base
