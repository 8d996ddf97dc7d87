"""Photos, image documents, albums, text documents, unsupported and too-big files."""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import Any

import pytest
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
    assert too_big.text == "That file is too large (at most 2 MB)."  # MAX_DOCUMENT_BYTES
    assert len(world.gateway.chat_requests()) == 1
    assert len(tg.file_downloads) == 1 and len(tg.calls_of("getFile")) == 1  # notes.md only


@pytest.mark.parametrize("settings_overrides", [{"max_document_bytes": 30 * 1024 * 1024}])
async def test_a_file_above_the_bot_api_limit_is_refused_without_getfile(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.user_sends(ann, 42, document=("big.txt", b"tiny", "text/plain"),
                  file_size=25 * 1024 * 1024)  # our limit allows it, Telegram's does not
    [too_big] = await world.wait_for_messages(ann.id, 1)
    assert "20 MB" in too_big.text
    assert tg.calls_of("getFile") == [] and tg.file_downloads == []


async def test_failed_download_is_explained_and_the_token_never_logged(
        world: TelegramWorld, caplog: pytest.LogCaptureFixture) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh-hans")
    tg.command(li, 43, "/model gpt-4-vision-preview")  # checks pass: the download runs
    await world.wait_for_messages(li.id, 1)
    caplog.set_level(logging.DEBUG)
    sent = tg.user_sends(li, 43, photo=png(), caption="这是什么?")
    stored = tg.files[sent["photo"][-1]["file_id"]]
    del tg.files_by_path[stored.file_path]  # getFile works, the download answers 404

    [_, reply] = await world.wait_for_messages(li.id, 2)
    assert reply.text == world.core.t("telegram.download_failed", "zh")
    assert world.gateway.chat_requests() == []
    assert tg.token.split(":", 1)[1] not in caplog.text
    assert "/file/bot" not in caplog.text


async def test_images_are_decoded_off_the_event_loop(world: TelegramWorld,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    media = world.core.media
    prepare = media.prepare_image
    threads: list[threading.Thread] = []

    def spy(data: bytes, mime: str = "image/jpeg") -> Any:  # observes, changes nothing
        threads.append(threading.current_thread())
        return prepare(data, mime)

    monkeypatch.setattr(media, "prepare_image", spy)
    tg.command(ann, 42, "/model gpt-4-vision-preview")
    await world.wait_for_messages(ann.id, 1)
    tg.user_sends(ann, 42, photo=png(size=(3000, 2000)), caption="big one")
    tg.user_sends(ann, 42, document=("pic.png", png("blue"), "image/png"), caption="and this")
    await world.wait_final(ann.id, "and this")

    assert len(threads) == 2
    assert all(thread is not threading.main_thread() for thread in threads)
