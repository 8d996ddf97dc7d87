"""Starting the platforms whose tokens are set, on one shared core."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any

from bots.heap import settle_heap
from core.app import ChatCore
from core.config import AppSettings

log = logging.getLogger("bots")

PlatformRunner = Callable[[ChatCore, AppSettings], Coroutine[Any, Any, None]]


async def _run_telegram(core: ChatCore, settings: AppSettings) -> None:
    from adapters.telegram import TelegramBot

    bot = TelegramBot(core, settings)
    settle_heap()
    await bot.run()


async def _run_discord(core: ChatCore, settings: AppSettings) -> None:
    from adapters.discord import DiscordBot

    bot = DiscordBot(core, settings)
    settle_heap()
    await bot.run()


def enabled_platforms(settings: AppSettings) -> dict[str, PlatformRunner]:
    """Platforms whose bot token is configured."""
    platforms: dict[str, PlatformRunner] = {}
    if settings.secret(settings.telegram_bot_token):
        platforms["telegram"] = _run_telegram
    if settings.secret(settings.discord_bot_token):
        platforms["discord"] = _run_discord
    return platforms


async def run_bots(settings: AppSettings, platforms: dict[str, PlatformRunner]) -> int:
    """Run every given platform on one core until SIGINT/SIGTERM (or one stops cleanly).

    A platform that fails is reported in one log line and the others keep running;
    the exit code is 1 when any platform failed, else 0.
    """
    core = await ChatCore.create(settings)
    log.info("chatbridge: %d models in the catalog; starting %s", len(core.catalog),
             ", ".join(platforms))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    tasks: dict[asyncio.Task[Any], str] = {
        asyncio.create_task(runner(core, settings), name=name): name
        for name, runner in platforms.items()}
    stopper: asyncio.Task[Any] = asyncio.create_task(stop.wait())
    failed = False
    try:
        pending: set[asyncio.Task[Any]] = set(tasks)
        while pending and not stop.is_set():
            done, _ = await asyncio.wait(pending | {stopper},
                                         return_when=asyncio.FIRST_COMPLETED)
            for task in [t for t in pending if t in done]:
                pending.discard(task)
                error = task.exception()
                if error is None:  # a platform that stops cleanly was told to: stop all
                    stop.set()
                else:
                    failed = True
                    log.error("%s bot stopped: %s: %s", tasks[task], type(error).__name__,
                              error)
    finally:
        stopper.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, stopper, return_exceptions=True)
        await core.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
    return 1 if failed else 0
