"""Registry entry of the console adapter (see ``adapters.contract.AdapterPlugin``)."""

from __future__ import annotations

from adapters.console.app import ConsoleAdapter, ConsoleSettings
from adapters.contract import Adapter, AdapterPlugin
from core.app import ChatCore


def _create(core: ChatCore, settings: ConsoleSettings) -> Adapter:
    return ConsoleAdapter(core, settings)


PLUGIN = AdapterPlugin("console", ConsoleSettings, _create)
