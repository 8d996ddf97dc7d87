"""Images of the fake Midjourney: real small PNGs behind signed-looking URLs.

Newer gateways sign ``/mj/image/{id}`` URLs (an unsigned read leaked other users'
images), so the fake refuses a URL without its ``sig``: a client must use ``imageUrl``
exactly as returned.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os

from PIL import Image

SIGNING_KEY = b"fake-mj-signing-key"


def signature(image_id: str, stage: str) -> str:
    """The ``sig`` parameter of an image URL (HMAC-SHA256, 16 hex chars; invented)."""
    message = f"{image_id}:{stage}".encode()
    return hmac.new(SIGNING_KEY, message, hashlib.sha256).hexdigest()[:16]


def image_url(root: str, image_id: str, stage: str = "final") -> str:
    """A signed URL: ``/mj/image/<id>?stage=<final|percent>&sig=<hmac>``."""
    return f"{root}/mj/image/{image_id}?stage={stage}&sig={signature(image_id, stage)}"


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    """A solid PNG of ``width``×``height`` pixels."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def noise_png(width: int, height: int) -> bytes:
    """An incompressible PNG (random pixels, no compression): ~3 bytes per pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        out, "PNG", compress_level=0)
    return out.getvalue()


def color_of(image_id: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(image_id.encode()).digest()
    return digest[0], digest[1], digest[2]
