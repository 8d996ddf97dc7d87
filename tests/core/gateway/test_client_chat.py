"""GatewayClient happy paths, driven over HTTP against the FakeGateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from core.events import Usage
from core.gateway import ChatChunk, ChatRequest, GatewayClient, ToolCall
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import Text, ToolCalls

API_KEY = "sk-test-0123456789abcdef"
HELLO = ChatRequest(model="gpt-4", messages=[{"role": "user", "content": "hello there"}])

WEATHER_TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("get_weather", "get_time")
]


@pytest.fixture
async def client(fake_gateway: FakeGateway) -> AsyncIterator[GatewayClient]:
    async with GatewayClient(fake_gateway.url, API_KEY, timeout=5, backoff_base=0.01) as client:
        yield client


async def collect(client: GatewayClient, request: ChatRequest = HELLO) -> list[ChatChunk]:
    return [chunk async for chunk in client.stream_chat(request)]


async def test_streamed_answer_arrives_as_deltas(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    fake_gateway.script(Text("The quick brown fox", chunk_size=5))

    chunks = await collect(client)

    assert [c.text for c in chunks[:-1]] == ["The q", "uick ", "brown", " fox"]
    assert all(c.finish_reason is None for c in chunks[:-1])
    final = chunks[-1]
    assert final.text == ""
    assert final.finish_reason == "stop"
    assert final.tool_calls == []
    sent = fake_gateway.chat_requests()[0]
    assert sent["stream"] is True
    assert sent["model"] == "gpt-4"
    assert sent["messages"] == HELLO.messages


async def test_default_responder_echoes_last_user_text_parts(client: GatewayClient) -> None:
    request = ChatRequest(
        model="gpt-4-vision-preview",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is "},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "this?"},
            ]},
        ],
    )

    chunks = await collect(client, request)

    assert "".join(c.text for c in chunks) == "echo: what is this?"


async def test_non_streamed_chat_returns_whole_answer(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    request = ChatRequest(
        model="qwen-turbo", messages=HELLO.messages, temperature=0.2, max_tokens=64
    )

    result = await client.chat(request)

    assert result.text == "echo: hello there"
    assert result.model == "qwen-turbo"
    assert result.finish_reason == "stop"
    assert result.usage == Usage(prompt_tokens=3, completion_tokens=5)
    sent = fake_gateway.chat_requests()[0]
    assert not sent.get("stream")
    assert sent["temperature"] == 0.2
    assert sent["max_tokens"] == 64
    assert "tools" not in sent


async def test_parallel_tool_call_deltas_are_assembled(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    weather_args = json.dumps({"city": "Paris", "unit": "celsius"})
    time_args = json.dumps({"timezone": "Europe/Paris"})
    fake_gateway.script(ToolCalls([("get_weather", weather_args), ("get_time", time_args)],
                                  pieces=4))
    request = ChatRequest(model="gpt-4", messages=HELLO.messages, tools=WEATHER_TOOLS)

    chunks = await collect(client, request)

    assert [c.text for c in chunks] == [""]  # no text, only the final chunk
    final = chunks[-1]
    assert final.finish_reason == "tool_calls"
    assert final.tool_calls == [
        ToolCall(id="call_fake0", name="get_weather", arguments=weather_args),
        ToolCall(id="call_fake1", name="get_time", arguments=time_args),
    ]
    assert fake_gateway.chat_requests()[0]["tools"] == WEATHER_TOOLS


async def test_non_streamed_tool_calls(fake_gateway: FakeGateway, client: GatewayClient) -> None:
    fake_gateway.script(ToolCalls([("get_time", "{}")], text="Let me check."))

    result = await client.chat(ChatRequest("gpt-4", HELLO.messages, tools=WEATHER_TOOLS))

    assert result.text == "Let me check."
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == [ToolCall(id="call_fake0", name="get_time", arguments="{}")]


async def test_usage_from_trailing_chunk_is_captured(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    fake_gateway.script(Text("counted", usage=Usage(prompt_tokens=11, completion_tokens=7)))

    chunks = await collect(client)

    assert chunks[-1].usage == Usage(prompt_tokens=11, completion_tokens=7)
    assert fake_gateway.chat_requests()[0]["stream_options"] == {"include_usage": True}


async def test_stream_usage_can_be_switched_off(fake_gateway: FakeGateway) -> None:
    async with GatewayClient(fake_gateway.url, API_KEY, stream_usage=False) as client:
        chunks = await collect(client)

    assert "".join(c.text for c in chunks) == "echo: hello there"
    assert chunks[-1].usage is None
    assert "stream_options" not in fake_gateway.chat_requests()[0]


async def test_list_models_returns_ids(fake_gateway: FakeGateway, client: GatewayClient) -> None:
    fake_gateway.models = ["gpt-4", "glm-4", "moonshot-v1-8k"]

    assert await client.list_models() == ["gpt-4", "glm-4", "moonshot-v1-8k"]
    assert fake_gateway.requests_to("/v1/models", "GET")


async def test_api_key_reaches_the_gateway_as_bearer_token(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    await client.chat(HELLO)
    await client.list_models()

    assert [r.headers["authorization"] for r in fake_gateway.requests] == [
        f"Bearer {API_KEY}", f"Bearer {API_KEY}",
    ]


async def test_shared_http_client_is_kept_open_when_supplied(fake_gateway: FakeGateway) -> None:
    async with GatewayClient(fake_gateway.url, API_KEY) as owner:
        async with GatewayClient(fake_gateway.url, API_KEY, http_client=owner.http) as borrower:
            assert borrower.http is owner.http
            assert (await borrower.chat(HELLO)).text == "echo: hello there"
        assert not owner.http.is_closed
        assert (await owner.chat(HELLO)).text == "echo: hello there"
    assert owner.http.is_closed


async def test_many_concurrent_streams(fake_gateway: FakeGateway, client: GatewayClient) -> None:
    fake_gateway.record = False

    async def turn(n: int) -> str:
        request = ChatRequest("gpt-3.5-turbo", [{"role": "user", "content": f"turn {n}"}])
        return "".join(c.text for c in await collect(client, request))

    answers = await asyncio.gather(*(turn(n) for n in range(200)))

    assert answers == [f"echo: turn {n}" for n in range(200)]


async def test_stopping_a_stream_early_releases_it_at_once(
    fake_gateway: FakeGateway, client: GatewayClient
) -> None:
    fake_gateway.script(Text("word " * 40, chunk_size=5, delay=0.2))  # ~8 s if read fully

    async with aclosing(client.stream_chat(HELLO)) as chunks:
        first = await anext(chunks)

    assert first.text == "word "
    # the fake saw the client leave mid-stream (the guard is well under the 8 s stream)
    async with asyncio.timeout(4):
        while fake_gateway.client_disconnects < 1:
            await asyncio.sleep(0.01)
    assert fake_gateway.client_disconnects == 1
    assert (await client.chat(HELLO)).text == "echo: hello there"
