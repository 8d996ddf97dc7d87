"""Telegram's side of the shared stream engine (:mod:`adapters.common.stream`).

Private chats stream into a droppable draft (``sendMessageDraft``, one ``draft_id`` per
turn) paced per chat by the limiter (adaptive, never inside a retry_after window), re-sent
unchanged every ``draft_refresh`` s (drafts vanish ~30 s after their last update, Bot API
docs); real ``sendMessage`` calls carry the final text. Groups (or private chats whose
drafts fail) send a message and edit it; skipped edits are fine. Messages hold at most
4096 UTF-16 units of rendered text (Bot API); text that outgrows one is frozen and the
answer continues in the next. What the engine does with them is described there.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from contextlib import AbstractContextManager
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from telegramify_markdown import utf16_len

from adapters.common.presenter import PartPresenter
from adapters.common.stream import StreamTexts, TextStream
from adapters.common.surface import Body, Buttons, Fault
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.reachability import chat_unreachable
from adapters.telegram.render import (
    TELEGRAM_TEXT_LIMIT,
    Rendered,
    render_markdown,
    split_with_ends,
)
from adapters.telegram.surface import TelegramPacer, TelegramSurface, keyboard
from adapters.telegram.timings import StreamTimings as StreamTimings
from adapters.telegram.ui import ActiveTurn, CoreTexts, cancel_keyboard
from core.events import TurnEvent

log = logging.getLogger(__name__)


class TelegramSplitter:
    """Renders a ``Body`` (Markdown → text + entities; the notice as plain text under
    it) and splits it into chunks of at most ``limit`` UTF-16 units. A chunk cut off
    while streaming is frozen: later text is split after it, unless the rendered text
    no longer starts with it (then it starts over). The status line is added to the
    last chunk when it fits there (else it is left out)."""

    def __init__(self, limit: int = TELEGRAM_TEXT_LIMIT) -> None:
        self.limit = limit
        self.frozen: list[Rendered] = []
        self._end = 0
        self._text = ""

    def feed(self, body: Body) -> list[Any]:
        rendered = render_markdown(body.markdown) if body.markdown else Rendered("")
        if body.notice:
            rendered = rendered.append(Rendered(body.notice))
        if not rendered.text.startswith(self._text):
            self.frozen, self._end, self._text = [], 0, ""
        pieces = split_with_ends(rendered, self.limit, start=self._end)
        for chunk, end in pieces[:-1]:
            self.frozen.append(chunk)
            self._end, self._text = end, rendered.text[:end]
        chunks = [*self.frozen, *([pieces[-1][0]] if pieces else [])]
        if body.status:
            status = Rendered(body.status)
            if not chunks:
                return [status]
            joined = chunks[-1].append(status)
            if utf16_len(joined.text) <= self.limit:
                chunks[-1] = joined
        return chunks


class TelegramTextSurface:
    """Writes the answer's chunks into one chat through ``TelegramSurface`` (plain text
    when Telegram refuses the entities); the Stop button is the turn's callback."""

    def __init__(self, surface: TelegramSurface, texts: CoreTexts, turn: ActiveTurn,
                 drafts: bool) -> None:
        self.surface = surface
        self.texts = texts
        self.turn = turn
        self.drafts = drafts

    def splitter(self) -> TelegramSplitter:
        return TelegramSplitter()

    def _markup(self, buttons: Buttons) -> InlineKeyboardMarkup | None:
        if buttons.stop:
            return cancel_keyboard(self.turn.token, self.texts.t(
                "telegram.cancel_button", self.turn.ticket.language))
        return keyboard(buttons.actions)

    async def send_chunk(self, chunk: Rendered, buttons: Buttons, *, reply: bool) -> int:
        return await self.surface.send_rendered(chunk, self._markup(buttons), reply=reply)

    async def edit_chunk(self, handle: int, chunk: Rendered, buttons: Buttons) -> int:
        await self.surface.edit_rendered(handle, chunk, self._markup(buttons))
        return handle

    async def delete(self, handle: int) -> None:
        await self.surface.delete(handle)

    def stop_button(self, turn_id: str) -> bool:
        return True

    async def draft(self, chunk: Rendered) -> None:
        await self.surface.draft(self.turn.draft_id, chunk)

    async def typing(self) -> None:
        await self.surface.bot.send_chat_action(self.surface.chat_id, "typing",
                                                message_thread_id=self.surface.thread_id)

    def classify(self, error: BaseException) -> Fault | None:
        if chat_unreachable(error):
            return Fault.UNREACHABLE
        if isinstance(error, TelegramRetryAfter):
            return Fault.THROTTLED
        if isinstance(error, TelegramNetworkError | TelegramServerError):
            return Fault.RETRYABLE
        return Fault.REFUSED if isinstance(error, TelegramAPIError) else None

    async def undeliverable(self) -> None:
        with contextlib.suppress(TelegramAPIError):
            await self.surface.bot.send_message(
                self.surface.chat_id,
                self.texts.t("telegram.delivery_failed", self.turn.ticket.language),
                message_thread_id=self.surface.thread_id)


class TelegramStreamPacer:
    """Previews per the chat's limiter: drafts no faster than ``draft_interval`` and the
    chat's adaptive draft pacer (never inside a retry_after window, within the bot-wide
    preview budget); edits every ``private_edit_interval`` / ``group_edit_interval`` s
    and only while the chat's buckets have room now; in groups the first preview waits
    ``group_first_delay`` s (a short answer costs one sendMessage, not send + edit).
    Finals wait in the flood-control middleware. Seconds on ``time.monotonic``."""

    def __init__(self, limiter: BotLimiter, chat_id: int, private: bool,
                 timings: StreamTimings) -> None:
        self.limiter = limiter
        self.chat_id = chat_id
        self.private = private
        self.timings = timings
        self.refresh: float | None = timings.draft_refresh
        self._last = -1e9
        self._started = time.monotonic()

    def due_in(self, *, shown: bool, drafting: bool) -> float:
        now = time.monotonic()
        if not shown and not self.private:
            return self._started + self.timings.group_first_delay - now
        timings = self.timings
        interval = (timings.draft_interval if drafting else timings.private_edit_interval
                    if self.private else timings.group_edit_interval)
        at = self._last + interval
        if drafting:
            at = max(at, now + self.limiter.draft_wait(self.chat_id))
        return at - now

    def admit(self, *, visible: bool, drafting: bool) -> str:
        self._last = time.monotonic()
        if drafting and (self.limiter.draft_wait(self.chat_id) > 0 or (
                visible and not self.limiter.try_preview())):
            return "retry"  # paced per chat, then a bot-wide budget
        if not drafting and not self.limiter.can_reserve(self.chat_id):
            return "skip"  # like a refused edit
        return "go"

    async def preview_slot(self) -> AbstractContextManager[None] | None:
        if not self.limiter.try_reserve(self.chat_id):
            return None
        return self.limiter.reserved()

    def draft_slot(self) -> AbstractContextManager[None]:
        return self.limiter.reserved()

    def draft_shown(self) -> None:
        self.limiter.draft_sent(self.chat_id)

    async def final_slot(self) -> None:
        return None


class StreamPresenter:
    """Shows one ticket's events in one chat (see the module docstring)."""

    def __init__(self, bot: Bot, limiter: BotLimiter, texts: CoreTexts, turn: ActiveTurn,
                 timings: StreamTimings | None = None) -> None:
        self.bot = bot
        self.limiter = limiter
        self.texts = texts
        self.turn = turn
        self.timings = timings = timings or StreamTimings()
        where = self.where = turn.destination
        self.language = language = turn.ticket.language
        drafts = where.is_private and timings.use_drafts
        if drafts:
            turn.draft_id = random.randint(1, 2**31 - 1)
        self.surface = TelegramSurface(
            bot, where.chat_id, where.thread_id,
            reply_to=None if where.is_private else where.reply_to,
            attempts=timings.final_attempts, retry_delay=timings.final_retry_delay)
        self.parts = PartPresenter(self.surface, TelegramPacer(limiter, where.chat_id),
                                   texts.t, language)
        self.stream = TextStream(
            TelegramTextSurface(self.surface, texts, turn, drafts),
            TelegramStreamPacer(limiter, where.chat_id, where.is_private, timings),
            texts.t, language,
            StreamTexts(texts.t("telegram.stopped", language),
                        lambda event: texts.failure_notice(event, language)),
            parts=self.parts, attempts=timings.final_attempts,
            retry_delay=timings.final_retry_delay, typing_interval=timings.typing_interval)

    @property
    def first_visible_at(self) -> float | None:
        """``time.monotonic()`` of the first visible write (``None``: none yet)."""
        return self.stream.first_visible_at

    async def run(self) -> TurnEvent | None:
        """Consume the ticket until its terminal event and leave the final text visible;
        a presenter that dies (or finds the chat unreachable) cancels its turn."""
        terminal: TurnEvent | None = None
        try:
            terminal = await self.stream.present(self.turn.ticket)
        finally:
            if terminal is None:
                self.turn.ticket.cancel()
        return terminal
