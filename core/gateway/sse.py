"""A tolerant Server-Sent Events reader for streamed chat completions.

``iter_chunks(response)`` turns the body of an un-read ``httpx2.Response`` (a 200
answer to ``"stream": true``) into the JSON objects of its ``data:`` events, then
``None`` once when the stream is known complete, without building SDK models (the
SDK's per-chunk pydantic construction was the main CPU cost of a streamed turn).

What the body is, is sniffed from its first bytes (``body_kind``), because
one-api/new-api style gateways and their vendor adapters answer a streaming request
with a whole ``chat.completion`` JSON, an ``{"error": ...}`` JSON, or a text/HTML
error page, all with status 200 (see docs/GATEWAY_QUIRKS.md):

* JSON completion → one equivalent chunk (``completion_as_chunk``), then ``None``;
* JSON error object → its typed error (``errors.error_from_status``);
* text/HTML page → its typed error (usually ``Unavailable``), tags stripped.

SSE handling (WHATWG event-stream rules): lines end with LF, CRLF or CR; a blank line
dispatches the event; ``:`` lines are comments (keep-alives); several ``data:`` lines
are joined with ``\\n``; ``data:`` with or without the space; ``event:`` names the
event; ``id:``, ``retry:`` and unknown fields are ignored; an event without data lines
is dropped.  Unlike the spec, an unterminated event at the end of the body is kept
(some gateways end with ``data: [DONE]`` and no blank line).

The stream ends at ``[DONE]`` (``None`` is yielded; the rest of the body is drained
briefly so the HTTP/1.1 connection can be reused) or at the end of the body (no
``None``: the caller decides whether it was cut).  Raises:

* ``MalformedEvent`` for event data that is not a JSON object;
* a typed ``core.errors.GatewayError`` for an error event: ``event: error``, a JSON
  object with a truthy ``"error"`` (object or string);
* transport failures (``httpx2.TimeoutException``, ``httpx2.RequestError``) as is.

Why our own line/event decoder and not the openai SDK's (``openai/_streaming.py``,
``SSEDecoder`` + ``_SSELineDecoder``): the SDK decodes every line, comments included,
with a strict ``bytes.decode("utf-8")`` (one invalid byte, even in a keep-alive comment,
raises a bare ``UnicodeDecodeError`` out of the iteration; ours skips comments as bytes
and flags only a bad ``data:`` event as ``MalformedEvent``); it drops an unterminated
final event (so a ``[DONE]`` without a trailing blank line is lost and the answer looks
cut); it dispatches blocks with no ``data:`` (e.g. ``event: ping``) as empty-data
events whose ``.json()`` fails; and its line splitter is a private class (``_SSELineDecoder``) we
should not import.  Ours works on bytes, hands ``[DONE]`` to the caller and keeps the
tolerant JSON/error layer (``parse_event``) on top.  Closing the response is the
caller's job.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, NamedTuple

import httpx2

from core.errors import Unavailable
from core.gateway.errors import error_from_status

_DONE = b"[DONE]"
_TEXT_LIMIT = 64 * 1024
"""Bytes of a text/HTML error page read (the rest is dropped with the response)."""
_TEXT_SHOWN = 300
_TAGS = re.compile(r"<[^>]*>")
_DRAIN_SECONDS = 0.1
"""How long to wait for the rest of the body after ``[DONE]`` before giving up on it."""


class ServerSentEvent(NamedTuple):
    """One dispatched event: its ``event:`` name (``None`` if unnamed) and raw data."""

    event: str | None
    data: bytes


class MalformedEvent(ValueError):
    """An event whose data is not a JSON object."""


class SSEDecoder:
    """Incremental decoder: ``feed`` it body bytes, get the completed events back."""

    __slots__ = ("_data", "_event", "_parts", "_skip_lf")

    def __init__(self) -> None:
        self._parts: list[bytes] = []  # bytes of the current, unfinished line
        self._event: str | None = None
        self._data: list[bytes] = []
        self._skip_lf = False  # the last chunk ended with CR: a leading LF completes it

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Absorb ``chunk``; return the events it completes (in order)."""
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\n" not in chunk and b"\r" not in chunk:
            if chunk:
                self._parts.append(chunk)
            return []
        if self._parts:
            self._parts.append(chunk)
            chunk = b"".join(self._parts)
            self._parts.clear()
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")  # maybe a CRLF split across reads
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        rest = lines.pop()
        if rest:
            self._parts.append(rest)
        events: list[ServerSentEvent] = []
        for line in lines:
            if line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif not line:
                if self._data:
                    data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                    events.append(ServerSentEvent(self._event, data))
                    self._data = []
                self._event = None
            elif not line.startswith(b":"):  # ":..." is a comment
                self._field(line)
        return events

    def finish(self) -> list[ServerSentEvent]:
        """The events left when the body ends: an unterminated last line/event counts
        (some gateways end with ``data: [DONE]`` and no blank line)."""
        rest = b"".join(self._parts)
        self._parts.clear()
        return self.feed(rest + b"\n\n") if rest or self._data else []

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self._event = value.decode(errors="replace") or None
        elif name == b"data":  # a bare "data" line: an empty data line
            self._data.append(value)
        # id, retry and unknown fields do not matter here


def parse_event(event: ServerSentEvent, *, secret: str = "") -> dict[str, Any] | None:
    """The JSON object of ``event``; ``None`` for ``[DONE]``; raises on error events."""
    data = event.data
    if data.startswith(_DONE):
        return None
    try:
        parsed = json.loads(data)
    except ValueError:  # JSONDecodeError, or UnicodeDecodeError for invalid UTF-8
        if event.event == "error":
            raise error_from_status(None, data.decode(errors="replace"), secret=secret) from None
        raise MalformedEvent(f"stream event data is not JSON ({len(data)} bytes)") from None
    if not isinstance(parsed, dict):
        if event.event == "error":
            raise error_from_status(None, parsed, secret=secret)
        raise MalformedEvent(f"stream event data is not a JSON object ({type(parsed).__name__})")
    error = parsed.get("error")
    if error:
        raise error_from_status(None, error, secret=secret)
    if event.event == "error":
        details = {key: value for key, value in parsed.items() if key != "error"}
        raise error_from_status(None, details, secret=secret)
    return parsed


async def iter_chunks(
    response: httpx2.Response, *, secret: str = ""
) -> AsyncGenerator[dict[str, Any] | None, None]:
    """The JSON objects streamed in ``response``, then ``None`` once if the stream was
    complete (``[DONE]`` seen, or a whole JSON completion); see the module docstring."""
    body = response.aiter_bytes()
    head = b""
    async for raw in body:
        head += raw
        if head.strip():
            break
    kind = body_kind(response.headers.get("content-type", ""), head)
    if kind == "json":
        yield completion_as_chunk(await _rest(head, body), secret=secret)
        yield None
        return
    if kind == "text":
        raise _text_error(await _rest(head, body, limit=_TEXT_LIMIT), secret=secret)
    decoder = SSEDecoder()
    pieces = _prepend(head, body)
    async for raw in pieces:
        for event in decoder.feed(raw):
            chunk = parse_event(event, secret=secret)
            if chunk is None:
                yield None
                if response.http_version == "HTTP/1.1":
                    await _drain(pieces)
                return
            yield chunk
    for event in decoder.finish():  # the body ended inside an event: take it anyway
        chunk = parse_event(event, secret=secret)
        yield chunk
        if chunk is None:
            return


def body_kind(content_type: str, head: bytes) -> str:
    """``"sse"``, ``"json"`` or ``"text"`` for a 200 answer to a streaming request.

    The first bytes decide (gateways mislabel bodies: SSE as ``text/plain``, JSON
    errors as ``text/event-stream``); the Content-Type only breaks ties."""
    start = head.lstrip()[:8].lower()
    if start.startswith((b"{", b"[")):
        return "json"
    if start.startswith((b"data", b"event", b":", b"id:", b"retry:")):
        return "sse"
    if start.startswith(b"<") or not start:
        return "text" if start else "sse"
    content_type = content_type.lower()
    if "event-stream" in content_type:
        return "sse"
    return "json" if "json" in content_type else "text"


def completion_as_chunk(raw: bytes, *, secret: str = "") -> dict[str, Any]:
    """A whole ``chat.completion`` body (sent to a streaming request) as one stream chunk.

    Raises the typed error of an ``{"error": ...}`` body (or of a body without
    ``choices``), ``Unavailable`` for a body that is not a JSON object."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise Unavailable(f"gateway sent malformed JSON ({len(raw)} bytes)") from None
    if not isinstance(parsed, dict):
        raise Unavailable(f"gateway sent a JSON {type(parsed).__name__}, not an object")
    choices = parsed.get("choices")
    if parsed.get("error") or not isinstance(choices, list) or not choices:
        raise error_from_status(None, parsed, secret=secret)
    chunk_choices = []
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        message = choice.get("message") or choice.get("delta") or {}
        delta = dict(message) if isinstance(message, dict) else {}
        calls = delta.get("tool_calls")
        if isinstance(calls, list):
            delta["tool_calls"] = [
                {**call, "index": index} for index, call in enumerate(calls)
                if isinstance(call, dict)
            ]
        chunk_choices.append({"index": choice.get("index", position), "delta": delta,
                              "finish_reason": choice.get("finish_reason") or "stop"})
    return {"choices": chunk_choices, "usage": parsed.get("usage")}


def _text_error(raw: bytes, *, secret: str) -> Exception:
    text = _TAGS.sub(" ", raw.decode(errors="replace"))
    return error_from_status(None, " ".join(text.split())[:_TEXT_SHOWN], secret=secret)


async def _rest(head: bytes, body: AsyncIterator[bytes], limit: int | None = None) -> bytes:
    parts = [head]
    size = len(head)
    async for raw in body:
        parts.append(raw)
        size += len(raw)
        if limit is not None and size >= limit:
            break
    return b"".join(parts)


async def _prepend(head: bytes, body: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    if head:
        yield head
    async for raw in body:
        yield raw


async def _drain(body: AsyncIterator[bytes]) -> None:
    """Read (and drop) the rest of the body, briefly, so the connection can be reused."""
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in body:
                pass
    except (TimeoutError, httpx2.RequestError, httpx2.StreamError):
        pass  # the caller closes the response; a completed answer stays completed
