"""The shared stream engine: shows a turn's streamed text in a chat, for every adapter.

``TextStream.present(events)`` consumes a ticket's ``TurnEvent``s and keeps the chat's
messages in sync with the answer through a ``TextSurface`` paced by a ``StreamPacer``
(both in :mod:`adapters.common.surface`):

* text deltas accumulate; the running tool's progress line sits under the text;
* previews are droppable: one *pass* renders the latest text (deltas that arrived
  meanwhile coalesce), splits it into message-sized chunks and brings the shown
  messages up to it with sends / edits, each in a pacer slot (a refused slot ends the
  pass). Where the surface has drafts the last chunk streams into the draft and only
  full chunks are sent as real messages; a refused draft falls back to edits;
* a chunk the text outgrew is frozen (never re-cut) and the answer continues in the
  next message; the live message carries a Stop button;
* the final body (the answer, the partial text with a failure notice or the stop note,
  an empty-answer notice; nothing for a job whose parts were the answer) always goes:
  retried after transport errors and 5xx (``attempts`` tries, backoff from
  ``retry_delay`` s), a refused edit is deleted and sent as a new message (so is an
  edit that failed twice), and when sending keeps
  failing ``TextSurface.undeliverable`` tells the user. The final ``actions`` go under
  the last chunk; a cut-off answer gets the length note carrying them instead;
* parts (media, progress, buttons) are shown through the ``PartPresenter``; those that
  arrive after the text started are held back and shown after the final text, so an
  answer never continues above a picture;
* a write answered "chat unreachable" stops everything: ``present`` returns ``None``
  (``unreachable`` is set) and the caller cancels the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from adapters.common.presenter import PartPresenter, Translate, progress_text
from adapters.common.stream_model import (
    Op,
    Shown,
    StreamTexts,
    TurnState,
    final_body,
    next_op,
)
from adapters.common.surface import (
    NO_BUTTONS,
    STOP_BUTTON,
    Body,
    Buttons,
    Fault,
    StreamPacer,
    TextSurface,
)
from core.conversation.tickets import TurnTicket
from core.events import TextDelta, TurnCancelled, TurnEvent, TurnFailed, TurnFinal
from core.parts import PartUpdate

__all__ = ["StreamTexts", "TextStream"]

log = logging.getLogger(__name__)

MAX_FINAL_FAILURES = 5
"""Failed final writes of one answer before it is given up."""


class _Gone(Exception):
    """The chat became unreachable."""


class TextStream:
    """Presents one ticket's events through ``surface`` (see the module docstring).

    ``t``/``lang`` localize progress lines and notices; ``parts`` shows the turn's
    parts (``None``: they are not shown); ``attempts``/``retry_delay`` (seconds, doubled
    per retry, at most ``max_retry_delay``) bound final retries; ``typing_interval``
    (seconds) repeats "typing…" until something is visible."""

    def __init__(self, surface: TextSurface, pacer: StreamPacer, t: Translate, lang: str,
                 texts: StreamTexts, *, parts: PartPresenter | None = None,
                 attempts: int = 3, retry_delay: float = 1.0, max_retry_delay: float = 5.0,
                 typing_interval: float = 4.0) -> None:
        self.surface = surface
        self.pacer = pacer
        self.t = t
        self.lang = lang
        self.texts = texts
        self.parts = parts
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.typing_interval = typing_interval
        self.drafting = surface.drafts
        self.messages: list[Shown] = []
        """The messages showing the answer, in order."""
        self.unreachable = False
        self.abandoned = False
        """The final text was given up (after retries) or the chat is unreachable."""
        self.first_delta_at: float | None = None
        self.first_visible_at: float | None = None
        """``time.monotonic()`` of the first text / first visible write."""
        self._state = TurnState()
        self._splitter = surface.splitter()
        self._final: list[tuple[Any, Buttons]] | None = None
        self._cache: tuple[int, list[tuple[Any, Buttons]]] | None = None
        self._stop: bool | None = None
        self._held = False  # a preview slot was taken when the terminal event came
        self._replied = False
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._visible = asyncio.Event()

    # ------------------------------------------------------------------ the turn
    async def present(self, events: AsyncIterator[TurnEvent]) -> TurnEvent | None:
        """Consume ``events`` to the terminal event and leave the final text visible.

        Returns the terminal event (a ``TurnFailed("error.internal")`` when the events
        ended or broke without one), ``None`` when the chat became unreachable. Errors
        that are not write errors (``classify`` → ``None``) propagate."""
        if self.parts is not None and isinstance(events, TurnTicket):
            self.parts.follow(events)  # continues its shown parts, reports new ones
        reader = asyncio.create_task(self._read(events))
        typing = asyncio.create_task(self._typing())
        try:
            await self._write()
            await self._finish()
            if self.unreachable:
                return None
            return self._state.terminal
        except _Gone:
            self.unreachable = self.abandoned = True
            return None
        finally:
            typing.cancel()
            reader.cancel()

    async def _read(self, events: AsyncIterator[TurnEvent]) -> None:
        state = self._state
        try:
            async for event in events:
                await self._on_event(event)
                self._changed.set()
                if state.terminal is not None:
                    break
        except Exception:
            log.exception("a turn's events broke off")
        finally:
            if state.terminal is None:  # the ticket broke: report, never hang
                state.terminal = TurnFailed("error.internal")
            self._finished.set()
            self._changed.set()

    async def _on_event(self, event: TurnEvent) -> None:
        if isinstance(event, TextDelta) and event.text and self.first_delta_at is None:
            self.first_delta_at = time.monotonic()
        now = self._state.take(event, lambda p: progress_text(p, self.t, self.lang))
        if self.parts is None or now is None:
            return
        if isinstance(now, PartUpdate):
            await self._part(self.parts.update, now.ref, now.part)
        else:
            await self._part(self.parts.show, now)

    async def _part(self, show: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Show a part (``show(*args)``); a write failure is logged (the answer still
        comes)."""
        if self.unreachable:
            return
        try:
            await show(*args)
        except Exception as error:
            fault = self.surface.classify(error)
            if fault is None:
                raise
            if fault is Fault.UNREACHABLE:
                self.unreachable = True
                self._finished.set()
                self._changed.set()
                return
            log.warning("could not show a part: %r", error)
        self._mark_visible()

    async def _typing(self) -> None:
        while self.first_visible_at is None:
            try:
                await self.surface.typing()
            except Exception as error:
                log.debug("typing indicator failed: %r", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._visible.wait(), self.typing_interval)

    def _mark_visible(self) -> None:
        if self.first_visible_at is None:
            self.first_visible_at = time.monotonic()
        self._visible.set()

    # ------------------------------------------------------------------ targets
    def _targets(self) -> list[tuple[Any, Buttons]]:
        """The chunks to show now and the buttons under each (cached per state)."""
        if self._final is not None:
            return self._final
        if self._cache is not None and self._cache[0] == self._state.version:
            return self._cache[1]
        chunks = self._splitter.feed(Body(self._state.markdown, self._state.status))
        if chunks and self._stop is None:
            self._stop = self.surface.stop_button(self._state.turn_id)
        targets = [(chunk, STOP_BUTTON if self._stop and i == len(chunks) - 1 else NO_BUTTONS)
                   for i, chunk in enumerate(chunks)]
        self._cache = (self._state.version, targets)
        return targets

    def _final_targets(self, terminal: TurnFinal | TurnFailed | TurnCancelled
                       ) -> list[tuple[Any, Buttons]]:
        body, buttons = final_body(
            terminal, self._state.markdown, texts=self.texts, t=self.t, lang=self.lang,
            parts_sent=self.parts is not None and self.parts.presented)
        chunks = self._splitter.feed(body)
        targets = [(chunk, buttons if i == len(chunks) - 1 else NO_BUTTONS)
                   for i, chunk in enumerate(chunks)]
        if isinstance(terminal, TurnFinal) and terminal.truncated:  # the note: Continue
            note = self.surface.splitter().feed(Body(self.t("turn.length_note", self.lang)))
            targets += [(chunk, Buttons(actions=terminal.actions)) for chunk in note[:1]]
        return targets

    def _next_op(self) -> Op | None:
        return next_op(self._targets(), self.messages, final=self._final is not None)

    async def _apply(self, op: Op) -> None:
        if op.kind == "send":
            handle = await self.surface.send_chunk(op.chunk, op.buttons,
                                                   reply=not self._replied)
            self._replied = True
            self.messages.append(Shown(handle, op.chunk, op.buttons))
            self._mark_visible()
        elif op.kind == "edit":
            shown = self.messages[op.index]
            shown.handle = await self.surface.edit_chunk(shown.handle, op.chunk, op.buttons)
            shown.chunk, shown.buttons = op.chunk, op.buttons
        else:
            for shown in self.messages[op.index:]:
                try:
                    await self.surface.delete(shown.handle)
                except Exception as error:
                    if self.surface.classify(error) is None:
                        raise
            del self.messages[op.index:]

    # ------------------------------------------------------------------ previews
    async def _write(self) -> None:
        """Preview passes until the terminal event."""
        state = self._state
        while state.terminal is None:
            refresh = self.pacer.refresh if (self.drafting and
                                             self.first_visible_at is not None) else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), refresh)
            self._changed.clear()
            wait = self.pacer.due_in(shown=bool(self.messages), drafting=self.drafting)
            if wait > 0 and state.terminal is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), wait)
            if self.unreachable:
                raise _Gone
            if state.terminal is None:
                await self._preview()

    async def _preview(self) -> None:
        if not (self._state.markdown.strip() or self._state.status):
            return  # nothing to show yet: no pacing slot spent (the first text goes at once)
        admit = self.pacer.admit(visible=self.first_visible_at is not None,
                                 drafting=self.drafting)
        if admit == "retry":
            self._changed.set()  # the newest text is still owed: retry when allowed
            return
        if admit != "go" or not self._targets():
            return
        if self.drafting and await self._preview_draft():
            return
        while self._next_op() is not None:
            slot = await self.pacer.preview_slot()
            if slot is None:
                return
            if self._state.terminal is not None:
                self._held = True  # the final pass uses this slot
                return
            op = self._next_op()  # the latest text: deltas that came meanwhile coalesce
            if op is None or not await self._optional(op, slot):
                return

    async def _optional(self, op: Op, slot: contextlib.AbstractContextManager[None]
                        ) -> bool:
        """Run a preview write in ``slot``; False (logged) when it failed."""
        try:
            with slot:
                await self._apply(op)
        except Exception as error:
            if self._fault(error) is not Fault.THROTTLED:
                log.warning("preview %s failed: %r", op.kind, error)
            return False
        return True

    async def _preview_draft(self) -> bool:
        """Full chunks as real messages, the last one as the draft; False: drafts are
        off now (the caller edits instead)."""
        chunks = [chunk for chunk, _ in self._targets()]
        frozen = len(self.messages)
        if [shown.chunk for shown in self.messages] != chunks[:frozen]:
            self.drafting = False  # the frozen text rendered differently: edit it
            return False
        for index in range(frozen, len(chunks) - 1):
            slot = await self.pacer.preview_slot()
            if slot is None or not await self._optional(
                    Op("send", index, chunks[index], NO_BUTTONS), slot):
                return True
        if len(chunks) <= frozen:
            return True
        try:
            with self.pacer.draft_slot():
                await self.surface.draft(chunks[-1])
        except Exception as error:
            if self._fault(error) is Fault.THROTTLED:
                self._changed.set()  # dropped: retried after the window, at a slower pace
                return True
            log.info("drafts unavailable (%r); editing instead", error)
            self.drafting = False
            return False
        self.pacer.draft_shown()
        self._mark_visible()
        return True

    # ------------------------------------------------------------------ final
    async def _finish(self) -> None:
        terminal = self._state.terminal
        if self.unreachable:
            raise _Gone
        if not isinstance(terminal, TurnFinal | TurnFailed | TurnCancelled):
            return  # merged into the next turn: that one shows the answer
        self._final = self._final_targets(terminal)
        await self._deliver()
        if self.abandoned or self.parts is None:
            return
        await self.parts.flush()
        for part in self._state.later:
            await self._part(self.parts.show, part)
            if self.unreachable:
                raise _Gone

    async def _deliver(self) -> None:
        """The final pass: every op goes (see the module docstring for failures)."""
        failures = attempt = 0
        while not self.abandoned and (op := self._next_op()) is not None:
            if not self._held:
                await self.pacer.final_slot()
            self._held = False
            try:
                await self._apply(op)
                attempt = 0
                continue
            except Exception as error:
                fault = self._fault(error)
                failures += 1
                attempt += 1
                log.warning("final %s failed (%s): %r", op.kind, fault.value, error)
                transient = fault in (Fault.RETRYABLE, Fault.THROTTLED)
                if op.kind == "edit" and (not transient or attempt > 1):
                    # can't edit it: delete it (best effort) and send the rest anew
                    await self._apply(Op("delete", op.index))
                    attempt = 0
                elif not transient or attempt >= self.attempts \
                        or failures >= MAX_FINAL_FAILURES:
                    await self._give_up()
                    return
                else:
                    await asyncio.sleep(self._backoff(attempt))

    def _fault(self, error: Exception) -> Fault:
        """What a write error means; raises it again when it is no write error, and
        ``_Gone`` when the chat is unreachable."""
        fault = self.surface.classify(error)
        if fault is None:
            raise error
        if fault is Fault.UNREACHABLE:
            raise _Gone from error
        return fault

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_delay * 2 ** (attempt - 1), self.max_retry_delay))

    async def _give_up(self) -> None:
        log.error("giving up delivering an answer")
        self.abandoned = True
        await self.surface.undeliverable()
