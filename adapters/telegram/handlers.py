"""Routers: messages (commands included), callbacks; presenting turns.

Every user message (or album) becomes one ``core.inbound.Inbound``; the core decides
whether it is a command, a turn or nothing (``ChatCore.receive``, policy in
docs/ARCHITECTURE.md) and this module shows the result. Forum topics get their own
context (``ChatRef.thread_id``) and answers go to the same topic.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Chat, Message, MessageGenerationStopped, User
from telegramify_markdown import utf16_len

from adapters.common.presentations import Presentations
from adapters.telegram.attachments import (
    AlbumCollector,
    attachment_refs,
    has_media,
    unreadable_kind,
)
from adapters.telegram.buttons import ActionButtons
from adapters.telegram.commands import PLATFORM, CommandReplies, topic_of
from adapters.telegram.lifecycle import ChatLifecycle
from adapters.telegram.prompts import PromptRequests
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.streaming import StreamPresenter, StreamTimings
from adapters.telegram.surface import ACTION_PREFIX
from adapters.telegram.ui import CANCEL_PREFIX, TurnRegistry
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.i18n import normalize_language
from core.inbound import Inbound, Refusal

log = logging.getLogger(__name__)

LONG_PART_UNITS = 4000
"""Telegram apps split a paste into messages of at most 4096 UTF-16 units (Bot API text
limit); a text at least this long (assumed margin) may be one part: the core waits for
more. Shorter texts cannot have a continuation and are answered at once."""


class TelegramHandlers:
    """Builds the routers and owns per-bot state (active turns, albums, admin cache)."""

    def __init__(self, core: ChatCore, limiter: BotLimiter, *,
                 timings: StreamTimings | None = None, album_delay: float = 0.5,
                 admin_cache_ttl: float = 60.0, admin_cache_size: int = 4096) -> None:
        self.core = core
        self.limiter = limiter
        self.timings = timings or StreamTimings()
        self.turns = TurnRegistry()
        self.presentations = Presentations()
        self.admin_cache_ttl = admin_cache_ttl
        self.admin_cache_size = admin_cache_size
        self._admins: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.albums = AlbumCollector(album_delay, self._on_album, self.spawn)
        self.replies = CommandReplies(core)
        self.buttons = ActionButtons(self)
        self.prompts = PromptRequests(core)
        self.lifecycle = ChatLifecycle(core)
        self.guard = self.lifecycle.guard
        """Session middleware: unreachable and migrated chats (install on the Bot)."""
        self.router = Router(name="telegram")
        self.router.include_routers(self._messages_router(), self._callbacks_router())

    # ------------------------------------------------------------------ lifecycle
    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run ``work`` in the background, tracked so ``close`` can stop it."""
        async def runner() -> None:
            try:
                await work
            except Exception:
                log.exception("background Telegram task failed")

        task = asyncio.create_task(runner())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for running turns to finish presenting."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        """Cancel running presentations and pending albums."""
        self.albums.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ------------------------------------------------------------------ routers
    def _messages_router(self) -> Router:
        router = Router(name="telegram-messages")
        router.message.outer_middleware(self.lifecycle.note_chat)
        router.message.register(self.lifecycle.on_migrated,
                                F.migrate_to_chat_id | F.migrate_from_chat_id)
        router.message.register(self.on_message)
        router.my_chat_member.register(self.lifecycle.on_my_membership)
        router.stopped_message_generation.register(self.on_draft_stopped)
        return router

    def _callbacks_router(self) -> Router:
        router = Router(name="telegram-callbacks")
        router.callback_query.register(self.on_cancel_button,
                                       F.data.startswith(f"{CANCEL_PREFIX}:"))
        router.callback_query.register(self.buttons.on_action, F.data.startswith(ACTION_PREFIX))
        router.callback_query.register(self.buttons.on_action)  # stale/unknown: "gone" alert
        return router

    # ------------------------------------------------------------------ who / where
    async def context(self, bot: Bot, chat: Chat, user: User, thread_id: int | None,
                      *, need_admin: bool) -> tuple[ChatRef, Actor]:
        """The core's ChatRef/Actor; admin status via getChatMember (cached) when needed."""
        is_private = chat.type == "private"
        admin = False
        if need_admin and not is_private:
            admin = await self.is_chat_admin(bot, chat.id, user.id)
        ref = ChatRef(PLATFORM, str(chat.id), str(thread_id) if thread_id else "", is_private)
        actor = Actor(PLATFORM, str(user.id), user.full_name, user.language_code or "en",
                      is_chat_admin=admin)
        return ref, actor

    async def is_chat_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        """Whether the user is an administrator or the creator (cached briefly, LRU-bounded)."""
        now = time.monotonic()
        key = (chat_id, user_id)
        cached = self._admins.get(key)
        if cached is not None and now - cached[0] < self.admin_cache_ttl:
            self._admins.move_to_end(key)
            return cached[1]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
            admin = member.status in ("administrator", "creator")
        except TelegramAPIError as error:
            log.info("getChatMember failed: %s", error)
            admin = False
        self._admins[key] = (now, admin)
        self._admins.move_to_end(key)
        while len(self._admins) > self.admin_cache_size:
            self._admins.popitem(last=False)
        return admin

    # ------------------------------------------------------------------ messages
    async def on_message(self, message: Message, bot: Bot) -> None:
        """Any user message (commands too): the core decides what it is."""
        user = message.from_user
        if user is None or user.is_bot:
            return
        if message.media_group_id is not None:
            self.albums.add(message, bot)
            return
        await self._handle_messages(bot, [message])

    async def _on_album(self, bot: Bot, parts: list[Message]) -> None:
        await self._handle_messages(bot, parts)

    async def _handle_messages(self, bot: Bot, messages: list[Message]) -> None:
        """Translate a message (or an album) into an ``Inbound`` and show the result."""
        first = messages[0]
        user = first.from_user
        assert user is not None
        me = await bot.me()
        stripped = strip_mention(messages, me.id, me.username or "")
        text = stripped if stripped is not None else "\n".join(
            part.text or part.caption or "" for part in messages).strip()
        chat, actor = await self.context(bot, first.chat, user, topic_of(first),
                                         need_admin=text.startswith("/"))
        pending = await self.prompts.answer_to(first)
        if pending is not None:  # the answer to a prompt request (a ForceReply)
            try:
                mask = await self.prompts.mask_of(bot, first) if pending.accepts_mask else None
            except UserInputError as exc:  # the photo could not be downloaded
                lang = await self.core.language_for(chat, actor)
                await self.replies.send_text(bot, first, self.core.error_text(exc, lang))
                return
            reply = await self.core.submit_prompt(pending.action_id, text, chat, actor, mask)
            await self.buttons.present_parts(bot, first, reply, chat, actor)
            return
        sources = list(messages)
        replied = first.reply_to_message
        if replied is not None and has_media(replied):  # a question about an earlier file
            sources.insert(0, replied)
        inbound = Inbound(
            chat, actor, text, mentions_bot=stripped is not None,
            replies_to_bot=replies_to_bot(first, me.id), bot_username=me.username or "",
            attachments=tuple(attachment_refs(bot, sources)),
            unreadable=next(filter(None, map(unreadable_kind, messages)), ""),
            may_continue=utf16_len(first.text or "") >= LONG_PART_UNITS,
            message_id=str(first.message_id))
        result = await self.core.receive(inbound)
        if isinstance(result, Refusal):
            await self.replies.send_text(bot, first, result.text)
        elif isinstance(result, CommandReply):
            await self.presentations.settle(str(first.chat.id))  # e.g. /cancel: after ⏹
            await self.buttons.present_parts(bot, first, result, chat, actor)
        elif isinstance(result, TurnTicket):
            self.buttons.present_ticket(bot, first, result, int(actor.user_id), actor.name)

    async def present(self, presenter: StreamPresenter) -> None:
        """Run a stream presenter; its turn is forgotten afterwards."""
        chat_id = str(presenter.turn.destination.chat_id)
        try:
            with self.presentations.presenting(chat_id, presenter.turn.ticket):
                await presenter.run()
        finally:
            self.turns.remove(presenter.turn)

    # ------------------------------------------------------------------ callbacks
    async def query_language(self, query: CallbackQuery, bot: Bot) -> str:
        """The presser's language: their /settings choice, else their client's (en/zh)."""
        message = query.message
        if isinstance(message, Message):
            chat, actor = await self.context(bot, message.chat, query.from_user,
                                             topic_of(message), need_admin=False)
            return await self.core.language_for(chat, actor)
        return normalize_language(query.from_user.language_code,
                                  self.core.settings.default_language)

    async def on_cancel_button(self, query: CallbackQuery, bot: Bot) -> None:
        """The Stop button under a streaming answer."""
        lang = await self.query_language(query, bot)
        turn = self.turns.by_token((query.data or "").split(":", 1)[1])
        if turn is None:
            await query.answer(self.core.t("telegram.turn_over", lang))
            return
        allowed = query.from_user.id == turn.requester_id or (
            not turn.destination.is_private
            and await self.is_chat_admin(bot, turn.destination.chat_id, query.from_user.id))
        if not allowed:
            await query.answer(self.core.t("telegram.cancel_not_yours", lang), show_alert=True)
            return
        turn.ticket.cancel()
        await query.answer(self.core.t("turn.cancelling", lang))

    async def on_draft_stopped(self, event: MessageGenerationStopped) -> None:
        """The user pressed stop on a streaming draft."""
        turn = self.turns.by_draft(event.chat.id, event.draft_id)
        if turn is not None:
            turn.ticket.cancel()


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """Whether the message replies to one of the bot's messages."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return False
    return replied.from_user is not None and replied.from_user.id == bot_id


def strip_mention(messages: list[Message], bot_id: int, username: str) -> str | None:
    """The text with the bot's mentions removed, or None when the bot isn't mentioned."""
    mention = f"@{username}".lower()
    mentioned = False
    texts: list[str] = []
    for message in messages:
        text = message.text or message.caption or ""
        entities = message.entities or message.caption_entities or []
        cuts: list[tuple[int, int]] = []
        for entity in entities:
            piece = entity.extract_from(text)
            if (entity.type == "mention" and piece.lower() == mention) or (
                    entity.type == "text_mention" and entity.user is not None
                    and entity.user.id == bot_id):
                cuts.append((entity.offset, entity.offset + entity.length))
        found = _bare_mention(username).search(text) if username and not cuts else None
        if found is not None:  # "@bot" typed without an entity (not "/cmd@bot", "@bot_x")
            start = utf16_len(text[:found.start()])
            cuts.append((start, start + utf16_len(found.group())))
        mentioned = mentioned or bool(cuts)
        texts.append(_remove_utf16_ranges(text, cuts))
    if not mentioned:
        return None
    return "\n".join(text for text in texts if text)


def _bare_mention(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w/@])@{re.escape(username)}(?!\w)", re.IGNORECASE)


def _remove_utf16_ranges(text: str, cuts: list[tuple[int, int]]) -> str:
    raw = text.encode("utf-16-le")
    for start, end in sorted(cuts, reverse=True):
        raw = raw[:start * 2] + raw[end * 2:]
    return raw.decode("utf-16-le").strip()

