"""One active turn per conversation; bursts merged; queued messages wait their turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket
from core.events import TurnCancelled

log = logging.getLogger(__name__)
STOP_WAIT = 5.0
"""Seconds ``TurnScheduler.stop`` waits for a stopped turn to end (assumed ample: a
cancelled turn only writes its partial answer)."""


@dataclass(slots=True)
class Submission:
    """One user message waiting for (or being answered by) a turn."""

    chat: ChatRef
    actor: Actor
    message: UserMessage
    ticket: TurnTicket
    arrived: float
    expect_more: bool = False


TurnRunner = Callable[[str, list[Submission]], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class _Lane:
    pending: list[Submission] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    running: asyncio.Task[None] | None = None
    batch: list[Submission] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None


class TurnScheduler:
    """Serializes turns per conversation key and merges bursts into one turn.

    A submission waits ``burst_window`` seconds for followers from the same user
    (default 0: answered at once), or up to ``burst_max_wait`` when the adapter says
    more parts may follow (``expect_more``: e.g. a paste the client split at its length
    limit; only the adapter knows the platform's split length).  Messages that arrive
    while a turn is queued or runs are answered together afterwards.
    """

    def __init__(self, runner: TurnRunner, *, burst_window: float = 0.0,
                 burst_max_wait: float) -> None:
        self._runner = runner
        self._window = burst_window
        self._max_wait = max(burst_max_wait, burst_window)
        self._lanes: dict[str, _Lane] = {}

    @property
    def active_conversations(self) -> int:
        """Conversations with a running or pending turn."""
        return len(self._lanes)

    def submit(self, key: str, submission: Submission) -> None:
        """Queue a submission for conversation ``key``."""
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        lane.pending.append(submission)
        lane.wake.set()
        if lane.worker is None:
            lane.worker = asyncio.create_task(self._work(key, lane), name=f"turns:{key}")

    async def stop(self, key: str, user_id: str | None = None, *, queued: bool = False,
                   wait: float = STOP_WAIT) -> bool:
        """``cancel``, then wait (at most ``wait`` seconds) until the stopped turn has
        emitted its ``TurnCancelled``: an adapter then shows the answer's final
        "stopped" text before it confirms the cancel."""
        lane = self._lanes.get(key)
        running = lane.running if lane is not None else None
        ticket = lane.batch[0].ticket if lane is not None and lane.batch else None
        cancelled = self.cancel(key, user_id, queued=queued)
        if (ticket is not None and running is not None and running.cancelling()
                and running is not asyncio.current_task()):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await ticket.ended.wait()
        return cancelled

    def cancel(self, key: str, user_id: str | None = None, *, queued: bool = False) -> bool:
        """Cancel the running turn of ``key`` (only if asked by ``user_id`` when given).

        Messages queued meanwhile are still answered afterwards; they are cancelled
        instead when no such turn runs (a second cancel), or together with it when
        ``queued``. True when something was cancelled."""
        lane = self._lanes.get(key)
        if lane is None:
            return False
        running = (lane.running is not None and not lane.running.done()
                   and not lane.running.cancelling())  # a cancel already asked: not running
        stopped = running and (user_id is None or lane.batch[0].actor.user_id == user_id)
        if stopped:
            assert lane.running is not None
            lane.running.cancel()
            if not queued:
                return True
        mine = [s for s in lane.pending if user_id is None or s.actor.user_id == user_id]
        for submission in mine:
            lane.pending.remove(submission)
            submission.ticket.emit(TurnCancelled())
        return stopped or bool(mine)

    def cancel_chat(self, platform: str, chat_id: str) -> int:
        """Cancel the running and queued turns of every conversation in one chat (all its
        topics and users); returns the number of conversations touched."""
        keys = [key for key, lane in self._lanes.items()
                if any(s.chat.platform == platform and s.chat.chat_id == chat_id
                       for s in (*lane.batch, *lane.pending))]
        for key in keys:
            self.cancel(key, queued=True)
        return len(keys)

    def cancel_ticket(self, ticket: TurnTicket) -> None:
        """Cancel the turn answering ``ticket`` (or drop it from the queue)."""
        for lane in self._lanes.values():
            for submission in lane.pending:
                if submission.ticket is ticket:
                    lane.pending.remove(submission)
                    ticket.emit(TurnCancelled())
                    return
            if lane.batch and lane.batch[0].ticket is ticket and lane.running is not None:
                lane.running.cancel()
                return

    async def close(self) -> None:
        """Cancel all work (at shutdown)."""
        workers = [lane.worker for lane in self._lanes.values() if lane.worker]
        for key in list(self._lanes):
            self.cancel(key, queued=True)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, key: str, lane: _Lane) -> None:
        try:
            while lane.pending:
                await self._debounce(lane)
                if not lane.pending:
                    break
                lane.batch = self._take_batch(lane)
                lane.running = asyncio.create_task(self._runner(key, lane.batch))
                await asyncio.wait([lane.running])
                for submission in lane.batch:  # cancelled before it ran: still ended
                    submission.ticket.emit(TurnCancelled())
                if not lane.running.cancelled() and lane.running.exception() is not None:
                    log.error("turn runner crashed", exc_info=lane.running.exception())
                lane.running, lane.batch = None, []
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]
            for submission in lane.pending:
                submission.ticket.emit(TurnCancelled())

    @staticmethod
    def _take_batch(lane: _Lane) -> list[Submission]:
        first = lane.pending[0]
        count = 1
        while (count < len(lane.pending)
               and lane.pending[count].actor.user_id == first.actor.user_id
               and lane.pending[count].message.model_override == first.message.model_override):
            count += 1
        batch, lane.pending = lane.pending[:count], lane.pending[count:]
        return batch

    async def _debounce(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        while lane.pending:
            last, first = lane.pending[-1], lane.pending[0]
            window = self._max_wait if last.expect_more else self._window
            deadline = min(last.arrived + window, first.arrived + 3 * self._max_wait)
            delay = deadline - loop.time()
            if delay <= 0:
                return
            lane.wake.clear()
            try:
                await asyncio.wait_for(lane.wake.wait(), delay)
            except TimeoutError:
                return
