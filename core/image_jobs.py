"""Image jobs in chats: daily allowance, fair queue, who may press result buttons.

Every image job (DALL·E/CogView images, every Midjourney task) runs as::

    async with core.image_jobs.slot(chat, actor, "image", units=n,
                                    on_position=report_position(ticket)) as slot:
        async with core.metering.call(CallInfo("image", ...)) as meter:  # the gateway call
            ...

``slot`` first checks and RESERVES the user's daily allowance (raising
``ImageAllowanceExceeded``, a ``UserInputError`` with a localized key, before the job
queues), then waits in the chat's fair queue (``core.jobqueue``), then runs the block.
The reservation is released when the block ends; by then the metering hooks have
written the call's ledger row, which counts from then on (outcome ``ok`` only: failed
and cancelled calls give the images back).

Allowance = admission check of the queue (not a metering ``before`` hook): a hook may
only check, never reserve (``core.metering``), and a hook would refuse only after the
job waited its turn. The gateway calls still go through the metering hooks (usage
ledger, prices, coming quotas).

Counting: ``image_daily_allowance`` units (images; a ledger row without units counts 1)
of ledger kinds ``image`` and ``mj`` with outcome ``ok`` per user per platform (all
chats) since 00:00 UTC, plus the reservations of jobs queued or running in this
process. The limit applied is the effective setting of the chat the job is asked in
(chat setting, else global, else env ``IMAGE_DAILY_ALLOWANCE``; 0 = unlimited).
Scale-out caveat: reservations are in-process; two bot processes sharing a database
can both pass the last slot (assumed acceptable: one process per bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.conversation.keys import Actor, ChatRef
from core.conversation.settings import SettingsService
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.events import PartShown, PartUpdated, TurnEvent
from core.jobqueue import ImageJobQueue, JobSlot, PositionCallback, QueuedJob, QueueLimits
from core.parts import MediaPart, PartUpdate, Progress, ProgressPart, Who
from core.storage import Store
from core.storage.schema import utc_now

IMAGE_KINDS = ("image", "mj")
"""Usage-ledger kinds counted by the daily image allowance."""


class ImageAllowanceExceeded(UserInputError):
    """The user's daily image allowance is used up (or too small for this job).

    Params: ``used`` (images counted today, including jobs in progress), ``limit``,
    ``left``, ``units`` (asked for), ``hours``/``minutes`` until 00:00 UTC."""


@dataclass
class _KeyLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class DailyAllowance:
    """Per-user daily image allowance with in-process reservations.

    ``clock`` returns the current UTC time (tests replace it)."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self.clock = clock
        self._reserved: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], _KeyLock] = {}

    def reserved(self, actor: Actor) -> float:
        """Units reserved by ``actor``'s queued and running jobs in this process."""
        return self._reserved.get((actor.platform, actor.user_id), 0.0)

    async def used_today(self, actor: Actor) -> float:
        """Units of ``actor``'s successful image/mj calls since 00:00 UTC (ledger)."""
        return await self._store.usage_units(
            platform=actor.platform, user_id=actor.user_id, since=_midnight(self.clock()),
            kinds=IMAGE_KINDS)

    @contextlib.asynccontextmanager
    async def reserve(self, actor: Actor, units: float, limit: int) -> AsyncIterator[None]:
        """Reserve ``units`` of ``actor``'s allowance ``limit`` (0 = unlimited) for the
        block. Check and reservation are atomic per user in this process. Raises
        ``ImageAllowanceExceeded`` when ``used + reserved + units > limit``."""
        if limit <= 0:
            yield
            return
        key = (actor.platform, actor.user_id)
        async with self._locked(key):
            counted = await self.used_today(actor) + self._reserved.get(key, 0.0)
            if counted + units > limit:
                raise self._refusal(counted, units, limit)
            self._reserved[key] = self._reserved.get(key, 0.0) + units
        try:
            yield
        finally:
            left = self._reserved.get(key, 0.0) - units
            if left > 0:
                self._reserved[key] = left
            else:
                self._reserved.pop(key, None)

    def _refusal(self, counted: float, units: float, limit: int) -> ImageAllowanceExceeded:
        now = self.clock()
        wait = _midnight(now) + timedelta(days=1) - now
        minutes = max(1, int((wait.total_seconds() + 59) // 60))
        left = max(0, int(limit - counted))
        key = "image.allowance_used_up" if left == 0 else "image.allowance_too_small"
        return ImageAllowanceExceeded(key, used=int(counted), limit=limit, left=left,
                                      units=int(units), hours=minutes // 60,
                                      minutes=minutes % 60)

    @contextlib.asynccontextmanager
    async def _locked(self, key: tuple[str, str]) -> AsyncIterator[None]:
        entry = self._locks.setdefault(key, _KeyLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if not entry.users:
                del self._locks[key]


class ImageJobs:
    """The image-job front door of ``ChatCore`` (``core.image_jobs``)."""

    def __init__(self, settings: SettingsService, store: Store,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._settings = settings
        self.queue = ImageJobQueue()
        self.allowance = DailyAllowance(store, clock)

    async def join(self, chat: ChatRef, actor: Actor, kind: str, *,
                   units: float = 1) -> ImageJob:
        """Reserve ``units`` images of the allowance and put the job in the chat's queue
        at once (``ImageJob.started`` when it may run now). Raises
        ``ImageAllowanceExceeded`` (nothing queued) when the allowance is short.

        Limits come from the chat settings ``image_daily_allowance``,
        ``image_jobs_per_chat`` and ``image_jobs_per_user``."""
        effective = await self._settings.resolve(chat, actor)
        limits = QueueLimits(int(effective["image_jobs_per_chat"]),
                             int(effective["image_jobs_per_user"]))
        allowance = int(effective["image_daily_allowance"])
        reservation = contextlib.AsyncExitStack()
        await reservation.enter_async_context(self.allowance.reserve(actor, units, allowance))
        return ImageJob(self.queue.join(chat, actor, kind, limits=limits), reservation)

    def occupy(self, chat: ChatRef, actor: Actor, kind: str) -> ImageJob:
        """A job already running (a task resumed after a restart): it takes a slot at
        once and reserves nothing (its ledger row already counts)."""
        return ImageJob(self.queue.occupy(chat, actor, kind), contextlib.AsyncExitStack())

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatRef, actor: Actor, kind: str, *, units: float = 1,
                   on_position: PositionCallback | None = None) -> AsyncIterator[JobSlot]:
        """``join``, wait for the job's turn (``on_position`` gets its position while it
        waits), run the block, then release the slot and the reservation."""
        job = await self.join(chat, actor, kind, units=units)
        try:
            yield await job.wait(on_position)
        finally:
            await job.close()

    async def button_who(self, chat: ChatRef) -> Who:
        """Who may press an image result's buttons in ``chat`` (chat setting
        ``image_buttons``: ``requester``, the default, or ``anyone``)."""
        chosen = await self._settings.chat_setting(chat, "image_buttons")
        return "anyone" if chosen == "anyone" else "requester"


class ImageJob:
    """A queued or running image job: its place in the chat's queue and its allowance
    reservation. ``close()`` (idempotent) frees both; ``settle()`` gives back only the
    reservation (once the job's metered call has written its ledger row, which counts
    from then on) and keeps the slot — a Midjourney task holds it until it finishes."""

    def __init__(self, queued: QueuedJob, reservation: contextlib.AsyncExitStack) -> None:
        self.queued = queued
        self._reservation = reservation

    @property
    def started(self) -> bool:
        return self.queued.started

    @property
    def position(self) -> int:
        """1-based queue position while waiting, 0 once started."""
        return self.queued.position

    async def wait(self, on_position: PositionCallback | None = None) -> JobSlot:
        """Wait for the job's turn (see ``QueuedJob.wait``)."""
        return await self.queued.wait(on_position)

    async def settle(self) -> None:
        """Give back the allowance reservation (the ledger counts the job now)."""
        await self._reservation.aclose()

    async def close(self) -> None:
        """Free the queue slot (or leave the queue) and the reservation."""
        self.queued.release()
        await self._reservation.aclose()


def queued_progress(position: int, ref: str = "job") -> ProgressPart:
    """The "queued: position N" progress of a waiting job (1 = next)."""
    return ProgressPart(Progress("image.queued", {"position": position}), ref=ref)


def not_started_progress(ref: str = "job") -> ProgressPart:
    """The status of a queued job dropped at a shutdown: "⏹ Not started: the bot
    restarted. Send the command again." (``image.not_started``)."""
    return ProgressPart(Progress("image.not_started"), ref=ref)


def report_position(ticket: TurnTicket, ref: str = "job", *, shown: bool = True,
                    showing: int = 0) -> PositionCallback:
    """A position callback updating the job's progress part ``ref`` on ``ticket`` in
    place (``PartUpdated``); with ``shown=False`` the first report shows it
    (``PartShown``), later ones update it. ``showing``: the position already on
    screen (not repeated)."""
    first = [not shown]
    last = [showing]

    async def report(position: int) -> None:
        if position == last[0]:
            return
        last[0] = position
        part = queued_progress(position, ref)
        if first[0]:
            first[0] = False
            ticket.emit(PartShown(part))
        else:
            ticket.emit(PartUpdated(PartUpdate(ref, part)))

    return report


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


class MentionedTicket(TurnTicket):
    """``inner``'s events, with ``mention`` (the adapter's Markdown mention of the
    requester, e.g. ``<@42>`` on Discord) put before the caption of every result part
    that asks for it (``MediaPart.mention_requester``). Cancelling cancels ``inner``."""

    def __init__(self, inner: TurnTicket, mention: str) -> None:
        super().__init__(inner.language, lambda _ticket: inner.cancel())
        self._inner = inner
        self._mention = mention
        self.showing = inner.showing  # where parts are shown: reported to ``inner``
        self._shown_listeners = inner._shown_listeners

    @property
    def result(self) -> TurnEvent | None:
        """``inner``'s terminal event once emitted (even before it was read)."""
        inner: TurnTicket | None = getattr(self, "_inner", None)
        return inner.result if inner is not None else None

    @result.setter
    def result(self, value: TurnEvent | None) -> None:
        """Ignored: the result is ``inner``'s."""

    async def __anext__(self) -> TurnEvent:
        event = await self._inner.__anext__()
        if isinstance(event, PartShown) and isinstance(event.part, MediaPart):
            return PartShown(self._mentioned(event.part))
        if isinstance(event, PartUpdated) and isinstance(event.update.part, MediaPart):
            return PartUpdated(PartUpdate(event.update.ref, self._mentioned(event.update.part)))
        return event

    def _mentioned(self, part: MediaPart) -> MediaPart:
        if not part.mention_requester or not part.media or not self._mention:
            return part
        first = part.media[0]
        caption = f"{self._mention} {first.caption}".strip()
        return dataclasses.replace(part, media=(dataclasses.replace(first, caption=caption),
                                                *part.media[1:]))
