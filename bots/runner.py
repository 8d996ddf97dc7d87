"""Running adapters on one shared core; the only place that handles SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from adapters.contract import Adapter, AdapterPlugin, AdapterSettings
from bots.heap import settle_heap
from core.app import ChatCore
from core.config import AppSettings, load_settings_of

log = logging.getLogger("bots")

STOP_GRACE = 30.0
"""Seconds adapters get to finish running turns and close after a stop signal."""

Configured = dict[str, tuple[AdapterPlugin, AdapterSettings]]
"""Platform name -> (plugin, its loaded settings)."""


def configure(plugins: dict[str, AdapterPlugin], **overrides: Any) -> Configured:
    """Load each plugin's settings (``SettingsError``: one line naming the variable);
    ``overrides`` go to every settings class (e.g. ``_env_file=None``)."""
    return {name: (plugin, load_settings_of(plugin.settings, **overrides))
            for name, plugin in plugins.items()}


def enabled(configured: Configured) -> Configured:
    """The platforms whose settings say they should start (e.g. a token is set)."""
    return {name: entry for name, entry in configured.items() if entry[1].enabled()}


async def run_bots(settings: AppSettings, platforms: Configured) -> int:
    """Run every given platform on one core until SIGINT/SIGTERM or one stops cleanly.

    A platform that fails (to build, start or serve) is reported in one log line and the
    others keep running; the exit code is 1 when any platform failed, else 0.
    """
    core = await ChatCore.create(settings)
    log.info("chatbridge: %d models in the catalog; starting %s", len(core.catalog),
             ", ".join(platforms))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    failed = False
    adapters: dict[str, Adapter] = {}
    for name, (plugin, platform_settings) in platforms.items():
        try:
            adapters[name] = plugin.factory(core, platform_settings)
        except Exception as exc:
            failed = True
            log.error("%s bot stopped: %s: %s", name, type(exc).__name__, exc)
    settle_heap()
    tasks: dict[asyncio.Task[Any], str] = {
        asyncio.create_task(adapter.serve(stop), name=name): name
        for name, adapter in adapters.items()}
    try:
        pending: set[asyncio.Task[Any]] = set(tasks)
        while pending:
            grace = STOP_GRACE if stop.is_set() else None  # then stragglers are cancelled
            done, pending = await asyncio.wait(pending, timeout=grace,
                                               return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break
            for task in done:
                error = task.exception()
                if error is None:  # a platform that returns was told to (or ran out of
                    stop.set()     # input): stop all
                else:
                    failed = True
                    log.error("%s bot stopped: %s: %s", tasks[task], type(error).__name__,
                              error)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await core.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
    return 1 if failed else 0
