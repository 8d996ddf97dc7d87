"""Button presses on Discord while the work behind them is slow: each press is
acknowledged at once (a deferred update, Discord wants one within 3 s) while the gateway
holds the submit; a second press of U2 meanwhile (a double click, another member) starts
no second task and its presser reads "⏳ Already working on it." (ephemeral); after the
result is back, U2 runs again. The same for DALL·E's 🔁. The gateway's submits wait on a
barrier (``tests.adapters.held.Held``); the Midjourney poller runs on a virtual clock."""

from __future__ import annotations

import pytest

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.discord.mj_support import custom_id, image_with, labels, messages_with
from tests.adapters.held import Held
from tests.fakes.discord_models import FakeMessage
from tests.fakes.gateway_images import GENERATIONS, install_images
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py

BUSY = "⏳ Already working on it."
DEFERRED_UPDATE = 6  # interaction callback type DEFERRED_UPDATE_MESSAGE


def upscales(world: DiscordWorld) -> list[FakeMessage]:
    return [m for m in world.bot_messages(world.channel)
            if m.attachments and "🔍 Custom Zoom" in labels(m)]


async def test_a_double_click_on_u2_submits_once_and_the_second_click_hears_why(
        world: DiscordWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    dc = world.dc
    await dc.slash("mj", {"prompt": "a pig"}, user_id=USER, channel_id=world.channel)
    [grid] = await dc.wait_until(messages_with(world, world.channel, image_with("U2")))
    held = Held(world.gateway, "POST", "/mj/submit/action", mj._action)
    u2 = custom_id(grid, "U2")

    first = await dc.click(grid.id, u2, user_id=USER)
    await dc.wait_until(lambda: held.log)  # the submit is held by the gateway
    assert first.callback_type == DEFERRED_UPDATE  # acknowledged meanwhile
    second = await dc.click(grid.id, u2, user_id=USER)

    assert await world.wait_ephemeral(second) == BUSY
    assert held.steps() == ["sent"]
    held.release()

    await dc.wait_until(lambda: upscales(world) or None, timeout=20)
    assert len(mj.submits("action")) == 1  # one paid task
    assert not [r for r in first.responses if r.kind == "followup" and r.content == BUSY]

    third = await dc.click(grid.id, u2, user_id=USER)  # the result is back: runs again
    await dc.wait_until(lambda: len(upscales(world)) == 2 or None, timeout=20)
    assert third.callback_type == DEFERRED_UPDATE
    assert len(mj.submits("action")) == 2


async def test_a_second_press_of_dalle_again_while_drawing_draws_nothing_more(
        world: DiscordWorld) -> None:
    images = install_images(world.gateway)
    dc = world.dc
    await dc.slash("image", {"prompt": "a cat"}, user_id=USER, channel_id=world.channel)

    def again() -> FakeMessage | None:
        return next((m for m in world.bot_messages(world.channel)
                     if any("🔁" in label for label in labels(m))), None)

    carrier = await dc.wait_until(again)
    again_id = custom_id(carrier, next(x for x in labels(carrier) if "🔁" in x))
    held = Held(world.gateway, "POST", GENERATIONS, images.generations)
    photos = len([m for m in world.bot_messages(world.channel) if m.attachments])

    await dc.click(carrier.id, again_id, user_id=USER)
    await dc.wait_until(lambda: held.log)
    second = await dc.click(carrier.id, again_id, user_id=USER)
    assert await world.wait_ephemeral(second) == BUSY
    held.release()

    await dc.wait_until(lambda: len([m for m in world.bot_messages(world.channel)
                                     if m.attachments]) > photos or None)
    assert len(images.image_requests()) == 2  # /image, then one 🔁
