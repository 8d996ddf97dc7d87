"""Preparing user media for the model: attachment references, images, text documents.

Adapters describe each file as an ``AttachmentRef`` (metadata plus a lazy ``fetch``);
``MediaPreparer.check`` judges it from the metadata alone (nothing downloaded), ``load``
fetches it and decodes/resizes it in a worker thread (``asyncio.to_thread``): Pillow and
decoding a 2 MB text file take long enough to stall every chat on the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from PIL import Image, UnidentifiedImageError

from core.conversation.inputs import DocumentInput, ImageInput, MediaSource
from core.errors import UserInputError
from core.tokens import estimate_text_tokens

log = logging.getLogger(__name__)

MAX_IMAGE_SIDE = 2048
MAX_IMAGE_PIXELS: int = Image.MAX_IMAGE_PIXELS or 89_478_485
"""Most pixels (width × height) of an image we decode: Pillow's ``Image.MAX_IMAGE_PIXELS``
(89,478,485 by default, ~256 MB as RGB). Pillow only warns above it and raises
``DecompressionBombError`` above twice it; refusing above it is our choice."""
IMAGE_MIMES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
TEXT_EXTENSIONS = {
    ".txt", ".md", ".markdown", ".py", ".json", ".csv", ".tsv", ".yaml", ".yml", ".toml",
    ".ini", ".cfg", ".log", ".xml", ".html", ".htm", ".css", ".js", ".ts", ".tsx", ".jsx",
    ".java", ".kt", ".go", ".rs", ".c", ".h", ".cpp", ".hpp", ".cs", ".rb", ".php", ".sh",
    ".sql", ".swift", ".lua", ".r", ".tex", ".rst", ".srt", ".env.example",
}
_BYTES_PER_MB = 1024 * 1024

AttachmentKind = Literal["image", "document", "audio", "video", "other"]


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A user file not downloaded yet: what the platform said about it, and how to get it.

    ``name`` (file name, "photo.jpg" for photos), ``mime`` ("" when unknown), ``size``
    in bytes from the platform's metadata (None when the platform did not say: then only
    the downloaded bytes are checked), ``kind`` (``attachment_kind(name, mime)``, or
    "image" for a platform's photo), ``fetch`` (an async callable returning the bytes; it
    raises ``UserInputError`` with a localized key for a problem to tell the user, e.g.
    a platform download limit; any other exception is logged by type only and told as
    ``error.download_failed``), ``source`` (the reference stored with the message).
    """

    name: str
    mime: str
    size: int | None
    kind: AttachmentKind
    fetch: Callable[[], Awaitable[bytes]] = field(compare=False, repr=False)
    source: MediaSource | None = None


def attachment_kind(name: str, mime: str | None) -> AttachmentKind:
    """The kind of a file from its MIME type or, failing that, its name."""
    if is_image_mime(mime, name):
        return "image"
    major = (mime or "").split("/", 1)[0].lower()
    if major in ("audio", "video"):
        return "audio" if major == "audio" else "video"
    return "document"


def is_image_mime(mime: str | None, filename: str = "") -> bool:
    """Whether a file looks like an image we can send to vision models."""
    if mime and mime.lower() in IMAGE_MIMES:
        return True
    return PurePath(filename).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".gif"}


def is_text_document(filename: str, mime: str | None = None) -> bool:
    """Whether a file looks text-like by its name or MIME type."""
    if mime and (mime.startswith("text/") or mime in {"application/json", "application/xml"}):
        return True
    return PurePath(filename.lower()).suffix in TEXT_EXTENSIONS


class MediaPreparer:
    """Validates, resizes and decodes user media within configured limits."""

    def __init__(self, *, max_image_bytes: int, max_document_bytes: int,
                 max_document_tokens: int = 6000) -> None:
        self.max_image_bytes = max_image_bytes
        self.max_document_bytes = max_document_bytes
        self.max_document_tokens = max_document_tokens

    def check(self, ref: AttachmentRef) -> None:
        """Judge an attachment by its metadata only; raises ``UserInputError``
        (``error.image_too_large`` / ``error.file_too_large`` with ``limit_mb``,
        ``error.file_unsupported`` with ``filename``). Model capability (vision) is the
        caller's check."""
        if ref.kind == "image":
            if ref.size is not None and ref.size > self.max_image_bytes:
                raise UserInputError("error.image_too_large",
                                     limit_mb=max(1, self.max_image_bytes // _BYTES_PER_MB))
            return
        if ref.kind != "document" or not is_text_document(ref.name, ref.mime or None):
            raise UserInputError("error.file_unsupported", filename=ref.name)
        if ref.size is not None and ref.size > self.max_document_bytes:
            raise UserInputError("error.file_too_large",
                                 limit_mb=max(1, self.max_document_bytes // _BYTES_PER_MB))

    async def load(self, ref: AttachmentRef) -> ImageInput | DocumentInput:
        """Fetch a checked attachment and prepare it in a worker thread; raises
        ``UserInputError`` (the fetch's own, ``error.download_failed``, or the
        preparation's)."""
        try:
            data = await ref.fetch()
        except UserInputError:
            raise
        except Exception as exc:  # only the type: a message may quote a secret URL
            log.warning("fetching an attachment failed: %s", type(exc).__name__)
            raise UserInputError("error.download_failed", filename=ref.name) from None
        if ref.kind == "image":
            image = await asyncio.to_thread(self.prepare_image, data,
                                            ref.mime or "image/jpeg")
            return dataclasses.replace(image, source=ref.source)
        document = await asyncio.to_thread(self.read_text_document, ref.name, data,
                                           ref.mime or None)
        return dataclasses.replace(document, source=ref.source)

    def prepare_image(self, data: bytes, mime: str = "image/jpeg") -> ImageInput:
        """Check and shrink an image to ≤ 2048 px per side (JPEG/PNG), or raise."""
        if len(data) > self.max_image_bytes:
            raise UserInputError(
                "error.image_too_large", limit_mb=self.max_image_bytes // _BYTES_PER_MB
            )
        try:
            with Image.open(io.BytesIO(data)) as image:
                check_pixels(image)
                image.load()
                fmt = (image.format or "").upper()
                if max(image.size) <= MAX_IMAGE_SIDE and fmt in {"JPEG", "PNG"}:
                    return ImageInput(data=data, mime=f"image/{fmt.lower()}")
                return _reencode(image)
        except Image.DecompressionBombError as exc:  # absurd pixel counts, small files
            raise bomb_error(exc) from exc
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise UserInputError("error.image_unreadable") from exc

    def read_text_document(self, filename: str, data: bytes,
                           mime: str | None = None) -> DocumentInput:
        """Decode a text-like file, truncated to the token budget, or raise."""
        if not is_text_document(filename, mime):
            raise UserInputError("error.file_unsupported", filename=filename)
        if len(data) > self.max_document_bytes:
            raise UserInputError(
                "error.file_too_large",
                limit_mb=max(1, self.max_document_bytes // _BYTES_PER_MB),
            )
        if b"\x00" in data[:4096]:
            raise UserInputError("error.file_not_text", filename=filename)
        text = _decode(data)
        if text is None:
            raise UserInputError("error.file_not_text", filename=filename)
        truncated = False
        if estimate_text_tokens(text) > self.max_document_tokens:
            text = _truncate_to_tokens(text, self.max_document_tokens)
            truncated = True
        return DocumentInput(filename=filename, text=text, truncated=truncated)


def check_pixels(image: Image.Image) -> None:
    """Raise ``UserInputError("error.image_too_many_pixels")`` (width, height, pixels,
    limit) for an opened, not yet decoded image over ``MAX_IMAGE_PIXELS``."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise UserInputError("error.image_too_many_pixels", width=width, height=height,
                             pixels=f"{width * height:,}", limit=f"{MAX_IMAGE_PIXELS:,}")


def bomb_error(exc: Image.DecompressionBombError) -> UserInputError:
    """The user error for Pillow's refusal to open an image (``error.image_bomb``; the
    pixel count read from Pillow's message, "?" when it changes wording)."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = f"{int(found.group(1)):,}" if found else "?"
    return UserInputError("error.image_bomb", pixels=pixels, limit=f"{MAX_IMAGE_PIXELS:,}")


def image_data_url(image: ImageInput) -> str:
    """A ``data:`` URL for an image part (never a platform URL: those carry tokens)."""
    return f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"


def _reencode(image: Image.Image) -> ImageInput:
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    out = io.BytesIO()
    if image.mode in {"RGBA", "LA", "P"}:
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        return ImageInput(data=out.getvalue(), mime="image/png")
    image.convert("RGB").save(out, format="JPEG", quality=85)
    return ImageInput(data=out.getvalue(), mime="image/jpeg")


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    return None


def _truncate_to_tokens(text: str, budget: int) -> str:
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_text_tokens(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]
