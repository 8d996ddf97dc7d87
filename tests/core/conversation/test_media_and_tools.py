"""Images, documents and tool calls through a real turn."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from PIL import Image

from core.app import ChatCore
from core.conversation.inputs import UserMessage
from core.errors import UserInputError
from core.events import ToolCallFinished, ToolCallStarted, TurnFailed, TurnFinal
from core.tools import Tool
from tests.core.conftest import ANN, PRIVATE, say
from tests.core.conversation.test_turns import history
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text, ToolCalls


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_a_photo_goes_to_a_vision_model_as_base64(core: ChatCore,
                                                        fake_gateway: FakeGateway) -> None:
    await core.run_command("model", {"name": "gpt-4-vision-preview"}, PRIVATE, ANN)
    image = core.media.prepare_image(png(4000, 1000), "image/png")
    assert max(Image.open(io.BytesIO(image.data)).size) == 2048
    events = await say(core, "what colour?", images=(image,))
    assert isinstance(events[-1], TurnFinal)
    content = fake_gateway.chat_requests()[-1]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "what colour?"}
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/") and base64.b64decode(url.split(",", 1)[1])
    assert await history(core) == [("user", "what colour?"), ("assistant", events[-1].text)]
    await say(core, "and now?")  # later turns carry a placeholder, not the bytes again
    assert fake_gateway.chat_requests()[-1]["messages"][0] == {
        "role": "user", "content": "[image] what colour?"}


async def test_a_photo_to_a_text_model_is_refused_with_vision_models_named(
        core: ChatCore, fake_gateway: FakeGateway) -> None:
    image = core.media.prepare_image(png(10, 10), "image/png")
    failed = (await say(core, "see?", images=(image,)))[-1]
    assert isinstance(failed, TurnFailed) and failed.key == "error.no_vision"
    text = core.failure_text(failed, "en")
    assert "gpt-3.5-turbo" in text and "gpt-4-vision-preview" in text
    assert fake_gateway.chat_requests() == []


def test_bad_media_is_refused_clearly(core: ChatCore) -> None:
    with pytest.raises(UserInputError) as unreadable:
        core.media.prepare_image(b"not an image", "image/png")
    assert unreadable.value.key == "error.image_unreadable"
    with pytest.raises(UserInputError) as unsupported:
        core.media.read_text_document("archive.zip", b"PK\x03\x04", "application/zip")
    assert "archive.zip" in core.error_text(unsupported.value, "en")
    with pytest.raises(UserInputError) as huge:
        core.media.prepare_image(b"x" * (core.settings.max_image_bytes + 1), "image/png")
    assert huge.value.key == "error.image_too_large"


async def test_a_text_document_is_read_into_the_prompt(core: ChatCore,
                                                       fake_gateway: FakeGateway) -> None:
    document = core.media.read_text_document("notes.md", "# 标题\nline two".encode(), None)
    await say(core, "summarize", documents=(document,))
    sent = fake_gateway.chat_requests()[-1]["messages"][-1]["content"]
    assert sent.startswith("summarize") and "--- notes.md ---\n# 标题\nline two" in sent
    big = core.media.read_text_document("big.txt", ("word " * 50000).encode(), "text/plain")
    assert big.truncated and len(big.text) < 250000


async def test_tool_calls_run_and_the_answer_follows(core: ChatCore,
                                                     fake_gateway: FakeGateway) -> None:
    async def weather(args: dict[str, Any]) -> str:
        return json.dumps({"city": args["city"], "sky": "sunny"})

    core.tools.register(Tool("weather", "Weather in a city",
                             {"type": "object", "properties": {"city": {"type": "string"}}},
                             weather))
    fake_gateway.script(ToolCalls([("weather", '{"city": "Paris"}')]),
                        Text("It is sunny in Paris."))
    events = await say(core, "weather in Paris?")
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert started.name == "weather" and finished.ok and "sunny" in finished.result
    assert isinstance(events[-1], TurnFinal) and events[-1].text == "It is sunny in Paris."
    first, second = fake_gateway.chat_requests()
    assert first["tools"][-1]["function"]["name"] == "weather"  # after generate_image
    assert second["messages"][-1]["role"] == "tool" and "sunny" in second["messages"][-1][
        "content"]
    roles = [role for role, _ in await history(core)]
    assert roles == ["user", "assistant", "tool", "assistant"]
    await say(core, "and tomorrow?")
    replayed = fake_gateway.chat_requests()[-1]["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "tool", "assistant", "user"]
    assert replayed[1]["tool_calls"][0]["function"]["name"] == "weather"


async def test_model_override_for_one_question(core: ChatCore,
                                               fake_gateway: FakeGateway) -> None:
    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="hi", model_override="glm4"))
    assert isinstance(await ticket.wait(), TurnFinal)
    assert fake_gateway.chat_requests()[-1]["model"] == "glm-4"
    ticket = await core.submit(PRIVATE, ANN, UserMessage(text="hi", model_override="nope-9"))
    failed = await ticket.wait()
    assert isinstance(failed, TurnFailed) and failed.key == "error.unknown_model"


async def test_text_before_a_tool_call_is_stored_once(core: ChatCore,
                                                      fake_gateway: FakeGateway) -> None:
    async def clock(args: dict[str, Any]) -> str:
        return "12:00"

    core.tools.register(Tool("clock", "The time", {"type": "object", "properties": {}}, clock))
    fake_gateway.script(ToolCalls([("clock", "{}")], text="Let me check. "),
                        Text("It is noon."))
    final = (await say(core, "what time is it?"))[-1]
    assert isinstance(final, TurnFinal) and final.text == "Let me check. It is noon."
    assert [content for _, content in await history(core)] == [
        "what time is it?", "Let me check. ", "12:00", "It is noon."]
