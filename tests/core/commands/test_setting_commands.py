"""/settings as a user types it: every listed setting changes with the syntax the
listing prints (or says which command / who changes it); tools and image settings."""

from __future__ import annotations

import re

import pytest

from core.app import ChatCore
from core.commands.registry import COMMANDS_BY_NAME
from core.commands.setting_specs import SETTABLE, SETTING_SPECS, SETTINGS
from core.conversation.keys import Actor
from core.conversation.settings import CHAT_ONLY_SETTINGS
from tests.core.conftest import ANN, BOB, GROUP, PRIVATE, say
from tests.fakes.gateway import FakeGateway

ADMIN = Actor("test", "9", "Ada", "en", is_chat_admin=True)
ADMIN_ZH = Actor("test", "9", "Ada", "zh", is_chat_admin=True)
EXAMPLE = {"temperature": "0.5", "language": "en-US", "tools": "none", "image_model": "dall-e-2",
           "image_size": "512x512", "image_daily_allowance": "3",
           "image_jobs_per_chat": "2", "image_jobs_per_user": "1", "image_buttons": "anyone"}
"""A valid value of every settable setting, set in listing order (512x512: after
image_model dall-e-2, which makes it; dall-e-3 would not)."""


async def reply_text(core: ChatCore, text: str, chat: object = GROUP,
                     actor: Actor = ADMIN) -> tuple[str, bool]:
    reply = await core.run_command_text(text, chat, actor)  # type: ignore[arg-type]
    assert reply is not None
    return reply.text, reply.is_error


async def test_the_table_covers_every_configured_setting_and_the_parser_uses_it(
        core: ChatCore) -> None:
    configured = core.settings_service._defaults  # what ChatCore resolves
    assert sorted(spec.name for spec in SETTINGS) == sorted(configured)
    choices = next(p for p in COMMANDS_BY_NAME["settings"].params if p.name == "name").choices
    assert choices == SETTABLE
    assert set(EXAMPLE) == set(SETTABLE)
    for spec in SETTINGS:  # neither /settings nor a command: nothing is left "read-only"
        assert spec.settable or spec.command in COMMANDS_BY_NAME


async def test_every_listed_name_is_settable_with_the_printed_syntax(core: ChatCore) -> None:
    listing, _ = await reply_text(core, "/settings")
    assert "Change a `name` above with /settings <name> <value> [me|chat]" in listing
    named = re.findall(r"^• `(\w+)` = ", listing, re.MULTILINE)
    assert named == list(SETTABLE)
    assert "• model: `gpt-3.5-turbo` (bot default) — change with /model" in listing
    assert "• reply mode: `mention` (bot default) — change with /mode" in listing
    for name in named:
        text, error = await reply_text(core, f"/settings {name} {EXAMPLE[name]}")
        assert not error, text
        effective = await core.settings_service.resolve(GROUP, ADMIN)
        assert effective.source(name) == ("chat" if name in CHAT_ONLY_SETTINGS else "user")
    after, _ = await reply_text(core, "/settings")
    assert "• `image_model` = `dall-e-2` — image model (your setting here)" in after
    assert "• `tools` = `none` — tools (chat setting)" in after
    assert "• `language` = `en` — language (your setting here)" in after  # en-US → en


async def test_tools_none_then_a_list_then_all_reach_the_model_request(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    text, error = await reply_text(core, "/settings tools none")
    assert (text, error) == ("tools set to `none` for this chat.", False)
    await say(core, "hi", chat=GROUP, actor=BOB)
    assert "tools" not in fake_gateway.chat_requests()[-1]

    text, _ = await reply_text(core, "/settings tools generate_image")
    assert text == "tools set to `generate_image` for this chat."
    await say(core, "draw?", chat=GROUP, actor=BOB)
    offered = fake_gateway.chat_requests()[-1]["tools"]
    assert [t["function"]["name"] for t in offered] == ["generate_image"]

    text, _ = await reply_text(core, "/settings tools all")
    assert text == "tools set to `all` for this chat."
    assert (await core.settings_service.resolve(GROUP, BOB))["tools"] is None


async def test_unknown_tools_are_refused_with_the_valid_names(core: ChatCore) -> None:
    text, error = await reply_text(core, "/settings tools generate_image, weather")
    assert error
    assert text == ("Unknown tool(s): weather. Use all, none, or names from: "
                    "generate_image.")
    zh, _ = await reply_text(core, "/settings tools web", actor=ADMIN_ZH)
    assert zh == "未知工具:web。可用:all、none,或以下名称:generate_image。"
    assert (await core.settings_service.resolve(GROUP, BOB))["tools"] is None  # unchanged


async def test_only_chat_admins_change_the_chat_tools(core: ChatCore) -> None:
    text, error = await reply_text(core, "/settings tools none", actor=ANN)
    assert error and text == "Only chat admins can do that."
    text, error = await reply_text(core, "/settings tools none", chat=PRIVATE, actor=ANN)
    assert (text, error) == ("tools set to `none` for this chat.", False)


async def test_image_model_and_size_are_checked_against_what_images_accept(
        core: ChatCore) -> None:
    text, error = await reply_text(core, "/settings image_model midjourney")
    assert error and text == ("midjourney can't make images here. Image models: "
                              "dall-e-2, dall-e-3, cogview-3.")
    text, error = await reply_text(core, "/settings image_size 512x512")  # dall-e-3: no
    assert error and text == ("dall-e-3 can't make 512x512 images. Sizes: 1024x1024, "
                              "1792x1024, 1024x1792.")
    text, _ = await reply_text(core, "/settings image_size 1792X1024 chat")
    assert text == "image size set to `1792x1024` for this chat."
    text, _ = await reply_text(core, "/settings image_model dall-e-2")  # 1792x1024: no
    assert text.splitlines() == [
        "image model set to `dall-e-2` for you in this chat.",
        "Note: your image size 1792x1024 does not fit dall-e-2, so images drawn by the "
        "model will fail until you change it: /settings image_size <size> "
        "(1024x1024, 512x512, 256x256)."]
    values, _ = await reply_text(core, "/settings image_size")
    assert values.splitlines()[-1] == ("Values of `image_size`: dall-e-2: 1024x1024, "
                                       "512x512, 256x256")


async def test_setting_names_outside_the_table_are_refused_with_the_valid_ones(
        core: ChatCore) -> None:
    text, error = await reply_text(core, "/settings persona hello")
    assert error and text == "name must be one of: " + ", ".join(SETTABLE)


async def test_private_listing_marks_owner_only_limits_and_hides_group_modes(
        core: ChatCore) -> None:
    listing, _ = await reply_text(core, "/settings", chat=PRIVATE, actor=ANN)
    assert ("• images per user per day (0 = unlimited): `20` (bot default) — only the "
            "bot's owners change it") in listing
    assert "reply mode" not in listing and "image_buttons" not in listing
    refused, error = await reply_text(core, "/settings image_daily_allowance 99",
                                      chat=PRIVATE, actor=ANN)
    assert error and refused == "Only the bot's owners can do that."


@pytest.mark.parametrize("name", sorted(SETTING_SPECS))
def test_every_setting_has_en_and_zh_labels(name: str) -> None:
    from core.i18n.en import MESSAGES as EN
    from core.i18n.zh import MESSAGES as ZH
    assert f"setting.{name}" in EN and f"setting.{name}" in ZH
