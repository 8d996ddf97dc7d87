"""Neutral command results that adapters render natively."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class VendorGroup:
    """Models of one vendor, for menus."""

    vendor: str
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModelMenu:
    """A model picker: vendors with their models, the current model and its scope.

    Adapters render it (Telegram: paged inline keyboard; Discord: autocomplete/select).
    Picking a model runs the ``model`` command with ``name`` set.
    """

    groups: tuple[VendorGroup, ...]
    current: str
    current_scope: str


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What a command answers: Markdown text, maybe a menu; errors/settings are ephemeral."""

    text: str
    ephemeral: bool = False
    menu: ModelMenu | None = None
    is_error: bool = False
    extra: dict[str, str] = field(default_factory=dict)
