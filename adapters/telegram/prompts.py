"""Prompt requests on Telegram (``ActionOutcome.prompt``, e.g. Midjourney Custom Zoom).

The request is a message with the label (and the default text to copy) and a
``ForceReply`` (Bot API: ``input_field_placeholder`` 0-64 characters). Its message id is
remembered with the action id; the user's reply to it (text, or a photo with a caption
when the request accepts a mask) is passed to ``ChatCore.submit_prompt`` and the reply
(its ticket: the job) is presented. The memory is per process and bounded (assumed
enough: ``MAX_PENDING`` open requests); after a restart a reply is an ordinary message.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import ForceReply, Message, MessageEntity, User
from telegramify_markdown import utf16_len

from adapters.telegram.attachments import attachment_refs
from adapters.telegram.commands import topic_of
from core.actions import PromptRequest

log = logging.getLogger(__name__)

PLACEHOLDER_MAX = 64
"""Bot API ``ForceReply.input_field_placeholder``: 1-64 characters."""

MAX_PENDING = 1024
"""Open prompt requests remembered (oldest forgotten first; assumed enough)."""


@dataclass(frozen=True, slots=True)
class Pending:
    """An open prompt request: the action to submit, whether a photo may be the mask."""

    action_id: str
    accepts_mask: bool


class PromptRequests:
    """Sends ForceReply prompt requests and recognizes the replies to them."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._pending: OrderedDict[tuple[int, int], Pending] = OrderedDict()
        self._max = max_pending

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
        sent = await bot.send_message(message.chat.id, text,
                                      message_thread_id=topic_of(message),
                                      reply_markup=markup, entities=entities, parse_mode=None)
        self._pending[(sent.chat.id, sent.message_id)] = Pending(prompt.action_id,
                                                                 prompt.accepts_mask)
        while len(self._pending) > self._max:
            self._pending.popitem(last=False)

    def answer_to(self, message: Message) -> Pending | None:
        """The request ``message`` answers (it replies to one), taken off the list."""
        replied = message.reply_to_message
        if replied is None:
            return None
        return self._pending.pop((message.chat.id, replied.message_id), None)

    @staticmethod
    async def mask_of(bot: Bot, message: Message) -> bytes | None:
        """The bytes of the photo sent with the answer (None without one)."""
        for ref in attachment_refs(bot, [message]):
            if ref.kind == "image":
                return await ref.fetch()
        return None
