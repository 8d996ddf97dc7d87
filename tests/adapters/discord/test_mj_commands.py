"""Midjourney commands on Discord, end to end (real discord.py, fake Discord, fake
gateway): /blend with attachments and dimensions (2-5 images), /describe → "Imagine n" →
a plain imagine, /shorten → "Imagine n", /swap with its one-time consent notice, a banned
prompt and a failed task."""

from __future__ import annotations

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.discord.mj_support import (
    attachment,
    custom_id,
    image_with,
    labels,
    messages_with,
    text_with,
)
from tests.adapters.mj_shared import BLUE, GREEN, GRID, RED, color_of
from tests.fakes.gateway_mj import install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def test_blend_three_attachments_in_portrait_gives_a_grid_with_buttons(
        world: DiscordWorld) -> None:
    mj = install_midjourney(world.gateway)

    inter = await world.dc.slash("blend", {
        "dimensions": "portrait", "image1": attachment(RED), "image2": attachment(GREEN),
        "image3": attachment(BLUE)}, user_id=USER, channel_id=world.channel)

    assert await world.wait_original(inter) == "🎨 Blend…"
    [grid] = await world.dc.wait_until(messages_with(world, world.channel, image_with("U1")))
    assert sorted(labels(grid)) == sorted(GRID)
    [(_, body)] = mj.submits("blend")
    assert [color_of(u) for u in body["base64Array"]] == [RED, GREEN, BLUE]
    assert body["dimensions"] == "PORTRAIT"


async def test_blend_with_one_image_is_explained_without_a_gateway_call(world: DiscordWorld
                                                                        ) -> None:
    mj = install_midjourney(world.gateway)

    inter = await world.dc.slash("blend", {"image1": attachment(RED)}, user_id=USER,
                                 channel_id=world.channel)

    assert await world.wait_ephemeral(inter) == "Blend needs 2 to 5 images (got 1)."
    assert mj.submits("blend") == []


async def test_describe_an_attachment_then_imagine_the_fourth_prompt(world: DiscordWorld
                                                                     ) -> None:
    mj = install_midjourney(world.gateway)

    await world.dc.slash("describe", {"image": attachment(BLUE)}, user_id=USER,
                         channel_id=world.channel)

    [described] = await world.dc.wait_until(messages_with(
        world, world.channel, lambda m: "describes it as" in m.content and bool(labels(m))))
    assert described.content.splitlines()[1:] == [
        "1. `a red fox in the snow, watercolor --ar 1:1`",
        "2. `fox portrait, soft light --ar 1:1`",
        "3. `winter forest animal, ink --ar 1:1`",
        "4. `cute orange fox, studio ghibli style --ar 1:1`"]
    assert labels(described) == ["🎨 Imagine 1", "🎨 Imagine 2", "🎨 Imagine 3",
                                 "🎨 Imagine 4"]
    [(_, body)] = mj.submits("describe")
    assert color_of(body["base64"]) == BLUE

    await world.dc.click(described.id, custom_id(described, "🎨 Imagine 4"), user_id=USER)

    await world.dc.wait_until(messages_with(world, world.channel, image_with("U1")))
    [(_, imagine)] = mj.submits("imagine")
    assert imagine["prompt"] == "cute orange fox, studio ghibli style --ar 1:1"
    assert mj.submits("action") == []  # never the proxy's PicReader button


async def test_shorten_then_imagine_the_second_shorter_prompt(world: DiscordWorld) -> None:
    mj = install_midjourney(world.gateway)

    await world.dc.slash("shorten", {"prompt": "a very fluffy orange fox in deep snow"},
                         user_id=USER, channel_id=world.channel)

    [shortened] = await world.dc.wait_until(messages_with(
        world, world.channel, lambda m: "Shorter prompts" in m.content and bool(labels(m))))
    assert shortened.content.splitlines()[1:] == [
        "1. `a very fluffy orange fox`", "2. `a very fluffy orange`", "3. `a very fluffy`",
        "4. `a very`", "5. `a`"]

    await world.dc.click(shortened.id, custom_id(shortened, "🎨 Imagine 2"), user_id=USER)

    await world.dc.wait_until(messages_with(world, world.channel, image_with("U1")))
    [(_, imagine)] = mj.submits("imagine")
    assert imagine["prompt"] == "a very fluffy orange"


async def test_swap_shows_the_consent_notice_only_the_first_time(world: DiscordWorld
                                                                 ) -> None:
    mj = install_midjourney(world.gateway)

    first = await world.dc.slash("swap", {"face": attachment(RED), "target": attachment(BLUE)},
                                 user_id=USER, channel_id=world.channel)

    assert await world.wait_original(first) == (
        "ℹ️ Face swap: only use faces of people who agreed to it (shown once).\n"
        "🎨 Face swap…")
    [(path, body)] = mj.submits("swap")
    assert path == "/mj/insight-face/swap"
    assert (color_of(body["sourceBase64"]), color_of(body["targetBase64"])) == (RED, BLUE)

    second = await world.dc.slash("swap", {"face": attachment(GREEN),
                                           "target": attachment(BLUE)},
                                  user_id=USER, channel_id=world.channel)

    assert await world.wait_original(second) == "🎨 Face swap…"
    await world.dc.wait_until(messages_with(
        world, world.channel, lambda m: bool(m.attachments) and "Drawing" not in m.content,
        count=2))
    assert len(mj.submits("swap")) == 2


async def test_a_banned_prompt_names_the_word_and_the_english_prompt(world: DiscordWorld
                                                                     ) -> None:
    mj = install_midjourney(world.gateway)

    inter = await world.dc.slash("mj", {"prompt": "gore scene"}, user_id=USER,
                                 channel_id=world.channel)

    assert await world.wait_ephemeral(inter) == (
        "Midjourney refused the prompt: the word “gore” is banned. "
        "English prompt sent: gore scene")
    assert mj.polls == {}


async def test_a_failed_task_says_why_and_that_the_gateway_refunds_it(world: DiscordWorld
                                                                      ) -> None:
    mj = install_midjourney(world.gateway)
    mj.fail_next = "Your job queue is full"

    await world.dc.slash("mj", {"prompt": "a fox"}, user_id=USER, channel_id=world.channel)

    await world.dc.wait_until(messages_with(world, world.channel, text_with("failed")))
    # the progress message (a preview or a status line) no longer says "Drawing"
    await world.dc.wait_until(messages_with(world, world.channel,
                                            lambda m: m.content == "❌ Not finished"))
    assert not any("Drawing" in m.content for m in world.bot_messages(world.channel))
    [failure] = [m for m in world.bot_messages(world.channel) if "failed" in m.content]
    assert failure.content == (
        "⚠️ Midjourney failed: Your job queue is full. The gateway refunds failed tasks.")
