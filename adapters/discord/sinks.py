"""Where Discord writes go: a channel (replying to a message) or an interaction's
responses, behind one small ``Sink`` interface used by the stream and the surface."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord

UNREACHABLE_CODES = frozenset({50001, 50007, 50013, 10003})
"""Discord JSON error codes meaning nothing more can be written to that channel: Missing
Access, Cannot send messages to this user, Missing Permissions, Unknown Channel."""


def channel_unreachable(error: BaseException) -> bool:
    """Whether a write error means the bot cannot write to the channel any more."""
    return isinstance(error, discord.HTTPException) and error.code in UNREACHABLE_CODES

NO_MENTIONS = discord.AllowedMentions.none()
"""Model output must never ping @everyone, roles or users."""

Handle = (discord.Message | discord.WebhookMessage | discord.InteractionMessage
          | discord.PartialMessage)
"""A message the bot sent (a ``PartialMessage`` for one sent before a restart)."""

WRITE_ERRORS: tuple[type[BaseException], ...] = (
    discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)
"""What a Discord write may raise: API errors, and transport errors discord.py re-raises."""


class Sink:
    """Where an answer is written; subclasses wrap a channel or an interaction."""

    channel_id: int

    async def send(self, text: str, view: discord.ui.View | None,
                   files: Sequence[discord.File] = ()) -> Handle:
        """Post a new message (with ``files`` attached)."""
        raise NotImplementedError

    async def edit(self, handle: Handle, text: str, view: discord.ui.View | None,
                   files: Sequence[discord.File] | None = None) -> Handle:
        """Replace a message's text and components (``view=None`` removes buttons) and,
        when ``files`` is given, its attachments."""
        if files is not None:
            return await handle.edit(content=text, view=view, attachments=list(files),
                                     allowed_mentions=NO_MENTIONS)
        return await handle.edit(content=text, view=view, allowed_mentions=NO_MENTIONS)

    async def delete(self, handle: Handle) -> None:
        """Delete a message that is no longer needed."""
        await handle.delete()

    def message(self, message_id: int) -> Handle:
        """A handle for the bot's earlier message ``message_id`` in this channel (edits
        and deletes go through the channel's message routes)."""
        channel = self.messageable()
        if not hasattr(channel, "get_partial_message"):
            raise TypeError(f"no messages by id in {type(channel).__name__}")
        partial: discord.PartialMessage = channel.get_partial_message(message_id)
        return partial

    def messageable(self) -> object:
        """The channel written to (for ``message``)."""
        raise NotImplementedError

    def typing(self) -> contextlib.AbstractAsyncContextManager[Any] | None:
        """A typing indicator context, or ``None`` when the platform shows one already."""
        return None

    async def typing_once(self) -> None:
        """Show "typing…" once (Discord shows it ~10 s); nothing where the platform
        shows progress already (a deferred interaction's "thinking…")."""
        return None


class ChannelSink(Sink):
    """Messages in a channel/thread/DM; the first one replies to ``reply_to``."""

    def __init__(self, channel: discord.abc.Messageable, channel_id: int,
                 reply_to: discord.Message | discord.PartialMessage | None = None) -> None:
        self.channel = channel
        self.channel_id = channel_id
        self._reference = reply_to.to_reference(fail_if_not_exists=False) if reply_to else None

    async def send(self, text: str, view: discord.ui.View | None,
                   files: Sequence[discord.File] = ()) -> Handle:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        if files:
            kwargs["files"] = list(files)
        if self._reference is not None:
            kwargs.update(reference=self._reference, mention_author=False)
            self._reference = None
        return await self.channel.send(text or None, **kwargs)

    def messageable(self) -> object:
        return self.channel

    def typing(self) -> contextlib.AbstractAsyncContextManager[Any] | None:
        return self.channel.typing()

    async def typing_once(self) -> None:
        await self.channel.typing()


class InteractionSink(Sink):
    """Answers to a deferred slash command: the original response, then follow-ups."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.channel_id = interaction.channel_id or 0
        self.used_original = False
        """Whether the deferred original response was replaced (by text or deleted)."""

    def messageable(self) -> object:
        return self.interaction.channel

    async def send(self, text: str, view: discord.ui.View | None,
                   files: Sequence[discord.File] = ()) -> Handle:
        if not self.used_original:
            self.used_original = True
            return await self.interaction.edit_original_response(
                content=text, view=view, attachments=list(files), allowed_mentions=NO_MENTIONS
            )
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "wait": True}
        if view is not None:
            kwargs["view"] = view
        if files:
            kwargs["files"] = list(files)
        message: discord.WebhookMessage = await self.interaction.followup.send(text, **kwargs)
        return message
