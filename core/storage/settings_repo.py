"""Scoped key/value settings (platform-wide, per chat, per user, per user in chat)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from core.storage.engine import Database
from core.storage.schema import dialect_insert, settings, utc_now
from core.storage.types import ScopeKey

_set = settings.c

_SELECT_SCOPES = sa.select(_set.platform, _set.chat_id, _set.user_id, _set.name, _set.value).where(
    sa.tuple_(_set.platform, _set.chat_id, _set.user_id).in_(sa.bindparam("scopes", expanding=True))
)
_SELECT_CHATS = sa.select(_set.platform, _set.chat_id).distinct()
_DELETE_SETTING = sa.delete(settings).where(
    _set.platform == sa.bindparam("scope_platform"),
    _set.chat_id == sa.bindparam("scope_chat_id"),
    _set.user_id == sa.bindparam("scope_user_id"),
    _set.name == sa.bindparam("setting_name"),
)


class SettingsRepository:
    """Settings stored as JSON values under (platform, chat_id, user_id, name)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        insert = dialect_insert(db.dialect, settings)
        self._upsert = insert.on_conflict_do_update(
            index_elements=[_set.platform, _set.chat_id, _set.user_id, _set.name],
            set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
        )

    async def get(self, scopes: Sequence[ScopeKey]) -> dict[ScopeKey, dict[str, Any]]:
        """Settings of every requested scope (empty dict when none), in one query."""
        found: dict[ScopeKey, dict[str, Any]] = {scope: {} for scope in scopes}
        if not found:
            return found
        keys = [(scope.platform, scope.chat_id, scope.user_id) for scope in found]
        rows = await self._db.run_read(  # one hop to the SQLite thread (Database)
            lambda connection: connection.execute(_SELECT_SCOPES, {"scopes": keys}).all())
        for platform, chat_id, user_id, name, value in rows:
            found[ScopeKey(platform, chat_id, user_id)][name] = value
        return found

    async def chats(self, limit: int) -> set[tuple[str, str]]:
        """``(platform, chat_id)`` of up to ``limit`` chats with at least one stored
        setting (their own or a user's in them); ``("", "")``: the global scope."""
        query = _SELECT_CHATS.limit(limit)
        rows = await self._db.run_read(lambda connection: connection.execute(query).all())
        return {(platform, chat_id) for platform, chat_id in rows}

    async def set(self, scope: ScopeKey, name: str, value: Any) -> None:
        row = {
            "platform": scope.platform,
            "chat_id": scope.chat_id,
            "user_id": scope.user_id,
            "name": name,
            "value": value,
            "updated_at": utc_now(),
        }
        async with self._db.transaction() as connection:
            await connection.execute(self._upsert, row)

    async def clear(self, scope: ScopeKey, name: str) -> bool:
        """Delete one setting; true if it existed."""
        params = {
            "scope_platform": scope.platform,
            "scope_chat_id": scope.chat_id,
            "scope_user_id": scope.user_id,
            "setting_name": name,
        }
        async with self._db.transaction() as connection:
            removed = (await connection.execute(_DELETE_SETTING, params)).rowcount
        return removed > 0
