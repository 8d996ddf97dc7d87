"""Command menus, the /model picker, /model NAME, unknown names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.telegram.conftest import TelegramWorld
from tests.fakes.telegram_models import SentMessage

CATALOG = json.loads((Path(__file__).parents[3] / "core/models/catalog.json").read_text())
CHAT_MODELS = [m["name"] for m in (CATALOG if isinstance(CATALOG, list) else CATALOG["models"])
               if m.get("kind", "chat") == "chat"]


def buttons(message: SentMessage) -> dict[str, str]:
    """Inline buttons of a message: label → callback data."""
    rows: list[list[dict[str, Any]]] = (message.reply_markup or {}).get("inline_keyboard", [])
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def test_menus_are_exported_in_english_and_chinese(world: TelegramWorld) -> None:
    menus = world.tg.my_commands
    private_en = {c["command"]: c["description"] for c in menus[("all_private_chats", "")]}
    group_en = {c["command"] for c in menus[("all_group_chats", "")]}
    private_zh = {c["command"]: c["description"] for c in menus[("all_private_chats", "zh")]}
    assert {"start", "help", "new", "model", "models", "persona", "settings", "cancel",
            "ask"} <= set(private_en)
    assert "mode" not in private_en and "mode" in group_en  # mode is group-only
    assert "start" not in group_en  # start is private-only
    assert private_zh["model"] == "查看或切换模型"
    assert private_en["model"] == "Show or switch the model"
    assert {c["command"] for c in menus[("all_group_chats", "zh")]} == group_en


@pytest.mark.parametrize("gateway_models", [CHAT_MODELS])
async def test_model_picker_pages_vendors_and_models_then_switches(world: TelegramWorld
                                                                  ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.command(ann, 42, "/model")
    picker = await world.first_with_buttons(ann.id)
    assert "gpt-3.5-turbo" in picker.text
    vendors = buttons(picker)
    assert "✓ OpenAI" in vendors and "Next ›" in vendors
    assert all(data.startswith("a:") and len(data.encode()) <= 64 for data in vendors.values())

    tg.press_button(ann, 42, picker.message_id, vendors["Next ›"])
    await tg.wait_until(lambda: "‹ Previous" in buttons(picker))
    assert "✓ OpenAI" not in buttons(picker)  # second page of vendors
    tg.press_button(ann, 42, picker.message_id, buttons(picker)["‹ Previous"])
    await tg.wait_until(lambda: "✓ OpenAI" in buttons(picker))

    tg.press_button(ann, 42, picker.message_id, buttons(picker)["✓ OpenAI"])
    await tg.wait_until(lambda: "✓ gpt-3.5-turbo" in buttons(picker))
    tg.press_button(ann, 42, picker.message_id, buttons(picker)["Next ›"])
    await tg.wait_until(lambda: "gpt-4-turbo-preview" in buttons(picker))
    tg.press_button(ann, 42, picker.message_id, buttons(picker)["gpt-4-turbo-preview"])
    await tg.wait_until(lambda: not picker.reply_markup)
    assert "gpt-4-turbo-preview" in picker.text and "switched" in picker.text.lower()
    await tg.wait_until(lambda: len(tg.answered_callbacks) == 5)  # every tap answered

    tg.user_sends(ann, 42, "which model?")
    await world.wait_final(ann.id, "echo: which model?")
    assert world.gateway.chat_requests()[-1]["model"] == "gpt-4-turbo-preview"


async def test_model_by_name_and_unknown_name_gets_suggestions(world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    tg.command(ann, 42, "/model glm-4")
    [switched] = await world.wait_for_messages(ann.id, 1)
    assert "glm-4" in switched.text and not switched.reply_markup

    tg.command(ann, 42, "/model gpt-4-turbo-previw")
    [_, unknown] = await world.wait_for_messages(ann.id, 2)
    assert "gpt-4-turbo-previw" in unknown.text
    assert "gpt-4-turbo-preview" in unknown.text  # the core's suggestion

    tg.user_sends(ann, 42, "hi")
    await world.wait_final(ann.id, "echo: hi")
    assert world.gateway.chat_requests()[-1]["model"] == "glm-4"


async def test_zh_user_gets_chinese_command_replies(world: TelegramWorld) -> None:
    tg = world.tg
    li = tg.private_chat(43, first_name="Li", language_code="zh-hans")
    tg.command(li, 43, "/new")
    [reply] = await world.wait_for_messages(li.id, 1)
    assert reply.text == world.core.t("cmd.new", "zh")


async def test_group_admin_resets_the_chat_persona_and_turns_tools_off(
        world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100777, admins={7})

    for count, line in enumerate(["/persona be a pirate scope:chat", "/persona reset chat",
                                  "/settings tools none chat", "/settings tools weather"], 1):
        tg.command(group, 7, line)
        replies = await world.wait_for_messages(group.id, count)  # one answer each, in order
    assert [m.text for m in replies] == [
        "System prompt set for this chat.", "System prompt reset for this chat.",
        "tools set to none for this chat.",
        "Unknown tool(s): weather. Use all, none, or names from: generate_image."]

    text, entities = tg.mention_text("hi")
    tg.user_sends(group, 8, text, entities=entities)
    await world.wait_final(group.id, "echo: hi")
    [request] = world.gateway.chat_requests()
    assert [m["role"] for m in request["messages"]] == ["user"]  # no system prompt left
    assert "tools" not in request
