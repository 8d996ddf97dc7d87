"""Prompt requests on Telegram (``ActionOutcome.prompt``, e.g. Midjourney Custom Zoom).

The request is a message with the label (and the default text to copy) and a
``ForceReply`` (Bot API: ``input_field_placeholder`` 0-64 characters). Its message id is
bound to the action id in the core's actions table (``ActionService.bind_message``), so
a reply to it still answers after a restart, until the action is used or expires. The
user's reply (text, or a photo with a caption when the request accepts a mask) is passed
to ``ChatCore.submit_prompt`` and the reply (its ticket: the job) is presented. A reply to a
message whose buttons include an answerable action (``ActionService.register_answer``:
the Vary Region picker) answers it the same way (a photo with it is the mask).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import ForceReply, Message, MessageEntity, User
from telegramify_markdown import utf16_len

from adapters.telegram.attachments import attachment_refs
from adapters.telegram.commands import PLATFORM, topic_of
from adapters.telegram.surface import ACTION_PREFIX
from core.actions import PromptRequest
from core.app import ChatCore
from core.conversation.keys import ChatRef

log = logging.getLogger(__name__)

PLACEHOLDER_MAX = 64
"""Bot API ``ForceReply.input_field_placeholder``: 1-64 characters."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An open prompt request: the action to submit, whether a photo may be the mask."""

    action_id: str
    accepts_mask: bool


class PromptRequests:
    """Sends ForceReply prompt requests and recognizes the replies to them."""

    def __init__(self, core: ChatCore) -> None:
        self.core = core
        self._asking: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary())
        """Per chat: held while a request is sent and bound (gone when unused)."""

    async def ask(self, bot: Bot, message: Message, prompt: PromptRequest,
                  presser: User) -> None:
        """Post ``prompt`` in ``message``'s chat/topic as a ForceReply message. In groups
        it starts with a mention of ``presser`` (a ``text_mention`` entity): a selective
        ForceReply opens the reply field only for users mentioned in the text (Bot API)."""
        text = prompt.label if not prompt.default_text else (
            f"{prompt.label}\n{prompt.default_text}")
        entities: list[MessageEntity] | None = None
        if message.chat.type != "private":
            name = presser.first_name or "…"
            entities = [MessageEntity(type="text_mention", offset=0, length=utf16_len(name),
                                      user=presser)]
            text = f"{name} {text}"
        markup = ForceReply(selective=True,
                            input_field_placeholder=prompt.placeholder[:PLACEHOLDER_MAX] or None)
        # a reply can only follow the request, but may be handled before its binding is
        # stored: replies in this chat wait for asks in flight (``answer_to``)
        lock = self._asking.setdefault(message.chat.id, asyncio.Lock())
        async with lock:
            sent = await bot.send_message(message.chat.id, text,
                                          message_thread_id=topic_of(message),
                                          reply_markup=markup, entities=entities,
                                          parse_mode=None)
            await self.core.actions.bind_message(prompt.action_id, _chat(message),
                                                 str(sent.message_id),
                                                 accepts_mask=prompt.accepts_mask)

    async def answer_to(self, message: Message) -> Pending | None:
        """The open request ``message`` answers (it replies to a bound message)."""
        replied = message.reply_to_message
        if replied is None:
            return None
        asking = self._asking.get(message.chat.id)
        if asking is not None:
            async with asking:  # its binding is stored
                pass
        markup = replied.reply_markup
        data = [button.callback_data or "" for row in (markup.inline_keyboard if markup
                                                         else ()) for button in row]
        ids = [d.removeprefix(ACTION_PREFIX) for d in data if d.startswith(ACTION_PREFIX)]
        bound = await self.core.actions.bound_to(_chat(message), str(replied.message_id),
                                                 ids)
        if bound is None:
            return None
        return Pending(str(bound["action_id"]), bool(bound.get("accepts_mask")))

    @staticmethod
    async def mask_of(bot: Bot, message: Message) -> bytes | None:
        """The bytes of the photo sent with the answer (None without one)."""
        for ref in attachment_refs(bot, [message]):
            if ref.kind == "image":
                return await ref.fetch()
        return None


def _chat(message: Message) -> ChatRef:
    """The chat of ``message`` as the actions table keys it (platform, chat id)."""
    return ChatRef(PLATFORM, str(message.chat.id), "", message.chat.type == "private")
