"""Scope words parse one way in every command (``take_scope``), ``reset`` works with a
scope, and a command whose effect differs from what was asked says so."""

from __future__ import annotations

import pytest

from core.app import ChatCore
from core.commands.parser import parse_command
from core.conversation.keys import Actor, ChatRef
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, say
from tests.fakes.gateway import FakeGateway

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)
ADMIN_ZH = Actor("test", "9", "Ada", "zh", is_chat_admin=True)


async def run(core: ChatCore, text: str, chat: ChatRef = GROUP,
              actor: Actor = ADMIN) -> str:
    reply = await core.run_command_text(text, chat, actor)
    assert reply is not None
    return reply.text


async def persona(core: ChatCore, actor: Actor) -> tuple[str, str]:
    effective = await core.settings_service.resolve(GROUP, actor)
    return str(effective["persona"] or ""), effective.source("persona")


@pytest.mark.parametrize("line, args", [
    ("/model glm-4 chat", {"name": "glm-4", "scope": "chat"}),
    ("/model glm-4 scope:chat", {"name": "glm-4", "scope": "chat"}),
    ("/model chat", {"name": "chat"}),  # a lone word is the value, not a scope
    ("/persona reset chat", {"text": "reset", "scope": "chat"}),
    ("/persona reset me", {"text": "reset", "scope": "me"}),
    ("/persona reset scope:chat", {"text": "reset", "scope": "chat"}),
    ("/persona be a cat chat", {"text": "be a cat chat"}),  # free text keeps its words
    ("/persona be a cat scope:chat", {"text": "be a cat", "scope": "chat"}),
    ("/settings temperature reset chat",
     {"name": "temperature", "value": "reset", "scope": "chat"}),
    ("/settings tools generate_image, x chat",
     {"name": "tools", "value": "generate_image, x", "scope": "chat"}),
    ("/mode reply command", {"reply": "command"}),
])
def test_scope_words_parse_the_same_in_every_command(line: str, args: dict[str, str]) -> None:
    parsed = parse_command(line, "test")
    assert parsed is not None and parsed.args == args


async def test_persona_reset_with_a_scope_resets_instead_of_setting_the_words(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    assert await run(core, "/persona be a pirate scope:chat") == "System prompt set for this chat."
    assert await run(core, "/persona be a cat") == "System prompt set for you in this chat."
    assert await persona(core, ADMIN) == ("be a cat", "user")
    assert (await run(core, "/persona reset chat")).splitlines() == [
        "System prompt reset for this chat.", "Still in effect: `be a cat` (your setting here)."]
    assert await persona(core, BOB) == ("", "default")
    assert await persona(core, ADMIN) == ("be a cat", "user")  # only the chat's was reset
    assert await run(core, "/persona reset me") == "System prompt reset for you in this chat."
    assert await persona(core, ADMIN) == ("", "default")
    await say(core, "hi", chat=GROUP, actor=ADMIN)
    assert [m for m in fake_gateway.chat_requests()[-1]["messages"]
            if m["role"] == "system"] == []


async def test_a_persona_ending_in_a_scope_word_says_the_word_was_kept(
        core: ChatCore) -> None:
    assert (await run(core, "/persona be a cat chat")).splitlines() == [
        "System prompt set for you in this chat.",
        "(The last word “chat” is part of the prompt. To set it for the whole chat, "
        "add scope:chat.)"]
    assert await persona(core, ADMIN) == ("be a cat chat", "user")
    zh = await run(core, "/persona 陪我聊天 me", actor=ADMIN_ZH)
    assert zh.splitlines()[-1] == ("(最后一个词“me”是提示词的一部分。要为整个聊天设置,"
                                   "请加上 scope:chat。)")


async def test_settings_reset_with_a_scope_clears_that_scope(core: ChatCore) -> None:
    await run(core, "/settings temperature 0.3 chat")
    await run(core, "/settings temperature 0.9")
    assert (await run(core, "/settings temperature reset chat")).splitlines() == [
        "temperature reset for this chat.", "Still in effect: `0.9` (your setting here)."]
    assert (await core.settings_service.resolve(GROUP, BOB))["temperature"] is None
    assert (await core.settings_service.resolve(GROUP, ADMIN))["temperature"] == 0.9


async def test_mode_in_a_private_chat_says_it_changed_nothing(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    reply = await core.run_command_text("/mode reply:command", PRIVATE, ANN)
    assert reply is not None and reply.is_error
    assert reply.text == ("Group modes only apply in groups: nothing was changed. In a "
                          "private chat I answer every message.")
    zh = await core.run_command_text("/mode context:per_user", PRIVATE, BOB)
    assert zh is not None
    assert zh.text == "群组模式只在群组中生效:没有做任何修改。私聊中我会回复每条消息。"
    shown = await core.run_command_text("/mode", PRIVATE, ANN)
    assert shown is not None and not shown.is_error and "only apply in groups" in shown.text
    events = await say(core, "hi", chat=PRIVATE, actor=ANN)  # still answered
    assert events[-1].text == "echo: hi"  # type: ignore[union-attr]


async def test_mode_reply_word_pairs_set_the_group_mode(core: ChatCore) -> None:
    text = await run(core, "/mode reply command")
    assert text == "Group mode updated: reply **command**, context **shared**."
    assert (await core.chat_options(GROUP)).reply_mode == "command"


async def test_a_chat_setting_asked_for_me_says_it_applies_to_the_chat(core: ChatCore) -> None:
    text = await run(core, "/settings image_buttons anyone me")
    assert text.splitlines() == [
        "who may press image buttons (requester or anyone) set to `anyone` for this chat.",
        "(`image_buttons` is a chat setting: it applies to everyone in this chat, not only "
        "to you.)"]
    assert await core.settings_service.chat_setting(GROUP, "image_buttons") == "anyone"
    plain = await run(core, "/settings image_buttons requester")
    assert plain == ("who may press image buttons (requester or anyone) set to `requester` "
                     "for this chat.")


async def test_a_reset_that_changes_nothing_for_the_user_says_what_still_applies(
        core: ChatCore) -> None:
    await run(core, "/persona be a pirate scope:chat")
    assert (await run(core, "/persona reset")).splitlines() == [
        "system prompt was not set for you in this chat, so nothing changed.",
        "Still in effect: `be a pirate` (chat setting)."]
    await run(core, "/persona be a cat")
    assert (await run(core, "/persona reset me")).splitlines() == [
        "System prompt reset for you in this chat.",
        "Still in effect: `be a pirate` (chat setting)."]
    assert await run(core, "/persona reset chat") == "System prompt reset for this chat."
    await run(core, "/settings temperature 0.4", actor=ADMIN_ZH)
    assert (await run(core, "/settings temperature reset chat", actor=ADMIN_ZH)).splitlines() == [
        "温度(对本聊天)没有设置,所以没有任何变化。", "仍然生效:`0.4`(你在此处的设置)。"]


async def test_a_chat_wide_change_says_when_the_users_own_setting_still_wins(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    await run(core, "/model qwen-turbo")
    assert (await run(core, "/model glm-4 chat")).splitlines()[1:] == [
        "For you here, `qwen-turbo` (your setting here) still takes precedence."]
    await say(core, "hi", chat=GROUP, actor=ADMIN)
    assert fake_gateway.chat_requests()[-1]["model"] == "qwen-turbo"
    assert len((await run(core, "/model glm-4 chat", actor=BOB)).splitlines()) == 1  # refused
    await run(core, "/settings temperature 0.2", actor=ADMIN_ZH)
    assert (await run(core, "/settings temperature 1 chat", actor=ADMIN_ZH)).splitlines()[1:] == [
        "对你而言,这里仍以 `0.2`(你在此处的设置)为准。"]
    assert await run(core, "/settings temperature 0.5") == (
        "temperature set to `0.5` for you in this chat.")
