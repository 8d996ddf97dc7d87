"""Input the bot refuses in messages: text commands with bad names, unsupported files."""

from __future__ import annotations

from tests.adapters.discord.conftest import USER, DiscordWorld


async def test_text_model_command_with_a_typo_gets_suggestions(world: DiscordWorld) -> None:
    ch = world.channel
    asked = await world.dc.user_sends(ch, USER, "/model gtp-4", mention_bot=True)

    (reply,) = await world.dc.wait_until(lambda: world.bot_messages(ch), timeout=3.0)
    assert reply.reference_id == asked.id
    assert "gtp-4" in reply.content and "Did you mean" in reply.content
    assert "gpt-4" in reply.content.split("Did you mean", 1)[1]
    assert world.chat_bodies() == []

    await world.dc.user_sends(ch, USER, "still the default?", mention_bot=True)
    await world.wait_final(ch, "echo: still the default?", timeout=3.0)
    assert world.chat_bodies()[-1]["model"] == "gpt-3.5-turbo"  # nothing was switched


async def test_text_model_command_typo_in_chinese(world: DiscordWorld) -> None:
    inter = await world.dc.slash("help", {}, user_id=USER, locale="zh-CN")  # locale learned
    await world.wait_original(inter)
    dm = world.dc.dm_channel_id(USER)

    await world.dc.user_sends(dm, USER, "/model gtp-4")

    (reply,) = await world.dc.wait_until(lambda: world.bot_messages(dm), timeout=3.0)
    assert "未知模型" in reply.content and "你是不是想找" in reply.content
    assert "gpt-4" in reply.content


async def test_unknown_text_command_addressed_to_the_bot_is_named(world: DiscordWorld) -> None:
    await world.dc.user_sends(world.channel, USER, "/frobnicate please", mention_bot=True)
    shown = await world.wait_final(world.channel, "Unknown command", timeout=3.0)
    assert [m.content for m in shown] == ["Unknown command /frobnicate. See /help."]
    assert world.chat_bodies() == []  # the same policy as Telegram: not a prompt


async def test_unsupported_attachment_in_a_channel_is_refused(world: DiscordWorld) -> None:
    ch = world.channel
    asked = await world.dc.user_sends(ch, USER, "transcribe this", mention_bot=True,
                                      attachments=[("song.mp3", b"ID3\x03fake", "audio/mpeg")])

    (reply,) = await world.dc.wait_until(lambda: world.bot_messages(ch), timeout=3.0)
    assert reply.content == ("I can't read song.mp3: only images and text files are "
                             "supported.")
    assert reply.reference_id == asked.id
    # barrier: a probe answered after the refusal proves nothing else came of the upload
    await world.dc.user_sends(ch, USER, "probe", mention_bot=True)
    await world.wait_final(ch, "echo: probe")
    assert [m.content for m in world.bot_messages(ch)] == [reply.content, "echo: probe"]
    [body] = world.chat_bodies()
    assert [m["content"] for m in body["messages"]] == ["probe"]
