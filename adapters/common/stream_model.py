"""What the stream engine shows, as plain data: the turn's state built from its events,
the final body for a terminal event, and the next write that brings the shown messages
up to the target chunks. No I/O here (see :mod:`adapters.common.stream`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.common.presenter import Translate
from adapters.common.surface import NO_BUTTONS, Body, Buttons
from core.events import (
    ImageReady,
    PartShown,
    PartUpdated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    TurnCancelled,
    TurnEvent,
    TurnFailed,
    TurnFinal,
    TurnMerged,
    TurnStarted,
)
from core.parts import Media, MediaPart, PartUpdate, Progress, ProgressPart, ReplyPart


@dataclass(frozen=True, slots=True)
class StreamTexts:
    """The platform's wording: ``cancelled`` is the note under a stopped answer;
    ``failure(event)`` the notice under a failed one (``ChatCore.failure_notice``:
    ``⚠️ <text>``, the same on every platform), or
    ``None`` when the adapter reports failures itself."""

    cancelled: str
    failure: Callable[[TurnFailed], str] | None = None


@dataclass(slots=True)
class Shown:
    """A message showing one chunk: its handle, the chunk and its buttons."""

    handle: Any
    chunk: Any
    buttons: Buttons


@dataclass(frozen=True, slots=True)
class Op:
    """One write: ``send`` chunk ``index``, ``edit`` message ``index``, or ``delete``
    the messages from ``index`` on."""

    kind: str
    index: int
    chunk: Any = None
    buttons: Buttons = NO_BUTTONS


@dataclass(slots=True)
class TurnState:
    """A turn as far as its events went: the Markdown so far, the running tool's status
    line, the turn id, parts held back until after the final text, the terminal event;
    ``version`` counts the events taken."""

    markdown: str = ""
    status: str = ""
    turn_id: str = ""
    later: list[ReplyPart] = field(default_factory=list)
    terminal: TurnEvent | None = None
    version: int = 0

    def take(self, event: TurnEvent, progress: Callable[[Progress], str]
             ) -> ReplyPart | PartUpdate | None:
        """Apply ``event``; returns a part to show now or an update to apply now.

        A part (other than progress) that arrives after the text started is held back
        in ``later``: an answer never continues above a picture. ``progress`` renders a
        tool's progress line."""
        self.version += 1
        if isinstance(event, TurnStarted):
            self.turn_id = event.turn_id
        elif isinstance(event, TextDelta):
            self.markdown += event.text
        elif isinstance(event, ToolCallStarted):
            self.status = progress(event.progress)
        elif isinstance(event, ToolCallFinished):
            self.status = ""
        elif isinstance(event, ImageReady):  # deprecated: as PartShown(MediaPart)
            self.later.append(MediaPart((Media(
                "image", data=event.data, url=event.url, mime=event.mime,
                caption=event.caption),)))
        elif isinstance(event, PartShown):
            if self.markdown and not isinstance(event.part, ProgressPart):
                self.later.append(event.part)
            else:
                return event.part
        elif isinstance(event, PartUpdated):
            return event.update
        elif isinstance(event, TurnFinal | TurnFailed | TurnCancelled | TurnMerged):
            self.terminal = event
        return None


def final_body(terminal: TurnFinal | TurnFailed | TurnCancelled, streamed: str, *,
               parts_sent: bool, texts: StreamTexts, t: Translate, lang: str
               ) -> tuple[Body, Buttons]:
    """The final body and the buttons under its last chunk.

    The answer (``TurnFinal.text``, else the streamed text) with its ``actions`` (none
    when cut off: the length note carries them); nothing for a job whose parts were the
    answer (``parts_sent``); else the empty-answer notice. A failure keeps the partial
    text with the failure notice under it (unless the adapter reports it); a stop keeps
    it with the cancelled note."""
    if isinstance(terminal, TurnFinal):
        buttons = Buttons(actions=terminal.actions) if (
            terminal.actions and not terminal.truncated) else NO_BUTTONS
        text = terminal.text or streamed
        if text.strip():
            return Body(text), buttons
        if parts_sent:
            return Body(), NO_BUTTONS
        return Body(notice=t("error.empty_answer", lang, model=terminal.model)), buttons
    partial = terminal.partial_text or streamed
    if isinstance(terminal, TurnFailed):
        if texts.failure is None:
            return Body(partial), NO_BUTTONS
        return Body(partial, notice=texts.failure(terminal)), NO_BUTTONS
    return Body(partial, notice=texts.cancelled), NO_BUTTONS


def next_op(targets: list[tuple[Any, Buttons]], shown: list[Shown], *, final: bool
            ) -> Op | None:
    """The first write that brings ``shown`` closer to ``targets`` (chunk, buttons);
    messages beyond the targets are deleted only by the final pass."""
    for index, (chunk, buttons) in enumerate(targets):
        if index >= len(shown):
            return Op("send", index, chunk, buttons)
        if shown[index].chunk != chunk or shown[index].buttons != buttons:
            return Op("edit", index, chunk, buttons)
    if final and len(shown) > len(targets):
        return Op("delete", len(targets))
    return None
