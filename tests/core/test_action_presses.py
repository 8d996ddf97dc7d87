"""A press in two steps (``ChatCore.press_action``): the quick checks answer at once and
run nothing; an accepted press runs its work in ``Press.run()``. One action never runs
twice at once: a second press while the first one's handler runs, or while the turn /
job it started goes on, hears "⏳ Already working on it." (one policy for every
platform); afterwards the button works again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from core.actions import ActionContext, ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.tickets import TurnTicket
from core.errors import UserInputError
from core.events import TurnFinal
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE

BUSY = ActionOutcome(notice="⏳ Already working on it.")
QUICK = 5.0
"""Seconds a press answered at once may take before the test fails instead of hanging
(only a failure bound: nothing is timed)."""


async def quick(press: Awaitable[ActionOutcome]) -> ActionOutcome:
    return await asyncio.wait_for(press, QUICK)


class Gate:
    """A handler that waits for ``open`` and counts its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        self.outcome = ActionOutcome(notice="done")

    async def __call__(self, ctx: ActionContext) -> ActionOutcome:
        self.runs += 1
        self.entered.set()
        await self.open.wait()
        return self.outcome


async def test_checks_answer_at_once_and_the_work_waits_for_run(core: ChatCore) -> None:
    gate = Gate()
    core.actions.register("slow", gate)
    action_id = await core.actions.create("slow", {}, chat=GROUP, owner_id=ANN.user_id)

    refused = await core.press_action(action_id, GROUP, BOB)
    assert refused.outcome == ActionOutcome(notice="只有提问的人可以使用这个按钮。", alert=True)
    unknown = await core.press_action("nope", GROUP, ANN)
    assert unknown.outcome is not None and unknown.outcome.alert

    press = await core.press_action(action_id, GROUP, ANN)
    assert press.outcome is None and gate.runs == 0  # nothing ran yet
    running = asyncio.create_task(press.run())
    await gate.entered.wait()
    gate.open.set()
    assert await running == ActionOutcome(notice="done")
    assert gate.runs == 1


async def test_a_double_press_runs_once_and_then_the_button_works_again(
        core: ChatCore) -> None:
    gate = Gate()
    core.actions.register("slow", gate)
    action_id = await core.actions.create("slow", {}, chat=GROUP, owner_id=ANN.user_id,
                                          who="anyone")

    first = asyncio.create_task(core.run_action(action_id, GROUP, ANN))
    await gate.entered.wait()
    assert await quick(core.run_action(action_id, GROUP, ANN)) == BUSY  # double tap
    chinese = await quick(core.run_action(action_id, GROUP, BOB))  # another member, same moment
    assert chinese == ActionOutcome(notice="⏳ 正在处理,请稍候。")
    gate.open.set()
    assert await first == ActionOutcome(notice="done")
    assert gate.runs == 1

    assert await core.run_action(action_id, GROUP, BOB) == ActionOutcome(notice="done")
    assert gate.runs == 2


async def test_the_action_stays_busy_until_the_ticket_it_started_ends(core: ChatCore
                                                                      ) -> None:
    tickets: list[TurnTicket] = []

    async def draw(ctx: ActionContext) -> ActionOutcome:
        tickets.append(TurnTicket("en", lambda _: None))
        return ActionOutcome(ticket=tickets[-1])

    async def via_reply(ctx: ActionContext) -> ActionOutcome:
        tickets.append(TurnTicket("en", lambda _: None))
        return ActionOutcome(reply=CommandReply("started", ticket=tickets[-1]))

    core.actions.register("draw", draw)
    core.actions.register("reply", via_reply)
    for kind in ("draw", "reply"):
        action_id = await core.actions.create(kind, {}, chat=PRIVATE, owner_id=ANN.user_id)
        await core.run_action(action_id, PRIVATE, ANN)
        assert await quick(core.run_action(action_id, PRIVATE, ANN)) == BUSY
        assert len(tickets) == 1
        tickets[0].emit(TurnFinal(turn_id="t", model="m", text=""))
        again = await core.run_action(action_id, PRIVATE, ANN)
        assert again.ticket is not None or again.reply is not None
        assert len(tickets) == 2
        tickets.clear()


async def test_a_failed_or_refused_press_frees_the_button(core: ChatCore) -> None:
    calls: list[str] = []

    async def fails(ctx: ActionContext) -> ActionOutcome:
        calls.append("run")
        raise UserInputError("image.gone")

    core.actions.register("fails", fails)
    action_id = await core.actions.create("fails", {}, chat=PRIVATE, owner_id=ANN.user_id)
    first = await core.run_action(action_id, PRIVATE, ANN)
    assert first.alert and first != BUSY
    assert await core.run_action(action_id, PRIVATE, ANN) == first  # ran again, not busy
    assert calls == ["run", "run"]

    gate = Gate()
    core.actions.register("slow", gate)
    slow_id = await core.actions.create("slow", {}, chat=GROUP, owner_id=ANN.user_id)
    await core.press_action(slow_id, GROUP, BOB)  # not Bob's: refused, never busy
    press = await core.press_action(slow_id, GROUP, ANN)
    assert press.outcome is None
    gate.open.set()
    assert await press.run() == ActionOutcome(notice="done")


async def test_a_cancelled_press_frees_the_button(core: ChatCore) -> None:
    gate = Gate()
    core.actions.register("slow", gate)
    action_id = await core.actions.create("slow", {}, chat=PRIVATE, owner_id=ANN.user_id)
    running = asyncio.create_task(core.run_action(action_id, PRIVATE, ANN))
    await gate.entered.wait()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    gate.open.set()
    assert await core.run_action(action_id, PRIVATE, ANN) == ActionOutcome(notice="done")
