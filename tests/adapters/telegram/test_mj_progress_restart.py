"""The progress message of a Midjourney job survives a bot restart on Telegram: the
message that showed "Drawing… 30%" before the restart is the one the result replaces
(edited in place when both are photos, else deleted when the result is sent), so the
chat ends with one result and no progress frozen at 30%. If a user deleted the progress
message meanwhile, the result is simply sent as a new message."""

from __future__ import annotations

from typing import Any

import pytest

from core.parts import ShownAt
from tests.adapters.telegram.conftest import TelegramWorld
from tests.adapters.telegram.mj_support import flat, last_with, photo_with, restart, text_with
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney
from tests.fakes.telegram_models import SentMessage

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def drawing_at_restart(world: TelegramWorld, clock: VirtualClock, mj: FakeMidjourney,
                             chat: Any, prompt: str) -> tuple[dict[str, Any], SentMessage]:
    """/mj ``prompt`` → "Drawing… 30%" shown and stored with the task → the bot
    restarts (the task still running); returns the command and the progress message."""

    def pause_when_in_progress(task: dict[str, Any]) -> None:
        if task["status"] == "IN_PROGRESS":
            clock.running.clear()  # the poller's next sleep waits: the bot stops here

    mj.on_poll = pause_when_in_progress
    command = world.tg.command(chat, 42, f"/mj {prompt}")
    messages = await world.wait_for_messages(chat.id, done=text_with("Drawing… 30%"))
    progress = last_with(messages, "Drawing… 30%")
    follow = world.core.midjourney.tracker.get(list(mj.tasks)[-1])
    assert follow is not None
    stored = ShownAt((str(progress.message_id),), media=bool(progress.photo))
    await world.tg.wait_until(  # barrier: the presenter reported it, the core stored it
        lambda: ShownAt.from_json(follow.state["row"].shown.get("job")) == stored)
    await world.core.midjourney.settle()
    await restart(world)
    return command, progress


async def finished(world: TelegramWorld, chat_id: int) -> list[SentMessage]:
    """Barrier: the result photo is shown and its presentation has ended (a progress
    message it replaces is deleted by then); the chat's messages."""
    await world.wait_for_messages(chat_id, done=photo_with("U2"))
    await world.bot.handlers.presentations.settle(None)
    return world.tg.bot_messages(chat_id)


def after(messages: list[SentMessage], command: dict[str, Any]) -> list[SentMessage]:
    """The bot's messages after ``command`` except the command's own header line."""
    return [m for m in messages if m.message_id > command["message_id"]
            and not m.text.startswith("🎨 Midjourney:")]


async def test_the_progress_message_shown_before_a_restart_becomes_the_result(
        world: TelegramWorld, clock: VirtualClock) -> None:
    group = world.tg.group_chat()
    mj = install_midjourney(world.gateway)
    command, progress = await drawing_at_restart(world, clock, mj, group, "a blue cat")
    task_id = list(mj.tasks)[-1]
    row = await world.core.store.mj_tasks.get(task_id)
    assert row is not None and row.shown["job"]["ids"] == [str(progress.message_id)]

    mj.on_poll = None
    clock.running.set()
    messages = await finished(world, group.id)

    [result] = after(messages, command)  # one message: no stale "Drawing… 30%"
    assert "U2" in flat(result) and result.text.endswith("a blue cat")
    assert result.reply_to == command["message_id"]  # still under the command
    assert not any("Drawing" in m.text for m in messages)
    if progress.photo:  # a preview photo is edited into the result in place
        assert result.message_id == progress.message_id


async def test_a_text_progress_message_is_deleted_when_the_result_photo_is_sent(
        world: TelegramWorld, clock: VirtualClock) -> None:
    """No preview image at 30%: the progress is a text message, which Telegram cannot
    edit into a photo → the result is sent and the progress deleted."""
    private = world.tg.private_chat(42)
    mj = install_midjourney(world.gateway)
    mj.previews = False
    command, progress = await drawing_at_restart(world, clock, mj, private, "a red cat")
    assert not progress.photo

    mj.on_poll = None
    clock.running.set()
    messages = await finished(world, private.id)

    [result] = after(messages, command)
    assert result.photo and result.text.endswith("a red cat")
    assert (private.id, progress.message_id) in world.tg.deleted


async def test_a_progress_message_deleted_during_the_restart_is_replaced_by_a_new_result(
        world: TelegramWorld, clock: VirtualClock) -> None:
    group = world.tg.group_chat()
    mj = install_midjourney(world.gateway)
    command, progress = await drawing_at_restart(world, clock, mj, group, "a green cat")
    world.tg.user_deletes(group, progress.message_id)  # an admin removed it meanwhile

    mj.on_poll = None
    clock.running.set()
    messages = await finished(world, group.id)

    [result] = after(messages, command)
    assert result.message_id > progress.message_id  # sent anew, no error shown
    assert result.text.endswith("a green cat") and result.reply_to == command["message_id"]


async def test_after_a_restart_the_same_message_goes_on_showing_the_progress(
        world: TelegramWorld, clock: VirtualClock) -> None:
    """30% before the restart → 70% after it in the same message → the result there."""
    group = world.tg.group_chat()
    mj = install_midjourney(world.gateway)
    command, progress = await drawing_at_restart(world, clock, mj, group, "a blue cat")

    def pause_at_70(task: dict[str, Any]) -> None:
        if task["progress"] == "70%":
            clock.running.clear()

    mj.on_poll = pause_at_70
    clock.running.set()
    messages = await world.wait_for_messages(group.id, done=text_with("Drawing… 70%"))
    [drawing] = after(messages, command)  # the old message was edited: no new one
    assert drawing.message_id == progress.message_id and drawing.photo

    mj.on_poll = None
    clock.running.set()
    [result] = after(await finished(world, group.id), command)
    assert result.message_id == progress.message_id and result.text.endswith("a blue cat")


async def test_a_progress_message_deleted_while_the_job_runs_is_replaced_by_the_result(
        world: TelegramWorld, clock: VirtualClock) -> None:
    """No restart: an admin deletes "Drawing… 30%" → the result comes as a new photo
    (its edit found no message), with no error in the chat."""
    group = world.tg.group_chat()
    mj = install_midjourney(world.gateway)

    def pause_when_in_progress(task: dict[str, Any]) -> None:
        if task["status"] == "IN_PROGRESS":
            clock.running.clear()

    mj.on_poll = pause_when_in_progress
    command = world.tg.command(group, 42, "/mj a grey cat")
    messages = await world.wait_for_messages(group.id, done=text_with("Drawing… 30%"))
    progress = last_with(messages, "Drawing… 30%")
    world.tg.user_deletes(group, progress.message_id)

    mj.on_poll = None
    clock.running.set()
    [result] = after(await finished(world, group.id), command)
    assert result.message_id > progress.message_id and result.text.endswith("a grey cat")
    assert result.reply_to == command["message_id"]
