"""Photos and documents → core ``AttachmentRef``s; albums; unreadable contents.

Nothing is downloaded here: each ref carries Telegram's metadata (file name, MIME type,
``file_size``) and a ``fetch`` that calls ``bot.download(file_id)`` only when the core
takes the file for a turn (after its size/type/vision checks). The stored reference is
the ``file_id``, never the file URL (it contains the bot token), and download errors are
logged by type only (aiohttp errors quote that URL). An album arrives as several
messages sharing a ``media_group_id``: ``AlbumCollector`` waits briefly for the last
part and hands the whole album over as one message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Message

from core.conversation.inputs import MediaSource
from core.errors import UserInputError
from core.media import AttachmentRef, attachment_kind

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Bot API: bots may download files of at most 20 MB through getFile."""
PLATFORM = "telegram"

log = logging.getLogger(__name__)


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


def attachment_refs(bot: Bot, messages: Iterable[Message]) -> list[AttachmentRef]:
    """The photo (largest size) / document of each message, in order, not downloaded."""
    refs: list[AttachmentRef] = []
    for message in messages:
        if message.photo:
            largest = message.photo[-1]
            refs.append(_ref(bot, largest.file_id, "photo.jpg", "image/jpeg",
                             largest.file_size, photo=True))
        elif message.document is not None:
            document = message.document
            refs.append(_ref(bot, document.file_id, document.file_name or "file",
                             document.mime_type or "", document.file_size))
    return refs


def _ref(bot: Bot, file_id: str, name: str, mime: str, size: int | None, *,
         photo: bool = False) -> AttachmentRef:
    async def fetch() -> bytes:
        return await download(bot, file_id, size)

    source = MediaSource(PLATFORM, file_id, name=name, mime=mime, size=size)
    kind = "image" if photo else attachment_kind(name, mime)
    return AttachmentRef(name, mime, size, kind, fetch, source)


async def download(bot: Bot, file_id: str, size: int | None) -> bytes:
    """The file's bytes (getFile + download); raises ``UserInputError``
    (``telegram.file_too_big`` above the Bot API's 20 MB, ``telegram.download_failed``)."""
    if size is not None and size > BOT_API_DOWNLOAD_LIMIT:
        raise UserInputError("telegram.file_too_big")
    try:
        buffer = await bot.download(file_id)
    except TelegramBadRequest as error:
        too_big = "too big" in error.message
        raise UserInputError("telegram.file_too_big" if too_big
                             else "telegram.download_failed") from None
    except (TimeoutError, TelegramAPIError, aiohttp.ClientError, OSError) as error:
        # only the type: aiohttp errors quote the file URL, which contains the bot token
        log.warning("download of a Telegram file failed: %s", type(error).__name__)
        raise UserInputError("telegram.download_failed") from None
    if buffer is None:
        raise UserInputError("telegram.download_failed")
    return buffer.read()


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
