"""Midjourney across a bot restart on Telegram (a new bot and core on the same SQLite
file): a task IN_PROGRESS resumes and its result is posted in the same chat as a reply
to the command; buttons of an earlier result still work; a ForceReply prompt (Custom
Zoom, Vary Region) asked before the restart is still answered after it; a photo replying
to the Vary Region picker is the mask."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.conversation.keys import Actor
from tests.adapters.mj_shared import mask_of, pause_in_progress, resume_polling
from tests.adapters.telegram.conftest import TelegramWorld
from tests.adapters.telegram.mj_support import (
    answered_with_white_mask,
    callback,
    flat,
    photo_with,
    region_picker,
    region_prompt,
    restart,
    text_with,
    upscaled,
)
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def test_a_task_in_progress_at_a_restart_is_posted_to_the_same_group(
        world: TelegramWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat()
    tg.command(group, 42, "/mj a red fox")
    messages = await world.wait_for_messages(group.id, done=photo_with("U2"))
    [grid] = [m for m in messages if m.photo]
    first_task = list(mj.tasks)[-1]

    pause_in_progress(mj, clock)  # the bot stops while a task is IN_PROGRESS
    command = tg.command(group, 42, "/mj a blue cat")
    await world.wait_for_messages(group.id, done=text_with("Drawing… 30%"))
    task_id = list(mj.tasks)[-1]
    polled = mj.polls[task_id]

    await restart(world)
    resume_polling(mj, clock)
    messages = await world.wait_for_messages(group.id, done=photo_with("U2", count=2))
    result = [m for m in messages if m.photo and "U2" in flat(m)][-1]
    assert result.reply_to == command["message_id"]  # the same chat, under the command
    assert result.text.endswith("a blue cat")
    assert mj.polls[task_id] > polled  # polling resumed after the restart

    tg.press_button(group, 42, grid.message_id, callback(grid, "U2"))  # an earlier button

    await world.wait_for_messages(group.id, done=photo_with("🔍 Custom Zoom"))
    [(_, action)] = mj.submits("action")
    assert (action["taskId"], action["customId"].split("::")[:4]) == (
        first_task, ["MJ", "JOB", "upsample", "2"])


async def test_a_custom_zoom_prompt_asked_before_a_restart_is_answered_after_it(
        world: TelegramWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    photo = await upscaled(world, ann)
    mark = world.last_message_id(ann.id)
    tg.press_button(ann, 42, photo.message_id, callback(photo, "🔍 Custom Zoom"))
    request = await world.wait_for_prompt(ann.id, mark)
    assert request.reply_markup is not None and request.reply_markup["force_reply"] is True

    await restart(world)
    tg.user_sends(ann, 42, "a pig —zoom 1.5", reply_to=request.message_id)

    await world.wait_for_messages(ann.id, done=photo_with("U1", count=2))
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == "a pig --zoom 1.5"  # the client's em-dash restored


async def test_a_vary_region_prompt_answered_with_a_photo_after_a_restart(
        world: TelegramWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    request = await region_prompt(world, ann, await region_picker(world, ann))
    assert request.text.startswith("Vary Region: describe what to draw")

    await restart(world)
    body = await answered_with_white_mask(world, mj, ann, "a hat", request.message_id)

    assert mask_of(body).size == (32, 32) and mask_of(body).getpixel((30, 30)) == 255


async def test_a_photo_replying_to_the_region_picker_is_the_mask(world: TelegramWorld
                                                                 ) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    board = await region_picker(world, ann)
    assert "Or reply to this message with a mask image" in board.text

    body = await answered_with_white_mask(world, mj, ann, "a red hat", board.message_id)

    assert mask_of(body).getpixel((0, 0)) == 255  # the user's all-white mask
    mark, answered = world.last_message_id(ann.id), len(tg.answered_callbacks)
    tg.press_button(ann, 42, board.message_id, callback(board, "Done"))  # used up
    await tg.wait_until(lambda: len(tg.answered_callbacks) > answered)
    assert tg.answered_callbacks[-1].get("show_alert") is True
    assert tg.answered_callbacks[-1]["text"] == "This button is no longer available."
    assert world.last_message_id(ann.id) == mark  # nothing new was sent


async def test_someone_else_answering_a_prompt_in_a_group_is_refused(world: TelegramWorld
                                                                     ) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat()
    photo = await upscaled(world, group)
    mark = world.last_message_id(group.id)
    tg.press_button(group, 42, photo.message_id, callback(photo, "🔍 Custom Zoom"))
    request = await world.wait_for_prompt(group.id, mark)
    await restart(world)

    tg.user_sends(group, 77, "a cow --zoom 2", reply_to=request.message_id)

    messages = await world.wait_for_messages(
        group.id, done=text_with("Only the person who asked"))
    assert messages[-1].text == "Only the person who asked can use this button."
    assert mj.submits("modal") == []
    tg.user_sends(group, 42, "a pig --zoom 2", reply_to=request.message_id)  # still open
    await tg.wait_until(lambda: mj.submits("modal") or None)
    assert mj.submits("modal")[0][1]["prompt"] == "a pig --zoom 2"


async def test_a_reply_handled_before_the_request_is_stored_still_answers_it(
        world: TelegramWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    photo = await upscaled(world, ann)
    stored = asyncio.Event()
    bind = world.core.actions.bind_message

    def reply_fetched() -> bool:
        return any(u.get("message", {}).get("reply_to_message")
                   for u in tg.delivered_updates)

    async def slow_bind(*args: Any, **kwargs: Any) -> None:
        await tg.wait_until(reply_fetched)  # the bot has the reply before the binding
        await asyncio.sleep(0.2)  # widen the window: its handler runs first
        await bind(*args, **kwargs)
        stored.set()

    monkeypatch.setattr(world.core.actions, "bind_message", slow_bind)
    mark = world.last_message_id(ann.id)
    tg.press_button(ann, 42, photo.message_id, callback(photo, "🔍 Custom Zoom"))
    request = await world.wait_for_prompt(ann.id, mark)

    tg.user_sends(ann, 42, "a pig --zoom 1.5", reply_to=request.message_id)

    await world.wait_for_messages(ann.id, done=photo_with("U1", count=2))
    assert stored.is_set()
    assert mj.submits("modal")[0][1]["prompt"] == "a pig --zoom 1.5"


@pytest.mark.parametrize(("lang", "notice"), [
    ("en", "⏹ Not started: the bot restarted. Send the command again."),
    ("zh", "⏹ 未开始:机器人重启了。请重新发送命令。")])
async def test_a_job_still_queued_at_a_restart_says_so_and_gives_the_allowance_back(
        world: TelegramWorld, clock: VirtualClock, lang: str, notice: str) -> None:
    """One job at a time in the group: the second /mj waits ("⏳ Queued…") when the bot
    stops → its status says it did not start, its reserved image is given back (nothing
    submitted, nothing counted); the running one resumes after the restart."""
    mj = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat(admins={7})
    tg.user(42, "Ann", lang)
    request = tg.command(group, 7, "/settings image_jobs_per_chat 1 chat")
    await tg.wait_until(lambda: any(m.reply_to == request["message_id"]
                                    for m in tg.bot_messages(group.id)))

    pause_in_progress(mj, clock)  # the bot stops while a task is IN_PROGRESS
    tg.command(group, 42, "/mj a red fox", language_code=lang)
    await tg.wait_until(lambda: not clock.running.is_set())
    second = tg.command(group, 42, "/mj a blue cat", language_code=lang)
    status = await tg.wait_until(lambda: next(
        (m for m in tg.bot_messages(group.id) if m.reply_to == second["message_id"]
         and m.text.startswith("⏳")), None))
    ann = Actor("telegram", "42")
    old = world.core
    assert old.image_jobs.allowance.reserved(ann) == 1  # the queued job's image

    await restart(world)
    assert status.text == notice
    assert old.image_jobs.allowance.reserved(ann) == 0  # given back
    assert await world.core.image_jobs.allowance.used_today(ann) == 1  # the first only
    assert [body["prompt"] for _, body in mj.submits("imagine")] == ["a red fox"]

    resume_polling(mj, clock)
    await world.wait_for_messages(group.id, done=photo_with("U2"))  # the first resumed
    assert status.text == notice
