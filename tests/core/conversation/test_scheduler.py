"""The scheduler's burst handling: ordinary messages at once, hinted split parts merged."""

from __future__ import annotations

import asyncio

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


async def test_a_hinted_part_without_continuation_runs_after_burst_max_wait() -> None:
    runner = Runner()
    scheduler = TurnScheduler(runner, burst_max_wait=0.05)
    scheduler.submit("k", submission("exactly 4000 units, nothing follows", expect_more=True))
    await asyncio.wait_for(runner.started.wait(), 5)
    assert runner.batches == [["exactly 4000 units, nothing follows"]]
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
