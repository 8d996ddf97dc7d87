"""Action buttons on Telegram: presses, their outcomes, and command replies with parts.

A press of ``a:<action_id>`` is checked first (``ChatCore.press_action``: unknown,
expired, not yours, already running; no gateway call): such a notice is the answer,
``answerCallbackQuery(text, show_alert)``. An accepted press is answered at once, before
its work runs (Bot API: "after the user presses a callback button, Telegram clients
will display a progress bar until you call answerCallbackQuery"; it "must be called"
for every query, https://core.telegram.org/bots/api#answercallbackquery), so a slow
gateway submit never leaves the spinner on. The work's ``ActionOutcome`` is then shown
in the chat: a ``notice`` that is an alert or the only outcome → a message replying to
the button's message (an acknowledgement such as "🎨 U2…" next to a result is not
repeated); ``reply`` → posted (``replace``: the message that carried the button is
edited, text and keyboard); ``ticket`` → presented like a turn, replying to that message.
Any other callback data (stale buttons of older versions) gets the "no longer
available" alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, Chat, Message, User

from adapters.common.presenter import PartPresenter
from adapters.common.surface import CannotEdit
from adapters.telegram.commands import topic_of
from adapters.telegram.prompts import PromptRequests
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.streaming import StreamPresenter
from adapters.telegram.surface import ACTION_PREFIX, TelegramPacer, TelegramSurface
from adapters.telegram.timings import StreamTimings
from adapters.telegram.ui import Destination, TurnRegistry
from core.actions import ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.image_jobs import MentionedTicket
from core.outbox import Delivery


class TelegramHandlers(Protocol):
    """What the buttons need from ``adapters.telegram.handlers.TelegramHandlers`` (a
    protocol, so the two modules do not import each other)."""

    core: ChatCore
    limiter: BotLimiter
    timings: StreamTimings
    turns: TurnRegistry
    prompts: PromptRequests

    def spawn(self, work: Awaitable[Any]) -> asyncio.Task[Any]: ...

    async def present(self, presenter: StreamPresenter) -> None: ...

    async def context(self, bot: Bot, chat: Chat, user: User, thread_id: int | None,
                      *, need_admin: bool) -> tuple[ChatRef, Actor]: ...

log = logging.getLogger(__name__)
_MARKDOWN = re.compile(r"[\\`*_\[\]()~|]")


def mention(user_id: int, name: str) -> str:
    """A Markdown mention of a user by id (Bot API: inline links to ``tg://user?id=``
    mention a user); "" without a user."""
    if not user_id:
        return ""
    return f"[{_MARKDOWN.sub('', name).strip() or '👤'}](tg://user?id={user_id})"


class ActionButtons:
    """Runs action buttons and presents replies/outcomes for ``TelegramHandlers``."""

    def __init__(self, handlers: TelegramHandlers) -> None:
        self.handlers = handlers
        self.core = handlers.core

    def surface(self, bot: Bot, message: Message, *, reply: bool = True) -> TelegramSurface:
        """A surface in ``message``'s chat/topic, replying to it in groups."""
        private = message.chat.type == "private"
        return TelegramSurface(bot, message.chat.id, topic_of(message),
                               reply_to=None if private or not reply else message.message_id)

    async def on_action(self, query: CallbackQuery, bot: Bot) -> None:
        """A press of an action button (``a:<id>``)."""
        message = query.message
        data = query.data or ""
        if not isinstance(message, Message):
            await query.answer()
            return
        chat, actor = await self.handlers.context(bot, message.chat, query.from_user,
                                                  topic_of(message), need_admin=True)
        action_id = data[len(ACTION_PREFIX):] if data.startswith(ACTION_PREFIX) else ""
        press = await self.core.press_action(action_id, chat, actor)
        if press.outcome is not None:  # refused or busy: the notice is the answer
            await self.apply(bot, query, message, chat, actor, press.outcome)
            return
        try:  # now: the work may wait seconds for the gateway
            await self._answer(query)
        except TelegramAPIError as error:  # best effort; the press still runs (once)
            log.info("could not answer a button press: %s", error)
        outcome = await press.run()
        await self.apply(bot, query, message, chat, actor, outcome, answered=True)

    async def _answer(self, query: CallbackQuery, text: str = "", alert: bool = False
                      ) -> None:
        with contextlib.suppress(TelegramBadRequest):  # too old: answering is best effort
            await query.answer(text or None, show_alert=alert or None)

    async def apply(self, bot: Bot, query: CallbackQuery, message: Message, chat: ChatRef,
                    actor: Actor, outcome: ActionOutcome, *, answered: bool = False) -> None:
        """Show ``outcome`` of a press on ``message``. The query is answered with its
        notice unless ``answered`` (then the notice is posted in the chat when it is an
        alert or the only outcome)."""
        if not answered:
            await self._answer(query, outcome.notice, outcome.alert)
        elif outcome.notice and (outcome.alert or not (
                outcome.reply or outcome.ticket or outcome.prompt)):
            try:
                await self.surface(bot, message).send_text(outcome.notice, (), reply=True)
            except TelegramAPIError as error:
                log.warning("could not post a press's notice: %s", error)
        reply = outcome.reply
        if reply is not None:
            if outcome.replace:
                await self._replace(bot, message, reply)
                await self.present_parts(bot, message, reply, chat, actor, text=False)
            else:
                await self.present_parts(bot, message, reply, chat, actor)
        if outcome.ticket is not None:
            self.present_ticket(bot, message, outcome.ticket, int(actor.user_id), actor.name)
        if outcome.prompt is not None:
            await self.handlers.prompts.ask(bot, message, outcome.prompt, query.from_user)

    async def _replace(self, bot: Bot, message: Message, reply: CommandReply) -> None:
        surface = self.surface(bot, message, reply=False)
        try:
            await surface.edit_text(message.message_id, reply.text, reply.actions)
        except (CannotEdit, TelegramBadRequest) as error:  # a photo, a deleted message
            log.info("could not replace a button's message (%s): posting it", error)
            await surface.send_text(reply.text, reply.actions)

    async def present_parts(self, bot: Bot, message: Message, reply: CommandReply,
                            chat: ChatRef, actor: Actor, *, text: bool = True) -> None:
        """Post ``reply`` answering ``message``: text + buttons, its parts, then its
        ticket (a job) presented like a turn."""
        surface = self.surface(bot, message)
        lang = await self.core.language_for(chat, actor)
        parts = PartPresenter(surface, TelegramPacer(self.handlers.limiter, message.chat.id),
                              self.core.t, lang, reply_first=not text)
        if text:
            await surface.send_text(reply.text, reply.actions, reply=True)
        for part in reply.parts:
            try:
                await parts.show(part)
            except TelegramAPIError as error:
                log.warning("could not show a reply part: %s", error)
        if reply.ticket is not None:
            self.present_ticket(bot, message, reply.ticket, int(actor.user_id), actor.name)

    def present_ticket(self, bot: Bot, message: Message, ticket: TurnTicket,
                       requester_id: int, name: str = "") -> None:
        """Present ``ticket`` (a turn or a job) in ``message``'s chat, replying to it;
        results that mention the requester name ``requester_id``."""
        handlers = self.handlers
        destination = Destination(message.chat.id, topic_of(message),
                                  message.chat.type == "private", reply_to=message.message_id)
        turn = handlers.turns.add(MentionedTicket(ticket, mention(requester_id, name)),
                                  requester_id, destination)
        handlers.spawn(handlers.present(StreamPresenter(bot, handlers.limiter, self.core, turn,
                                                        handlers.timings)))

    async def deliver(self, bot: Bot, delivery: Delivery) -> None:
        """Present work the core resumed on its own (``core.outbox``) in its chat."""
        chat = delivery.chat
        destination = Destination(
            int(chat.chat_id), int(chat.thread_id) if chat.thread_id else None,
            chat.is_private, reply_to=int(delivery.reply_to) if delivery.reply_to else None)
        requester = int(delivery.mention_user_id) if delivery.mention_user_id else 0
        handlers = self.handlers
        ticket = MentionedTicket(delivery.ticket, mention(requester, delivery.mention_name))
        turn = handlers.turns.add(ticket, requester, destination)
        handlers.spawn(handlers.present(StreamPresenter(
            bot, handlers.limiter, self.core, turn, handlers.timings)))
