"""Photos, image documents, albums, text documents, unsupported and too-big files."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.adapters.telegram.conftest import TelegramWorld


def png(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    """A small PNG image."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def image_parts(request: dict[str, Any]) -> list[str]:
    """The image data URLs of the last user message of a chat request."""
    content = request["messages"][-1]["content"]
    if isinstance(content, str):
        return []
    return [part["image_url"]["url"] for part in content if part.get("type") == "image_url"]


def assert_token_never_sent(world: TelegramWorld) -> None:
    token = world.tg.token
    secret = token.split(":", 1)[1]
    for request in world.gateway.requests:
        assert secret.encode() not in request.raw
        assert all(secret not in value for value in request.headers.values())
        assert "/file/bot" not in request.raw.decode("utf-8", "replace")


async def test_photo_goes_to_a_vision_model_as_base64_bytes(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.command(ann, 42, "/model gpt-4-vision-preview")
    await world.wait_for_messages(ann.id, 1)
    image = png()

    tg.user_sends(ann, 42, photo=image, caption="what color is this?")
    await world.wait_final(ann.id, "echo: what color is this?")

    [request] = world.gateway.chat_requests()
    assert request["model"] == "gpt-4-vision-preview"
    [url] = image_parts(request)
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == image
    assert len(tg.file_downloads) == 1
    assert_token_never_sent(world)


async def test_photo_with_a_text_only_model_names_vision_models(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.user_sends(ann, 42, photo=png(), caption="describe")
    [reply] = await world.wait_for_messages(ann.id, 1)
    assert "gpt-3.5-turbo" in reply.text and "gpt-4-vision-preview" in reply.text
    assert not world.gateway.chat_requests()


async def test_reply_to_a_photo_with_a_question_and_an_album(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.command(ann, 42, "/model claude-3-haiku-20240229")
    await world.wait_for_messages(ann.id, 1)
    photo = tg.user_sends(ann, 42, photo=png("blue"))
    await world.wait_for_messages(ann.id, 2, done=lambda m: not m[-1].reply_markup)
    tg.user_sends(ann, 42, "and this one?", reply_to=photo["message_id"])
    await world.wait_final(ann.id, "echo: and this one?")
    assert len(image_parts(world.gateway.chat_requests()[-1])) == 1

    tg.user_sends(ann, 42, photo=png("green"), caption="compare these", media_group_id="A1")
    tg.user_sends(ann, 42, photo=png("yellow"), media_group_id="A1")
    await world.wait_final(ann.id, "echo: compare these")
    album_requests = [r for r in world.gateway.chat_requests() if len(image_parts(r)) == 2]
    assert len(album_requests) == 1
    assert_token_never_sent(world)


async def test_text_document_is_read_and_bad_files_are_explained(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    notes = ("notes.md", b"# Notes\nthe secret word is kiwi", "text/markdown")
    tg.user_sends(ann, 42, document=notes, caption="summarize")
    await world.wait_final(ann.id, "echo: summarize")
    request = str(world.gateway.chat_requests()[-1]["messages"])
    assert "the secret word is kiwi" in request and "notes.md" in request

    tg.user_sends(ann, 42, document=("tool.exe", b"MZ\x00\x01", "application/x-msdownload"))
    [*_, unsupported] = await world.wait_for_messages(ann.id, 2)
    assert "tool.exe" in unsupported.text

    tg.user_sends(ann, 42, document=("big.txt", b"tiny", "text/plain"),
                  file_size=25 * 1024 * 1024)
    [*_, too_big] = await world.wait_for_messages(ann.id, 3)
    assert "20 MB" in too_big.text
    assert len(world.gateway.chat_requests()) == 1
