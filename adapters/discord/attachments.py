"""Discord attachments → core ``AttachmentRef``s (nothing downloaded here).

Each ref carries the attachment's metadata (file name, ``content_type``, ``size`` in
bytes) and a ``fetch`` that reads the file from Discord's CDN only when the core takes
it for a turn, after its size/type/vision checks. The stored reference is the
attachment id and its CDN URL (no bot token in it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import discord

from core.conversation.inputs import MediaSource
from core.errors import UserInputError
from core.media import AttachmentRef, attachment_kind

log = logging.getLogger(__name__)

PLATFORM = "discord"


def mime_of(attachment: discord.Attachment) -> str:
    """The attachment's MIME type without parameters ("" when unknown)."""
    return (attachment.content_type or "").split(";")[0].strip().lower()


def attachment_ref(attachment: discord.Attachment) -> AttachmentRef:
    """A lazy reference to one attachment."""
    mime = mime_of(attachment)

    async def fetch() -> bytes:
        try:
            return await attachment.read()
        except (discord.HTTPException, OSError) as exc:
            log.warning("downloading %s failed: %s", attachment.filename, type(exc).__name__)
            raise UserInputError("discord.download_failed",
                                 filename=attachment.filename) from None

    source = MediaSource(PLATFORM, str(attachment.id), attachment.url,
                         name=attachment.filename, mime=mime, size=attachment.size)
    return AttachmentRef(attachment.filename, mime, attachment.size,
                         attachment_kind(attachment.filename, mime), fetch, source)


def attachment_refs(attachments: Iterable[discord.Attachment]) -> tuple[AttachmentRef, ...]:
    """Lazy references to a message's attachments, in order."""
    return tuple(attachment_ref(attachment) for attachment in attachments)
