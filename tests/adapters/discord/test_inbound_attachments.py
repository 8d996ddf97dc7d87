"""Attachments are references: checked before any CDN fetch, decoded off the event loop,
fetched once (a follow-up question uses the stored text)."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.adapters.inbound_cases import decoding_threads

MB = 1024 * 1024


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, format="PNG")
    return out.getvalue()


async def use_vision_model(world: DiscordWorld) -> None:
    inter = await world.dc.slash("model", {"name": "gpt-4-vision-preview"}, user_id=USER)
    await world.wait_ephemeral(inter)


async def test_an_oversized_image_is_refused_before_any_fetch(world: DiscordWorld) -> None:
    await use_vision_model(world)
    dm = world.dc.dm_channel_id(USER)
    big = png() + b"\0" * (10 * MB)  # Discord reports the size in the attachment object

    await world.dc.user_sends(dm, USER, "look", attachments=[("big.png", big, "image/png")])

    (refusal,) = await world.wait_final(dm, "too large")
    assert refusal.content == "That image is too large (at most 10 MB)."
    assert world.dc.cdn_fetches == [] and world.chat_bodies() == []


async def test_an_image_for_a_text_only_model_is_refused_before_any_fetch(
        world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)

    await world.dc.user_sends(dm, USER, "what is this?",
                              attachments=[("a.png", png(), "image/png")])

    (refusal,) = await world.wait_final(dm, "cannot see images")
    assert refusal.content.startswith("The model gpt-3.5-turbo cannot see images.")
    assert "gpt-4-vision-preview" in refusal.content  # a vision model is suggested
    assert world.dc.cdn_fetches == []


async def test_slash_chat_image_for_a_text_only_model_is_refused_before_any_fetch(
        world: DiscordWorld) -> None:
    inter = await world.dc.slash("chat", {"prompt": "describe"}, user_id=USER,
                                 attachments={"image": ("c.png", png(), "image/png")})
    assert "cannot see images" in await world.wait_ephemeral(inter)
    assert world.dc.cdn_fetches == []


async def test_an_oversized_document_is_refused_before_any_fetch(world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)

    await world.dc.user_sends(dm, USER, "read", attachments=[
        ("log.txt", b"x" * (3 * MB), "text/plain")])  # MAX_DOCUMENT_BYTES is 2 MB

    (refusal,) = await world.wait_final(dm, "too large")
    assert refusal.content == "That file is too large (at most 2 MB)."
    assert world.dc.cdn_fetches == []


async def test_a_big_chinese_document_is_decoded_off_the_event_loop(
        world: DiscordWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    threads = decoding_threads(world.core, monkeypatch)
    dm = world.dc.dm_channel_id(USER)
    text = ("中文文本测试。" * 40_000).encode()  # 840 KB of UTF-8

    await world.dc.user_sends(dm, USER, "总结", attachments=[("长文.txt", text, "text/plain")])

    await world.wait_final(dm, "echo: 总结")
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_follow_up_question_uses_the_stored_text_without_fetching_again(
        world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    sent = await world.dc.user_sends(dm, USER, "read this", attachments=[
        ("notes.md", b"the secret word is kiwi", "text/markdown")])
    await world.wait_final(dm, "echo: read this")

    await world.dc.user_sends(dm, USER, "what was the secret word?")
    await world.wait_final(dm, "echo: what was the secret word?")

    [attachment] = sent.attachments
    assert world.dc.cdn_fetches == [int(attachment["id"])]  # once, for the first turn
    follow_up = world.chat_bodies()[-1]["messages"]
    assert "the secret word is kiwi" in str(follow_up[:-1])  # from the history
    conversation = await world.core.store.current_conversation(f"discord:{dm}")
    stored = await world.core.store.load_recent_messages(conversation, limit=10)
    [with_media] = [m for m in stored if m.media]
    assert with_media.media == [{
        "kind": "document", "name": "notes.md", "chars": 23, "truncated": False,
        "source": {"platform": "discord", "file_id": attachment["id"],
                   "url": attachment["url"], "name": "notes.md", "mime": "text/markdown",
                   "size": 23}}]
    assert world.dc.token not in str(with_media.media)
