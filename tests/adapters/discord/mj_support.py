"""Helpers of the Discord Midjourney transcripts: PNG attachments, buttons, waits, a
restart on the same database. The poller runs on a virtual clock (``clock`` fixture)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from core.app import ChatCore
from tests.adapters.discord.conftest import DiscordWorld, make_settings, start_bot
from tests.fakes.discord_models import FakeMessage

RED, GREEN, BLUE = (250, 0, 0), (0, 250, 0), (0, 0, 250)


def png(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def attachment(color: tuple[int, int, int], name: str = "a.png") -> tuple[str, bytes, str]:
    return (name, png(color), "image/png")


def color_of(data_url: str) -> tuple[int, int, int]:
    """The (rounded) colour of a data-URL image the gateway received."""
    raw = base64.b64decode(data_url.split(",", 1)[1])
    with Image.open(io.BytesIO(raw)) as image:
        r, g, b = image.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
    return (round(r / 50) * 50, round(g / 50) * 50, round(b / 50) * 50)


def buttons(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for row in components for b in row.get("components", [])]


def labels(message: FakeMessage) -> list[str]:
    """"emoji label" of every button of ``message``."""
    return [f"{(b.get('emoji') or {}).get('name', '')} {b.get('label') or ''}".strip()
            for b in buttons(message.components)]


def custom_id(message: FakeMessage, label: str) -> str:
    """The custom id of the button whose "emoji label" is ``label``."""
    for b, text in zip(buttons(message.components), labels(message), strict=True):
        if text == label:
            found: str = b["custom_id"]
            return found
    raise AssertionError(f"no {label!r} in {labels(message)}")


def messages_with(world: DiscordWorld, channel: int, what: Callable[[FakeMessage], bool],
                  count: int = 1) -> Callable[[], list[FakeMessage] | None]:
    """``wait_until`` predicate: ``count`` bot messages in ``channel`` satisfy ``what``."""
    def ready() -> list[FakeMessage] | None:
        found = [m for m in world.bot_messages(channel) if what(m)]
        return found if len(found) >= count else None
    return ready


def image_with(label: str) -> Callable[[FakeMessage], bool]:
    return lambda m: bool(m.attachments) and label in labels(m)


def text_with(part: str) -> Callable[[FakeMessage], bool]:
    return lambda m: part in m.content


async def restart(world: DiscordWorld) -> None:
    """Stop the bot, close the core, start new ones on the same SQLite file."""
    await world.bot.stop()
    await world.core.close()
    world.core = await ChatCore.create(make_settings(world.gateway, world.dc, world.tmp_path))
    world.bot = await start_bot(world.core, world.settings)
