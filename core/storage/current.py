"""The current conversation of each key: an LRU cache plus coalesced lookups.

A cache miss does not query on its own. Misses are batched (``BatchLoader``): one
``SELECT … WHERE key IN (…) AND archived_at IS NULL`` for every key missed while the
previous batch was in flight, then the keys without an open conversation go to the
single writer (``TurnWriter.open_conversations``), which creates them in one
multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING``. Concurrent calls for the
same key share one future, so a cold burst of N new keys costs a few statements
instead of N lookups plus N serialized write transactions.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from core.storage.batching import BatchLoader
from core.storage.conversations import ConversationRepository
from core.storage.turn_writer import TurnWriter

CURRENT_CONVERSATION_CACHE_SIZE = 10_000
"""Keys whose current conversation id ``Store`` remembers (least recently used out)."""

MAX_LOOKUP_BATCH = 500
"""Keys looked up (and opened) per batch at most; bounds the bind parameters."""


class CurrentConversations:
    """``Store.current_conversation`` and ``start_new_conversation`` (see the module
    docstring and ``Store``)."""

    def __init__(self, conversations: ConversationRepository, writer: TurnWriter) -> None:
        self._conversations = conversations
        self._writer = writer
        self._current: OrderedDict[str, int] = OrderedDict()
        self._loading: dict[str, asyncio.Future[int]] = {}
        self._loader: BatchLoader[str, int] = BatchLoader(
            self._fetch, max_batch=MAX_LOOKUP_BATCH, name="chatbridge-current-conversations"
        )

    async def get(self, key: str) -> int:
        cached = self._current.get(key)
        if cached is not None:
            self._current.move_to_end(key)
            return cached
        future = self._loading.get(key)
        if future is None:
            future = self._loader.load(key)
            self._loading[key] = future
            future.add_done_callback(lambda done: self._loaded(key, done))
        # shield: a cancelled caller must not cancel the lookup shared with others.
        return await asyncio.shield(future)

    async def start_new(self, key: str) -> int:
        created = await self._conversations.start_new(key)
        self._current[key] = created
        return self._remember(key, created)

    def forget(self, keys: list[str]) -> None:
        """Drop cached ids of ``keys`` (their rows were renamed or deleted)."""
        for key in keys:
            self._current.pop(key, None)

    async def close(self) -> None:
        """Wait for the lookups in flight (before the writer is closed)."""
        await self._loader.close()

    def _loaded(self, key: str, future: asyncio.Future[int]) -> None:
        if self._loading.get(key) is future:
            del self._loading[key]

    async def _fetch(self, keys: list[str]) -> dict[str, int]:
        found = await self._conversations.find_current(keys)
        missing = [key for key in keys if key not in found]
        if missing:
            found.update(await self._writer.open_conversations(missing))
        # setdefault: a start_new_conversation that finished meanwhile wins.
        return {key: self._remember(key, self._current.setdefault(key, found[key])) for key in keys}

    def _remember(self, key: str, conversation_id: int) -> int:
        self._current.move_to_end(key)
        while len(self._current) > CURRENT_CONVERSATION_CACHE_SIZE:
            self._current.popitem(last=False)
        return conversation_id
