"""Image routes of the gateway: request/result shapes and parsing (transport only).

``GatewayClient.generate_images`` / ``edit_image`` / ``variation_image`` post to the
OpenAI-style ``/v1/images/generations``, ``/v1/images/edits`` (multipart) and
``/v1/images/variations`` (multipart) through the SDK's ``images`` resource on the shared
client. Results come as ``b64_json`` or ``url`` (gateways may ignore
``response_format`` and answer with URLs): URL results are downloaded by the client
(``GatewayClient.download_image``) so callers only ever see bytes — a signed gateway
URL is never handed on.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from core.errors import Unavailable

ResponseFormat = Literal["b64_json", "url"]

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""Largest image result we download (bytes; assumed: DALL·E PNGs are ~1-3 MB)."""


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One generation/edit/variation request.

    ``size`` is ``"WxH"`` in pixels; ``quality``/``style`` only for models that take
    them (validated by ``core.images.validation`` before any call); ``n`` images."""

    model: str
    prompt: str = ""
    n: int = 1
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    response_format: ResponseFormat = "b64_json"

    def params(self, *, prompt: bool = True) -> dict[str, Any]:
        """The SDK keyword arguments (unset options left out)."""
        values: dict[str, Any] = {"model": self.model, "n": self.n,
                                  "response_format": self.response_format}
        if prompt:
            values["prompt"] = self.prompt
        for name in ("size", "quality", "style"):
            value = getattr(self, name)
            if value:
                values[name] = value
        return values


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One result: ``data`` (bytes) after download/decoding; ``revised_prompt`` is the
    prompt the model really used (dall-e-3), ``""`` when the gateway sends none."""

    data: bytes
    revised_prompt: str = ""
    mime: str = "image/png"


@dataclass(frozen=True, slots=True)
class RawImage:
    """A result as the gateway sent it: exactly one of ``b64`` and ``url``."""

    b64: str | None
    url: str | None
    revised_prompt: str


def raw_images(response: Any) -> list[RawImage]:
    """The items of an ``ImagesResponse``; ``Unavailable`` when it holds none usable."""
    items = getattr(response, "data", None) or []
    found = [RawImage(getattr(item, "b64_json", None) or None, getattr(item, "url", None) or None,
                      getattr(item, "revised_prompt", None) or "") for item in items]
    found = [item for item in found if item.b64 or item.url]
    if not found:
        raise Unavailable("gateway answered without images")
    return found


def decode_b64(text: str) -> bytes:
    """Bytes of a ``b64_json`` result; ``Unavailable`` when it is not base64."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Unavailable("gateway sent an image that is not base64") from None


def sniff_mime(data: bytes) -> str:
    """The MIME type of PNG/JPEG/WebP bytes by their magic number (PNG if unknown)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"
