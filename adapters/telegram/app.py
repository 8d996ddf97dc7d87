"""TelegramBot: aiogram Bot + Dispatcher wired to a ChatCore.

``start()``/``stop()`` run the bot in the background (tests, embedding); ``run()`` is the
``serve(stop)`` is the runner's entry point: long polling by default, or a webhook server
when ``TELEGRAM_WEBHOOK_URL`` is set (the public URL Telegram calls); the local aiohttp
server listens on ``TELEGRAM_WEBHOOK_HOST:TELEGRAM_WEBHOOK_PORT`` at
``TELEGRAM_WEBHOOK_PATH`` and checks the secret token on every request.  The adapter
never installs signal handlers (aiogram's ``handle_signals`` is off): ``bots.runner``
owns SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from functools import partial
from typing import Any, ClassVar

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from adapters.contract import Capabilities
from adapters.telegram.commands import export_commands
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.ratelimit import BotLimiter, FloodControlMiddleware, RateLimits
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.streaming import StreamTimings
from adapters.telegram.ui import register_texts
from core.app import ChatCore
from core.config import load_settings_of

log = logging.getLogger(__name__)


class TelegramBot:
    """The Telegram adapter: one bot, its dispatcher, limiter and handlers.

    ``settings`` default to ``TELEGRAM_*`` from the environment / ``.env``."""

    name: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        drafts=True, edits=True, buttons=True, albums=True, modals=False, threads=True,
        max_message_length=4096, length_unit="utf16",  # Bot API: 4096 UTF-16 units
        max_upload_bytes=50 * 1024 * 1024)  # Bot API: bots send files up to 50 MB

    def __init__(self, core: ChatCore, settings: TelegramSettings | None = None, *,
                 timings: StreamTimings | None = None, limits: RateLimits | None = None,
                 album_delay: float = 0.5, polling_timeout: int = 10) -> None:
        settings = settings or load_settings_of(TelegramSettings)
        token = settings.token
        if not token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        register_texts()
        self.core = core
        self.settings = settings
        self.polling_timeout = polling_timeout
        self.limiter = BotLimiter(limits)
        api = TelegramAPIServer.from_base(settings.api_url, is_local=False)
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
        """Whether updates come through a webhook (``TELEGRAM_WEBHOOK_URL`` is set)."""
        return bool(self.settings.webhook_url)

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
        configured = settings.webhook_secret
        secret = (configured.get_secret_value() if configured else "") \
            or secrets.token_urlsafe(32)
        app = web.Application()
        SimpleRequestHandler(self.dispatcher, self.bot, secret_token=secret).register(
            app, path=settings.webhook_path)
        setup_application(app, self.dispatcher, bot=self.bot)
        self._web_runner = web.AppRunner(app, handle_signals=False)  # the runner's job
        await self._web_runner.setup()
        site = web.TCPSite(self._web_runner, settings.webhook_host,
                           settings.webhook_port)
        await site.start()
        await self.bot.set_webhook(settings.webhook_url, secret_token=secret,
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
            self.core.outbox.detach("telegram")  # ends queued jobs: show that first
            await self.handlers.presentations.settle(None)
            await self.handlers.close()
            await self.bot.session.close()

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, serve until ``stop`` is set, then finish running turns and shut down.

        Raises ``RuntimeError`` when polling ended on its own (so the supervisor sees the
        failure) and whatever ``start()`` raises; cleans up in every case."""
        polling_died = False
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await self.start()
            waiters: list[asyncio.Future[Any]] = [stopper]
            if self._polling is not None:
                waiters.append(self._polling)  # polling ends on its own only on errors
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            polling_died = not stop.is_set()
        finally:
            stopper.cancel()
            await self.handlers.drain()
            await self.stop()
        if polling_died:
            raise RuntimeError("Telegram polling stopped unexpectedly")

    async def run(self) -> None:
        """Serve until polling fails or the task is cancelled (no signal handling)."""
        await self.serve(asyncio.Event())
