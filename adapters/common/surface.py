"""The narrow platform surface the shared presenter drives, and its pacer.

An adapter implements ``Surface`` for one destination (a Telegram chat/topic, a Discord
channel/thread/interaction) and ``Pacer`` for that platform's limits. The presenter
(:mod:`adapters.common.presenter`) decides *what* to show — which parts, in which
messages, how they degrade — and calls only these methods.

Handles are opaque platform message objects (a Telegram message id, a Discord
``Message``); the presenter stores them and hands them back for edits and deletes.

The streamed text of a turn goes through ``TextSurface`` (render + split into message
chunks, send / edit / delete a chunk, drafts, what a write error means) paced by a
``StreamPacer``; the engine is :mod:`adapters.common.stream`.
"""

from __future__ import annotations

import enum
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

    def message_id(self, handle: Any) -> str:
        """The platform message id of ``handle`` (stored across restarts)."""
        ...

    def handle_of(self, message_id: str, media: bool) -> Any:
        """A handle for a message this bot sent earlier (e.g. before a restart), from
        its ``message_id``; ``media``: it carries media."""
        ...

    def missing(self, error: BaseException) -> bool:
        """Whether ``error`` (raised by an edit) means the message is gone (deleted):
        the presenter then sends a new message instead."""
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


# ---------------------------------------------------------------------------- streamed text
class Fault(enum.Enum):
    """What a failed write means to the stream engine (``TextSurface.classify``)."""

    UNREACHABLE = "unreachable"
    """The chat is gone for the bot (blocked, kicked, no access): write nothing more."""
    THROTTLED = "throttled"
    """Refused by rate limiting (e.g. a 429 inside a retry_after window): a preview is
    dropped, a final write waits and retries."""
    RETRYABLE = "retryable"
    """A transport error or a 5xx: the same write may succeed when retried."""
    REFUSED = "refused"
    """The platform refused this write (a 4xx: message deleted, bad request): a final
    edit is replaced by a new message; a final send is given up."""


@dataclass(frozen=True, slots=True)
class Buttons:
    """The buttons under one streamed message: the live Stop button, or the final
    ``actions`` (both empty: none). Compared by value to decide whether to edit."""

    stop: bool = False
    actions: ActionRows = ()


NO_BUTTONS = Buttons()
STOP_BUTTON = Buttons(stop=True)


@dataclass(frozen=True, slots=True)
class Body:
    """What the stream shows: the answer's Markdown, the running tool's status line
    (previews only; shown under the text when it fits) and a plain ``notice`` (a
    failure, the stop note, the empty-answer notice) under the text."""

    markdown: str = ""
    status: str = ""
    notice: str = ""


class Splitter(Protocol):
    """Renders a growing answer into message-sized chunks (one splitter per answer).

    ``feed(body)`` returns the chunks to show, in order. It is stable: a chunk that was
    cut because the text outgrew it is returned unchanged by later calls (it is
    "frozen"), unless the rendering of that text changed (then it starts over). Chunks
    are opaque to the engine and compared with ``==``; the platform fixes their size
    (Telegram: 4096 UTF-16 units of rendered text; Discord: 2000 characters of
    Markdown, code fences closed and reopened across a cut)."""

    def feed(self, body: Body) -> list[Any]:
        ...


class TextSurface(Protocol):
    """Where the stream engine (:mod:`adapters.common.stream`) writes an answer's text.

    Handles are opaque message objects. Every write may raise the platform's errors;
    ``classify`` tells the engine what they mean."""

    def splitter(self) -> Splitter:
        """A new splitter for one answer."""
        ...

    async def send_chunk(self, chunk: Any, buttons: Buttons, *, reply: bool) -> Any:
        """Post one chunk with ``buttons``; ``reply``: reply to the user's request
        (where the platform does); returns its handle."""
        ...

    async def edit_chunk(self, handle: Any, chunk: Any, buttons: Buttons) -> Any:
        """Replace a sent chunk and its buttons; returns the (new) handle."""
        ...

    async def delete(self, handle: Any) -> None:
        """Delete a message the engine sent."""
        ...

    def stop_button(self, turn_id: str) -> bool:
        """Whether the live message gets a Stop button for ``turn_id`` (the surface
        builds it for ``Buttons.stop``)."""
        ...

    drafts: bool
    """Whether ``draft`` works here (Telegram private chats: ``sendMessageDraft``)."""

    async def draft(self, chunk: Any) -> None:
        """Show ``chunk`` as the live draft of the answer (a droppable preview)."""
        ...

    async def typing(self) -> None:
        """Show "typing…" once (platforms expire it after a few seconds)."""
        ...

    def classify(self, error: BaseException) -> Fault | None:
        """What ``error`` (raised by a write) means; ``None``: not a write error (a bug:
        the engine lets it propagate)."""
        ...

    async def undeliverable(self) -> None:
        """The final text could not be delivered after retries: tell the user if the
        platform can (best effort, never raises)."""
        ...


class StreamPacer(Protocol):
    """When the stream engine may write previews of a streamed answer.

    A preview *pass* brings the shown messages up to date; it is tried when the text
    changed and ``due_in`` says so; each write inside it takes a ``preview_slot``
    (``None``: the rest of the pass is skipped, the next change carries it). Final
    writes wait for ``final_slot``."""

    refresh: float | None
    """Re-send an unchanged draft after this many seconds (``None``: never)."""

    def due_in(self, *, shown: bool, drafting: bool) -> float:
        """Seconds until the next preview pass (0: now); ``shown``: messages exist."""
        ...

    def admit(self, *, visible: bool, drafting: bool) -> str:
        """``"go"`` (a pass starts now), ``"skip"`` (not now; the next change retries)
        or ``"retry"`` (not now; retry after ``due_in`` without a change)."""
        ...

    async def preview_slot(self) -> AbstractContextManager[None] | None:
        """A slot for one droppable write (run the write inside it), or ``None``."""
        ...

    def draft_slot(self) -> AbstractContextManager[None]:
        """The context a draft write runs in."""
        ...

    def draft_shown(self) -> None:
        """A draft was accepted."""
        ...

    async def final_slot(self) -> None:
        """Wait until a write that must be delivered may be made."""
        ...
