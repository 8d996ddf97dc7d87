"""``Store``: the storage facade the conversation engine talks to."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.events import Usage
from core.storage.actions_repo import ActionsRepository
from core.storage.batching import BatchLoader
from core.storage.chat_moves import ChatMove, move_chat
from core.storage.conversations import ConversationRepository
from core.storage.current import CURRENT_CONVERSATION_CACHE_SIZE, CurrentConversations
from core.storage.engine import DEFAULT_URL, Database, create_engine, migrate
from core.storage.settings_repo import SettingsRepository
from core.storage.turn_writer import TurnWriter
from core.storage.types import NewMessage, ScopeKey, StoredMessage, UsageRecord
from core.storage.usage import UsageRepository

__all__ = ["CURRENT_CONVERSATION_CACHE_SIZE", "MAX_SETTINGS_BATCH", "Store"]

MAX_SETTINGS_BATCH = 500
"""Scopes read per settings query at most (three bind parameters each)."""


class Store:
    """Conversations, settings and usage on SQLite (default) or PostgreSQL.

    ``current_conversation`` answers from an in-process cache that only this
    process's ``start_new_conversation`` updates. That assumes one process owns a
    conversation key: when several processes serve the same keys (scale-out), route
    each key to one process, or a process may keep writing to a conversation that
    another one has archived.

    Cold lookups are coalesced: concurrent ``current_conversation`` misses and
    concurrent ``get_settings`` calls are answered by batched queries (see
    ``current`` and ``batching``), so a burst of new chats costs a few statements.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conversations = ConversationRepository(db)
        self._turns = TurnWriter(db, self._conversations)
        self._current = CurrentConversations(self._conversations, self._turns)
        self._settings = SettingsRepository(db)
        self._settings_loader: BatchLoader[ScopeKey, dict[str, Any]] = BatchLoader(
            lambda scopes: self._settings.get(scopes),
            max_batch=MAX_SETTINGS_BATCH,
            name="chatbridge-settings-reads",
        )
        self._usage = UsageRepository(db)
        self.actions = ActionsRepository(db)
        """Button state rows (see ``core.actions``)."""

    @classmethod
    async def open(cls, url: str = DEFAULT_URL, *, echo: bool = False) -> Store:
        """Connect to ``url`` and apply pending migrations."""
        engine = create_engine(url, echo=echo)
        try:
            await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(Database(engine))

    async def close(self) -> None:
        """Finish every queued lookup and ``save_turn``, then close the connections."""
        await self._settings_loader.close()
        await self._current.close()
        await self._turns.close()
        await self._db.dispose()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    # conversations

    async def current_conversation(self, key: str) -> int:
        """Id of the newest non-archived conversation for ``key``; creates one if none.

        Cached per process (see the class docstring); concurrent misses are looked
        up (and created) together, and calls for the same key share one lookup."""
        return await self._current.get(key)

    async def start_new_conversation(self, key: str) -> int:
        """Archive the current conversation for ``key`` and return a new one's id."""
        return await self._current.start_new(key)

    async def load_recent_messages(
        self, conversation_id: int, *, limit: int, before_id: int | None = None
    ) -> list[StoredMessage]:
        """Newest first; ``before_id`` pages to messages older than that id."""
        return await self._conversations.load_recent(
            conversation_id, limit=limit, before_id=before_id
        )

    async def count_messages(self, conversation_id: int) -> int:
        return await self._conversations.count(conversation_id)

    async def save_turn(
        self,
        conversation_id: int,
        turn_id: str,
        messages: Sequence[NewMessage],
        usage: UsageRecord | None,
    ) -> list[int]:
        """Store all messages and the ledger row atomically; returns the message ids
        after the commit.

        Concurrent calls are group-committed (see ``turn_writer``): one transaction
        per batch, each turn isolated, so a failing turn fails only its own call. Once
        called, the turn is written even if the caller is cancelled while waiting.
        """
        return await self._turns.save_turn(conversation_id, turn_id, messages, usage)

    async def bulk_insert_messages(
        self, conversation_id: int, messages: Sequence[NewMessage]
    ) -> None:
        """Fast insert for imports and benchmarks (one transaction, no ids returned)."""
        await self._conversations.bulk_insert(conversation_id, messages)

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> ChatMove:
        """Move a chat's conversations, settings and usage to a new chat id in one
        transaction (see ``chat_moves.move_chat``); idempotent. Cached current
        conversations of the old and new keys are forgotten."""
        move = await move_chat(self._db.engine, platform, old_chat_id, new_chat_id)
        self._current.forget([*move.keys, *move.keys.values()])
        return move

    # settings

    async def get_settings(self, scopes: Sequence[ScopeKey]) -> dict[ScopeKey, dict[str, Any]]:
        """``{scope: {name: value}}`` for every requested scope.

        Concurrent calls are coalesced: the scopes requested while a settings query
        is in flight are read together by the next one, which starts when it returns
        (no timer), so a call still sees every write that completed before it."""
        if not scopes:
            return {}
        futures = {scope: self._settings_loader.load(scope) for scope in scopes}
        # shield: the futures are shared with concurrent callers.
        values = await asyncio.gather(*(asyncio.shield(f) for f in futures.values()))
        # Copies: callers of the same batch must not share mutable dicts.
        return {scope: dict(value) for scope, value in zip(futures, values, strict=True)}

    async def set_setting(self, scope: ScopeKey, name: str, value: Any) -> None:
        """Insert or replace one JSON-serializable setting."""
        await self._settings.set(scope, name, value)

    async def clear_setting(self, scope: ScopeKey, name: str) -> bool:
        """Delete one setting; true if it existed."""
        return await self._settings.clear(scope, name)

    # usage

    async def usage_totals(
        self, *, platform: str, user_id: str | None = None, since: datetime | None = None
    ) -> Usage:
        """Summed ledger tokens for a platform, optionally one user and/or since a time."""
        return await self._usage.totals(platform=platform, user_id=user_id, since=since)
