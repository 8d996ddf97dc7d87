"""Midjourney test helpers that do not depend on the platform: coloured PNGs and what the
gateway received (colours, masks), the grid's buttons, and pausing the poller while a
task is IN_PROGRESS (to restart the bot there). The platforms' button and wait helpers
live in ``tests/adapters/<platform>/mj_support.py``."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.core.midjourney.conftest import VirtualClock
from tests.fakes.gateway_mj import FakeMidjourney

RED, GREEN, BLUE, WHITE = (250, 0, 0), (0, 250, 0), (0, 0, 250), (255, 255, 255)
GRID = ["U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4", "🌱 Seed"]
"""The buttons of a grid (``emoji label``), row after row."""


def png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    """A PNG of one ``color``, ``size`` pixels (width, height)."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def color_of(data_url: str) -> tuple[int, int, int]:
    """The (rounded) colour of a data-URL image the gateway received."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as image:
        r, g, b = image.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    return (round(r / 50) * 50, round(g / 50) * 50, round(b / 50) * 50)


def mask_of(body: dict[str, Any]) -> Image.Image:
    """The mask image of a submitted modal (``maskBase64``, a data URL)."""
    return Image.open(io.BytesIO(base64.b64decode(body["maskBase64"].split(",", 1)[1])))


def pause_in_progress(mj: FakeMidjourney, clock: VirtualClock) -> None:
    """From now on the poller stops (its next sleep waits) once a task it polls is
    IN_PROGRESS: the bot can be restarted there. ``resume_polling`` undoes it."""
    def pause(task: dict[str, Any]) -> None:
        if task["status"] == "IN_PROGRESS":
            clock.running.clear()

    mj.on_poll = pause


def resume_polling(mj: FakeMidjourney, clock: VirtualClock) -> None:
    """Polls no longer pause; the waiting poller goes on."""
    mj.on_poll = None
    clock.running.set()
