"""Third-party tools from the ``chatbridge.tools`` entry-point group.

A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."chatbridge.tools"]
    weather = "my_package.tools:weather_tool"

Each entry point loads either a ``Tool`` or a callable returning a ``Tool`` or an
iterable of ``Tool``. A broken entry point is logged (one warning line) and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import metadata

from core.tools.registry import Tool, ToolRegistry

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "chatbridge.tools"


def _tools_of(loaded: object) -> list[Tool]:
    if isinstance(loaded, Tool):
        return [loaded]
    if callable(loaded):
        produced = loaded()
        if isinstance(produced, Tool):
            return [produced]
        if isinstance(produced, Iterable):
            tools = list(produced)
            if all(isinstance(tool, Tool) for tool in tools):
                return tools
    raise TypeError("expected a Tool or a callable returning Tools")


def load_entry_point_tools(registry: ToolRegistry, group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Register the tools of every entry point in ``group``; returns their names."""
    names: list[str] = []
    for entry_point in metadata.entry_points(group=group):
        try:
            tools = _tools_of(entry_point.load())
        except Exception as exc:  # a plugin must never stop the bot from starting
            log.warning("tool entry point %s (%s) skipped: %s: %s", entry_point.name,
                        entry_point.value, type(exc).__name__, exc)
            continue
        for tool in tools:
            registry.register(tool)
            names.append(tool.name)
    return names
