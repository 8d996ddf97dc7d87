"""TelegramBot: aiogram Bot + Dispatcher wired to a ChatCore.

``start()``/``stop()`` run the bot in the background (tests, embedding); ``run()`` is the
production entry point: long polling by default, or a webhook server when
``telegram_webhook_url`` is set. ``telegram_webhook_url`` is the public URL Telegram calls;
the local aiohttp server listens on ``telegram_webhook_host:telegram_webhook_port`` at
``telegram_webhook_path`` and checks the secret token on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from adapters.telegram.commands import export_commands
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.ratelimit import BotLimiter, FloodControlMiddleware, RateLimits
from adapters.telegram.streaming import StreamTimings
from adapters.telegram.ui import register_texts
from core.app import ChatCore
from core.config import AppSettings

log = logging.getLogger(__name__)


class TelegramBot:
    """The Telegram adapter: one bot, its dispatcher, limiter and handlers."""

    def __init__(self, core: ChatCore, settings: AppSettings, *,
                 timings: StreamTimings | None = None, limits: RateLimits | None = None,
                 album_delay: float = 0.5, polling_timeout: int = 10) -> None:
        token = settings.secret(settings.telegram_bot_token)
        if not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        register_texts()
        self.core = core
        self.settings = settings
        self.polling_timeout = polling_timeout
        self.limiter = BotLimiter(limits)
        api = TelegramAPIServer.from_base(settings.telegram_api_url, is_local=False)
        session = AiohttpSession(api=api)
        session.middleware(FloodControlMiddleware(self.limiter))
        self.bot = Bot(token, session=session)
        self.handlers = TelegramHandlers(core, self.limiter, timings=timings,
                                         album_delay=album_delay)
        session.middleware(self.handlers.guard)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(self.handlers.router)
        self._polling: asyncio.Task[None] | None = None
        self._web_runner: web.AppRunner | None = None

    @property
    def webhook_mode(self) -> bool:
        """Whether updates come through a webhook (``telegram_webhook_url`` is set)."""
        return bool(self.settings.telegram_webhook_url)

    async def start(self) -> None:
        """Check the token, export the command menus, start receiving updates."""
        me = await self.bot.me()
        log.info("Telegram bot @%s (%s) starting", me.username, me.id)
        await export_commands(self.bot, self.core.commands)
        self.core.outbox.attach("telegram", partial(self.handlers.buttons.deliver, self.bot))
        if self.webhook_mode:
            await self._start_webhook()
            return
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = asyncio.create_task(self.dispatcher.start_polling(
            self.bot, handle_signals=False, close_bot_session=False,
            polling_timeout=self.polling_timeout,
            allowed_updates=self.dispatcher.resolve_used_update_types()))

    async def _start_webhook(self) -> None:
        settings = self.settings
        secret = settings.secret(settings.telegram_webhook_secret) or secrets.token_urlsafe(32)
        app = web.Application()
        SimpleRequestHandler(self.dispatcher, self.bot, secret_token=secret).register(
            app, path=settings.telegram_webhook_path)
        setup_application(app, self.dispatcher, bot=self.bot)
        self._web_runner = web.AppRunner(app)
        await self._web_runner.setup()
        site = web.TCPSite(self._web_runner, settings.telegram_webhook_host,
                           settings.telegram_webhook_port)
        await site.start()
        await self.bot.set_webhook(settings.telegram_webhook_url, secret_token=secret,
                                   allowed_updates=self.dispatcher.resolve_used_update_types())

    async def stop(self) -> None:
        """Stop receiving updates, cancel running turns and close the HTTP session.

        Safe after a failed or partial ``start()`` and when polling already died."""
        try:
            if self._polling is not None:
                polling, self._polling = self._polling, None
                with contextlib.suppress(RuntimeError):
                    await self.dispatcher.stop_polling()
                try:
                    await polling
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("Telegram polling ended with an error")
            if self._web_runner is not None:
                runner, self._web_runner = self._web_runner, None
                await runner.cleanup()
        finally:
            self.core.outbox.detach("telegram")
            await self.handlers.close()
            await self.bot.session.close()

    async def run(self) -> None:
        """Production entry point: run until SIGINT/SIGTERM, then shut down cleanly."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        polling_died = False
        try:
            await self.start()
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
            if self._polling is not None:
                waiters.append(self._polling)  # polling ends on its own only on errors
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            polling_died = not stop.is_set()
        finally:
            await self.handlers.drain()
            await self.stop()
        if polling_died:  # let the supervisor (bots.runner, systemd…) see the failure
            raise RuntimeError("Telegram polling stopped unexpectedly")
