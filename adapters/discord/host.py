"""``BotHost``: what the handlers need from the bot (breaks the app <-> handlers cycle).

``adapters.discord.app.DiscordBot`` satisfies it; ``handlers`` depends only on this.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from adapters.discord.ratelimit import ChannelThrottle
from adapters.discord.streaming import Sink, StreamPresenter, ViewFactory
from core.app import ChatCore
from core.conversation.keys import Actor, ChatRef
from core.conversation.tickets import TurnTicket


class BotHost(Protocol):
    """The running bot as seen by ``Handlers``: its core, client, throttle, presenters."""

    @property
    def core(self) -> ChatCore:
        """The shared core."""
        ...

    @property
    def client(self) -> discord.Client:
        """The connected discord.py client."""
        ...

    @property
    def throttle(self) -> ChannelThrottle:
        """The per-channel write throttle."""
        ...

    def presenter(self, sink: Sink, *, make_view: ViewFactory | None,
                  cancelled_note: str) -> StreamPresenter:
        """A stream presenter sharing the bot's per-channel throttle."""
        ...


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message or interaction happened, mapped to the core's ``ChatRef``."""

    chat: ChatRef
    channel_id: int
    bot_thread: bool = False
    can_thread: bool = False


class HandlersHost(Protocol):
    """What the action buttons need from ``adapters.discord.handlers.Handlers`` (a
    protocol, so the two modules do not import each other)."""

    core: ChatCore
    bot: BotHost

    def remember_message(self, message_id: int) -> None: ...

    def place_of(self, channel: Any, channel_id: int, guild_id: int | None) -> Place: ...

    def actor_of(self, user: discord.User | discord.Member, locale: str | None) -> Actor: ...

    async def present(self, ticket: TurnTicket, sink: Sink, user_id: int,
                      report: Callable[[str], Awaitable[None]]) -> None: ...
