"""Button presses on Telegram, while the work behind them is slow: the press is answered
at once (Bot API: a client shows a progress bar until ``answerCallbackQuery``), before
the gateway answers; a second press of the same button while the first one's work runs
(a double tap, two group members) gets "⏳ Already working on it." and starts nothing;
a press after the result is back runs again (as Midjourney's own buttons do). What the
work says afterwards (a gateway refusal, DALL·E ✏️'s hint) comes as a chat message.

The gateway's submits are held on a barrier (``tests.adapters.held.Held``) that the
test opens only after it has seen the Bot API request it waits for, so the order is
checked, not timed. The Midjourney poller runs on a virtual clock."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from tests.adapters.held import Held
from tests.adapters.telegram.conftest import TelegramWorld
from tests.adapters.telegram.mj_support import callback, flat, photo_with
from tests.fakes.gateway import Call
from tests.fakes.gateway_images import GENERATIONS, install_images
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney
from tests.fakes.telegram import FakeChat, FakeTelegram
from tests.fakes.telegram_models import SentMessage

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py

ANN, BOB, ADA = 42, 43, 7
BUSY = "⏳ Already working on it."


def answered(tg: FakeTelegram) -> list[str]:
    """Ids of the callback queries the fake Bot API has seen answered, in order."""
    return [str(a["callback_query_id"]) for a in tg.answered_callbacks]


def hold(world: TelegramWorld, path: str, original: Any) -> Held:
    return Held(world.gateway, "POST", path, original, lambda: answered(world.tg))


def answer_of(tg: FakeTelegram, query: dict[str, Any]) -> dict[str, Any] | None:
    return next((a for a in tg.answered_callbacks if a["callback_query_id"] == query["id"]),
                None)


async def grid_of(world: TelegramWorld, chat_id: int) -> SentMessage:
    messages = await world.wait_for_messages(chat_id, done=photo_with("U2"), timeout=20)
    return next(m for m in messages if m.photo and "U2" in flat(m))


async def private_grid(world: TelegramWorld,
                       prompt: str) -> tuple[FakeMidjourney, FakeChat, SentMessage]:
    """Ann sends ``/mj <prompt>`` in her private chat; the fake Midjourney, the chat and
    the grid the bot shows (barrier)."""
    mj = install_midjourney(world.gateway)
    ann = world.tg.private_chat(ANN)
    world.tg.command(ann, ANN, f"/mj {prompt}")
    return mj, ann, await grid_of(world, ann.id)


def upscales(world: TelegramWorld, chat_id: int) -> list[SentMessage]:
    return [m for m in world.tg.bot_messages(chat_id) if m.photo and "Custom Zoom" in str(
        flat(m))]


async def test_u2_is_answered_before_the_slow_submit_returns(world: TelegramWorld) -> None:
    mj, ann, grid = await private_grid(world, "a pig")
    tg = world.tg
    held = hold(world, "/mj/submit/action", mj._action)

    press = tg.press_button(ann, ANN, grid.message_id, callback(grid, "U2"))

    # the spinner stops while the gateway still holds the submit
    answer = await tg.wait_until(lambda: answer_of(tg, press))
    assert answer.get("show_alert") is not True
    await tg.wait_until(lambda: held.log)  # the submit went out and is still held
    assert held.steps() == ["sent"]
    held.release()

    await tg.wait_until(lambda: upscales(world, ann.id), timeout=20)
    assert held.steps() == ["sent", "answered"]
    assert press["id"] in held.log[-1][1]  # answered before the gateway answered
    assert len(mj.submits("action")) == 1


async def test_a_double_tap_on_u2_submits_once_and_the_second_tap_hears_why(
        world: TelegramWorld) -> None:
    mj, ann, grid = await private_grid(world, "a cow")
    tg = world.tg
    held = hold(world, "/mj/submit/action", mj._action)
    data = callback(grid, "U2")

    first = tg.press_button(ann, ANN, grid.message_id, data)
    await tg.wait_until(lambda: held.log)  # the first submit is on its way
    second = tg.press_button(ann, ANN, grid.message_id, data)  # impatient

    notice = await tg.wait_until(lambda: answer_of(tg, second))
    assert notice["text"] == BUSY == world.core.t("action.busy", "en")
    assert notice.get("show_alert") is not True
    assert "text" not in (answer_of(tg, first) or {"text": "unanswered"})
    held.release()

    await tg.wait_until(lambda: upscales(world, ann.id), timeout=20)
    assert len(mj.submits("action")) == 1  # one paid task
    assert len(upscales(world, ann.id)) == 1

    # the result is back: U2 again upscales again (Midjourney's button does so too)
    third = tg.press_button(ann, ANN, grid.message_id, data)
    await tg.wait_until(lambda: len(upscales(world, ann.id)) == 2, timeout=20)
    assert "text" not in (answer_of(tg, third) or {})
    assert len(mj.submits("action")) == 2


async def test_two_group_members_pressing_u2_together_start_one_task_and_hear_it_in_chinese(
        world: TelegramWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat(admins={ADA})
    tg.user(ANN, "Ann", "en")
    tg.user(BOB, "Bob", "zh")
    tg.user(ADA, "Ada", "en")
    request = tg.command(group, ADA, "/settings image_buttons anyone chat")
    await tg.wait_until(lambda: any(m.reply_to == request["message_id"]
                                    for m in tg.bot_messages(group.id)))
    tg.command(group, ANN, "/mj a hen")
    grid = await grid_of(world, group.id)
    held = hold(world, "/mj/submit/action", mj._action)
    data = callback(grid, "U2")

    tg.press_button(group, ANN, grid.message_id, data)
    await tg.wait_until(lambda: held.log)
    bob = tg.press_button(group, BOB, grid.message_id, data, check=False)

    notice = await tg.wait_until(lambda: answer_of(tg, bob))
    assert notice["text"] == "⏳ 正在处理,请稍候。" == world.core.t("action.busy", "zh")
    held.release()
    await tg.wait_until(lambda: upscales(world, group.id), timeout=20)
    assert len(mj.submits("action")) == 1


async def button_with(world: TelegramWorld, chat_id: int,
                      icon: str) -> tuple[SentMessage, str]:
    """Barrier: the bot's message carrying a button labelled with ``icon``, and that
    button's callback_data."""
    def shown(messages: list[SentMessage]) -> bool:
        return any(icon in label for m in messages for label in flat(m))

    messages = await world.wait_for_messages(chat_id, done=shown)
    carrier = next(m for m in messages if any(icon in label for label in flat(m)))
    data = next(b["callback_data"] for row in (carrier.reply_markup or {})["inline_keyboard"]
                for b in row if icon in b["text"])
    return carrier, data


async def test_dalle_again_is_answered_at_once_and_a_second_press_draws_nothing_more(
        world: TelegramWorld) -> None:
    images = install_images(world.gateway)
    tg = world.tg
    ann = tg.private_chat(ANN)
    tg.command(ann, ANN, "/image a cat")

    carrier, data = await button_with(world, ann.id, "🔁")
    held = hold(world, GENERATIONS, images.generations)
    photos = len([m for m in tg.bot_messages(ann.id) if m.photo])

    first = tg.press_button(ann, ANN, carrier.message_id, data)
    await tg.wait_until(lambda: answer_of(tg, first))
    await tg.wait_until(lambda: held.log)  # drawing, held by the gateway
    second = tg.press_button(ann, ANN, carrier.message_id, data)
    notice = await tg.wait_until(lambda: answer_of(tg, second))
    assert notice["text"] == BUSY
    assert held.steps() == ["sent"]
    held.release()

    await tg.wait_until(lambda: len([m for m in tg.bot_messages(ann.id) if m.photo]) > photos)
    assert len(images.image_requests()) == 2  # /image, then one 🔁


async def test_a_refused_u2_is_answered_at_once_and_the_reason_shows_in_the_chat(
        world: TelegramWorld) -> None:
    mj, ann, grid = await private_grid(world, "a fox")
    tg = world.tg

    async def no_quota(call: Call) -> web.StreamResponse:
        return mj._gateway_error("quota_not_enough")

    held = hold(world, "/mj/submit/action", no_quota)
    before = len(tg.bot_messages(ann.id))

    press = tg.press_button(ann, ANN, grid.message_id, callback(grid, "U2"))
    await tg.wait_until(lambda: answer_of(tg, press))
    await tg.wait_until(lambda: held.log)
    held.release()

    [reason] = (await world.wait_for_messages(ann.id, before + 1))[before:]
    assert reason.text == ("The model gateway refused: its quota or balance is used up. "
                           "Please tell the bot owner. The gateway said: quota_not_enough")
    assert "text" not in (answer_of(tg, press) or {"text": "unanswered"})


async def test_dalle_edit_hint_comes_as_a_message_after_the_instant_answer(
        world: TelegramWorld) -> None:
    install_images(world.gateway)
    tg = world.tg
    ann = tg.private_chat(ANN)
    tg.command(ann, ANN, "/image a cat")

    carrier, data = await button_with(world, ann.id, "✏️")

    press = tg.press_button(ann, ANN, carrier.message_id, data)

    hint = world.core.t("image.edit_hint", "en")
    await world.wait_for_messages(ann.id, done=lambda m: m[-1].text == hint)
    assert answer_of(tg, press) == {"callback_query_id": press["id"]}
