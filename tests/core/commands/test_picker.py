"""The model picker: /model without a name → vendor buttons → model buttons → model set."""

from __future__ import annotations

import pytest

from core.actions import ActionOutcome
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.conversation.keys import Actor, ChatRef
from core.parts import ACTION_ID_MAX, Action, ActionRows
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, CoreFactory
from tests.fakes.gateway import FakeGateway

OPENAI = [f"gpt-x{i}" for i in range(10)]  # 10 OpenAI models: 2 pages of 8 + 2
OTHERS = ["qwen-a", "ernie-a", "glm-a", "hunyuan-a", "spark-a", "moonshot-a", "gemini-a",
          "claude-a", "step-a", "deepseek-a", "yi-a"]  # 11 more vendors: 12 in all


@pytest.fixture
async def many(make_core: CoreFactory, fake_gateway: FakeGateway) -> ChatCore:
    fake_gateway.models = OPENAI + OTHERS
    return await make_core()


def labels(rows: ActionRows) -> list[list[str]]:
    return [[action.label for action in row] for row in rows]


def button(reply: CommandReply | None, label: str) -> Action:
    assert reply is not None
    return next(a for row in reply.actions for a in row if a.label == label)


async def press(core: ChatCore, reply: CommandReply | None, label: str,
                chat: ChatRef = PRIVATE, actor: Actor = ANN) -> ActionOutcome:
    return await core.run_action(button(reply, label).action_id, chat, actor)


def fits_every_platform(reply: CommandReply) -> None:
    """Discord: ≤ 5 action rows of ≤ 5 buttons; ids fit callback_data / custom_id."""
    assert len(reply.actions) <= 5
    assert all(1 <= len(row) <= 5 for row in reply.actions)
    assert all(len(a.action_id) <= ACTION_ID_MAX for row in reply.actions for a in row)


async def test_picker_pages_through_vendors_and_models_then_sets_the_model(
        many: ChatCore) -> None:
    menu = await many.run_command("model", {}, PRIVATE, ANN)
    assert menu.text.startswith("Current model: **gpt-3.5-turbo**")
    assert menu.text.endswith("Pick a vendor (page 1/2):") and menu.ephemeral
    assert labels(menu.actions) == [["OpenAI", "Alibaba"], ["Baidu", "Zhipu"],
                                    ["Tencent", "iFlytek"], ["Moonshot", "Google"], ["Next ›"]]
    fits_every_platform(menu)

    page2 = await press(many, menu, "Next ›")
    assert page2.replace and page2.reply is not None
    assert page2.reply.text == "Pick a vendor (page 2/2):"
    assert labels(page2.reply.actions) == [["Anthropic", "StepFun"], ["DeepSeek", "01.AI"],
                                           ["‹ Previous"]]
    back1 = await press(many, page2.reply, "‹ Previous")
    assert back1.reply is not None and back1.reply.text == "Pick a vendor (page 1/2):"

    openai = await press(many, back1.reply, "OpenAI")
    assert openai.replace and openai.reply is not None
    assert openai.reply.text == "**OpenAI** models (page 1/2):"
    assert labels(openai.reply.actions) == [
        ["gpt-x0", "gpt-x1"], ["gpt-x2", "gpt-x3"], ["gpt-x4", "gpt-x5"], ["gpt-x6", "gpt-x7"],
        ["« Vendors", "Next ›"]]
    fits_every_platform(openai.reply)
    more = await press(many, openai.reply, "Next ›")
    assert more.reply is not None and more.reply.text == "**OpenAI** models (page 2/2):"
    assert labels(more.reply.actions) == [["gpt-x8", "gpt-x9"],
                                          ["« Vendors", "‹ Previous"]]

    picked = await press(many, more.reply, "gpt-x9")
    assert picked.replace and picked.reply is not None and not picked.reply.is_error
    assert "gpt-x9" in picked.reply.text and "for you in this chat" in picked.reply.text
    assert (await many.current_model(PRIVATE, ANN)).name == "gpt-x9"
    again = await press(many, more.reply, "« Vendors")
    assert again.reply is not None and button(again.reply, "✓ OpenAI").style == "primary"


async def test_picker_in_chinese(many: ChatCore) -> None:
    menu = await many.run_command("model", {}, PRIVATE, BOB)
    assert menu.text.endswith("选择厂商(第 1/2 页):")
    models = await press(many, menu, "Zhipu", actor=BOB)
    assert models.reply is not None and models.reply.text == "**Zhipu** 的模型(第 1/1 页):"
    assert labels(models.reply.actions) == [["glm-a"], ["« 厂商列表"]]


async def test_the_picker_is_a_reply_with_buttons(core: ChatCore) -> None:
    reply = await core.run_command("model", {}, PRIVATE, ANN)
    assert "gpt-3.5-turbo" in reply.text
    assert reply.actions and labels(reply.actions)[0][0] == "✓ OpenAI"


async def test_only_the_requester_drives_their_picker(core: ChatCore) -> None:
    menu = await core.run_command("model", {}, GROUP, ANN)
    refused = await press(core, menu, "Zhipu", chat=GROUP, actor=BOB)
    assert refused == ActionOutcome(notice="只有提问的人可以使用这个按钮。", alert=True)
    zhipu = await press(core, menu, "Zhipu", chat=GROUP, actor=ANN)
    picked = await press(core, zhipu.reply, "glm-4", chat=GROUP, actor=ANN)
    assert picked.reply is not None and not picked.reply.is_error
    assert (await core.current_model(GROUP, ANN)).name == "glm-4"
    assert (await core.current_model(GROUP, BOB)).name == "gpt-3.5-turbo"


async def test_a_chat_wide_pick_still_needs_a_chat_admin(core: ChatCore) -> None:
    menu = await core.run_command("model", {"scope": "chat"}, GROUP, ANN)
    zhipu = await press(core, menu, "Zhipu", chat=GROUP)
    picked = await press(core, zhipu.reply, "glm-4", chat=GROUP)
    assert picked.reply is not None and picked.reply.is_error and "admins" in picked.reply.text
    assert (await core.current_model(GROUP, BOB)).name == "gpt-3.5-turbo"
    admin = Actor("test", "9", "Ada", "en", is_chat_admin=True)
    menu = await core.run_command("model", {"scope": "chat"}, GROUP, admin)
    zhipu = await press(core, menu, "Zhipu", chat=GROUP, actor=admin)
    picked = await press(core, zhipu.reply, "glm-4", chat=GROUP, actor=admin)
    assert picked.reply is not None and "for this chat" in picked.reply.text
    assert (await core.current_model(GROUP, BOB)).name == "glm-4"


async def test_a_vendor_gone_from_the_gateway_shows_the_vendors_again(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    menu = await core.run_command("model", {}, PRIVATE, ANN)
    fake_gateway.models = ["gpt-3.5-turbo", "glm-4"]
    assert await core.refresh_models()
    outcome = await press(core, menu, "Moonshot")
    assert outcome.reply is not None and outcome.reply.text == "Pick a vendor (page 1/1):"
    assert labels(outcome.reply.actions) == [["✓ OpenAI", "Zhipu"]]
