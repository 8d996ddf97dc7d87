"""Telegram's ``Surface`` and ``Pacer`` for the shared presenter.

Media: one image → ``sendPhoto``, several → ``sendMediaGroup`` (albums cannot carry an
inline keyboard: the presenter sends the buttons on a separate message), files →
``sendDocument``, audio → ``sendAudio``, voice → ``sendVoice``. Bytes are uploaded
(``BufferedInputFile``); a ``Media.url`` is public by contract and passed through (a
Telegram file URL, which carries the bot token, never is). Buttons are an inline
keyboard with ``callback_data`` ``a:<action_id>`` (Bot API: 1-64 bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramServerError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)

from adapters.common.surface import CannotEdit, Limits
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.render import (
    CAPTION_LIMIT,
    Rendered,
    clip_utf16,
    entities_refused,
    render_chunks,
    render_markdown,
)
from core.parts import ActionRows, Media

log = logging.getLogger(__name__)

ACTION_PREFIX = "a:"
"""``callback_data`` of an action button: ``a:<action_id>`` (≤ 64 bytes, Bot API)."""

MB = 1024 * 1024
TELEGRAM_LIMITS = Limits(
    photo_max_bytes=10 * MB,  # Bot API sendPhoto: "The photo must be at most 10 MB"
    upload_max_bytes=50 * MB,  # Bot API: other files up to 50 MB via multipart
    media_per_message=10,  # Bot API sendMediaGroup: 2-10 items
    album_actions=False,  # media groups take no reply_markup
    mixed_albums=False,  # documents/audio only group with their own kind
    media_edit_from_text=False,  # editMessageMedia needs a media message
)

T = TypeVar("T")


def keyboard(actions: ActionRows) -> InlineKeyboardMarkup | None:
    """An inline keyboard for ``actions`` (URL buttons open links), None when empty."""
    rows = [[InlineKeyboardButton(text=f"{a.icon} {a.label}".strip(), url=a.url)
             if a.url else
             InlineKeyboardButton(text=f"{a.icon} {a.label}".strip(),
                                  callback_data=ACTION_PREFIX + a.action_id)
             for a in row] for row in actions if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _file(media: Media, number: int) -> InputFile | str:
    if media.data is None:
        assert media.url is not None
        return media.url
    ext = media.mime.split("/")[-1] or "bin"
    name = media.filename or f"{'image' if media.kind == 'image' else media.kind}{number}.{ext}"
    return BufferedInputFile(media.data, filename=name)


def _caption(markdown: str) -> Rendered:
    rendered = render_markdown(markdown) if markdown else Rendered("")
    if len(rendered.text.encode("utf-16-le")) // 2 > CAPTION_LIMIT:
        return Rendered(clip_utf16(markdown, CAPTION_LIMIT))  # plain, cut in UTF-16 units
    return rendered


class TelegramPacer:
    """Previews only when the chat's buckets have room now (never inside a retry_after
    window); finals wait in the flood-control middleware."""

    def __init__(self, limiter: BotLimiter, chat_id: int) -> None:
        self.limiter = limiter
        self.chat_id = chat_id

    def preview_slot(self) -> AbstractContextManager[None] | None:
        if not self.limiter.try_reserve(self.chat_id):
            return None
        return self.limiter.reserved()

    async def final_slot(self) -> None:
        return None


class TelegramSurface:
    """Writes into one chat (and forum topic); the first ``reply=True`` write replies to
    ``reply_to`` (groups only: private chats need no quote); when that message is
    deleted (e.g. a text progress replaced by a photo), the next write replies instead,
    so a job's result still answers the request. Sends are retried after network errors
    and 5xx (``attempts`` tries, backoff from ``retry_delay`` s)."""

    limits = TELEGRAM_LIMITS

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None = None, *,
                 reply_to: int | None = None, attempts: int = 3,
                 retry_delay: float = 1.0) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.thread_id = thread_id
        self.reply_to = reply_to
        self.attempts = attempts
        self.retry_delay = retry_delay
        self.media_ids: set[int] = set()
        self._quoting: int | None = None  # the message that replies to ``reply_to``
        self._rearmed = False  # it was deleted: the next write replies

    async def retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Run a write that must be delivered: retried after network errors and 5xx."""
        for attempt in range(1, self.attempts):
            try:
                return await call()
            except (TelegramNetworkError, TelegramServerError) as error:
                log.warning("telegram write failed in chat %s (%s), attempt %d",
                            self.chat_id, type(error).__name__, attempt)
            await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        return await call()

    async def draft(self, draft_id: int, content: Rendered) -> None:
        """Stream ``content`` into the private chat's draft ``draft_id`` (Bot API
        sendMessageDraft; plain text if the entities are refused)."""
        try:
            await self.bot.send_message_draft(
                self.chat_id, draft_id, text=content.text, entities=content.aiogram_entities(),
                message_thread_id=self.thread_id, can_stop=True)
        except TelegramBadRequest as error:
            if not entities_refused(error.message):
                raise
            await self.bot.send_message_draft(self.chat_id, draft_id, text=content.text,
                                              message_thread_id=self.thread_id, can_stop=True)

    def _reply(self, reply: bool) -> ReplyParameters | None:
        if not (reply or self._rearmed) or self.reply_to is None:
            return None
        return ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)

    def _replied(self, parameters: ReplyParameters | None, message_id: int) -> None:
        if parameters is not None:
            self._quoting, self._rearmed = message_id, False

    async def send_text(self, markdown: str, actions: ActionRows, *,
                        reply: bool = False) -> int:
        chunks = render_chunks(markdown) or [Rendered("…")]
        markup = keyboard(actions)
        message_id = 0
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            message_id = await self.retrying(partial(
                self.send_rendered, chunk, markup if last else None,
                reply=reply and index == 0))
        return message_id

    async def send_rendered(self, content: Rendered, markup: InlineKeyboardMarkup | None, *,
                            reply: bool = False) -> int:
        """Send one rendered message (plain text if Telegram refuses the entities)."""
        reply_parameters = self._reply(reply)
        for attempt in (content, content.plain()):
            try:
                message = await self.bot.send_message(
                    self.chat_id, attempt.text, entities=attempt.aiogram_entities(),
                    message_thread_id=self.thread_id, reply_markup=markup,
                    reply_parameters=reply_parameters)
            except TelegramBadRequest as error:
                if attempt.entities and entities_refused(error.message):
                    continue
                raise
            self._replied(reply_parameters, message.message_id)
            return message.message_id
        raise AssertionError("unreachable")

    async def edit_text(self, handle: int, markdown: str, actions: ActionRows) -> int:
        content = (render_chunks(markdown) or [Rendered("…")])[0]
        await self.retrying(partial(self.edit_rendered, handle, content, keyboard(actions)))
        return handle

    async def edit_rendered(self, handle: int, content: Rendered,
                            markup: InlineKeyboardMarkup | None) -> None:
        """Edit one message's text and keyboard (plain text if entities are refused;
        "not modified" is success). Raises ``CannotEdit`` for a media message."""
        for attempt in (content, content.plain()):
            try:
                await self.bot.edit_message_text(
                    text=attempt.text, chat_id=self.chat_id, message_id=handle,
                    entities=attempt.aiogram_entities(), reply_markup=markup)
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return
                if attempt.entities and entities_refused(error.message):
                    continue
                if "there is no text in the message" in error.message:
                    raise CannotEdit(error.message) from error
                raise
            return

    async def delete(self, handle: int) -> None:
        await self.bot.delete_message(self.chat_id, handle)
        self.media_ids.discard(handle)
        if handle == self._quoting:
            self._quoting, self._rearmed = None, True

    async def send_media(self, media: Sequence[Media], caption: str, actions: ActionRows, *,
                         reply: bool = False) -> list[int]:
        text = _caption(caption)
        common: dict[str, Any] = {"message_thread_id": self.thread_id,
                                  "reply_parameters": self._reply(reply)}
        if len(media) > 1:
            group = [self._input_media(item, n, text if n == 1 else Rendered(""))
                     for n, item in enumerate(media, 1)]
            messages = await self.retrying(lambda: self.bot.send_media_group(
                self.chat_id, media=group, **common))
            ids = [m.message_id for m in messages]
        else:
            message = await self._send_one(media[0], text, keyboard(actions), common)
            ids = [message.message_id]
        self.media_ids.update(ids)
        self._replied(common["reply_parameters"], ids[0])
        return ids

    @staticmethod
    def _input_media(item: Media, number: int, text: Rendered) -> Any:
        kind = {"image": InputMediaPhoto, "audio": InputMediaAudio,
                "voice": InputMediaAudio}.get(item.kind, InputMediaDocument)
        return kind(media=_file(item, number), caption=text.text or None,
                    caption_entities=text.aiogram_entities() if text.text else None)

    async def _send_one(self, item: Media, text: Rendered,
                        markup: InlineKeyboardMarkup | None, common: dict[str, Any]
                        ) -> Message:
        kwargs = {**common, "caption": text.text or None,
                  "caption_entities": text.aiogram_entities() if text.text else None,
                  "reply_markup": markup}
        file = _file(item, 1)
        if item.kind == "image":
            return await self.retrying(lambda: self.bot.send_photo(self.chat_id, file,
                                                                    **kwargs))
        if item.kind == "audio":
            return await self.retrying(lambda: self.bot.send_audio(self.chat_id, file,
                                                                    **kwargs))
        if item.kind == "voice":
            return await self.retrying(lambda: self.bot.send_voice(self.chat_id, file,
                                                                    **kwargs))
        return await self.retrying(lambda: self.bot.send_document(self.chat_id, file,
                                                                   **kwargs))

    async def edit_media(self, handle: int, media: Media | None, caption: str,
                         actions: ActionRows) -> int:
        if handle not in self.media_ids:
            raise CannotEdit("a text message cannot become a media message")
        text = _caption(caption)
        markup = keyboard(actions)
        try:
            if media is None:
                await self.retrying(lambda: self.bot.edit_message_caption(
                    chat_id=self.chat_id, message_id=handle, caption=text.text,
                    caption_entities=text.aiogram_entities(), reply_markup=markup))
            else:
                await self.retrying(lambda: self.bot.edit_message_media(
                    media=self._input_media(media, 1, text), chat_id=self.chat_id,
                    message_id=handle, reply_markup=markup))
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                return handle
            raise
        return handle

    async def typing(self) -> None:
        with contextlib.suppress(Exception):
            await self.bot.send_chat_action(self.chat_id, "typing",
                                            message_thread_id=self.thread_id)

    def message_id(self, handle: int) -> str:
        return str(handle)

    def handle_of(self, message_id: str, media: bool) -> int:
        handle = int(message_id)
        if media:
            self.media_ids.add(handle)
        return handle

    def missing(self, error: BaseException) -> bool:
        """Bot API: "Bad Request: message to edit not found" (deleted meanwhile)."""
        return isinstance(error, TelegramBadRequest) and \
            "message to edit not found" in error.message
