"""Bot-wide flood control: token buckets before every send/edit, and 429 retries.

Telegram allows a bot roughly 30 messages per second overall, about one per second in a
private chat and 20 per minute in a group. ``BotLimiter`` keeps below those limits with
token buckets (global + per chat). ``FloodControlMiddleware`` is an aiogram session
middleware that waits for the buckets before message-producing calls and, when Telegram
still answers 429 (``TelegramRetryAfter``), pauses that chat for ``retry_after`` seconds
and retries a bounded number of times.

Streaming previews are *optional* calls: ``try_reserve`` takes tokens only if they are
available right now (and nobody is queued for them), so intermediate edits are skipped
when throttled while final texts always wait their turn and get delivered.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterator
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
    max_retries: int = 4
    previews_per_second: float = 40.0
    previews_burst: float = 40.0


class TokenBucket:
    """A classic token bucket on the monotonic clock, with a "blocked until" penalty."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()
        self.blocked_until = 0.0
        self.waiters = 0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        """Seconds until one token is available (0 when available now)."""
        now = time.monotonic()
        self._refill(now)
        missing = max(0.0, 1.0 - self.tokens) / self.rate
        return max(missing, self.blocked_until - now)

    def take(self) -> None:
        """Consume one token (callers check ``delay`` first)."""
        self.tokens -= 1.0

    def block(self, seconds: float) -> None:
        """Refuse tokens for ``seconds`` (after Telegram answered 429) and empty the bucket."""
        self.blocked_until = max(self.blocked_until, time.monotonic() + seconds)
        self.tokens = 0.0

    @property
    def idle(self) -> bool:
        """Full and unused: safe to forget."""
        return self.waiters == 0 and self.delay() == 0 and self.tokens >= self.burst


class BotLimiter:
    """Global and per-chat buckets shared by every call the bot makes."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        self.limits = limits or RateLimits()
        self._global = TokenBucket(self.limits.global_per_second, self.limits.global_burst)
        self._chats: dict[int, TokenBucket] = {}
        self._previews = TokenBucket(self.limits.previews_per_second, self.limits.previews_burst)
        self.retry_after_count = 0

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:
                self._chats = {key: b for key, b in self._chats.items() if not b.idle}
            limits = self.limits
            if chat_id < 0:  # groups, supergroups and channels have negative ids
                bucket = TokenBucket(limits.group_per_second, limits.group_burst)
            else:
                bucket = TokenBucket(limits.private_per_second, limits.private_burst)
            self._chats[chat_id] = bucket
        return bucket

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

    def penalize(self, chat_id: int | None, retry_after: float) -> None:
        """Telegram said 429: hold back this chat's messages for ``retry_after`` seconds."""
        self.retry_after_count += 1
        if chat_id is not None:
            self._chat(chat_id).block(retry_after)

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Run Bot API calls whose tokens were taken by ``try_reserve``.

        Inside, the middleware neither waits for tokens nor retries on 429: a throttled
        preview is dropped and the next one (or the final text) carries the update.
        """
        marker = _RESERVED.set(True)
        try:
            yield
        finally:
            _RESERVED.reset(marker)


def _limited_chat(method: TelegramMethod[Any]) -> int | None:
    """The numeric chat a message-producing call targets (None when not limited)."""
    if method.__api_method__ not in LIMITED_METHODS:
        return None
    chat_id = getattr(method, "chat_id", None)
    if isinstance(chat_id, int):
        return chat_id
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return 0  # inline messages / usernames: only the global bucket really matters


class FloodControlMiddleware(BaseRequestMiddleware):
    """Session middleware: waits for buckets, retries ``TelegramRetryAfter`` (bounded)."""

    def __init__(self, limiter: BotLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = _limited_chat(method)
        reserved = _RESERVED.get()
        attempt = 0
        while True:
            if chat_id is not None and not reserved:
                await self.limiter.acquire(chat_id)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                self.limiter.penalize(chat_id, error.retry_after)
                if reserved or attempt >= self.limiter.limits.max_retries:
                    raise
                attempt += 1
                await asyncio.sleep(error.retry_after)
