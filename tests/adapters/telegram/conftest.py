"""End-to-end harness: fake gateway + fake Bot API + a real ChatCore + a polling TelegramBot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import TelegramBot
from adapters.telegram.ratelimit import RateLimits
from adapters.telegram.settings import TelegramSettings
from adapters.telegram.streaming import StreamTimings
from core.app import ChatCore
from core.config import AppSettings
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_models import SentMessage
from tests.fakes.telegram_rules import FloodLimits

FAST_LIMITS = RateLimits(private_per_second=4.0, private_burst=3.0, group_per_second=4.0,
                         group_burst=3.0)
"""Our limiter, scaled up for quick tests (``FAKE_LIMITS`` stays above it)."""
FAKE_LIMITS = FloodLimits(chat_per_second=5.0, chat_burst=5, group_per_minute=300,
                          group_burst=5)
"""The fake Bot API's flood limits in tests: ON, just faster than real Telegram."""

FAST_TIMINGS = StreamTimings(draft_interval=0.05, private_edit_interval=0.1, group_first_delay=0.3,
                             group_edit_interval=0.2, typing_interval=1.0,
                             final_retry_delay=0.05)


@dataclass
class TelegramWorld:
    """Everything a transcript test touches."""

    tg: FakeTelegram
    gateway: FakeGateway
    core: ChatCore
    bot: TelegramBot
    tmp_path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    async def wait_for_messages(self, chat_id: int, count: int = 1, *,
                                thread_id: int | None = None, timeout: float = 5.0,
                                done: Callable[[list[SentMessage]], bool] | None = None
                                ) -> list[SentMessage]:
        """Wait until ``count`` bot messages exist (and ``done`` holds); return them."""
        def ready() -> list[SentMessage] | None:
            messages = self.tg.bot_messages(chat_id, thread_id)
            if len(messages) >= count and (done is None or done(messages)):
                return messages
            return None

        result: list[SentMessage] = await self.tg.wait_until(ready, timeout=timeout)
        return result

    async def first_with_buttons(self, chat_id: int) -> SentMessage:
        """Barrier: the bot's first message in ``chat_id`` once it carries buttons (a
        picker, or a streaming answer with its Stop button)."""
        [first] = await self.wait_for_messages(chat_id, 1,
                                               done=lambda m: bool(m[0].reply_markup))
        return first

    def stop_button(self, streaming: SentMessage) -> str:
        """The callback data of the Stop button, the one button of a streaming answer."""
        assert streaming.reply_markup is not None
        [[stop]] = streaming.reply_markup["inline_keyboard"]
        data: str = stop["callback_data"]
        return data

    def last_message_id(self, chat_id: int) -> int:
        """The newest bot message id in ``chat_id`` so far (0: none): a watermark that,
        unlike a message count, a late delete of an older message does not move."""
        return max((m.message_id for m in self.tg.bot_messages(chat_id)), default=0)

    async def wait_for_prompt(self, chat_id: int, after: int, *,
                              timeout: float = 5.0) -> SentMessage:
        """Barrier: the first ForceReply prompt the bot sent in ``chat_id`` after the
        message ``after`` (see ``last_message_id``)."""
        def prompt() -> SentMessage | None:
            return next((m for m in self.tg.bot_messages(chat_id)
                         if m.message_id > after and m.reply_markup
                         and m.reply_markup.get("force_reply")), None)

        found: SentMessage = await self.tg.wait_until(prompt, timeout=timeout)
        return found

    async def wait_final(self, chat_id: int, text: str, *, thread_id: int | None = None,
                         timeout: float = 5.0) -> list[SentMessage]:
        """Wait until a visible bot message (without a Stop button) contains ``text``."""
        def done(messages: list[SentMessage]) -> bool:
            return any(text in m.text and not m.reply_markup for m in messages)

        return await self.wait_for_messages(chat_id, 1, thread_id=thread_id, timeout=timeout,
                                            done=done)


def make_settings(gateway: FakeGateway, tg: FakeTelegram, tmp_path: Path,
                  **overrides: Any) -> AppSettings:
    """Settings pointing the core at the fake gateway and the bot at the fake Bot API."""
    values: dict[str, Any] = {
        "gateway_base_url": gateway.url, "gateway_api_key": "gw-key",
        "database_url": f"sqlite+aiosqlite:///{tmp_path}/t.db",
        "burst_window": 0.0, "burst_max_wait": 1.0, "models_refresh_interval": 0,
        "gateway_max_retries": 0,
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)  # type: ignore[call-arg]


def make_bot_settings(tg: FakeTelegram, **overrides: Any) -> TelegramSettings:
    """``TELEGRAM_*`` settings pointing the bot at the fake Bot API."""
    values: dict[str, Any] = {"bot_token": tg.token, "api_url": tg.url, **overrides}
    return TelegramSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def gateway_models() -> list[str] | None:
    """Override to change the gateway's live model list (None: the fake's default)."""
    return None


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override to change AppSettings values of the ``world`` (e.g. ``max_input_chars``)."""
    return {}


@pytest.fixture
async def world(fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path,
                gateway_models: list[str] | None, settings_overrides: dict[str, Any]
                ) -> AsyncIterator[TelegramWorld]:
    """A started bot (polling the fake Bot API) over a real core on a SQLite file."""
    if gateway_models is not None:
        fake_gateway.models = list(gateway_models)
    fake_telegram.limits = FAKE_LIMITS
    settings = make_settings(fake_gateway, fake_telegram, tmp_path, **settings_overrides)
    core = await ChatCore.create(settings)
    bot = TelegramBot(core, make_bot_settings(fake_telegram), timings=FAST_TIMINGS,
                      limits=FAST_LIMITS, album_delay=0.2, polling_timeout=1)
    await bot.start()
    try:
        yield TelegramWorld(fake_telegram, fake_gateway, core, bot, tmp_path)
    finally:
        await bot.stop()
        await core.close()
