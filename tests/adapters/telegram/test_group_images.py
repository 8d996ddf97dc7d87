"""Image jobs in a Telegram group, end to end: with one job at a time, Ann's second
/mj waits behind Bob's (round robin) and the waiting requesters see their place edited
in place; results reply to the request and mention the requester; Cat pressing Ann's
button gets a polite callback alert and no gateway call, until an admin sets
``image_buttons anyone``. The poller runs on a virtual clock."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.telegram import TelegramBot
from core.app import ChatCore
from core.conversation.keys import Actor, ChatRef
from tests.adapters.telegram.conftest import (
    FAST_LIMITS,
    FAST_TIMINGS,
    TelegramWorld,
    make_bot_settings,
    make_settings,
)
from tests.adapters.telegram.mj_support import restart
from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.gateway_images import GENERATIONS, install_images
from tests.fakes.gateway_mj import STEPS, FakeMidjourney, install_midjourney
from tests.fakes.gateway_replies import Hang
from tests.fakes.telegram_models import SentMessage

ADA, ANN, BOB, CAT = 7, 42, 43, 44


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"mj_task_timeout": 1e6}  # a held task never times out in virtual time


pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


def callback(message: SentMessage, text: str) -> str:
    for row in (message.reply_markup or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == text:
                data: str = button["callback_data"]
                return data
    raise AssertionError(f"no {text!r} on message {message.message_id}")


def reply_to(world: TelegramWorld, chat_id: int, request: dict[str, Any],
             text: str = "") -> SentMessage | None:
    """The bot's visible message replying to ``request`` (containing ``text``)."""
    return next((m for m in world.tg.bot_messages(chat_id)
                 if m.reply_to == request["message_id"] and text in m.text), None)


def prompts(mj: FakeMidjourney) -> list[str]:
    return [str(body["prompt"]) for _, body in mj.submits("imagine")]


async def settings(world: TelegramWorld, chat_id: int, user_id: int, line: str,
                   expect: str) -> None:
    request = world.tg.command(world.tg.chats[chat_id], user_id, f"/settings {line} chat")
    await world.tg.wait_until(lambda: reply_to(world, chat_id, request, expect))


async def test_group_jobs_queue_fairly_reply_mention_and_guard_buttons(
        world: TelegramWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat(admins={ADA})
    for user_id, name, lang in ((ADA, "Ada", "en"), (ANN, "Ann", "en"), (BOB, "Bob", "zh"),
                                (CAT, "Cat", "en")):
        tg.user(user_id, name, lang)
    await settings(world, group.id, ADA, "image_jobs_per_chat 1", "1")
    await settings(world, group.id, ADA, "image_jobs_per_user 1", "1")

    clock.running.clear()  # tasks stand still while the queue forms
    ann1 = tg.command(group, ANN, "/mj fox one")
    await tg.wait_until(lambda: prompts(mj) == ["fox one"] or None)
    ann2 = tg.command(group, ANN, "/mj fox two")
    ann2_status = await tg.wait_until(lambda: reply_to(world, group.id, ann2, "⏳ Queued"))
    assert ann2_status.text == "⏳ Queued: position 1"
    bob1 = tg.command(group, BOB, "/mj bob cat")
    bob_status = await tg.wait_until(lambda: reply_to(world, group.id, bob1, "排队"))
    assert bob_status.text == "⏳ 排队中:第 1 位"  # Bob's first job goes before Ann's second
    await tg.wait_until(lambda: "position 2" in ann2_status.text or None)
    assert ann2_status.history[-2:] == ["⏳ Queued: position 1", "⏳ Queued: position 2"]
    assert prompts(mj) == ["fox one"]  # the running task holds the only slot

    mj.stuck = True  # Bob's task (submitted when Ann's first ends) waits for the test
    clock.running.set()
    await tg.wait_until(lambda: prompts(mj) == ["fox one", "bob cat"] or None)
    clock.running.clear()
    await tg.wait_until(lambda: ann2_status.text == "⏳ Queued: position 1" or None)
    assert ann2_status.history[-3:] == ["⏳ Queued: position 1", "⏳ Queued: position 2",
                                        "⏳ Queued: position 1"]  # moved up, in place
    bobs_task = mj.tasks[next(reversed(mj.tasks))]
    bobs_task.steps, mj.stuck = STEPS, False
    clock.running.set()

    def results() -> dict[int, SentMessage] | None:
        found = {r["message_id"]: m for r in (ann1, ann2, bob1)
                 for m in tg.bot_messages(group.id)
                 if m.photo and m.reply_to == r["message_id"] and callback_exists(m, "U1")}
        return found if len(found) == 3 else None

    found = await tg.wait_until(results, timeout=20)
    assert prompts(mj) == ["fox one", "bob cat", "fox two"]  # round robin
    for request, user_id, name in ((ann1, ANN, "Ann"), (ann2, ANN, "Ann"), (bob1, BOB, "Bob")):
        result = found[request["message_id"]]
        assert result.text.startswith(f"{name} ")  # the caption starts with the mention
        assert {"type": "text_link", "offset": 0, "length": len(name),
                "url": f"tg://user?id={user_id}"} in result.entities

    grid = found[ann1["message_id"]]
    actions_before = len(mj.submits("action"))
    query = tg.press_button(group, CAT, grid.message_id, callback(grid, "U1"))
    answer = await tg.wait_until(lambda: next(
        (a for a in tg.answered_callbacks if a["callback_query_id"] == query["id"]), None))
    assert answer["text"] == "Only the person who asked can use this button."
    assert answer["show_alert"] is True
    assert len(mj.submits("action")) == actions_before  # no gateway call

    await settings(world, group.id, ADA, "image_buttons anyone", "anyone")
    query = tg.press_button(group, CAT, grid.message_id, callback(grid, "U1"))
    await tg.wait_until(lambda: len(mj.submits("action")) == actions_before + 1 or None)
    upscaled = await tg.wait_until(lambda: next(
        (m for m in tg.bot_messages(group.id) if m.photo and m.reply_to == grid.message_id
         and "tg://user?id=44" in str(m.entities)), None), timeout=20)
    assert upscaled.text.startswith("Cat ")  # the presser is the requester of the upscale


def callback_exists(message: SentMessage, text: str) -> bool:
    return any(b["text"] == text for row in (message.reply_markup or {}).get(
        "inline_keyboard", []) for b in row)


async def test_a_non_admin_cannot_change_the_image_settings(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(admins={ADA})
    tg.user(BOB, "Bob", "zh")
    tg.user(CAT, "Cat", "en")
    for user_id, text in ((CAT, "Only chat admins can do that."),
                          (BOB, "只有群管理员可以这样做。")):
        request = tg.command(group, user_id, "/settings image_buttons anyone chat")

        def answered(request: dict[str, Any] = request) -> SentMessage | None:
            return reply_to(world, group.id, request)

        refusal = await tg.wait_until(answered)
        assert refusal.text == text
    assert await world.core.images_button_who(ChatRef("telegram", str(group.id))) == "requester"


async def test_a_result_finished_after_a_restart_replies_to_the_request_and_mentions(
        world: TelegramWorld, clock: VirtualClock) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat()
    tg.user(ANN, "Ann", "en")
    clock.running.clear()  # the task is still drawing when the bot stops
    request = tg.command(group, ANN, "/mj a fox at dawn")
    await tg.wait_until(lambda: reply_to(world, group.id, request, "⏳"))
    assert prompts(mj) == ["a fox at dawn"]

    await world.bot.stop()
    await world.core.close()
    world.core = await ChatCore.create(make_settings(world.gateway, tg, world.tmp_path,
                                                     mj_task_timeout=1e6))
    world.bot = TelegramBot(world.core, make_bot_settings(tg), timings=FAST_TIMINGS,
                            limits=FAST_LIMITS, album_delay=0.2, polling_timeout=1)
    await world.bot.start()
    assert world.core.midjourney.tracker.following == list(mj.tasks)  # resumed
    clock.running.set()

    result = await tg.wait_until(lambda: next(
        (m for m in tg.bot_messages(group.id) if m.photo and callback_exists(m, "U1")), None),
        timeout=20)
    assert result.reply_to == request["message_id"]  # the reply target was stored
    assert result.text.startswith("Ann ")
    assert {"type": "text_link", "offset": 0, "length": 3,
            "url": f"tg://user?id={ANN}"} in result.entities
    [send] = tg.calls_of("sendPhoto")  # the "⏳" message went on as the preview photo,
    assert not any(m.text.startswith(("⏳", "🎨 Drawing"))  # which became the result
                   for m in tg.bot_messages(group.id))
    assert send.params["reply_parameters"]["allow_sending_without_reply"] is True


async def test_an_image_job_still_queued_at_a_restart_says_so_and_gives_the_allowance_back(
        world: TelegramWorld) -> None:
    """The DALL·E variant of the queued-Midjourney case: with one job at a time, Ann's
    second /image waits while the first hangs at the gateway; the bot stops → the
    waiting one's status says it did not start and its two images are given back."""
    install_images(world.gateway)
    world.gateway.script(Hang(30), route=GENERATIONS)
    tg = world.tg
    group = tg.group_chat(admins={ADA})
    tg.user(ANN, "Ann", "zh")
    await settings(world, group.id, ADA, "image_jobs_per_chat 1", "1")
    tg.command(group, ANN, "/image a cat dall-e-2 n=1", language_code="zh")
    await tg.wait_until(lambda: world.gateway.requests_to(GENERATIONS))
    second = tg.command(group, ANN, "/image a dog dall-e-2 n=2", language_code="zh")
    status = await tg.wait_until(lambda: reply_to(world, group.id, second, "⏳"))
    assert status is not None
    ann = Actor("telegram", str(ANN))
    old = world.core
    assert old.image_jobs.allowance.reserved(ann) == 3  # both jobs' images

    await restart(world)
    assert status.text == "⏹ 未开始:机器人重启了。请重新发送命令。"
    assert old.image_jobs.allowance.reserved(ann) == 0
    assert len(world.gateway.requests_to(GENERATIONS)) == 1  # the second never ran
