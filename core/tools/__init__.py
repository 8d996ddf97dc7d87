"""Tool calling: functions the model may call during a turn."""

from core.tools.plugins import ENTRY_POINT_GROUP, load_entry_point_tools
from core.tools.registry import Tool, ToolHandler, ToolRegistry, ToolResult, allowed_tools

__all__ = ["ENTRY_POINT_GROUP", "Tool", "ToolHandler", "ToolRegistry", "ToolResult",
           "allowed_tools", "load_entry_point_tools"]
