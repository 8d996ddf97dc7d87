"""Fixtures for end-to-end core tests: a real ChatCore on SQLite against the fake gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from core.app import ChatCore
from core.config import AppSettings
from core.conversation.inputs import UserMessage
from core.conversation.keys import Actor, ChatRef
from core.events import TurnEvent
from tests.fakes.gateway import FakeGateway

PRIVATE = ChatRef("test", "100", is_private=True)
GROUP = ChatRef("test", "-500")
ANN = Actor("test", "1", "Ann", "en")
BOB = Actor("test", "2", "Bob", "zh")

CoreFactory = Callable[..., Awaitable[ChatCore]]


def core_settings(gateway: FakeGateway, db: Path, **overrides: Any) -> AppSettings:
    """Settings pointing at the fake gateway and a SQLite file; fast retries."""
    values: dict[str, Any] = {
        "gateway_base_url": gateway.url, "gateway_api_key": "gw-secret-key",
        "database_url": f"sqlite+aiosqlite:///{db}", "default_model": "gpt-3.5-turbo",
        "burst_window": 0.0, "burst_max_wait": 0.3, "request_timeout": 5.0,
        "gateway_max_retries": 2, "models_refresh_interval": 0,
        "gateway_retry_backoff": 0.01,
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def make_core(fake_gateway: FakeGateway, tmp_path: Path) -> AsyncIterator[CoreFactory]:
    """Build ChatCores (closed at teardown); keyword arguments override settings."""
    cores: list[ChatCore] = []

    async def factory(**overrides: Any) -> ChatCore:
        db = overrides.pop("db", tmp_path / "core.db")
        core = await ChatCore.create(core_settings(fake_gateway, db, **overrides))
        cores.append(core)
        return core

    yield factory
    for core in cores:
        await core.close()


@pytest.fixture
async def core(make_core: CoreFactory) -> ChatCore:
    """A ChatCore with default test settings."""
    return await make_core()


async def say(core: ChatCore, text: str, chat: ChatRef = PRIVATE, actor: Actor = ANN,
              **message: Any) -> list[TurnEvent]:
    """The user sends ``text``; returns every event of the answering turn."""
    ticket = await core.submit(chat, actor, UserMessage(text=text, **message))
    return [event async for event in ticket]


async def gateway_received(fake_gateway: FakeGateway, count: int) -> None:
    """Barrier: the gateway has received ``count`` chat requests (5 s timeout)."""
    async with asyncio.timeout(5):
        while len(fake_gateway.chat_requests()) < count:
            await asyncio.sleep(0.01)
