"""A Telegram bot in webhook mode on a free local port (``test_webhook.py``,
``test_lifecycle.py``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from adapters.telegram import TelegramBot
from core.app import ChatCore
from tests.adapters.telegram.conftest import (
    FAST_LIMITS,
    FAST_TIMINGS,
    make_bot_settings,
    make_settings,
)
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram

PUBLIC_URL = "https://bot.example.test/tg/hook"
SECRET = "s3cret-token_42"
PATH = "/tg/hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    """A port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def webhook_bot(fake_gateway: FakeGateway, fake_telegram: FakeTelegram,
                      tmp_path: Path, **bot_options: Any
                      ) -> AsyncIterator[tuple[TelegramBot, int]]:
    """A bot (not started) whose webhook (``PUBLIC_URL``, ``SECRET``) listens on
    127.0.0.1:<port> at ``PATH``, and that port; stopped, and its core closed, at the end."""
    port = free_port()
    hook = make_bot_settings(
        fake_telegram, webhook_url=PUBLIC_URL, webhook_secret=SECRET,
        webhook_host="127.0.0.1", webhook_port=port, webhook_path=PATH)
    core = await ChatCore.create(make_settings(fake_gateway, fake_telegram, tmp_path))
    bot = TelegramBot(core, hook, timings=FAST_TIMINGS, limits=FAST_LIMITS, **bot_options)
    try:
        yield bot, port
    finally:
        await bot.stop()  # a second stop is harmless
        await core.close()
