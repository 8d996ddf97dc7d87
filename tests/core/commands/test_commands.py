"""Commands as a user types them: model/scope switching, persona, settings, mode, new."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.app import ChatCore
from core.commands.parser import parse_command
from core.conversation.keys import Actor, ChatRef
from core.errors import UserInputError
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, gateway_received, say
from tests.fakes.gateway import FakeGateway

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)


async def model_of(core: ChatCore, chat: ChatRef, actor: Actor) -> str:
    return (await core.current_model(chat, actor)).name


async def test_model_switch_resolves_user_in_chat_over_chat_over_global(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    assert await model_of(core, GROUP, ANN) == "gpt-3.5-turbo"
    reply = await core.run_command_text("/model glm-4 chat", GROUP, ADMIN)
    assert reply is not None and "glm-4" in reply.text and not reply.is_error
    assert await model_of(core, GROUP, ANN) == "glm-4"
    await core.run_command("model", {"name": "QWEN-TURBO"}, GROUP, ANN)  # case-insensitive
    assert await model_of(core, GROUP, ANN) == "qwen-turbo"
    assert await model_of(core, GROUP, BOB) == "glm-4"
    assert await model_of(core, PRIVATE, ANN) == "gpt-3.5-turbo"
    await say(core, "hi", chat=GROUP, actor=ANN)
    assert fake_gateway.chat_requests()[-1]["model"] == "qwen-turbo"
    settings = await core.run_command("settings", {}, GROUP, ANN)
    assert "qwen-turbo" in settings.text and "your setting here" in settings.text


async def test_only_chat_admins_set_chat_wide_models(core: ChatCore) -> None:
    reply = await core.run_command("model", {"name": "glm-4", "scope": "chat"}, GROUP, ANN)
    assert reply.is_error and "admins" in reply.text
    assert await model_of(core, GROUP, BOB) == "gpt-3.5-turbo"


async def test_unknown_model_gets_did_you_mean(core: ChatCore) -> None:
    reply = await core.run_command_text("/model gtp-4", PRIVATE, ANN)
    assert reply is not None and reply.is_error
    assert "Unknown model" in reply.text and "`gpt-4`" in reply.text
    zh = await core.run_command_text("/model claud", PRIVATE, BOB)
    assert zh is not None and "未知模型" in zh.text and "claude" in zh.text


async def test_model_without_a_name_offers_a_menu_grouped_by_vendor(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    reply = await core.run_command("model", {}, PRIVATE, ANN)
    vendors = [button.label for row in reply.actions for button in row]
    assert "✓ OpenAI" in vendors and "Anthropic" in vendors  # ✓: the current model's
    groups = core.catalog.by_vendor()  # what the picker pages through
    offered = {m.name for models in groups.values() for m in models}
    assert offered == set(fake_gateway.models)  # only what the gateway lists live


async def test_persona_set_show_reset(core: ChatCore) -> None:
    await core.run_command_text("/persona You are a helpful pirate.", PRIVATE, ANN)
    shown = await core.run_command_text("/persona", PRIVATE, ANN)
    assert shown is not None and "helpful pirate" in shown.text
    await core.run_command_text("/persona reset", PRIVATE, ANN)
    shown = await core.run_command_text("/persona", PRIVATE, ANN)
    assert shown is not None and "No system prompt" in shown.text


async def test_settings_validate_values(core: ChatCore) -> None:
    bad = await core.run_command_text("/settings temperature 7", PRIVATE, ANN)
    assert bad is not None and bad.is_error and "between 0 and 2" in bad.text
    good = await core.run_command_text("/settings language zh", PRIVATE, ANN)
    assert good is not None and not good.is_error
    assert await core.language_for(PRIVATE, ANN) == "zh"
    help_text = await core.run_command_text("/help", PRIVATE, ANN)
    assert help_text is not None and "功能说明" in help_text.text


async def test_mode_is_for_chat_admins(core: ChatCore) -> None:
    refused = await core.run_command_text("/mode reply:all", GROUP, ANN)
    assert refused is not None and refused.is_error
    assert (await core.chat_options(GROUP)).reply_mode == "mention"
    done = await core.run_command_text("/mode reply:all context:per_user", GROUP, ADMIN)
    assert done is not None and not done.is_error
    options = await core.chat_options(GROUP)
    assert options.reply_mode == "all" and options.per_user


async def test_per_user_context_separates_histories(core: ChatCore,
                                                    fake_gateway: FakeGateway) -> None:
    await core.run_command("mode", {"context": "per_user"}, GROUP, ADMIN)
    await say(core, "ann's secret", chat=GROUP, actor=ANN)
    await say(core, "bob asks", chat=GROUP, actor=BOB)
    assert [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]] == ["bob asks"]


async def test_new_forgets_the_conversation(core: ChatCore, fake_gateway: FakeGateway) -> None:
    await say(core, "remember me")
    reply = await core.run_command_text("/new", PRIVATE, ANN)
    assert reply is not None and "new conversation" in reply.text
    await say(core, "who am I?")
    assert [m["content"] for m in fake_gateway.chat_requests()[-1]["messages"]] == ["who am I?"]


def test_malformed_commands_raise_user_errors() -> None:
    with pytest.raises(UserInputError):
        parse_command("/mode reply:sometimes", "test")
    assert parse_command("/model@other_bot gpt-4", "telegram", "chatbridge_bot") is None
    assert parse_command("not a command", "telegram") is None
    parsed = parse_command("/ask what is new? model:glm-4", "discord")
    assert parsed is not None and parsed.args == {"prompt": "what is new?", "model": "glm-4"}


@pytest.mark.parametrize("text", [
    "/ask model:glm-4 what is new?",
    "/ask model=glm-4   what is new?  ",
    "/ask what is new? model:glm-4",
])
def test_options_of_a_prompt_command_are_read_before_or_after_the_prompt(text: str) -> None:
    """A fresh tester's case: "/image model:dall-e-2 n:2 two foxes" drew ONE dall-e-3
    image of "model:dall-e-2 n:2 two foxes" (options were read only after the prompt)."""
    parsed = parse_command(text, "discord")
    assert parsed is not None and parsed.args == {"prompt": "what is new?", "model": "glm-4"}


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=["Cs"]), min_size=1).filter(
    lambda text: text.strip() and ":" not in text and "=" not in text))
def test_a_prompt_without_option_words_is_kept_exactly(prompt: str) -> None:
    parsed = parse_command(f"/ask {prompt}", "discord")
    assert parsed is not None and parsed.args == {"prompt": prompt.strip(" ").strip()}


async def test_unknown_command_in_private_chat_is_explained(core: ChatCore) -> None:
    reply = await core.run_command_text("/frobnicate", PRIVATE, ANN)
    assert reply is not None and reply.is_error and "/frobnicate" in reply.text
    assert await core.run_command_text("/frobnicate", GROUP, ANN) is None


def test_autocomplete_matches_as_you_type(core: ChatCore) -> None:
    choices = core.complete("models", "gpt", limit=25)
    assert choices and all(c.value.startswith("gpt") for c in choices)
    assert len(core.complete("models", "", limit=25)) <= 25
    assert "OpenAI" in choices[0].label


async def test_in_a_shared_group_only_admins_reset_or_stop_others(
        core: ChatCore, fake_gateway: FakeGateway) -> None:

    from core.conversation.inputs import UserMessage
    from core.events import TurnCancelled, TurnFinal
    from tests.fakes.gateway_replies import Text

    refused = await core.run_command_text("/new", GROUP, BOB)
    assert refused is not None and refused.is_error and "管理员" in refused.text  # Bob reads zh
    fake_gateway.script(Text("a long answer for Ann " * 20, chunk_size=4, delay=0.01))
    ticket = await core.submit(GROUP, ANN, UserMessage(text="tell me"))
    await gateway_received(fake_gateway, 1)  # barrier: Ann's answer is streaming
    assert not await core.cancel(GROUP, BOB)  # Bob cannot stop Ann's answer
    assert isinstance(await ticket.wait(), TurnFinal)
    fake_gateway.script(Text("slow " * 50, chunk_size=4, delay=0.01))
    ticket = await core.submit(GROUP, ANN, UserMessage(text="again"))
    await gateway_received(fake_gateway, 2)
    assert await core.cancel(GROUP, ADMIN)  # an admin can
    assert isinstance(await ticket.wait(), TurnCancelled)
    done = await core.run_command_text("/new", GROUP, ADMIN)
    assert done is not None and not done.is_error
