"""A fair per-chat queue for image jobs (DALL·E/CogView images, Midjourney tasks).

Every image job runs inside ``async with queue.slot(chat, actor, kind, limits=...)``
(or ``join`` → ``QueuedJob.wait`` → ``QueuedJob.release`` for a job that outlives a
block, e.g. a Midjourney task held until it finishes): the block runs when the job's
turn has come, at most ``limits.per_chat`` jobs at once
in one chat and ``limits.per_user`` at once for one user there (0 = no limit).

Fairness is round robin across users: each job gets a *round* — the user's next round,
but never earlier than the round now being served — and waiting jobs are served by
(round, arrival). So when Ann queues three jobs and Bob one, with one job at a time,
they run Ann 1, Bob 1, Ann 2, Ann 3: one user's ten jobs never block everybody.

A waiting job's *position* (1 = next) is its place in that order; ``on_position`` is
called (in the waiting task itself) with the first position and again every time it
changes, so a "queued: position N" progress can be edited in place. A job that may
start at once is never reported. A job whose user is at ``per_user`` keeps its place
while later jobs of other users start. Cancelling a waiting job removes it (later
positions move up); cancelling or leaving the block frees the slot for the next job.

State is in-process (one asyncio loop); several bot processes each keep their own
queue (assumed fine: one process per bot is the supported deployment).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from core.conversation.keys import Actor, ChatRef

log = logging.getLogger(__name__)

PositionCallback = Callable[[int], Awaitable[None]]
"""Called with a waiting job's 1-based queue position (errors are logged, not raised)."""


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """Concurrent jobs allowed in one chat and per user in it (0 = unlimited).

    Defaults are the chat settings' defaults (``image_jobs_per_chat`` 2,
    ``image_jobs_per_user`` 1); negative values raise ValueError."""

    per_chat: int = 2
    per_user: int = 1

    def __post_init__(self) -> None:
        if self.per_chat < 0 or self.per_user < 0:
            raise ValueError("queue limits must be >= 0 (0 = unlimited)")


@dataclass(frozen=True, slots=True)
class JobSlot:
    """A started job: ``waited_positions`` are the positions reported while it waited
    (empty when it started at once)."""

    chat: ChatRef
    actor: Actor
    kind: str
    waited_positions: tuple[int, ...] = ()


@dataclass(eq=False)
class _Job:
    user_id: str
    key: tuple[int, int]  # (round, arrival)
    started: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _User:
    next_round: int = 0
    running: int = 0
    waiting: int = 0


@dataclass
class _Chat:
    limits: QueueLimits
    round: int = 0
    running: int = 0
    waiting: list[tuple[tuple[int, int], _Job]] = field(default_factory=list)
    users: dict[str, _User] = field(default_factory=dict)


class ImageJobQueue:
    """Per-chat round-robin queue with per-chat and per-user concurrency limits."""

    def __init__(self) -> None:
        self._chats: dict[tuple[str, str], _Chat] = {}
        self._arrivals = itertools.count()

    def waiting(self, chat: ChatRef) -> int:
        """Jobs waiting in ``chat`` (not started)."""
        state = self._chats.get((chat.platform, chat.chat_id))
        return len(state.waiting) if state else 0

    def running(self, chat: ChatRef) -> int:
        """Jobs running in ``chat``."""
        state = self._chats.get((chat.platform, chat.chat_id))
        return state.running if state else 0

    def join(self, chat: ChatRef, actor: Actor, kind: str, *,
             limits: QueueLimits | None = None) -> QueuedJob:
        """Put a job in ``chat``'s queue now (it may start at once: ``started``).

        ``limits`` (default ``QueueLimits()``) become the chat's limits from now on
        (a raised limit starts waiting jobs at once). The caller must ``release()`` the
        job (idempotent) when it ends or is abandoned, whether it started or not."""
        key = (chat.platform, chat.chat_id)
        state = self._chats.get(key)
        if state is None:
            state = self._chats[key] = _Chat(limits or QueueLimits())
        elif limits is not None:
            state.limits = limits
        user = state.users.setdefault(actor.user_id, _User())
        user.next_round = max(user.next_round, state.round)
        job = _Job(actor.user_id, (user.next_round, next(self._arrivals)))
        user.next_round += 1
        user.waiting += 1
        bisect.insort(state.waiting, (job.key, job))
        self._admit(state)
        return QueuedJob(self, key, state, job, JobSlot(chat, actor, kind))

    def occupy(self, chat: ChatRef, actor: Actor, kind: str) -> QueuedJob:
        """Count a job that is already running (e.g. a Midjourney task resumed after a
        restart) as started at once, whatever the limits; ``release()`` it at its end."""
        key = (chat.platform, chat.chat_id)
        state = self._chats.get(key)
        if state is None:
            state = self._chats[key] = _Chat(QueueLimits())
        user = state.users.setdefault(actor.user_id, _User())
        job = _Job(actor.user_id, (state.round, next(self._arrivals)), started=True)
        user.running += 1
        state.running += 1
        return QueuedJob(self, key, state, job, JobSlot(chat, actor, kind))

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatRef, actor: Actor, kind: str, *,
                   limits: QueueLimits | None = None,
                   on_position: PositionCallback | None = None) -> AsyncIterator[JobSlot]:
        """Wait for the job's turn, run the block, then free the slot (``join``,
        ``QueuedJob.wait``, ``QueuedJob.release``). Cancellation while waiting removes
        the job; it propagates as ``asyncio.CancelledError``."""
        queued = self.join(chat, actor, kind, limits=limits)
        try:
            yield await queued.wait(on_position)
        finally:
            queued.release()

    @staticmethod
    def _position(state: _Chat, job: _Job) -> int:
        return bisect.bisect_left(state.waiting, job.key, key=lambda item: item[0]) + 1

    def _admit(self, state: _Chat) -> None:
        """Start waiting jobs in order while the limits allow; wake every waiter
        (their positions may have changed)."""
        per_chat, per_user = state.limits.per_chat, state.limits.per_user
        index = 0
        while index < len(state.waiting) and (not per_chat or state.running < per_chat):
            job = state.waiting[index][1]
            user = state.users[job.user_id]
            if per_user and user.running >= per_user:
                index += 1
                continue
            del state.waiting[index]
            user.waiting -= 1
            user.running += 1
            state.running += 1
            state.round = max(state.round, job.key[0])
            job.started = True
            job.wake.set()
        for _, waiter in state.waiting:
            waiter.wake.set()

    def _leave(self, key: tuple[str, str], state: _Chat, job: _Job) -> None:
        index = bisect.bisect_left(state.waiting, job.key, key=lambda item: item[0])
        if index < len(state.waiting) and state.waiting[index][1] is job:
            del state.waiting[index]
            state.users[job.user_id].waiting -= 1
        self._settle(key, state, job.user_id)

    def _finish(self, key: tuple[str, str], state: _Chat, job: _Job) -> None:
        state.users[job.user_id].running -= 1
        state.running -= 1
        self._settle(key, state, job.user_id)

    def _settle(self, key: tuple[str, str], state: _Chat, user_id: str) -> None:
        user = state.users[user_id]
        if not user.running and not user.waiting:
            del state.users[user_id]
        self._admit(state)
        if not state.running and not state.waiting:
            self._chats.pop(key, None)


class QueuedJob:
    """A job in a chat's queue (``ImageJobQueue.join``): waiting until ``started``,
    then holding its slot until ``release()``."""

    def __init__(self, queue: ImageJobQueue, key: tuple[str, str], state: _Chat, job: _Job,
                 slot: JobSlot) -> None:
        self._queue = queue
        self._key = key
        self._state = state
        self._job = job
        self.slot = slot
        self.released = False

    @property
    def started(self) -> bool:
        """Whether the job's turn has come (it holds a slot)."""
        return self._job.started

    @property
    def position(self) -> int:
        """The 1-based position of a waiting job (0 once started)."""
        return 0 if self._job.started else ImageJobQueue._position(self._state, self._job)

    async def wait(self, on_position: PositionCallback | None = None) -> JobSlot:
        """Wait for the job's turn; ``on_position`` gets the position at once and on
        every change (never for a job that starts at once). Returns the slot with the
        reported positions. Cancellation propagates (``release()`` it afterwards)."""
        job, reported = self._job, list[int]()
        while not job.started and not self.released:
            position = self.position
            if on_position is not None and (not reported or reported[-1] != position):
                reported.append(position)
                await _report(on_position, position)
                continue  # positions may have moved while reporting
            job.wake.clear()
            await job.wake.wait()
        if self.released:
            raise RuntimeError("the job was released before its turn")
        self.slot = JobSlot(self.slot.chat, self.slot.actor, self.slot.kind,
                            tuple(reported))
        return self.slot

    def release(self) -> None:
        """Leave the queue (waiting) or free the slot (started); later calls do nothing."""
        if self.released:
            return
        self.released = True
        if self._job.started:
            self._queue._finish(self._key, self._state, self._job)
        else:
            self._queue._leave(self._key, self._state, self._job)
        self._job.wake.set()


async def _report(callback: PositionCallback, position: int) -> None:
    try:
        await callback(position)
    except Exception:  # a failed progress edit must not lose the job's place
        log.exception("queue position callback failed")
