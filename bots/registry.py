"""The adapter registry: built-in platforms plus the entry-point group
``chatbridge.adapters`` (each entry point loads an ``adapters.contract.AdapterPlugin``).

A distribution adds a platform with, in its ``pyproject.toml``::

    [project.entry-points."chatbridge.adapters"]
    matrix = "chatbridge_matrix:PLUGIN"
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from adapters.contract import AdapterPlugin

log = logging.getLogger("bots")

ENTRY_POINT_GROUP = "chatbridge.adapters"
BUILTIN: dict[str, str] = {
    "telegram": "adapters.telegram.plugin:PLUGIN",
    "discord": "adapters.discord.plugin:PLUGIN",
    "console": "adapters.console.plugin:PLUGIN",
}
"""Built-in platforms: name -> ``module:attribute`` of their ``AdapterPlugin``."""


def _load(target: str) -> AdapterPlugin:
    module, _, attribute = target.partition(":")
    plugin = getattr(importlib.import_module(module), attribute)
    if not isinstance(plugin, AdapterPlugin):
        raise TypeError(f"{target} is not an AdapterPlugin")
    return plugin


def registered() -> dict[str, str]:
    """Every platform name -> its plugin target (built-ins win over entry points)."""
    targets = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**targets, **BUILTIN}


def load_plugin(name: str) -> AdapterPlugin:
    """The plugin registered as ``name``; ``KeyError`` when unknown."""
    return _load(registered()[name])


def load_plugins() -> dict[str, AdapterPlugin]:
    """Every registered plugin; one that fails to import is logged and skipped."""
    plugins: dict[str, AdapterPlugin] = {}
    for name, target in registered().items():
        try:
            plugins[name] = _load(target)
        except Exception as exc:  # a broken third-party plugin must not stop the others
            log.error("adapter %s (%s) not loaded: %s: %s", name, target,
                      type(exc).__name__, exc)
    return plugins
