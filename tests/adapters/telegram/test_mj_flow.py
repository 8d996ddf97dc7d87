"""Midjourney on Telegram, end to end: /mj → progress edited in place → the grid photo
with U1..U4/🔄/V1..V4 → U2 → the upscale with its own buttons → Custom Zoom → a
ForceReply request → the user's reply → the zoomed grid. The poller runs on a virtual
clock (``tests/core/midjourney``'s ``VirtualClock``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.adapters.mj_shared import mask_of
from tests.adapters.telegram.conftest import TelegramWorld
from tests.adapters.telegram.mj_support import (
    answered_with_white_mask,
    callback,
    labels,
    region_picker,
    region_prompt,
    upscaled,
)
from tests.fakes.gateway_mj import FakeMidjourney, install_midjourney
from tests.fakes.telegram_models import SentMessage

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


def photos_with(text: str) -> Any:
    def done(messages: list[SentMessage]) -> bool:
        return any(m.photo and any(text in b for row in labels(m) for b in row)
                   for m in messages)
    return done


async def test_mj_grid_upscale_and_custom_zoom_through_a_force_reply(
        world: TelegramWorld) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.command(ann, 42, "/mj a pig")

    messages = await world.wait_for_messages(ann.id, done=photos_with("U2"))
    grid = next(m for m in messages if m.photo)
    assert labels(grid)[0][:4] == ["U1", "U2", "U3", "U4"]
    assert labels(grid)[1][:4] == ["V1", "V2", "V3", "V4"]
    assert "🔄" in labels(grid)[0]
    assert grid.edits >= 1 or any(m.edits for m in messages)  # progress updated in place

    tg.press_button(ann, 42, grid.message_id, callback(grid, "U2"))

    messages = await world.wait_for_messages(ann.id, done=photos_with("Custom Zoom"))
    upscaled = next(m for m in messages
                    if m.photo and any("Custom Zoom" in b for r in labels(m) for b in r))
    zoom = next(b for r in labels(upscaled) for b in r if "Custom Zoom" in b)

    mark = world.last_message_id(ann.id)
    tg.press_button(ann, 42, upscaled.message_id, callback(upscaled, zoom))

    request = await world.wait_for_prompt(ann.id, mark)
    assert request.text.startswith("Custom Zoom: send the prompt with --zoom 1 to 2")
    assert request.reply_markup is not None and request.reply_markup["force_reply"] is True
    assert len(request.reply_markup.get("input_field_placeholder", "")) <= 64

    tg.user_sends(ann, 42, "--zoom 1.5 --ar 1:1 a pig", reply_to=request.message_id)

    def zoomed(messages: list[SentMessage]) -> bool:
        return sum(1 for m in messages if m.photo and "U2" in str(labels(m))) >= 2

    await world.wait_for_messages(ann.id, done=zoomed)
    [(_, body)] = mj.submits("modal")
    assert body["prompt"] == "--zoom 1.5 --ar 1:1 a pig"


async def test_vary_region_answer_with_a_photo_sends_it_as_the_mask(world: TelegramWorld
                                                                    ) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    request = await region_prompt(world, ann, await region_picker(world, ann))
    assert request.reply_markup is not None and request.reply_markup["force_reply"] is True

    body = await answered_with_white_mask(world, mj, ann, "a hat", request.message_id)

    mask = mask_of(body)
    assert mask.size == (32, 32) and mask.getpixel((30, 30)) == 255  # the user's mask


async def test_in_a_group_the_prompt_request_mentions_the_presser(world: TelegramWorld
                                                                  ) -> None:
    mj: FakeMidjourney = install_midjourney(world.gateway)
    tg = world.tg
    group = tg.group_chat()
    photo = await upscaled(world, group)
    mark = world.last_message_id(group.id)

    tg.press_button(group, 42, photo.message_id, callback(photo, "🔍 Custom Zoom"))

    request = await world.wait_for_prompt(group.id, mark)
    assert "Custom Zoom: send the prompt" in request.text
    [mention] = request.entities
    assert mention["type"] == "text_mention" and mention["user"]["id"] == 42
    assert mention["offset"] == 0
    tg.user_sends(group, 42, "a pig --zoom 1.5", reply_to=request.message_id)
    await tg.wait_until(lambda: mj.submits("modal") or None)
    assert mj.submits("modal")[0][1]["prompt"] == "a pig --zoom 1.5"
