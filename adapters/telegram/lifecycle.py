"""Chats that change under the bot: a group upgraded to a supergroup (new chat id), a
user who blocks the bot, a group that removes it (``my_chat_member``).

The ``ChatGuard`` (a session middleware, see ``reachability``) sees the Bot API's errors;
this class feeds it the updates and connects both to the core (``ChatCore.cancel_chat``,
``ChatCore.migrate_chat``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiogram.types import ChatMemberUpdated, Message, TelegramObject

from adapters.telegram.commands import PLATFORM
from adapters.telegram.reachability import ChatGuard
from core.app import ChatCore


class ChatLifecycle:
    """Migration and reachability of chats for one bot."""

    def __init__(self, core: ChatCore) -> None:
        self.core = core
        self.guard = ChatGuard(self._chat_gone, self._chat_moved)
        self._moving: dict[int, asyncio.Future[None]] = {}  # new chat id -> its migration

    async def note_chat(self, handler: Any, event: TelegramObject,
                         data: dict[str, Any]) -> Any:
        """A message from a chat proves the bot can write there again (unblocked); one
        that arrives while its chat is being migrated waits for the move (updates are
        handled concurrently, so the move starts here, at the first sight of it)."""
        if isinstance(event, Message):
            if event.migrate_to_chat_id or event.migrate_from_chat_id:
                self._start_move(event)
            else:
                self.guard.revive(event.chat.id)
                moving = self._moving.get(event.chat.id)
                if moving is not None:
                    with contextlib.suppress(Exception):  # on_migrated reports a failure
                        await asyncio.shield(moving)
        return await handler(event, data)

    def _start_move(self, message: Message) -> asyncio.Future[None]:
        old, new = ((message.chat.id, message.migrate_to_chat_id) if message.migrate_to_chat_id
                    else (message.migrate_from_chat_id or 0, message.chat.id))
        moving = self._moving.get(new)
        if moving is None:
            moving = self._moving[new] = asyncio.ensure_future(self.guard.record_move(old, new))
            moving.add_done_callback(lambda _: self._moving.pop(new, None))
        return moving

    def _chat_gone(self, chat_id: int, reason: str) -> None:
        self.core.cancel_chat(PLATFORM, str(chat_id))

    async def _chat_moved(self, old_chat_id: int, new_chat_id: int) -> None:
        await self.core.migrate_chat(PLATFORM, str(old_chat_id), str(new_chat_id))

    async def on_migrated(self, message: Message) -> None:
        """A group upgraded to a supergroup: both service messages (``migrate_to_chat_id``
        in the old group, ``migrate_from_chat_id`` in the new one) move the chat."""
        moving = self._start_move(message)
        await asyncio.shield(moving)

    async def on_my_membership(self, event: ChatMemberUpdated) -> None:
        """The bot was blocked, kicked or left (stop that chat's work), or is back."""
        status = event.new_chat_member.status
        if status in ("kicked", "left"):
            self.guard.mark_gone(event.chat.id, f"bot status: {status}")
        else:
            self.guard.revive(event.chat.id)
