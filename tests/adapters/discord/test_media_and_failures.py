"""Attachments, long answers, failures and the Cancel button."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from PIL import Image

from adapters.discord.render import open_fence
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.gateway_replies import ServerError, StreamError, Text

OTHER = 5151


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_image_goes_to_a_vision_model_and_is_refused_by_others(
        world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "what is this?",
                              attachments=[("a.png", png(), "image/png")])
    (refusal,) = await world.wait_final(dm, "cannot see images")
    assert "gpt-3.5-turbo" in refusal.content and "gpt-4-vision-preview" in refusal.content
    assert world.chat_bodies() == []

    inter = await world.dc.slash("model", {"name": "gpt-4-vision-preview"}, user_id=USER,
                                 channel_id=world.channel)
    await world.wait_ephemeral(inter)
    await world.dc.user_sends(world.channel, USER, "and now?", mention_bot=True,
                              attachments=[("b.png", png(), "image/png")])
    await world.wait_final(world.channel, "echo: and now?")
    content = world.chat_bodies()[-1]["messages"][-1]["content"]
    image = next(part for part in content if part["type"] == "image_url")
    assert image["image_url"]["url"].startswith("data:image/png;base64,")


async def test_slash_chat_image_option(world: DiscordWorld) -> None:
    inter = await world.dc.slash("chat", {"prompt": "describe", "model": "gpt-4-vision-preview"},
                                 user_id=USER, attachments={"image": ("c.png", png(), "image/png")})
    thread = (await world.dc.wait_until(lambda: world.dc.threads_created))[0]
    await world.wait_final(thread.id, "echo: describe")
    body = world.chat_bodies()[-1]
    assert body["model"] == "gpt-4-vision-preview"
    assert any(p["type"] == "image_url" for p in body["messages"][-1]["content"])
    assert inter.callback is not None and inter.callback.type == 5


async def test_text_files_are_read_and_other_files_refused(world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "summarize", attachments=[
        ("notes.md", b"# Notes\nthe secret is 42\n", "text/markdown")])
    await world.wait_final(dm, "echo:")
    assert "the secret is 42" in str(world.chat_bodies()[-1]["messages"][-1]["content"])

    await world.dc.user_sends(dm, USER, "and this", attachments=[
        ("archive.zip", b"PK\x03\x04zip", "application/zip")])
    await world.wait_final(dm, "archive.zip")
    assert len(world.chat_bodies()) == 1


async def test_long_answer_is_split_with_code_fences_intact(world: DiscordWorld) -> None:
    code = "\n".join(f"    print('line {i:03d} of a long listing')" for i in range(120))
    answer = f"Here is the code:\n\n```python\ndef main():\n{code}\n```\n\nThat's all."
    world.gateway.script(Text(answer, chunk_size=400))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "write code")
    messages = await world.wait_final(dm, "That's all.")
    assert len(messages) >= 3
    assert all(len(m.content) <= 2000 and open_fence(m.content) is None for m in messages)
    assert all(m.content.startswith("```python\n") for m in messages[1:])
    joined = "\n".join(m.content for m in messages)
    assert re.sub(r"```python\n|```|\s", "", joined) == re.sub(r"```python\n|```|\s", "", answer)


async def test_gateway_failure_is_an_ephemeral_localized_error(world: DiscordWorld) -> None:
    thread = await world.dc.user_creates_thread(world.channel, USER, "t")
    world.gateway.script(ServerError(500))
    inter = await world.dc.slash("chat", {"prompt": "hello?"}, user_id=USER, channel_id=thread)
    assert "unavailable" in await world.wait_ephemeral(inter)
    await world.dc.wait_until(lambda: inter.original is None or inter.original.deleted)
    assert world.bot_messages(thread) == []

    world.gateway.script(ServerError(503))
    zh = await world.dc.slash("chat", {"prompt": "你好"}, user_id=USER, locale="zh-CN")
    assert "模型服务暂时不可用" in await world.wait_ephemeral(zh)

    world.gateway.script(ServerError(500))  # messages can't be ephemeral: a public reply,
    await world.dc.user_sends(world.channel, USER, "mention fails", mention_bot=True)
    await world.wait_final(world.channel, "模型服务")  # in the language USER last used
    world.gateway.script(ServerError(500))
    await world.dc.user_sends(world.channel, OTHER, "mine fails", mention_bot=True)
    await world.wait_final(world.channel, "unavailable")


async def test_cancel_button_stops_the_stream(world: DiscordWorld) -> None:
    long = " ".join(f"token{i}" for i in range(400))
    world.gateway.script(Text(long, chunk_size=8, delay=0.02))
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, "go on forever")
    live = await world.dc.wait_until(
        lambda: [m for m in world.bot_messages(dm) if m.components])
    button = live[0].components[0]["components"][0]
    assert button["label"] == "Stop"

    stranger = await world.dc.click(live[0].id, button["custom_id"], user_id=OTHER)
    assert "Only the person" in await world.wait_ephemeral(stranger)
    await world.dc.click(live[0].id, button["custom_id"], user_id=USER)
    (final,) = await world.wait_final(dm, "Stopped.")
    assert final.content.startswith("token0") and "token399" not in final.content
    assert not final.components


async def test_a_dm_with_only_a_sticker_or_an_unreadable_file_gets_one_notice_and_no_turn(
        world: DiscordWorld) -> None:
    dm = world.dc.dm_channel_id(USER)
    await world.dc.user_sends(dm, USER, sticker="wave")
    notice = world.core.t("error.unsupported_message", "en")
    await world.wait_final(dm, notice)
    await world.dc.user_sends(dm, USER, attachments=[
        ("voice-message.ogg", b"OggS\x00voice", "audio/ogg")])
    await world.wait_final(dm, "voice-message.ogg")
    await world.dc.user_sends(dm, USER, attachments=[("setup.exe", b"MZ\x90\x00", "")])
    await world.wait_final(dm, "setup.exe")
    await world.dc.user_sends(dm, USER, "probe")
    messages = await world.wait_final(dm, "echo: probe")
    bot_texts = [m.content for m in messages]
    assert bot_texts[0] == notice and "voice-message.ogg" in bot_texts[1]
    assert "setup.exe" in bot_texts[2]
    assert [b["messages"][-1]["content"] for b in world.chat_bodies()] == ["probe"]


async def test_an_answer_cut_mid_stream_shows_the_warning_icon_like_telegram(
        world: DiscordWorld) -> None:
    """A gateway error mid-stream: the partial answer stays, the notice is "⚠️ <text>"
    (the same core text and icon as Telegram's), in English and Chinese."""
    dm = world.dc.dm_channel_id(USER)
    world.gateway.script(StreamError(text="partial answer here", after_chunks=3, chunk_size=4))
    await world.dc.user_sends(dm, USER, "go")
    notice = "⚠️ " + world.core.t("error.stream_cut", "en")
    messages = await world.wait_final(dm, notice)
    assert messages[0].content.startswith("partial answ")
    assert messages[-1].content == notice

    world.gateway.script(StreamError(text="部分回答在这里", after_chunks=2, chunk_size=2))
    inter = await world.dc.slash("chat", {"prompt": "继续"}, user_id=USER, locale="zh-CN")
    assert await world.wait_ephemeral(inter) == "⚠️ " + world.core.t("error.stream_cut", "zh")


def _first_call_with(world: DiscordWorld, predicate: Callable[[str], bool]) -> int:
    """Index of the first successful REST call whose body content satisfies ``predicate``."""
    return next(i for i, call in enumerate(world.dc.calls) if call.status < 300
                and isinstance(call.body, dict) and predicate(str(call.body.get("content"))))


@pytest.mark.parametrize("where", ["dm", "channel"])
async def test_cancel_confirms_after_the_answer_shows_it_stopped(world: DiscordWorld,
                                                                 where: str) -> None:
    """/cancel while an answer streams (typed in a DM, the slash command in a channel):
    the answer's final "Stopped." edit first, then "Stopped the current answer." (both
    awaited, no sleeps)."""
    world.gateway.script(Text(" ".join(f"token{i}" for i in range(400)), chunk_size=8,
                              delay=0.02))
    channel = world.dc.dm_channel_id(USER) if where == "dm" else world.channel
    await world.dc.user_sends(channel, USER, "go on forever", mention_bot=where != "dm")
    await world.dc.wait_until(lambda: [m for m in world.bot_messages(channel) if m.components])

    done = world.core.t("cmd.cancel_done", "en")
    if where == "dm":
        await world.dc.user_sends(channel, USER, "/cancel")
        await world.wait_final(channel, done)
    else:
        inter = await world.dc.slash("cancel", {}, user_id=USER, channel_id=channel)
        assert await world.wait_ephemeral(inter) == done
    await world.wait_final(channel, "*Stopped.*")
    stopped_at = _first_call_with(world, lambda text: text.endswith("\n\n*Stopped.*"))
    assert stopped_at < _first_call_with(world, lambda text: text == done)
