"""Image commands with photos: ``/image`` → an album + buttons; ``/edit`` as a photo's
caption (or replying to a photo) → the edited photo; the photo reaches the command
through the inbound pipeline (``Inbound.attachments`` → the command's image args)."""

from __future__ import annotations

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.gateway_images import EDITS, install_images, multipart_form, png
from tests.fakes.telegram_models import SentMessage


def has_photo(messages: list[SentMessage]) -> bool:
    return any(m.photo for m in messages)


async def test_image_command_sends_an_album_of_two_and_a_buttons_message(
        world: TelegramWorld) -> None:
    images = install_images(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.command(ann, 42, "/image a cat dall-e-2 n=2")

    def buttons(messages: list[SentMessage]) -> bool:
        return any(m.reply_markup for m in messages if not m.photo)

    # the progress message is deleted after the result is sent: wait for the end state
    messages = await world.wait_for_messages(
        ann.id, done=lambda ms: len(ms) == 4 and buttons(ms))  # started, 2 photos, buttons
    photos = [m for m in messages if m.photo]
    assert len(photos) == 2
    [request] = images.image_requests()
    assert request.json["n"] == 2 and request.json["model"] == "dall-e-2"


async def test_edit_as_a_photo_caption_edits_that_photo(world: TelegramWorld) -> None:
    images = install_images(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, photo=png((0, 0, 255), 64, "RGBA"), caption="/edit make it blue")

    await world.wait_for_messages(ann.id, done=has_photo)
    [request] = images.image_requests()
    assert request.path == EDITS
    form = multipart_form(request)
    assert form["prompt"].text == "make it blue"
    assert "image" in form


async def test_edit_replying_to_a_photo_edits_the_replied_photo(world: TelegramWorld) -> None:
    images = install_images(world.gateway)
    tg = world.tg
    ann = tg.private_chat(42)
    photo = tg.user_sends(ann, 42, photo=png((0, 255, 0), 64, "RGBA"), caption="")

    tg.user_sends(ann, 42, text="/edit make it blue", reply_to=photo["message_id"])

    await world.wait_for_messages(ann.id, done=has_photo)
    [request] = images.image_requests()
    assert request.path == EDITS
