"""Chat completion rendering for ``FakeGateway``: JSON answers and SSE streams."""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from core.events import Usage
from tests.fakes.gateway_replies import (
    ChatAnswer,
    CutStream,
    DoneWithoutFinish,
    ErrorBody200,
    JsonCompletion,
    MalformedChunk,
    Raw200,
    Reply,
    SlowFirstToken,
    SSEErrorLine,
    StreamError,
    Text,
    ToolCalls,
    error_body,
)

if TYPE_CHECKING:
    from tests.fakes.gateway import Call

_ids = itertools.count(1)
_DONE = b"data: [DONE]\n\n"
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def message_text(content: Any) -> str:
    """Text of a message ``content`` (a string, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def echo_responder(body: dict[str, Any]) -> Reply:
    """Default answer: ``echo: <last user text>``."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return Text(f"echo: {message_text(message.get('content'))}")
    return Text("echo: ")


def estimate_usage(body: dict[str, Any], answer: str) -> Usage:
    """~4 characters per token, at least 1 for anything non-empty."""
    prompt = sum(len(message_text(m.get("content"))) for m in body.get("messages") or [])
    return Usage(prompt_tokens=math.ceil(prompt / 4), completion_tokens=math.ceil(len(answer) / 4))


def split(text: str, size: int) -> list[str]:
    """``text`` in pieces of ``size`` characters."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


async def render_chat(call: Call, body: dict[str, Any], reply: ChatAnswer) -> web.StreamResponse:
    """Answer one chat completion request with ``reply`` (streamed if ``body["stream"]``)."""
    chat = _Chat(body)
    if isinstance(reply, Raw200):
        return web.Response(body=reply.body, headers={"Content-Type": reply.content_type})
    if isinstance(reply, ErrorBody200):
        return web.json_response(error_body(reply.message, reply.code, reply.type_))
    if isinstance(reply, JsonCompletion):
        return await _complete(call, chat, reply.answer)
    if body.get("stream"):
        return await _stream(call, chat, reply)
    return await _complete(call, chat, reply)


class _Chat:
    """Shapes of one completion: ids, chunks and usage."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.id = f"chatcmpl-fake{next(_ids)}"
        self.model = str(body.get("model") or "gpt-3.5-turbo")
        self.created = int(time.time())
        options = body.get("stream_options") or {}
        self.include_usage = bool(options.get("include_usage"))

    def usage(self, given: Usage | None, answer: str) -> dict[str, int]:
        usage = given or estimate_usage(self.body, answer)
        return {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }

    def event(self, delta: dict[str, Any] | None, finish: str | None = None,
              usage: dict[str, int] | None = None) -> bytes:
        choices = [] if delta is None else [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        ]
        chunk: dict[str, Any] = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices,
        }
        if usage is not None:
            chunk["usage"] = usage
        text = json.dumps(chunk, ensure_ascii=False)
        if not text.isascii() and re.search("[\ud800-\udfff]", text):
            text = json.dumps(chunk)  # a lone surrogate goes as a "\ud800" escape
        return b"data: " + text.encode() + b"\n\n"

    def role(self) -> bytes:
        return self.event({"role": "assistant", "content": ""})

    def texts(self, pieces: list[str]) -> list[bytes]:
        return [self.event({"content": piece}) for piece in pieces]

    def ending(self, finish: str | None, usage: dict[str, int]) -> list[bytes]:
        events = [] if finish is None else [self.event({}, finish)]
        if self.include_usage:
            events.append(self.event(None, usage=usage))
        events.append(_DONE)
        return events

    def completion(self, message: dict[str, Any], finish: str | None,
                   usage: dict[str, int]) -> dict[str, Any]:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish}],
            "usage": usage,
        }


def _tool_call_id(position: int) -> str:
    return f"call_fake{position}"


def _tool_events(chat: _Chat, reply: ToolCalls) -> list[bytes]:
    events = chat.texts(split(reply.text, 4))
    for index, (name, arguments) in enumerate(reply.calls):
        head = {"index": index, "id": _tool_call_id(index), "type": "function",
                "function": {"name": name, "arguments": ""}}
        events.append(chat.event({"tool_calls": [head]}))
        size = max(1, math.ceil(len(arguments) / max(1, reply.pieces)))
        for piece in split(arguments, size):
            events.append(chat.event(
                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            ))
    return events


async def _stream(call: Call, chat: _Chat, reply: ChatAnswer) -> web.StreamResponse:
    response = web.StreamResponse(headers=_SSE_HEADERS)
    await response.prepare(call.http)
    await response.write(chat.role())
    if isinstance(reply, SlowFirstToken):
        await call.fake.pause(reply.delay)
        reply = reply.then

    if isinstance(reply, Text):
        texts = chat.texts(split(reply.text, reply.chunk_size))
        ending = chat.ending(reply.finish_reason, chat.usage(reply.usage, reply.text))
        if reply.delay <= 0:  # one write: fastest, the client still sees separate deltas
            await response.write(b"".join(texts + ending))
        else:
            for index, event in enumerate(texts):
                if index:
                    await call.fake.pause(reply.delay)
                await response.write(event)
            await response.write(b"".join(ending))
    elif isinstance(reply, ToolCalls):
        usage = chat.usage(reply.usage, reply.text + "".join(a for _, a in reply.calls))
        await response.write(b"".join(_tool_events(chat, reply) + chat.ending("tool_calls", usage)))
    elif isinstance(reply, CutStream):
        pieces = split(reply.text, reply.chunk_size)[: reply.after_chunks]
        await response.write(b"".join(chat.texts(pieces)))
        _drop_connection(call)
    elif isinstance(reply, MalformedChunk):
        pieces = split(reply.text, reply.chunk_size)[: reply.after_chunks]
        await response.write(b"".join([*chat.texts(pieces), b'data: {"id": oops\n\n', _DONE]))
    elif isinstance(reply, DoneWithoutFinish):
        pieces = split(reply.text, reply.chunk_size)
        await response.write(b"".join([*chat.texts(pieces), *([_DONE] if reply.done else [])]))
    elif isinstance(reply, SSEErrorLine):
        pieces = split(reply.text, reply.chunk_size)[: reply.after_chunks]
        error = reply.error if reply.error is not None else error_body(
            reply.message, reply.code, "new_api_error")
        line = (b"event: error\n" if reply.named else b"") + b"data: " + json.dumps(
            error, ensure_ascii=False).encode() + b"\n\n"
        await response.write(b"".join([*chat.texts(pieces), line, _DONE]))
    elif isinstance(reply, StreamError):
        pieces = split(reply.text, reply.chunk_size)[: reply.after_chunks]
        error = json.dumps(error_body(reply.message, reply.code, "upstream_error")).encode()
        await response.write(b"".join([*chat.texts(pieces), b"data: " + error + b"\n\n", _DONE]))
    return response


async def _complete(call: Call, chat: _Chat, reply: ChatAnswer) -> web.StreamResponse:
    if isinstance(reply, SlowFirstToken):
        await call.fake.pause(reply.delay)
        reply = reply.then
    if isinstance(reply, Text):
        return web.json_response(chat.completion(
            {"role": "assistant", "content": reply.text},
            reply.finish_reason, chat.usage(reply.usage, reply.text),
        ))
    if isinstance(reply, ToolCalls):
        calls = [
            {"id": _tool_call_id(i), "type": "function",
             "function": {"name": name, "arguments": arguments}}
            for i, (name, arguments) in enumerate(reply.calls)
        ]
        message: dict[str, Any] = {
            "role": "assistant", "content": reply.text or None, "tool_calls": calls
        }
        answer = reply.text + "".join(a for _, a in reply.calls)
        return web.json_response(
            chat.completion(message, "tool_calls", chat.usage(reply.usage, answer))
        )
    if isinstance(reply, MalformedChunk):
        return web.Response(body=b'{"id": oops', content_type="application/json")
    if isinstance(reply, StreamError):
        body = error_body(reply.message, reply.code, "upstream_error")
        return web.json_response(body, status=500)
    if isinstance(reply, DoneWithoutFinish):
        return web.json_response(chat.completion(
            {"role": "assistant", "content": reply.text}, None, chat.usage(None, reply.text)))
    if isinstance(reply, SSEErrorLine):
        return web.json_response(error_body(reply.message, reply.code, "new_api_error"))
    if not isinstance(reply, CutStream):
        raise TypeError(f"no JSON rendering for {type(reply).__name__}")
    # CutStream: promise a full body, send part of it, drop the connection.
    full = json.dumps(chat.completion(
        {"role": "assistant", "content": reply.text}, "stop", chat.usage(None, reply.text)
    )).encode()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(full)
    await response.prepare(call.http)
    await response.write(full[: len(full) // 2])
    _drop_connection(call)
    return response


def _drop_connection(call: Call) -> None:
    transport = call.http.transport
    if transport is not None:
        transport.close()
