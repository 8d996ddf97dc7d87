"""GatewayClient failure handling: retries, backoff and typed errors, over real HTTP."""

from __future__ import annotations

import asyncio
import traceback
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from core.errors import (
    AuthFailed,
    BadRequest,
    ContentRefused,
    ContextTooLong,
    GatewayError,
    GatewayTimeout,
    RateLimited,
    StreamCut,
    Unavailable,
    UnknownModel,
)
from core.gateway import ChatChunk, ChatRequest, GatewayClient
from core.gateway.retry import Backoff, parse_retry_after
from tests.fakes.gateway import FakeGateway
from tests.fakes.gateway_replies import (
    CutStream,
    Hang,
    HttpError,
    MalformedChunk,
    RateLimit,
    Reply,
    ServerError,
    SlowFirstToken,
    StreamError,
    Text,
    content_refused,
    context_too_long,
    error_body,
    model_not_found,
    unauthorized,
)

API_KEY = "sk-secret-key-do-not-leak-42"
HELLO = ChatRequest(model="gpt-4", messages=[{"role": "user", "content": "hello"}])


def make_client(fake: FakeGateway, *, waits: list[float] | None = None,
                **options: float) -> GatewayClient:
    """A client of ``fake``; with ``waits``, retry waits are recorded there (seconds)
    instead of slept."""
    settings: dict[str, float] = {"timeout": 5.0, "max_retries": 2, "backoff_base": 0.01}
    settings.update(options)

    async def record(seconds: float) -> None:
        assert waits is not None
        waits.append(seconds)

    return GatewayClient(
        fake.url, API_KEY,
        timeout=settings["timeout"],
        max_retries=int(settings["max_retries"]),
        backoff_base=settings["backoff_base"],
        sleep=record if waits is not None else asyncio.sleep,
    )


async def stream_text(client: GatewayClient, received: list[ChatChunk] | None = None) -> str:
    chunks = received if received is not None else []
    async for chunk in client.stream_chat(HELLO):
        chunks.append(chunk)
    return "".join(c.text for c in chunks)


async def test_rate_limit_is_retried_after_retry_after(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(RateLimit(retry_after=1))
    # A huge backoff base proves the wait comes from Retry-After, not from backoff.
    waits: list[float] = []
    async with make_client(fake_gateway, waits=waits, backoff_base=30) as client:
        text = await stream_text(client)

    assert text == "echo: hello"
    assert waits == [1.0]  # one wait, as long as Retry-After said
    assert len(fake_gateway.chat_requests()) == 2


async def test_exhausted_rate_limit_raises_rate_limited(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(RateLimit(retry_after=0.2), RateLimit(retry_after=0.2))
    waits: list[float] = []
    async with make_client(fake_gateway, waits=waits, max_retries=1) as client:
        with pytest.raises(RateLimited) as caught:
            await client.chat(HELLO)

    assert waits == [pytest.approx(0.2)]  # waited once, then gave up

    assert caught.value.retry_after == pytest.approx(0.2)
    assert caught.value.params["retry_after"] == pytest.approx(0.2)
    assert len(fake_gateway.chat_requests()) == 2


async def test_server_errors_raise_unavailable_after_retries(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(ServerError(500), ServerError(502), ServerError(503))
    async with make_client(fake_gateway, max_retries=2) as client:
        with pytest.raises(Unavailable):
            await stream_text(client)

    assert len(fake_gateway.chat_requests()) == 3


async def test_server_error_before_first_token_is_retried(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(ServerError(502), CutStream(after_chunks=0), Text("second wind"))
    async with make_client(fake_gateway) as client:
        assert await stream_text(client) == "second wind"

    assert len(fake_gateway.chat_requests()) == 3


async def test_list_models_is_retried(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(ServerError(503), route="/v1/models")
    async with make_client(fake_gateway) as client:
        assert "gpt-4" in await client.list_models()

    assert len(fake_gateway.requests_to("/v1/models")) == 2


@pytest.mark.parametrize("streamed", [True, False])
async def test_hang_with_short_timeout_raises_gateway_timeout(
    fake_gateway: FakeGateway, streamed: bool
) -> None:
    fake_gateway.script(Hang(seconds=60))
    async with make_client(fake_gateway, timeout=0.3, max_retries=0) as client:
        # the guard only bounds a broken run: GatewayTimeout (not TimeoutError) proves
        # the client's own 0.3 s timeout ended the wait
        async with asyncio.timeout(10):
            with pytest.raises(GatewayTimeout):
                await (stream_text(client) if streamed else client.chat(HELLO))

    assert len(fake_gateway.chat_requests()) == 1


async def test_cut_after_first_token_raises_stream_cut_without_retry(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(CutStream("one two three four", after_chunks=2, chunk_size=4))
    received: list[ChatChunk] = []
    async with make_client(fake_gateway, max_retries=3) as client:
        with pytest.raises(StreamCut):
            await stream_text(client, received)

    assert [c.text for c in received] == ["one ", "two "]
    assert len(fake_gateway.chat_requests()) == 1


async def test_stream_without_finish_reason_but_done_is_complete(
    fake_gateway: FakeGateway,
) -> None:
    fake_gateway.script(Text("unmarked but complete", finish_reason=None))
    received: list[ChatChunk] = []
    async with make_client(fake_gateway) as client:
        await stream_text(client, received)

    assert "".join(c.text for c in received) == "unmarked but complete"
    assert received[-1].finish_reason == "stop"
    assert len(fake_gateway.chat_requests()) == 1


async def test_malformed_chunk_raises_stream_cut(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(MalformedChunk(after_chunks=1, text="garbled"))
    received: list[ChatChunk] = []
    async with make_client(fake_gateway) as client:
        with pytest.raises(StreamCut, match="malformed"):
            await stream_text(client, received)

    assert [c.text for c in received] == ["garb"]
    assert len(fake_gateway.chat_requests()) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (StreamError("prompt contains sensitive words", "content_filter"), ContentRefused),
        (StreamError("upstream read error"), StreamCut),
        (StreamError("upstream read error", after_chunks=0), Unavailable),
    ],
)
async def test_error_event_inside_stream_is_typed(
    fake_gateway: FakeGateway, reply: Reply, expected: type[GatewayError]
) -> None:
    fake_gateway.script(reply)
    async with make_client(fake_gateway, max_retries=0) as client:
        with pytest.raises(GatewayError) as caught:
            await stream_text(client)

    assert type(caught.value) is expected
    assert len(fake_gateway.chat_requests()) == 1


async def test_malformed_json_answer_raises_unavailable(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(MalformedChunk(), MalformedChunk())
    async with make_client(fake_gateway, max_retries=1) as client:
        with pytest.raises(Unavailable, match="malformed"):
            await client.chat(HELLO)


async def test_slow_first_token_still_answers(fake_gateway: FakeGateway) -> None:
    fake_gateway.script(SlowFirstToken(0.4, then=Text("worth the wait")))
    async with make_client(fake_gateway, timeout=2.0) as client:
        assert await stream_text(client) == "worth the wait"

    assert len(fake_gateway.chat_requests()) == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (unauthorized(), AuthFailed),
        (HttpError(403, error_body("forbidden")), AuthFailed),
        (context_too_long(), ContextTooLong),
        (model_not_found("gpt-9"), UnknownModel),
        (HttpError(404, error_body("The model `gpt-9` does not exist", "model_not_found")),
         UnknownModel),
        (content_refused(), ContentRefused),
        (HttpError(422, error_body("temperature must be <= 2")), BadRequest),
    ],
)
@pytest.mark.parametrize("streamed", [True, False])
async def test_client_errors_are_typed_and_not_retried(
    fake_gateway: FakeGateway, reply: Reply, expected: type[GatewayError], streamed: bool
) -> None:
    fake_gateway.script(reply)
    async with make_client(fake_gateway, max_retries=3) as client:
        with pytest.raises(GatewayError) as caught:
            await (stream_text(client) if streamed else client.chat(HELLO))

    assert type(caught.value) is expected
    assert len(fake_gateway.chat_requests()) == 1


@pytest.mark.parametrize(
    "reply",
    [
        unauthorized(f"Invalid token {API_KEY}"),
        HttpError(400, error_body(f"key {API_KEY} has no access to this maximum context length")),
        HttpError(500, f"<html>upstream rejected Bearer {API_KEY}</html>"),
        RateLimit(retry_after=None),
        Hang(seconds=10),
        CutStream(after_chunks=1),
    ],
)
async def test_api_key_never_appears_in_errors(fake_gateway: FakeGateway, reply: Reply) -> None:
    fake_gateway.script(reply)
    async with make_client(fake_gateway, timeout=0.3, max_retries=0) as client:
        with pytest.raises(GatewayError) as caught:
            await stream_text(client)

    rendered = "".join(traceback.format_exception(caught.value))
    assert API_KEY not in rendered
    assert API_KEY not in repr(caught.value.params)
    assert fake_gateway.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_retry_after_parses_seconds_milliseconds_and_dates() -> None:
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    in_five = format_datetime(now + timedelta(seconds=5), usegmt=True)

    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": in_five}, now=now) == 5.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_grows_with_jitter_and_caps() -> None:
    backoff = Backoff(base=0.5, cap=4.0, retry_after_cap=30.0)

    assert 0.25 <= backoff.delay(0) <= 0.5
    assert 1.0 <= backoff.delay(2) <= 2.0
    assert 2.0 <= backoff.delay(10) <= 4.0
    assert backoff.delay(0, retry_after=7.0) == 7.0
    assert backoff.delay(0, retry_after=600.0) == 30.0


async def test_a_refused_connection_is_unavailable_not_a_timeout() -> None:
    """Nothing listens on the port: the chat stream, the model list and the SDK path
    all say "connection failed" (the vendored transport calls it ConnectTimeout)."""
    client = GatewayClient("http://127.0.0.1:1", "sk-test", max_retries=0)
    try:
        with pytest.raises(Unavailable, match="connection failed"):
            async for _ in client.stream_chat(ChatRequest("m", [{"role": "user",
                                                                 "content": "hi"}])):
                pass
        with pytest.raises(Unavailable, match="connection failed"):
            await client.list_models()
        with pytest.raises(Unavailable, match="connection failed"):
            await client.chat(ChatRequest("m", [{"role": "user", "content": "hi"}]))
    finally:
        await client.aclose()
