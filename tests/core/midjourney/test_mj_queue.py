"""Midjourney jobs in the chat's fair queue: a job waits for its turn showing its
position, holds its slot until the task ends (success, failure, timeout, cancel), and
presses queue like commands; tasks resumed after a restart hold slots without leaking."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.app import ChatCore
from core.conversation.keys import Actor
from core.events import PartShown, PartUpdated, TurnCancelled, TurnEvent, TurnFailed
from core.parts import ActionsPart, ProgressPart
from tests.core.conftest import ANN, BOB, GROUP, CoreFactory, core_settings
from tests.core.midjourney.conftest import VirtualClock, button, events_of, result_media
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_mj import FakeMidjourney

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)


def progress_keys(events: list[TurnEvent]) -> list[tuple[str, dict[str, object]]]:
    """(key, params) of every progress the job showed, in order."""
    parts = [e.part if isinstance(e, PartShown) else e.update.part
             for e in events if isinstance(e, PartShown | PartUpdated)]
    return [(p.progress.key, p.progress.params) for p in parts if isinstance(p, ProgressPart)]


def prompts(mj: FakeMidjourney) -> list[str]:
    return [str(body["prompt"]) for _, body in mj.submits("imagine")]


async def one_at_a_time(make_core: CoreFactory, **overrides: object) -> ChatCore:
    core = await make_core(**overrides)
    for name in ("image_jobs_per_chat", "image_jobs_per_user"):
        await core.run_command_text(f"/settings {name} 1 chat", GROUP, ADMIN)
    return core


async def test_jobs_run_round_robin_showing_positions_and_hold_the_slot_until_done(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock) -> None:
    core = await one_at_a_time(make_core)
    clock.running.clear()  # tasks stand still while everyone submits
    ann1 = await core.run_command_text("/mj fox one", GROUP, ANN)
    ann2 = await core.run_command_text("/mj fox two", GROUP, ANN)
    bob1 = await core.run_command_text("/mj bob cat", GROUP, BOB)
    assert ann1 and ann2 and bob1 and not (ann1.is_error or ann2.is_error or bob1.is_error)
    assert prompts(mj) == ["fox one"]  # the others wait: the first task holds the slot
    queue = core.image_jobs.queue
    assert (queue.running(GROUP), queue.waiting(GROUP)) == (1, 2)

    clock.running.set()
    events = [await events_of(t.ticket) for t in (ann1, ann2, bob1)]
    assert [result_media(e).media for e in events]  # every job ended with its image
    assert prompts(mj) == ["fox one", "bob cat", "fox two"]  # Bob before Ann's second
    assert progress_keys(events[1])[:3] == [("image.queued", {"position": 1}),
                                            ("image.queued", {"position": 2}),
                                            ("image.queued", {"position": 1})]
    assert progress_keys(events[2])[0] == ("image.queued", {"position": 1})
    assert progress_keys(events[0])[0] == ("mj.progress.waiting", {})  # never queued
    assert (queue.running(GROUP), queue.waiting(GROUP)) == (0, 0)
    assert core.t("image.queued", "zh", position=2) == "⏳ 排队中:第 2 位"


async def test_a_failed_or_cancelled_task_frees_its_slot(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock) -> None:
    core = await one_at_a_time(make_core, mj_task_timeout=1e6)
    mj.fail_next = "Banned prompt detected by moderation"
    clock.running.clear()
    failing = await core.run_command_text("/mj one", GROUP, ANN)
    waiting = await core.run_command_text("/mj two", GROUP, BOB)
    third = await core.run_command_text("/mj three", GROUP, ADMIN)
    assert failing and waiting and third and waiting.ticket and third.ticket
    third.ticket.cancel()  # a queued job leaves the queue
    mj.stuck = True  # Bob's task, created later, never finishes on its own
    clock.running.set()
    assert isinstance((await events_of(failing.ticket))[-1], TurnFailed)
    await asyncio.wait_for(_until(lambda: len(prompts(mj)) == 2), 10)
    await asyncio.wait_for(_until(lambda: core.midjourney.tracker.following), 10)
    waiting.ticket.cancel()  # a running task: the slot is freed
    assert isinstance((await events_of(waiting.ticket))[-1], TurnCancelled)
    assert isinstance((await events_of(third.ticket))[-1], TurnCancelled)
    assert prompts(mj) == ["one", "two"]
    queue = core.image_jobs.queue
    await asyncio.wait_for(_until(lambda: queue.running(GROUP) == 0), 10)
    assert queue.waiting(GROUP) == 0
    await core.midjourney.settle()  # the cancelled task's row is written before closing


async def test_a_press_queues_behind_a_running_task_and_may_answer_with_a_modal(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock) -> None:
    core = await one_at_a_time(make_core)
    grid = result_media(await events_of((await core.run_command_text(
        "/mj a fox", GROUP, ANN)).ticket))  # type: ignore[union-attr]
    clock.running.clear()
    busy = await core.run_command_text("/mj a cat", GROUP, BOB)
    assert busy is not None and busy.ticket is not None
    mj.remix = True  # the variation will answer with a modal (code 21)
    pressed = await core.run_action(button(grid.actions, "V1").action_id, GROUP, ANN)
    assert pressed.ticket is not None and mj.submits("action") == []
    clock.running.set()
    await events_of(busy.ticket)
    events = await events_of(pressed.ticket)
    assert progress_keys(events)[0] == ("image.queued", {"position": 1})
    last = events[-2]
    assert isinstance(last, PartUpdated) and isinstance(last.update.part, ActionsPart)
    assert last.update.part.text == "Midjourney needs the prompt for this action."
    opened = await core.run_action(last.update.part.actions[0][0].action_id, GROUP, ANN)
    assert opened.prompt is not None  # the prompt request, as for an immediate modal
    assert core.image_jobs.queue.running(GROUP) == 0


async def test_resumed_tasks_hold_slots_and_release_them(
        fake_gateway: FakeGateway, mj: FakeMidjourney, clock: VirtualClock,
        tmp_path: Path) -> None:
    settings = core_settings(fake_gateway, tmp_path / "restart.db")
    first = await ChatCore.create(settings)
    clock.running.clear()
    flying = await first.run_command("mj", {"prompt": "a blue cat", "reply_to": "m-1"},
                                     GROUP, ANN)
    assert flying.ticket is not None
    await first.close()
    assert first.image_jobs.queue.running(GROUP) == 0  # closing frees held slots

    second = await ChatCore.create(settings)
    try:
        queue = second.image_jobs.queue
        assert queue.running(GROUP) == 1  # the resumed task runs: it counts
        later = await second.run_command_text("/mj a red cat", GROUP, ANN)
        assert later is not None and later.ticket is not None
        assert queue.waiting(GROUP) == 1  # Ann's limit (1) is taken by the resumed task
        clock.running.set()
        result_media(await events_of(later.ticket))
        assert (queue.running(GROUP), queue.waiting(GROUP)) == (0, 0)
    finally:
        await second.close()


async def _until(condition: object) -> None:
    while not condition():  # type: ignore[operator]
        await asyncio.sleep(0.01)


async def test_the_daily_allowance_counts_image_and_mj_jobs_once(
        make_core: CoreFactory, mj: FakeMidjourney, clock: VirtualClock,
        fake_gateway: FakeGateway, tmp_path: Path) -> None:
    from tests.fakes.gateway_images import install_images
    install_images(fake_gateway)
    core = await make_core(image_daily_allowance=3, image_jobs_per_user=2,
                           data_dir=tmp_path / "data")
    image = await core.run_command_text("/image a castle dall-e-2", GROUP, ANN)
    assert image is not None and image.ticket is not None
    await events_of(image.ticket)  # 1 image used
    clock.running.clear()  # an MJ task runs (and holds its slot) while Ann asks again
    running = await core.run_command_text("/mj a fox", GROUP, ANN)
    assert running is not None and not running.is_error
    # the running task counts once (its ledger row), not also as a reservation
    second = await core.run_command_text("/mj a cat", GROUP, ANN)
    assert second is not None and not second.is_error
    third = await core.run_command_text("/image a boat dall-e-2", GROUP, ANN)
    assert third is not None and third.ticket is not None  # /image refuses on its ticket
    refused = (await events_of(third.ticket))[-1]
    assert isinstance(refused, TurnFailed) and refused.key == "image.allowance_used_up"
    assert core.failure_text(refused, "en").startswith(
        "You have used your 3 images for today (3 of 3,")
    fourth = await core.run_command_text("/mj a bird", GROUP, ANN)
    assert fourth is not None and fourth.is_error and fourth.ticket is None
    assert fourth.text.startswith("You have used your 3 images for today (3 of 3,")
    assert core.t("image.allowance_used_up", "zh", limit=3, used=3, hours=1,
                  minutes=2).startswith("你今天的 3 张图片额度已用完")
    other = await core.run_command_text("/mj a dog", GROUP, BOB)  # Bob's own allowance
    assert other is not None and not other.is_error
    clock.running.set()
    for reply in (running, second, other):
        result_media(await events_of(reply.ticket))
