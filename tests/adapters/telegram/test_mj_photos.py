"""Photos into Midjourney commands on Telegram: an album captioned ``/blend`` → all its
photos blended; ``/swap`` on an album of two → face = the first; ``/mj`` with a photo →
a reference image; ``/describe`` replying to a photo. Through the inbound pipeline."""

from __future__ import annotations

import pytest

from tests.adapters.mj_shared import BLUE, GREEN, RED, color_of, png
from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_mj import install_midjourney

pytestmark = pytest.mark.usefixtures("clock")  # tests/adapters/conftest.py


async def test_blend_on_an_album_blends_its_three_photos_in_order(world: TelegramWorld
                                                                  ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    for index, color in enumerate((RED, GREEN, BLUE)):
        tg.user_sends(ann, 42, photo=png(color), caption="/blend" if index == 0 else None,
                      media_group_id="album-1")

    await tg.wait_until(lambda: mj.submits("blend") or None)
    [(_, body)] = mj.submits("blend")
    assert [color_of(u) for u in body["base64Array"]] == [RED, GREEN, BLUE]


async def test_swap_on_an_album_of_two_takes_the_first_as_the_face(world: TelegramWorld
                                                                   ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, photo=png(RED), caption="/swap", media_group_id="album-2")
    tg.user_sends(ann, 42, photo=png(BLUE), media_group_id="album-2")

    await tg.wait_until(lambda: mj.submits("swap") or None)
    [(_, body)] = mj.submits("swap")
    assert color_of(body["sourceBase64"]) == RED
    assert color_of(body["targetBase64"]) == BLUE


async def test_mj_with_a_photo_sends_it_as_a_reference_image(world: TelegramWorld) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, photo=png(GREEN), caption="/mj a pig")

    await tg.wait_until(lambda: mj.submits("imagine") or None)
    [(_, body)] = mj.submits("imagine")
    assert body["prompt"] == "a pig"
    assert [color_of(u) for u in body["base64Array"]] == [GREEN]


async def test_describe_replying_to_a_photo_describes_that_photo(world: TelegramWorld
                                                                 ) -> None:
    mj = install_midjourney(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    photo = tg.user_sends(ann, 42, photo=png(BLUE), caption="")

    tg.command(ann, 42, "/describe", reply_to=photo["message_id"])

    await tg.wait_until(lambda: mj.submits("describe") or None)
    [(_, body)] = mj.submits("describe")
    assert color_of(body["base64"]) == BLUE
