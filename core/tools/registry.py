"""A registry of tools offered to tool-capable models."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from core.parts import ActionRows, Media


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returns: ``text`` goes to the model as the tool message; ``media``
    (images, audio, files) are shown in the chat as ``PartShown(MediaPart(...))``
    during the turn and are not sent to the model; ``actions`` are buttons shown with
    the media (a tool creates them with ``ChatCore.actions.create``)."""

    text: str
    media: tuple[Media, ...] = ()
    actions: ActionRows = ()


ToolHandler = Callable[[dict[str, Any]], Awaitable[str | ToolResult]]
"""Called with the parsed JSON arguments; returns text or a ``ToolResult``."""


def allowed_tools(setting: Any) -> list[str] | None:
    """The tool names a chat's ``tools`` setting allows (None: every tool).

    The setting is a list of names; a string is read as comma-separated names."""
    if setting is None:
        return None
    if isinstance(setting, str):
        return [name.strip() for name in setting.split(",") if name.strip()]
    return [str(name) for name in setting]


@dataclass(frozen=True, slots=True)
class Tool:
    """One callable tool: JSON-schema parameters and an async handler."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: ToolHandler


class ToolRegistry:
    """Tools by name; renders OpenAI ``tools`` and runs calls safely.

    ``allowed`` (a chat's ``tools`` setting) limits both: None means every
    registered tool."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        """Add (or replace) a tool."""
        self._tools[tool.name] = tool

    def __bool__(self) -> bool:
        return bool(self._tools)

    def names(self) -> list[str]:
        """Registered tool names, in registration order."""
        return list(self._tools)

    def schemas(self, allowed: Collection[str] | None = None) -> list[dict[str, Any]]:
        """The OpenAI ``tools`` parameter for the registered (and allowed) tools."""
        return [
            {"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters}}
            for t in self._tools.values() if allowed is None or t.name in allowed
        ]

    async def call(self, name: str, arguments: str,
                   allowed: Collection[str] | None = None) -> tuple[ToolResult, bool]:
        """Run a tool; returns (result, ok). Errors become text for the model."""
        tool = self._tools.get(name)
        if tool is None or (allowed is not None and name not in allowed):
            return ToolResult(f"error: unknown tool {name}"), False
        try:
            parsed = json.loads(arguments or "{}")
            if not isinstance(parsed, dict):
                return ToolResult("error: arguments must be a JSON object"), False
            result = await tool.handler(parsed)
        except json.JSONDecodeError:
            return ToolResult("error: arguments are not valid JSON"), False
        except Exception as exc:  # a tool failure is reported to the model, not raised
            return ToolResult(f"error: {type(exc).__name__}: {exc}"), False
        if isinstance(result, ToolResult):
            return result, True
        return ToolResult(str(result)), True
