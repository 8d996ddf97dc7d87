"""Tools a third-party package would expose through the ``chatbridge.tools`` entry points."""

from __future__ import annotations

from typing import Any

from core.parts import Media
from core.tools import Tool, ToolResult

RED_DOT = b"\x89PNG\r\n\x1a\nplugin-red-dot"


async def _stamp(args: dict[str, Any]) -> ToolResult:
    return ToolResult(f"stamped {args['word']}", media=(
        Media("image", data=RED_DOT, mime="image/png", caption=args["word"]),))


async def _echo(args: dict[str, Any]) -> str:
    return str(args.get("text", ""))


stamp_tool = Tool("stamp", "Stamp a word on an image",
                  {"type": "object", "properties": {"word": {"type": "string"}}}, _stamp)


def more_tools() -> list[Tool]:
    """A factory entry point returning several tools."""
    return [Tool("echo", "Echo text", {"type": "object", "properties": {}}, _echo)]


not_a_tool = 42
