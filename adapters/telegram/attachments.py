"""Photos, image documents, text documents and albums → core ``ImageInput``/``DocumentInput``.

Files are downloaded as bytes with ``bot.download`` and handed to ``core.media`` (images
are decoded in a worker thread); a Telegram file URL is never passed on or logged (it
contains the bot token). An album arrives as
several messages sharing a ``media_group_id``: ``AlbumCollector`` waits briefly for the
last part and hands the whole album over as one turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message

from core.app import ChatCore
from core.conversation.inputs import DocumentInput, ImageInput
from core.errors import UserInputError
from core.media import is_image_mime, is_text_document

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bots may download at most 20 MB through getFile."""

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Media:
    """What a set of messages carried: inputs for the core, and problems to tell the user."""

    images: list[ImageInput] = field(default_factory=list)
    documents: list[DocumentInput] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def has_media(message: Message) -> bool:
    """Whether a message carries a photo or a document."""
    return bool(message.photo or message.document)


UNREADABLE_KINDS = ("sticker", "voice", "audio", "video", "video_note", "animation",
                    "location", "venue", "contact", "poll", "dice", "game", "story",
                    "paid_media")
"""Message contents the bot cannot read (yet): a message with one of them is not a turn."""


def unreadable_kind(message: Message) -> str | None:
    """The first content of ``message`` the bot cannot read (``"sticker"``…), else None."""
    return next((kind for kind in UNREADABLE_KINDS if getattr(message, kind, None)), None)


async def collect_media(bot: Bot, core: ChatCore, messages: Sequence[Message],
                        language: str) -> Media:
    """Download and prepare every photo/document of ``messages`` (in order)."""
    media = Media()
    for message in messages:
        try:
            await _collect_one(bot, core, message, media, language)
        except UserInputError as error:
            media.problems.append(core.error_text(error, language))
    return media


async def _collect_one(bot: Bot, core: ChatCore, message: Message, media: Media,
                       language: str) -> None:
    if message.photo:
        largest = message.photo[-1]
        data = await _download(bot, core, largest.file_id, largest.file_size, media, language)
        if data is not None:
            media.images.append(await _prepare_image(core, data, "image/jpeg"))
        return
    document = message.document
    if document is None:
        return
    filename = document.file_name or "file"
    mime = document.mime_type
    if is_image_mime(mime, filename):
        data = await _download(bot, core, document.file_id, document.file_size, media, language)
        if data is not None:
            media.images.append(await _prepare_image(core, data, mime or "image/jpeg"))
    elif is_text_document(filename, mime):
        data = await _download(bot, core, document.file_id, document.file_size, media, language)
        if data is not None:
            media.documents.append(core.media.read_text_document(filename, data, mime))
    else:
        media.problems.append(core.t("error.file_unsupported", language, filename=filename))


async def _download(bot: Bot, core: ChatCore, file_id: str, size: int | None, media: Media,
                    language: str) -> bytes | None:
    """The file's bytes, or None after recording a localized problem."""
    if size is not None and size > BOT_API_DOWNLOAD_LIMIT:
        media.problems.append(core.t("telegram.file_too_big", language))
        return None
    try:
        buffer = await bot.download(file_id)
    except TelegramBadRequest as error:
        key = "telegram.file_too_big" if "too big" in error.message else "telegram.download_failed"
        media.problems.append(core.t(key, language))
        return None
    except (TimeoutError, TelegramAPIError, aiohttp.ClientError, OSError) as error:
        # only the type: aiohttp errors quote the file URL, which contains the bot token
        log.warning("download of a Telegram file failed: %s", type(error).__name__)
        media.problems.append(core.t("telegram.download_failed", language))
        return None
    if buffer is None:
        media.problems.append(core.t("telegram.download_failed", language))
        return None
    return buffer.read()


async def _prepare_image(core: ChatCore, data: bytes, mime: str) -> ImageInput:
    """Decode/resize off the event loop (Pillow work on big photos takes a while)."""
    return await asyncio.to_thread(core.media.prepare_image, data, mime)


class AlbumCollector:
    """Groups album parts (same chat + ``media_group_id``) and flushes them as one list."""

    def __init__(self, delay: float,
                 on_album: Callable[[Bot, list[Message]], Awaitable[None]],
                 spawn: Callable[[Awaitable[None]], object]) -> None:
        self.delay = delay
        self._on_album = on_album
        self._spawn = spawn
        self._parts: dict[tuple[int, str], list[Message]] = {}
        self._bots: dict[tuple[int, str], Bot] = {}
        self._timers: dict[tuple[int, str], asyncio.TimerHandle] = {}

    def add(self, message: Message, bot: Bot) -> None:
        """Add one album part; the album is flushed ``delay`` s after its last part."""
        assert message.media_group_id is not None
        key = (message.chat.id, message.media_group_id)
        self._parts.setdefault(key, []).append(message)
        self._bots[key] = bot
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(self.delay, self._flush, key)

    def _flush(self, key: tuple[int, str]) -> None:
        self._timers.pop(key, None)
        parts = self._parts.pop(key, [])
        bot = self._bots.pop(key, None)
        if parts and bot is not None:
            parts.sort(key=lambda part: part.message_id)
            self._spawn(self._on_album(bot, parts))

    def close(self) -> None:
        """Drop pending albums (shutdown)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._parts.clear()
        self._bots.clear()
