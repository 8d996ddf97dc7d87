"""Tools that return media, tools from entry points, and the chat's ``tools`` setting."""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

import pytest

from core.app import ChatCore
from core.conversation.keys import chat_scope
from core.events import PartShown, ToolCallFinished, ToolCallStarted, TurnEvent, TurnFinal
from core.parts import Media, MediaPart, Progress
from core.tools import ENTRY_POINT_GROUP, Tool, ToolResult
from tests.core.conftest import ANN, GROUP, CoreFactory, say
from tests.core.tools.plugin_tools import RED_DOT
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text, ToolCalls

CAT_PNG = b"\x89PNG\r\n\x1a\ncat-pixels"
OBJECT = {"type": "object", "properties": {}}


async def draw(args: dict[str, Any]) -> ToolResult:
    return ToolResult("drew a cat", media=(Media("image", data=CAT_PNG, mime="image/png"),))


async def clock(args: dict[str, Any]) -> str:
    return "12:00"


def kinds(events: list[TurnEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


async def test_a_tool_image_is_shown_and_the_model_gets_the_text(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    core.tools.register(Tool("draw", "Draw a picture", OBJECT, draw))
    fake_gateway.script(ToolCalls([("draw", "{}")]), Text("Here is your cat."))
    events = await say(core, "draw a cat")
    assert kinds(events) == ["TurnStarted", "ToolCallStarted", "PartShown", "ToolCallFinished",
                             *["TextDelta"] * 5, "TurnFinal"]
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    assert started.progress == Progress("tool.running", {"name": "draw"})
    assert core.t(started.progress.key, "en", **started.progress.params) == "🔧 draw…"
    shown = next(e for e in events if isinstance(e, PartShown))
    assert isinstance(shown.part, MediaPart)
    assert [m.data for m in shown.part.media] == [CAT_PNG]
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.result == "drew a cat"
    assert finished.progress == Progress("tool.done", {"name": "draw"})
    tool_message = fake_gateway.chat_requests()[1]["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": tool_message["tool_call_id"],
                            "content": "drew a cat"}
    assert isinstance(events[-1], TurnFinal) and events[-1].text == "Here is your cat."


async def test_a_failing_tool_reports_failed_progress(core: ChatCore,
                                                      fake_gateway: FakeGateway) -> None:
    async def broken(args: dict[str, Any]) -> str:
        raise RuntimeError("no ink")

    core.tools.register(Tool("draw", "Draw a picture", OBJECT, broken))
    fake_gateway.script(ToolCalls([("draw", "{}")]), Text("Sorry."))
    events = await say(core, "draw")
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert not finished.ok and finished.result == "error: RuntimeError: no ink"
    assert core.t(finished.progress.key, "zh", **finished.progress.params) == "⚠️ draw 执行失败"
    assert not any(isinstance(e, PartShown) for e in events)


def fake_entry_points(*values: tuple[str, str]) -> Any:
    found = [metadata.EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
             for name, value in values]

    def entry_points(**params: Any) -> list[metadata.EntryPoint]:
        return found if params.get("group") == ENTRY_POINT_GROUP else []

    return entry_points


async def test_entry_point_tools_load_and_a_broken_one_is_one_warning(
        make_core: CoreFactory, fake_gateway: FakeGateway, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(metadata, "entry_points", fake_entry_points(
        ("stamp", "tests.core.tools.plugin_tools:stamp_tool"),
        ("more", "tests.core.tools.plugin_tools:more_tools"),
        ("missing", "tests.core.tools.no_such_module:tool"),
        ("wrong", "tests.core.tools.plugin_tools:not_a_tool"),
    ))
    with caplog.at_level(logging.WARNING, logger="core.tools.plugins"):
        core = await make_core()
    assert core.tools.names() == ["stamp", "echo", "generate_image"]  # + built-in
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.tools.plugins"]
    assert len(warnings) == 2
    assert "missing" in warnings[0] and "ModuleNotFoundError" in warnings[0]
    assert "wrong" in warnings[1] and "TypeError" in warnings[1]

    fake_gateway.script(ToolCalls([("stamp", '{"word": "hi"}')]), Text("Stamped."))
    events = await say(core, "stamp hi")
    shown = next(e for e in events if isinstance(e, PartShown))
    assert isinstance(shown.part, MediaPart) and shown.part.media[0].data == RED_DOT
    assert shown.part.media[0].caption == "hi"
    assert fake_gateway.chat_requests()[1]["messages"][-1]["content"] == "stamped hi"


async def test_the_chat_tools_setting_limits_what_the_model_may_call(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    core.tools.register(Tool("clock", "The time", OBJECT, clock))
    core.tools.register(Tool("draw", "Draw a picture", OBJECT, draw))
    await say(core, "hi", chat=GROUP)
    offered = fake_gateway.chat_requests()[-1]["tools"]
    assert [t["function"]["name"] for t in offered] == [
        "generate_image", "clock", "draw"]  # default: all (generate_image is built in)

    await core.settings_service.set(chat_scope(GROUP), "tools", ["clock"])
    shown = await core.run_command("settings", {}, GROUP, ANN)
    assert "• `tools` = `clock` — tools (chat setting)" in shown.text
    fake_gateway.script(ToolCalls([("draw", "{}")]), Text("I cannot draw here."))
    events = await say(core, "draw anyway", chat=GROUP)
    first = fake_gateway.chat_requests()[-2]
    assert [t["function"]["name"] for t in first["tools"]] == ["clock"]
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert not finished.ok and finished.result == "error: unknown tool draw"
    assert not any(isinstance(e, PartShown) for e in events)

    await core.settings_service.set(chat_scope(GROUP), "tools", [])
    await say(core, "hi again", chat=GROUP)
    assert "tools" not in fake_gateway.chat_requests()[-1]
