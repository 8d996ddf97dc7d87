"""The SSE reader (``core.gateway.sse``) and the assembler, on edge cases of the wire format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from core.errors import ContentRefused, StreamCut, Unavailable
from core.gateway import ChatChunk, ChatRequest, GatewayClient, ToolCall
from core.gateway.sse import MalformedEvent, ServerSentEvent, SSEDecoder, parse_event
from core.gateway.streaming import StreamAssembler

API_KEY = "sk-sse-secret-0123456789"
HELLO = ChatRequest(model="gpt-4", messages=[{"role": "user", "content": "hi"}])


def decode(*pieces: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [event for piece in pieces for event in decoder.feed(piece)]


def delta(content: str | None = None, finish: str | None = None, **extra: Any) -> bytes:
    body: dict[str, Any] = {"content": content} if content is not None else {}
    body.update(extra)
    chunk = {"choices": [{"index": 0, "delta": body, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


# -- decoder -------------------------------------------------------------------------


def test_multi_line_data_is_joined_with_newlines() -> None:
    events = decode(b'data: {"a":\ndata: 1,\ndata:"b": "x"}\n\n')

    assert events == [ServerSentEvent(None, b'{"a":\n1,\n"b": "x"}')]
    assert json.loads(events[0].data) == {"a": 1, "b": "x"}


def test_comments_ids_retries_and_unknown_fields_are_ignored() -> None:
    events = decode(b": keep-alive\n\n: ping\nid: 7\nretry: 100\nfoo: bar\ndata: 1\n\n")

    assert events == [ServerSentEvent(None, b"1")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_line_ending_works(newline: bytes) -> None:
    stream = newline.join([b"event: message", b"data: a", b"data: b", b"", b"data: c", b"", b""])

    assert decode(stream) == [ServerSentEvent("message", b"a\nb"), ServerSentEvent(None, b"c")]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_events_split_at_any_byte_decode_the_same(newline: bytes) -> None:
    stream = newline.join([b": hi", b"data: {\"x\": \"\xc3\xa9\"}", b"", b"data: [DONE]", b"", b""])
    whole = decode(stream)

    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == whole
    for cut in range(len(stream)):
        assert decode(stream[:cut], stream[cut:]) == whole
    assert whole == [ServerSentEvent(None, '{"x": "é"}'.encode()), ServerSentEvent(None, b"[DONE]")]


def test_events_without_data_and_unterminated_events_are_dropped() -> None:
    assert decode(b"event: ping\n\nid: 3\n\ndata: tail-without-blank-line\n") == []


def test_bare_data_field_and_missing_space() -> None:
    assert decode(b"data\ndata:x\n\n") == [ServerSentEvent(None, b"\nx")]


# -- event parsing --------------------------------------------------------------------


def test_done_and_json_objects() -> None:
    assert parse_event(ServerSentEvent(None, b"[DONE]")) is None
    assert parse_event(ServerSentEvent(None, b'{"choices": []}')) == {"choices": []}


@pytest.mark.parametrize("data", [b'{"id": oops', b"", b"[1, 2]", b'"text"', b"\xff\xfe{}"])
def test_non_objects_are_malformed(data: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_event(ServerSentEvent(None, data))


def test_error_objects_and_error_events_are_typed_and_redacted() -> None:
    refused = json.dumps({"error": {"message": "sensitive words", "code": "content_filter"}})
    with pytest.raises(ContentRefused):
        parse_event(ServerSentEvent(None, refused.encode()))
    with pytest.raises(ContentRefused):
        parse_event(ServerSentEvent("error", refused.encode()))
    with pytest.raises(Unavailable) as caught:
        parse_event(ServerSentEvent("error", f"upstream died, key {API_KEY}".encode()),
                    secret=API_KEY)
    assert API_KEY not in str(caught.value)
    with pytest.raises(Unavailable):
        parse_event(ServerSentEvent("error", b'{"message": "overloaded"}'))
    assert parse_event(ServerSentEvent(None, b'{"error": null, "choices": []}')) == {
        "error": None, "choices": []
    }


# -- assembler ------------------------------------------------------------------------


def tool_delta(index: int, call_id: str | None = None, name: str | None = None,
               arguments: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {"index": index, "function": {}}
    if call_id:
        call["id"] = call_id
    if name is not None:
        call["function"]["name"] = name
    if arguments is not None:
        call["function"]["arguments"] = arguments
    return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}


def test_assembler_handles_relay_quirks() -> None:
    assembler = StreamAssembler()
    for chunk in [
        tool_delta(0, "call_a", "get_time", ""),
        tool_delta(0, None, "get_time", '{"tz":'),  # the name repeated per delta
        tool_delta(0, None, None, '"UTC"}'),
        tool_delta(0, "call_b", "get_weather", '{"city": "Oslo"}'),  # index 0 reused
        {"choices": [{"index": 1, "delta": {"content": "other choice"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}},
    ]:
        assert assembler.feed(chunk) == ""

    final = assembler.final_chunk()
    assert assembler.started
    assert final.finish_reason == "tool_calls"
    assert final.tool_calls == [
        ToolCall(id="call_a", name="get_time", arguments='{"tz":"UTC"}'),
        ToolCall(id="call_b", name="get_weather", arguments='{"city": "Oslo"}'),
    ]
    assert final.usage is not None and final.usage.total_tokens == 13


def test_assembler_ignores_odd_shapes() -> None:
    assembler = StreamAssembler()
    odd: list[dict[str, Any]] = [
        {"choices": None}, {"choices": [None, {"delta": None}]}, {"usage": None},
        {"choices": [{"delta": {"content": 5, "tool_calls": "x"}}]},
    ]
    for chunk in odd:
        assert assembler.feed(chunk) == ""
    assert not assembler.started
    assert assembler.feed({"choices": [{"delta": {"content": "ok"}}]}) == "ok"


# -- through the client ---------------------------------------------------------------


class Body(httpx2.AsyncByteStream):
    """A streamed body that records whether it was closed; raises ``fail`` at its end."""

    def __init__(self, pieces: list[bytes], fail: Exception | None = None) -> None:
        self.pieces = pieces
        self.fail = fail
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail is not None:
            raise self.fail

    async def aclose(self) -> None:
        self.closed = True


def gateway(*bodies: Body) -> GatewayClient:
    queue = list(bodies)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"},
                               stream=queue.pop(0))

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return GatewayClient("http://gateway.test", API_KEY, max_retries=1, backoff_base=0.01,
                         http_client=http)


async def collect(client: GatewayClient) -> list[ChatChunk]:
    return [chunk async for chunk in client.stream_chat(HELLO)]


async def test_crlf_comments_and_split_lines_reach_the_caller() -> None:
    wire = (b": OPENROUTER PROCESSING\r\n\r\n"
            + delta("Hel").replace(b"\n", b"\r\n")
            + b'data: {"choices": [{"index": 0,\r\ndata: "delta": {"content": "lo"}}]}\r\n\r\n'
            + delta(finish="stop") + b"data: [DONE]\r\n\r\n")
    body = Body([wire[i : i + 7] for i in range(0, len(wire), 7)])

    chunks = await collect(gateway(body))

    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].finish_reason == "stop"
    assert body.closed


async def test_error_event_mid_stream_cuts_the_stream() -> None:
    error = b'event: error\ndata: {"error": {"message": "upstream reset"}}\n\n'
    body = Body([delta("partial"), error, delta(finish="stop")])

    received: list[ChatChunk] = []
    with pytest.raises(StreamCut):
        async for chunk in gateway(body).stream_chat(HELLO):
            received.append(chunk)

    assert [c.text for c in received] == ["partial"]
    assert body.closed


async def test_error_event_before_first_token_is_retried() -> None:
    first = Body([b"event: error\ndata: upstream busy\n\n"])
    second = Body([delta("fine"), delta(finish="stop")])

    chunks = await collect(gateway(first, second))

    assert "".join(c.text for c in chunks) == "fine"
    assert first.closed and second.closed


async def test_drop_mid_stream_is_a_stream_cut_and_late_faults_are_ignored() -> None:
    cut = Body([delta("half")], fail=httpx2.RemoteProtocolError("peer closed connection"))
    with pytest.raises(StreamCut, match="after 4 chars"):
        await collect(gateway(cut))
    assert cut.closed

    late = Body([delta("done", finish="stop"), b"data: {oops\n\n"],
                fail=httpx2.ReadError("reset"))
    chunks = await collect(gateway(late))
    assert chunks[-1].finish_reason == "stop"


async def test_stopping_early_closes_the_response() -> None:
    body = Body([delta("one"), delta("two"), delta(finish="stop")])
    stream = gateway(body).stream_chat(HELLO)

    assert (await anext(stream)).text == "one"
    await stream.aclose()

    assert body.closed
