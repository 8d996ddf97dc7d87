"""The image-job queue: users queue image jobs in a group → they run fairly, in turns.

Every job body waits on a gate the test opens, so "what runs now" is decided by the
test (no sleeps); positions are what each waiting job was told, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from core.conversation.keys import Actor, ChatRef
from core.jobqueue import ImageJobQueue, JobSlot, QueueLimits
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE

CAT = Actor("test", "3", "Cat", "en")
DAN = Actor("test", "4", "Dan", "en")
ONE_AT_A_TIME = QueueLimits(per_chat=1, per_user=0)


class Jobs:
    """Jobs submitted to one queue; each runs until the test opens its gate."""

    def __init__(self, queue: ImageJobQueue, limits: QueueLimits) -> None:
        self.queue = queue
        self.limits = limits
        self.started: list[str] = []
        self.positions: dict[str, list[int]] = {}
        self.slots: dict[str, JobSlot] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def submit(self, name: str, actor: Actor, chat: ChatRef = GROUP) -> None:
        """``actor`` asks for job ``name``; returns once it runs or waits in line."""
        self.positions[name] = []
        self.gates[name] = asyncio.Event()
        before = self.queue.waiting(chat) + self.queue.running(chat)

        async def on_position(position: int) -> None:
            self.positions[name].append(position)

        async def run() -> None:
            async with self.queue.slot(chat, actor, "image", limits=self.limits,
                                       on_position=on_position) as slot:
                self.slots[name] = slot
                self.started.append(name)
                await self.gates[name].wait()

        self.tasks[name] = asyncio.create_task(run())
        await until(lambda: self.queue.waiting(chat) + self.queue.running(chat) > before
                    and (name in self.started or bool(self.positions[name])))

    async def finish(self, name: str) -> None:
        """Job ``name`` (running) completes; returns once its task is done."""
        assert name in self.started, f"{name} is not running (started: {self.started})"
        self.gates[name].set()
        await self.tasks[name]
        await settle()


async def settle() -> None:
    """Let woken waiters run and report (a few loop turns; no time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


async def test_one_users_jobs_interleave_with_others() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    for name in ("A1", "A2", "A3"):
        await jobs.submit(name, ANN)
    await jobs.submit("B1", BOB)
    assert jobs.started == ["A1"]
    await until(lambda: jobs.positions["A3"] == [2, 3])  # barrier: Bob's B1 moved A3 back
    # Bob's first job goes before Ann's second: Ann's later jobs move back one place.
    assert jobs.positions == {"A1": [], "A2": [1, 2], "A3": [2, 3], "B1": [1]}

    await jobs.finish("A1")
    assert jobs.started == ["A1", "B1"]
    assert jobs.positions["A2"] == [1, 2, 1] and jobs.positions["A3"] == [2, 3, 2]
    await jobs.finish("B1")
    await jobs.finish("A2")
    await jobs.finish("A3")
    assert jobs.started == ["A1", "B1", "A2", "A3"]
    assert jobs.positions["A3"] == [2, 3, 2, 1]
    assert jobs.slots["A3"].waited_positions == (2, 3, 2, 1)
    assert jobs.slots["A1"].waited_positions == ()  # started at once: never "queued"
    assert jobs.queue.waiting(GROUP) == jobs.queue.running(GROUP) == 0


async def test_round_robin_over_three_users_with_later_arrivals() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    for name in ("A1", "A2", "A3", "A4"):
        await jobs.submit(name, ANN)
    await jobs.submit("B1", BOB)
    await jobs.submit("B2", BOB)
    await jobs.finish("A1")  # B1 runs
    await jobs.submit("C1", CAT)  # arrives late: its first turn still comes before
    await until(lambda: len(jobs.positions["A2"]) == 4)  # barrier: A2 was told
    assert jobs.positions["C1"] == [1]  # anybody's second one
    assert jobs.positions["A2"] == [1, 2, 1, 2]  # (Bob's B1 came in, ran, Cat came in)
    for name in ("B1", "C1", "A2", "B2", "A3", "A4"):
        await jobs.finish(name)
    assert jobs.started == ["A1", "B1", "C1", "A2", "B2", "A3", "A4"]


async def test_per_user_limit_lets_others_go_first() -> None:
    jobs = Jobs(ImageJobQueue(), QueueLimits(per_chat=2, per_user=1))
    await jobs.submit("A1", ANN)
    await jobs.submit("A2", ANN)  # the chat has room, but Ann already runs one
    await jobs.submit("B1", BOB)
    assert jobs.started == ["A1", "B1"]
    assert jobs.positions["A2"] == [1]
    await jobs.submit("C1", CAT)  # the chat is full; Cat's first job goes before
    await until(lambda: len(jobs.positions["A2"]) == 2)  # Ann's second: told it moved
    assert jobs.positions["C1"] == [1] and jobs.positions["A2"] == [1, 2]
    await jobs.finish("B1")
    assert jobs.started == ["A1", "B1", "C1"]
    assert jobs.positions["A2"] == [1, 2, 1]
    await jobs.finish("A1")
    assert jobs.started == ["A1", "B1", "C1", "A2"]
    await jobs.finish("C1")
    await jobs.finish("A2")


async def test_per_chat_limit_runs_two_at_once() -> None:
    jobs = Jobs(ImageJobQueue(), QueueLimits(per_chat=2, per_user=0))
    for name, actor in (("A1", ANN), ("B1", BOB), ("C1", CAT)):
        await jobs.submit(name, actor)
    assert jobs.started == ["A1", "B1"] and jobs.positions["C1"] == [1]
    assert jobs.queue.running(GROUP) == 2 and jobs.queue.waiting(GROUP) == 1
    await jobs.finish("B1")
    assert jobs.started == ["A1", "B1", "C1"]
    await jobs.finish("A1")
    await jobs.finish("C1")


async def test_cancelling_a_waiting_job_moves_the_others_up() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    for name, actor in (("A1", ANN), ("B1", BOB), ("C1", CAT), ("D1", DAN)):
        await jobs.submit(name, actor)
    assert jobs.positions == {"A1": [], "B1": [1], "C1": [2], "D1": [3]}
    jobs.tasks["C1"].cancel()
    with pytest.raises(asyncio.CancelledError):
        await jobs.tasks["C1"]
    await until(lambda: len(jobs.positions["D1"]) == 2)  # barrier: D1 was told
    assert jobs.positions == {"A1": [], "B1": [1], "C1": [2], "D1": [3, 2]}
    assert jobs.queue.waiting(GROUP) == 2
    for name in ("A1", "B1", "D1"):
        await jobs.finish(name)
    assert jobs.started == ["A1", "B1", "D1"]
    assert jobs.queue.waiting(GROUP) == jobs.queue.running(GROUP) == 0


async def test_cancelling_a_running_job_frees_its_slot() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    await jobs.submit("A1", ANN)
    await jobs.submit("B1", BOB)
    jobs.tasks["A1"].cancel()
    with pytest.raises(asyncio.CancelledError):
        await jobs.tasks["A1"]
    await until(lambda: "B1" in jobs.started)
    assert jobs.started == ["A1", "B1"]
    await jobs.finish("B1")


async def test_a_failing_job_frees_its_slot() -> None:
    queue = ImageJobQueue()
    with pytest.raises(RuntimeError):
        async with queue.slot(GROUP, ANN, "image", limits=ONE_AT_A_TIME):
            raise RuntimeError("gateway exploded")
    jobs = Jobs(queue, ONE_AT_A_TIME)
    await jobs.submit("B1", BOB)
    assert jobs.started == ["B1"]
    await jobs.finish("B1")


async def test_private_chats_and_other_groups_have_their_own_queue() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    other = ChatRef("test", "-600")
    await jobs.submit("A1", ANN)
    await jobs.submit("B1", BOB)  # waits in the group
    await jobs.submit("P1", ANN, PRIVATE)
    await jobs.submit("O1", BOB, other)
    assert jobs.started == ["A1", "P1", "O1"]
    for name in ("P1", "O1", "A1", "B1"):
        await jobs.finish(name)
    assert jobs.started == ["A1", "P1", "O1", "B1"]


async def test_a_raised_limit_starts_waiting_jobs() -> None:
    jobs = Jobs(ImageJobQueue(), ONE_AT_A_TIME)
    await jobs.submit("A1", ANN)
    await jobs.submit("B1", BOB)
    jobs.limits = QueueLimits(per_chat=3, per_user=0)  # an admin raised the limit
    await jobs.submit("C1", CAT)
    await until(lambda: len(jobs.started) == 3)
    assert sorted(jobs.started) == ["A1", "B1", "C1"]
    for name in ("A1", "B1", "C1"):
        await jobs.finish(name)


async def test_a_failing_position_callback_keeps_the_place() -> None:
    queue = ImageJobQueue()
    jobs = Jobs(queue, ONE_AT_A_TIME)
    await jobs.submit("A1", ANN)

    async def broken(position: int) -> None:
        raise RuntimeError("message to edit was deleted")

    async def waiting() -> str:
        async with queue.slot(GROUP, BOB, "mj", limits=ONE_AT_A_TIME, on_position=broken):
            return "ran"

    task = asyncio.create_task(waiting())
    await until(lambda: queue.waiting(GROUP) == 1)
    await jobs.finish("A1")
    assert await task == "ran"


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        QueueLimits(per_chat=-1)
