"""Tool calls while streaming, and images produced by a turn (``ImageReady``)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image

from adapters.telegram.streaming import StreamPresenter
from adapters.telegram.ui import Destination
from core.conversation.tickets import TurnTicket
from core.events import ImageReady, TextDelta, TurnEvent, TurnFinal, TurnStarted
from core.tools import Tool
from tests.adapters.telegram.conftest import FAST_TIMINGS, TelegramWorld
from tests.fakes.gateway_replies import Text, ToolCalls

STATUS = "🔧 weather…"
"""What the presenter shows while a tool runs."""


def register_weather(world: TelegramWorld, delay: float = 0.4) -> list[dict[str, Any]]:
    """A ``weather`` tool on the world's core; returns the list of calls it received."""
    calls: list[dict[str, Any]] = []

    async def weather(args: dict[str, Any]) -> str:
        calls.append(args)
        await asyncio.sleep(delay)  # long enough for a preview to show the tool status
        return f"{args['city']}: sunny, 24°C"

    world.core.tools.register(Tool(
        "weather", "Current weather in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        weather))
    return calls


async def test_private_chat_shows_the_running_tool_then_the_answer(world: TelegramWorld
                                                                   ) -> None:
    tg = world.tg
    calls = register_weather(world)
    world.gateway.script(ToolCalls([("weather", '{"city":"Paris"}')]),
                         Text("It is sunny in Paris."))
    ann = tg.private_chat(42)

    tg.user_sends(ann, 42, "weather in Paris?")

    [final] = await world.wait_final(ann.id, "It is sunny in Paris.", timeout=3.0)
    assert final.text == "It is sunny in Paris."
    assert STATUS in [draft.text for draft in tg.drafts(ann)]  # shown while the tool ran
    assert calls == [{"city": "Paris"}]
    first, second = world.gateway.chat_requests()
    assert [t["function"]["name"] for t in first["tools"]] == ["generate_image", "weather"]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["content"] == "Paris: sunny, 24°C"


async def test_group_answer_message_shows_the_tool_status_then_is_replaced(
        world: TelegramWorld) -> None:
    tg = world.tg
    calls = register_weather(world, delay=0.6)
    world.gateway.script(ToolCalls([("weather", '{"city":"Paris"}')]),
                         Text("It is sunny in Paris."))
    group = tg.group_chat(-100777)
    text, entities = tg.mention_text("weather in Paris?")

    tg.user_sends(group, 7, text, entities=entities)

    [final] = await world.wait_final(group.id, "It is sunny in Paris.", timeout=3.0)
    assert final.text == "It is sunny in Paris."
    assert final.history[0] == STATUS  # the message appeared with the tool status
    assert final.edits >= 1 and not final.reply_markup
    assert calls == [{"city": "Paris"}]


def png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


async def present(world: TelegramWorld, chat_id: int, events: list[TurnEvent], *,
                  private: bool) -> None:
    """Run the adapter's StreamPresenter over a synthetic ticket (no core turn emits
    ``ImageReady`` yet)."""
    ticket = TurnTicket("en", lambda _ticket: None)
    for event in events:
        ticket.emit(event)
    handlers = world.bot.handlers
    turn = handlers.turns.add(ticket, 42, Destination(chat_id, None, private))
    presenter = StreamPresenter(world.bot.bot, handlers.limiter, world.core, turn, FAST_TIMINGS)
    try:
        await asyncio.wait_for(presenter.run(), 3.0)
    finally:
        handlers.turns.remove(turn)


async def test_images_of_a_turn_are_sent_as_photos_after_the_text(world: TelegramWorld
                                                                  ) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    await present(world, ann.id, [
        TurnStarted("t1", "img-model"), TextDelta("Here is your cat."),
        ImageReady(data=png(), caption="a cat"),
        ImageReady(url="https://images.example.test/dog.png", caption="a dog"),
        TurnFinal("t1", "img-model", "Here is your cat."),
    ], private=True)

    text, cat, dog = tg.bot_messages(ann)
    assert text.text == "Here is your cat." and not text.photo
    assert cat.photo and cat.text == "a cat"
    assert dog.photo and dog.text == "a dog"
    uploads = [c for c in tg.calls_of("sendPhoto") if c.files]
    assert len(uploads) == 1  # bytes are uploaded, the URL is passed through
    [by_url] = [c for c in tg.calls_of("sendPhoto") if not c.files]
    assert by_url.params["photo"] == "https://images.example.test/dog.png"


async def test_image_caption_is_cut_to_telegrams_limit_in_groups(world: TelegramWorld) -> None:
    tg = world.tg
    group = tg.group_chat(-100888)
    await present(world, group.id, [
        TurnStarted("t2", "img-model"),
        ImageReady(data=png((200, 0, 0)), caption="x" * 1500),
        TurnFinal("t2", "img-model", "Done."),
    ], private=False)

    answer, image = tg.bot_messages(group)
    assert answer.text == "Done."
    assert image.photo and image.text == "x" * 1024


async def test_emoji_caption_is_cut_in_utf16_units_and_the_image_still_arrives(
        world: TelegramWorld) -> None:
    tg = world.tg
    ann = tg.private_chat(42)
    caption = "a" + "🐱" * 600  # 601 characters but 1201 UTF-16 units: over Telegram's 1024
    await present(world, ann.id, [
        TurnStarted("t3", "img-model"), ImageReady(data=png(), caption=caption),
        TurnFinal("t3", "img-model", "Cats."),
    ], private=True)

    answer, image = tg.bot_messages(ann)
    assert answer.text == "Cats."
    assert image.photo and image.text == "a" + "🐱" * 511  # no half emoji at the cut
