"""Gateways that bend the OpenAI protocol (docs/GATEWAY_QUIRKS.md), over real HTTP.

Each quirk: one gateway request (the fake's request log), the answer or the typed error
the user needs, and no retry once an answer was shown or billed.
"""

from __future__ import annotations

import json

import pytest

from core.errors import (
    AuthFailed,
    ContentRefused,
    ContextTooLong,
    GatewayError,
    QuotaExceeded,
    RateLimited,
    StreamCut,
    Unavailable,
    UnknownModel,
)
from core.events import Usage
from core.gateway import ChatChunk, ChatRequest, GatewayClient, ToolCall
from core.gateway.errors import error_from_status
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import (
    DoneWithoutFinish,
    ErrorBody200,
    HttpError,
    JsonCompletion,
    Raw200,
    Reply,
    SSEErrorLine,
    Text,
    ToolCalls,
    error_body,
    length,
)

API_KEY = "sk-quirks-secret-0123456789"
HELLO = ChatRequest(model="gpt-4", messages=[{"role": "user", "content": "hello"}])
QUOTA_MESSAGE = "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"


def make_client(fake: FakeGateway, retries: int = 3) -> GatewayClient:
    return GatewayClient(fake.url, API_KEY, timeout=5.0, max_retries=retries,
                         backoff_base=0.01)


async def collect(fake: FakeGateway, retries: int = 3) -> list[ChatChunk]:
    async with make_client(fake, retries) as client:
        return [chunk async for chunk in client.stream_chat(HELLO)]


def chunk(content: str | None = None, finish: str | None = None, index: int = 0,
          **extra: object) -> bytes:
    choice: dict[str, object] = {"index": index, "delta": {"content": content},
                                 "finish_reason": finish}
    body = {"choices": [choice], **extra}
    return b"data:" + json.dumps(body).encode() + b"\n\n"


# -- 1. [DONE] without a finish_reason -----------------------------------------------


async def test_done_without_finish_reason_is_a_complete_answer(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(DoneWithoutFinish("all of it, really"))

    chunks = await collect(fake_gateway)

    assert "".join(c.text for c in chunks) == "all of it, really"
    assert chunks[-1].finish_reason == "stop"
    assert len(fake_gateway.chat_requests()) == 1


async def test_body_ending_without_done_or_finish_is_still_cut(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(DoneWithoutFinish("half an answ", done=False))

    with pytest.raises(StreamCut):
        await collect(fake_gateway)
    assert len(fake_gateway.chat_requests()) == 1  # text was shown: never retried


async def test_done_without_blank_line_at_end_of_body_counts() -> None:
    body = chunk("complete") + b"data: [DONE]"  # no trailing blank line
    async with FakeGateway() as fake:
        fake.script(Raw200(body))
        chunks = await collect(fake)
    assert [c.text for c in chunks] == ["complete", ""]
    assert chunks[-1].finish_reason == "stop"


# -- 2. a JSON completion answering a streaming request ---------------------------------


async def test_json_completion_answers_a_streaming_request(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(JsonCompletion(Text("whole answer at once", usage=Usage(12, 5))))

    chunks = await collect(fake_gateway)

    assert "".join(c.text for c in chunks) == "whole answer at once"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(12, 5)
    assert len(fake_gateway.chat_requests()) == 1
    assert fake_gateway.chat_requests()[0]["stream"] is True


async def test_json_completion_with_tool_calls_and_length(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(
        JsonCompletion(ToolCalls([("get_time", '{"tz": "UTC"}'), ("roll", "{}")])),
        JsonCompletion(length("cut by the limit")),
    )

    calls = await collect(fake_gateway)
    capped = await collect(fake_gateway)

    assert calls[-1].finish_reason == "tool_calls"
    assert calls[-1].tool_calls == [
        ToolCall("call_fake0", "get_time", '{"tz": "UTC"}'), ToolCall("call_fake1", "roll", "{}"),
    ]
    assert capped[-1].finish_reason == "length"
    assert "".join(c.text for c in capped) == "cut by the limit"
    assert len(fake_gateway.chat_requests()) == 2


async def test_json_completion_without_finish_reason_is_complete() -> None:
    body = json.dumps({"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "fine"},
         "finish_reason": None}]}).encode()
    async with FakeGateway() as fake:
        fake.script(Raw200(body, "application/json"))
        chunks = await collect(fake)
        assert len(fake.chat_requests()) == 1
    assert [c.text for c in chunks] == ["fine", ""]
    assert chunks[-1].finish_reason == "stop"


# -- 3. error objects with HTTP 200 ----------------------------------------------------


@pytest.mark.parametrize("reply", [
    ErrorBody200(QUOTA_MESSAGE),
    SSEErrorLine(QUOTA_MESSAGE),
    SSEErrorLine(QUOTA_MESSAGE, named=True),
    SSEErrorLine(QUOTA_MESSAGE, after_chunks=2),
    ErrorBody200("预扣费额度失败", "pre_consume_token_quota_failed"),
    ErrorBody200("You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
    ErrorBody200("额度不足", "quota_not_enough"),
    HttpError(403, error_body("用户额度不足, 剩余额度: $0.00", "insufficient_user_quota",
                              "new_api_error")),
    HttpError(429, error_body("You exceeded your current quota", "insufficient_quota")),
])
async def test_quota_errors_are_not_retried_and_keep_the_gateway_reason(
    fake_gateway: FakeGateway, reply: Reply,
) -> None:
    fake_gateway.script(reply)

    with pytest.raises(QuotaExceeded) as caught:
        await collect(fake_gateway)

    assert len(fake_gateway.chat_requests()) == 1
    detail = caught.value.params["detail"]
    assert detail and detail in str(caught.value)
    assert API_KEY not in str(caught.value)
    if reply == ErrorBody200(QUOTA_MESSAGE):
        assert detail == "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"


@pytest.mark.parametrize(("code", "expected"), [
    ("model_not_found", UnknownModel),
    ("context_length_exceeded", ContextTooLong),
    ("sensitive_words_detected", ContentRefused),
    ("prompt_blocked", ContentRefused),
    ("invalid_api_key", AuthFailed),
])
async def test_known_codes_in_200_bodies_are_typed_and_not_retried(
    fake_gateway: FakeGateway, code: str, expected: type[GatewayError],
) -> None:
    fake_gateway.script(ErrorBody200("upstream says no", code), SSEErrorLine("no", code))

    for _ in range(2):
        with pytest.raises(expected):
            await collect(fake_gateway)

    assert len(fake_gateway.chat_requests()) == 2


async def test_rate_limit_code_with_200_is_retried_before_any_text(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(ErrorBody200("slow down", "rate_limit_exceeded", "rate_limit_error"))

    chunks = await collect(fake_gateway)

    assert "".join(c.text for c in chunks) == "echo: hello"
    assert len(fake_gateway.chat_requests()) == 2


def test_codes_beat_status_and_text() -> None:
    quota = error_from_status(403, {"error": {"message": "x", "code": "insufficient_user_quota"}})
    limited = error_from_status(200, {"error": {"message": "x", "type": "rate_limit_exceeded"}},
                                {"retry-after": "3"})
    zhipu = error_from_status(None, {"code": 1113, "msg": "余额不足或无可用资源包,请充值。"})
    assert type(quota) is QuotaExceeded
    assert isinstance(limited, RateLimited) and limited.retry_after == 3
    assert type(zhipu) is QuotaExceeded and zhipu.params["detail"].startswith("余额不足")


# -- 5. tolerant stream reading ------------------------------------------------------------


QUIRKY_STREAM = b"".join([
    b": keep-alive\n\n",
    b'data:{"choices": null}\n\n',                       # choices null
    b'data: {"choices": []}\n\n',                        # empty choices
    b'data: {"choices": [{"index": 0}]}\n\n',            # delta missing
    b'data: {"choices": [{"index": 0, "delta": {"content": null}}]}\n\n',
    chunk("Hel"),                                        # "data:" without a space
    b": ping\n\n",
    chunk("lo", "stop"),                                 # finish on a content chunk
    b'data: {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}\n\n',
    b"data: [DONE]\n\n",
])


async def test_tolerated_stream_shapes() -> None:
    async with FakeGateway() as fake:
        fake.script(Raw200(QUIRKY_STREAM))
        chunks = await collect(fake)
        assert len(fake.chat_requests()) == 1

    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(7, 2)


async def test_a_single_choice_with_a_non_zero_index_is_followed() -> None:
    body = chunk("one ", index=1) + chunk("two", index=1) + chunk(None, "stop", index=1)
    async with FakeGateway() as fake:
        fake.script(Raw200(body + b"data: [DONE]\n\n", "text/plain; charset=utf-8"))
        chunks = await collect(fake)
    assert "".join(c.text for c in chunks) == "one two"


@pytest.mark.parametrize("reply", [
    SSEErrorLine(error={"error": "upstream exploded"}),
    SSEErrorLine(error={"error": "upstream exploded"}, named=True),
    Raw200(b"event: error\ndata: upstream exploded\n\n"),
])
async def test_error_events_and_string_errors_before_text_are_retried(
    fake_gateway: FakeGateway, reply: Reply,
) -> None:
    fake_gateway.script(reply)

    chunks = await collect(fake_gateway)

    assert "".join(c.text for c in chunks) == "echo: hello"
    assert len(fake_gateway.chat_requests()) == 2


@pytest.mark.parametrize(("body", "content_type"), [
    (b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>", "text/html"),
    (b"upstream connect error or disconnect/reset before headers", "text/plain"),
])
async def test_error_pages_with_200_are_unavailable_and_retried(
    fake_gateway: FakeGateway, body: bytes, content_type: str,
) -> None:
    fake_gateway.script(Raw200(body, content_type), Raw200(body, content_type))

    with pytest.raises(Unavailable) as caught:
        await collect(fake_gateway, retries=1)

    assert len(fake_gateway.chat_requests()) == 2
    assert "<" not in str(caught.value)


async def test_text_page_naming_the_quota_is_a_quota_error(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Raw200("该令牌额度已用尽".encode(), "text/plain; charset=utf-8"))

    with pytest.raises(QuotaExceeded):
        await collect(fake_gateway)
    assert len(fake_gateway.chat_requests()) == 1


async def test_non_streamed_chat_with_a_200_quota_body_is_not_retried(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(ErrorBody200(QUOTA_MESSAGE))

    async with make_client(fake_gateway) as client:
        with pytest.raises(QuotaExceeded):
            await client.chat(HELLO)
    assert len(fake_gateway.chat_requests()) == 1


def tool_chunk(index: int, call_id: str | None, name: str | None, arguments: str) -> bytes:
    call: dict[str, object] = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        call["id"] = call_id
        call["type"] = "function"
    if name:
        call["function"] = {"name": name, "arguments": arguments}
    body = {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


async def test_tool_calls_then_done_without_finish_are_complete() -> None:
    body = (tool_chunk(0, "call_1", "get_time", '{"tz":') + tool_chunk(0, None, None, '"UTC"}')
            + b"data: [DONE]\n\n")
    async with FakeGateway() as fake:
        fake.script(Raw200(body))
        chunks = await collect(fake)
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].tool_calls == [ToolCall("call_1", "get_time", '{"tz":"UTC"}')]


async def test_message_instead_of_delta_and_empty_finish_reason() -> None:
    body = (b'data: {"choices": [{"index": 0, "message": {"content": "as message"},'
            b' "finish_reason": ""}]}\n\n'
            + chunk(None, "stop") + b"data: [DONE]\n\n")
    async with FakeGateway() as fake:
        fake.script(Raw200(body))
        chunks = await collect(fake)
    assert [c.text for c in chunks] == ["as message", ""]
    assert chunks[-1].finish_reason == "stop"


async def test_an_empty_200_body_is_retried(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(Raw200(b""))

    chunks = await collect(fake_gateway)

    assert "".join(c.text for c in chunks) == "echo: hello"
    assert len(fake_gateway.chat_requests()) == 2


async def test_invalid_utf8_in_a_comment_is_harmless() -> None:
    body = b": keep-alive \xff\xfe\n\n" + chunk("fine", "stop") + b"data: [DONE]\n\n"
    async with FakeGateway() as fake:
        fake.script(Raw200(body))
        chunks = await collect(fake)
    assert "".join(c.text for c in chunks) == "fine"
