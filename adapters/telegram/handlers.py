"""Routers: commands, messages (with group gating), callbacks; and turn start-up.

Private chats: every message is a turn. Groups: the bot answers when mentioned, when a
message replies to it, or via ``/ask``, unless an admin switched the chat's reply mode
(``/mode reply:all|mention|command``). Forum topics get their own context
(``ChatRef.thread_id``) and answers go to the same topic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Chat, Message, MessageGenerationStopped, User
from telegramify_markdown import utf16_len

from adapters.telegram.attachments import (
    AlbumCollector,
    collect_media,
    has_media,
    unreadable_kind,
)
from adapters.telegram.buttons import ActionButtons
from adapters.telegram.commands import PLATFORM, CommandReplies, topic_of
from adapters.telegram.lifecycle import ChatLifecycle
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.streaming import StreamPresenter, StreamTimings
from adapters.telegram.surface import ACTION_PREFIX
from adapters.telegram.ui import CANCEL_PREFIX, Destination, TurnRegistry
from core.app import ChatCore
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.errors import UserInputError
from core.i18n.catalog import normalize_language

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
        self.admin_cache_ttl = admin_cache_ttl
        self.admin_cache_size = admin_cache_size
        self._admins: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.albums = AlbumCollector(album_delay, self._on_album, self.spawn)
        self.replies = CommandReplies(core)
        self.buttons = ActionButtons(self)
        self.lifecycle = ChatLifecycle(core)
        self.guard = self.lifecycle.guard
        """Session middleware: unreachable and migrated chats (install on the Bot)."""
        self.router = Router(name="telegram")
        self.router.include_routers(self._commands_router(), self._messages_router(),
                                    self._callbacks_router())

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
    def _commands_router(self) -> Router:
        router = Router(name="telegram-commands")
        router.message.outer_middleware(self.lifecycle.note_chat)
        router.message.register(self.on_command, F.text.startswith("/"))
        router.message.register(self.on_command, F.caption.startswith("/"))
        return router

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

    # ------------------------------------------------------------------ commands
    async def on_command(self, message: Message, bot: Bot) -> None:
        """Core commands; ``/ask`` starts a turn; anything else falls through."""
        user = message.from_user
        text = message.text or message.caption or ""
        if user is None or user.is_bot:
            return
        me = await bot.me()
        chat, actor = await self.context(bot, message.chat, user, topic_of(message),
                                         need_admin=True)
        try:
            parsed = self.core.parse_command(text, PLATFORM, me.username or "")
        except UserInputError as error:
            lang = await self.core.language_for(chat, actor)
            await self.replies.send_text(bot, message, self.core.error_text(error, lang))
            return
        if parsed is not None and parsed.spec is not None and parsed.spec.name == "ask":
            prompt = str(parsed.args.get("prompt") or "").strip()
            model = parsed.args.get("model")
            await self.start_turn(bot, [message], chat, actor, prompt,
                                  model_override=str(model) if model else None)
            return
        if parsed is None or has_media(message):
            raise SkipHandler
        reply = await self.core.run_command_text(text, chat, actor, bot_username=me.username or "")
        if reply is None:
            raise SkipHandler
        await self.buttons.present_parts(bot, message, reply, chat, actor)

    # ------------------------------------------------------------------ messages
    async def on_message(self, message: Message, bot: Bot) -> None:
        """A plain message: answer it if the chat's reply mode says so."""
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
        first = messages[0]
        user = first.from_user
        assert user is not None
        chat, actor = await self.context(bot, first.chat, user, topic_of(first),
                                         need_admin=False)
        text = "\n".join(part.text or part.caption or "" for part in messages).strip()
        unreadable = any(unreadable_kind(part) for part in messages)
        if not chat.is_private:
            me = await bot.me()
            options = await self.core.chat_options(chat)
            stripped = strip_mention(messages, me.id, me.username or "")
            addressed = stripped is not None or replies_to_bot(first, me.id)
            if unreadable and not addressed:
                return  # a sticker in a group is not for the bot, whatever the mode
            if not unreadable and (options.reply_mode == "command" or (
                    options.reply_mode == "mention" and not addressed)):
                return
            text = stripped if stripped is not None else text
        if unreadable:  # one short notice, no turn (voice etc. come later)
            lang = await self.core.language_for(chat, actor)
            await self.replies.send_text(bot, first, self.core.t("error.unsupported_message",
                                                                 lang))
            return
        if not text and not any(has_media(part) for part in messages):
            return
        await self.start_turn(bot, messages, chat, actor, text)

    async def start_turn(self, bot: Bot, messages: list[Message], chat: ChatRef, actor: Actor,
                         prompt: str, *, model_override: str | None = None) -> None:
        """Collect media, check vision, submit to the core and present the stream."""
        first = messages[0]
        lang = await self.core.language_for(chat, actor)
        sources = list(messages)
        replied = first.reply_to_message
        if replied is not None and has_media(replied):
            sources.insert(0, replied)
        if not prompt and not any(has_media(part) for part in sources):
            await self.replies.send_text(bot, first, self.core.t("cmd.ask_usage", lang,
                                                                 ask="ask"))
            return
        media = await collect_media(bot, self.core, [m for m in sources if has_media(m)], lang)
        if media.problems:
            await self.replies.send_text(bot, first, "\n".join(media.problems))
            return
        if media.images:
            model = await self.core.model_for(chat, actor, model_override)
            if model is not None and not model.vision:
                names = ", ".join(m.name for m in self.core.catalog.vision_models()[:10])
                await self.replies.send_text(bot, first, self.core.t(
                    "error.no_vision", lang, model=model.name, models=names or "-"))
                return
        user_message = UserMessage(text=prompt, images=tuple(media.images),
                                   documents=tuple(media.documents),
                                   model_override=model_override)
        expect_more = utf16_len(first.text or "") >= LONG_PART_UNITS
        ticket = await self.core.submit(chat, actor, user_message, expect_more=expect_more)
        destination = Destination(first.chat.id, topic_of(first), chat.is_private,
                                  reply_to=first.message_id)
        turn = self.turns.add(ticket, int(actor.user_id), destination)
        presenter = StreamPresenter(bot, self.limiter, self.core, turn, self.timings)
        self.spawn(self.present(presenter))

    async def present(self, presenter: StreamPresenter) -> None:
        """Run a stream presenter; its turn is forgotten afterwards."""
        try:
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
        if not cuts and username and mention in text.lower():
            start = text.lower().index(mention)
            cuts.append((utf16_len(text[:start]), utf16_len(text[:start]) + len(mention)))
        mentioned = mentioned or bool(cuts)
        texts.append(_remove_utf16_ranges(text, cuts))
    if not mentioned:
        return None
    return "\n".join(text for text in texts if text)


def _remove_utf16_ranges(text: str, cuts: list[tuple[int, int]]) -> str:
    raw = text.encode("utf-16-le")
    for start, end in sorted(cuts, reverse=True):
        raw = raw[:start * 2] + raw[end * 2:]
    return raw.decode("utf-16-le").strip()

