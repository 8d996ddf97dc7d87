"""Start-up and shutdown: nothing leaks when start() fails or polling died on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.exceptions import TelegramAPIError

from adapters.telegram import TelegramBot
from core.app import ChatCore
from tests.adapters.telegram.conftest import (
    FAST_LIMITS,
    FAST_TIMINGS,
    make_bot_settings,
    make_settings,
)
from tests.adapters.telegram.webhook_support import PATH, webhook_bot
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_rules import ApiError


def session_closed(bot: TelegramBot) -> bool:
    """Whether the bot's aiohttp session is gone (aiogram keeps it in ``_session``)."""
    session = getattr(bot.bot.session, "_session", None)
    return session is None or bool(session.closed)


async def test_run_cleans_up_when_setting_the_webhook_fails(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async def refuse(params: dict[str, Any], files: dict[str, Any]) -> Any:
        raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided")

    fake_telegram._handlers["setwebhook"] = refuse
    async with webhook_bot(fake_gateway, fake_telegram, tmp_path) as (bot, port):
        with pytest.raises(TelegramAPIError):
            await bot.run()
        assert session_closed(bot)
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError):  # the listener is gone
                async with session.post(f"http://127.0.0.1:{port}{PATH}", json={}):
                    pass


async def test_stop_after_polling_died_still_closes_everything(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    settings = make_settings(fake_gateway, fake_telegram, tmp_path)
    core = await ChatCore.create(settings)
    bot = TelegramBot(core, make_bot_settings(fake_telegram), timings=FAST_TIMINGS,
                      limits=FAST_LIMITS,
                      polling_timeout=1)

    async def broken_startup() -> None:
        raise RuntimeError("a startup hook failed")

    bot.dispatcher.startup.register(broken_startup)
    try:
        await bot.start()
        polling = bot._polling
        assert polling is not None
        await fake_telegram.wait_until(polling.done)
        await bot.stop()  # must neither raise nor skip closing the session
        assert session_closed(bot)
    finally:
        await core.close()
