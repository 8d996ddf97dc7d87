"""``Midjourney``: jobs on the gateway's Midjourney routes, followed until they finish.

A job is a ``TurnTicket`` (``CommandReply.ticket`` / ``ActionOutcome.ticket``) that
shows ``PartShown(ProgressPart(ref="job"))``, progress updates (queue position,
percent, a preview image fetched as bytes) as ``PartUpdated``, then the result
(``MediaPart`` with the task's buttons, or an ``ActionsPart`` for describe/shorten)
and ``TurnFinal(turn_id=<task id>, model="midjourney", text="")`` — or ``TurnFailed``.
Tasks live in the ``mj_tasks`` table: after a restart they are polled again and their
results are posted through ``core.outbox`` (held until the platform's adapter attaches).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.errors import ChatbridgeError
from core.events import PartShown, PartUpdated, TurnCancelled, TurnEvent, TurnFailed, TurnFinal
from core.image_jobs import ImageJob, queued_progress, report_position
from core.metering import CallInfo, Meter
from core.midjourney import texts  # noqa: F401  (registers the texts)
from core.midjourney.client import MjClient, Speed, SubmitResult
from core.midjourney.deliveries import Deliveries
from core.midjourney.images import sniff_mime
from core.midjourney.jobs import Job, LateModal, Launched
from core.midjourney.results import (
    JOB,
    closing_events,
    failure_event,
    not_started_events,
    percent_of,
    result_events,
    status_progress,
    timeout_event,
)
from core.midjourney.shown import remember, shows_job
from core.midjourney.specs import SPEEDS
from core.midjourney.tracker import Follow, Timing, Tracker
from core.parts import Media, PartUpdate, Progress, ProgressPart
from core.storage.mj_tasks_repo import MjTaskRow

if TYPE_CHECKING:
    from core.app import ChatCore

log = logging.getLogger(__name__)
CLOSE_GRACE = 2.0  # seconds ``close`` waits for pending row writes and deliveries


def new_timing() -> Timing:
    """The poller's timing (tests replace this factory to inject a virtual clock)."""
    return Timing()


class Midjourney:
    """Submits, follows and presents Midjourney tasks for one ``ChatCore``."""

    def __init__(self, core: ChatCore) -> None:
        settings = core.settings
        self.core = core
        self.client = MjClient(core.gateway, settings.secret(settings.gateway_api_key),
                               speed=_speed(settings.mj_speed), timeout=settings.request_timeout)
        self.timeout = settings.mj_task_timeout
        self.refunds = settings.mj_refunds_failed
        self.repo = core.store.mj_tasks
        self.tracker = Tracker(self.client, self._on_task, self._on_timeout, self._on_gone,
                               new_timing())
        self._tickets: dict[str, TurnTicket] = {}
        self._sending: set[asyncio.Task[Any]] = set()
        self.deliveries = Deliveries(core.outbox, self.repo, self._spawn, self._cancel)
        self._waiting: dict[TurnTicket, asyncio.Task[None]] = {}  # queued, not submitted
        self._queued: dict[TurnTicket, tuple[str, ImageJob]] = {}  # platform, queue place
        self._held_slots: dict[str, ImageJob] = {}  # by task id, released at its end

    @property
    def timing(self) -> Timing:
        return self.tracker.timing

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> int:
        """Resume following the tasks a previous run left unfinished; returns how many."""
        rows = await self.repo.unfinished()
        for row in rows:
            self._follow(row, None)
            if (ticket := self.deliveries.resume(row)) is not None:
                self._tickets[row.id] = ticket  # its progress goes on in the same message
        self.core.outbox.on_attach(self.deliveries.flush)
        self.core.outbox.on_detach(self._not_started)
        return len(rows)

    def _not_started(self, platform: str) -> None:
        """``platform``'s adapter stops: its jobs still queued (never submitted) end now
        ("⏹ Not started…"); their waiters give the reserved allowance back."""
        for ticket, (where, held) in list(self._queued.items()):
            if where == platform and not held.started and ticket in self._waiting:
                for event in not_started_events():
                    ticket.emit(event)
                self._waiting[ticket].cancel()

    async def close(self) -> None:
        """Stop polling (tasks resume at the next start) and pending deliveries."""
        await self.tracker.close()
        for waiter in list(self._waiting.values()):
            waiter.cancel()
        with contextlib.suppress(TimeoutError):  # let row writes finish (a cancelled
            async with asyncio.timeout(CLOSE_GRACE):  # SQLite write can hang the close)
                await self.settle()
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._waiting.values(), return_exceptions=True)
        for task_id in list(self._held_slots):
            await self._release(task_id)

    # --- submitting --------------------------------------------------------------------
    async def submit(self, job: Job, chat: ChatRef, actor: Actor,
                     held: ImageJob | None = None) -> SubmitResult:
        """Run ``job.call`` inside ``core.metering`` (``CallInfo("mj", <price>, unit
        "calls")``): refused submits record outcome ``failed`` and raise typed errors.
        Without ``held`` the call takes (and frees) an ``image_jobs`` slot itself; with
        it, the held job's allowance reservation is given back once the ledger row is
        written (the slot stays held)."""
        async def body(meter: Meter) -> SubmitResult:
            result = await job.call()
            meter.count(1, "calls")
            return result

        info = CallInfo("mj", job.price, chat, actor, estimate=1, unit="calls")
        if held is None:
            async with self.core.image_jobs.slot(chat, actor, "mj"):
                return await self.core.metering.run(info, body)
        try:
            return await self.core.metering.run(info, body)
        finally:
            await held.settle()

    async def launch(self, job: Job, chat: ChatRef, actor: Actor, *,
                     late_modal: LateModal | None = None) -> Launched:
        """Queue ``job`` in the chat's fair queue (``core.image_jobs``; raises
        ``ImageAllowanceExceeded`` first) and run it at its turn; the slot is held until
        the task it creates ends (success, failure, timeout or cancel). A job that may
        start at once is submitted now: typed errors raise (nothing stored, allowance
        given back), a modal answer is returned as ``Launched.modal`` (no task runs).
        Otherwise the ticket shows "queued: position N" (updated in place) and the submit
        happens at the job's turn: errors end the ticket with ``TurnFailed``; a modal
        answer shows ``late_modal(result)``'s part."""
        job.row.properties.setdefault("requester_name", actor.name)  # for mentions later
        held = await self.core.image_jobs.join(chat, actor, "mj")
        if held.started:
            try:
                result = await self.submit(job, chat, actor, held)
            except BaseException:
                await held.close()
                raise
            if result.kind == "modal":
                await held.close()
                return Launched(None, result)
            return Launched(await self.follow_result(result, job.row, held=held), None)
        ticket = TurnTicket(job.row.lang, self._cancel)
        position = held.position
        ticket.emit(PartShown(queued_progress(position, JOB)))
        waiter = asyncio.create_task(self._when_turn(job, chat, actor, held, ticket,
                                                     late_modal, position))
        self._waiting[ticket] = waiter
        self._queued[ticket] = (chat.platform, held)

        def done(task: asyncio.Task[None]) -> None:
            self._waiting.pop(ticket, None)
            self._queued.pop(ticket, None)
            if task.cancelled():  # perhaps before it ran: end the ticket, free the place
                ticket.emit(TurnCancelled())
                self._spawn(held.close())

        waiter.add_done_callback(done)
        return Launched(ticket, None)

    async def start_job(self, job: Job, chat: ChatRef, actor: Actor) -> TurnTicket:
        """``launch`` a job whose submit never answers with a modal; the ticket."""
        ticket = (await self.launch(job, chat, actor)).ticket
        assert ticket is not None, "a modal answer to a non-button submit"
        return ticket

    async def _when_turn(self, job: Job, chat: ChatRef, actor: Actor, held: ImageJob,
                         ticket: TurnTicket, late_modal: LateModal | None,
                         position: int) -> None:
        """A queued job: wait for its turn (position updates), submit, follow."""
        try:
            await held.wait(report_position(ticket, JOB, showing=position))
            ticket.emit(PartUpdated(PartUpdate(JOB, ProgressPart(status_progress(job.row),
                                                                 ref=JOB))))
            result = await self.submit(job, chat, actor, held)
            if result.kind == "modal":
                await held.close()
                assert late_modal is not None, "a modal answer to a non-button submit"
                ticket.emit(PartUpdated(PartUpdate(JOB, await late_modal(result))))
                ticket.emit(TurnFinal(turn_id=result.task_id, model="midjourney", text=""))
                return
            await self.follow_result(result, job.row, held=held, ticket=ticket)
        except asyncio.CancelledError:
            await held.close()
            ticket.emit(TurnCancelled())
            raise
        except ChatbridgeError as exc:
            await held.close()
            ticket.emit(TurnFailed(exc.key, exc.params))
        except Exception:
            log.exception("queued midjourney job failed")
            await held.close()
            ticket.emit(TurnFailed("error.internal", {}))

    async def follow_result(self, result: SubmitResult, row: MjTaskRow, *,
                            held: ImageJob | None = None,
                            ticket: TurnTicket | None = None) -> TurnTicket:
        """Store and follow the task of an accepted submit (``row`` without id); ``held``
        (the job's queue slot) is released when the task ends; ``ticket``: the queued
        job's ticket (its progress is updated), else a new one."""
        row.id = result.task_id
        row.status = "SUBMITTED"
        row.created_at = datetime.fromtimestamp(self.timing.clock(), UTC)
        row.properties.update({k: v for k, v in result.properties.items()
                               if isinstance(v, str | int | float | bool)})
        if held is not None:
            self._held_slots[row.id] = held
        try:
            await self.repo.upsert(row)
        except BaseException:
            await self._release(row.id)
            raise
        progress = ProgressPart(status_progress(row, result.position), ref=JOB)
        if ticket is None:
            ticket = TurnTicket(row.lang, self._cancel)
            ticket.emit(PartShown(progress))
        else:
            ticket.emit(PartUpdated(PartUpdate(JOB, progress)))
        remember(ticket, row, self.repo, self._spawn)
        self._follow(row, ticket)
        return ticket

    def _follow(self, row: MjTaskRow, ticket: TurnTicket | None) -> None:
        submitted = row.created_at.timestamp()
        state: dict[str, Any] = {"row": row, "percent": None, "last_update": None}
        if ticket is not None:
            self._tickets[row.id] = ticket
        elif row.id not in self._held_slots:  # resumed after a restart: it runs
            self._held_slots[row.id] = self.core.image_jobs.occupy(
                _chat(row), Actor(row.platform, row.requester_id), "mj")
        self.tracker.follow(row.id, submitted, self.timeout, state)

    async def _release(self, task_id: str) -> None:
        """Free the queue slot a task held (no-op when it held none)."""
        if (held := self._held_slots.pop(task_id, None)) is not None:
            await held.close()

    def _cancel(self, ticket: TurnTicket) -> None:
        task_id = next((k for k, v in self._tickets.items() if v is ticket), None)
        if task_id is None:  # still queued (or submitting): its waiter ends it
            if (waiter := self._waiting.get(ticket)) is not None:
                waiter.cancel()
            return
        self._tickets.pop(task_id, None)
        follow = self.tracker.get(task_id)
        if follow is not None and self.core.outbox.detached(follow.state["row"].platform):
            return  # its adapter is stopping: the task goes on, its result via the outbox
        follow = self.tracker.unfollow(task_id)
        ticket.emit(TurnCancelled())
        self._spawn(self._release(task_id))
        if follow is not None:
            row: MjTaskRow = follow.state["row"]
            row.notified = True
            self._spawn(self.repo.update([row]))

    # --- polling results ---------------------------------------------------------------
    async def _on_task(self, follow: Follow, task: dict[str, Any]) -> bool:
        row: MjTaskRow = follow.state["row"]
        status = str(task.get("status") or "")
        changed = (status, str(task.get("progress") or "")) != (row.status, row.progress)
        row.status, row.progress = status or row.status, str(task.get("progress") or "")
        if task.get("imageUrl"):
            row.image_url = str(task["imageUrl"])
        if status == "SUCCESS":
            ticket = self._tickets.get(row.id)
            chat = _chat(row)
            events = await result_events(self.client, self.core.actions, chat, row, task,
                                         shown=ticket is not None or shows_job(row),
                                         who=await self.core.images_button_who(chat))
            await self._finish(row, events)
            return True
        if status in ("FAILURE", "CANCEL"):
            row.fail_reason = str(task.get("failReason") or status)
            await self._finish(row, [failure_event(row, row.fail_reason, self.refunds)])
            return True
        if changed:
            await self.repo.update([row])
        ticket = self._tickets.get(row.id)
        if ticket is not None and status == "IN_PROGRESS":
            await self._show_progress(follow, row, ticket, task)
        return False

    async def _show_progress(self, follow: Follow, row: MjTaskRow, ticket: TurnTicket,
                             task: dict[str, Any]) -> None:
        """A percent/preview update: only when the percent changed, and at most every
        ``Timing.preview_every`` seconds (the first one at once)."""
        percent = percent_of(task) or 0
        now = self.timing.clock()
        last = follow.state["last_update"]
        if percent == follow.state["percent"] or (
                last is not None and now - last < self.timing.preview_every):
            return
        follow.state.update(percent=percent, last_update=now)
        preview = None
        if task.get("imageUrl"):
            try:
                data = await self.client.image(str(task["imageUrl"]))
                preview = Media("image", data=data, mime=sniff_mime(data))
            except Exception as exc:  # a preview is optional
                log.info("midjourney preview of %s failed: %s", row.id, type(exc).__name__)
        progress = Progress("mj.progress.running", {"percent": percent}, percent=percent,
                            preview=preview)
        ticket.emit(PartUpdated(PartUpdate(JOB, ProgressPart(progress, ref=JOB))))

    async def _on_timeout(self, follow: Follow) -> None:
        row: MjTaskRow = follow.state["row"]
        row.status = "TIMEOUT"
        await self._finish(row, [timeout_event(row, self.timeout, self.refunds)])

    async def _on_gone(self, follow: Follow) -> None:
        row: MjTaskRow = follow.state["row"]
        row.status = "FAILURE"
        row.fail_reason = "task not found"
        await self._finish(row, [failure_event(row, row.fail_reason, self.refunds)])

    async def _finish(self, row: MjTaskRow, events: list[TurnEvent]) -> None:
        """Hand the final events to the waiting ticket, or post them through the outbox
        (held until the platform's adapter attaches)."""
        ticket = self._tickets.pop(row.id, None)
        if self.deliveries.drop(row.id):  # no adapter took its live ticket
            ticket = None
        await self._release(row.id)
        row.notified = ticket is not None or self.core.outbox.attached(row.platform)
        await self.repo.update([row])  # first: a restart now never posts it twice
        if ticket is not None:
            for event in closing_events(events):
                ticket.emit(event)
        elif row.notified:
            self.deliveries.deliver(row, events)
        else:
            self.deliveries.hold(row, events)

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("midjourney delivery failed")

        task = asyncio.create_task(run())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def settle(self) -> None:
        """Wait for deliveries handed to the outbox (tests, shutdown)."""
        while self._sending:
            await asyncio.gather(*list(self._sending), return_exceptions=True)


def _chat(row: MjTaskRow) -> ChatRef:
    return ChatRef(row.platform, row.chat_id, row.thread_id, row.is_private)


def _speed(value: str) -> Speed:
    return value if value in SPEEDS else ""  # type: ignore[return-value]
