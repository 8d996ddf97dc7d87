"""Conversations and their messages, including the atomic per-turn write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.storage.chat_moves import MovedChats
from core.storage.engine import Database
from core.storage.schema import conversations, dialect_insert, messages, utc_now
from core.storage.types import NewMessage, StoredMessage, UsageRecord
from core.storage.usage import INSERT_LEDGER_ROW, ledger_row
from core.storage.writer import GroupWriter

_conv = conversations.c
_msg = messages.c

_SELECT_CURRENT = (
    sa.select(_conv.id)
    .where(_conv.key == sa.bindparam("conversation_key"), _conv.archived_at.is_(None))
    .order_by(_conv.id.desc())
    .limit(1)
)
_ARCHIVE_CURRENT = (
    sa.update(conversations)
    .where(_conv.key == sa.bindparam("conversation_key"), _conv.archived_at.is_(None))
    .values(archived_at=sa.bindparam("now"))
)
# Columns in StoredMessage field order, so a row maps positionally.
_LOAD_RECENT = (
    sa.select(*(_msg[field.name] for field in fields(StoredMessage)))
    .where(_msg.conversation_id == sa.bindparam("conversation_id"))
    .order_by(_msg.id.desc())
    .limit(sa.bindparam("limit"))
)
_LOAD_RECENT_BEFORE = _LOAD_RECENT.where(_msg.id < sa.bindparam("before_id"))
_COUNT_MESSAGES = (
    sa.select(sa.func.count())
    .select_from(messages)
    .where(_msg.conversation_id == sa.bindparam("conversation_id"))
)
_INSERT_MESSAGES = sa.insert(messages)

_OPEN_ATTEMPTS = 3


def message_row(
    conversation_id: int, turn_id: str, message: NewMessage, created_at: datetime
) -> dict[str, Any]:
    """Parameters for one message row."""
    return {
        "conversation_id": conversation_id,
        "turn_id": turn_id,
        "role": message.role,
        "content": message.content,
        "media": message.media,
        "name": message.name,
        "tool_call_id": message.tool_call_id,
        "tool_calls": message.tool_calls,
        "tokens": message.tokens,
        "model": message.model,
        "created_at": created_at,
    }


class ConversationRepository:
    """Conversations keyed by a platform conversation key, and their messages."""

    def __init__(self, db: Database, moved: MovedChats | None = None) -> None:
        self._db = db
        self._moved = moved or MovedChats()
        self._sqlite = db.dialect == "sqlite"
        self._insert_open = (
            dialect_insert(db.dialect, conversations).on_conflict_do_nothing().returning(_conv.id)
        )
        # SQLite assigns ascending rowids inside the (serialized) write transaction, so
        # sorting the returned ids restores parameter order and lets SQLAlchemy send one
        # multi-row INSERT; ``sort_by_parameter_order`` would insert row by row there.
        insert_messages = _INSERT_MESSAGES.returning(
            _msg.id, sort_by_parameter_order=not self._sqlite
        )
        self.writer = GroupWriter(db, insert_messages, INSERT_LEDGER_ROW, sort_ids=self._sqlite,
                                  moved=self._moved)
        """Group commit of the turns' messages and ledger rows (``core.storage.writer``)."""

    async def current(self, key: str) -> tuple[int, bool]:
        """``(id, opened)``: the open conversation of ``key``, and whether this call
        opened it (then it holds no messages yet). One ``Database.run_transaction``
        (one hop to the SQLite thread).

        The partial unique index allows one open row per key, so concurrent callers
        (also in other processes) agree: the loser's ``INSERT … ON CONFLICT DO
        NOTHING`` returns nothing and it reads the winner's row. Raises
        ``RuntimeError`` if that row keeps being archived before it can be read."""
        for _ in range(_OPEN_ATTEMPTS):
            opened = await self._db.run_transaction(
                lambda connection: self._current_sync(connection, key, utc_now()))
            if opened is not None:
                return opened
        raise RuntimeError(f"could not open a conversation for {key!r}")

    def _current_sync(self, connection: Connection, key: str,
                      now: datetime) -> tuple[int, bool] | None:
        found = connection.scalar(_SELECT_CURRENT, {"conversation_key": key})
        return (int(found), False) if found is not None else self._open(connection, key, now)

    def _open(self, connection: Connection, key: str,
              now: datetime) -> tuple[int, bool] | None:
        """Insert an open conversation for ``key`` unless one exists: ``(id, opened)``
        of the open one, or ``None`` if the existing one was archived meanwhile
        (PostgreSQL read committed)."""
        params = {"key": key, "created_at": now}
        created = connection.scalar(self._insert_open, params)
        if created is not None:
            return int(created), True
        found = connection.scalar(_SELECT_CURRENT, {"conversation_key": key})  # lost a race
        return None if found is None else (int(found), False)

    async def start_new(self, key: str) -> tuple[int, bool]:
        """Archive the open conversation for ``key`` (if any) and open a new one, in one
        transaction; ``(id, opened)`` as ``current``."""
        def archive_and_open(connection: Connection) -> tuple[int, bool] | None:
            now = utc_now()
            connection.execute(_ARCHIVE_CURRENT, {"conversation_key": key, "now": now})
            return self._open(connection, key, now)

        for _ in range(_OPEN_ATTEMPTS):
            opened = await self._db.run_transaction(archive_and_open)
            if opened is not None:
                return opened
        raise RuntimeError(f"could not open a conversation for {key!r}")

    async def save_turn(
        self,
        conversation_id: int,
        turn_id: str,
        new_messages: Sequence[NewMessage],
        usage: UsageRecord | None,
        more_usage: Sequence[tuple[str, UsageRecord]] = (),
    ) -> list[int]:
        """Insert the messages and the ledger rows (``usage`` for ``turn_id``, then
        ``more_usage`` as ``(turn_id, record)``) atomically, in the next group-commit
        batch (``GroupWriter.write``); the new message ids in ``new_messages`` order."""
        now = utc_now()
        rows = [message_row(conversation_id, turn_id, message, now) for message in new_messages]
        ledger = [] if usage is None else [ledger_row(turn_id, usage, now)]
        ledger += [ledger_row(call_turn, record, now) for call_turn, record in more_usage]
        return await self.writer.write(rows, ledger)

    async def load_recent(
        self, conversation_id: int, *, limit: int, before_id: int | None = None
    ) -> list[StoredMessage]:
        """Up to ``limit`` messages, newest first, optionally only those older than
        ``before_id``; an index range scan on (conversation_id, id)."""
        if limit <= 0:
            return []
        params: dict[str, Any] = {"conversation_id": conversation_id, "limit": limit}
        query = _LOAD_RECENT
        if before_id is not None:
            query = _LOAD_RECENT_BEFORE
            params["before_id"] = before_id
        rows = await self._db.run_read(lambda connection: connection.execute(query, params).all())
        return [StoredMessage(*row) for row in rows]

    async def count(self, conversation_id: int) -> int:
        async with self._db.read() as connection:
            result = await connection.execute(_COUNT_MESSAGES, {"conversation_id": conversation_id})
            return int(result.scalar_one())

    async def bulk_insert(self, conversation_id: int, new_messages: Sequence[NewMessage]) -> None:
        """Fast executemany insert (imports, benchmarks); ``turn_id`` is left empty."""
        if not new_messages:
            return
        now = utc_now()
        rows = [message_row(conversation_id, "", message, now) for message in new_messages]
        async with self._db.transaction() as connection:
            await connection.execute(_INSERT_MESSAGES, rows)
