"""Assembly of streamed ``chat.completion.chunk`` objects into our plain types."""

from __future__ import annotations

from dataclasses import dataclass, field

from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from core.errors import StreamCut
from core.events import Usage
from core.gateway.types import ChatChunk, ToolCall


def usage_from(usage: CompletionUsage | None) -> Usage | None:
    """Our ``Usage`` from the SDK's usage object (``None`` stays ``None``)."""
    if usage is None:
        return None
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
    )


@dataclass(slots=True)
class _PartialToolCall:
    id: str
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class StreamAssembler:
    """Feeds on SDK chunks; returns new text, collects tool calls, finish reason and usage.

    ``started`` turns true at the first text or tool-call delta: from then on the
    answer is partly delivered and the stream must not be retried.
    """

    started: bool = False
    text_length: int = 0
    finish_reason: str | None = None
    usage: Usage | None = None
    _calls: dict[int, _PartialToolCall] = field(default_factory=dict)
    _slot_of_index: dict[int, int] = field(default_factory=dict)

    def feed(self, chunk: ChatCompletionChunk) -> str:
        """Absorb one chunk; return its new answer text ('' if none)."""
        if chunk.usage is not None:
            self.usage = usage_from(chunk.usage)
        text = ""
        for choice in chunk.choices or ():
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                if delta.content:
                    text += delta.content
                for call_delta in delta.tool_calls or ():
                    self._feed_tool_call(call_delta)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        if text:
            self.started = True
            self.text_length += len(text)
        return text

    def _feed_tool_call(self, delta: ChoiceDeltaToolCall) -> None:
        self.started = True
        slot = self._slot_of_index.get(delta.index)
        partial = self._calls.get(slot) if slot is not None else None
        # Some relays reuse index 0 for every call; a new id then means a new call.
        if partial is None or (delta.id and partial.id and delta.id != partial.id):
            slot = len(self._calls)
            self._slot_of_index[delta.index] = slot
            partial = _PartialToolCall(id=delta.id or f"call_{slot}")
            self._calls[slot] = partial
        if delta.function is not None:
            name = delta.function.name
            if name and name != partial.name:  # some relays repeat the name per delta
                partial.name += name
            if delta.function.arguments:
                partial.arguments.append(delta.function.arguments)

    def tool_calls(self) -> list[ToolCall]:
        """Assembled tool calls in arrival order."""
        return [
            ToolCall(id=call.id, name=call.name, arguments="".join(call.arguments))
            for _, call in sorted(self._calls.items())
        ]

    def final_chunk(self) -> ChatChunk:
        """The closing chunk; raises ``StreamCut`` if no finish_reason was received."""
        if self.finish_reason is None:
            raise StreamCut(f"stream ended without a finish_reason after {self.text_length} chars")
        return ChatChunk(
            finish_reason=self.finish_reason, tool_calls=self.tool_calls(), usage=self.usage
        )
