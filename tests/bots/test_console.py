"""The console adapter: choices typed as numbers press buttons; media become lines."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from adapters.console import ConsoleAdapter, ConsoleSettings
from adapters.console.render import ConsoleRenderer
from adapters.contract import Adapter
from core.app import ChatCore
from core.commands.replies import CommandReply
from core.parts import Media, MediaPart
from tests.core.conftest import core_settings
from tests.fakes.gateway import FakeGateway

PNG = b"\x89PNG\r\n\x1a\n" + bytes(34 * 1024 - 8)  # 34 KB


async def chat(core: ChatCore, lines: str) -> str:
    """Run the console on ``lines`` (piped input) until end of input; its output."""
    out = io.StringIO()
    adapter = ConsoleAdapter(core, ConsoleSettings(_env_file=None),  # type: ignore[call-arg]
                             stdin=io.StringIO(lines), stdout=out)
    assert isinstance(adapter, Adapter)
    await asyncio.wait_for(adapter.serve(asyncio.Event()), 30)
    return out.getvalue()


async def test_user_types_a_choice_number_to_pick_a_model(fake_gateway: FakeGateway,
                                                          tmp_path: Path) -> None:
    fake_gateway.models = ["gpt-3.5-turbo", "gpt-4"]
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "c.db"))
    try:
        shown = await chat(core, "/model\n")
        assert "[1] ✓ OpenAI" in shown  # "Pick a vendor" as numbered choices
        shown = await chat(core, "/model\n1\n")
        assert "[1] ✓ gpt-3.5-turbo  [2] gpt-4" in shown.splitlines()
        out = await chat(core, "/model\n1\n2\nhello\n")
        assert "gpt-4" in out.split("[2] gpt-4", 1)[1].split("echo:", 1)[0]
        assert fake_gateway.chat_requests()[-1]["model"] == "gpt-4"
        assert "echo: hello" in out
    finally:
        await core.close()


async def test_a_number_without_shown_choices_is_a_message(fake_gateway: FakeGateway,
                                                           tmp_path: Path) -> None:
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "n.db"))
    try:
        assert "echo: 1" in await chat(core, "1\n")
    finally:
        await core.close()


async def test_media_parts_are_saved_and_shown_as_one_line(tmp_path: Path,
                                                           fake_gateway: FakeGateway) -> None:
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "m.db"))
    try:
        out = io.StringIO()
        render = ConsoleRenderer(core, out, tmp_path / "console")
        media = MediaPart((Media("image", data=PNG, mime="image/png"),))
        await render.reply(CommandReply("Here it is", parts=(media,)), "en")
        lines = out.getvalue().splitlines()
        assert lines[0] == "Here it is"
        match = re.fullmatch(rf"\[image: 34 KB image/png saved to ({re.escape(str(tmp_path))}"
                             r"/console/\w+\.png)\]", lines[1])
        assert match is not None, lines[1]
        assert Path(match.group(1)).read_bytes() == PNG
    finally:
        await core.close()


async def test_bad_input_is_one_clear_line_and_the_chat_goes_on(fake_gateway: FakeGateway,
                                                                tmp_path: Path) -> None:
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "b.db"))
    try:
        out = await chat(core, "/ask\n/settings temperature x\n/ask hi there\n")
        assert out.splitlines() == ["⚠️ Send some text, a photo or a file.",
                                    "temperature must be a number between 0 and 2.",
                                    "echo: hi there"]
    finally:
        await core.close()


async def test_mj_on_a_gateway_without_midjourney_says_it_is_not_available(
        fake_gateway: FakeGateway, tmp_path: Path) -> None:
    """No /mj routes (the fake answers 404 ``no route``): user sends /mj → a clear line."""
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "mj.db"))
    try:
        out = await chat(core, "/mj a red fox\n/shorten a very long prompt\n")
        assert out.splitlines() == ["Midjourney is not available on this gateway."] * 2
    finally:
        await core.close()


async def test_settings_tools_none_then_mode_through_the_console(
        fake_gateway: FakeGateway, tmp_path: Path) -> None:
    """The tester's lines: /settings tools none is accepted and reaches the model request;
    /mode in this private chat says it changed nothing; /settings lists what it can set."""
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "t.db"))
    try:
        out = await chat(core, "/settings tools none\nhi\n/mode reply:command\n/settings\n")
        lines = out.splitlines()
        assert lines[:3] == [
            "tools set to `none` for this chat.", "echo: hi",
            "Group modes only apply in groups: nothing was changed. In a private chat I "
            "answer every message."]
        assert "tools" not in fake_gateway.chat_requests()[-1]
        assert "• `tools` = `none` — tools (chat setting)" in lines
        assert lines[-1].startswith("Change a `name` above with /settings <name> <value>")
        out = await chat(core, "/settings tools dall-e\n")
        assert out.splitlines() == [
            "Unknown tool(s): dall-e. Use all, none, or names from: generate_image."]
    finally:
        await core.close()
