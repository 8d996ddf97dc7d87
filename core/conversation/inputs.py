"""What a user hands to a turn: text plus already-downloaded media.

Each image/document may carry a ``MediaSource``: where the platform keeps the file
(Telegram ``file_id``, Discord attachment id + CDN URL), so the message row's ``media``
JSON can point at it later without downloading it again (``media_records``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from core.storage.schema import clean_text as clean_text  # re-exported


@dataclass(frozen=True, slots=True)
class MediaSource:
    """A platform's reference to a user file; never a URL carrying the bot token.

    ``platform`` ("telegram", "discord"…), ``file_id`` (Telegram ``file_id``; Discord
    attachment id), ``url`` (Discord's attachment CDN URL; empty on Telegram, whose file
    URLs contain the bot token), ``name``, ``mime``, ``size`` in bytes (platform
    metadata; None when unknown).
    """

    platform: str
    file_id: str
    url: str = ""
    name: str = ""
    mime: str = ""
    size: int | None = None

    def record(self) -> dict[str, Any]:
        """The JSON-safe reference kept in a stored message's ``media``."""
        out: dict[str, Any] = {"platform": self.platform, "file_id": self.file_id,
                               "name": self.name, "mime": self.mime, "size": self.size}
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True, slots=True)
class ImageInput:
    """Image bytes ready for a vision model (see ``core.media.prepare_image``)."""

    data: bytes
    mime: str = "image/jpeg"
    source: MediaSource | None = None


@dataclass(frozen=True, slots=True)
class DocumentInput:
    """A text-like file already decoded (see ``core.media.read_text_document``)."""

    filename: str
    text: str
    truncated: bool = False
    source: MediaSource | None = None


@dataclass(frozen=True, slots=True)
class UserMessage:
    """One user message: text, images and text documents."""

    text: str = ""
    images: tuple[ImageInput, ...] = field(default_factory=tuple)
    documents: tuple[DocumentInput, ...] = field(default_factory=tuple)
    model_override: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.text.strip() or self.images or self.documents)


def clean_message(message: UserMessage) -> UserMessage:
    """``message`` with its text and documents' text passed through ``clean_text``."""
    documents = tuple(replace(d, text=clean_text(d.text), filename=clean_text(d.filename))
                      for d in message.documents)
    return replace(message, text=clean_text(message.text), documents=documents)


def media_records(message: UserMessage) -> list[dict[str, Any]] | None:
    """The ``media`` JSON of a stored user message (None when it has no media).

    Images: ``{"kind": "image", "mime", "size" (bytes sent to the model), "sha256"}``;
    documents: ``{"kind": "document", "name", "chars", "truncated"}``; both plus the
    ``MediaSource.record()`` keys under ``"source"`` when the platform gave one. The
    documents' text itself is part of the message content (``user_text_with_documents``),
    so a follow-up turn needs no download.
    """
    records: list[dict[str, Any]] = []
    for image in message.images:
        record: dict[str, Any] = {"kind": "image", "mime": image.mime, "size": len(image.data),
                                  "sha256": hashlib.sha256(image.data).hexdigest()}
        if image.source is not None:
            record["source"] = image.source.record()
        records.append(record)
    for document in message.documents:
        record = {"kind": "document", "name": document.filename,
                  "chars": len(document.text), "truncated": document.truncated}
        if document.source is not None:
            record["source"] = document.source.record()
        records.append(record)
    return records or None
