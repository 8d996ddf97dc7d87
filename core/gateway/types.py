"""Plain data exchanged with the gateway client (no SDK types leak out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.events import Usage


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion request in OpenAI message format."""

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    max_tokens: int | None = None
    tools: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A fully assembled tool call requested by the model."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One piece of a streamed answer.

    ``text`` is new answer text.  The last chunk carries ``finish_reason``, the
    assembled ``tool_calls`` and ``usage`` (when the gateway reported it).
    """

    text: str = ""
    finish_reason: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A complete (non-streamed) chat answer."""

    text: str
    model: str
    finish_reason: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
