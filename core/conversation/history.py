"""Recent history per conversation, cached in memory in front of the store.

A conversation's recent messages (newest first) are loaded once, up to the token
budget of the turn, then kept current by appending each saved turn, so a turn reads
nothing from the database once its conversation is warm.  Assumes one process owns a
conversation key at a time (true for polling and for sticky webhook routing); with
several writers per conversation, disable it (``max_conversations=0``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.storage import NewMessage, Store, StoredMessage
from core.tokens import MESSAGE_OVERHEAD, estimate_text_tokens

HISTORY_PAGE = 128
IMAGE_PLACEHOLDER = "[image]"


def stored_cost(message: StoredMessage) -> int:
    """Tokens a stored message takes in a prompt (its saved estimate, else a new one)."""
    return message.tokens or estimate_text_tokens(message.content) + MESSAGE_OVERHEAD


def history_message(stored: StoredMessage) -> dict[str, Any]:
    """A stored message in OpenAI format (images become a placeholder)."""
    content = stored.content
    if stored.media:
        images = sum(1 for ref in stored.media if ref.get("kind") == "image")
        content = " ".join([IMAGE_PLACEHOLDER] * images + ([content] if content else []))
    message: dict[str, Any] = {"role": stored.role, "content": content}
    if stored.tool_calls:
        message["tool_calls"] = stored.tool_calls
    if stored.tool_call_id:
        message["tool_call_id"] = stored.tool_call_id
    if stored.name and stored.role == "tool":
        message["name"] = stored.name
    return message


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A stored message with its prompt form and token cost, computed once."""

    stored: StoredMessage
    prompt: dict[str, Any]
    """OpenAI-format message, shared between turns: never mutate it."""
    cost: int

    @classmethod
    def of(cls, stored: StoredMessage) -> HistoryEntry:
        return cls(stored, history_message(stored), stored_cost(stored))


@dataclass(slots=True)
class _Window:
    newest_first: list[HistoryEntry] = field(default_factory=list)
    tokens: int = 0
    complete: bool = False


class HistoryCache:
    """LRU of recent-message windows, bounded in conversations and tokens each."""

    def __init__(self, store: Store, *, max_conversations: int = 5000,
                 slack: float = 1.25) -> None:
        self._store = store
        self._max = max_conversations
        self._slack = slack
        self._windows: OrderedDict[int, _Window] = OrderedDict()

    async def recent(self, conversation_id: int, budget: int) -> list[HistoryEntry]:
        """Newest-first messages covering at least ``budget`` tokens (or all there are)."""
        window = self._windows.get(conversation_id)
        if window is None or not (window.complete or window.tokens >= budget):
            window = await self._load(conversation_id, budget)
            if self._max:
                self._windows[conversation_id] = window
        if self._max:
            self._windows.move_to_end(conversation_id)
            while len(self._windows) > self._max:
                self._windows.popitem(last=False)
        return window.newest_first

    async def _load(self, conversation_id: int, budget: int) -> _Window:
        window = _Window()
        before: int | None = None
        while window.tokens < budget:
            page = await self._store.load_recent_messages(
                conversation_id, limit=HISTORY_PAGE, before_id=before)
            entries = [HistoryEntry.of(stored) for stored in page]
            window.newest_first.extend(entries)
            window.tokens += sum(entry.cost for entry in entries)
            if len(page) < HISTORY_PAGE:
                window.complete = True
                break
            before = page[-1].id
        return window

    def append(self, conversation_id: int, ids: list[int], messages: list[NewMessage],
               turn_id: str, budget: int) -> None:
        """Add a just-saved turn (oldest message first) to a cached window."""
        window = self._windows.get(conversation_id)
        if window is None:
            return
        now = datetime.now(UTC)
        for message_id, new in zip(ids, messages, strict=True):
            stored = StoredMessage(
                id=message_id, conversation_id=conversation_id, turn_id=turn_id,
                role=new.role, content=new.content, media=new.media, name=new.name,
                tool_call_id=new.tool_call_id, tool_calls=new.tool_calls, tokens=new.tokens,
                model=new.model, created_at=now)
            entry = HistoryEntry.of(stored)
            window.newest_first.insert(0, entry)
            window.tokens += entry.cost
        limit = int(budget * self._slack)
        while window.newest_first and window.tokens - window.newest_first[-1].cost >= limit:
            window.tokens -= window.newest_first.pop().cost
            window.complete = False

    def forget(self, conversation_id: int) -> None:
        """Drop a conversation's window (e.g. after /new)."""
        self._windows.pop(conversation_id, None)
