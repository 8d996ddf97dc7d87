"""Registry entry of the Telegram adapter (see ``adapters.contract.AdapterPlugin``)."""

from __future__ import annotations

from adapters.contract import Adapter, AdapterPlugin
from adapters.telegram.settings import TelegramSettings
from core.app import ChatCore


def _create(core: ChatCore, settings: TelegramSettings) -> Adapter:
    from adapters.telegram.app import TelegramBot

    return TelegramBot(core, settings)


PLUGIN = AdapterPlugin("telegram", TelegramSettings, _create)
