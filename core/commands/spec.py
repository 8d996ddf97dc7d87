"""Neutral command specs: declared once here, exported natively by each adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ParamKind(StrEnum):
    """Typed parameter kinds every platform can express."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    IMAGE = "image"


class Permission(StrEnum):
    """Who may run a command."""

    EVERYONE = "everyone"
    CHAT_ADMIN = "chat_admin"
    BOT_ADMIN = "bot_admin"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One typed command parameter.

    ``autocomplete`` names a core completion source (``"models"``, ``"settings"``);
    ``choices`` is a fixed list of allowed values; ``rest`` means the parameter takes
    the rest of a plain-text command line (a prompt, a persona text).
    """

    name: str
    kind: ParamKind
    description: dict[str, str]
    required: bool = False
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None
    rest: bool = False
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command: name, en/zh descriptions, typed params, permission, where it applies.

    ``platform_names`` renames a command on one platform (``{"discord": "chat"}``);
    ``platforms`` limits it to some platforms (empty = all); ``private``/``groups``
    say in which chat kinds the command is offered.
    """

    name: str
    description: dict[str, str]
    params: tuple[ParamSpec, ...] = ()
    permission: Permission = Permission.EVERYONE
    platform_names: dict[str, str] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    private: bool = True
    groups: bool = True

    def name_on(self, platform: str) -> str:
        """The command's name as exported on ``platform``."""
        return self.platform_names.get(platform, self.name)

    def offered_on(self, platform: str) -> bool:
        """Whether ``platform`` exports this command at all."""
        return not self.platforms or platform in self.platforms

    def describe(self, language: str) -> str:
        """The description in ``language`` (falls back to English)."""
        return self.description.get(language) or self.description["en"]
