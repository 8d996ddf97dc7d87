"""Neutral command results that adapters render natively."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.parts import ActionRows, ReplyPart

if TYPE_CHECKING:
    from core.conversation.tickets import TurnTicket


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What a command answers: Markdown text; errors/settings are ephemeral.

    ``actions`` are buttons under the text (pressing one runs
    ``ChatCore.run_action``; the ``/model`` picker is such a reply); ``parts`` are
    extra parts (media…) after the text."""

    text: str
    ephemeral: bool = False
    is_error: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    parts: tuple[ReplyPart, ...] = ()
    actions: ActionRows = ()
    ticket: TurnTicket | None = None
    """A job the command started (image generation, a Midjourney task): adapters present
    its events (``PartShown``/``PartUpdated``, then ``TurnFinal`` or ``TurnFailed``) after
    the reply, like a turn's."""
