"""Moving a chat's stored data to a new chat id (e.g. a Telegram group upgraded to a
supergroup gets a new id; see ``ChatCore.migrate_chat``).

Uses one plain async transaction on the engine (no writer thread or batching), so it
does not depend on how the hot write path is organised. ``MovedChats`` sends the rows
that work started before a move writes afterwards to the new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.storage.engine import Database
from core.storage.schema import actions, conversations, messages, mj_tasks, settings, usage_ledger

_conv = conversations.c
_set = settings.c


@dataclass(slots=True)
class ChatMove:
    """What ``move_chat`` changed: conversation keys renamed (old → new), settings,
    usage, action (button) and Midjourney task rows moved, and the conversations whose
    messages changed by a merge (the one merged away, now deleted, and the moved one
    that received its messages)."""

    keys: dict[str, str] = field(default_factory=dict)
    settings: int = 0
    usage: int = 0
    actions: int = 0
    mj_tasks: int = 0
    merged: list[int] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        """Whether anything was stored under the old id."""
        return bool(self.keys or self.settings or self.usage or self.actions or self.mj_tasks)


class MovedChats:
    """Chats moved while this process runs: ``(platform, old chat id) → new chat id``.

    Work started before a move (a turn answering, a Midjourney task drawing) still
    holds the old id and writes rows afterwards: its conversation, its Continue
    button, its ledger row, its task row. ``apply`` gives such a row the new id, so a
    button pressed in the upgraded chat works and the chat's usage is complete. In
    memory, one entry per move (rare: a Telegram group upgraded to a supergroup), so
    rows written by a process that did not see the move keep the old id. The rows are
    mapped when they are written, under the write lock (a group-commit batch that
    waited behind the move's transaction gets the new id), so ``chat_id``/``apply``
    also run on the write thread (a ``dict.get``, atomic under the GIL)."""

    def __init__(self) -> None:
        self._moves: dict[tuple[str, str], str] = {}

    def add(self, platform: str, old_chat_id: str, new_chat_id: str) -> None:
        """Remember a move (earlier moves into ``old_chat_id`` now lead on to the new id)."""
        for key, target in self._moves.items():
            if key[0] == platform and target == old_chat_id:
                self._moves[key] = new_chat_id
        self._moves[(platform, old_chat_id)] = new_chat_id

    def chat_id(self, platform: str, chat_id: str) -> str:
        """The id ``chat_id`` has now."""
        return self._moves.get((platform, chat_id), chat_id) if self._moves else chat_id

    def key(self, key: str) -> str:
        """A conversation key (``core.conversation.keys``) with its chat's id now."""
        for (platform, old), new in self._moves.items():
            prefix = chat_key_prefix(platform, old)
            if key == prefix or key.startswith(prefix + ":"):
                return chat_key_prefix(platform, new) + key[len(prefix):]
        return key

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` (a row with ``platform`` and ``chat_id``), its chat id updated in
        place; returned for chaining."""
        if self._moves:
            values["chat_id"] = self.chat_id(values["platform"], values["chat_id"])
        return values


def chat_key_prefix(platform: str, chat_id: str) -> str:
    """The conversation-key prefix of a chat (see ``core.conversation.keys``)."""
    return f"{platform}:{chat_id}"


async def move_chat(db: Database, platform: str, old_chat_id: str,
                    new_chat_id: str) -> ChatMove:
    """Move every conversation, setting, usage, action and Midjourney task row of
    ``old_chat_id`` to ``new_chat_id`` in one transaction; a no-op (``moved`` false) when nothing is
    stored under the old id any more, so repeating it is harmless.

    Conflicts: a setting already present at the new id wins (it is newer); an open
    conversation already present at a new key has its messages merged into the moved
    one (message ids keep the order) and is deleted."""
    if old_chat_id == new_chat_id:
        return ChatMove()
    async with db.transaction() as connection:
        move = ChatMove()
        move.settings = await _move_settings(connection, platform, old_chat_id, new_chat_id)
        counts = []
        for table in (usage_ledger, actions, mj_tasks):
            result = await connection.execute(
                sa.update(table)
                .where(table.c.platform == platform, table.c.chat_id == old_chat_id)
                .values(chat_id=new_chat_id))
            counts.append(int(result.rowcount))
        move.usage, move.actions, move.mj_tasks = counts
        await _move_conversations(connection, move, chat_key_prefix(platform, old_chat_id),
                                  chat_key_prefix(platform, new_chat_id))
        return move


async def _move_settings(connection: AsyncConnection, platform: str, old: str,
                         new: str) -> int:
    newer = settings.alias("newer")
    await connection.execute(sa.delete(settings).where(
        _set.platform == platform, _set.chat_id == old,
        sa.exists().where(newer.c.platform == platform, newer.c.chat_id == new,
                          newer.c.user_id == _set.user_id, newer.c.name == _set.name)))
    result = await connection.execute(
        sa.update(settings).where(_set.platform == platform, _set.chat_id == old)
        .values(chat_id=new))
    return int(result.rowcount)


async def _move_conversations(connection: AsyncConnection, move: ChatMove, old_prefix: str,
                              new_prefix: str) -> None:
    rows = (await connection.execute(
        sa.select(_conv.id, _conv.key, _conv.archived_at)
        .where(sa.or_(_conv.key == old_prefix,
                      _conv.key.startswith(old_prefix + ":", autoescape=True)))
        .order_by(_conv.id))).all()
    for conversation_id, key, archived_at in rows:
        new_key = new_prefix + key[len(old_prefix):]
        if archived_at is None:
            existing = (await connection.execute(
                sa.select(_conv.id).where(_conv.key == new_key, _conv.archived_at.is_(None))
            )).scalar_one_or_none()
            if existing is not None:
                await connection.execute(
                    sa.update(messages).where(messages.c.conversation_id == existing)
                    .values(conversation_id=conversation_id))
                await connection.execute(sa.delete(conversations).where(_conv.id == existing))
                move.merged += [int(existing), int(conversation_id)]
        await connection.execute(
            sa.update(conversations).where(_conv.id == conversation_id).values(key=new_key))
        move.keys[key] = new_key
