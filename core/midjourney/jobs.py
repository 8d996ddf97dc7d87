"""What ``Midjourney.launch`` takes and returns (kept apart to keep the service small)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.conversation.tickets import TurnTicket
from core.midjourney.client import SubmitResult
from core.parts import ReplyPart
from core.storage.mj_tasks_repo import MjTaskRow

LateModal = Callable[[SubmitResult], Awaitable[ReplyPart]]  # a queued press's modal part


@dataclass(frozen=True, slots=True)
class Launched:
    """A launched job: its ``ticket``, or the ``modal`` the gateway answered at once."""

    ticket: TurnTicket | None
    modal: SubmitResult | None


@dataclass(slots=True)
class Job:
    """What to submit: the price name (``buttons.PRICES``), the call, and the row to
    store for the task it creates."""

    price: str
    call: Callable[[], Awaitable[SubmitResult]]
    row: MjTaskRow


__all__ = ["Job", "LateModal", "Launched"]
