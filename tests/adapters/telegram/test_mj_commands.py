"""Midjourney commands on Telegram, end to end (real aiogram, fake Bot API, fake gateway):
/blend on an album (2-5 photos, dimensions), /describe → "Imagine n" → a plain imagine,
/shorten → "Imagine n", /swap with its one-time consent notice, a banned prompt and a
failed task."""

from __future__ import annotations

import pytest

from tests.adapters.mj_shared import BLUE, GREEN, GRID, RED, WHITE, color_of, png
from tests.adapters.telegram.conftest import TelegramWorld
from tests.adapters.telegram.mj_support import (
    callback,
    finished_photos,
    flat,
    last_with,
    photo_with,
    text_with,
)
from tests.fakes.gateway_mj import install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def test_blend_an_album_of_three_in_landscape_gives_a_grid_with_buttons(
        world: TelegramWorld) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    for index, color in enumerate((RED, GREEN, BLUE)):
        tg.user_sends(ann, 42, photo=png(color), media_group_id="album-b",
                      caption="/blend landscape" if index == 0 else None)

    messages = await world.wait_for_messages(ann.id, done=photo_with("U1"))
    [(_, body)] = mj.submits("blend")
    assert [color_of(u) for u in body["base64Array"]] == [RED, GREEN, BLUE]
    assert body["dimensions"] == "LANDSCAPE"
    [grid] = [m for m in messages if m.photo]
    assert sorted(flat(grid)) == sorted(GRID)
    assert any(m.text == "🎨 Blend…" for m in messages)


@pytest.mark.parametrize("count", [1, 6])
async def test_blend_with_too_few_or_too_many_photos_is_explained(
        world: TelegramWorld, count: int) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    for index in range(count):
        tg.user_sends(ann, 42, photo=png((index * 40, 100, 100)), media_group_id="album-c",
                      caption="/blend" if index == 0 else None)

    messages = await world.wait_for_messages(ann.id, done=text_with("Blend needs"))
    assert messages[-1].text == f"Blend needs 2 to 5 images (got {count})."
    assert mj.submits("blend") == []


async def test_blend_in_chinese_explains_the_count_in_chinese(world: TelegramWorld) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(43)
    tg.user(43, language_code="zh-hans")

    tg.user_sends(ann, 43, photo=png(RED), caption="/blend", language_code="zh-hans")

    messages = await world.wait_for_messages(ann.id)
    assert messages[-1].text == "混图需要 2 到 5 张图片(收到 1 张)。"
    assert mj.submits("blend") == []


async def test_describe_a_photo_then_imagine_the_second_prompt(world: TelegramWorld) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, photo=png(BLUE), caption="/describe")

    messages = await world.wait_for_messages(ann.id, done=text_with("describes it as"))
    described = last_with(messages, "describes it as")
    assert described.text.splitlines() == [
        "🔎 Midjourney describes it as:",
        "1. a red fox in the snow, watercolor --ar 1:1",
        "2. fox portrait, soft light --ar 1:1",
        "3. winter forest animal, ink --ar 1:1",
        "4. cute orange fox, studio ghibli style --ar 1:1"]
    assert flat(described) == ["🎨 Imagine 1", "🎨 Imagine 2", "🎨 Imagine 3",
                               "🎨 Imagine 4"]
    [(_, body)] = mj.submits("describe")
    assert color_of(body["base64"]) == BLUE

    tg.press_button(ann, 42, described.message_id, callback(described, "🎨 Imagine 2"))

    await world.wait_for_messages(ann.id, done=photo_with("U1"))
    [(_, imagine)] = mj.submits("imagine")
    assert imagine["prompt"] == "fox portrait, soft light --ar 1:1"
    assert mj.submits("action") == []  # never the proxy's PicReader button


async def test_shorten_then_imagine_the_third_shorter_prompt(world: TelegramWorld) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.command(ann, 42, "/shorten a very fluffy orange fox in deep snow")

    messages = await world.wait_for_messages(ann.id, done=text_with("Shorter prompts"))
    shortened = last_with(messages, "Shorter prompts")
    assert shortened.text.splitlines()[1:] == [
        "1. a very fluffy orange fox", "2. a very fluffy orange", "3. a very fluffy",
        "4. a very", "5. a"]
    assert len(flat(shortened)) == 5
    [(_, body)] = mj.submits("shorten")
    assert body["prompt"] == "a very fluffy orange fox in deep snow"

    tg.press_button(ann, 42, shortened.message_id, callback(shortened, "🎨 Imagine 3"))

    await world.wait_for_messages(ann.id, done=photo_with("U1"))
    [(_, imagine)] = mj.submits("imagine")
    assert imagine["prompt"] == "a very fluffy"


async def test_swap_shows_the_consent_notice_only_the_first_time(world: TelegramWorld
                                                                 ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, photo=png(RED), caption="/swap", media_group_id="swap-1")
    tg.user_sends(ann, 42, photo=png(BLUE), media_group_id="swap-1")

    messages = await world.wait_for_messages(ann.id, done=finished_photos())
    [(path, body)] = mj.submits("swap")
    assert path == "/mj/insight-face/swap"
    assert (color_of(body["sourceBase64"]), color_of(body["targetBase64"])) == (RED, BLUE)
    first = [m.text for m in messages if "Face swap" in m.text]
    assert first == ["ℹ️ Face swap: only use faces of people who agreed to it "
                     "(shown once).\n🎨 Face swap…"]

    mark = world.last_message_id(ann.id)
    tg.user_sends(ann, 42, photo=png(GREEN), caption="/swap", media_group_id="swap-2")
    tg.user_sends(ann, 42, photo=png(WHITE), media_group_id="swap-2")

    messages = await world.wait_for_messages(ann.id, done=finished_photos(2))
    assert [m.text for m in messages
            if m.message_id > mark and "Face swap" in m.text] == ["🎨 Face swap…"]
    assert len(mj.submits("swap")) == 2


async def test_a_banned_prompt_names_the_word_and_the_english_prompt(world: TelegramWorld
                                                                     ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.command(ann, 42, "/mj gore scene")

    messages = await world.wait_for_messages(ann.id)
    assert messages[-1].text == ("Midjourney refused the prompt: the word “gore” is banned. "
                                 "English prompt sent: gore scene")
    assert mj.polls == {}  # nothing to follow


async def test_a_failed_task_says_why_and_that_the_gateway_refunds_it(world: TelegramWorld
                                                                      ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    mj.fail_next = "Your job queue is full"

    tg.command(ann, 42, "/mj a fox")

    messages = await world.wait_for_messages(ann.id, done=text_with("failed"))
    assert last_with(messages, "failed").text == (
        "⚠️ Midjourney failed: Your job queue is full. The gateway refunds failed tasks.")
    [preview] = [m for m in messages if m.photo]  # the preview no longer says "Drawing"
    await tg.wait_until(lambda: preview.text == "❌ Not finished")


async def test_mj_on_a_gateway_without_midjourney_routes_says_it_is_not_available(
        world: TelegramWorld) -> None:
    """No ``install_midjourney``: every /mj route answers 404 ``no route``."""
    tg = world.tg
    ann, bo = tg.private_chat(42), tg.private_chat(43)
    tg.user(43, language_code="zh-hans")

    tg.user_sends(ann, 42, text="/mj a red fox")
    tg.user_sends(bo, 43, text="/shorten a very long prompt", language_code="zh-hans")

    messages = await world.wait_for_messages(ann.id)
    assert messages[-1].text == "Midjourney is not available on this gateway."
    messages = await world.wait_for_messages(bo.id)
    assert messages[-1].text == "这个网关不提供 Midjourney。"
