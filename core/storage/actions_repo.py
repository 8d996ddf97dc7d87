"""Rows of the ``actions`` table: the state behind buttons (see ``core.actions``).

``Database.read()`` for reads and one ``Database.transaction()`` per write (on SQLite
they queue on this process's write lock, not in SQLite's busy handler).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.storage.chat_moves import MovedChats
from core.storage.engine import Database
from core.storage.schema import actions

_act = actions.c


@dataclass(frozen=True, slots=True)
class StoredAction:
    """One ``actions`` row. ``who``: anyone | requester | admins; times are UTC."""

    id: str
    kind: str
    platform: str
    chat_id: str
    owner_id: str
    who: str
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime | None = None


class ActionsRepository:
    """Insert, look up and delete action rows."""

    def __init__(self, db: Database, moved: MovedChats | None = None) -> None:
        self._db = db
        self._moved = moved or MovedChats()

    async def insert(self, rows: Sequence[StoredAction]) -> None:
        """Insert ``rows`` in one transaction (a duplicate id raises IntegrityError); a
        row of a chat moved meanwhile goes to its new id (``MovedChats``)."""
        if not rows:
            return
        async with self._db.transaction() as connection:  # mapped under the write lock
            values = [
                self._moved.apply({
                    "id": r.id, "kind": r.kind, "platform": r.platform, "chat_id": r.chat_id,
                    "owner_id": r.owner_id, "who": r.who, "payload": r.payload,
                    "created_at": r.created_at, "expires_at": r.expires_at})
                for r in rows
            ]
            await connection.execute(sa.insert(actions), values)

    async def get(self, action_id: str) -> StoredAction | None:
        """The row with ``action_id``, or None."""
        query = sa.select(actions).where(_act.id == action_id)
        async with self._db.read() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None:
            return None
        return StoredAction(**dict(row))

    async def delete(self, action_id: str) -> bool:
        """Delete one row; True when it existed."""
        async with self._db.transaction() as connection:
            result = await connection.execute(sa.delete(actions).where(_act.id == action_id))
        return bool(result.rowcount)

    async def delete_expired(self, now: datetime) -> int:
        """Delete rows whose ``expires_at`` is at or before ``now``; returns how many."""
        query = sa.delete(actions).where(_act.expires_at.is_not(None), _act.expires_at <= now)
        async with self._db.transaction() as connection:
            result = await connection.execute(query)
        return int(result.rowcount or 0)
