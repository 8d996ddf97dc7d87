"""Plain value types exchanged between the storage layer and the conversation engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.events import Usage

MESSAGE_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as read back from the database."""

    id: int
    conversation_id: int
    turn_id: str
    role: str
    content: str
    media: list[dict[str, Any]] | None
    name: str | None
    tool_call_id: str | None
    tool_calls: list[dict[str, Any]] | None
    tokens: int
    model: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message the engine hands in to be stored as part of a turn."""

    role: str
    content: str
    tokens: int = 0
    media: list[dict[str, Any]] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One usage-ledger row: one gateway call (``core.metering``).

    ``kind``: chat | image | mj | audio | embedding | moderation; ``outcome``: ok |
    failed | cancelled; ``units``/``unit``: images, seconds or characters for non-token
    calls; ``cost`` in the catalog's currency, ``None`` when unknown."""

    platform: str
    chat_id: str
    user_id: str
    model: str
    usage: Usage
    kind: str = "chat"
    cost: float | None = None
    outcome: str = "ok"
    units: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class ScopeKey:
    """Settings scope; ``''`` means "any" (chat and user both ``''`` is platform-wide)."""

    platform: str = ""
    chat_id: str = ""
    user_id: str = ""
