"""Showing a streamed answer: send once, then edit throttled, split at 2000 characters.

``StreamPresenter`` consumes a turn's ``TurnEvent``s.  One writer task owns all
writes: each wakes on new text, waits for the channel's throttle slot, then renders the
*latest* text — deltas that arrive meanwhile coalesce into that one edit.  When the
answer outgrows a message the previous one is frozen (its code fence closed) and the
answer continues in a new message.  The final text always lands: a failed final edit
falls back to sending the rest as new messages — after an HTTP error or a connection
blip alike (discord.py re-raises ``OSError``/``aiohttp`` errors/timeouts after retrying).
While a tool call runs, its localized progress line (``tool.running``) is shown under
the streamed text; parts (media, progress, buttons) go through the shared presenter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import discord

from adapters.common.presenter import PartPresenter, progress_text
from adapters.discord.ratelimit import ChannelThrottle
from adapters.discord.render import MESSAGE_LIMIT, IncrementalSplitter, fits
from adapters.discord.sinks import NO_MENTIONS as NO_MENTIONS
from adapters.discord.sinks import UNREACHABLE_CODES as UNREACHABLE_CODES
from adapters.discord.sinks import WRITE_ERRORS as WRITE_ERRORS
from adapters.discord.sinks import ChannelSink as ChannelSink
from adapters.discord.sinks import Handle as Handle
from adapters.discord.sinks import InteractionSink as InteractionSink
from adapters.discord.sinks import Sink as Sink
from adapters.discord.sinks import channel_unreachable as channel_unreachable
from core.events import (
    TERMINAL_EVENTS,
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
    TurnStarted,
)
from core.parts import ActionRows, Media, MediaPart, ProgressPart, ReplyPart

log = logging.getLogger(__name__)

@dataclass(slots=True)
class _Shown:
    handle: Handle
    text: str
    has_view: int
    """Which view the message carries: 0 none, 1 the Stop button, 2 the final buttons."""


MAX_FINAL_FAILURES = 5

ViewFactory = Callable[[str], discord.ui.View | None]
"""Builds the Cancel view for a turn id (``None``: no button)."""
ActionsViewFactory = Callable[[ActionRows], discord.ui.View | None]
"""Builds the view of ``TurnFinal.actions`` (``None``: no buttons)."""


class StreamPresenter:
    """Presents one turn's events in a ``Sink`` and returns the terminal event."""

    def __init__(self, sink: Sink, throttle: ChannelThrottle, *,
                 make_view: ViewFactory | None = None, cancelled_note: str = "",
                 limit: int = MESSAGE_LIMIT, retry_delay: float = 1.0,
                 on_message: Callable[[int], None] | None = None,
                 parts: PartPresenter | None = None,
                 final_view: ActionsViewFactory | None = None) -> None:
        self.sink = sink
        self.throttle = throttle
        self.make_view = make_view
        self.cancelled_note = cancelled_note
        self.retry_delay = retry_delay
        self.on_message = on_message
        self.messages: list[_Shown] = []
        self.text = ""
        self.status = ""
        """The running tool call's status line (``🔧 name…``), shown under the text."""
        self.first_delta_at: float | None = None
        self.first_visible_at: float | None = None
        self._splitter = IncrementalSplitter(limit)
        self._final: str | None = None
        self._view: discord.ui.View | None = None
        self._turn_id = ""
        self._wake = asyncio.Event()
        self._visible = asyncio.Event()
        self.parts = parts
        """Shows the turn's parts (media, progress, buttons) through the shared presenter."""
        self.final_view = final_view
        self._final_view: discord.ui.View | None = None
        self._later: list[ReplyPart] = []
        self._failures = 0
        self._abandoned = False
        self.unreachable = False
        """A write found the channel gone (blocked, removed): nothing more is sent."""

    @property
    def message_ids(self) -> list[int]:
        """Ids of the messages currently showing the answer."""
        return [shown.handle.id for shown in self.messages]

    async def present(self, events: AsyncIterator[TurnEvent]) -> TurnEvent | None:
        """Consume ``events`` to the end, keeping the messages in sync with the text."""
        if self.parts is not None:
            self.parts.lang = getattr(events, "language", self.parts.lang)
        typing = asyncio.create_task(self._typing())
        writer = asyncio.create_task(self._writer())
        terminal: TurnEvent | None = None
        try:
            async for event in events:
                if writer.done():
                    break  # the writer died: stop consuming (the caller cancels the turn)
                if isinstance(event, TurnStarted):
                    self._turn_id = event.turn_id
                elif isinstance(event, TextDelta):
                    if self.first_delta_at is None:
                        self.first_delta_at = asyncio.get_running_loop().time()
                    self.text += event.text
                    self._wake.set()
                elif isinstance(event, ToolCallStarted):
                    self.status = (progress_text(event.progress, self.parts.t, self.parts.lang)
                                   if self.parts is not None else f"🔧 {event.name}…")
                    self._wake.set()
                elif isinstance(event, ToolCallFinished):
                    self.status = ""
                    self._wake.set()
                elif isinstance(event, ImageReady):  # deprecated: as PartShown(MediaPart)
                    self._later.append(MediaPart((Media(
                        "image", data=event.data, url=event.url, mime=event.mime,
                        caption=event.caption),)))
                elif isinstance(event, PartShown):
                    if self.text and not isinstance(event.part, ProgressPart):
                        self._later.append(event.part)  # never continue above a picture
                    else:
                        await self._part(event.part)
                elif isinstance(event, PartUpdated):
                    await self._part(event.update.part, event.update.ref)
                elif isinstance(event, TERMINAL_EVENTS):
                    terminal = event
        finally:
            self._final = self._final_text(terminal)
            if (isinstance(terminal, TurnFinal) and not terminal.truncated
                    and self.final_view is not None):
                self._final_view = self.final_view(terminal.actions)
            self._wake.set()
            typing.cancel()
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await typing
                await writer
            finally:
                if self._view is not None:
                    self._view.stop()  # never leak the persistent Cancel view
        await self._show_later()
        return terminal

    def _final_text(self, terminal: TurnEvent | None) -> str:
        if isinstance(terminal, TurnFinal):
            if not terminal.text and self.parts is not None and self.parts.sent:
                return ""  # a job: its parts were the answer
            return terminal.text or self.text
        if isinstance(terminal, TurnCancelled):
            partial = terminal.partial_text or self.text
            return f"{partial}\n\n*{self.cancelled_note}*" if partial.strip() else ""
        if isinstance(terminal, TurnFailed):
            return terminal.partial_text or self.text
        return self.text if terminal is None else ""

    async def _typing(self) -> None:
        context = self.sink.typing()
        if context is None:
            return
        try:
            async with context:
                await self._visible.wait()
        except WRITE_ERRORS as exc:
            log.debug("typing indicator failed: %r", exc)

    # ---- the single writer --------------------------------------------------------------
    def _targets(self) -> list[tuple[str, int]]:
        final = self._final is not None
        chunks = self._splitter.feed(self._final if self._final is not None else self.text)
        if self.status and not final:
            if not chunks:
                chunks = [self.status]
            elif fits(with_status := f"{chunks[-1]}\n\n{self.status}", self._splitter.limit):
                chunks[-1] = with_status
        if self._view is None and chunks and not final and self.make_view is not None:
            self._view = self.make_view(self._turn_id)
        last = len(chunks) - 1
        if final:
            return [(chunk, 2 if self._final_view is not None and i == last else 0)
                    for i, chunk in enumerate(chunks)]
        return [(chunk, 1 if self._view is not None and i == last else 0)
                for i, chunk in enumerate(chunks)]

    def _next_op(self) -> tuple[str, int, str, int] | None:
        if self._abandoned:
            return None
        targets = self._targets()
        for i, (chunk, with_view) in enumerate(targets):
            if i >= len(self.messages):
                return ("send", i, chunk, with_view)
            shown = self.messages[i]
            if shown.text != chunk or shown.has_view != with_view:
                return ("edit", i, chunk, with_view)
        if self._final is not None and len(self.messages) > len(targets):
            return ("delete", len(targets), "", 0)
        return None

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._next_op() is not None:
                await self.throttle.wait(self.sink.channel_id)
                op = self._next_op()
                if op is None:
                    break
                if not await self._apply(*op) and self._final is None:
                    if self.unreachable:
                        return
                    break  # retried on the next delta; the final pass falls back
            if self._final is not None and self._next_op() is None:
                return

    async def _apply(self, kind: str, index: int, chunk: str, with_view: int) -> bool:
        view = (None, self._view, self._final_view)[with_view]
        try:
            if kind == "send":
                handle = await self.sink.send(chunk, view)
                self.messages.append(_Shown(handle, chunk, with_view))
                if self.first_visible_at is None:
                    self.first_visible_at = asyncio.get_running_loop().time()
                self._visible.set()
                if self.on_message is not None:
                    self.on_message(handle.id)
            elif kind == "edit":
                shown = self.messages[index]
                shown.handle = await self.sink.edit(shown.handle, chunk, view)
                shown.text, shown.has_view = chunk, with_view
            else:
                for shown in self.messages[index:]:
                    with contextlib.suppress(*WRITE_ERRORS):
                        await self.sink.delete(shown.handle)
                del self.messages[index:]
            return True
        except WRITE_ERRORS as exc:
            if channel_unreachable(exc):  # blocked / removed: stop here, the turn is cancelled
                assert isinstance(exc, discord.HTTPException)
                log.info("channel %s is unreachable (%s %s): stopping the answer",
                         self.sink.channel_id, exc.code, exc.text)
                self.unreachable = self._abandoned = True
                return False
            if isinstance(exc, discord.HTTPException):
                log.warning("discord %s failed (%s %s): %s", kind, exc.status, exc.code,
                            exc.text)
            else:
                log.warning("discord %s failed (connection): %r", kind, exc)
            if self._final is None:
                return False
            await self._fallback(kind, index, getattr(exc, "status", None))
            return False

    async def _fallback(self, kind: str, index: int, status: int | None) -> None:
        """Final pass after a failed write: retry, then resend from ``index`` as new messages."""
        self._failures += 1
        if self._failures > MAX_FINAL_FAILURES:
            log.error("giving up delivering an answer in channel %s", self.sink.channel_id)
            self._abandoned = True
            return
        await asyncio.sleep(min(self.retry_delay * self._failures, 5.0))
        if kind == "edit" and (status in (403, 404) or self._failures > 1):
            del self.messages[index:]  # can't edit it: the rest goes out as new messages

    async def _part(self, part: ReplyPart, ref: str = "") -> None:
        """Show a part now (an update replaces the part named ``ref``); failures are
        logged, the answer still comes."""
        if self.parts is None:
            return
        try:
            if ref:
                await self.parts.update(ref, part)
            else:
                await self.parts.show(part)
        except WRITE_ERRORS as exc:
            log.warning("could not show a part: %r", exc)
        self._visible.set()

    async def _show_later(self) -> None:
        """After the final text: the newest skipped progress, then the parts held back."""
        if self.parts is None or self._abandoned:
            return
        with contextlib.suppress(*WRITE_ERRORS):
            await self.parts.flush()
        for part in self._later:
            await self._part(part)
