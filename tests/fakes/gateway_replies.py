"""Scripted replies for ``FakeGateway``: answers and faults.

Answers (``Text``, ``ToolCalls``, ``length()``) and chat-stream faults
(``SlowFirstToken``, ``CutStream``, ``MalformedChunk``, ``StreamError``) are rendered by
the chat route, as are the gateway quirks (``DoneWithoutFinish``, ``JsonCompletion``,
``ErrorBody200``, ``SSEErrorLine``, ``Raw200``; see docs/GATEWAY_QUIRKS.md).  ``HttpFault``
kinds (``RateLimit``, ``ServerError``, ``HttpError``, ``Hang``) work on every route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.events import Usage


@dataclass(frozen=True, slots=True)
class Text:
    """A text answer, streamed ``chunk_size`` characters per delta, ``delay`` s apart."""

    text: str
    chunk_size: int = 4
    delay: float = 0.0
    usage: Usage | None = None  # None: estimated from the text lengths (~4 chars/token)
    finish_reason: str | None = "stop"  # None: the stream ends with [DONE] but no finish


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """Tool calls ``(name, arguments_json)``, streamed as deltas split into ``pieces``."""

    calls: list[tuple[str, str]]
    text: str = ""
    pieces: int = 3
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class SlowFirstToken:
    """Send headers (and the role delta), wait ``delay`` s, then answer with ``then``."""

    delay: float
    then: Text = field(default_factory=lambda: Text("slow but steady"))


@dataclass(frozen=True, slots=True)
class CutStream:
    """Send ``after_chunks`` deltas of ``text`` then drop the connection (no finish, no [DONE])."""

    text: str = "this answer will be cut"
    after_chunks: int = 2
    chunk_size: int = 4


@dataclass(frozen=True, slots=True)
class MalformedChunk:
    """Send ``after_chunks`` deltas of ``text``, then a chunk that is not JSON, then [DONE]."""

    after_chunks: int = 1
    text: str = "garbled answer"
    chunk_size: int = 4


@dataclass(frozen=True, slots=True)
class StreamError:
    """Send ``after_chunks`` deltas of ``text``, then an in-stream ``{"error": ...}`` event."""

    message: str = "upstream failed"
    code: str | None = None
    after_chunks: int = 1
    text: str = "partial answer"
    chunk_size: int = 4


@dataclass(frozen=True, slots=True)
class DoneWithoutFinish:
    """Stream ``text`` then ``data: [DONE]`` but never a ``finish_reason`` (some
    one-api/new-api vendor adapters).  ``done=False``: the body just ends after the
    text (no [DONE] either) — a cut stream."""

    text: str = "complete but unmarked"
    chunk_size: int = 4
    done: bool = True


@dataclass(frozen=True, slots=True)
class JsonCompletion:
    """Answer a *streaming* request with a plain ``application/json`` ``chat.completion``
    rendering ``answer`` (as gateways do when the upstream does not stream)."""

    answer: Text | ToolCalls = field(default_factory=lambda: Text("whole answer at once"))


@dataclass(frozen=True, slots=True)
class ErrorBody200:
    """HTTP 200 whose whole body is an ``{"error": {...}}`` object (new-api/one-api
    quota errors reach some clients this way through relays), on any request."""

    message: str = "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"
    code: str | None = "insufficient_user_quota"
    type_: str = "new_api_error"


@dataclass(frozen=True, slots=True)
class SSEErrorLine:
    """A 200 SSE stream: ``after_chunks`` deltas of ``text``, then the error object in a
    ``data:`` line (``event: error`` before it if ``named``), then ``[DONE]``.
    ``error`` overrides the object (e.g. ``{"error": "plain string"}``)."""

    message: str = "该令牌额度已用尽"
    code: str | None = "insufficient_user_quota"
    after_chunks: int = 0
    text: str = "partial answer"
    chunk_size: int = 4
    named: bool = False
    error: Any = None


@dataclass(frozen=True, slots=True)
class Raw200:
    """HTTP 200 with exactly ``body`` and ``content_type`` (wire-level quirks)."""

    body: bytes
    content_type: str = "text/event-stream"


@dataclass(frozen=True, slots=True)
class HttpError:
    """Answer ``status`` with ``body`` (JSON if not a str) and extra ``headers``."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """HTTP 429 with ``Retry-After: retry_after`` (seconds or an HTTP date; None: no header)."""

    retry_after: float | str | None = 1
    status: int = 429


@dataclass(frozen=True, slots=True)
class ServerError:
    """HTTP 5xx with an OpenAI-style error body."""

    status: int = 500
    message: str = "upstream error"


@dataclass(frozen=True, slots=True)
class Hang:
    """Say nothing for ``seconds`` (the client should time out), then answer 504."""

    seconds: float = 30.0


HttpFault = HttpError | RateLimit | ServerError | Hang
ChatAnswer = (Text | ToolCalls | SlowFirstToken | CutStream | MalformedChunk | StreamError
              | DoneWithoutFinish | JsonCompletion | ErrorBody200 | SSEErrorLine | Raw200)
Reply = ChatAnswer | HttpFault


def error_body(message: str, code: str | None = None, type_: str = "invalid_request_error") -> Any:
    """An OpenAI-style ``{"error": {...}}`` body."""
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def context_too_long() -> HttpError:
    """400 as OpenAI reports a prompt over the context window."""
    return HttpError(400, error_body(
        "This model's maximum context length is 4097 tokens. However, your messages "
        "resulted in 5000 tokens.", "context_length_exceeded",
    ))


def model_not_found(model: str) -> HttpError:
    """503 as new-api/one-api report a model without a channel."""
    return HttpError(503, error_body(
        f"当前分组 default 下对于模型 {model} 无可用渠道", "model_not_found", "new_api_error",
    ))


def unauthorized(message: str = "Invalid token") -> HttpError:
    """401 for a rejected API key."""
    return HttpError(401, error_body(message, "invalid_api_key"))


def content_refused() -> HttpError:
    """400 for a prompt rejected by the content filter."""
    return HttpError(400, error_body("prompt contains sensitive words", "content_filter"))


def length(text: str, chunk_size: int = 4) -> Text:
    """A text answer that hit the output limit (``finish_reason: "length"``)."""
    return Text(text, chunk_size=chunk_size, finish_reason="length")
