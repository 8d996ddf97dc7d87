"""Deliveries the core starts on its own: work that no pending request is waiting for.

Example: after a restart, a Midjourney task that was in flight finishes; its result must
be posted in the chat although no command handler is running. Each adapter registers
one ``Deliver`` callback per platform at start (``ChatCore.outbox.attach``); the core
hands it the chat, a ticket streaming the parts to show, and the platform message id
the result should reply to (``""`` if none).

The ticket's ``showing`` names the messages that already show its parts (e.g. the
progress message shown before a restart, stored by the core): the adapter's presenter
continues them (edits them into the result, or deletes them when it sends the result as
a new message; a message gone meanwhile is simply replaced by a new one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.conversation.keys import ChatRef
    from core.conversation.tickets import TurnTicket

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to present: ``ticket``'s events in ``chat``, replying to ``reply_to``
    (a platform message id, ``""`` for none; adapters send without the reply when that
    message is gone), mentioning ``mention_user_id`` (named ``mention_name``) if set.
    ``ticket.showing``: part ref → the messages (``ShownAt``) showing it already."""

    chat: ChatRef
    ticket: TurnTicket
    reply_to: str = ""
    mention_user_id: str = ""
    mention_name: str = ""


Deliver = Callable[[Delivery], Awaitable[None]]


class Outbox:
    """Per-platform delivery callbacks registered by the running adapters."""

    def __init__(self) -> None:
        self._sinks: dict[str, Deliver] = {}
        self._detached: set[str] = set()
        self._listeners: list[Callable[[str], Coroutine[Any, Any, None]]] = []
        self._detach_listeners: list[Callable[[str], None]] = []
        self._notifying: set[asyncio.Task[None]] = set()

    def attach(self, platform: str, deliver: Deliver) -> None:
        """Register the adapter of ``platform`` (replaces an earlier one); listeners
        (``on_attach``) then post what they held for it (in the running loop)."""
        self._sinks[platform] = deliver
        self._detached.discard(platform)
        for listener in self._listeners:  # attach runs inside the adapters' event loop
            task = asyncio.get_running_loop().create_task(listener(platform))
            self._notifying.add(task)
            task.add_done_callback(self._notifying.discard)

    def on_attach(self, listener: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        """Call ``listener(platform)`` whenever an adapter attaches (e.g. Midjourney
        results that finished while no adapter of that platform ran)."""
        self._listeners.append(listener)

    def on_detach(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(platform)`` (synchronously) when an adapter detaches: e.g. end
        the tickets of queued jobs that cannot survive the restart, while the adapter's
        presenters still run (they show the terminal event before the adapter closes)."""
        self._detach_listeners.append(listener)

    def detach(self, platform: str) -> None:
        """Forget the adapter of ``platform`` (it is stopping); tell ``on_detach``
        listeners (their errors are logged)."""
        if self._sinks.pop(platform, None) is not None:
            self._detached.add(platform)
            for listener in self._detach_listeners:
                try:
                    listener(platform)
                except Exception:
                    log.exception("outbox detach listener failed")

    def detached(self, platform: str) -> bool:
        """Whether the adapter of ``platform`` attached and has since stopped (its
        presenters' cancels then mean "shutting down", not "the user stopped it")."""
        return platform in self._detached

    def attached(self, platform: str) -> bool:
        """Whether an adapter of ``platform`` is running in this process."""
        return platform in self._sinks

    async def send(self, delivery: Delivery) -> bool:
        """Hand ``delivery`` to its platform's adapter; False (logged) when none runs."""
        deliver = self._sinks.get(delivery.chat.platform)
        if deliver is None:
            log.warning("no %s adapter attached: a delivery is dropped",
                        delivery.chat.platform)
            return False
        await deliver(delivery)
        return True
