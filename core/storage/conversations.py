"""Conversations and their messages (the per-turn write is in ``turn_writer``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.storage.engine import Database
from core.storage.schema import conversations, dialect_insert, messages, utc_now
from core.storage.types import NewMessage, StoredMessage

_conv = conversations.c
_msg = messages.c

_SELECT_CURRENT = (
    sa.select(_conv.id)
    .where(_conv.key == sa.bindparam("conversation_key"), _conv.archived_at.is_(None))
    .order_by(_conv.id.desc())
    .limit(1)
)
_SELECT_CURRENT_MANY = sa.select(_conv.key, _conv.id).where(
    _conv.key.in_(sa.bindparam("conversation_keys", expanding=True)), _conv.archived_at.is_(None)
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


def _select_current_many(connection: Connection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    if keys:
        result = connection.execute(_SELECT_CURRENT_MANY, {"conversation_keys": list(keys)})
        for key, conversation_id in result.all():
            # The partial unique index allows one open row per key; prefer the newest.
            found[key] = max(found.get(key, 0), int(conversation_id))
    return found


def insert_messages_returning_ids(dialect: str) -> sa.Insert:
    """Multi-row message ``INSERT … RETURNING id`` for ``dialect``.

    SQLite assigns ascending rowids inside the (serialized) write transaction, so
    sorting the returned ids restores parameter order and lets SQLAlchemy send one
    multi-row INSERT; ``sort_by_parameter_order`` would insert row by row there.
    """
    return _INSERT_MESSAGES.returning(_msg.id, sort_by_parameter_order=dialect != "sqlite")


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

    def __init__(self, db: Database) -> None:
        self._db = db
        insert = dialect_insert(db.dialect, conversations).on_conflict_do_nothing()
        self._insert_open = insert.returning(_conv.id)
        self._insert_open_many = insert.returning(_conv.key, _conv.id)

    async def find_current(self, keys: Sequence[str]) -> dict[str, int]:
        """Ids of the open conversations of ``keys`` (keys without one are left out),
        in one query."""
        return await self._db.read_hot(lambda connection: _select_current_many(connection, keys))

    def open_many(
        self, connection: Connection, keys: Sequence[str], now: datetime
    ) -> dict[str, int]:
        """Ensure an open conversation for each of the distinct ``keys`` inside the
        caller's write transaction; their ids.

        One multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING``; keys that already
        had an open conversation (another writer won the race on the partial unique
        index) are re-selected, and retried should that row have been archived since.
        """
        opened: dict[str, int] = {}
        missing = list(keys)
        for _ in range(_OPEN_ATTEMPTS):
            rows = [{"key": key, "created_at": now} for key in missing]
            result = connection.execute(self._insert_open_many, rows)
            opened.update((key, int(created)) for key, created in result.all())
            missing = [key for key in missing if key not in opened]
            if missing:
                opened.update(_select_current_many(connection, missing))
                missing = [key for key in missing if key not in opened]
            if not missing:
                return opened
        raise RuntimeError(f"could not open conversations for {missing!r}")

    async def start_new(self, key: str) -> int:
        """Archive the open conversation for ``key`` (if any) and open a new one."""
        now = utc_now()

        def archive_and_open(connection: Connection) -> int:
            connection.execute(_ARCHIVE_CURRENT, {"conversation_key": key, "now": now})
            params = {"key": key, "created_at": now}
            created = connection.execute(self._insert_open, params).scalar()
            if created is None:  # another writer opened one concurrently
                created = connection.execute(
                    _SELECT_CURRENT, {"conversation_key": key}).scalar_one()
            return int(created)

        return await self._db.run_write(archive_and_open)

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
        rows = await self._db.read_hot(lambda connection: connection.execute(query, params).all())
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
        await self._db.run_write(lambda connection: connection.execute(_INSERT_MESSAGES, rows))
