"""The adapter contract: what a platform provides to ``bots.runner``.

A platform is a package under ``adapters/`` (or any installed distribution) exposing an
``AdapterPlugin`` — registered built-in in ``bots.registry`` or through the entry-point
group ``chatbridge.adapters``.  The plugin names the platform, its settings class (its
own env prefix, e.g. ``TELEGRAM_``) and builds the ``Adapter`` on a shared ``ChatCore``.

This module imports no platform library (aiogram, discord), so the runner can decide
what to start without loading them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from core.app import ChatCore

LengthUnit = Literal["utf16", "chars"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can show; the presenter adapts to it.

    ``max_message_length`` is counted in ``length_unit`` (Telegram: UTF-16 code units,
    Discord and the console: characters); ``max_upload_bytes`` is the largest file the bot
    may send.  ``0`` for a length or size means "no limit".
    """

    drafts: bool = False
    """Native streaming drafts (Telegram ``sendMessageDraft``)."""
    edits: bool = False
    """Sent messages can be edited (streaming by edits)."""
    buttons: bool = False
    """Inline buttons (actions) under a message."""
    albums: bool = False
    """Several media in one message."""
    modals: bool = False
    """Form dialogs (Discord modals)."""
    threads: bool = False
    """Answers may open or live in threads / topics."""
    max_message_length: int = 0
    length_unit: LengthUnit = "chars"
    max_upload_bytes: int = 0


class AdapterSettings(BaseSettings):
    """Base of a platform's settings: ``.env`` + environment, empty value = unset.

    Subclasses set ``model_config = SettingsConfigDict(env_prefix="NAME_")``; the env var
    of field ``bot_token`` is then ``NAME_BOT_TOKEN``.  Load with
    ``core.config.load_settings_of(cls)`` to get one-line errors naming the variable.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        env_ignore_empty=True,
    )

    def enabled(self) -> bool:
        """Whether the runner should start this platform (e.g. its token is set)."""
        return True

    def secret_values(self) -> list[str]:
        """Plain values of every secret field (masked in logs)."""
        return [value.get_secret_value() for name in type(self).model_fields
                if isinstance(value := getattr(self, name), SecretStr)
                and value.get_secret_value()]


@runtime_checkable
class Adapter(Protocol):
    """One running platform on a shared core.

    ``start()`` returns once the platform serves (raises when it cannot connect);
    ``stop()`` stops receiving, cancels the platform's turns and closes connections (safe
    after a failed ``start()``); ``serve(stop)`` is start + serve until ``stop`` is set
    (returns) or the platform fails (raises), always cleaned up.  Adapters never install
    signal handlers: ``bots.runner`` owns SIGINT/SIGTERM and sets ``stop``.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def serve(self, stop: asyncio.Event) -> None: ...


AdapterFactory = Callable[["ChatCore", Any], Adapter]


@dataclass(frozen=True, slots=True)
class AdapterPlugin:
    """A registry entry: platform name, settings class and a factory.

    ``factory(core, settings)`` builds the adapter; keep its platform imports inside the
    factory so listing plugins loads no platform library.
    """

    name: str
    settings: type[AdapterSettings]
    factory: AdapterFactory
