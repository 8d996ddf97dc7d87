"""Who a tool call runs for: set by the engine around each call, read by tools that
need the chat (e.g. ``generate_image`` uses the chat's image settings and meters the
call for the requester)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from core.conversation.keys import Actor, ChatRef


@dataclass(frozen=True, slots=True)
class ToolContext:
    """The chat, the requester and the turn a tool call belongs to."""

    chat: ChatRef
    actor: Actor
    turn_id: str


TOOL_CONTEXT: ContextVar[ToolContext | None] = ContextVar("tool_context", default=None)


def current_tool_context() -> ToolContext | None:
    """The context of the running tool call (None outside a turn's tool call)."""
    return TOOL_CONTEXT.get()
