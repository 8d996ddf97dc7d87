"""``Store``: the storage facade the conversation engine talks to."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.events import Usage
from core.storage.actions_repo import ActionsRepository
from core.storage.chat_moves import ChatMove, MovedChats, move_chat
from core.storage.conversations import ConversationRepository
from core.storage.engine import DEFAULT_URL, Database, create_engine, migrate
from core.storage.mj_tasks_repo import MjTaskRepository
from core.storage.settings_repo import SettingsRepository
from core.storage.turn_usage import PendingUsage, pending, turn_usage_block
from core.storage.types import NewMessage, ScopeKey, StoredMessage, UsageRecord
from core.storage.usage import UsageRepository
from core.storage.writer import GroupWriter

__all__ = ["CURRENT_CONVERSATION_CACHE_SIZE", "Store"]

CURRENT_CONVERSATION_CACHE_SIZE = 10_000
"""Keys whose current conversation id ``Store`` remembers (least recently used out).
Kept because bench/core_turns.py misses its targets by more without it: under the
same load, CPU per turn 9.7-10.1 ms without vs 7.5-7.6 ms with it, overhead p50
5.6-6.8 ms vs 3.4-4.8 ms (one read, then five aiosqlite thread hops, saved per
turn; now one hop to the write thread, ~0.8 ms, which alone is the margin of the
overhead p99 target)."""


class Store:
    """Conversations, settings and usage on SQLite (default) or PostgreSQL.

    Plain SQLAlchemy Core: every call is one read or one transaction. It caches the
    current conversation id per key, which only this process's
    ``start_new_conversation`` updates, and the ids of conversations it opened and
    has not written to yet (known empty: no history read). Like the caches of
    ``core.conversation`` this assumes one process owns a conversation key (when
    several processes share a PostgreSQL database, route each key to one of them).
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._moved = MovedChats()
        self._conversations = ConversationRepository(db, self._moved)
        self._settings = SettingsRepository(db)
        self._usage = UsageRepository(db, self._conversations.writer)
        self._current: OrderedDict[str, int] = OrderedDict()
        self._empty: set[int] = set()
        self.actions = ActionsRepository(db, self._moved)
        """Button state rows (see ``core.actions``)."""
        self.mj_tasks = MjTaskRepository(db, self._moved)
        """Midjourney tasks followed across restarts (see ``core.midjourney``)."""

    @classmethod
    async def open(cls, url: str = DEFAULT_URL, *, echo: bool = False) -> Store:
        """Connect to ``url`` and apply pending migrations.

        Raises ``ValueError`` for an unsupported URL and the driver's error when the
        database is unreachable."""
        engine = create_engine(url, echo=echo)
        try:
            await migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        db = Database(engine)
        db.start()
        return cls(db)

    async def close(self) -> None:
        """Close the connections (calls still running fail; await them first)."""
        await self._conversations.writer.close()
        await self._db.dispose()

    @property
    def writer(self) -> GroupWriter:
        """The group commit of turns and ledger rows (``core.storage.writer``)."""
        return self._conversations.writer

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._db.dialect

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction for work beyond these methods (e.g. moving a chat's rows):
        committed when the block ends, rolled back if it raises (see
        ``Database.transaction``). Use the tables of ``core.storage.schema``. It
        empties the current-conversation cache when it ends, so rows it moved
        between keys are seen by the next ``current_conversation``."""
        try:
            async with self._db.transaction() as connection:
                yield connection
        finally:
            self._current.clear()
            self._empty.clear()

    # conversations

    async def current_conversation(self, key: str) -> int:
        """Id of the newest non-archived conversation for ``key``; creates one if none.

        Cached per process (see the class docstring). Concurrent first calls for one
        key (also from other processes) agree on one conversation. The key of a chat
        moved meanwhile (``move_chat``) stands for its new key."""
        key = self._moved.key(key)
        cached = self._current.get(key)
        if cached is None:
            found, opened = await self._conversations.current(key)
            if opened:
                self._remember_empty(found)
            # setdefault: a start_new_conversation that finished meanwhile wins.
            cached = self._current.setdefault(key, found)
        return self._remember(key, cached)

    async def start_new_conversation(self, key: str) -> int:
        """Archive the current conversation for ``key`` and return a new one's id."""
        key = self._moved.key(key)
        created, opened = await self._conversations.start_new(key)
        if opened:
            self._remember_empty(created)
        self._current[key] = created
        return self._remember(key, created)

    def _remember_empty(self, conversation_id: int) -> None:
        """This process just opened ``conversation_id``: it holds no messages until a
        write of this Store, so its first history read needs no query (a new
        conversation's turn saves a read, bench/core_turns.py)."""
        if len(self._empty) >= CURRENT_CONVERSATION_CACHE_SIZE:
            self._empty.clear()
        self._empty.add(conversation_id)

    def _remember(self, key: str, conversation_id: int) -> int:
        self._current.move_to_end(key)
        while len(self._current) > CURRENT_CONVERSATION_CACHE_SIZE:
            self._current.popitem(last=False)
        return conversation_id

    async def load_recent_messages(
        self, conversation_id: int, *, limit: int, before_id: int | None = None
    ) -> list[StoredMessage]:
        """Newest first; ``before_id`` pages to messages older than that id."""
        if conversation_id in self._empty:
            return []
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
        """Store all messages and the ledger row atomically, in the next group-commit
        batch (one transaction for the turns queued meanwhile, ``core.storage.writer``);
        the message ids (ascending, in ``messages`` order) once committed.

        Atomic: if any row fails (``sqlalchemy.exc.IntegrityError`` for a bad role or
        an unknown ``conversation_id``, …) nothing of the turn is stored, and the
        other turns of its batch are (retried alone). Cancelling the caller while the
        turn is queued drops it; once its batch runs, the caller gets
        ``CancelledError`` after it is stored whole (or failed). ``ConversationEngine``
        shields its save, so a user's cancel never interrupts one
        (docs/ARCHITECTURE.md, "Turn lifecycle and storage").
        """
        self._empty.discard(conversation_id)
        block = pending()
        held = block.take() if block is not None else []
        try:
            return await self._conversations.save_turn(conversation_id, turn_id, messages,
                                                       usage, held)
        except BaseException:
            if block is not None:
                block.restore(held)  # nothing stored: written when the turn's block exits
            raise

    def turn_usage(self) -> contextlib.AbstractAsyncContextManager[PendingUsage]:
        """A turn's block: ``record_usage`` rows made inside it (in this task and the
        tasks it starts while open) wait and commit in the same transaction as the
        turn's messages (``save_turn``); rows no save took (a failed or cancelled turn)
        are written on their own when the block exits, also on cancellation
        (``core.storage.turn_usage``)."""
        return turn_usage_block(self._usage.record_many)

    async def bulk_insert_messages(
        self, conversation_id: int, messages: Sequence[NewMessage]
    ) -> None:
        """Fast insert for imports and benchmarks (one transaction, no ids returned)."""
        self._empty.discard(conversation_id)
        await self._conversations.bulk_insert(conversation_id, messages)

    async def move_chat(self, platform: str, old_chat_id: str, new_chat_id: str) -> ChatMove:
        """Move a chat's conversations, settings, usage, buttons and Midjourney tasks to a
        new chat id in one transaction (see ``chat_moves.move_chat``); idempotent. Cached
        current conversations of the old and new keys are forgotten, and rows written
        later under the old id by work already running go to the new one
        (``chat_moves.MovedChats``)."""
        move = await move_chat(self._db, platform, old_chat_id, new_chat_id)
        self._moved.add(platform, old_chat_id, new_chat_id)
        for key in [*move.keys, *move.keys.values()]:
            self._current.pop(key, None)
        self._empty.clear()
        return move

    # settings

    async def get_settings(self, scopes: Sequence[ScopeKey]) -> dict[ScopeKey, dict[str, Any]]:
        """``{scope: {name: value}}`` for every requested scope, in one query (each
        call gets its own dicts)."""
        return await self._settings.get(scopes)

    async def chats_with_settings(self, limit: int) -> set[tuple[str, str]]:
        """``(platform, chat_id)`` of up to ``limit`` chats with a stored setting (their
        own or a user's in them; ``("", "")``: the global scope). One query."""
        return await self._settings.chats(limit)

    async def set_setting(self, scope: ScopeKey, name: str, value: Any) -> None:
        """Insert or replace one JSON-serializable setting."""
        await self._settings.set(scope, name, value)

    async def clear_setting(self, scope: ScopeKey, name: str) -> bool:
        """Delete one setting; true if it existed."""
        return await self._settings.clear(scope, name)

    # usage

    async def record_usage(self, turn_id: str, record: UsageRecord) -> None:
        """Write one usage-ledger row (one gateway call), atomic on its own, in the
        next group-commit batch; inside ``turn_usage`` it waits for the turn's save.
        ``turn_id`` is the turn it belongs to (or the call id outside a turn)."""
        block = pending()
        if block is not None:
            block.rows.append((turn_id, record))
            return
        await self._usage.record(turn_id, record)

    async def usage_totals(
        self, *, platform: str, user_id: str | None = None, since: datetime | None = None,
        kind: str | None = None, outcome: str | None = None,
    ) -> Usage:
        """Summed ledger tokens for a platform, optionally one user, since a time, one
        call ``kind`` ("chat", "image", …) and/or one ``outcome`` ("ok", "failed",
        "cancelled")."""
        return await self._usage.totals(platform=platform, user_id=user_id, since=since,
                                        kind=kind, outcome=outcome)

    async def usage_units(self, *, platform: str, user_id: str, since: datetime,
                          kinds: Sequence[str], outcome: str = "ok") -> float:
        """Summed ledger ``units`` (images…) of one user's calls of ``kinds`` with
        ``outcome`` since ``since`` (rows without units count 1)."""
        return await self._usage.units_total(platform=platform, user_id=user_id,
                                             since=since, kinds=kinds, outcome=outcome)
