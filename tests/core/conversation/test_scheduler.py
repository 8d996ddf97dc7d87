"""The scheduler's burst handling: ordinary messages at once, hinted split parts merged."""

from __future__ import annotations

import asyncio

import pytest

from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.conversation.scheduler import Submission, TurnScheduler
from core.conversation.tickets import TurnTicket

CHAT = ChatRef("test", "chat-1", is_private=True)
ANN = Actor("test", "ann")


class Runner:
    """Records every batch; a batch's turn ends when ``release`` is set."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, key: str, batch: list[Submission]) -> None:
        self.batches.append([s.message.text for s in batch])
        self.started.set()
        await self.release.wait()


def submission(text: str, *, expect_more: bool = False) -> Submission:
    ticket = TurnTicket("en", lambda _: None)
    return Submission(CHAT, ANN, UserMessage(text=text), ticket,
                      asyncio.get_running_loop().time(), expect_more)


async def spin(rounds: int = 20) -> None:
    """Let every ready task run a few steps (no wall-clock wait)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_an_ordinary_message_is_answered_at_once() -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_max_wait=30.0)  # default burst_window: 0
    scheduler.submit("k", submission("hello"))
    await spin()
    assert runner.batches == [["hello"]]  # no 30 s (nor 0.6 s) wait for followers
    await scheduler.close()


async def test_a_part_that_may_continue_waits_for_the_rest_of_the_paste() -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_max_wait=30.0)
    scheduler.submit("k", submission("part 1 of a long paste", expect_more=True))
    await spin()
    scheduler.submit("k", submission("part 2", expect_more=True))
    await spin()
    scheduler.submit("k", submission("last part"))  # short: cannot continue
    await asyncio.wait_for(runner.started.wait(), 5)
    assert runner.batches == [["part 1 of a long paste", "part 2", "last part"]]
    await scheduler.close()


class LoopClock:
    """The event loop's clock (``loop.time()``, seconds), frozen until ``advance``.

    The scheduler reads ``loop.time()`` and waits with loop timers, so replacing the
    running loop's ``time`` injects this clock without touching the scheduler."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        await spin()  # due timers fire on the loop's next iterations


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> LoopClock:
    loop = asyncio.get_running_loop()
    virtual = LoopClock(loop.time())
    monkeypatch.setattr(loop, "time", virtual.time)
    return virtual


async def test_a_hinted_part_without_continuation_runs_after_burst_max_wait(
        clock: LoopClock) -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_max_wait=30.0)
    scheduler.submit("k", submission("exactly 4000 units, nothing follows", expect_more=True))
    await clock.advance(29.9)
    assert runner.batches == []  # still waiting for a next part
    await clock.advance(0.2)
    assert runner.batches == [["exactly 4000 units, nothing follows"]]
    await scheduler.close()


async def test_a_burst_window_restarts_with_each_follower(clock: LoopClock) -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_window=2.0, burst_max_wait=5.0)
    scheduler.submit("k", submission("a"))
    await clock.advance(1.9)
    scheduler.submit("k", submission("b"))  # within a's window: the window restarts
    await clock.advance(1.9)  # 3.8 s: past a's window, inside b's
    assert runner.batches == []
    await clock.advance(0.2)
    assert runner.batches == [["a", "b"]]
    await scheduler.close()


async def test_a_never_ending_paste_is_cut_at_three_times_burst_max_wait(
        clock: LoopClock) -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_max_wait=5.0)
    for index in range(4):  # a hinted part every 4 s (each would wait 5 s for the next)
        scheduler.submit("k", submission(f"part {index}", expect_more=True))
        await clock.advance(4.0 if index < 3 else 2.9)  # the last one comes at 12 s
    assert runner.batches == []  # 14.9 s after the first part
    await clock.advance(0.2)  # 15.1 s = 3 x burst_max_wait: no longer waiting for 17 s
    assert runner.batches == [["part 0", "part 1", "part 2", "part 3"]]
    await scheduler.close()


async def test_messages_sent_while_a_turn_runs_are_answered_together_next() -> None:
    runner = Runner()
    runner.release.clear()
    scheduler = TurnScheduler(runner, burst_max_wait=30.0)
    scheduler.submit("k", submission("first"))
    await asyncio.wait_for(runner.started.wait(), 5)
    scheduler.submit("k", submission("second"))
    scheduler.submit("k", submission("third"))
    await spin()
    assert runner.batches == [["first"]]
    runner.started.clear()
    runner.release.set()
    await asyncio.wait_for(runner.started.wait(), 5)
    assert runner.batches == [["first"], ["second", "third"]]
    await scheduler.close()
