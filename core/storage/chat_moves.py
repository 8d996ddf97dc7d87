"""Moving a chat's stored data to a new chat id (e.g. a Telegram group upgraded to a
supergroup gets a new id; see ``ChatCore.migrate_chat``).

Uses one plain async transaction on the engine (no writer thread or batching), so it
does not depend on how the hot write path is organised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.storage.engine import Database
from core.storage.schema import conversations, messages, settings, usage_ledger

_conv = conversations.c
_set = settings.c


@dataclass(slots=True)
class ChatMove:
    """What ``move_chat`` changed: conversation keys renamed (old → new), settings rows
    and usage rows moved, and the conversations whose messages changed by a merge (the
    one merged away, now deleted, and the moved one that received its messages)."""

    keys: dict[str, str] = field(default_factory=dict)
    settings: int = 0
    usage: int = 0
    merged: list[int] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        """Whether anything was stored under the old id."""
        return bool(self.keys or self.settings or self.usage)


def chat_key_prefix(platform: str, chat_id: str) -> str:
    """The conversation-key prefix of a chat (see ``core.conversation.keys``)."""
    return f"{platform}:{chat_id}"


async def move_chat(db: Database, platform: str, old_chat_id: str,
                    new_chat_id: str) -> ChatMove:
    """Move every conversation, setting and usage row of ``old_chat_id`` to
    ``new_chat_id`` in one transaction; a no-op (``moved`` false) when nothing is
    stored under the old id any more, so repeating it is harmless.

    Conflicts: a setting already present at the new id wins (it is newer); an open
    conversation already present at a new key has its messages merged into the moved
    one (message ids keep the order) and is deleted."""
    if old_chat_id == new_chat_id:
        return ChatMove()
    async with db.transaction() as connection:
        move = ChatMove()
        move.settings = await _move_settings(connection, platform, old_chat_id, new_chat_id)
        usage = await connection.execute(
            sa.update(usage_ledger)
            .where(usage_ledger.c.platform == platform, usage_ledger.c.chat_id == old_chat_id)
            .values(chat_id=new_chat_id))
        move.usage = usage.rowcount
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
