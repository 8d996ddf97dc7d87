"""Attachments are references: checked before any download, decoded off the event loop,
downloaded once (a follow-up question uses the stored text)."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest
from PIL import Image

from tests.adapters.inbound_cases import decoding_threads
from tests.adapters.telegram.conftest import TelegramWorld

MB = 1024 * 1024


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, format="PNG")
    return out.getvalue()


def downloads(world: TelegramWorld) -> tuple[int, int]:
    """(getFile calls, file downloads) seen by the fake Bot API."""
    return len(world.tg.calls_of("getFile")), len(world.tg.file_downloads)


async def use_vision_model(world: TelegramWorld, chat: Any) -> None:
    world.tg.command(chat, 42, "/model gpt-4-vision-preview")
    await world.wait_for_messages(chat.id, 1)


async def test_an_oversized_photo_is_refused_before_any_download(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    await use_vision_model(world, ann)

    tg.user_sends(ann, 42, photo=png(), caption="look", file_size=11 * MB)

    [_, refusal] = await world.wait_for_messages(ann.id, 2)
    assert refusal.text == "That image is too large (at most 10 MB)."
    assert downloads(world) == (0, 0)
    assert world.gateway.chat_requests() == []


async def test_an_image_for_a_text_only_model_is_refused_before_any_download(
        world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh")

    tg.user_sends(li, 43, document=("cat.png", png(), "image/png"), caption="这是什么?")

    [refusal] = await world.wait_for_messages(li.id, 1)
    assert refusal.text.startswith("模型 gpt-3.5-turbo 无法识别图片")
    assert "gpt-4-vision-preview" in refusal.text  # a vision model is suggested
    assert downloads(world) == (0, 0)


async def test_an_oversized_document_is_refused_before_any_download(world: TelegramWorld
                                                                    ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, document=("log.txt", b"x" * 100, "text/plain"),
                  file_size=3 * MB)  # MAX_DOCUMENT_BYTES is 2 MB

    [refusal] = await world.wait_for_messages(ann.id, 1)
    assert refusal.text == "That file is too large (at most 2 MB)."
    assert downloads(world) == (0, 0)


async def test_a_big_chinese_document_is_decoded_off_the_event_loop(
        world: TelegramWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    threads = decoding_threads(world.core, monkeypatch)
    text = ("中文文本测试。" * 40_000).encode()  # 840 KB of UTF-8

    tg.user_sends(ann, 42, document=("长文.txt", text, "text/plain"), caption="总结")

    await world.wait_final(ann.id, "echo: 总结")
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_follow_up_question_uses_the_stored_text_without_downloading_again(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    sent = tg.user_sends(ann, 42, document=("notes.md", b"the secret word is kiwi",
                                            "text/markdown"), caption="read this")
    await world.wait_final(ann.id, "echo: read this")

    tg.user_sends(ann, 42, "what was the secret word?")
    await world.wait_final(ann.id, "echo: what was the secret word?")

    assert downloads(world) == (1, 1)
    follow_up = world.gateway.chat_requests()[-1]["messages"]
    assert "the secret word is kiwi" in str(follow_up[:-1])  # from the history
    conversation = await world.core.store.current_conversation("telegram:42")
    stored = await world.core.store.load_recent_messages(conversation, limit=10)
    [with_media] = [m for m in stored if m.media]
    document = sent["document"]
    assert with_media.media == [{
        "kind": "document", "name": "notes.md", "chars": 23, "truncated": False,
        "source": {"platform": "telegram", "file_id": document["file_id"],
                   "name": "notes.md", "mime": "text/markdown",
                   "size": document["file_size"]}}]
    assert tg.token.split(":", 1)[1] not in json.dumps(with_media.media)


async def test_a_small_png_with_too_many_pixels_is_refused_for_its_pixels(
        world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, language_code="zh")
    tg.command(li, 43, "/model gpt-4-vision-preview")
    await world.wait_for_messages(li.id, 1)
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")  # ~12 KB, 100 M pixels

    tg.user_sends(li, 43, document=("huge.png", out.getvalue(), "image/png"), caption="看看")

    [_, refusal] = await world.wait_for_messages(li.id, 2)
    assert refusal.text == ("图片像素太多(10000×10000 = 100,000,000 像素;最多 89,478,485 像素,"
                            "这是 Pillow 图像库的解压炸弹上限,我们沿用它)。")
    assert world.gateway.chat_requests() == []
