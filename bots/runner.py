"""Starting the platforms whose tokens are set, on one shared core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from core.app import ChatCore
from core.config import AppSettings

log = logging.getLogger("bots")

PlatformRunner = Callable[[ChatCore, AppSettings], Coroutine[Any, Any, None]]


async def _run_telegram(core: ChatCore, settings: AppSettings) -> None:
    from adapters.telegram import TelegramBot

    await TelegramBot(core, settings).run()


async def _run_discord(core: ChatCore, settings: AppSettings) -> None:
    from adapters.discord import DiscordBot

    await DiscordBot(core, settings).run()


def enabled_platforms(settings: AppSettings) -> dict[str, PlatformRunner]:
    """Platforms whose bot token is configured."""
    platforms: dict[str, PlatformRunner] = {}
    if settings.secret(settings.telegram_bot_token):
        platforms["telegram"] = _run_telegram
    if settings.secret(settings.discord_bot_token):
        platforms["discord"] = _run_discord
    return platforms


async def run_bots(settings: AppSettings, platforms: dict[str, PlatformRunner]) -> None:
    """Run every given platform on one core until one of them stops or fails."""
    core = await ChatCore.create(settings)
    log.info("chatbridge: %d models in the catalog; starting %s", len(core.catalog),
             ", ".join(platforms))
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(runner(core, settings), name=name)
             for name, runner in platforms.items()]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await core.close()
