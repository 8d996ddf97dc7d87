"""Bot-wide flood control: token buckets, retry_after windows and adaptive draft pacing.

Telegram allows a bot roughly 30 messages per second overall, about one per second in a
private chat and 20 per minute in a group (Bot API FAQ). ``BotLimiter`` keeps below those
limits with token buckets (global + per chat). ``FloodControlMiddleware`` is an aiogram
session middleware in front of *every* call that names a chat:

* when Telegram answers 429 (``TelegramRetryAfter``) the chat is closed for
  ``retry_after`` seconds to every method (drafts, typing, sends, edits); a 429 on a call
  naming no chat closes all chats. No call is sent to a chat inside its window: required
  calls wait it out, optional ones (previews) are refused locally;
* one call per chat is in flight at a time, so a 429 is known before the next call goes;
* message-producing calls (``LIMITED_METHODS``) wait for the token buckets.

``sendMessageDraft`` has no documented limit, so drafts are paced per chat adaptively
(:class:`DraftPacer`): the interval doubles on each 429 and shrinks slowly on success.

Streaming previews are *optional* calls: ``try_reserve`` takes tokens only if they are
available right now (and nobody is queued for them), so intermediate edits are skipped
when throttled while final texts always wait their turn and get delivered.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

LIMITED_METHODS = frozenset({
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
    "editMessageMedia", "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage",
    "forwardMessage",
})
"""Bot API methods counted against the message limits."""

_RESERVED: contextvars.ContextVar[bool] = contextvars.ContextVar("tg_reserved", default=False)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Token-bucket parameters; a bucket allows ``burst + rate * t`` calls in ``t`` seconds."""

    global_per_second: float = 25.0
    global_burst: float = 5.0
    private_per_second: float = 0.9
    private_burst: float = 2.0
    group_per_second: float = 17.0 / 60.0
    group_burst: float = 3.0
    max_retries: int = 8
    previews_per_second: float = 40.0
    previews_burst: float = 40.0
    draft_interval: float = 0.25
    """Seconds between drafts to one chat before any 429 (assumed: the limit is undocumented)."""
    draft_max_interval: float = 10.0
    draft_backoff: float = 2.0
    """The draft interval is multiplied by this on a 429 (up to ``draft_max_interval``)."""
    draft_recovery: float = 0.97
    """...and by this after each accepted draft (down to ``draft_interval``): slow recovery."""


Clock = Callable[[], float]


class TokenBucket:
    """A classic token bucket on a monotonic clock (seconds), with a "blocked until" penalty."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._clock = clock
        self.updated = clock()
        self.blocked_until = 0.0
        self.waiters = 0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        """Seconds until one token is available (0 when available now)."""
        now = self._clock()
        self._refill(now)
        missing = max(0.0, 1.0 - self.tokens) / self.rate
        return max(missing, self.blocked_until - now)

    def take(self) -> None:
        """Consume one token (callers check ``delay`` first)."""
        self.tokens -= 1.0

    def block(self, seconds: float) -> None:
        """Refuse tokens for ``seconds`` (after Telegram answered 429) and empty the bucket."""
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)
        self.tokens = 0.0

    @property
    def idle(self) -> bool:
        """Full and unused: safe to forget."""
        return self.waiters == 0 and self.delay() == 0 and self.tokens >= self.burst


class DraftPacer:
    """Adaptive spacing of one chat's drafts (seconds on the limiter's clock).

    Starts at ``limits.draft_interval``; each 429 multiplies the interval by
    ``draft_backoff`` (capped at ``draft_max_interval``), each accepted draft by
    ``draft_recovery`` (floored at ``draft_interval``).
    """

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.interval = limits.draft_interval
        self.next_at = 0.0

    def sent(self, now: float) -> None:
        """A draft was accepted at ``now``."""
        self.next_at = now + self.interval
        self.interval = max(self.limits.draft_interval, self.interval * self.limits.draft_recovery)

    def refused(self, now: float) -> None:
        """A draft got 429 at ``now`` (the retry_after window is kept by the gate)."""
        self.interval = min(self.limits.draft_max_interval,
                            self.interval * self.limits.draft_backoff)
        self.next_at = now + self.interval


class ChatGate:
    """One chat's window (``blocked_until``), in-flight lock and draft pacer."""

    def __init__(self, limits: RateLimits) -> None:
        self.blocked_until = 0.0
        self.lock = asyncio.Lock()
        self.pacer = DraftPacer(limits)

    def idle(self, now: float) -> bool:
        """Nothing to remember: open, unlocked, drafts at full speed."""
        return (now >= max(self.blocked_until, self.pacer.next_at) and not self.lock.locked()
                and self.pacer.interval <= self.pacer.limits.draft_interval)


class BotLimiter:
    """Global and per-chat buckets, windows and draft pacers shared by every call the bot
    makes. ``clock`` (monotonic seconds) is injectable for tests."""

    def __init__(self, limits: RateLimits | None = None, clock: Clock = time.monotonic) -> None:
        self.limits = limits or RateLimits()
        self.clock = clock
        self._global = TokenBucket(self.limits.global_per_second, self.limits.global_burst, clock)
        self._chats: dict[int, TokenBucket] = {}
        self._gates: dict[int, ChatGate] = {}
        self._previews = TokenBucket(self.limits.previews_per_second, self.limits.previews_burst,
                                     clock)
        self._all_blocked_until = 0.0
        self.retry_after_count = 0

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._chats = {key: b for key, b in self._chats.items() if not b.idle}
            limits = self.limits
            if chat_id < 0:  # groups, supergroups and channels have negative ids
                bucket = TokenBucket(limits.group_per_second, limits.group_burst, self.clock)
            else:
                bucket = TokenBucket(limits.private_per_second, limits.private_burst, self.clock)
            self._chats[chat_id] = bucket
        return bucket

    def gate(self, chat_id: int) -> ChatGate:
        """The chat's :class:`ChatGate` (created on first use)."""
        gate = self._gates.get(chat_id)
        if gate is None:
            if len(self._gates) > 10_000:
                now = self.clock()
                self._gates = {key: g for key, g in self._gates.items() if not g.idle(now)}
            gate = self._gates[chat_id] = ChatGate(self.limits)
        return gate

    def blocked_for(self, chat_id: int | None) -> float:
        """Seconds until calls to ``chat_id`` may be sent again (0: open now)."""
        until = self._all_blocked_until
        if chat_id is not None:
            gate = self._gates.get(chat_id)
            if gate is not None:
                until = max(until, gate.blocked_until)
        return max(0.0, until - self.clock())

    def draft_wait(self, chat_id: int) -> float:
        """Seconds until a draft to ``chat_id`` may go (pacer and window; 0: now)."""
        pacer_wait = self.gate(chat_id).pacer.next_at - self.clock()
        return max(0.0, pacer_wait, self.blocked_for(chat_id))

    def draft_sent(self, chat_id: int) -> None:
        """A draft to ``chat_id`` was accepted."""
        self.gate(chat_id).pacer.sent(self.clock())

    async def acquire(self, chat_id: int) -> None:
        """Wait until both the global and the chat bucket have a token, then take them."""
        buckets = (self._global, self._chat(chat_id))
        for bucket in buckets:
            bucket.waiters += 1
        try:
            while (wait := max(bucket.delay() for bucket in buckets)) > 0:
                await asyncio.sleep(wait)
        finally:
            for bucket in buckets:
                bucket.waiters -= 1
        for bucket in buckets:
            bucket.take()

    def can_reserve(self, chat_id: int) -> bool:
        """Whether ``try_reserve`` would succeed now (takes nothing)."""
        buckets = (self._global, self._chat(chat_id))
        if self.blocked_for(chat_id) > 0:
            return False
        return not any(bucket.waiters or bucket.delay() > 0 for bucket in buckets)

    def try_reserve(self, chat_id: int) -> bool:
        """Take tokens only if available now and nobody waits; else skip (for previews)."""
        buckets = (self._global, self._chat(chat_id))
        if not self.can_reserve(chat_id):
            return False
        for bucket in buckets:
            bucket.take()
        return True

    def try_preview(self) -> bool:
        """A bot-wide budget for draft updates, so many parallel streams share the CPU
        and the connection pool fairly; callers skip the update when it says no."""
        if self._previews.delay() > 0:
            return False
        self._previews.take()
        return True

    def penalize(self, chat_id: int | None, retry_after: float, *, draft: bool = False) -> None:
        """Telegram said 429: close ``chat_id`` (every chat when None) to every method for
        ``retry_after`` seconds; a refused draft also slows that chat's draft pacer."""
        self.retry_after_count += 1
        now = self.clock()
        if chat_id is None:
            self._all_blocked_until = max(self._all_blocked_until, now + retry_after)
            return
        gate = self.gate(chat_id)
        gate.blocked_until = max(gate.blocked_until, now + retry_after)
        self._chat(chat_id).block(retry_after)
        if draft:
            gate.pacer.refused(now)

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Run Bot API calls whose tokens were taken by ``try_reserve`` (or drafts).

        Inside, the middleware neither waits nor retries: a call to a chat inside its
        retry_after window is refused locally (``TelegramRetryAfter``, nothing sent) and
        a throttled preview is dropped; the next one (or the final text) carries the update.
        """
        marker = _RESERVED.set(True)
        try:
            yield
        finally:
            _RESERVED.reset(marker)


def _target_chat(method: TelegramMethod[Any]) -> int | None:
    """The numeric chat a call targets (None when it names none: getUpdates, getMe...)."""
    chat_id = getattr(method, "chat_id", None)
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    if method.__api_method__ in LIMITED_METHODS:
        return 0  # inline messages / usernames: only the global bucket really matters
    return None


class FloodControlMiddleware(BaseRequestMiddleware):
    """Session middleware: honours retry_after windows, one call per chat in flight, waits
    for buckets, retries ``TelegramRetryAfter`` (up to ``max_retries``) after the window."""

    def __init__(self, limiter: BotLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = _target_chat(method)
        reserved = _RESERVED.get()
        limited = method.__api_method__ in LIMITED_METHODS and not reserved
        draft = method.__api_method__ == "sendMessageDraft"
        attempt = 0
        while True:
            if limited and chat_id is not None:  # tokens first: never wait holding the lock
                await self.limiter.acquire(chat_id)
            gate = await self._enter(chat_id, method, optional=reserved)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                self.limiter.penalize(chat_id, error.retry_after, draft=draft)
                if reserved or attempt >= self.limiter.limits.max_retries:
                    raise
                attempt += 1
            finally:
                if gate is not None:
                    gate.lock.release()

    async def _enter(self, chat_id: int | None, method: TelegramMethod[Any], *,
                     optional: bool) -> ChatGate | None:
        """Wait until the chat is outside any retry_after window, then hold its lock.

        Raises ``TelegramRetryAfter`` (nothing sent) for optional calls inside a window.
        """
        if chat_id is None:
            return None
        gate = self.limiter.gate(chat_id)
        while True:
            wait = self.limiter.blocked_for(chat_id)
            if wait > 0:
                if optional:
                    raise TelegramRetryAfter(method, "refused locally: inside retry_after",
                                             math.ceil(wait))
                await asyncio.sleep(wait)
                continue
            await gate.lock.acquire()
            if self.limiter.blocked_for(chat_id) <= 0:
                return gate
            gate.lock.release()
