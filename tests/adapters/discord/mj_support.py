"""Helpers of the Discord Midjourney transcripts: PNG attachments, buttons, waits, a
restart on the same database (platform-free ones: ``tests/adapters/mj_shared.py``). The
poller runs on a virtual clock (``clock`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.app import ChatCore
from tests.adapters.discord.conftest import DiscordWorld, make_settings, start_bot
from tests.adapters.mj_shared import png
from tests.fakes.discord_models import FakeMessage


def attachment(color: tuple[int, int, int], name: str = "a.png") -> tuple[str, bytes, str]:
    return (name, png(color), "image/png")


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
