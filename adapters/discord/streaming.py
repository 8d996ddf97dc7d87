"""Discord's side of the shared stream engine (:mod:`adapters.common.stream`).

Messages hold at most 2000 characters of Markdown (Discord docs); an answer that
outgrows one is frozen (its code fence closed, reopened in the next) and continues in a
new message. Writes take the channel's ``ChannelThrottle`` slot (~5 writes / 5 s per
channel): a preview waits for it and then shows the *latest* text, so deltas that
arrive meanwhile coalesce into one edit. discord.py re-raises ``OSError`` / ``aiohttp``
errors / timeouts after its own retries: they are retried like 5xx answers. The Stop
button is the turn's ``CancelView``; failures are reported by the handlers (not under
the text).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import Any

import discord

from adapters.common.presenter import PartPresenter
from adapters.common.stream import StreamTexts, TextStream
from adapters.common.surface import Body, Buttons, Fault
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
from core.events import TurnEvent
from core.i18n import t as default_t
from core.parts import ActionRows

log = logging.getLogger(__name__)

ViewFactory = Callable[[str], discord.ui.View | None]
"""Builds the Cancel view for a turn id (``None``: no button)."""
ActionsViewFactory = Callable[[ActionRows], discord.ui.View | None]
"""Builds the view of ``TurnFinal.actions`` (``None``: no buttons)."""
TYPING_INTERVAL = 8.0
"""Seconds between two typing triggers (Discord shows one for ~10 s, assumed)."""


class DiscordSplitter:
    """Splits Markdown into messages of at most ``limit`` characters with balanced code
    fences (``IncrementalSplitter``: cut messages are frozen). The notice goes in
    italics under the text; the status line goes under the last chunk when it fits."""

    def __init__(self, limit: int = MESSAGE_LIMIT) -> None:
        self.splitter = IncrementalSplitter(limit)

    def feed(self, body: Body) -> list[Any]:
        text = body.markdown
        if body.notice:
            text = f"{text}\n\n*{body.notice}*" if text.strip() else f"*{body.notice}*"
        chunks = self.splitter.feed(text)
        if body.status:
            if not chunks:
                chunks = [body.status]
            elif fits(with_status := f"{chunks[-1]}\n\n{body.status}", self.splitter.limit):
                chunks[-1] = with_status
        return chunks


class DiscordTextSurface:
    """Writes the answer's chunks through a ``Sink`` (channel or interaction)."""

    drafts = False

    def __init__(self, sink: Sink, *, limit: int = MESSAGE_LIMIT,
                 make_view: ViewFactory | None = None,
                 final_view: ActionsViewFactory | None = None,
                 on_message: Callable[[int], None] | None = None) -> None:
        self.sink = sink
        self.limit = limit
        self.make_view = make_view
        self.final_view = final_view
        self.on_message = on_message
        self.view: discord.ui.View | None = None
        """The Stop view, once built (stopped by the presenter at the end)."""

    def splitter(self) -> DiscordSplitter:
        return DiscordSplitter(self.limit)

    def _view(self, buttons: Buttons) -> discord.ui.View | None:
        if buttons.stop:
            return self.view
        if buttons.actions and self.final_view is not None:
            return self.final_view(buttons.actions)
        return None

    async def send_chunk(self, chunk: str, buttons: Buttons, *, reply: bool) -> Handle:
        handle = await self.sink.send(chunk, self._view(buttons))
        if self.on_message is not None:
            self.on_message(handle.id)
        return handle

    async def edit_chunk(self, handle: Handle, chunk: str, buttons: Buttons) -> Handle:
        return await self.sink.edit(handle, chunk, self._view(buttons))

    async def delete(self, handle: Handle) -> None:
        await self.sink.delete(handle)

    def stop_button(self, turn_id: str) -> bool:
        if self.view is None and self.make_view is not None:
            self.view = self.make_view(turn_id)
        return self.view is not None

    async def draft(self, chunk: str) -> None:
        raise NotImplementedError("Discord has no drafts")

    async def typing(self) -> None:
        await self.sink.typing_once()

    def classify(self, error: BaseException) -> Fault | None:
        if channel_unreachable(error):
            assert isinstance(error, discord.HTTPException)
            log.info("channel %s is unreachable (%s %s): stopping the answer",
                     self.sink.channel_id, error.code, error.text)
            return Fault.UNREACHABLE
        if isinstance(error, discord.HTTPException):
            if error.status == 429:
                return Fault.THROTTLED
            return Fault.RETRYABLE if error.status >= 500 else Fault.REFUSED
        return Fault.RETRYABLE if isinstance(error, WRITE_ERRORS) else None

    async def undeliverable(self) -> None:
        log.error("could not deliver an answer in channel %s", self.sink.channel_id)


class DiscordStreamPacer:
    """Every write waits for the channel's throttle slot; no preview is skipped."""

    refresh: float | None = None

    def __init__(self, throttle: ChannelThrottle, channel_id: int) -> None:
        self.throttle = throttle
        self.channel_id = channel_id

    def due_in(self, *, shown: bool, drafting: bool) -> float:
        return 0.0

    def admit(self, *, visible: bool, drafting: bool) -> str:
        return "go"

    async def preview_slot(self) -> AbstractContextManager[None] | None:
        await self.throttle.wait(self.channel_id)
        return contextlib.nullcontext()

    def draft_slot(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def draft_shown(self) -> None:
        return None

    async def final_slot(self) -> None:
        await self.throttle.wait(self.channel_id)


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
        self.cancelled_note = cancelled_note
        self.retry_delay = retry_delay
        self.parts = parts
        """Shows the turn's parts (media, progress, buttons) through the shared presenter."""
        self.surface = DiscordTextSurface(sink, limit=limit, make_view=make_view,
                                          final_view=final_view, on_message=on_message)
        self.stream: TextStream | None = None

    @property
    def unreachable(self) -> bool:
        """A write found the channel gone (blocked, removed): nothing more is sent."""
        return self.stream is not None and self.stream.unreachable

    @property
    def message_ids(self) -> list[int]:
        """Ids of the messages currently showing the answer."""
        return [] if self.stream is None else [m.handle.id for m in self.stream.messages]

    @property
    def first_delta_at(self) -> float | None:
        return None if self.stream is None else self.stream.first_delta_at

    @property
    def first_visible_at(self) -> float | None:
        return None if self.stream is None else self.stream.first_visible_at

    async def present(self, events: AsyncIterator[TurnEvent]) -> TurnEvent | None:
        """Consume ``events`` to the end, keeping the messages in sync with the text;
        ``None`` when presenting stopped early (the caller cancels the turn)."""
        parts = self.parts
        lang = str(getattr(events, "language", parts.lang if parts is not None else "en"))
        if parts is not None:
            parts.lang = lang
        self.stream = TextStream(
            self.surface, DiscordStreamPacer(self.throttle, self.sink.channel_id),
            parts.t if parts is not None else default_t, lang,
            StreamTexts(self.cancelled_note), parts=parts, retry_delay=self.retry_delay,
            typing_interval=TYPING_INTERVAL)
        try:
            return await self.stream.present(events)
        finally:
            if self.surface.view is not None:
                self.surface.view.stop()  # never leak the persistent Cancel view
