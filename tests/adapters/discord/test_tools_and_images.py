"""Tool calls while streaming, and images produced by a turn (``ImageReady``)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
from PIL import Image

from adapters.discord.streaming import ChannelSink
from core.events import (
    ImageReady,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnEvent,
    TurnFinal,
    TurnStarted,
)
from core.tools import Tool
from tests.adapters.discord.conftest import USER, DiscordWorld
from tests.fakes.gateway_replies import Text, ToolCalls


def register_weather(world: DiscordWorld, delay: float = 0.4) -> list[dict[str, Any]]:
    """A ``weather`` tool on the world's core; returns the list of calls it received."""
    calls: list[dict[str, Any]] = []

    async def weather(args: dict[str, Any]) -> str:
        calls.append(args)
        await asyncio.sleep(delay)
        return f"{args['city']}: sunny, 24°C"

    world.core.tools.register(Tool(
        "weather", "Current weather in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        weather))
    return calls


async def test_tool_call_shows_a_status_line_until_the_answer_comes(
        world: DiscordWorld) -> None:
    calls = register_weather(world)
    world.gateway.script(ToolCalls([("weather", '{"city":"Paris"}')]),
                         Text("It is sunny in Paris."))
    ch = world.channel

    asked = await world.dc.user_sends(ch, USER, "weather in Paris?", mention_bot=True)

    # while the tool runs the answer shows "🔧 weather…" (like Telegram), with Stop
    await world.dc.wait_until(lambda: calls, timeout=2.0)
    (status,) = await world.dc.wait_until(lambda: world.bot_messages(ch), timeout=2.0)
    assert status.content == "🔧 weather…" and status.components
    (answer,) = await world.wait_final(ch, "It is sunny in Paris.", timeout=3.0)
    assert answer.id == status.id  # the status message became the answer
    assert answer.content == "It is sunny in Paris." and answer.reference_id == asked.id
    assert answer.history[0] == "🔧 weather…"
    assert all('"city"' not in old and "24°C" not in old
               for old in answer.history)  # no tool arguments or results leaked
    assert calls == [{"city": "Paris"}]
    first, second = world.chat_bodies()
    assert [t["function"]["name"] for t in first["tools"]] == ["generate_image", "weather"]
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": second["messages"][-2][
        "tool_calls"][0]["id"], "content": "Paris: sunny, 24°C"}


async def test_slash_chat_with_a_tool_answers_in_the_thread(world: DiscordWorld) -> None:
    calls = register_weather(world, delay=0.1)
    world.gateway.script(ToolCalls([("weather", '{"city":"Paris"}')]),
                         Text("It is sunny in Paris."))
    await world.dc.slash("chat", {"prompt": "weather in Paris?"}, user_id=USER)
    thread = (await world.dc.wait_until(lambda: world.dc.threads_created, timeout=2.0))[0]
    (answer,) = await world.wait_final(thread.id, "It is sunny in Paris.", timeout=3.0)
    assert answer.content == "It is sunny in Paris."
    assert calls == [{"city": "Paris"}]


def png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


async def synthetic(events: list[TurnEvent]) -> AsyncIterator[TurnEvent]:
    """A turn's events as the core would stream them (no core turn emits images yet)."""
    for event in events:
        await asyncio.sleep(0)
        yield event


async def test_images_of_a_turn_follow_the_text(world: DiscordWorld) -> None:
    channel = world.bot.client.get_channel(world.channel)
    assert isinstance(channel, discord.TextChannel)
    presenter = world.bot.presenter(ChannelSink(channel, channel.id), make_view=None,
                                    cancelled_note="")
    data = png()

    terminal = await asyncio.wait_for(presenter.present(synthetic([
        TurnStarted("t1", "img-model"), TextDelta("Here is your cat."),
        ImageReady(data=data, mime="image/png", caption="a cat"),
        ImageReady(url="https://images.example.test/dog.png", caption="a dog"),
        TurnFinal("t1", "img-model", "Here is your cat."),
    ])), 3.0)

    assert isinstance(terminal, TurnFinal)
    text, cat, dog = world.bot_messages(world.channel)
    assert text.content == "Here is your cat." and not text.attachments
    assert cat.content == "a cat" and cat.file_bytes("image1.png") == data
    assert dog.content == "a dog\nhttps://images.example.test/dog.png" and not dog.attachments
    assert world.dc.rate_limited == 0


async def test_tool_status_sits_under_the_text_and_goes_when_the_tool_is_done(
        world: DiscordWorld) -> None:
    channel = world.bot.client.get_channel(world.channel)
    assert isinstance(channel, discord.TextChannel)
    presenter = world.bot.presenter(ChannelSink(channel, channel.id), make_view=None,
                                    cancelled_note="")
    events: asyncio.Queue[TurnEvent] = asyncio.Queue()

    async def stream() -> AsyncIterator[TurnEvent]:
        while True:
            event = await events.get()
            yield event
            if isinstance(event, TurnFinal):
                return

    def shown() -> str:
        messages = world.bot_messages(world.channel)
        return messages[0].content if messages else ""

    task = asyncio.create_task(presenter.present(stream()))
    for event in (TurnStarted("t1", "m"), TextDelta("Let me check."),
                  ToolCallStarted("c1", "weather", '{"city":"Paris"}')):
        events.put_nowait(event)
    await world.dc.wait_until(lambda: shown() == "Let me check.\n\n🔧 weather…")
    events.put_nowait(ToolCallFinished("c1", "weather", "sunny"))
    events.put_nowait(TextDelta(" Sunny."))
    await world.dc.wait_until(lambda: shown() == "Let me check. Sunny.")  # before the final
    assert not task.done()
    events.put_nowait(TurnFinal("t1", "m", "Let me check. Sunny."))
    assert isinstance(await asyncio.wait_for(task, 3.0), TurnFinal)
    assert [m.content for m in world.bot_messages(world.channel)] == ["Let me check. Sunny."]
