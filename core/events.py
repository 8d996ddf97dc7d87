"""Typed events emitted by a running turn and consumed by adapters.

A turn yields ``TurnStarted`` first, then any number of ``TextDelta`` /
``ToolCallStarted`` / ``ToolCallFinished`` / ``ImageReady`` events, and ends with
exactly one of ``TurnFinal``, ``TurnFailed`` or ``TurnCancelled``.  A submission that
was merged into another submission's turn yields only ``TurnMerged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Usage:
    """Token accounting for one turn (from the gateway, or estimated)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TurnStarted:
    turn_id: str
    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """New answer text; ``text`` is appended to what came before."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    call_id: str
    name: str
    result: str
    ok: bool = True


@dataclass(frozen=True, slots=True)
class ImageReady:
    """An image produced during the turn (bytes, or a URL safe to share)."""

    data: bytes | None = None
    url: str | None = None
    mime: str = "image/png"
    caption: str = ""


@dataclass(frozen=True, slots=True)
class TurnFinal:
    """The turn completed and was stored; ``text`` is the whole answer.

    ``truncated``: the model stopped at the output limit (``finish_reason: "length"``);
    adapters show ``turn.length_note`` and a button calling ``ChatCore.continue_turn``."""

    turn_id: str
    model: str
    text: str
    usage: Usage = field(default_factory=Usage)
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class TurnFailed:
    """The turn failed; nothing was stored. ``key``/``params`` localize the message."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    partial_text: str = ""


@dataclass(frozen=True, slots=True)
class TurnCancelled:
    """The turn was cancelled by the user; nothing was stored."""

    partial_text: str = ""


@dataclass(frozen=True, slots=True)
class TurnMerged:
    """This submission was merged into the turn answered for another message."""

    into_turn_id: str = ""


TurnEvent = (
    TurnStarted
    | TextDelta
    | ToolCallStarted
    | ToolCallFinished
    | ImageReady
    | TurnFinal
    | TurnFailed
    | TurnCancelled
    | TurnMerged
)

TERMINAL_EVENTS = (TurnFinal, TurnFailed, TurnCancelled, TurnMerged)
