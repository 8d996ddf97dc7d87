"""A restart mid-task: the task resumes polling and its result reaches the chat through
the outbox; buttons made before the restart still work."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.app import ChatCore
from core.events import PartShown, TurnFinal
from core.outbox import Delivery
from core.parts import MediaPart
from tests.core.conftest import ANN, GROUP, PRIVATE, core_settings
from tests.core.midjourney.conftest import (
    VirtualClock,
    button,
    events_of,
    labels,
    result_media,
)
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_mj import FakeMidjourney


async def delivered(core: ChatCore) -> list[Delivery]:
    """An adapter attaches to ``core``'s outbox; barrier: the deliveries it got once
    there is one (10 s at most)."""
    got: list[Delivery] = []

    async def deliver(delivery: Delivery) -> None:
        got.append(delivery)

    core.outbox.attach("test", deliver)
    async with asyncio.timeout(10):
        while not got:
            await asyncio.sleep(0.01)
    return got


async def test_a_task_in_flight_at_a_restart_is_delivered_through_the_outbox(
        fake_gateway: FakeGateway, mj: FakeMidjourney, clock: VirtualClock,
        tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "restart.db")
    first = await ChatCore.create(settings)
    done = await first.run_command_text("/mj a red fox", GROUP, ANN)
    assert done is not None
    grid = result_media(await events_of(done.ticket))
    clock.running.clear()  # the next task is submitted, then the bot stops
    flying = await first.run_command("mj", {"prompt": "a blue cat", "reply_to": "m-77"},
                                     GROUP, ANN)
    assert flying.ticket is not None
    task_id = list(mj.tasks)[-1]
    await first.close()
    clock.running.set()
    assert mj.polls[task_id] == 0

    second = await ChatCore.create(settings)
    try:
        [delivery] = await delivered(second)
        assert (delivery.chat, delivery.reply_to, delivery.mention_user_id) == (
            GROUP, "m-77", ANN.user_id)
        events = await events_of(delivery.ticket)
        shown = events[0]
        assert isinstance(shown, PartShown) and isinstance(shown.part, MediaPart)
        assert labels(shown.part.actions)[0] == ["U1", "U2", "U3", "U4", "🔄"]
        assert events[-1] == TurnFinal(turn_id=task_id, model="midjourney", text="")
        assert mj.polls[task_id] == 5
        row = await second.store.mj_tasks.get(task_id)
        assert row is not None and row.notified and row.status == "SUCCESS"

        old = await second.run_action(button(grid.actions, "U2").action_id, GROUP, ANN)
        upscaled = result_media(await events_of(old.ticket))
        assert labels(upscaled.actions)[0] == ["⏫ Upscale (Subtle)", "⏫ Upscale (Creative)"]
        new = await second.run_action(button(shown.part.actions, "V1").action_id, GROUP, ANN)
        result_media(await events_of(new.ticket))
    finally:
        await second.close()

    third = await ChatCore.create(settings)  # nothing left to resume or to post again
    try:
        assert third.midjourney.tracker.following == []
    finally:
        await third.close()


async def test_a_result_finished_before_the_adapter_attached_is_held_then_posted(
        fake_gateway: FakeGateway, mj: FakeMidjourney, clock: VirtualClock,
        tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "held.db")
    first = await ChatCore.create(settings)
    clock.running.clear()
    reply = await first.run_command_text("/mj a red fox", PRIVATE, ANN)
    assert reply is not None
    await first.close()
    clock.running.set()

    second = await ChatCore.create(settings)
    try:
        async with asyncio.timeout(10):  # finishes while no adapter runs
            while second.midjourney.tracker.following:
                await asyncio.sleep(0.01)
        got = await delivered(second)
        assert got[0].mention_user_id == ""  # private chat: no mention
        assert isinstance((await events_of(got[0].ticket))[0], PartShown)
    finally:
        await second.close()
