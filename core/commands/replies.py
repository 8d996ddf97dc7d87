"""Neutral command results that adapters render natively."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.parts import ActionRows, ReplyPart

if TYPE_CHECKING:
    from core.conversation.tickets import TurnTicket


@dataclass(frozen=True, slots=True)
class VendorGroup:
    """Models of one vendor, for menus."""

    vendor: str
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelMenu:
    """Deprecated: a model picker for adapters not yet on the presenter.

    ``/model`` now answers with ``CommandReply.actions`` (kinds ``model.page`` /
    ``model.pick``, see ``core.commands.picker``); this menu is filled as well until
    the adapters render actions.
    """

    groups: tuple[VendorGroup, ...]
    current: str
    current_scope: str


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What a command answers: Markdown text; errors/settings are ephemeral.

    ``actions`` are buttons under the text (pressing one runs
    ``ChatCore.run_action``); ``parts`` are extra parts (media…) after the text.
    ``menu`` is deprecated (see ``ModelMenu``)."""

    text: str
    ephemeral: bool = False
    menu: ModelMenu | None = None
    is_error: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    parts: tuple[ReplyPart, ...] = ()
    actions: ActionRows = ()
    ticket: TurnTicket | None = None
    """A job the command started (image generation, a Midjourney task): adapters present
    its events (``PartShown``/``PartUpdated``, then ``TurnFinal`` or ``TurnFailed``) after
    the reply, like a turn's."""
