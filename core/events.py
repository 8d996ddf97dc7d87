"""Typed events emitted by a running turn and consumed by adapters.

A turn yields ``TurnStarted`` first, then any number of ``TextDelta`` /
``ToolCallStarted`` / ``ToolCallFinished`` / ``PartShown`` / ``PartUpdated`` events,
and ends with exactly one of ``TurnFinal``, ``TurnFailed`` or ``TurnCancelled``.  A
submission that was merged into another submission's turn yields only ``TurnMerged``.

``ImageReady`` is deprecated: the core never emits it (tool media arrive as
``PartShown(MediaPart(...))``); it stays only until the adapters stop importing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.parts import ActionRows, PartUpdate, Progress, ReplyPart


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


_NO_PROGRESS = Progress("")


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model called tool ``name``; ``progress`` is the status line to show
    (i18n key ``tool.running`` with param ``name`` unless given)."""

    call_id: str
    name: str
    arguments: str
    progress: Progress = _NO_PROGRESS

    def __post_init__(self) -> None:
        if not self.progress.key:
            object.__setattr__(self, "progress", Progress("tool.running", {"name": self.name}))


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """Tool ``name`` returned ``result`` (the text sent to the model); ``progress``
    defaults to ``tool.done`` / ``tool.failed`` with param ``name``."""

    call_id: str
    name: str
    result: str
    ok: bool = True
    progress: Progress = _NO_PROGRESS

    def __post_init__(self) -> None:
        if not self.progress.key:
            key = "tool.done" if self.ok else "tool.failed"
            object.__setattr__(self, "progress", Progress(key, {"name": self.name}))


@dataclass(frozen=True, slots=True)
class PartShown:
    """A part to show during the turn: tool media, follow-up buttons, progress."""

    part: ReplyPart


@dataclass(frozen=True, slots=True)
class PartUpdated:
    """Replace an earlier part of this turn (``update.ref`` names it)."""

    update: PartUpdate


@dataclass(frozen=True, slots=True)
class ImageReady:
    """Deprecated (never emitted by the core): use ``PartShown(MediaPart(...))``.

    Kept only so adapters that still import it keep working until the presenter port.
    """

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
    actions: ActionRows = ()
    """Buttons to put under the final answer (e.g. "continue" after a cut answer)."""


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
    | PartShown
    | PartUpdated
    | ImageReady
    | TurnFinal
    | TurnFailed
    | TurnCancelled
    | TurnMerged
)

TERMINAL_EVENTS = (TurnFinal, TurnFailed, TurnCancelled, TurnMerged)
