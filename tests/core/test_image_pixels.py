"""Images with too many pixels (small files that decode to huge bitmaps) are refused
with the real reason: their pixel count and our limit (Pillow's), not "too large (MB)"."""

from __future__ import annotations

import functools
import io

import pytest
from PIL import Image

from core.app import ChatCore
from core.errors import UserInputError
from core.i18n import t
from core.images.prepare import square_png
from core.inbound import AttachmentRef, Inbound, Refusal
from core.media import MAX_IMAGE_PIXELS, MediaPreparer
from tests.core.conftest import ANN, PRIVATE


@functools.cache
def blank_png(side: int) -> bytes:
    """A 1-bit black square: a few KB on disk, ``side``² pixels decoded."""
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, format="PNG")
    return out.getvalue()


def test_the_limit_is_pillows_decompression_bomb_limit() -> None:
    assert MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS == 89_478_485


@pytest.mark.parametrize(("side", "key", "text"), [
    (10_000, "error.image_too_many_pixels",  # over our limit; Pillow would only warn
     "That image is too large in pixels (10000×10000 = 100,000,000 pixels; at most "
     "89,478,485 pixels, the decompression-bomb limit of the Pillow image library, "
     "which we keep)."),
    (14_000, "error.image_bomb",  # over twice the limit: Pillow refuses to open it
     "That image is too large in pixels (196,000,000 pixels; at most 89,478,485 pixels, "
     "the decompression-bomb limit of the Pillow image library, which we keep)."),
])
def test_a_small_file_with_too_many_pixels_is_refused_for_its_pixels(
        side: int, key: str, text: str) -> None:
    data = blank_png(side)
    assert len(data) < 30_000  # far under the 10 MB byte limit
    preparer = MediaPreparer(max_image_bytes=10 * 1024 * 1024, max_document_bytes=1)
    with pytest.raises(UserInputError) as caught:
        preparer.prepare_image(data, "image/png")
    assert caught.value.key == key
    assert t(key, "en", **caught.value.params) == text
    with pytest.raises(UserInputError) as edited:  # /edit and /vary convert photos too
        square_png(data, 1024)
    assert edited.value.key == key


async def test_user_sends_a_decompression_bomb_and_is_told_why(core: ChatCore) -> None:
    await core.run_command_text("/model gpt-4-vision-preview", PRIVATE, ANN)
    data = blank_png(14_000)

    async def fetch() -> bytes:
        return data

    ref = AttachmentRef("bomb.png", "image/png", len(data), "image", fetch)
    result = await core.receive(Inbound(PRIVATE, ANN, "what is this?", attachments=(ref,)))

    assert isinstance(result, Refusal)
    assert result.text == (
        "That image is too large in pixels (196,000,000 pixels; at most 89,478,485 pixels, "
        "the decompression-bomb limit of the Pillow image library, which we keep).")
