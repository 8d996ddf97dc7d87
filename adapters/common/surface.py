"""The narrow platform surface the shared presenter drives, and its pacer.

An adapter implements ``Surface`` for one destination (a Telegram chat/topic, a Discord
channel/thread/interaction) and ``Pacer`` for that platform's limits. The presenter
(:mod:`adapters.common.presenter`) decides *what* to show — which parts, in which
messages, how they degrade — and calls only these methods.

Handles are opaque platform message objects (a Telegram message id, a Discord
``Message``); the presenter stores them and hands them back for edits and deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from core.parts import ActionRows, Media


class CannotEdit(Exception):
    """The platform cannot edit this message into the requested shape (the presenter
    then deletes it and sends a new one)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a platform accepts; the presenter degrades explicitly beyond it.

    ``photo_max_bytes``: larger images go as files (Telegram Bot API: photos ≤ 10 MB).
    ``upload_max_bytes``: larger media are not uploaded; a notice says so (Telegram
    Bot API: 50 MB; Discord: 25 MiB default, assumed — guilds may allow more).
    ``media_per_message``: items in one album/message (Telegram sendMediaGroup 2-10;
    Discord: 10 attachments per message — Discord docs).
    ``album_actions``: whether buttons can go on a multi-item media message (Telegram
    albums cannot carry inline keyboards: the buttons go on a separate message).
    ``mixed_albums``: whether images and files can share one message (Telegram media
    groups cannot mix photos with documents/audio).
    ``media_edit_from_text``: whether a text message can be edited into a media one
    (Discord: yes, attachments are added by an edit; Telegram: no, delete + send).
    """

    photo_max_bytes: int
    upload_max_bytes: int
    media_per_message: int
    album_actions: bool
    mixed_albums: bool
    media_edit_from_text: bool


class Surface(Protocol):
    """Where the presenter writes. Every method may raise the platform's write errors;
    ``reply=True`` asks the platform to reply to the user's request message."""

    limits: Limits

    async def send_text(self, markdown: str, actions: ActionRows, *,
                        reply: bool = False) -> Any:
        """Post Markdown text (one message; the caller keeps it within the limit) with
        buttons under it; returns the message handle."""
        ...

    async def edit_text(self, handle: Any, markdown: str, actions: ActionRows) -> Any:
        """Replace a text message's text and buttons; returns the (new) handle."""
        ...

    async def delete(self, handle: Any) -> None:
        """Delete a message the presenter sent."""
        ...

    async def send_media(self, media: Sequence[Media], caption: str, actions: ActionRows, *,
                         reply: bool = False) -> list[Any]:
        """Post ``media`` (≤ ``limits.media_per_message``; a single kind unless
        ``limits.mixed_albums``) in one message/album with a Markdown caption and
        buttons (``actions`` is empty for albums when not ``limits.album_actions``);
        returns the handles (one per album item on Telegram)."""
        ...

    async def edit_media(self, handle: Any, media: Media | None, caption: str,
                         actions: ActionRows) -> Any:
        """Replace a message's media (``None``: keep it) and caption and buttons;
        raises ``CannotEdit`` when the platform cannot (then delete + send)."""
        ...

    async def typing(self) -> None:
        """Show "typing…" once (platforms expire it after a few seconds)."""
        ...


class Pacer(Protocol):
    """The platform's limits for one destination.

    Previews (streamed text, progress updates) are droppable: ``preview_slot`` returns
    a context to run the write in, or ``None`` when it should be skipped now. Finals
    (the answer, a result replacing its progress) always go: ``final_slot`` waits."""

    def preview_slot(self) -> AbstractContextManager[None] | None:
        """A slot for a droppable write now, or ``None`` (skip it)."""
        ...

    async def final_slot(self) -> None:
        """Wait until a write that must be delivered may be made."""
        ...
