"""Commands on Telegram: menus exported from the core specs, replies and the model picker.

Menus: ``setMyCommands`` per scope (all private chats / all group chats) in English (the
default, no language code) and Chinese (``language_code="zh"``).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)

from adapters.telegram.render import Rendered, render_chunks
from core.app import ChatCore
from core.commands.spec import CommandSpec

PLATFORM = "telegram"
MENU_LANGUAGES: tuple[tuple[str, str | None], ...] = (("en", None), ("zh", "zh"))
"""(catalog language, Telegram language_code): English is the default menu."""


def menu_for(specs: Iterable[CommandSpec], language: str, *, groups: bool) -> list[BotCommand]:
    """Commands offered on Telegram in private chats (``groups=False``) or in groups."""
    return [
        BotCommand(command=spec.name_on(PLATFORM), description=spec.describe(language)[:256])
        for spec in specs
        if spec.offered_on(PLATFORM) and (spec.groups if groups else spec.private)
    ]


async def export_commands(bot: Bot, specs: Iterable[CommandSpec]) -> None:
    """``setMyCommands`` for private and group chats, in English (default) and Chinese."""
    spec_list = tuple(specs)
    for language, language_code in MENU_LANGUAGES:
        await bot.set_my_commands(
            menu_for(spec_list, language, groups=False),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=language_code,
        )
        await bot.set_my_commands(
            menu_for(spec_list, language, groups=True),
            scope=BotCommandScopeAllGroupChats(),
            language_code=language_code,
        )


def topic_of(message: Message) -> int | None:
    """The forum topic of a message (None outside forum topics)."""
    if message.is_topic_message or (message.chat.is_forum and message.message_thread_id):
        return message.message_thread_id
    return None


class CommandReplies:
    """Renders ``CommandReply`` objects (Markdown, maybe a model menu) and runs the picker."""

    def __init__(self, core: ChatCore) -> None:
        self.core = core

    async def send_text(self, bot: Bot, message: Message, markdown: str, *,
                        keyboard: InlineKeyboardMarkup | None = None) -> None:
        """Send Markdown text in the message's chat/topic (replying to it in groups)."""
        chunks = render_chunks(markdown) or [Rendered("…")]
        reply = None
        if message.chat.type != "private":
            reply = ReplyParameters(message_id=message.message_id,
                                    allow_sending_without_reply=True)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            for attempt in (chunk, chunk.plain()):
                try:
                    await bot.send_message(
                        message.chat.id, attempt.text, entities=attempt.aiogram_entities(),
                        message_thread_id=topic_of(message), reply_parameters=reply,
                        reply_markup=keyboard if last else None)
                    break
                except TelegramBadRequest as error:
                    if not attempt.entities or "entities" not in error.message:
                        raise
            reply = None
