"""Shared pytest fixtures (loaded by ``tests/conftest.py`` via ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
async def fake_gateway() -> AsyncIterator[FakeGateway]:
    """A started ``FakeGateway`` on 127.0.0.1 (echo responder, default models)."""
    async with FakeGateway() as fake:
        yield fake


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started ``FakeTelegram`` (token ``123456:TEST-TOKEN``, bot id 1000), stopped after."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started ``FakeDiscord`` with discord.py patched to use it (restored after).

    ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` point at the fake
    for the whole test; one guild (``fake.guild_id``) with one text channel.
    """
    async with FakeDiscord() as fake:
        with fake.patch_discord():
            yield fake
