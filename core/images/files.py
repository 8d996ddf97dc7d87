"""Generated and uploaded images kept on disk so buttons work after a restart.

Layout under ``DATA_DIR/images`` (the simplest store that survives a restart and keeps
binary blobs out of the database): ``<id>.png`` per image (``id`` is 16 URL-safe
characters) and ``edit-source/<platform>_<chat>_<user>`` holding the id a user picked
with the ✏️ button (what ``/edit`` without a photo edits). Nothing is deleted
automatically (assumed acceptable: a DALL·E PNG is ~1-3 MB; prune the folder by age
if it grows). File I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path

from core.conversation.keys import Actor, ChatRef
from core.errors import UserInputError

_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class ImageFiles:
    """Images by id under ``root`` (created on first save)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(self, data: bytes) -> str:
        """Store ``data`` (PNG/JPEG/WebP bytes); its new id."""
        image_id = secrets.token_urlsafe(12)
        await asyncio.to_thread(self._write, self.root / f"{image_id}.png", data)
        return image_id

    async def load(self, image_id: str) -> bytes:
        """The bytes of ``image_id``; ``UserInputError("image.gone")`` when it is not
        (or no longer) stored."""
        path = self.root / f"{image_id}.png"
        if not _ID.match(image_id) or not path.is_file():
            raise UserInputError("image.gone")
        return await asyncio.to_thread(path.read_bytes)

    async def set_edit_source(self, chat: ChatRef, actor: Actor, image_id: str) -> None:
        """Remember ``image_id`` as what ``actor``'s next ``/edit`` in ``chat`` edits."""
        await asyncio.to_thread(self._write, self._pointer(chat, actor), image_id.encode())

    async def edit_source(self, chat: ChatRef, actor: Actor) -> str | None:
        """The image id picked with ✏️ by ``actor`` in ``chat`` (None if none)."""
        path = self._pointer(chat, actor)
        if not path.is_file():
            return None
        return (await asyncio.to_thread(path.read_text)).strip() or None

    def _pointer(self, chat: ChatRef, actor: Actor) -> Path:
        name = _UNSAFE.sub("_", f"{chat.platform}_{chat.chat_id}_{actor.user_id}")
        return self.root / "edit-source" / name

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
