"""Input the bot refuses: over-long text, unknown commands, malformed arguments."""

from __future__ import annotations

from typing import Any

import pytest

from core.conversation.keys import ChatRef
from tests.adapters.telegram.conftest import TelegramWorld

LIMIT = 200


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_input_chars": LIMIT}


async def test_too_long_text_gets_a_localized_error_and_is_not_stored(world: TelegramWorld
                                                                      ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    huge = "blah" * 125  # 500 characters

    tg.user_sends(ann, 42, huge)

    [error] = await world.wait_final(ann.id, "too long", timeout=3.0)
    assert error.text == "⚠️ Your message is too long (500 characters, at most 200)."
    assert world.gateway.chat_requests() == []  # never sent to the model

    tg.user_sends(ann, 42, "short one")  # nothing of the refused text is in the history
    await world.wait_final(ann.id, "echo: short one", timeout=3.0)
    [request] = world.gateway.chat_requests()
    assert [m["content"] for m in request["messages"] if m["role"] != "system"] == ["short one"]


async def test_too_long_text_error_is_chinese_for_a_chinese_user(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, first_name="Li", language_code="zh-hans")

    tg.user_sends(li, 43, "长" * 300)

    [error] = await world.wait_final(li.id, "消息太长", timeout=3.0)
    assert error.text == "⚠️ 消息太长(300 个字符,最多 200)。"
    assert world.gateway.chat_requests() == []


async def test_unknown_command_in_private_chat_is_named(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)

    tg.command(ann, 42, "/frobnicate now")

    [reply] = await world.wait_for_messages(ann.id, 1, timeout=3.0)
    assert reply.text == "Unknown command /frobnicate. See /help."
    assert world.gateway.chat_requests() == []


async def test_unknown_command_in_a_group_is_ignored(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100321, admins={7})  # /new is admin-only in shared groups
    tg.command(group, 7, "/frobnicate")  # maybe another bot's command: stay quiet
    tg.command(group, 7, "/new")  # ours: answered (shows the first was processed)

    [reply] = await world.wait_for_messages(group.id, 1, timeout=3.0)
    assert reply.text == world.core.t("cmd.new", "en")
    # barrier: a mentioned probe goes through the gateway, answered after both commands
    text, entities = tg.mention_text("probe")
    tg.user_sends(group, 7, text, entities=entities)
    await world.wait_final(group.id, "echo: probe")
    assert [m.text for m in tg.bot_messages(group)] == [reply.text, "echo: probe"]
    [request] = world.gateway.chat_requests()
    assert [m["content"] for m in request["messages"]] == ["probe"]


async def test_bad_mode_choice_is_explained_in_the_users_language(world: TelegramWorld
                                                                 ) -> None:
    tg = world.tg
    group = tg.group_chat(-100654, admins={7})
    tg.user(7, "Li", language_code="zh-hans")

    tg.command(group, 7, "/mode reply:sometimes")

    [reply] = await world.wait_for_messages(group.id, 1, timeout=3.0)
    assert reply.text == "reply 只能是:mention, all, command"
    assert reply.text == world.core.t("error.bad_choice", "zh", param="reply",
                                      choices="mention, all, command")
    group_ref = ChatRef("telegram", str(group.id), "", False)
    assert (await world.core.chat_options(group_ref)).reply_mode == "mention"  # unchanged

    ann = tg.private_chat(42)  # the same mistake in a private chat, in English
    tg.command(ann, 42, "/mode reply:sometimes")
    [english] = await world.wait_for_messages(ann.id, 1, timeout=3.0)
    assert english.text == "reply must be one of: mention, all, command"


@pytest.mark.parametrize("settings_overrides", [{"max_input_chars": 5000}])
async def test_paste_split_by_the_client_is_limited_as_a_whole(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    parts = tg.user_pastes(ann, 42, ("lorem ipsum " * 800).strip())  # 9599 characters
    assert len(parts) == 3 and all(len(p["text"]) < 5000 for p in parts)

    await world.wait_final(ann.id, "too long", timeout=1.5)
    assert world.gateway.chat_requests() == []
