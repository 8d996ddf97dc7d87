"""``Tracker``: polls the gateway for every followed task with backoff, in one loop.

Per task the delay between polls grows ``first`` → ×2 … capped at ``cap`` seconds
(2 s, 4 s, 8 s, then 15 s: gateways poll Midjourney about every 15 s, so polling faster
only costs requests). Tasks due within ``batch_slack`` seconds of each other are polled
together: one ``list-by-condition`` request when several are due (falling back to
single ``fetch``es if the gateway lacks that route). A task is given up ``timeout``
seconds after it was submitted (``MJ_TASK_TIMEOUT``; gateways themselves may keep a task
up to an hour). Time comes from ``Timing`` so tests can inject a virtual clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from core.errors import GatewayError
from core.midjourney.client import MjClient
from core.midjourney.errors import MjNotFound

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Timing:
    """Clock (seconds, wall time: deadlines survive restarts) and sleep of the poller,
    the backoff (``first``/``cap`` seconds) and the preview throttle (``preview_every``
    seconds between preview images)."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    first: float = 2.0
    cap: float = 15.0
    batch_slack: float = 1.0
    preview_every: float = 10.0

    def delay(self, polls: int) -> float:
        """Seconds before poll number ``polls + 1`` (0-based)."""
        return float(min(self.first * (2.0 ** min(polls, 16)), self.cap))


@dataclass(eq=False, slots=True)
class Follow:
    """One followed task: when to poll next, how often it was polled, its deadline."""

    task_id: str
    deadline: float
    next_due: float
    polls: int = 0
    state: dict[str, Any] = field(default_factory=dict)


TaskHandler = Callable[[Follow, dict[str, Any]], Awaitable[bool]]
"""Called with each fetched task object; returns True when the task is finished."""
ExpiryHandler = Callable[[Follow], Awaitable[None]]


class Tracker:
    """The single polling loop. ``follow`` adds a task; handlers decide when it ends."""

    def __init__(self, client: MjClient, on_task: TaskHandler, on_timeout: ExpiryHandler,
                 on_gone: ExpiryHandler, timing: Timing) -> None:
        self._client = client
        self._on_task = on_task
        self._on_timeout = on_timeout
        self._on_gone = on_gone
        self.timing = timing
        self._follows: dict[str, Follow] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.batch_supported = True
        self.polls = 0
        """Task polls made (a batch of n tasks counts n): tests check the backoff."""
        self.requests = 0
        """Poll requests sent (one per batch or fetch)."""

    def follow(self, task_id: str, submitted_at: float, timeout: float,
               state: dict[str, Any] | None = None) -> Follow:
        """Start polling ``task_id`` (``submitted_at``: clock seconds, for the deadline)."""
        now = self.timing.clock()
        follow = Follow(task_id, submitted_at + timeout, now + self.timing.delay(0),
                        state=state or {})
        self._follows[task_id] = follow
        self._wake.set()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.create_task(self._run(), name="mj-tracker")
        return follow

    def unfollow(self, task_id: str) -> Follow | None:
        """Stop polling ``task_id`` (returns its follow, if it was followed)."""
        return self._follows.pop(task_id, None)

    def get(self, task_id: str) -> Follow | None:
        return self._follows.get(task_id)

    @property
    def following(self) -> list[str]:
        return list(self._follows)

    async def close(self) -> None:
        """Stop the loop (tasks stay in the database and resume at the next start)."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    async def _run(self) -> None:
        while self._follows:
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop every other task's polling
                log.exception("midjourney poll failed")
                await self._nap(self.timing.cap)

    async def _tick(self) -> None:
        now = self.timing.clock()
        for follow in [f for f in self._follows.values() if now >= f.deadline]:
            self._follows.pop(follow.task_id, None)
            await self._on_timeout(follow)
        due = [f for f in self._follows.values()
               if f.next_due <= now + self.timing.batch_slack]
        if not due:
            if self._follows:
                soonest = min(min(f.next_due, f.deadline) for f in self._follows.values())
                await self._nap(max(soonest - now, 0.0))
            return
        found = await self._poll([f.task_id for f in due])
        for follow in due:
            follow.polls += 1
            self.polls += 1
            follow.next_due = self.timing.clock() + self.timing.delay(follow.polls)
            task = found.get(follow.task_id)
            if task is None:
                continue
            if isinstance(task, MjNotFound):
                self._follows.pop(follow.task_id, None)
                await self._on_gone(follow)
            elif follow.task_id in self._follows and await self._on_task(follow, task):
                self._follows.pop(follow.task_id, None)

    async def _poll(self, ids: list[str]) -> dict[str, Any]:
        """Task objects by id; a ``MjNotFound`` value for a task the gateway lost;
        missing ids (transient failures) are simply polled again later."""
        if len(ids) > 1 and self.batch_supported:
            self.requests += 1
            try:
                return {str(t.get("id")): t for t in await self._client.list_tasks(ids)}
            except MjNotFound:
                self.batch_supported = False  # gateway without list-by-condition
            except GatewayError as exc:
                log.info("midjourney list-by-condition failed: %s", exc.key)
                return {}
        found: dict[str, Any] = {}
        for task_id in ids:
            self.requests += 1
            try:
                found[task_id] = await self._client.fetch(task_id)
            except MjNotFound as exc:
                found[task_id] = exc
            except GatewayError as exc:
                log.info("midjourney fetch %s failed: %s", task_id, exc.key)
        return found

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds`` or until a new task is followed."""
        self._wake.clear()
        sleeper = asyncio.ensure_future(self.timing.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (sleeper, waker):
                pending.cancel()
