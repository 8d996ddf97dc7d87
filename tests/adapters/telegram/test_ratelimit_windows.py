"""The limiter on an injected clock: retry_after windows and adaptive draft pacing."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessageDraft

from adapters.telegram.ratelimit import BotLimiter, FloodControlMiddleware, RateLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


LIMITS = RateLimits(draft_interval=0.25, draft_max_interval=4.0, draft_backoff=2.0,
                    draft_recovery=0.5)


def test_a_429_closes_that_chat_to_every_call_for_retry_after_seconds() -> None:
    clock = Clock()
    limiter = BotLimiter(LIMITS, clock)
    limiter.penalize(42, 3)
    assert limiter.blocked_for(42) == 3 and limiter.blocked_for(43) == 0
    assert limiter.draft_wait(42) == 3 and not limiter.can_reserve(42)
    clock.now += 2.5
    assert limiter.blocked_for(42) == 0.5
    clock.now += 0.5
    assert limiter.blocked_for(42) == 0 and limiter.draft_wait(42) == 0


def test_a_429_naming_no_chat_closes_every_chat() -> None:
    clock = Clock()
    limiter = BotLimiter(LIMITS, clock)
    limiter.penalize(None, 2)
    assert limiter.blocked_for(1) == 2 and limiter.blocked_for(-100) == 2
    clock.now += 2
    assert limiter.blocked_for(1) == 0


def test_drafts_slow_down_on_429_and_recover_slowly() -> None:
    clock = Clock()
    limiter = BotLimiter(LIMITS, clock)
    pacer = limiter.gate(7).pacer
    limiter.draft_sent(7)
    assert limiter.draft_wait(7) == 0.25
    intervals = []
    for _ in range(5):  # 0.25 -> 0.5 -> 1 -> 2 -> 4 -> 4 (capped)
        clock.now += 10
        limiter.penalize(7, 1, draft=True)
        intervals.append(pacer.interval)
    assert intervals == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert limiter.draft_wait(7) == 4.0  # the pacer outlasts the 1 s window
    clock.now += 4
    limiter.draft_sent(7)
    assert limiter.draft_wait(7) == 4.0 and pacer.interval == 2.0  # recovery: x0.5
    for _ in range(5):
        clock.now += 5
        limiter.draft_sent(7)
    assert pacer.interval == 0.25  # never below the base interval
    limiter.penalize(8, 1)  # a refused message does not slow drafts
    assert limiter.gate(8).pacer.interval == 0.25


async def test_an_optional_call_inside_a_window_is_refused_without_being_sent() -> None:
    limiter = BotLimiter(LIMITS)
    middleware = FloodControlMiddleware(limiter)
    sent: list[Any] = []

    async def make_request(bot: Any, method: Any) -> Any:
        sent.append(method)
        return "ok"

    draft = SendMessageDraft(chat_id=42, draft_id=1, text="hi")
    limiter.penalize(42, 30)
    with limiter.reserved(), pytest.raises(TelegramRetryAfter) as caught:
        await middleware(make_request, None, draft)  # type: ignore[arg-type]
    assert caught.value.retry_after == 30 and sent == []
    answer: object = await middleware(make_request, None,  # type: ignore[arg-type]
                                      SendMessageDraft(chat_id=43, draft_id=1, text="hi"))
    assert answer == "ok"
    assert len(sent) == 1


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=0.5, burst=3, clock=clock)  # one token every 2 s, 3 at once
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == pytest.approx(2.0)
    clock.now += 1.5
    assert bucket.delay() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.delay() == 0
    bucket.take()
    clock.now += 60  # idle for a minute: back to a full burst, never more
    assert bucket.idle and bucket.tokens == 3
    bucket.block(7)  # a 429: empty and closed for retry_after
    assert bucket.delay() == pytest.approx(7.0)
    clock.now += 6.9
    assert bucket.delay() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.delay() == 0  # open again when the window ends
