"""Discord's ``Surface`` and ``Pacer`` for the shared presenter, and action buttons.

Buttons: each ``Action`` is a button with ``custom_id`` ``cb:a:<action_id>`` handled by
the persistent ``ActionButton`` ``DynamicItem`` (registered with
``Client.add_dynamic_items``), so buttons work after a restart; URL actions are link
buttons. At most 5 buttons per row and 5 rows per message (Discord docs); extra
buttons are dropped with a warning. Media: attachments on one message (≤ 10 files per
message, Discord docs) with the buttons; the upload limit is the guild's
``filesize_limit`` when known, else 25 MiB (assumed default).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import discord

from adapters.common.surface import Limits
from adapters.discord.ratelimit import ChannelThrottle
from adapters.discord.render import split_message
from adapters.discord.sinks import Handle, Sink
from core.parts import ActionRows, ButtonStyle, Media

log = logging.getLogger(__name__)

ACTION_TEMPLATE = r"cb:a:(?P<id>[A-Za-z0-9_-]+)"
"""``custom_id`` of an action button (Discord allows 100 characters)."""
ROWS_MAX = 5
BUTTONS_PER_ROW = 5
MIB = 1024 * 1024
DEFAULT_UPLOAD_MAX = 25 * MIB
"""Upload limit without a guild's own (assumed Discord default: 25 MiB)."""

STYLES: dict[ButtonStyle, discord.ButtonStyle] = {
    "primary": discord.ButtonStyle.primary, "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success, "danger": discord.ButtonStyle.danger}

UNKNOWN_MESSAGE = 10008
"""Discord JSON error code: "Unknown Message"."""

PressHandler = Callable[[discord.Interaction, str], Awaitable[None]]


def discord_limits(upload_max: int = DEFAULT_UPLOAD_MAX) -> Limits:
    """Discord's limits; ``upload_max`` in bytes (a guild's ``filesize_limit``)."""
    return Limits(photo_max_bytes=upload_max, upload_max_bytes=upload_max,
                  media_per_message=10, album_actions=True, mixed_albums=True,
                  media_edit_from_text=True)


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
                   template=ACTION_TEMPLATE):
    """A persistent action button; a press calls ``client.bot.handlers.buttons.on_press``
    of the
    client that received it, with the interaction and the action id."""

    def __init__(self, action_id: str, label: str = "…",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 row: int | None = None, emoji: str | None = None) -> None:
        # Discord API: a button needs a label or an emoji; an icon alone is enough
        text = label[:80] or (None if emoji else "…")
        super().__init__(discord.ui.Button(label=text, style=style, row=row, emoji=emoji,
                                           custom_id=f"cb:a:{action_id}"))
        self.action_id = action_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Item[Any], match: re.Match[str], /
                             ) -> ActionButton:
        return cls(match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        handlers = getattr(getattr(interaction.client, "bot", None), "handlers", None)
        handler: PressHandler | None = getattr(getattr(handlers, "buttons", None), "on_press",
                                               None)
        if handler is None:
            log.warning("an action button was pressed on a client without handlers")
        if handler is not None:
            await handler(interaction, self.action_id)


def actions_view(actions: ActionRows) -> discord.ui.View | None:
    """A view with ``actions`` (≤ 5 rows of ≤ 5), stopped so discord.py keeps no state
    (presses go to the registered ``ActionButton``); None when there are none."""
    if not any(actions):
        return None
    view = discord.ui.View(timeout=None)
    rows = [row for row in actions if row]
    if len(rows) > ROWS_MAX or any(len(row) > BUTTONS_PER_ROW for row in rows):
        log.warning("dropping buttons beyond Discord's 5 rows of 5")
    for index, row in enumerate(rows[:ROWS_MAX]):
        for action in row[:BUTTONS_PER_ROW]:
            label = action.label[:80]
            emoji = action.icon or None
            if action.url:
                view.add_item(discord.ui.Button(label=label, url=action.url, emoji=emoji,
                                                row=index))
                continue
            item = ActionButton(action.action_id, label, STYLES.get(action.style,
                                discord.ButtonStyle.secondary), row=index, emoji=emoji)
            view.add_item(item)
    view.stop()
    return view


def _files(media: Sequence[Media]) -> tuple[list[discord.File], list[str]]:
    files: list[discord.File] = []
    urls: list[str] = []
    for number, item in enumerate(media, 1):
        if item.data is None:
            urls.append(item.url or "")
            continue
        ext = item.mime.split("/")[-1] or "bin"
        name = item.filename or f"{'image' if item.kind == 'image' else item.kind}{number}.{ext}"
        files.append(discord.File(io.BytesIO(item.data), filename=name))
    return files, urls


class DiscordPacer:
    """The channel's throttle: previews only when a slot is free now; finals wait."""

    def __init__(self, throttle: ChannelThrottle, channel_id: int) -> None:
        self.throttle = throttle
        self.channel_id = channel_id

    def preview_slot(self) -> AbstractContextManager[None] | None:
        if not self.throttle.free(self.channel_id):
            return None
        self.throttle.reserve(self.channel_id)
        return contextlib.nullcontext()

    async def final_slot(self) -> None:
        await self.throttle.wait(self.channel_id)


class DiscordSurface:
    """Writes through a ``Sink`` (a channel, or an interaction's responses)."""

    def __init__(self, sink: Sink, upload_max: int = DEFAULT_UPLOAD_MAX,
                 on_message: Callable[[int], None] | None = None) -> None:
        self.sink = sink
        self.limits = discord_limits(upload_max)
        self.on_message = on_message

    def _sent(self, handle: Handle) -> Handle:
        if self.on_message is not None:
            self.on_message(handle.id)
        return handle

    async def send_text(self, markdown: str, actions: ActionRows, *,
                        reply: bool = False) -> Handle:
        chunks = split_message(markdown) or ["…"]
        handle: Handle | None = None
        for index, chunk in enumerate(chunks):
            view = actions_view(actions) if index == len(chunks) - 1 else None
            handle = self._sent(await self.sink.send(chunk, view))
        assert handle is not None
        return handle

    async def edit_text(self, handle: Handle, markdown: str, actions: ActionRows) -> Handle:
        text = (split_message(markdown) or ["…"])[0]
        return await self.sink.edit(handle, text, actions_view(actions))

    async def delete(self, handle: Handle) -> None:
        await self.sink.delete(handle)

    async def send_media(self, media: Sequence[Media], caption: str, actions: ActionRows, *,
                         reply: bool = False) -> list[Handle]:
        files, urls = _files(media)
        text = "\n".join(part for part in (caption, *urls) if part)
        return [self._sent(await self.sink.send(text[:2000], actions_view(actions), files))]

    async def edit_media(self, handle: Handle, media: Media | None, caption: str,
                         actions: ActionRows) -> Handle:
        files, urls = _files([media]) if media is not None else (None, [])
        text = "\n".join(part for part in (caption, *urls) if part)
        return await self.sink.edit(handle, text[:2000], actions_view(actions), files)

    async def typing(self) -> None:
        return None

    def message_id(self, handle: Handle) -> str:
        return str(handle.id)

    def handle_of(self, message_id: str, media: bool) -> Handle:
        return self.sink.message(int(message_id))

    def missing(self, error: BaseException) -> bool:
        """Discord: 404 with JSON code 10008 "Unknown Message" (deleted meanwhile)."""
        return isinstance(error, discord.NotFound) and error.code == UNKNOWN_MESSAGE
