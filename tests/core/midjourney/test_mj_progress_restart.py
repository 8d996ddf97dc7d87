"""A restart mid-task when the adapter reported the message showing the progress: the
core stores it with the task, and the resumed task's ticket starts with it
(``TurnTicket.showing``) so the adapter continues that message — live when the adapter
attaches while the task runs, or with the result held until it attaches."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.app import ChatCore
from core.config import AppSettings
from core.events import PartShown, PartUpdated, TurnFailed, TurnFinal
from core.midjourney.shown import resumed_ticket
from core.parts import MediaPart, PartUpdate, Progress, ProgressPart, ShownAt
from core.storage.mj_tasks_repo import MjTaskRow
from tests.core.conftest import ANN, GROUP, core_settings
from tests.core.midjourney.conftest import VirtualClock, events_of
from tests.core.midjourney.test_mj_restart import delivered
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_mj import FakeMidjourney

SHOWN = ShownAt(("m-5",), media=True)


async def stopped_while_shown(settings: AppSettings, mj: FakeMidjourney,
                              clock: VirtualClock) -> str:
    """/mj a blue cat → the adapter reports message m-5 showing it → the bot stops with
    the task in flight; its id."""
    first = await ChatCore.create(settings)
    clock.running.clear()
    reply = await first.run_command("mj", {"prompt": "a blue cat"}, GROUP, ANN)
    assert reply.ticket is not None
    reply.ticket.part_shown("job", SHOWN)  # what the presenter does once it is sent
    await first.midjourney.settle()
    task_id = list(mj.tasks)[-1]
    row = await first.store.mj_tasks.get(task_id)
    assert row is not None and row.shown == {"job": {"ids": ["m-5"], "media": True}}
    await first.close()
    return task_id


async def test_the_resumed_task_goes_on_in_the_message_that_showed_it(
        fake_gateway: FakeGateway, mj: FakeMidjourney, clock: VirtualClock,
        tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "shown.db")
    task_id = await stopped_while_shown(settings, mj, clock)

    second = await ChatCore.create(settings)
    try:
        [delivery] = await delivered(second)  # handed over as soon as the adapter attaches
        assert delivery.ticket.showing == {"job": SHOWN}
        clock.running.set()
        events = await events_of(delivery.ticket)

        assert not any(isinstance(e, PartShown) for e in events)  # nothing posted anew
        updates = [e.update for e in events if isinstance(e, PartUpdated)]
        assert {u.ref for u in updates} == {"job"}
        assert isinstance(updates[0].part, ProgressPart)  # progress goes on, then
        assert isinstance(updates[-1].part, MediaPart)  # the result replaces it
        assert events[-1] == TurnFinal(turn_id=task_id, model="midjourney", text="")
        delivery.ticket.part_shown("job", ShownAt(("m-9",), media=True))  # edited anew
        await second.midjourney.settle()
        row = await second.store.mj_tasks.get(task_id)
        assert row is not None and row.notified and row.shown["job"]["ids"] == ["m-9"]
    finally:
        await second.close()


async def test_a_result_finished_before_the_adapter_attached_still_continues_the_message(
        fake_gateway: FakeGateway, mj: FakeMidjourney, clock: VirtualClock,
        tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "held.db")
    task_id = await stopped_while_shown(settings, mj, clock)
    clock.running.set()

    second = await ChatCore.create(settings)
    try:
        async with asyncio.timeout(10):  # barrier: it finished while no adapter runs
            while task_id not in second.midjourney.deliveries.held:
                await asyncio.sleep(0.01)
        row = await second.store.mj_tasks.get(task_id)
        assert row is not None and row.status == "SUCCESS"
        assert not row.notified  # held, not yet posted: a restart now would post it

        [delivery] = await delivered(second)
        assert delivery.ticket.showing == {"job": SHOWN}
        first, final = await events_of(delivery.ticket)
        assert isinstance(first, PartUpdated) and isinstance(first.update.part, MediaPart)
        assert first.update.ref == "job" and isinstance(final, TurnFinal)
    finally:
        await second.close()


async def test_a_failure_delivered_after_a_restart_first_stops_the_shown_progress() -> None:
    """The task failed while the bot was down: its old "Drawing… 30%" says it stopped,
    then the failure is reported; with no known message only the failure is."""
    row = MjTaskRow(id="5", action="IMAGINE", platform="test", chat_id="-500",
                    requester_id="1", shown={"job": SHOWN.to_json()})
    failed = TurnFailed("mj.failed", {"reason": "banned", "refund": ""})

    assert await events_of(resumed_ticket(row, [failed])) == [
        PartUpdated(PartUpdate("job", ProgressPart(Progress("mj.progress.stopped"),
                                                   ref="job"))), failed]
    row.shown = {}
    assert await events_of(resumed_ticket(row, [failed])) == [failed]
