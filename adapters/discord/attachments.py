"""Discord attachments → core ``ImageInput`` / ``DocumentInput``.

Images (png/jpeg/webp/gif) are size-checked from the attachment metadata *before*
downloading, then shrunk by ``core.media.prepare_image`` (in a worker thread: Pillow is
CPU bound).  Text-like files go through ``core.media.read_text_document`` (the core
enforces the token budget).  Anything else produces a localized problem message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord

from core.conversation.inputs import DocumentInput, ImageInput
from core.errors import UserInputError
from core.media import is_image_mime, is_text_document

if TYPE_CHECKING:
    from core.app import ChatCore

log = logging.getLogger(__name__)

_MB = 1024 * 1024


@dataclass(slots=True)
class Collected:
    """Inputs read from a message's attachments plus localized problems to report."""

    images: list[ImageInput] = field(default_factory=list)
    documents: list[DocumentInput] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def mime_of(attachment: discord.Attachment) -> str:
    """The attachment's MIME type without parameters ("" when unknown)."""
    return (attachment.content_type or "").split(";")[0].strip().lower()


def is_image(attachment: discord.Attachment) -> bool:
    """Whether the attachment is an image a vision model can take."""
    return is_image_mime(mime_of(attachment), attachment.filename)


async def collect(
    core: ChatCore, attachments: Sequence[discord.Attachment], lang: str
) -> Collected:
    """Download and prepare every attachment; problems are returned, never raised."""
    out = Collected()
    for attachment in attachments:
        mime = mime_of(attachment)
        try:
            if is_image(attachment):
                out.images.append(await _image(core, attachment, mime))
            elif is_text_document(attachment.filename, mime or None):
                out.documents.append(await _document(core, attachment, mime))
            else:
                out.problems.append(
                    core.t("error.file_unsupported", lang, filename=attachment.filename)
                )
        except UserInputError as exc:
            out.problems.append(core.error_text(exc, lang))
        except (discord.HTTPException, OSError) as exc:
            log.warning("downloading %s failed: %s", attachment.filename, exc)
            out.problems.append(
                core.t("discord.download_failed", lang, filename=attachment.filename)
            )
    return out


async def _image(core: ChatCore, attachment: discord.Attachment, mime: str) -> ImageInput:
    limit = core.settings.max_image_bytes
    if attachment.size > limit:
        raise UserInputError("error.image_too_large", limit_mb=max(1, limit // _MB))
    data = await attachment.read()
    return await asyncio.to_thread(core.media.prepare_image, data, mime or "image/jpeg")


async def _document(core: ChatCore, attachment: discord.Attachment, mime: str) -> DocumentInput:
    limit = core.settings.max_document_bytes
    if attachment.size > limit:
        raise UserInputError("error.file_too_large", limit_mb=max(1, limit // _MB))
    data = await attachment.read()
    return core.media.read_text_document(attachment.filename, data, mime or None)
