"""Only the runner handles SIGINT/SIGTERM: adapters serve without touching them, and a
SIGTERM runs the runner's stop path once (every adapter sees ``stop``, then stops)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

import discord.http
import pytest

from adapters.contract import AdapterPlugin, AdapterSettings, Capabilities
from adapters.discord import DiscordBot
from adapters.telegram import TelegramBot
from bots.runner import run_bots
from core.app import ChatCore
from tests.adapters.discord.conftest import make_bot_settings as discord_settings
from tests.adapters.telegram.conftest import FAST_LIMITS, FAST_TIMINGS
from tests.adapters.telegram.conftest import make_bot_settings as telegram_settings
from tests.adapters.telegram.webhook_support import PATH, PUBLIC_URL, SECRET, free_port
from tests.core.conftest import core_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.gateway import FakeGateway
from tests.fakes.telegram import FakeTelegram


def marker(signum: int, frame: FrameType | None) -> None:
    """A test's own handler: still installed while an adapter serves."""


@pytest.fixture
def own_handlers() -> Iterator[None]:
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, marker)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@pytest.mark.usefixtures("own_handlers")
async def test_telegram_serves_without_installing_signal_handlers(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "t.db"))
    bot = TelegramBot(core, telegram_settings(fake_telegram), timings=FAST_TIMINGS,
                      limits=FAST_LIMITS, polling_timeout=1)
    stop = asyncio.Event()
    serving = asyncio.create_task(bot.serve(stop))
    try:
        chat = fake_telegram.private_chat(42, "Ann")
        fake_telegram.user_sends(chat, 42, "ping")
        await fake_telegram.wait_until(
            lambda: any("echo: ping" in m.text for m in fake_telegram.bot_messages(chat)),
            timeout=20)
        assert signal.getsignal(signal.SIGTERM) is marker
        assert signal.getsignal(signal.SIGINT) is marker
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)  # returns cleanly once told to stop
        await core.close()


@pytest.mark.usefixtures("own_handlers")
async def test_telegram_webhook_mode_installs_no_signal_handlers_either(
        fake_gateway: FakeGateway, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "w.db"))
    hook = telegram_settings(fake_telegram, webhook_url=PUBLIC_URL, webhook_secret=SECRET,
                             webhook_host="127.0.0.1", webhook_port=free_port(),
                             webhook_path=PATH)
    bot = TelegramBot(core, hook, timings=FAST_TIMINGS, limits=FAST_LIMITS)
    stop = asyncio.Event()
    serving = asyncio.create_task(bot.serve(stop))
    try:
        await fake_telegram.wait_until(lambda: fake_telegram.calls_of("setWebhook"),
                                       timeout=20)  # the last start-up step: serving now
        assert signal.getsignal(signal.SIGTERM) is marker
        assert signal.getsignal(signal.SIGINT) is marker
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)
        await core.close()


@pytest.mark.usefixtures("own_handlers")
async def test_discord_serves_without_installing_signal_handlers(
        fake_gateway: FakeGateway, fake_discord: FakeDiscord, tmp_path: Path) -> None:
    base = discord.http.Route.BASE
    core = await ChatCore.create(core_settings(fake_gateway, tmp_path / "d.db"))
    bot = DiscordBot(core, discord_settings(fake_discord), guild_ready_timeout=0.1)
    stop = asyncio.Event()
    serving = asyncio.create_task(bot.serve(stop))
    try:
        await fake_discord.wait_ready(timeout=20)
        await fake_discord.user_sends(fake_discord.text_channel_id, 4242, "ping",
                                      mention_bot=True)
        await fake_discord.wait_until(
            lambda: any("echo: ping" in m.content for m in
                        fake_discord.channel_messages(fake_discord.text_channel_id)),
            timeout=20)
        assert signal.getsignal(signal.SIGTERM) is marker
        assert signal.getsignal(signal.SIGINT) is marker
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)
        await core.close()
        discord.http.Route.BASE = base


class ProbeSettings(AdapterSettings):
    """No variables: the probe always starts."""


class Probe:
    """An adapter that records what the runner does to it."""

    name: ClassVar[str] = "probe"
    capabilities: ClassVar[Capabilities] = Capabilities()
    instances: ClassVar[list[Probe]] = []

    def __init__(self, core: ChatCore, settings: Any) -> None:
        self.serving = asyncio.Event()
        self.events: list[str] = []
        Probe.instances.append(self)

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")

    async def serve(self, stop: asyncio.Event) -> None:
        await self.start()
        self.serving.set()
        await stop.wait()
        self.events.append("stop seen")
        await self.stop()


PROBES = {f"probe{i}": (AdapterPlugin(f"probe{i}", ProbeSettings, Probe),
                        ProbeSettings(_env_file=None))  # type: ignore[call-arg]
          for i in (1, 2)}


async def test_sigterm_runs_the_runners_stop_path_once(fake_gateway: FakeGateway,
                                                       tmp_path: Path) -> None:
    Probe.instances.clear()
    before = signal.getsignal(signal.SIGTERM)
    settings = core_settings(fake_gateway, tmp_path / "r.db")
    running = asyncio.create_task(run_bots(settings, dict(PROBES)))
    while len(Probe.instances) < 2:
        await asyncio.sleep(0.01)
    await asyncio.wait_for(asyncio.gather(*(p.serving.wait() for p in Probe.instances)), 20)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(running, 20) == 0
    assert [p.events for p in Probe.instances] == [["start", "stop seen", "stop"]] * 2
    assert signal.getsignal(signal.SIGTERM) == before  # the runner removed its handler
