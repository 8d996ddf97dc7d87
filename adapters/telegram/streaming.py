"""The stream presenter: shows a core turn's events in a Telegram chat as they arrive.

Private chats stream into a droppable draft (``sendMessageDraft``, one ``draft_id`` per
turn) paced per chat by the limiter (adaptive, never inside a retry_after window), re-sent
unchanged every ``draft_refresh`` s (drafts vanish ~30 s after their last update, Bot API
docs); real ``sendMessage`` calls carry the final text. Groups (or private chats whose
drafts fail) send a message and edit it; skipped edits are fine. The final text always
goes out (after any retry_after window; retried after network errors and 5xx, else a
notice is sent). Text longer than one message freezes it and continues in the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup

from adapters.common.presenter import PartPresenter
from adapters.telegram.ratelimit import BotLimiter
from adapters.telegram.reachability import chat_unreachable
from adapters.telegram.render import (
    Rendered,
    render_markdown,
    split_rendered,
    split_with_ends,
)
from adapters.telegram.surface import TelegramPacer, TelegramSurface, keyboard
from adapters.telegram.timings import StreamTimings as StreamTimings
from adapters.telegram.ui import ActiveTurn, CoreTexts, cancel_keyboard
from core.events import (
    ImageReady,
    PartShown,
    PartUpdated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnEvent,
    TurnFailed,
    TurnFinal,
    TurnMerged,
)
from core.parts import Media, MediaPart, ProgressPart, ReplyPart

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Shown:
    message_id: int
    content: Rendered
    keyboard: bool


@dataclass(slots=True)
class _State:
    markdown: str = ""
    status: str = ""
    later: list[ReplyPart] = field(default_factory=list)
    """Parts that arrived after the answer text started: shown after the final text,
    so an answer never continues above a picture."""
    terminal: TurnEvent | None = None


class StreamPresenter:
    """Shows one ticket's events in one chat (see the module docstring)."""

    def __init__(self, bot: Bot, limiter: BotLimiter, texts: CoreTexts, turn: ActiveTurn,
                 timings: StreamTimings | None = None) -> None:
        self.bot = bot
        self.limiter = limiter
        self.texts = texts
        self.turn = turn
        self.timings = timings or StreamTimings()
        self.where = turn.destination
        self.language = turn.ticket.language
        self.use_drafts = self.where.is_private and self.timings.use_drafts
        if self.use_drafts:
            turn.draft_id = random.randint(1, 2**31 - 1)
        self._state = _State()
        self.surface = TelegramSurface(
            bot, self.where.chat_id, self.where.thread_id,
            reply_to=None if self.where.is_private else self.where.reply_to,
            attempts=self.timings.final_attempts, retry_delay=self.timings.final_retry_delay)
        self.parts = PartPresenter(self.surface, TelegramPacer(limiter, self.where.chat_id),
                                   texts.t, self.language)
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._shown: list[_Shown] = []
        self._frozen = ""  # drafts: the rendered text already sent as real messages
        self._last_flush = -1e9
        self._started_at = time.monotonic()
        self.first_visible_at: float | None = None

    @property
    def _interval(self) -> float:
        if self.use_drafts:
            return self.timings.draft_interval
        if self.where.is_private:
            return self.timings.private_edit_interval
        return self.timings.group_edit_interval

    def _next_flush_at(self) -> float:
        """Previews are paced (drafts by the chat's pacer and window too); in groups the
        first one waits a little: a short answer costs one sendMessage, not send + edit."""
        if not self._shown and not self.where.is_private:
            return self._started_at + self.timings.group_first_delay
        at = self._last_flush + self._interval
        if self.use_drafts:
            at = max(at, time.monotonic() + self.limiter.draft_wait(self.where.chat_id))
        return at

    async def _next_change(self) -> None:
        """Wait for events; with a draft shown at most ``draft_refresh`` s (then re-send it)."""
        shown = self.use_drafts and self.first_visible_at is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(),
                                   self.timings.draft_refresh if shown else None)

    async def run(self) -> None:
        """Consume the ticket until its terminal event and leave the final text visible."""
        reader = asyncio.create_task(self._read())
        typing = asyncio.create_task(self._keep_typing())
        try:
            while self._state.terminal is None:
                await self._next_change()
                self._changed.clear()
                wait = self._next_flush_at() - time.monotonic()
                if wait > 0 and self._state.terminal is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._finished.wait(), wait)
                if self._state.terminal is None:
                    try:
                        await self._preview()
                    except TelegramAPIError as error:
                        if chat_unreachable(error):
                            raise
                        log.warning("preview failed in chat %s: %s", self.where.chat_id, error)
            typing.cancel()
            await self._finish(self._state.terminal)
        except TelegramAPIError as error:
            if chat_unreachable(error):  # blocked/kicked: ChatGuard logged it, turns cancelled
                return
            log.exception("could not deliver an answer in chat %s", self.where.chat_id)
            with contextlib.suppress(TelegramAPIError):
                await self.bot.send_message(
                    self.where.chat_id, self.texts.t("telegram.delivery_failed", self.language),
                    message_thread_id=self.where.thread_id)
        finally:
            if self._state.terminal is None:  # presenting died: don't leave the turn running
                self.turn.ticket.cancel()
            typing.cancel()
            reader.cancel()

    async def _read(self) -> None:
        try:
            await self._consume()
        finally:
            if self._state.terminal is None:  # the ticket broke: report, never hang
                self._state.terminal = TurnFailed("error.internal")
                self._finished.set()
                self._changed.set()

    async def _consume(self) -> None:
        state = self._state
        async for event in self.turn.ticket:
            if isinstance(event, TextDelta):
                state.markdown += event.text
            elif isinstance(event, ToolCallStarted):
                state.status = self.texts.t(event.progress.key, self.language,
                                            **event.progress.params)
            elif isinstance(event, ToolCallFinished):
                state.status = ""
            elif isinstance(event, ImageReady):  # deprecated: as PartShown(MediaPart)
                state.later.append(MediaPart((Media(
                    "image", data=event.data, url=event.url, mime=event.mime,
                    caption=event.caption),)))
            elif isinstance(event, PartShown):
                if state.markdown and not isinstance(event.part, ProgressPart):
                    state.later.append(event.part)
                else:
                    await self._on_part(self.parts.show(event.part))
            elif isinstance(event, PartUpdated):
                await self._on_part(self.parts.update(event.update.ref, event.update.part))
            elif isinstance(event, TurnFinal | TurnFailed | TurnCancelled | TurnMerged):
                state.terminal = event
                self._finished.set()
            self._changed.set()

    async def _on_part(self, work: Awaitable[Any]) -> None:
        """Show a part during the turn; a failure is logged (the answer still comes)."""
        try:
            await work
        except TelegramAPIError as error:
            if chat_unreachable(error):
                raise
            log.warning("could not show a part in chat %s: %s", self.where.chat_id, error)
        self._mark_visible()

    async def _keep_typing(self) -> None:
        """"typing…" until the answer is done (drafts show progress themselves)."""
        while not (self.use_drafts and self.first_visible_at is not None):
            try:
                await self.bot.send_chat_action(self.where.chat_id, "typing",
                                                message_thread_id=self.where.thread_id)
            except TelegramAPIError as error:
                log.debug("typing action failed: %s", error)
            await asyncio.sleep(self.timings.typing_interval)

    # ------------------------------------------------------------------ previews
    async def _preview(self) -> None:
        if self.use_drafts and (self.limiter.draft_wait(self.where.chat_id) > 0 or (
                self.first_visible_at is not None and not self.limiter.try_preview())):
            self._last_flush = time.monotonic()  # paced per chat, then a bot-wide budget:
            self._changed.set()  # the newest text is still owed, retry when allowed
            return
        if not self.use_drafts and not self.limiter.can_reserve(self.where.chat_id):
            self._last_flush = time.monotonic()  # skipped like a refused edit, unrendered
            return
        markdown = self._state.markdown
        if self._state.status:
            markdown = f"{markdown}\n\n{self._state.status}" if markdown else self._state.status
        rendered = render_markdown(markdown)
        if not rendered.text.strip():
            return
        self._last_flush = time.monotonic()
        if self.use_drafts:
            await self._preview_draft(rendered)
        if not self.use_drafts:
            await self._preview_edit(split_rendered(rendered))

    def _after_frozen(self, body: Rendered) -> list[tuple[Rendered, int]] | None:
        """Chunks after the frozen text; None if it rendered differently (then edit)."""
        if not body.text.startswith(self._frozen):
            return None
        return split_with_ends(body, start=len(self._frozen))

    async def _preview_draft(self, rendered: Rendered) -> None:
        pieces = self._after_frozen(rendered)
        if pieces is None:
            self.use_drafts = False
            return
        for chunk, end in pieces[:-1]:  # full messages: freeze them for real
            if not await self._optional(partial(self._send, chunk, keyboard=None, reply=False)):
                return
            self._frozen = rendered.text[:end]
        if not pieces:
            return
        try:
            with self.limiter.reserved():
                await self.surface.draft(self.turn.draft_id, pieces[-1][0])
        except TelegramRetryAfter:
            self._changed.set()  # dropped: retried after the window, at a slower pace
            return
        except TelegramAPIError as error:
            log.info("drafts unavailable in chat %s (%s); editing instead",
                     self.where.chat_id, error)
            self.use_drafts = False
            await self._preview_edit(split_rendered(rendered))
            return
        self.limiter.draft_sent(self.where.chat_id)
        self._mark_visible()

    async def _preview_edit(self, chunks: list[Rendered]) -> None:
        """Bring the visible messages up to date; every call here may be skipped."""
        last = len(chunks) - 1
        stop = cancel_keyboard(self.turn.token, self.texts.t("telegram.cancel_button",
                                                             self.language))
        for index, chunk in enumerate(chunks):
            keyboard = stop if index == last else None
            if index >= len(self._shown):
                first = index == 0
                if not await self._optional(
                        partial(self._send, chunk, keyboard=keyboard, reply=first)):
                    return
                self._mark_visible()
                continue
            shown = self._shown[index]
            if shown.content == chunk and shown.keyboard == (keyboard is not None):
                continue
            if not await self._optional(partial(self._edit, shown, chunk, keyboard=keyboard)):
                return

    async def _optional(self, call: Callable[[], Awaitable[None]]) -> bool:
        """Run a preview call if the limiter has room right now; False when skipped."""
        if not self.limiter.try_reserve(self.where.chat_id):
            return False
        try:
            with self.limiter.reserved():
                await call()
        except TelegramRetryAfter:
            return False
        return True

    def _mark_visible(self) -> None:
        if self.first_visible_at is None:
            self.first_visible_at = time.monotonic()

    # ------------------------------------------------------------------ final
    async def _finish(self, terminal: TurnEvent | None) -> None:
        if isinstance(terminal, TurnMerged) or terminal is None:
            return
        final = terminal if isinstance(terminal, TurnFinal) else None
        actions = final.actions if final is not None else ()
        markup = keyboard(actions) if not (final and final.truncated) else None
        if not (final and not final.text.strip() and self.parts.sent):  # a job: parts only
            await self._final_text(self._final_body(terminal), markup)
        self._mark_visible()
        if final is not None and final.truncated:  # the note carries Continue
            await self._final(self.surface.send_rendered,
                              Rendered(self.texts.t("turn.length_note", self.language)),
                              keyboard(actions))
        await self.parts.flush()
        for part in self._state.later:
            try:
                await self._final(self.parts.show, part)
            except TelegramAPIError as error:
                log.warning("could not show a part in chat %s: %s", self.where.chat_id, error)

    async def _final_text(self, body: Rendered, markup: InlineKeyboardMarkup | None) -> None:
        """The final text over the shown messages; ``markup`` goes under the last one."""
        pieces = self._after_frozen(body) if self.use_drafts else None
        if pieces is not None:
            chunks = [c for c, _ in pieces] or ([] if self._shown else [Rendered("…")])
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                await self._final(self._send, chunk, keyboard=markup if last else None,
                                  reply=False)
            if not chunks and markup is not None and self._shown:
                await self._final(self.bot.edit_message_reply_markup, chat_id=self.where.chat_id,
                                  message_id=self._shown[-1].message_id, reply_markup=markup)
            return
        chunks = split_rendered(body) or [Rendered("…")]
        for index, chunk in enumerate(chunks):
            kb = markup if index == len(chunks) - 1 else None
            if index >= len(self._shown):
                await self._final(self._send, chunk, keyboard=kb, reply=index == 0)
            elif self._shown[index].content != chunk or self._shown[index].keyboard or kb:
                try:
                    await self._final(self._edit, self._shown[index], chunk, keyboard=kb)
                except TelegramBadRequest as error:  # e.g. the message was deleted
                    log.info("final edit failed (%s); sending a new message", error)
                    await self._final(self._send, chunk, keyboard=kb, reply=False)
        for extra in self._shown[len(chunks):]:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_message(self.where.chat_id, extra.message_id)

    async def _final(self, call: Callable[..., Awaitable[Any]], *args: Any,
                     **kwargs: Any) -> None:
        """A final delivery, retried with backoff after network errors and 5xx answers."""
        await self.surface.retrying(partial(call, *args, **kwargs))

    def _final_body(self, terminal: TurnEvent) -> Rendered:
        lang = self.language
        if isinstance(terminal, TurnFinal):
            body = render_markdown(terminal.text)
            if not body.text.strip():
                return Rendered(self.texts.t("error.empty_answer", lang, model=terminal.model))
            return body
        if isinstance(terminal, TurnFailed):
            notice = Rendered("⚠️ " + self.texts.failure_text(terminal, lang))
            return render_markdown(terminal.partial_text).append(notice)
        partial = terminal.partial_text if isinstance(terminal, TurnCancelled) else ""
        return render_markdown(partial).append(Rendered(self.texts.t("telegram.stopped", lang)))

    # ------------------------------------------------------------------ Bot API calls
    async def _send(self, content: Rendered, *, keyboard: InlineKeyboardMarkup | None,
                    reply: bool) -> None:
        message_id = await self.surface.send_rendered(content, keyboard, reply=reply)
        self._shown.append(_Shown(message_id, content, keyboard is not None))

    async def _edit(self, shown: _Shown, content: Rendered, *,
                    keyboard: InlineKeyboardMarkup | None) -> None:
        await self.surface.edit_rendered(shown.message_id, content, keyboard)
        shown.content, shown.keyboard = content, keyboard is not None
