"""Registry entry of the Discord adapter (see ``adapters.contract.AdapterPlugin``)."""

from __future__ import annotations

from adapters.contract import Adapter, AdapterPlugin
from adapters.discord.settings import DiscordSettings
from core.app import ChatCore


def _create(core: ChatCore, settings: DiscordSettings) -> Adapter:
    from adapters.discord.app import DiscordBot

    return DiscordBot(core, settings)


PLUGIN = AdapterPlugin("discord", DiscordSettings, _create)
