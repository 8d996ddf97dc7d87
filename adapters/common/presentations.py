"""``Presentations``: the turn presentations running per chat, so that a command reply
comes after the final text of the answers it stopped.

``/cancel`` (``ChatCore.cancel``) returns once the stopped turn has emitted its
``TurnCancelled``; the presenter still has to write the answer's final "⏹ Stopped."
text. An adapter runs every presentation inside ``presenting(chat_id, ticket)`` and
awaits ``settle(chat_id)`` before showing a command reply in that chat: it waits for
the presentations whose turn already ended (a running turn is not waited for).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Protocol

from core.events import TurnEvent

SETTLE_TIMEOUT = 5.0
"""Seconds ``settle`` waits at most (assumed ample for one final edit with retries)."""


class EndingTicket(Protocol):
    """A ticket whose ``result`` is its terminal event once emitted (else None)."""

    @property
    def result(self) -> TurnEvent | None: ...


class Presentations:
    """Running presentations by chat id (any string the adapter uses for the chat)."""

    def __init__(self) -> None:
        self._running: dict[str, dict[asyncio.Event, EndingTicket]] = {}

    @contextlib.contextmanager
    def presenting(self, chat_id: str, ticket: EndingTicket) -> Iterator[None]:
        """Mark ``ticket``'s presentation in ``chat_id`` as running for the block."""
        done = asyncio.Event()
        self._running.setdefault(chat_id, {})[done] = ticket
        try:
            yield
        finally:
            done.set()
            running = self._running.get(chat_id, {})
            running.pop(done, None)
            if not running:
                self._running.pop(chat_id, None)

    async def settle(self, chat_id: str | None, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait (at most ``timeout`` seconds) until the presentations in ``chat_id``
        (``None``: in every chat, e.g. at a shutdown after ``Outbox.detach`` ended the
        queued jobs) whose turn has ended (``ticket.result`` set) have finished writing."""
        chats = self._running.values() if chat_id is None else [
            self._running.get(chat_id, {})]
        ending = [asyncio.ensure_future(done.wait())
                  for running in chats for done, ticket in running.items()
                  if ticket.result is not None]
        if not ending:
            return
        try:
            await asyncio.wait(ending, timeout=timeout)
        finally:
            for waiter in ending:
                waiter.cancel()
