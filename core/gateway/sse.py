"""A small Server-Sent Events reader for streamed chat completions.

``iter_chunks(response)`` turns the body of an un-read ``httpx2.Response`` into the
JSON objects of its ``data:`` events, without building SDK models (the SDK's
per-chunk pydantic construction was the main CPU cost of a streamed turn).

SSE handling (WHATWG event-stream rules, as the openai SDK reads them): lines end
with LF, CRLF or CR; a blank line dispatches the event; ``:`` lines are comments;
several ``data:`` lines are joined with ``\\n``; ``event:`` names the event; ``id:``,
``retry:`` and unknown fields are ignored; an event without data lines and an
unterminated event at the end of the body are dropped.

The stream ends at ``[DONE]`` (the rest of the body is drained briefly so that the
HTTP/1.1 connection can be reused) or at the end of the body.  Raises:

* ``MalformedEvent`` for data that is not a JSON object;
* a typed ``core.errors.GatewayError`` (``errors.error_from_status``) for an error
  event: ``event: error`` or a JSON object with a truthy ``"error"`` key;
* transport failures (``httpx2.TimeoutException``, ``httpx2.RequestError``) as is.

Closing the response is the caller's job.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, NamedTuple

import httpx2

from core.gateway.errors import error_from_status

_DONE = b"[DONE]"
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
) -> AsyncGenerator[dict[str, Any], None]:
    """The JSON objects streamed in ``response`` (see the module docstring)."""
    decoder = SSEDecoder()
    body = response.aiter_bytes()
    async for raw in body:
        for event in decoder.feed(raw):
            chunk = parse_event(event, secret=secret)
            if chunk is None:
                if response.http_version == "HTTP/1.1":
                    await _drain(body)
                return
            yield chunk


async def _drain(body: AsyncIterator[bytes]) -> None:
    """Read (and drop) the rest of the body, briefly, so the connection can be reused."""
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in body:
                pass
    except (TimeoutError, httpx2.RequestError, httpx2.StreamError):
        pass  # the caller closes the response; a completed answer stays completed
