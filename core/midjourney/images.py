"""Image helpers: data URLs for the proxy, result sizes, and the Vary Region mask."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable

from PIL import Image, UnidentifiedImageError

from core.errors import UserInputError

GRID = 3
"""The region picker is a GRID×GRID board of toggle buttons (cells 0..8, row-major)."""
PHOTO_LIMIT = 10 * 1024 * 1024
"""Bytes above which a result is marked ``Media(kind="file")`` so adapters send it as a
document (Bot API: photos up to 10 MB uploaded)."""


def data_url(data: bytes, mime: str = "") -> str:
    """``data:<mime>;base64,...`` (``mime`` guessed from the bytes when not given)."""
    return f"data:{mime or sniff_mime(data)};base64,{base64.b64encode(data).decode()}"


def sniff_mime(data: bytes) -> str:
    """The image MIME type of ``data`` from its magic bytes (``image/png`` if unknown)."""
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"GIF8"):
        return "image/gif"
    return "image/png"


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels, ``(0, 0)`` when Pillow cannot read ``data``."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return 0, 0


def mask_from_cells(cells: Iterable[int], width: int, height: int) -> bytes:
    """A black PNG of ``width``×``height`` with the chosen cells white (white = redraw,
    the inpainting convention)."""
    width, height = max(width, GRID), max(height, GRID)
    mask = Image.new("L", (width, height), 0)
    for cell in set(cells):
        row, col = divmod(cell, GRID)
        box = (col * width // GRID, row * height // GRID,
               (col + 1) * width // GRID, (row + 1) * height // GRID)
        mask.paste(255, box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def mask_from_image(data: bytes, width: int, height: int) -> bytes:
    """A user-sent mask as a black/white PNG of the result's size (white = redraw).
    Raises ``UserInputError("mj.bad_image")`` when it is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError):
        raise UserInputError("mj.bad_image") from None
    if width and height and gray.size != (width, height):
        gray = gray.resize((width, height))
    gray = gray.point(lambda value: 255 if value >= 128 else 0)
    out = io.BytesIO()
    gray.save(out, "PNG")
    return out.getvalue()
