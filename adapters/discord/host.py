"""``BotHost``: what the handlers need from the bot (breaks the app <-> handlers cycle).

``adapters.discord.app.DiscordBot`` satisfies it; ``handlers`` depends only on this.
"""

from __future__ import annotations

from typing import Protocol

import discord

from adapters.discord.ratelimit import ChannelThrottle
from adapters.discord.streaming import Sink, StreamPresenter, ViewFactory
from core.app import ChatCore


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
