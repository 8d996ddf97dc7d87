"""Turn tickets: the async event stream an adapter reads for one submission."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.events import TERMINAL_EVENTS, TurnEvent
from core.parts import ShownAt

ShownListener = Callable[[str, ShownAt | None], None]
"""``listener(ref, where)``: part ``ref`` is now shown by ``where`` (``None``: gone)."""


class TurnTicket:
    """Events of the turn that answers one submission; iterate with ``async for``."""

    def __init__(self, language: str, on_cancel: Callable[[TurnTicket], None]) -> None:
        self.language = language
        self._events: asyncio.Queue[TurnEvent] = asyncio.Queue()
        self._on_cancel = on_cancel
        self._finished = False  # the consumer has read the terminal event
        self.result: TurnEvent | None = None
        self.ended = asyncio.Event()
        """Set when the terminal event is emitted (before the consumer reads it)."""
        self.showing: dict[str, ShownAt] = {}
        """Part ``ref`` → the platform messages showing it. The presenter keeps it up to
        date; a ticket resumed after a restart starts with what was stored, so the
        presenter continues those messages instead of posting new ones."""
        self._shown_listeners: list[ShownListener] = []

    def emit(self, event: TurnEvent) -> None:
        """Deliver an event (ignored after the terminal one)."""
        if self.result is not None:
            return
        self._events.put_nowait(event)
        if isinstance(event, TERMINAL_EVENTS):
            self.result = event
            self.ended.set()

    def on_shown(self, listener: ShownListener) -> None:
        """Call ``listener(ref, where)`` whenever a presenter reports where part ``ref``
        is shown (e.g. the core stores it with a job that survives restarts)."""
        self._shown_listeners.append(listener)

    def part_shown(self, ref: str, where: ShownAt | None) -> None:
        """The presenter reports that ``where`` shows part ``ref`` (``None``: no message
        shows it any more); listeners are called synchronously."""
        if where is None:
            self.showing.pop(ref, None)
        else:
            self.showing[ref] = where
        for listener in list(self._shown_listeners):
            listener(ref, where)

    def cancel(self) -> None:
        """Ask the core to stop this submission's turn."""
        if self.result is None:
            self._on_cancel(self)

    def __aiter__(self) -> TurnTicket:
        return self

    async def __anext__(self) -> TurnEvent:
        if self._finished:
            raise StopAsyncIteration
        event = await self._events.get()
        if isinstance(event, TERMINAL_EVENTS):
            self._finished = True
        return event

    async def wait(self) -> TurnEvent:
        """Consume events until the terminal one and return it."""
        last: TurnEvent | None = None
        async for event in self:
            last = event
        assert last is not None
        return last
