"""Turning a user's photo into what ``/v1/images/edits`` and ``/variations`` accept.

OpenAI Images API: the image must be "a valid PNG file, less than 4MB, and square"; for
an edit without a mask it must have transparency; a mask is a PNG "with the same
dimensions as image". We convert any readable image (JPEG, WebP, PNG…) to RGBA, crop the
centre square, resize it to the requested side, and re-encode as PNG. CPU-bound: call
through ``asyncio.to_thread``.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import UserInputError
from core.media import bomb_error, check_pixels

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
"""The API's limit for uploads (bytes, "less than 4MB")."""
FALLBACK_SIDE = 512
"""Side (px) retried when a 1024 px PNG is over ``MAX_UPLOAD_BYTES`` (a noisy photo)."""


def square_png(data: bytes, side: int) -> bytes:
    """``data`` (any image Pillow reads) as a ``side``×``side`` RGBA PNG under 4 MB.

    The EXIF orientation is applied, then the centre square is cropped and resized.
    When the PNG would be ≥ 4 MB at ``side`` the result is ``FALLBACK_SIDE`` px (so
    callers must use the returned image's size — see ``png_side``). Raises
    ``UserInputError("error.image_unreadable")`` for bytes that are not an image,
    ``error.image_too_many_pixels``/``error.image_bomb`` over ``core.media.MAX_IMAGE_PIXELS``."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            check_pixels(opened)
            image = ImageOps.exif_transpose(opened).convert("RGBA")
    except Image.DecompressionBombError as exc:
        raise bomb_error(exc) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise UserInputError("error.image_unreadable") from None
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    encoded = _png(square)
    if len(encoded) >= MAX_UPLOAD_BYTES and side > FALLBACK_SIDE:
        encoded = _png(square.resize((FALLBACK_SIDE, FALLBACK_SIDE),
                                     Image.Resampling.LANCZOS))
    return encoded


def png_side(data: bytes) -> int:
    """The width (= height) in pixels of a square PNG made by ``square_png``."""
    with Image.open(io.BytesIO(data)) as image:
        return int(image.size[0])


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()
