"""Webhook mode: Telegram POSTs updates to our aiohttp server instead of getUpdates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.telegram import TelegramBot
from tests.adapters.telegram.conftest import (
    FAKE_LIMITS,
)
from tests.adapters.telegram.webhook_support import (
    PATH,
    PUBLIC_URL,
    SECRET,
    SECRET_HEADER,
    webhook_bot,
)
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram


@dataclass
class WebhookWorld:
    tg: FakeTelegram
    gateway: FakeGateway
    bot: TelegramBot
    endpoint: str

    def take_update(self, message: dict[str, Any]) -> dict[str, Any]:
        """The Update the fake queued for ``message``, removed from the getUpdates queue
        (in webhook mode Telegram pushes it to us instead)."""
        update = next(u for u in self.tg.updates if u.get("message") is message)
        self.tg.updates.remove(update)
        return update

    async def post(self, update: dict[str, Any], secret: str | None) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with aiohttp.ClientSession() as session, session.post(
                self.endpoint, json=update, headers=headers) as response:
            return response.status


@pytest.fixture
async def hooked(fake_gateway: FakeGateway, fake_telegram: FakeTelegram,
                 tmp_path: Path) -> AsyncIterator[WebhookWorld]:
    """A bot started in webhook mode, listening on a free local port."""
    fake_telegram.limits = FAKE_LIMITS
    async with webhook_bot(fake_gateway, fake_telegram, tmp_path,
                           polling_timeout=1) as (bot, port):
        await bot.start()
        yield WebhookWorld(fake_telegram, fake_gateway, bot, f"http://127.0.0.1:{port}{PATH}")


async def test_start_registers_the_webhook_and_never_polls(hooked: WebhookWorld) -> None:
    tg = hooked.tg
    assert hooked.bot.webhook_mode
    assert tg.webhook is not None
    assert tg.webhook["url"] == PUBLIC_URL
    assert tg.webhook["secret_token"] == SECRET
    assert "message" in tg.webhook.get("allowed_updates", [])
    [call] = tg.calls_of("setWebhook")
    assert call.status == 200
    assert not tg.calls_of("getUpdates") and not tg.calls_of("deleteWebhook")


async def test_posted_update_with_the_secret_is_answered(hooked: WebhookWorld) -> None:
    tg = hooked.tg
    ann = tg.private_chat(42, first_name="Ann")
    update = hooked.take_update(tg.user_sends(ann, 42, "hello via webhook"))

    assert await hooked.post(update, SECRET) == 200

    await tg.wait_until(lambda: any(m.text == "echo: hello via webhook"
                                    for m in tg.bot_messages(ann)), timeout=3.0)
    [request] = hooked.gateway.chat_requests()
    assert request["messages"][-1]["content"] == "hello via webhook"
    assert not tg.calls_of("getUpdates")


@pytest.mark.parametrize("secret", ["wrong-secret", None], ids=["wrong", "missing"])
async def test_post_without_the_right_secret_is_rejected(hooked: WebhookWorld,
                                                         secret: str | None) -> None:
    tg = hooked.tg
    ann = tg.private_chat(42)
    update = hooked.take_update(tg.user_sends(ann, 42, "let me in"))

    assert await hooked.post(update, secret) in (401, 403)

    # barrier: a probe posted with the secret is answered; the refused update left no trace
    probe = hooked.take_update(tg.user_sends(ann, 42, "probe"))
    assert await hooked.post(probe, SECRET) == 200
    await tg.wait_until(lambda: tg.bot_messages(ann), timeout=3.0)
    assert [m.text for m in tg.bot_messages(ann)] == ["echo: probe"]
    [request] = hooked.gateway.chat_requests()
    assert [m["content"] for m in request["messages"]] == ["probe"]


async def test_stop_closes_the_webhook_listener(fake_gateway: FakeGateway,
                                                fake_telegram: FakeTelegram,
                                                tmp_path: Path) -> None:
    async with webhook_bot(fake_gateway, fake_telegram, tmp_path) as (bot, port):
        await bot.start()
        endpoint = f"http://127.0.0.1:{port}{PATH}"
        async with aiohttp.ClientSession() as session:
            async with session.post(endpoint, json={}, headers={SECRET_HEADER: "nope"}) as r:
                assert r.status == 401  # listening
            await bot.stop()
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.post(endpoint, json={}, headers={SECRET_HEADER: SECRET}):
                    pass
