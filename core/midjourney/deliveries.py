"""``Deliveries``: what the Midjourney service posts through ``core.outbox`` itself.

After a restart no command handler presents a task that was in flight. Two cases:

* the message showing its progress is known (``mj_tasks.shown``): ``resume`` makes a
  live ticket that continues that message (progress edits, then the result) — handed
  to the platform's adapter at once, or when it attaches;
* otherwise, or when no adapter took the live ticket: the result is posted as it ends
  (``deliver``), or held until the adapter attaches (``hold``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.conversation.keys import ChatRef
from core.conversation.tickets import TurnTicket
from core.events import TurnEvent
from core.midjourney.shown import remember, resumed_ticket, showing, shows_job
from core.outbox import Delivery, Outbox
from core.storage.mj_tasks_repo import MjTaskRepository, MjTaskRow

Spawn = Callable[[Awaitable[Any]], None]


class Deliveries:
    """Deliveries of one service: ``spawn`` runs their writes in the background (the
    service waits for them at shutdown); ``cancel`` is the live tickets' cancel."""

    def __init__(self, outbox: Outbox, repo: MjTaskRepository, spawn: Spawn,
                 cancel: Callable[[TurnTicket], None]) -> None:
        self._outbox = outbox
        self._repo = repo
        self._spawn = spawn
        self._cancel = cancel
        self._held: list[tuple[MjTaskRow, list[TurnEvent]]] = []
        self._waiting: dict[str, tuple[MjTaskRow, TurnTicket]] = {}
        """Live tickets of resumed tasks not yet handed to an adapter, by task id."""

    @property
    def held(self) -> list[str]:
        """Ids of finished tasks whose results wait for their platform's adapter."""
        return [row.id for row, _ in self._held]

    def resume(self, row: MjTaskRow) -> TurnTicket | None:
        """A live ticket continuing the message that showed ``row``'s progress before
        the restart (``None``: no such message known)."""
        if not shows_job(row):
            return None
        ticket = TurnTicket(row.lang, self._cancel)
        ticket.showing.update(showing(row))
        remember(ticket, row, self._repo, self._spawn)
        if self._outbox.attached(row.platform):
            self._send(row, ticket)
        else:
            self._waiting[row.id] = (row, ticket)
        return ticket

    def drop(self, task_id: str) -> bool:
        """Forget the live ticket of ``task_id`` if no adapter took it yet (its result
        then goes through ``deliver``/``hold``); whether it was waiting."""
        return self._waiting.pop(task_id, None) is not None

    def deliver(self, row: MjTaskRow, events: list[TurnEvent]) -> None:
        """Post ``events`` (a finished task) in ``row``'s chat now; they continue the
        progress message when it is known."""
        self._send(row, resumed_ticket(row, events))

    def hold(self, row: MjTaskRow, events: list[TurnEvent]) -> None:
        """Keep ``events`` until ``row``'s platform attaches (``flush``)."""
        self._held.append((row, events))

    async def flush(self, platform: str) -> None:
        """``platform``'s adapter attached: hand it the waiting live tickets and post
        the held results (marked notified first: a restart never posts them twice)."""
        for task_id, (row, ticket) in list(self._waiting.items()):
            if row.platform == platform:
                del self._waiting[task_id]
                self._send(row, ticket)
        ready = [(row, events) for row, events in self._held if row.platform == platform]
        self._held = [item for item in self._held if item[0].platform != platform]
        for row, _ in ready:
            row.notified = True
        await self._repo.update([row for row, _ in ready])
        for row, events in ready:
            self.deliver(row, events)

    def _send(self, row: MjTaskRow, ticket: TurnTicket) -> None:
        mention = "" if row.is_private else row.requester_id
        chat = ChatRef(row.platform, row.chat_id, row.thread_id, row.is_private)
        self._spawn(self._outbox.send(Delivery(
            chat, ticket, row.request_message_id, mention,
            str(row.properties.get("requester_name") or ""))))
