"""Assembly of streamed ``chat.completion.chunk`` objects (decoded JSON) into our types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion

from core.errors import NotAGateway, StreamCut, Unavailable
from core.events import Usage
from core.gateway.types import ChatChunk, ChatResult, ToolCall


def usage_from(usage: CompletionUsage | None) -> Usage | None:
    """Our ``Usage`` from the SDK's usage object (``None`` stays ``None``)."""
    if usage is None:
        return None
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
    )


def usage_from_json(usage: Mapping[str, Any]) -> Usage:
    """Our ``Usage`` from a chunk's ``"usage"`` object (missing/odd counts become 0)."""
    return Usage(
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
    )


def _count(value: object) -> int:
    return int(value) if isinstance(value, int | float) and value > 0 else 0


@dataclass(slots=True)
class _PartialToolCall:
    id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StreamAssembler:
    """Feeds on decoded chunks; returns new text, collects tool calls, finish reason and usage.

    ``started`` turns true at the first text or tool-call delta: from then on the
    answer is partly delivered and the stream must not be retried.  ``done`` is set by
    the caller when the gateway signalled the end (``[DONE]``).

    Tolerated shapes (docs/GATEWAY_QUIRKS.md): ``choices`` empty, null or missing
    (usage-only chunks); ``delta`` missing or null, or sent as ``message``; ``content``
    null; ``finish_reason`` on the chunk that also carries text; one choice whose
    ``index`` is not 0 (the first index seen is followed, other choices ignored).
    """

    started: bool = False
    done: bool = False
    text_length: int = 0
    finish_reason: str | None = None
    usage: Usage | None = None
    _choice: int | None = None
    _calls: dict[int, _PartialToolCall] = field(default_factory=dict)
    _slot_of_index: dict[int, int] = field(default_factory=dict)

    def feed(self, chunk: Mapping[str, Any]) -> str:
        """Absorb one decoded chunk; return its new answer text ('' if none).

        Tolerant of odd shapes: fields of an unexpected type are ignored.
        """
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.usage = usage_from_json(usage)
        text = ""
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, Mapping):
                continue
            index = choice.get("index", 0)
            if self._choice is None:
                self._choice = index
            elif index != self._choice:
                continue
            delta = choice.get("delta") or choice.get("message")
            if isinstance(delta, Mapping):
                content = delta.get("content")
                if content and isinstance(content, str):
                    text += content
                calls = delta.get("tool_calls")
                for call_delta in calls if isinstance(calls, list) else ():
                    if isinstance(call_delta, Mapping):
                        self._feed_tool_call(call_delta)
            finish_reason = choice.get("finish_reason")
            if finish_reason and isinstance(finish_reason, str):
                self.finish_reason = finish_reason
        if text:
            self.started = True
            self.text_length += len(text)
        return text

    def _feed_tool_call(self, delta: Mapping[str, Any]) -> None:
        self.started = True
        index = delta.get("index", 0)
        if not isinstance(index, int):
            index = 0
        call_id = delta.get("id")
        if not isinstance(call_id, str):
            call_id = None
        slot = self._slot_of_index.get(index)
        partial = self._calls.get(slot) if slot is not None else None
        # Some relays reuse index 0 for every call; a new id then means a new call.
        if partial is None or (call_id and partial.id and call_id != partial.id):
            slot = len(self._calls)
            self._slot_of_index[index] = slot
            partial = _PartialToolCall(id=call_id or f"call_{slot}")
            self._calls[slot] = partial
        function = delta.get("function")
        if isinstance(function, Mapping):
            name = function.get("name")
            if name and isinstance(name, str) and name != partial.name:
                partial.name += name  # some relays repeat the name per delta
            arguments = function.get("arguments")
            if arguments and isinstance(arguments, str):
                partial.arguments.append(arguments)

    def tool_calls(self) -> list[ToolCall]:
        """Assembled tool calls in arrival order."""
        return [
            ToolCall(id=call.id, name=call.name, arguments="".join(call.arguments))
            for _, call in sorted(self._calls.items())
        ]

    def final_chunk(self) -> ChatChunk:
        """The closing chunk.

        Without a finish_reason: a ``done`` stream (``[DONE]`` seen) is complete and gets
        ``"tool_calls"`` (if it has calls) or ``"stop"``; otherwise it was cut and
        ``StreamCut`` is raised."""
        calls = self.tool_calls()
        finish = self.finish_reason
        if finish is None:
            if not self.done:
                raise StreamCut(
                    f"stream ended without [DONE] or a finish_reason after {self.text_length} chars"
                )
            finish = "tool_calls" if calls else "stop"
        return ChatChunk(finish_reason=finish, tool_calls=calls, usage=self.usage)


def model_ids(response: httpx2.Response) -> list[str]:
    """Ids from an OpenAI ``/v1/models`` body; ``NotAGateway`` for anything else."""
    kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    try:
        data = response.json()
    except ValueError:
        raise NotAGateway(f"HTTP {response.status_code}, {kind}, not JSON") from None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in items):
        raise NotAGateway(f'HTTP {response.status_code}, JSON without a "data" model list')
    return [item["id"] for item in items]


def result_from(completion: ChatCompletion, requested_model: str) -> ChatResult:
    choices = getattr(completion, "choices", None)
    if not choices:
        raise Unavailable("gateway answered without choices")
    choice = choices[0]
    message = choice.message
    tool_calls = [
        ToolCall(id=call.id, name=call.function.name, arguments=call.function.arguments)
        for call in message.tool_calls or ()
        if call.type == "function"
    ]
    usage: Usage | None = usage_from(getattr(completion, "usage", None))
    return ChatResult(
        text=message.content or "",
        model=getattr(completion, "model", None) or requested_model,
        finish_reason=choice.finish_reason,
        tool_calls=tool_calls,
        usage=usage,
    )
