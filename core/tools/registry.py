"""A registry of tools offered to tool-capable models."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

ToolHandler = Callable[[dict[str, Any]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Tool:
    """One callable tool: JSON-schema parameters and an async handler returning text."""

    name: str
    description: str
    parameters: dict[str, Any]
    handler: ToolHandler


class ToolRegistry:
    """Tools by name; renders OpenAI ``tools`` and runs calls safely."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        """Add (or replace) a tool."""
        self._tools[tool.name] = tool

    def __bool__(self) -> bool:
        return bool(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """The OpenAI ``tools`` parameter for every registered tool."""
        return [
            {"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters}}
            for t in self._tools.values()
        ]

    async def call(self, name: str, arguments: str) -> tuple[str, bool]:
        """Run a tool; returns (result text, ok). Errors become text for the model."""
        tool = self._tools.get(name)
        if tool is None:
            return f"error: unknown tool {name}", False
        try:
            parsed = json.loads(arguments or "{}")
            if not isinstance(parsed, dict):
                return "error: arguments must be a JSON object", False
            return await tool.handler(parsed), True
        except json.JSONDecodeError:
            return "error: arguments are not valid JSON", False
        except Exception as exc:  # a tool failure is reported to the model, not raised
            return f"error: {type(exc).__name__}: {exc}", False
