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
from adapters.telegram.ui import decode_picker, models_keyboard, vendors_keyboard
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.commands.spec import CommandSpec
from core.conversation.keys import Actor, ChatRef

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

    async def send(self, bot: Bot, message: Message, reply: CommandReply) -> None:
        """Answer ``message`` with a command reply; a model menu becomes a keyboard."""
        keyboard = vendors_keyboard(reply.menu) if reply.menu is not None else None
        await self.send_text(bot, message, reply.text, keyboard=keyboard)

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

    async def handle_picker(self, bot: Bot, message: Message, data: str, chat: ChatRef,
                            actor: Actor) -> str | None:
        """Apply a picker button; returns a short notice for the callback answer."""
        current = await self.core.run_command("model", {}, chat, actor)
        menu = current.menu
        action = decode_picker(data, menu) if menu is not None else None
        if menu is None or action is None:
            lang = await self.core.language_for(chat, actor)
            return self.core.t("telegram.picker_expired", lang)
        if action.kind == "vendors":
            await bot.edit_message_reply_markup(chat_id=message.chat.id,
                                                message_id=message.message_id,
                                                reply_markup=vendors_keyboard(menu, action.page))
            return None
        assert action.vendor is not None
        if action.kind == "vendor":
            await bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id,
                reply_markup=models_keyboard(menu, action.vendor, action.page))
            return None
        result = await self.core.run_command("model", {"name": action.model}, chat, actor)
        chunks = render_chunks(result.text) or [Rendered("…")]
        for attempt in (chunks[0], chunks[0].plain()):
            try:
                await bot.edit_message_text(text=attempt.text, chat_id=message.chat.id,
                                            message_id=message.message_id,
                                            entities=attempt.aiogram_entities())
                break
            except TelegramBadRequest as error:
                if not attempt.entities or "entities" not in error.message:
                    raise
        return f"✓ {action.model}" if not result.is_error else None
