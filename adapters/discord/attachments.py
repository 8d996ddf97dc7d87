"""Discord attachments → core ``AttachmentRef``s (nothing downloaded here).

Each ref carries the attachment's metadata (file name, ``content_type``, ``size`` in
bytes) and a ``fetch`` that reads the file from Discord's CDN only when the core takes
it for a turn, after its size/type/vision checks. The stored reference is the
attachment id and its CDN URL (no bot token in it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import discord

from core.conversation.inputs import MediaSource
from core.conversation.keys import Actor, ChatRef
from core.errors import UserInputError
from core.inbound import Refusal
from core.media import AttachmentRef, attachment_kind

if TYPE_CHECKING:
    from core.app import ChatCore

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


async def command_images(core: ChatCore, chat: ChatRef, actor: Actor,
                         values: dict[str, Any]) -> dict[str, Any] | Refusal:
    """A slash command's values with its attachment options (``ParamKind.IMAGE``) loaded
    as ``ImageInput`` through the inbound checks (``InboundPipeline.load_images``); a
    ``Refusal`` when one is too large, not an image or unreadable."""
    names = [k for k, v in values.items() if isinstance(v, discord.Attachment)]
    if not names:
        return values
    refs = [attachment_ref(values[k]) for k in names]
    loaded = await core.inbound.load_images(chat, actor, refs)
    if isinstance(loaded, Refusal):
        return loaded
    return {**values, **dict(zip(names, loaded, strict=True))}
