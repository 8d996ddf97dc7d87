"""Chats the bot can no longer write to, and chats that moved to a new id.

``ChatGuard`` is an aiogram session middleware that sees every Bot API call:

* a 403 (blocked by the user, kicked, user deactivated…) or 400 "chat not found" marks
  the chat unreachable: its turns are cancelled at once (``on_gone``) and later calls to
  it fail locally with ``ChatUnreachable`` (no request), until the chat talks to the bot
  again (``revive``);
* a 400 with ``parameters.migrate_to_chat_id`` (the group was upgraded to a supergroup)
  runs ``on_moved`` and retries the call with the new id; later calls to the old id are
  rewritten to the new one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

REMEMBERED_CHATS = 10_000
"""Unreachable and moved chats remembered at most (least recently marked out)."""

_GONE_400 = ("chat not found", "group chat was deactivated", "not enough rights to send",
             "have no rights to send", "chat_write_forbidden")
"""400 answers meaning nothing can be sent to the chat any more (Bot API descriptions)."""


class ChatUnreachable(TelegramForbiddenError):
    """Raised locally for a call to a chat already known to be unreachable."""


def chat_unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the bot cannot write to that chat any more: any 403
    ("bot was blocked by the user", "bot was kicked from the supergroup chat", "user is
    deactivated"…) or a 400 such as "chat not found"."""
    if isinstance(error, TelegramForbiddenError):
        return True
    return isinstance(error, TelegramBadRequest) and any(
        text in error.message.lower() for text in _GONE_400)


def _bounded_put(cache: OrderedDict[int, Any], key: int, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > REMEMBERED_CHATS:
        cache.popitem(last=False)


class ChatGuard(BaseRequestMiddleware):
    """See the module docstring. ``on_gone(chat_id, reason)`` runs once per marking;
    ``on_moved(old_chat_id, new_chat_id)`` must be idempotent."""

    def __init__(self, on_gone: Callable[[int, str], None],
                 on_moved: Callable[[int, int], Awaitable[None]]) -> None:
        self._on_gone = on_gone
        self._on_moved = on_moved
        self.gone: OrderedDict[int, str] = OrderedDict()
        self.moved: OrderedDict[int, int] = OrderedDict()

    def mark_gone(self, chat_id: int, reason: str) -> None:
        """Stop writing to ``chat_id`` and cancel its work (no-op when already marked)."""
        if chat_id in self.gone:
            return
        _bounded_put(self.gone, chat_id, reason)
        log.info("chat %s is unreachable (%s): its turns are cancelled", chat_id, reason)
        self._on_gone(chat_id, reason)

    def revive(self, chat_id: int) -> None:
        """The chat talks to the bot again (unblocked, re-added): write to it again."""
        self.gone.pop(chat_id, None)

    async def record_move(self, old_chat_id: int, new_chat_id: int) -> None:
        """Route calls for ``old_chat_id`` to ``new_chat_id`` and move the chat's data."""
        _bounded_put(self.moved, old_chat_id, new_chat_id)
        await self._on_moved(old_chat_id, new_chat_id)

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if not isinstance(chat_id, int):
            return await make_request(bot, method)
        if chat_id in self.moved:
            chat_id = self.moved[chat_id]
            method = method.model_copy(update={"chat_id": chat_id})
        reason = self.gone.get(chat_id)
        if reason is not None:
            raise ChatUnreachable(method=method, message=reason)
        try:
            return await make_request(bot, method)
        except TelegramMigrateToChat as error:
            if error.migrate_to_chat_id == chat_id:
                raise
            await self.record_move(chat_id, error.migrate_to_chat_id)
            moved = method.model_copy(update={"chat_id": error.migrate_to_chat_id})
            return await self(make_request, bot, moved)
        except TelegramAPIError as error:
            if chat_unreachable(error):
                self.mark_gone(chat_id, error.message)
            raise
