"""Tool calling: functions the model may call during a turn."""

from core.tools.registry import Tool, ToolRegistry

__all__ = ["Tool", "ToolRegistry"]
