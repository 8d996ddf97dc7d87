"""Failures on the console read like on Telegram and Discord: one ``⚠️ <reason>`` line
(``ChatCore.failure_notice``) after whatever had streamed; a stopped answer ends with
``[Stopped.]``; the chat goes on."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.console import ConsoleAdapter, ConsoleSettings
from core.app import ChatCore
from tests.bots.test_console import chat
from tests.core.conftest import core_settings
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import ServerError, StreamError, Text, model_not_found

UNAVAILABLE = {"en": "⚠️ The model service is unavailable right now. Please try again later.",
               "zh": "⚠️ 模型服务暂时不可用,请稍后再试。"}


@pytest.fixture
async def console_core(fake_gateway: FakeGateway, tmp_path: Path
                       ) -> AsyncIterator[Any]:
    """Build a ChatCore for the console (closed at teardown); keywords override settings."""
    cores: list[ChatCore] = []

    async def build(**overrides: Any) -> ChatCore:
        core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "f.db",
                                                   gateway_max_retries=0, **overrides))
        cores.append(core)
        return core

    yield build
    for core in cores:
        await core.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_gateway_error_is_one_warning_line(console_core: Any, fake_gateway: FakeGateway,
                                                 lang: str) -> None:
    core = await console_core(default_language=lang)
    fake_gateway.script(ServerError(500))
    out = await chat(core, "hello\nhello again\n")
    assert out.splitlines() == [UNAVAILABLE[lang], "echo: hello again"]


async def test_a_cut_answer_keeps_its_text_and_the_warning_goes_below(
        console_core: Any, fake_gateway: FakeGateway) -> None:
    core = await console_core()
    fake_gateway.script(StreamError(text="partial answer here", after_chunks=3, chunk_size=4))
    out = await chat(core, "tell me\n")
    assert out.splitlines() == [
        "partial answ", "⚠️ The answer was cut off by the model service. Please try again."]


async def test_unknown_model_is_one_warning_line(console_core: Any,
                                                 fake_gateway: FakeGateway) -> None:
    core = await console_core()
    fake_gateway.script(model_not_found("gpt-3.5-turbo"))
    out = await chat(core, "hello\n")
    [line] = out.splitlines()
    assert line.startswith("⚠️ The model gpt-3.5-turbo is not available. "
                           "Use /model to pick another one.")


async def test_too_long_and_empty_input_are_warning_lines(console_core: Any) -> None:
    core = await console_core(max_input_chars=10)
    out = await chat(core, "a message of 26 characters\n/ask\nshort\n")
    assert out.splitlines() == ["⚠️ Your message is too long (26 characters, at most 10).",
                                "⚠️ Send some text, a photo or a file.",
                                "echo: short"]


class TypedInput:
    """A terminal's stdin (a pipe): its ``readline`` blocks until the test types a line."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.stdin = open(read, encoding="utf-8")  # noqa: SIM115 (closed by end)
        self._writer = open(write, "w", encoding="utf-8")  # noqa: SIM115

    def type(self, line: str) -> None:
        self._writer.write(line + "\n")
        self._writer.flush()

    def end(self) -> None:
        """End of input (the reader sees EOF)."""
        self._writer.close()


class WatchedOutput(io.StringIO):
    """stdout the test can wait on (a barrier: no sleeps)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)

    async def shows(self, text: str) -> None:
        async with asyncio.timeout(10):
            while text not in self.getvalue():
                self.changed.clear()
                await self.changed.wait()


async def test_cancel_typed_while_an_answer_streams_stops_it(
        console_core: Any, fake_gateway: FakeGateway) -> None:
    core = await console_core()
    typed, out = TypedInput(), WatchedOutput()
    adapter = ConsoleAdapter(core, ConsoleSettings(_env_file=None),  # type: ignore[call-arg]
                             stdin=typed.stdin, stdout=out)
    serving = asyncio.ensure_future(adapter.serve(asyncio.Event()))
    fake_gateway.script(Text("slow " * 400, chunk_size=5, delay=0.02))  # ~8 s
    try:
        typed.type("tell me a long story")
        await out.shows("slow slow")
        typed.type("/cancel")
        await out.shows("[Stopped.]")
        typed.type("/cancel")  # nothing runs any more
        typed.type("hello")
        await out.shows("echo: hello")
    finally:
        typed.end()
        await asyncio.wait_for(serving, 10)
        typed.stdin.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("slow slow") and lines[0].count("slow") < 400
    # the reply to /cancel and the stopped answer's end come in either order
    assert sorted(lines[1:3]) == ["Stopped the current answer.", "[Stopped.]"]
    assert lines[3:] == ["Nothing is running.", "echo: hello"]
