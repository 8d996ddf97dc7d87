"""What a user hands to a turn: text plus already-downloaded media."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ImageInput:
    """Image bytes ready for a vision model (see ``core.media.prepare_image``)."""

    data: bytes
    mime: str = "image/jpeg"


@dataclass(frozen=True, slots=True)
class DocumentInput:
    """A text-like file already decoded (see ``core.media.read_text_document``)."""

    filename: str
    text: str
    truncated: bool = False


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
