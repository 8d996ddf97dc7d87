"""Where a task's progress is shown, kept with its ``mj_tasks`` row.

The presenter reports the platform messages showing the job's part (``JOB``) to the
ticket (``TurnTicket.part_shown``); ``remember`` stores every change in the row's
``shown`` column. After a restart ``showing`` hands them back: a delivery whose ticket
starts with them lets the adapter continue that message (edit it into the result, or
delete it when the result is sent anew) instead of leaving it frozen at "30%".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from core.conversation.tickets import TurnTicket
from core.events import TurnEvent
from core.midjourney.results import JOB, closing_events
from core.parts import ShownAt
from core.storage.mj_tasks_repo import MjTaskRepository, MjTaskRow

Spawn = Callable[[Awaitable[Any]], None]


def remember(ticket: TurnTicket, row: MjTaskRow, repo: MjTaskRepository,
             spawn: Spawn) -> None:
    """Keep ``row.shown`` (memory and database, written by ``spawn``ed tasks) equal to
    where ``ticket``'s parts are shown, from now on (what is shown already is written
    at once)."""
    def save() -> None:
        spawn(repo.set_shown(row.id, dict(row.shown)))

    def changed(ref: str, where: ShownAt | None) -> None:
        if where is None:
            row.shown.pop(ref, None)
        else:
            row.shown[ref] = where.to_json()
        save()

    row.shown = {ref: where.to_json() for ref, where in ticket.showing.items()}
    if row.shown:
        save()
    ticket.on_shown(changed)


def showing(row: MjTaskRow) -> dict[str, ShownAt]:
    """The stored messages showing ``row``'s parts (malformed entries are skipped)."""
    found = {ref: ShownAt.from_json(value) for ref, value in row.shown.items()}
    return {ref: where for ref, where in found.items() if where is not None}


def shows_job(row: MjTaskRow) -> bool:
    """Whether a message is known to show the job's progress (the result replaces it)."""
    return JOB in showing(row)


def resumed_ticket(row: MjTaskRow, events: list[TurnEvent]) -> TurnTicket:
    """A ticket for a delivery after a restart: it starts with the messages that
    showed the job (so the adapter continues them) and carries ``events`` (a failure
    first turns a shown progress into "stopped", as for a live ticket)."""
    ticket = TurnTicket(row.lang, lambda _ticket: None)
    ticket.showing.update(showing(row))
    for event in closing_events(events) if JOB in ticket.showing else events:
        ticket.emit(event)
    return ticket
