"""Turn tickets: the async event stream an adapter reads for one submission."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from core.events import TERMINAL_EVENTS, TurnEvent


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

    def emit(self, event: TurnEvent) -> None:
        """Deliver an event (ignored after the terminal one)."""
        if self.result is not None:
            return
        self._events.put_nowait(event)
        if isinstance(event, TERMINAL_EVENTS):
            self.result = event
            self.ended.set()

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
