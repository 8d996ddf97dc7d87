"""Image commands on Discord: ``/image`` → the pictures as attachments; ``/edit`` with
its attachment option → the image reaches the edit (checked and loaded through the
inbound pipeline's ``load_images``); a non-image attachment is refused."""

from __future__ import annotations

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.discord_models import FakeMessage
from tests.fakes.gateway_images import EDITS, install_images, multipart_form, png


def attachments(messages: list[FakeMessage]) -> int:
    return sum(len(m.attachments) for m in messages)


async def test_image_command_posts_two_pictures_as_attachments(world: DiscordWorld) -> None:
    images = install_images(world.gateway)

    await world.dc.slash("image", {"prompt": "a cat", "model": "dall-e-2", "n": 2},
                         user_id=USER, channel_id=world.channel)

    await world.dc.wait_until(lambda: attachments(world.bot_messages(world.channel)) >= 2)
    [request] = images.image_requests()
    assert request.json["n"] == 2 and request.json["model"] == "dall-e-2"


async def test_edit_with_an_attachment_option_edits_that_image(world: DiscordWorld) -> None:
    images = install_images(world.gateway)

    await world.dc.slash("edit", {"prompt": "make it blue"}, user_id=USER,
                         channel_id=world.channel,
                         attachments={"image": ("c.png", png((0, 0, 255), 64, "RGBA"),
                                                "image/png")})

    await world.dc.wait_until(lambda: attachments(world.bot_messages(world.channel)) >= 1)
    [request] = images.image_requests()
    assert request.path == EDITS
    assert multipart_form(request)["prompt"].text == "make it blue"


async def test_edit_with_a_text_file_is_refused_before_any_fetch(world: DiscordWorld) -> None:
    images = install_images(world.gateway)

    inter = await world.dc.slash("edit", {"prompt": "make it blue"}, user_id=USER,
                                 channel_id=world.channel,
                                 attachments={"image": ("notes.txt", b"hi", "text/plain")})

    assert "notes.txt" in await world.wait_ephemeral(inter)
    assert images.image_requests() == [] and world.dc.cdn_fetches == []
